// The external-broker subscriber against a real mosquitto: mosquitto_pub uplinks from the vectors, PUBACK after accept,
// redelivery of unacknowledged messages, reconnect with resubscribe, and a shared subscription split between two hubs.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttIngest } from '../../../hub/bindings/mqtt/ingest.ts';
import { startSubscriber } from '../../../hub/bindings/mqtt/subscriber.ts';
import type { RunningTransport } from '../../../hub/bindings/types.ts';
import { OverloadedError } from '../../../hub/errors.ts';
import { freePort, localCodecs, makeCtx, Mosquitto, mosquittoPub, RecordingSink, waitFor } from './helpers.ts';

const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{ id: string; topic?: string; input: unknown }>;
const vector = (id: string) => vectors.find((v) => v.id === id)!;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function mosquitto(): Promise<Mosquitto> {
  const m = new Mosquitto(await freePort());
  await m.start();
  cleanups.push(() => m.stop());
  return m;
}

async function subscriber(port: number, sink: RecordingSink, overrides: Record<string, unknown> = {}, clientId?: string) {
  const ctx = makeCtx(sink, { mqttUrl: `mqtt://127.0.0.1:${port}`, ...overrides });
  const ingest = new MqttIngest(ctx, localCodecs);
  const sub: RunningTransport = await startSubscriber(ctx, ingest, {
    client: { clientId: clientId ?? `test-${Math.random().toString(16).slice(2)}` },
    minReconnectMs: 100,
    maxReconnectMs: 400,
    drainOnStopMs: 100,
  });
  cleanups.push(() => sub.stop());
  await waitFor(() => sub.stats().connected === 1, 5000, 'subscriber connected');
  // the SUBACK follows the CONNACK: wait until a probe on a device topic arrives
  return { sub, ingest, ctx };
}

