// The embedded broker (aedes) with real mqtt.js clients on loopback: token auth, PUBACK after the durable store, back-pressure, bounds.
import { connect as netConnect } from 'node:net';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BROKER_LIMITS, startBroker, type BrokerLimits } from '../../../hub/bindings/mqtt/broker.ts';
import { MqttIngest } from '../../../hub/bindings/mqtt/ingest.ts';
import { OverloadedError } from '../../../hub/errors.ts';
import type { RunningTransport } from '../../../hub/bindings/types.ts';
import { ADMIN, localCodecs, makeCtx, READER, RecordingSink, waitFor, WRITER } from './helpers.ts';

const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{ id: string; topic?: string; input: unknown }>;
const ttsUp = vectors.find((v) => v.id === 'tts-uplink-mqtt-doc')!;

let running: RunningTransport | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
  await running?.stop();
  running = undefined;
});

async function broker(sink: RecordingSink, limits: Partial<BrokerLimits> = {}) {
  const ctx = makeCtx(sink, { mqttPort: 0 });
  const ingest = new MqttIngest(ctx, localCodecs);
  running = await startBroker(ctx, ingest, { ...DEFAULT_BROKER_LIMITS, ...limits });
  return { ctx, ingest, port: running.address!.port };
}

function client(port: number, opts: mqtt.IClientOptions = {}): MqttClient {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 2000, ...opts });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

/** Resolves with the CONNACK outcome: 'connected' or the error's code. */
function connectOutcome(c: MqttClient): Promise<string> {
  return new Promise((resolve) => {
    c.once('connect', () => resolve('connected'));
    c.once('error', (e) => resolve(String((e as { code?: unknown }).code ?? e.message)));
  });
}

