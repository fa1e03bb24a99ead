// End to end over loopback UDP with the real liblo clients: oscsend / oscsendfile -> the hub's OSC listener (started by
// config oscPort) -> pipeline -> ngimu-osc mapfile -> store -> SPARQL (value, QUDT unit, result time = the bundle's
// timetag) and the live value on the Thing; the NGIMU simulator read back by oscdump; bad datagrams counted.
import { spawn, execFile } from 'node:child_process';
import type { Socket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBuffer } from 'osc-min';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOsc, type OscListener } from '../../../hub/bindings/osc/listener.ts';
import { TokenAuth } from '../../../hub/http/auth.ts';
import { msToTimetag, timetagToIso, type Timetag } from '../../../hub/bindings/osc/packet.ts';
import { startNgimu } from '../../../hub/simulators/ngimu.ts';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../../helpers/hub.ts';
import { freeUdpPort, udpSocket } from '../../helpers/udp.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ID = 'urn:dev:ngimu:loopback';
const SERIAL_ID = 'urn:dev:ngimu:serial-0040A1B2';
const UNIT = 'http://qudt.org/vocab/unit/';
/** xsd:dateTime as the store gives it back (canonical: trailing zeros of the fraction dropped). */
const canon = (iso: string) => iso.replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bufOf = (p: Parameters<typeof toBuffer>[0]) => {
  const v = toBuffer(p);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
};

const sendTo = (s: Socket, port: number, buf: Buffer) => new Promise<void>((r, j) => s.send(buf, port, '127.0.0.1', (e) => (e ? j(e) : r())));
const run = (cmd: string, args: string[]) => new Promise<void>((r, j) => execFile(cmd, args, { timeout: 10_000 }, (e) => (e ? j(e) : r())));

