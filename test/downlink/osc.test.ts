// OSC actions through real peers: the NGIMU simulator receives /rate/<x> and /identify from the hub's OSC socket, echoes them
// (DELIVERED) and streams at the new rate; a dgram socket sees the exact bytes and oscdump reads them (no echo: FAILED, retried,
// FAILED); a device never heard waits QUEUED until its TTL (EXPIRED, never sent); act scope; sosa:Actuation in SPARQL.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OscListener } from '../../hub/bindings/osc/listener.ts';
import { startNgimu, type RunningNgimu } from '../../hub/simulators/ngimu.ts';
import { baseUrlOf, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { commandStatus, settleCommand, type CommandStatus } from '../helpers/commands.ts';
import { freeUdpPort, udpSocket } from '../helpers/udp.ts';

const ROOT = join(import.meta.dirname, '../..');
const READER = 'osc-reader-token-0123456789abcdef';
const IMU_ID = 'urn:dev:ngimu:downlink-sim';
const DUMP_ID = 'urn:dev:ngimu:downlink-dump';
const GONE_ID = 'urn:dev:ngimu:downlink-never-heard';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Status = CommandStatus;

let hub: TestHub;
let base: string;
let imu: RunningNgimu;
let catcher: Socket;
const caught: Buffer[] = [];
let dump: ChildProcess;
let dumped = '';

async function invoke(id: string, action: string, input?: unknown, token = TEST_ADMIN_TOKEN) {
  const res = await fetch(`${base}/wot/${encodeURIComponent(id)}/actions/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(input === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(input === undefined ? {} : { body: JSON.stringify(input) }),
  });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Record<string, unknown> };
}
const status = commandStatus;
const settle = settleCommand;
const terminal = (s: Status) => ['DELIVERED', 'FAILED', 'EXPIRED', 'CANCELLED'].includes(s.status);

function td(id: string, deviceDefinitions: Record<string, unknown>, ttlSeconds?: number): Record<string, unknown> {
  const tm = JSON.parse(readFileSync(join(ROOT, 'thing-models/ngimu-imu.tm.jsonld'), 'utf8')) as { actions: Record<string, unknown> };
  return {
    '@context': 'https://www.w3.org/2022/wot/td/v1.1',
    id,
    title: id,
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: { roll: { type: 'number', readOnly: true, forms: [{ href: 'https://device.invalid/roll' }] } },
    actions: Object.fromEntries(Object.entries(tm.actions).map(([k, v]) => [k, { ...(v as object), ...(ttlSeconds ? { ttlSeconds } : {}), forms: [{ href: `https://device.invalid/${k}` }] }])),
    ioAdapterDefinitions: [{ uuid: `${id}#osc`, deviceDefinitions: { keyType: 'oscSource', oscSchema: 'ngimu', interfaceType: 'continuous', ...deviceDefinitions } }],
  };
}

beforeAll(async () => {
  hub = await startTestHub({ oscPort: await freeUdpPort(), tokens: [{ token: READER, scopes: ['read'] }], downlink: { retryDelayMs: 0, maxAttempts: 2 } }, { listen: true });
  base = baseUrlOf(hub);
  const put = await hub.app.inject({ method: 'PUT', url: '/mappings/ngimu-osc', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/ngimu-osc.ttl'), 'utf8') });
  expect(put.statusCode, put.body).toBe(201);
  imu = await startNgimu({ port: hub.config.oscPort, rateHz: 5, messages: ['/euler'], slow: false });
  const reg = await hub.app.inject({
    method: 'POST', url: '/thing-models/ngimu-imu/instantiate?register=true', headers: { authorization: hub.bearer },
    payload: { id: IMU_ID, placeholders: { TITLE: 'NGIMU downlink', ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: `127.0.0.1:${imu.localPort}`, SEND_PORT: hub.config.oscPort, MAPPING: 'ngimu-osc' } },
  });
  expect(reg.statusCode, reg.body).toBe(201);
  // A listener that never answers: a dgram socket (exact bytes) in front of oscdump (liblo's reading of them).
  const dumpPort = await freeUdpPort();
  dump = spawn('oscdump', ['-L', String(dumpPort)], { stdio: ['ignore', 'pipe', 'ignore'] });
  dump.stdout!.on('data', (d) => (dumped += d));
  catcher = await udpSocket();
  catcher.on('message', (m) => {
    caught.push(m);
    catcher.send(m, dumpPort, '127.0.0.1');
  });
  await hub.directory.put(DUMP_ID, td(DUMP_ID, { deviceKey: 'dump-0001', oscTarget: `127.0.0.1:${catcher.address().port}`, ackTimeoutSeconds: 0.4 }));
  await hub.directory.put(GONE_ID, td(GONE_ID, { deviceKey: 'never-heard-0001' }, 1));
  for (let i = 0; !([IMU_ID, DUMP_ID, GONE_ID].every((id) => hub.things.hasThing(id) && hub.routing.index.entriesOf(id).length > 0)); i++) {
    if (i > 200) throw new Error('Things not exposed');
    await sleep(50);
  }
}, 60_000);

afterAll(async () => {
  if (dump?.exitCode === null) process.kill(dump.pid!, 'SIGTERM');
  await imu?.stop();
  if (catcher) await new Promise<void>((r) => catcher.close(() => r()));
  await hub?.stop();
});

describe('OSC downlinks (NGIMU settings and commands)', () => {
  it('setSendRates: /rate/euler from the hub OSC port, echoed -> DELIVERED; the simulator streams at the new rate (timetags 1/40 s apart)', async () => {
    const osc = hub.transports.find((t) => t.name === 'osc') as OscListener;
    const res = await invoke(IMU_ID, 'setSendRates', { euler: 40, quaternion: 0 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'QUEUED', id: expect.stringMatching(/^urn:uuid:/) });
    const done = await settle(res.location!, terminal);
    expect(done.status).toBe('DELIVERED');
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    expect(done.history[1]!.evidence).toContain(`OSC to 127.0.0.1:${imu.localPort}: /rate/euler 40; /rate/quaternion 0`);
    expect(done.history[2]!.evidence).toMatch(/device echoed \/rate\/euler 40; \/rate\/quaternion 0 from 127\.0\.0\.1:\d+/);
    const at = done.history.map((h) => Date.parse(h.at));
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // What the device got, and from where: the hub's own OSC socket (its oscPort), float arguments
    expect(imu.received.filter((r) => r.address.startsWith('/rate/'))).toEqual([
      { address: '/rate/euler', args: [40], from: `127.0.0.1:${osc.address!.port}` },
      { address: '/rate/quaternion', args: [0], from: `127.0.0.1:${osc.address!.port}` },
    ]);
    expect(imu.rates()).toMatchObject({ '/euler': 40, '/quaternion': 0 });
    // The rate the device now streams at, read from the stored observations' result times (the bundle timetags)
    const since = new Date(Date.parse(done.history[2]!.at) + 200).toISOString();
    await sleep(1200);
    await osc.drain();
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(IMU_ID)}`;
    const q = await hub.app.inject({
      method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' },
      payload: `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT ?t WHERE { GRAPH ?g { ?o sosa:madeBySensor <${thing}> ; sosa:observedProperty <${thing}/properties/roll> ; sosa:resultTime ?t . FILTER(?t > "${since}"^^xsd:dateTime) } } ORDER BY ?t`,
    });
    expect(q.statusCode, q.body).toBe(200);
    const times = q.json().results.bindings.map((b: { t: { value: string } }) => Date.parse(b.t.value)) as number[];
    expect(times.length).toBeGreaterThanOrEqual(20);
    const gaps = times.slice(1).map((t, i) => t - times[i]!).sort((a, b) => a - b);
    expect(gaps[Math.floor(gaps.length / 2)]).toBeCloseTo(25, 0);
  });

  it('identify: the bare command is echoed -> DELIVERED', async () => {
    const res = await invoke(IMU_ID, 'identify');
    expect(res.status).toBe(201);
    const done = await settle(res.location!, terminal);
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    expect(done.history[2]!.evidence).toMatch(/^device echoed \/identify from /);
    expect(imu.received.at(-1)).toMatchObject({ address: '/identify', args: [] });
  });

  it('a device that does not echo: the exact bytes reach the listener (and oscdump), FAILED after the ack timeout, retried once, FAILED', async () => {
    caught.length = 0;
    const res = await invoke(DUMP_ID, 'setSendRates', { sensors: 50 });
    expect(res.status).toBe(201);
    const done = await settle(res.location!, (s) => s.status === 'FAILED' && s.history.length >= 6);
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'FAILED', 'QUEUED', 'SENT', 'FAILED']);
    expect(done.history[2]!.evidence).toMatch(/^no echo of \/rate\/sensors from 127\.0\.0\.1:\d+ within 400 ms$/);
    expect(done.history[3]!.evidence).toMatch(/^retry policy: try 2 of 2/);
    // OSC 1.0 by hand: "/rate/sensors" padded to 16, ",f" padded to 4, 50.0 as a big-endian float32 (0x42480000)
    const expected = Buffer.concat([Buffer.from('/rate/sensors\0\0\0', 'latin1'), Buffer.from(',f\0\0', 'latin1'), Buffer.from([0x42, 0x48, 0x00, 0x00])]);
    expect(caught.map((b) => b.toString('hex'))).toEqual([expected.toString('hex'), expected.toString('hex')]);
    for (let i = 0; i < 100 && (dumped.match(/\/rate\/sensors f 50\.0+/g) ?? []).length < 2; i++) await sleep(50);
    expect(dumped.match(/\/rate\/sensors f 50\.0+/g)).toHaveLength(2);
    // nothing left waiting
    await sleep(600);
    expect(caught).toHaveLength(2);
    expect((await status(res.location!)).status).toBe('FAILED');
  });

  it('a device never heard (no oscTarget, no ip:port key) keeps the command QUEUED until its TTL: EXPIRED, never sent', async () => {
    const before = hub.downlink.service.counters.sent;
    const res = await invoke(GONE_ID, 'identify');
    expect(res.status).toBe(201);
    await sleep(300);
    expect((await status(res.location!)).status).toBe('QUEUED');
    const done = await settle(res.location!, terminal, 6000);
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'EXPIRED']);
    expect(done.history[1]!.evidence).toMatch(/time to live elapsed .* before it was sent/);
    expect(hub.downlink.service.counters.sent).toBe(before);
  });

  it('actions need the act scope: a read token is refused before the body is read; nothing is queued', async () => {
    const count = hub.downlink.service.list(IMU_ID).length;
    const res = await invoke(IMU_ID, 'reset', undefined, READER);
    expect(res.status).toBe(403);
    expect(hub.downlink.service.list(IMU_ID)).toHaveLength(count);
  });

  it('bad input is a 400 before anything is queued (rate out of range, unknown member)', async () => {
    const count = hub.downlink.service.list(IMU_ID).length;
    for (const input of [{ euler: 5000 }, { euler: -1 }, { wobble: 3 }, {}]) {
      const res = await invoke(IMU_ID, 'setSendRates', input);
      expect(res.status, JSON.stringify(input)).toBe(400);
    }
    expect(hub.downlink.service.list(IMU_ID)).toHaveLength(count);
  });

  it('every OSC command is a sosa:Actuation: sparql/actuations.rq gives its states and times', async () => {
    await hub.downlink.actuations.flushed();
    const query = readFileSync(join(ROOT, 'sparql/actuations.rq'), 'utf8').replace('"urn:dev:lorawan:0004A30B001C0530"', JSON.stringify(IMU_ID));
    const q = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
    expect(q.statusCode, q.body).toBe(200);
    const rows = q.json().results.bindings as Array<Record<string, { value: string }>>;
    const commands = hub.downlink.service.list(IMU_ID);
    expect(commands.length).toBe(2);
    for (const c of commands) {
      const mine = rows.filter((b) => b.actuation!.value === c.id);
      expect(mine.map((b) => b.status!.value)).toEqual(c.history.map((h) => h.status));
      expect(mine.map((b) => Date.parse(b.at!.value))).toEqual(c.history.map((h) => Date.parse(h.at)));
      expect(mine[0]!.action!.value).toBe(c.action);
    }
    expect(rows.map((b) => b.status!.value).filter((s) => s === 'DELIVERED')).toHaveLength(2);
  });
});