async function probeReady(port: number, ingest: MqttIngest): Promise<void> {
  const before = ingest.counters.received;
  const end = Date.now() + 5000;
  while (ingest.counters.received === before) {
    if (Date.now() > end) throw new Error('subscription never became active');
    await mosquittoPub(port, 'v3/probe/devices/probe/down/ack', '{}', ['-q', '0']);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('external broker (mosquitto)', () => {
  it('ingests TTS and ChirpStack uplinks published by mosquitto_pub with the vectors bodies', async () => {
    const m = await mosquitto();
    const sink = new RecordingSink();
    const { ingest } = await subscriber(m.port, sink);
    await probeReady(m.port, ingest);
    const tts = vector('tts-uplink-mqtt-doc');
    const cs = vector('chirpstack-up-docs').input as { deviceInfo: { devEui: string } };
    await mosquittoPub(m.port, tts.topic!, JSON.stringify(tts.input));
    await mosquittoPub(m.port, `application/00000000-0000-0000-0000-000000000001/device/${cs.deviceInfo.devEui}/event/up`, JSON.stringify(cs));
    await mosquittoPub(m.port, 'application/1/device/0102030405060708/event/join', JSON.stringify(vector('chirpstack-join-docs').input));
    await waitFor(() => sink.accepted.length === 2 && ingest.counters.events >= 2, 5000, 'two uplinks and the join');
    expect(sink.accepted.map((a) => a.origin.binding).sort()).toEqual(['chirpstack', 'tts']);
    expect(sink.accepted.every((a) => a.origin.transport === 'mqtt')).toBe(true);
    expect(ingest.stats()['event:chirpstack:join']).toBe(1);
  });

  it('withholds the PUBACK until accept() resolves; an unacknowledged message is redelivered to the next connection', async () => {
    const m = await mosquitto();
    const sink = new RecordingSink();
    const clientId = `redeliver-${Date.now()}`;
    const first = await subscriber(m.port, sink, {}, clientId);
    await probeReady(m.port, first.ingest);
    // accept() never resolves for this subscriber: no PUBACK may leave
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stuck = new RecordingSink();
    const accept = sink.accept.bind(sink);
    sink.accept = async (f, o) => (f.messageId === 's42' ? (await gate, stuck.accept(f, o)) : accept(f, o));
    await mosquittoPub(m.port, 'hub/devices/devEui/0102030405060708/up', JSON.stringify({ seq: 42 }));
    await waitFor(() => first.sub.stats().pendingAcks === 0 && first.sub.stats().inflight === 1, 3000, 'message in flight');
    expect(first.sub.stats().pubacks).toBe(0);
    // the hub goes away (its connection dropped) before the store answered
    await cleanups.pop()!();
    release();
    // the next subscriber with the same client id (persistent session) gets the message again
    sink.accept = accept;
    const second = await subscriber(m.port, sink, {}, clientId);
    await waitFor(() => sink.accepted.some((a) => a.frame.messageId === 's42'), 5000, 'redelivery');
    await waitFor(() => second.sub.stats().pubacks >= 1, 3000, 'puback on the second connection');
  });

  it('store overloaded: no PUBACK, the connection is dropped, the broker redelivers, and it is stored once', async () => {
    const m = await mosquitto();
    const sink = new RecordingSink();
    let overloaded = false;
    sink.behaviour = () => (overloaded ? { status: 'rejected', error: new OverloadedError('full') } : undefined);
    const { sub, ingest } = await subscriber(m.port, sink);
    await probeReady(m.port, ingest);
    overloaded = true;
    await mosquittoPub(m.port, 'hub/things/t1/messages', JSON.stringify({ seq: 1, v: 1 }));
    await waitFor(() => ingest.counters.notAcked >= 1 && sub.stats().droppedForRetry >= 1, 3000, 'dropped for retry');
    overloaded = false;
    await waitFor(() => sink.accepted.length === 1, 5000, 'stored after redelivery');
    await waitFor(() => sub.stats().pubacks >= 1, 3000, 'puback');
    expect(sub.stats().connects).toBeGreaterThanOrEqual(2);
  });

  it('reconnects after mosquitto is killed and restarted, and subscribes again', async () => {
    const m = await mosquitto();
    const sink = new RecordingSink();
    const { sub, ingest } = await subscriber(m.port, sink);
    await probeReady(m.port, ingest);
    await mosquittoPub(m.port, 'hub/things/t1/messages', JSON.stringify({ seq: 1 }));
    await waitFor(() => sink.accepted.length === 1, 3000, 'first message');
    await m.kill('SIGKILL');
    await waitFor(() => sub.stats().connected === 0, 3000, 'disconnect seen');
    await m.start(); // same port, no persistence: the session is gone, so the hub must subscribe again
    await waitFor(() => sub.stats().connects >= 2, 5000, 'reconnected');
    await probeReady(m.port, ingest);
    await mosquittoPub(m.port, 'hub/things/t1/messages', JSON.stringify({ seq: 2 }));
    await waitFor(() => sink.accepted.length === 2, 3000, 'message after restart');
  });

  it('two hubs in one shared-subscription group split the messages, each delivered once', async () => {
    const m = await mosquitto();
    const a = new RecordingSink();
    const b = new RecordingSink();
    const ha = await subscriber(m.port, a, { mqttSharedGroup: 'hubs' });
    const hb = await subscriber(m.port, b, { mqttSharedGroup: 'hubs' });
    await probeReady(m.port, ha.ingest);
    await probeReady(m.port, hb.ingest);
    const n = 40;
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ seq: i, v: i }));
    // one mosquitto_pub, one message per line (-l)
    const { spawn } = await import('node:child_process');
    const pub = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(m.port), '-q', '1', '-t', 'hub/things/t1/messages', '-l'], { stdio: ['pipe', 'ignore', 'ignore'] });
    pub.stdin.end(lines.join('\n') + '\n');
    await new Promise((r) => pub.once('exit', r));
    await waitFor(() => a.accepted.length + b.accepted.length === n, 5000, 'all messages');
    expect(a.accepted.length).toBeGreaterThan(0);
    expect(b.accepted.length).toBeGreaterThan(0);
    const seqs = [...a.accepted, ...b.accepted].map((x) => x.frame.sequence).sort((x, y) => x! - y!);
    expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});