describe('OSC end to end (liblo oscsend/oscsendfile/oscdump, the NGIMU simulator)', () => {
  let hub: TestHub;
  let osc: OscListener;
  const cleanups: Array<() => unknown> = [];

  const sparql = async (query: string) => {
    const res = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results.bindings as Array<Record<string, { value: string }>>;
  };
  /** Observations of a property of a Thing: value, unit, result time (ordered by time). */
  const observations = (thingId: string, prop: string) => sparql(`PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/>
    SELECT ?v ?unit ?t WHERE { GRAPH ?g { ?o a sosa:Observation ; sosa:madeBySensor <${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}> ;
      sosa:observedProperty <${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}/properties/${prop}> ; sosa:hasSimpleResult ?v ; sosa:resultTime ?t .
      OPTIONAL { ?o sosa:hasResult ?r . ?r qudt:unit ?unit } } } ORDER BY ?t`).then((rows) => rows.map((b) => ({ value: b.v!.value, unit: b.unit?.value, time: b.t!.value })));
  const until = async <T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> => {
    let v = await f();
    for (const end = Date.now() + ms; !ok(v) && Date.now() < end; v = await f()) await sleep(50);
    return v;
  };
  const live = async (thingId: string, prop: string) => {
    const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(thingId)}/properties/${prop}`, headers: { authorization: hub.bearer } });
    return res.statusCode === 200 ? res.json() : undefined;
  };
  const rejections = () => hub.routing.rejections.ofBinding('osc');

  beforeAll(async () => {
    hub = await startTestHub({ oscPort: await freeUdpPort() }, { listen: true });
    osc = hub.transports.find((t) => t.name === 'osc') as OscListener;
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/ngimu-osc', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/ngimu-osc.ttl'), 'utf8') });
    expect(put.statusCode, put.body).toBe(201);
    for (const [id, key] of [[ID, '127.0.0.1'], [SERIAL_ID, '0040A1B2']] as const) {
      const reg = await hub.app.inject({
        method: 'POST', url: '/thing-models/ngimu-imu/instantiate?register=true', headers: { authorization: hub.bearer },
        payload: { id, placeholders: { TITLE: `NGIMU ${key}`, ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: key, SEND_PORT: 8000, MAPPING: 'ngimu-osc' } },
      });
      expect(reg.statusCode, reg.body).toBe(201);
    }
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await hub?.stop();
  });

  it('the listener runs on the configured host and port (HUB_OSC_PORT), not on 0.0.0.0', () => {
    expect(osc).toBeDefined();
    expect(osc.address).toEqual({ host: '127.0.0.1', port: hub.config.oscPort });
  });

  it('oscsend (a bare message): value, unit and arrival time in SPARQL; the live value on the Thing', async () => {
    const before = Date.now();
    await run('oscsend', ['127.0.0.1', String(hub.config.oscPort), '/euler', 'fff', '1.5', '-2.25', '90']);
    const rows = await until(() => observations(ID, 'roll'), (r) => r.length > 0);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.value)).toBe(1.5);
    expect(rows[0]!.unit).toBe(`${UNIT}DEG`);
    const t = Date.parse(rows[0]!.time);
    expect(t).toBeGreaterThanOrEqual(before - 1);
    expect(t).toBeLessThanOrEqual(Date.now());
    expect(Number((await observations(ID, 'yaw'))[0]!.value)).toBe(90);
    expect(await live(ID, 'roll')).toBe(1.5);
    expect(await live(ID, 'pitch')).toBe(-2.25);
  });

  it('oscsendfile (bundles): the result time is each bundle timetag to the microsecond, not the arrival time', async () => {
    // A relay records the timetags liblo stamps and passes each datagram on from its own port (key: the IP).
    const relay = await udpSocket();
    cleanups.push(() => new Promise<void>((r) => relay.close(() => r())));
    const seen: Array<{ address: string; tt: Timetag }> = [];
    relay.on('message', (msg) => {
      const tt: Timetag = [msg.readUInt32BE(8), msg.readUInt32BE(12)];
      seen.push({ address: msg.subarray(20, msg.indexOf(0, 20)).toString('latin1'), tt });
      relay.send(msg, hub.config.oscPort, '127.0.0.1');
    });
    const file = join(hub.dataDir, 'ngimu.osc.txt');
    // oscdump's format; at speed 1000 the 0.25 s between the lines become 250 us
    writeFileSync(file, 'e6ea2f00.00000000 /battery ffffs 97.5 120.0 4.1 -150.0 Charging\ne6ea2f00.40000000 /temperature ff 31.25 24.5\n');
    await run('oscsendfile', ['127.0.0.1', String(relay.address().port), file, '1000']);
    await until(async () => seen.length, (n) => n === 2, 3000);
    expect(seen.map((s) => s.address)).toEqual(['/battery', '/temperature']);
    const battery = await until(() => observations(ID, 'batteryPercentage'), (r) => r.length > 0);
    const temp = await until(() => observations(ID, 'temperatureImu'), (r) => r.length > 0);
    expect(battery.map((r) => [Number(r.value), r.unit, r.time])).toEqual([[97.5, `${UNIT}PERCENT`, canon(timetagToIso(seen[0]!.tt))]]);
    expect(temp.map((r) => [Number(r.value), r.unit, r.time])).toEqual([[31.25, `${UNIT}DEG_C`, canon(timetagToIso(seen[1]!.tt))]]);
    const micros = (iso: string) => Date.parse(iso.replace(/(\.\d{3})\d*Z$/, '$1Z')) * 1000 + Number((/\.\d{3}(\d{0,3})/.exec(iso)?.[1] ?? '').padEnd(3, '0'));
    const gapUs = micros(temp[0]!.time) - micros(battery[0]!.time);
    expect(gapUs).toBeGreaterThanOrEqual(249);
    expect(gapUs).toBeLessThanOrEqual(251);
    expect((await observations(ID, 'chargerState'))[0]!.value).toBe('Charging');
    // The live values are those of the Thing's latest message (LiveState keeps one message's values per Thing)
    expect(await live(ID, 'temperatureEnvironment')).toBe(24.5);
  });

  it('nested bundles with set timetags: every message with its own bundle time, units per message type', async () => {
    const s = await udpSocket();
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    const t0 = Date.UTC(2026, 0, 15, 8, 30, 0, 0);
    await sendTo(s, hub.config.oscPort, bufOf({
      timetag: msToTimetag(t0) as [number, number], elements: [
        { address: '/sensors', args: [0.5, -1.25, 2, 0.01, -0.02, 0.98, 21.5, -4.75, 40.25, 1013.25].map((value) => ({ type: 'float' as const, value })) },
        { timetag: msToTimetag(t0 + 2.5) as [number, number], elements: [{ address: '/quaternion', args: [1, 0, 0, 0].map((value) => ({ type: 'float' as const, value })) }] },
      ],
    }));
    const gyro = await until(() => observations(ID, 'gyroscopeY'), (r) => r.length > 0);
    expect(gyro.map((r) => [Number(r.value), r.unit, r.time])).toEqual([[-1.25, `${UNIT}DEG-PER-SEC`, '2026-01-15T08:30:00Z']]);
    expect((await observations(ID, 'magnetometerZ')).map((r) => r.unit)).toEqual([`${UNIT}MicroT`]);
    expect((await observations(ID, 'barometer')).map((r) => [Number(r.value), r.unit])).toEqual([[1013.25, `${UNIT}HectoPA`]]);
    const q = await until(() => observations(ID, 'quaternionW'), (r) => r.length > 0);
    expect(q.map((r) => [Number(r.value), r.time])).toEqual([[1, '2026-01-15T08:30:00.0025Z']]);
  });

  it('an NGIMU known by its serial number: learned from /ping on any source, then its messages go to that Thing', async () => {
    const s = await udpSocket('127.0.0.4'); // a source no Thing claims by address
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    await sendTo(s, hub.config.oscPort, bufOf({ address: '/ping', args: [{ type: 'string', value: '127.0.0.4' }, { type: 'string', value: 'NGIMU' }, { type: 'string', value: '0040A1B2' }] }));
    await until(async () => osc.stats().inFlight, (n) => n === 0, 3000);
    await sendTo(s, hub.config.oscPort, bufOf({ timetag: msToTimetag(Date.UTC(2026, 0, 15, 9)) as [number, number], elements: [{ address: '/altitude', args: [{ type: 'float', value: 112.5 }] }] }));
    const rows = await until(() => observations(SERIAL_ID, 'altitude'), (r) => r.length > 0);
    expect(rows.map((r) => [Number(r.value), r.unit, r.time])).toEqual([[112.5, `${UNIT}M`, '2026-01-15T09:00:00Z']]);
    expect(await live(SERIAL_ID, 'altitude')).toBe(112.5);
  });

  it('garbage, truncated, oversized, unknown-device and flooding datagrams are typed, counted rejections; the listener keeps serving', async () => {
    const before = { ...osc.stats() };
    const rej0 = rejections();
    const s = await udpSocket();
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    const euler = Buffer.from('2f65756c65720000' + '2c66666600000000' + '3fc00000c010000042b40000', 'hex');
    await sendTo(s, hub.config.oscPort, Buffer.from('GET /index.html HTTP/1.1\r\n\r\n\0\0\0\0')); // 32 bytes, no '/' first
    await sendTo(s, hub.config.oscPort, euler.subarray(0, 20)); // type tags promise 3 floats, none follow
    await sendTo(s, hub.config.oscPort, euler.subarray(0, 22)); // not a multiple of 4
    await sendTo(s, hub.config.oscPort, bufOf({ timetag: [0, 1], elements: Array.from({ length: 1100 }, () => ({ address: '/m', args: [] })) }));
    const stranger = await udpSocket('127.0.0.2');
    cleanups.push(() => new Promise<void>((r) => stranger.close(() => r())));
    await sendTo(stranger, hub.config.oscPort, euler);
    const stats = await until(async () => osc.stats(), (st) => st.datagrams - before.datagrams >= 5 && st.inFlight === 0, 5000);
    expect(stats.datagrams - before.datagrams).toBe(5);
    expect(stats.invalid - before.invalid).toBe(1);
    expect(stats.truncated - before.truncated).toBe(2);
    expect(stats.oversized - before.oversized).toBe(1);
    // A flood: 12 x 1000 messages at once from one source into a listener allowing 1000 at once and 100/s after: the
    // first datagram is taken, the 11 others refused whole (refilling 1000 tokens would take 10 s).
    const quiet = { info() {}, warn() {}, error() {} };
    const small = await listenOsc({ config: hub.config, uplinks: hub.uplinks, auth: new TokenAuth(hub.config, TEST_ADMIN_TOKEN), secrets: hub.secrets, log: quiet }, 0, { maxRatePerSource: 100, burstPerSource: 1000, lookup: (t, k) => hub.routing.index.lookup(t, k) });
    cleanups.push(() => small.stop());
    const flooder = await udpSocket('127.0.0.3');
    cleanups.push(() => new Promise<void>((r) => flooder.close(() => r())));
    const thousand = bufOf({ timetag: [0, 1], elements: Array.from({ length: 1000 }, () => ({ address: '/f', args: [] })) });
    await Promise.all(Array.from({ length: 12 }, () => sendTo(flooder, small.address!.port, thousand)));
    const fl = await until(async () => small.stats(), (st) => st.datagrams >= 12 && st.inFlight === 0, 10_000);
    expect(fl.datagrams).toBe(12);
    expect(fl.flooded).toBe(11_000);
    expect(fl.rejected).toBe(1000); // the datagram let through: unknown device
    const rej = rejections();
    const delta = (code: string) => (rej[code] ?? 0) - (rej0[code] ?? 0);
    expect(delta('osc-malformed')).toBe(1);
    expect(delta('osc-truncated')).toBe(2);
    expect(delta('osc-oversized')).toBe(1);
    expect(delta('osc-flood')).toBe(11);
    expect(delta('unknown-device')).toBe(1000 + 1);
    // a message the NGIMU schema names with other argument types: refused, counted
    await sendTo(s, hub.config.oscPort, bufOf({ address: '/euler', args: [{ type: 'string', value: 'not a number' }] }));
    await until(async () => rejections()['osc-arguments'] ?? 0, (n) => n - (rej0['osc-arguments'] ?? 0) === 1, 3000);
    expect((rejections()['osc-arguments'] ?? 0) - (rej0['osc-arguments'] ?? 0)).toBe(1);
    // still serving
    await run('oscsend', ['127.0.0.1', String(hub.config.oscPort), '/humidity', 'f', '44.5']);
    expect((await until(() => observations(ID, 'humidity'), (r) => r.length > 0)).map((r) => [Number(r.value), r.unit])).toEqual([[44.5, `${UNIT}PERCENT`]]);
  });

  it('the NGIMU simulator streams what oscdump reads: every message type, bundle timetags 1/rate apart, a unit quaternion', async () => {
    const port = await freeUdpPort();
    const dump = spawn('oscdump', ['-L', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanups.push(() => dump.kill('SIGTERM'));
    let out = '';
    dump.stdout!.on('data', (d) => (out += String(d)));
    await sleep(300); // oscdump binding its port
    const imu = await startNgimu({ port, rateHz: 200, limit: 5 * 40 + 10 });
    cleanups.push(() => imu.stop());
    await Promise.race([imu.done, sleep(5000)]);
    await until(async () => out.split('\n').length, (n) => n > 5 * 40, 3000);
    await imu.stop();
    const lines = out.trim().split('\n').map((l) => l.split(' '));
    const by = (a: string) => lines.filter((l) => l[1] === a);
    for (const a of ['/sensors', '/quaternion', '/euler', '/linear', '/earth']) expect(by(a).length, a).toBeGreaterThanOrEqual(39);
    expect(by('/sensors')[0]![2]).toBe('ffffffffff');
    const tt = by('/euler').map((l) => parseInt(l[0]!.split('.')[0]!, 16) + parseInt(l[0]!.split('.')[1]!, 16) / 2 ** 32);
    const gaps = tt.slice(1).map((t, i) => t - tt[i]!);
    for (const g of gaps) expect(g).toBeCloseTo(1 / 200, 5);
    for (const l of by('/quaternion')) expect(Math.hypot(...l.slice(3, 7).map(Number))).toBeCloseTo(1, 4);
    const acc = by('/sensors').map((l) => Math.hypot(...l.slice(6, 9).map(Number)));
    for (const g of acc) expect(g).toBeGreaterThan(0.9); // gravity in the accelerometer (g)
  });

  it('the simulator at 400 Hz into the hub: every /euler sample stored (goodput 1) and the live yaw follows', async () => {
    const rows0 = (await observations(ID, 'yaw')).length;
    const imu = await startNgimu({ port: hub.config.oscPort, rateHz: 400, messages: ['/euler'], slow: false, limit: 400 });
    cleanups.push(() => imu.stop());
    await Promise.race([imu.done, sleep(5000)]);
    expect(imu.stats.sent).toBe(400);
    const rows = await until(() => observations(ID, 'yaw'), (r) => r.length - rows0 >= 400, 15_000);
    expect(rows.length - rows0).toBe(400);
    // the live value is the last message the store confirmed (confirmations may overtake each other): one of this run's
    const yaw = (await live(ID, 'yaw')) as number;
    expect(rows.slice(rows0).some((r) => Math.abs(Number(r.value) - yaw) < 1e-4)).toBe(true);
    await imu.stop();
  });
});
