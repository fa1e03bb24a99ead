// The external-broker subscriber (mqtt.js): device topics at QoS 1, PUBACK only after the durable store, reconnect with backoff.
//
// Why the PUBACK is intercepted: mqtt.js handles incoming packets one at a time and sends a QoS 1 PUBACK right after
// `handleMessage` calls back (its only hook for MQTT 3.1.1; `customHandleAcks` is v5-only and equally serial). Waiting
// for the store there would allow one message per store round trip. So handleMessage starts accept() and calls back at
// once, and the client's `_sendPacket` is wrapped so that the PUBACK for that message id is held until accept()
// resolved `ack`, then written in receive order on the same connection (never on a later one, where the id may name
// another message). A `retry` (store overloaded) withholds the PUBACK and drops the connection: with a persistent
// session (clean: false) the broker redelivers every unacknowledged message on reconnect, and accept() answers
// `duplicate` for those already stored.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { RunningTransport, TransportContext } from '../types.ts';
import { BoundedLog, MAX_PAYLOAD_BYTES, type Delivery, type MqttIngest } from './ingest.ts';
import { DEVICE_TOPIC_FILTERS } from './topics.ts';

export interface SubscriberOptions {
  /** Extra mqtt.js options (tests: `ca` for a TLS broker, a fixed clientId, a short reconnect). */
  client?: Partial<IClientOptions>;
  /** QoS 1 messages the broker may have in flight to the hub (MQTT v5 Receive Maximum). */
  receiveMaximum?: number;
  /** QoS 0 messages handed to the pipeline at once; beyond it they are dropped and counted (best effort). */
  maxQos0InFlight?: number;
  /** Reconnect backoff bounds. */
  minReconnectMs?: number;
  maxReconnectMs?: number;
  /** How long stop() lets accepted messages finish so their PUBACKs go out (default 5 s). */
  drainOnStopMs?: number;
}

/** The private mqtt.js members this module relies on (mqtt 5.x `build/lib/client.js`). */
interface MqttInternals {
  _sendPacket(packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean): void;
  stream: { destroy(): void; destroyed?: boolean };
}

/** A client id stable across restarts of this hub (persistent session) and distinct between hubs sharing a group. */
export function defaultClientId(dataDir: string): string {
  return `wot-hub-${createHash('sha256').update(`${hostname()}\0${resolvePath(dataDir)}`).digest('hex').slice(0, 16)}`;
}

/** The subscriptions: every device topic, under `$share/<group>/` when a shared-subscription group is set. */
export function subscriptionFilters(sharedGroup?: string): string[] {
  return DEVICE_TOPIC_FILTERS.map((f) => (sharedGroup ? `$share/${sharedGroup}/${f}` : f));
}

