// Cookie configuration actions through the two-node road simulator: serial `set` lines on the gateway's TCP stream of the real
// listener (ack -> DELIVERED, err -> FAILED with the node's text, silence -> FAILED + retry), then over the embedded MQTT broker
// (mosquitto_sub sees cookie/{gw}/down, the node acks on cookie/{gw}/up); sosa:Actuation in SPARQL; the reply parser.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCookieReply } from '../../hub/bindings/cookie/downlink.ts';
import { startCookieRoad, type RunningRoad } from '../../hub/simulators/cookie-road.ts';
import { baseUrlOf, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { settleCommand, type CommandStatus } from '../helpers/commands.ts';
import { ADAPTER_ID, cookieHub, cookieListener, ids } from '../bindings/cookie/helpers.ts';

const ROOT = join(import.meta.dirname, '../..');
const ROAD = { cars: 2, pedestrians: 0, seed: 5, meanGapS: 10 };
const a = ids('road-a');
const b = ids('road-b');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Status = CommandStatus;

let hub: TestHub;
let base: string;
let road: RunningRoad | undefined;
let sub: ChildProcess | undefined;
let lines: string[] = [];

async function invoke(id: string, action: string, input: unknown) {
  const res = await fetch(`${base}/wot/${encodeURIComponent(id)}/actions/${action}`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Record<string, unknown> };
}
const settle = (location: string, done?: (s: Status) => boolean, ms = 15_000) => settleCommand(location, done, ms);
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(30);
  }
}

/** road-b's shadows with a short ack timeout (0.5 s): instantiated from the TMs, then that member added. */
async function registerShortTimeout(model: string, id: string, device: string): Promise<void> {
  const res = await hub.app.inject({ method: 'POST', url: `/thing-models/${model}/instantiate`, headers: { authorization: hub.bearer }, payload: { id, placeholders: { TITLE: `${model} ${device}`, ADAPTER_ID, COOKIE_DEVICE: device, MAPPING: 'cookie-uplink' } } });
  expect(res.statusCode, res.body).toBeLessThan(300);
  const td = res.json() as Record<string, Array<{ deviceDefinitions: Record<string, unknown> }>>;
  const defs = td['hub:ioAdapterDefinitions'] ?? td.ioAdapterDefinitions;
  defs![0]!.deviceDefinitions.ackTimeoutSeconds = 0.5;
  await hub.directory.put(id, td as unknown as Record<string, unknown>);
}

beforeAll(async () => {
  hub = await cookieHub(['road-a'], { downlink: { retryDelayMs: 0, maxAttempts: 2 } });
  base = baseUrlOf(hub);
  await registerShortTimeout('cookie-bt-scanner', b.bt, 'road-b');
  await registerShortTimeout('cookie-radar', b.radar, 'road-b');
  for (let i = 0; ![a.bt, a.radar, b.bt, b.radar].every((id) => hub.things.hasThing(id) && hub.routing.index.entriesOf(id).length > 0); i++) {
    if (i > 200) throw new Error('Things not exposed');
    await sleep(50);
  }
  road = await startCookieRoad({ ...ROAD, transport: 'tcp', port: cookieListener(hub).address!.port });
  await road.done;
  // every message went through the ingest (so the hub knows which connection reaches which node)
  await until(() => cookieListener(hub).ingest.counters.messages >= road!.plan.messages.length, 20_000, 'the plan ingested');
}, 90_000);

afterAll(async () => {
  if (sub?.exitCode === null) process.kill(sub.pid!, 'SIGTERM');
  await road?.stop();
  await hub?.stop();
});