describe('external broker: TLS, credentials, MQTT 3.1.1', () => {
  it('connects over mqtts:// with user and password (mosquitto password_file), refuses a wrong password', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync: read } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-tls-'));
    const { rmSync } = await import('node:fs');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    // a throwaway CA-less self-signed certificate for localhost
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'hub', 'hub-secret-password'], { stdio: 'ignore' });
    // mosquitto started as root reads its files as the mosquitto user
    const { chmodSync } = await import('node:fs');
    chmodSync(dir, 0o755);
    for (const f of ['key.pem', 'cert.pem', 'passwd']) chmodSync(join(dir, f), 0o644);
    const m = new Mosquitto(await freePort(), [`certfile ${join(dir, 'cert.pem')}`, `keyfile ${join(dir, 'key.pem')}`, `password_file ${join(dir, 'passwd')}`, 'allow_anonymous false']);
    await m.start();
    cleanups.push(() => m.stop());
    const ca = read(join(dir, 'cert.pem'));
    const sink = new RecordingSink();
    const ctx = makeCtx(sink, { mqttUrl: `mqtts://localhost:${m.port}`, mqttUser: 'hub', mqttPassword: 'hub-secret-password' });
    const ingest = new MqttIngest(ctx, localCodecs);
    const sub = await startSubscriber(ctx, ingest, { client: { ca, clientId: 'tls-test' }, drainOnStopMs: 100 });
    cleanups.push(() => sub.stop());
    await waitFor(() => sub.stats().connected === 1, 5000, 'TLS connection');
    const tlsArgs = ['--cafile', join(dir, 'cert.pem'), '-u', 'hub', '-P', 'hub-secret-password'];
    const end = Date.now() + 5000;
    while (sink.accepted.length === 0 && Date.now() < end) {
      await mosquittoPub(m.port, 'hub/things/t1/messages', JSON.stringify({ seq: 5 }), ['-h', 'localhost', ...tlsArgs]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sink.accepted[0]!.frame.sequence).toBe(5);

    const badCtx = makeCtx(new RecordingSink(), { mqttUrl: `mqtts://localhost:${m.port}`, mqttUser: 'hub', mqttPassword: 'wrong' });
    const bad = await startSubscriber(badCtx, new MqttIngest(badCtx, localCodecs), { client: { ca, clientId: 'tls-bad', reconnectPeriod: 0 }, drainOnStopMs: 0 });
    cleanups.push(() => bad.stop());
    expect(bad.stats().connected).toBe(0);
    expect(badCtx.lines.some((l) => l.level === 'warn' && /authori|password/i.test(String((l.obj as { err?: string }).err)))).toBe(true);
  });

  it('speaks MQTT 3.1.1 when the URL asks (?protocol=3.1.1), PUBACK still after accept', async () => {
    const m = await mosquitto();
    const sink = new RecordingSink();
    sink.delayMs = 300;
    const { sub, ingest } = await subscriber(m.port, sink, { mqttUrl: `mqtt://127.0.0.1:${m.port}?protocol=3.1.1` });
    await probeReady(m.port, ingest);
    await mosquittoPub(m.port, 'hub/things/t1/messages', JSON.stringify({ seq: 1 }));
    await waitFor(() => sub.stats().inflight === 1, 3000, 'in flight');
    expect(sub.stats().pubacks).toBe(0);
    await waitFor(() => sub.stats().pubacks === 1, 3000, 'puback after the store');
    expect(sink.accepted).toHaveLength(1);
  });
});
