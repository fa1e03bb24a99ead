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
export async function startMqtt(ctx: TransportContext, codecs?: MqttCodecs): Promise<RunningTransport | undefined> {
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
  return {
    name: 'mqtt',
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