describe('Cookie configuration over the TCP listener', () => {
  it('bt-config: the serial set line reaches the node on its gateway stream; its ack -> DELIVERED, the settings applied', async () => {
    const res = await invoke(a.bt, 'configure', { inquiryWindow: 5.12, txPower: -4 });
    expect(res.status).toBe(201);
    const done = await settle(res.location!);
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    const got = road!.received.filter((r) => r.line.includes(':bt-config:set:'));
    expect(got).toHaveLength(1);
    // device:sensor:type:set:seq#values in bt-config's order, absent ones empty, trailing ones left out
    expect(got[0]!.gateway).toBe('gw-road-a');
    const m = /^road-a:2:bt-config:set:(\d+)#5\.12::-4$/.exec(got[0]!.line);
    expect(m, got[0]!.line).not.toBeNull();
    expect(done.history[1]!.evidence).toMatch(new RegExp(`^serial 'road-a:2:bt-config:set:${m![1]}#5\\.12::-4' written on TCP 127\\.0\\.0\\.1:\\d+ \\(gateway gw-road-a\\)$`));
    expect(done.history[2]!.evidence).toBe(`node ack road-a:2:bt-config:ack:${m![1]} applied {"inquiryWindow":5.12,"inquiryTriggerInterval":30,"txPower":-4,"detectionDelay":60}`);
    expect(road!.configs.get('road-a/2')).toEqual({ inquiryWindow: 5.12, inquiryTriggerInterval: 30, txPower: -4, detectionDelay: 60 });
  });

  it('radar-config (direction, LED): DELIVERED on the ack', async () => {
    const res = await invoke(a.radar, 'configure', { vehicleDirection: 'exiting', ledNotification: true });
    const done = await settle(res.location!);
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    expect(road!.received.at(-1)!.line).toMatch(/^road-a:3:radar-config:set:\d+#exiting::true$/);
    expect(road!.configs.get('road-a/3')).toEqual({ vehicleDirection: 'exiting', noiseThreshold: 20, ledNotification: true });
  });

  it('a value the node refuses: its err -> FAILED with the node\'s text, not retried', async () => {
    const res = await invoke(a.bt, 'configure', { txPower: 10 });
    expect(res.status).toBe(201);
    const done = await settle(res.location!);
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'FAILED']);
    expect(done.history[2]!.evidence).toMatch(/^node err road-a:2:bt-config:err:\d+: txPower 10 dBm outside -20\.\.4 dBm$/);
    await sleep(1500);
    expect((await settle(res.location!)).history).toHaveLength(3);
    expect(road!.configs.get('road-a/2')!.txPower).toBe(-4);
    // the err was the downlink's, not a refused uplink (road-b's node and gateway have no Thing here: unknown-device)
    expect(Object.keys(cookieListener(hub).ingest.stats()).filter((k) => k.startsWith('rejected:'))).toEqual(['rejected:unknown-device']);
  });

  it('input the TD refuses is a 400 before anything is queued', async () => {
    const n = hub.downlink.service.list(a.radar).length;
    for (const input of [{ vehicleDirection: 'sideways' }, { noiseThreshold: 'high' }, { colour: 'red' }, {}]) expect((await invoke(a.radar, 'configure', input)).status, JSON.stringify(input)).toBe(400);
    expect(hub.downlink.service.list(a.radar)).toHaveLength(n);
  });

  it('a silent node: FAILED after the ack timeout, retried once, FAILED; nothing applied', async () => {
    road!.answers = false;
    try {
      const res = await invoke(b.radar, 'configure', { noiseThreshold: 30 });
      const done = await settle(res.location!, (s) => s.status === 'FAILED' && s.history.length >= 6);
      expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'FAILED', 'QUEUED', 'SENT', 'FAILED']);
      expect(done.history[2]!.evidence).toMatch(/^no ack or err for road-b:3:radar-config:set:\d+ within 500 ms$/);
      expect(road!.received.filter((r) => r.line.startsWith('road-b:3:radar-config:set:'))).toHaveLength(2);
      expect(road!.configs.has('road-b/3')).toBe(false);
    } finally {
      road!.answers = true;
    }
  });
});

