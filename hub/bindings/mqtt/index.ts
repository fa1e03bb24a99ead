// MQTT transport: the embedded broker (config.mqttPort > 0) and/or a subscriber on an external broker (config.mqttUrl).
import { chirpstackCodec } from '../chirpstack/codec.ts';
import { ttsCodec } from '../tts/codec.ts';
import type { RunningTransport, TransportContext } from '../types.ts';
import { startBroker } from './broker.ts';
import { MqttIngest, type MqttCodecs } from './ingest.ts';
import { startSubscriber } from './subscriber.ts';

export { routeTopic, DEVICE_TOPIC_FILTERS } from './topics.ts';
export { MqttIngest } from './ingest.ts';

/** The network-server codecs the MQTT topics dispatch to. */
export const MQTT_CODECS: MqttCodecs = { tts: ttsCodec, chirpstack: chirpstackCodec };

/**
 * Starts what the configuration enables, as one RunningTransport (undefined when neither is). Both share one ingest
 * path, so a message counts the same whichever way it came.
 */
/** The MQTT transport also publishes (downlinks, hub/downlink/adapters.ts). */
export interface MqttPublisher {
  publish(topic: string, payload: Buffer): Promise<void>;
}

export async function startMqtt(ctx: TransportContext, codecs?: MqttCodecs): Promise<(RunningTransport & MqttPublisher) | undefined> {
  const wantBroker = ctx.config.mqttPort > 0;
  const wantSubscriber = !!ctx.config.mqttUrl;
  if (!wantBroker && !wantSubscriber) return undefined;
  const ingest = new MqttIngest(ctx, codecs ?? MQTT_CODECS);
  const parts: RunningTransport[] = [];
  try {
    if (wantBroker) parts.push(await startBroker(ctx, ingest));
    if (wantSubscriber) parts.push(await startSubscriber(ctx, ingest));
  } catch (e) {
    for (const p of parts.reverse()) await p.stop().catch(() => {});
    throw e;
  }
  const broker = parts.find((p) => p.name === 'mqtt-broker');
  // Downlinks go where the network server listens: the external broker when there is one, else the embedded broker.
  const publisher = (parts.find((p) => p.name === 'mqtt-subscriber') ?? broker) as (RunningTransport & Partial<MqttPublisher>) | undefined;
  return {
    name: 'mqtt',
    async publish(topic: string, payload: Buffer) {
      if (!publisher?.publish) throw new Error('no MQTT connection to publish on');
      await publisher.publish(topic, payload);
    },
    ...(broker?.address ? { address: broker.address } : {}),
    stats() {
      const out: Record<string, number> = ingest.stats();
      for (const p of parts) for (const [k, v] of Object.entries(p.stats())) out[`${p.name === 'mqtt-broker' ? 'broker' : 'subscriber'}.${k}`] = v;
      return out;
    },
    async stop() {
      for (const p of [...parts].reverse()) await p.stop().catch(() => {});
    },
  };
}