describe('embedded broker: authentication', () => {
  it('accepts a username with a known token and refuses anonymous or unknown tokens', async () => {
    const sink = new RecordingSink();
    const { port } = await broker(sink);
    expect(await connectOutcome(client(port, { username: 'sim', password: WRITER }))).toBe('connected');
    expect(await connectOutcome(client(port))).toBe('5'); // anonymous: not authorized
    expect(await connectOutcome(client(port, { username: 'sim' }))).toBe('5');
    expect(await connectOutcome(client(port, { username: 'sim', password: 'not-a-token-at-all-0000' }))).toBe('4'); // bad user name or password
    expect(running!.stats().authRefused).toBe(3);
  });

  it('a read-only token cannot publish (connection closed, nothing ingested); a write-only token cannot subscribe', async () => {
    const sink = new RecordingSink();
    const { port } = await broker(sink);
    const reader = client(port, { username: 'app', password: READER });
    await connectOutcome(reader);
    const closed = new Promise<void>((r) => reader.once('close', () => r()));
    reader.publish('hub/things/t1/messages', JSON.stringify({ seq: 1 }), { qos: 1 });
    await closed;
    expect(sink.calls).toBe(0);
    expect(running!.stats().publishRefused).toBe(1);

    const writer = client(port, { username: 'dev', password: WRITER });
    await connectOutcome(writer);
    await expect(writer.subscribeAsync('hub/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(running!.stats().subscribeRefused).toBe(1);
    const r2 = client(port, { username: 'app', password: READER });
    await connectOutcome(r2);
    expect((await r2.subscribeAsync('hub/#', { qos: 1 }))[0]!.qos).toBe(1);
  });
});

describe('embedded broker: nothing acknowledged is lost', () => {
  it('the PUBACK waits for accept(): a 500 ms store delays the publish callback by as much', async () => {
    const sink = new RecordingSink();
    sink.delayMs = 500;
    const { port } = await broker(sink);
    const c = client(port, { username: 'gw', password: ADMIN });
    await connectOutcome(c);
    const t0 = Date.now();
    let acked = false;
    const p = c.publishAsync(ttsUp.topic!, JSON.stringify(ttsUp.input), { qos: 1 }).then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(acked).toBe(false); // accept() still running: no PUBACK yet
    await p;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(480);
    expect(sink.accepted).toHaveLength(1);
    expect(sink.accepted[0]!.frame.deviceKey).toBe((ttsUp.input as { end_device_ids: { dev_eui: string } }).end_device_ids.dev_eui.toUpperCase());
  });

  it('store overloaded (503): no PUBACK, the connection is closed, the client resends on reconnect and is acked once stored', async () => {
    const sink = new RecordingSink();
    let overloaded = true;
    sink.behaviour = () => (overloaded ? { status: 'rejected', error: new OverloadedError('backlog full') } : undefined);
    const { port, ingest } = await broker(sink);
    const c = client(port, { username: 'gw', password: WRITER, reconnectPeriod: 200 });
    await connectOutcome(c);
    let acked = false;
    const p = c.publishAsync('hub/devices/devEui/0102030405060708/up', JSON.stringify({ seq: 1, v: 3 }), { qos: 1 }).then(() => (acked = true));
    await waitFor(() => ingest.counters.notAcked >= 1, 3000, 'a withheld ack');
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toBe(false);
    overloaded = false;
    await p; // resent after the reconnect, stored, acked
    expect(sink.accepted).toHaveLength(1);
    expect(running!.stats().closedForRetry).toBeGreaterThanOrEqual(1);
  });

  it('QoS 0 messages are ingested best effort and counted; 4xx rejections are acked and dropped', async () => {
    const sink = new RecordingSink();
    const { port, ingest } = await broker(sink);
    const c = client(port, { username: 'gw', password: WRITER });
    await connectOutcome(c);
    await c.publishAsync('hub/things/t1/messages', JSON.stringify({ seq: 1 }), { qos: 0 });
    await c.publishAsync('hub/things/t1/messages', 'not json', { qos: 1 }); // acked although it will never decode
    await waitFor(() => ingest.counters.received === 2, 2000, 'two messages');
    expect(ingest.counters).toMatchObject({ qos0: 1, stored: 1, rejected: 1 });
    expect(sink.rejected[0]!.error.code).toBe('bad-json');
  });

  it('messages on other topics are plain pub/sub between clients (read scope to subscribe); retain is not kept', async () => {
    const sink = new RecordingSink();
    const { port } = await broker(sink);
    const sub = client(port, { username: 'app', password: READER });
    await connectOutcome(sub);
    await sub.subscribeAsync('app/+', { qos: 1 });
    const got = new Promise<string>((r) => sub.once('message', (_t, m) => r(m.toString())));
    const pub = client(port, { username: 'app', password: WRITER });
    await connectOutcome(pub);
    await pub.publishAsync('app/x', 'hello', { qos: 1, retain: true });
    expect(await got).toBe('hello');
    const late = client(port, { username: 'app', password: READER });
    await connectOutcome(late);
    let retained = 0;
    late.on('message', () => retained++);
    await late.subscribeAsync('app/+', { qos: 1 });
    await new Promise((r) => setTimeout(r, 150));
    expect(retained).toBe(0);
    expect(sink.calls).toBe(0);
  });
});

describe('embedded broker: bounds', () => {
  it('a CONNECT announcing a huge packet is cut off before its body arrives', async () => {
    const sink = new RecordingSink();
    const { port } = await broker(sink);
    const sock = netConnect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    sock.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04]));
    await closed;
    expect(running!.stats().oversizedPackets).toBe(1);
  });

  it('a publish over 256 KiB closes the publisher connection; the broker keeps serving others', async () => {
    const sink = new RecordingSink();
    const { port } = await broker(sink);
    const big = client(port, { username: 'gw', password: WRITER });
    await connectOutcome(big);
    const closed = new Promise<void>((r) => big.once('close', () => r()));
    big.publish('hub/things/t1/messages', Buffer.alloc(300 * 1024, 0x20), { qos: 1 });
    await closed;
    const ok = client(port, { username: 'gw', password: WRITER });
    await connectOutcome(ok);
    await ok.publishAsync('hub/things/t1/messages', JSON.stringify({ seq: 2 }), { qos: 1 });
    expect(sink.accepted).toHaveLength(1);
  });

  it('connections beyond maxConnections are dropped; messages in flight beyond maxInflightPerClient close that client', async () => {
    const sink = new RecordingSink();
    sink.delayMs = 300;
    const { port } = await broker(sink, { maxConnections: 2, maxInflightPerClient: 3 });
    const a = client(port, { username: 'a', password: WRITER });
    expect(await connectOutcome(a)).toBe('connected');
    const c = client(port, { username: 'c', password: WRITER });
    const b = client(port, { username: 'b', password: WRITER });
    await connectOutcome(c);
    const third = await new Promise<string>((resolve) => {
      b.once('connect', () => resolve('connected'));
      b.once('close', () => resolve('closed'));
    });
    expect(third).toBe('closed');
    await a.endAsync(true);
    await c.endAsync(true);
    await waitFor(() => running!.stats().clients === 0, 3000, 'clients gone');

    // CONNECT and five QoS 1 PUBLISHes in one TCP write (MQTT 3.1.1 §3.1, §3.3), so the broker handles them at once
    const str = (t: string) => { const b = Buffer.from(t); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]); };
    const packet = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type, body.length]), body]); // bodies < 128 bytes
    const connectPkt = packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str('raw'), str('raw'), str(WRITER)]));
    const publishes = [0, 1, 2, 3, 4].map((i) => packet(0x32, Buffer.concat([str('hub/things/t1/messages'), Buffer.from([0, i + 1]), Buffer.from(JSON.stringify({ seq: i }))])));
    const sock = netConnect(port, '127.0.0.1');
    sock.on('error', () => {});
    let acks = 0;
    sock.on('data', (d) => (acks += d.filter((b) => b === 0x40).length)); // read it (else 'close' waits), count PUBACK type bytes roughly
    await new Promise((r) => sock.once('connect', r));
    const closed = new Promise((r) => sock.once('close', r));
    sock.write(Buffer.concat([connectPkt, ...publishes]));
    await closed;
    expect(running!.stats().inflightExceeded).toBeGreaterThanOrEqual(1);
    expect(acks).toBe(0); // the connection closed before any of its messages was stored
  });
});