describe('Cookie configuration over the embedded MQTT broker', () => {
  it('cookie/{gw}/down carries the set line (mosquitto_sub sees it); the node acks on cookie/{gw}/up -> DELIVERED', async () => {
    await road!.stop();
    sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(hub.config.mqttPort), '-u', 'test', '-P', TEST_ADMIN_TOKEN, '-v', '-t', 'cookie/+/down'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    sub.stdout!.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
    });
    await until(() => (hub.transports.find((t) => t.name === 'mqtt')!.stats()['broker.clients'] ?? 0) >= 1, 10_000, 'mosquitto_sub connected');
    road = await startCookieRoad({ ...ROAD, transport: 'mqtt', mqttUrl: `mqtt://127.0.0.1:${hub.config.mqttPort}`, token: TEST_ADMIN_TOKEN });
    const before = cookieListener(hub).ingest.counters.messages;
    await road.done;
    await until(() => cookieListener(hub).ingest.counters.messages - before >= road!.plan.messages.length, 20_000, 'the MQTT plan ingested');
    await sleep(300); // mosquitto_sub's SUBSCRIBE
    lines = [];
    const res = await invoke(b.bt, 'configure', { detectionDelay: 30 });
    const done = await settle(res.location!);
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    const seq = /set:(\d+)#/.exec(done.history[1]!.evidence)![1];
    expect(done.history[1]!.evidence).toBe(`serial 'road-b:2:bt-config:set:${seq}#:::30' published to cookie/gw-road-b/down`);
    await until(() => lines.length > 0, 5000, 'mosquitto_sub line');
    expect(lines).toEqual([`cookie/gw-road-b/down road-b:2:bt-config:set:${seq}#:::30`]);
    expect(road.received).toEqual([{ gateway: 'gw-road-b', line: `road-b:2:bt-config:set:${seq}#:::30` }]);
    expect(done.history[2]!.evidence).toBe(`node ack road-b:2:bt-config:ack:${seq} applied {"inquiryWindow":10.24,"inquiryTriggerInterval":30,"txPower":0,"detectionDelay":30}`);
  });

  it('every Cookie command is a sosa:Actuation: sparql/actuations.rq gives its states and times', async () => {
    await hub.downlink.actuations.flushed();
    for (const thing of [a.bt, b.radar]) {
      const query = readFileSync(join(ROOT, 'sparql/actuations.rq'), 'utf8').replace('"urn:dev:lorawan:0004A30B001C0530"', JSON.stringify(thing));
      const q = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
      expect(q.statusCode, q.body).toBe(200);
      const rows = q.json().results.bindings as Array<Record<string, { value: string }>>;
      const commands = hub.downlink.service.list(thing);
      expect(commands.length).toBeGreaterThan(0);
      for (const c of commands) {
        const mine = rows.filter((r) => r.actuation!.value === c.id);
        expect(mine.map((r) => r.status!.value)).toEqual(c.history.map((h) => h.status));
        expect(mine.map((r) => Date.parse(r.at!.value))).toEqual(c.history.map((h) => Date.parse(h.at)));
        expect(JSON.parse(mine[0]!.input!.value)).toEqual(c.input);
      }
    }
  });
});

describe('parseCookieReply', () => {
  it('reads acks (with the values applied) and errs (escaped text); everything else is not a reply', () => {
    expect(parseCookieReply('road-a:2:bt-config:ack:17#5.12::-4\u0000')).toEqual({ action: 'ack', device: 'road-a', sensor: 2, type: 'bt-config', seq: 17, payload: { inquiryWindow: 5.12, txPower: -4 } });
    expect(parseCookieReply('road-a:3:radar-config:err:9#noise\\: too high \\{x\\}')).toEqual({ action: 'err', device: 'road-a', sensor: 3, type: 'radar-config', seq: 9, error: 'noise: too high {x}' });
    expect(parseCookieReply(Buffer.from('road-a:2:bt-config:ack:4#'))).toMatchObject({ action: 'ack', seq: 4, payload: {} });
    // an ack whose body is not the type's still names the command
    expect(parseCookieReply('road-a:2:bt-config:ack:5#ok')).toEqual({ action: 'ack', device: 'road-a', sensor: 2, type: 'bt-config', seq: 5 });
    for (const other of ['road-a:2:bt-detection:data:1#x', 'road-a:2:bt-config:set:1#5', 'road-a:2:bt-config:ack:x#', 'road-a:*:composite:ack:1#', 'a:2:bt-config:err:1#a:b', '', 'ack', 'x'.repeat(9000)]) {
      expect(parseCookieReply(other), other.slice(0, 40)).toBeUndefined();
    }
  });
});
