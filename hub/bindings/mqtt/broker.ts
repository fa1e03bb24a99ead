// The embedded MQTT broker (aedes on a net server bound to config.host): token auth, bounds, PUBACK after the durable store.
//
// Where the PUBACK waits: aedes 1.2 runs `authorizePublish` and only then `enqueuePublish`, which writes the PUBACK
// (QoS 1) or PUBREC (QoS 2) before forwarding (node_modules/aedes/lib/handlers/publish.js). So authorizePublish hands a
// device topic's message to the pipeline and calls back when accept() has resolved: the publisher's PUBACK leaves only
// once the message's quads are in the durable log (or it was refused for what it holds). When the pipeline answers >= 500
// the callback gets an error, aedes closes that connection without a PUBACK, and the client resends on reconnect.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import type { Scope } from '../../config.ts';
import type { RunningTransport, TransportContext } from '../types.ts';
import { BoundedLog, MAX_PAYLOAD_BYTES, type MqttIngest } from './ingest.ts';
import { limitPacketSize } from './packet-limit.ts';
import { MAX_TOPIC_LENGTH } from './topics.ts';

export interface BrokerLimits {
  /** Open connections in total; beyond it new ones are dropped. */
  maxConnections: number;
  /** Largest MQTT packet (fixed header included); a larger one closes the connection. */
  maxPacketBytes: number;
  /** Device-topic messages one connection may have waiting for the pipeline; beyond it the connection is closed. */
  maxInflightPerClient: number;
  /** Subscriptions one connection may hold; further ones are refused (SUBACK 0x80). */
  maxSubscriptionsPerClient: number;
  /** Time from TCP connect to an authenticated CONNECT. */
  connectTimeoutMs: number;
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  maxConnections: 1024,
  maxPacketBytes: MAX_PAYLOAD_BYTES + 1024,
  maxInflightPerClient: 1000,
  maxSubscriptionsPerClient: 100,
  connectTimeoutMs: 10_000,
};

/** An error whose returnCode aedes sends in the CONNACK (MQTT 3.1.1 §3.2.2.3: 4 bad user name or password, 5 not authorized). */
function connackError(message: string, returnCode: 4 | 5): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

const allows = (scopes: Set<Scope> | undefined, scope: Scope): boolean => !!scopes && (scopes.has(scope) || scopes.has('admin'));

export async function startBroker(
  ctx: Pick<TransportContext, 'config' | 'auth' | 'log'>,
  ingest: MqttIngest,
  limits: BrokerLimits = DEFAULT_BROKER_LIMITS,
): Promise<RunningTransport & { publish(topic: string, payload: Buffer): Promise<void> }> {
  const scopes = new WeakMap<Client, Set<Scope>>();
  const inflight = new WeakMap<Client, number>();
  const bounded = new BoundedLog(ctx.log);
  const counters = { connections: 0, authRefused: 0, publishRefused: 0, subscribeRefused: 0, oversizedPackets: 0, inflightExceeded: 0, closedForRetry: 0 };

  const broker = await Aedes.createBroker({
    connectTimeout: limits.connectTimeoutMs,
    maxClientsIdLength: 128,
    // Inbound QoS 2 messages awaiting PUBREL per client (aedes keeps them in memory).
    maxInflightInbound: limits.maxInflightPerClient,
    authenticate(client, username, password, done) {
      if (!password || password.length === 0 || !username) {
        counters.authRefused += 1;
        bounded.warn('auth', { client: client.id }, 'mqtt broker: connection without username and token refused');
        return done(connackError('A username and a token (as password) are required', 5) as never, false);
      }
      const granted = ctx.auth.scopesOf(password.toString('utf8'));
      if (!granted) {
        counters.authRefused += 1;
        bounded.warn('auth', { client: client.id, username }, 'mqtt broker: unknown token refused');
        return done(connackError('The token is not valid', 4) as never, false);
      }
      scopes.set(client, granted);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // client is null only for the broker's own publishes (none here besides $SYS).
      if (!client) return done(null);
      const topic = packet.topic;
      if (!allows(scopes.get(client), 'write') || topic.startsWith('$') || topic.length > MAX_TOPIC_LENGTH) {
        counters.publishRefused += 1;
        bounded.warn('publish-refused', { client: client.id, topic: topic.slice(0, 128) }, 'mqtt broker: publish refused (needs a token with the write scope; no $ topics; topic length)');
        return done(new Error('not authorized to publish'));
      }
      // No retained messages: a publisher could otherwise pin one message per topic in memory, unbounded.
      packet.retain = false;
      if (!ingest.isDeviceTopic(topic)) return done(null);
      const n = (inflight.get(client) ?? 0) + 1;
      if (n > limits.maxInflightPerClient) {
        counters.inflightExceeded += 1;
        return done(new Error('too many messages in flight'));
      }
      inflight.set(client, n);
      const remote = client.conn && 'remoteAddress' in client.conn ? `${(client.conn as Socket).remoteAddress}:${(client.conn as Socket).remotePort}` : undefined;
      void ingest.handle(topic, packet.payload as Buffer, packet.qos, remote).then((delivery) => {
        inflight.set(client, (inflight.get(client) ?? 1) - 1);
        if (delivery === 'ack' || packet.qos === 0) return done(null);
        counters.closedForRetry += 1;
        done(new Error('the hub cannot store this message now; resend it'));
      });
    },
    authorizeSubscribe(client, sub, done) {
      const tooMany = Object.keys((client as unknown as { subscriptions: object }).subscriptions).length >= limits.maxSubscriptionsPerClient;
      if (!allows(scopes.get(client), 'read') || tooMany || sub.topic.length > MAX_TOPIC_LENGTH || sub.topic.startsWith('$')) {
        counters.subscribeRefused += 1;
        return done(null, null); // SUBACK 0x80 for this filter; the connection stays
      }
      // A persistent session's QoS 1 subscriptions would queue every message in memory while it is offline: grant QoS 0.
      if (!client.clean) sub.qos = 0;
      done(null, sub);
    },
  });
  broker.on('clientError', (client: Client, err: Error) => bounded.warn('client-error', { client: client.id, err: err.message }, 'mqtt broker: client error'));
  broker.on('connectionError', (_client: Client, err: Error) => bounded.warn('connection-error', { err: err.message }, 'mqtt broker: connection error'));

  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    counters.connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // aedes handles socket errors; a reset must never be an uncaught 'error'
    limitPacketSize(socket, limits.maxPacketBytes, (reason) => {
      counters.oversizedPackets += 1;
      bounded.warn('packet-size', { remote: socket.remoteAddress, reason }, 'mqtt broker: connection closed');
    });
    broker.handle(socket);
  });
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ctx.config.mqttPort, ctx.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => ctx.log.error({ err }, 'mqtt broker: server error'));
  const addr = server.address() as { address: string; port: number };
  ctx.log.info({ host: addr.address, port: addr.port }, 'mqtt broker listening');

  return {
    name: 'mqtt-broker',
    address: { host: addr.address, port: addr.port },
    stats: () => ({ ...counters, clients: broker.connectedClients }),
    /** Publishes as the broker itself (downlinks to a network server's topics, hub/downlink). QoS 0: TTS's MQTT is QoS 0 only. */
    publish: (topic: string, payload: Buffer) =>
      new Promise<void>((resolve, reject) =>
        broker.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, (err?: Error) => (err ? reject(err) : resolve())),
      ),
    async stop() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