export async function startSubscriber(
  ctx: Pick<TransportContext, 'config' | 'log'>,
  ingest: MqttIngest,
  options: SubscriberOptions = {},
): Promise<RunningTransport & { publish(topic: string, payload: Buffer): Promise<void> }> {
  const { config } = ctx;
  const url = new URL(config.mqttUrl!);
  // MQTT 5 unless the URL asks for 3.1.1 (`?protocol=3.1.1`, e.g. The Things Stack's own MQTT server).
  const v311 = url.searchParams.get('protocol') === '3.1.1';
  url.searchParams.delete('protocol');
  const minReconnect = options.minReconnectMs ?? 1000;
  const maxReconnect = options.maxReconnectMs ?? 30_000;
  const receiveMaximum = options.receiveMaximum ?? 1000;
  const maxQos0 = options.maxQos0InFlight ?? 10_000;
  const filters = subscriptionFilters(config.mqttSharedGroup);
  const bounded = new BoundedLog(ctx.log);
  const counters = { connects: 0, disconnects: 0, subscribeFailures: 0, pubacks: 0, withheld: 0, qos0Dropped: 0, droppedForRetry: 0 };

  const clientOptions: IClientOptions = {
    protocolVersion: v311 ? 4 : 5,
    clientId: defaultClientId(config.dataDir),
    clean: false,
    reconnectPeriod: minReconnect,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: false, // subscribe() runs on every connect below, session or not
    queueQoSZero: false,
    ...(config.mqttUser !== undefined ? { username: config.mqttUser } : {}),
    ...(config.mqttPassword !== undefined ? { password: config.mqttPassword } : {}),
    ...(v311 ? {} : { properties: { sessionExpiryInterval: 3600, receiveMaximum, maximumPacketSize: MAX_PAYLOAD_BYTES + 1024 } }),
    ...options.client,
  };
  const client: MqttClient = mqtt.connect(url.toString(), clientOptions);
  const internals = client as unknown as MqttInternals;

  /** QoS 1 messages whose PUBACK waits for accept(), by message id, with the connection they came on. */
  const pending = new Map<number, { stream: MqttInternals['stream']; delivery: Promise<Delivery> }>();
  /** PUBACKs go out in receive order on each connection. */
  let ackChain: Promise<void> = Promise.resolve();
  let inflight = 0;
  let qos0InFlight = 0;
  let failures = 0;
  let stopping = false;

  /** Drops the connection without the withheld PUBACKs; the broker redelivers them after the backoff. */
  const dropForRetry = (stream: MqttInternals['stream']) => {
    if (internals.stream !== stream || stream.destroyed || stopping) return;
    counters.droppedForRetry += 1;
    failures += 1;
    const backoff = Math.min(maxReconnect, minReconnect * 2 ** Math.min(failures - 1, 10));
    client.options.reconnectPeriod = Math.round(backoff * (0.8 + Math.random() * 0.4));
    stream.destroy();
  };

  const send = internals._sendPacket.bind(client);
  internals._sendPacket = (packet, cb, cbStorePut, noStore) => {
    const entry = packet.cmd === 'puback' && packet.messageId !== undefined ? pending.get(packet.messageId) : undefined;
    if (!entry) return send(packet, cb, cbStorePut, noStore);
    pending.delete(packet.messageId!);
    cb?.(); // lets mqtt.js read the next packet now; the PUBACK itself waits below
    ackChain = ackChain.then(async () => {
      const delivery = await entry.delivery;
      const sameConnection = internals.stream === entry.stream && client.connected && !entry.stream.destroyed;
      if (delivery === 'retry') {
        counters.withheld += 1;
        dropForRetry(entry.stream);
      } else if (sameConnection) {
        counters.pubacks += 1;
        failures = 0;
        send(packet, undefined, undefined, true);
      } else {
        counters.withheld += 1; // its connection is gone: the broker redelivers it, and it is a duplicate then
      }
    });
  };

  client.handleMessage = (packet, callback) => {
    const payload = packet.payload as Buffer;
    const topic = packet.topic;
    if (packet.qos === 0) {
      if (qos0InFlight >= maxQos0) {
        counters.qos0Dropped += 1;
      } else {
        qos0InFlight += 1;
        void ingest.handle(topic, payload, 0).finally(() => (qos0InFlight -= 1));
      }
      return callback();
    }
    const delivery = ingest.handle(topic, payload, packet.qos);
    inflight += 1;
    void delivery.finally(() => (inflight -= 1));
    if (packet.qos === 1 && packet.messageId !== undefined) {
      if (pending.size >= receiveMaximum * 4) {
        // the broker ignores our Receive Maximum: stop reading from it rather than grow without bound
        dropForRetry(internals.stream);
      }
      pending.set(packet.messageId, { stream: internals.stream, delivery });
      return callback();
    }
    // QoS 2 (the hub subscribes at QoS 1, so a broker sends none): one at a time.
    const stream = internals.stream;
    void delivery.then((d) => {
      if (d === 'retry') dropForRetry(stream);
      callback();
    });
  };

  client.on('connect', (connack) => {
    counters.connects += 1;
    ackChain = Promise.resolve();
    client.options.reconnectPeriod = minReconnect;
    ctx.log.info({ url: url.host, sessionPresent: connack.sessionPresent, filters }, 'mqtt subscriber connected');
    client.subscribe(filters, { qos: 1 }, (err, granted) => {
      const failed = (granted ?? []).filter((g) => g.qos === 128 || (g.qos as number) > 2);
      if (err || failed.length) {
        counters.subscribeFailures += 1;
        ctx.log.error({ err: err?.message, failed: failed.map((g) => g.topic) }, 'mqtt subscriber: subscription refused');
      }
    });
  });
  client.on('close', () => {
    if (!stopping) counters.disconnects += 1;
    // Grow the backoff while the broker stays away (reset on connect).
    if (!stopping && !client.connected) {
      const next = Math.min(maxReconnect, Math.max(minReconnect, (client.options.reconnectPeriod ?? minReconnect) * 1.5));
      client.options.reconnectPeriod = Math.round(next);
    }
  });
  client.on('error', (err) => bounded.warn('subscriber-error', { err: err.message }, 'mqtt subscriber: error'));

  // The first connection is awaited briefly so a wrong URL shows in the log at start; the hub runs on either way
  // (the subscriber keeps reconnecting), as a broker that is down at start must not keep the hub from starting.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });

  return {
    name: 'mqtt-subscriber',
    stats: () => ({ ...counters, connected: client.connected ? 1 : 0, pendingAcks: pending.size, inflight }),
    /** Publishes on the external broker (downlinks to the network server, hub/downlink). */
    publish: async (topic: string, payload: Buffer) => {
      await client.publishAsync(topic, payload, { qos: 0, retain: false });
    },
    async stop() {
      stopping = true;
      // Let accepted messages finish (bounded) so their PUBACKs go out; the rest are redelivered to the next start.
      const deadline = Date.now() + (options.drainOnStopMs ?? 5000);
      while (inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await Promise.race([ackChain, new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
      await client.endAsync(inflight > 0);
    },
  };
}
