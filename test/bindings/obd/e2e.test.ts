// End to end: the vehicle simulator (ELM327 over TCP + NMEA) -> the hub's OBD transport (following the directory) ->
// uplink pipeline -> obd-pid mapfile -> store -> SPARQL (value, QUDT unit, time, WKT point) and the live Thing;
// faults (garbage, truncated frames, a flood, a lost adapter) counted and survived; obd/{vin}/up from mosquitto_pub.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVehicleSimulator, nmeaFix, type VehicleSimulator } from '../../../hub/simulators/vehicle.ts';
import { baseUrlOf, freePort, startTestHub, type TestHub } from '../../helpers/hub.ts';
import { mosquittoPub } from '../mqtt/helpers.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ID = 'urn:dev:vehicle:1D4GP00R55B123456';
const T0 = Date.parse('2026-06-01T08:00:00Z');

type Row = Record<string, { value: string; datatype?: string; type?: string }>;

const until = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 8000): Promise<T> => {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 60))) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
};

async function sparql(hub: TestHub, query: string): Promise<Row[]> {
  const res = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results.bindings as Row[];
}

async function live(hub: TestHub, id: string, name: string): Promise<unknown> {
  const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(id)}/properties/${name}`, headers: { authorization: hub.bearer } });
  return res.statusCode === 200 ? res.json() : undefined;
}

/** Registers an obd-vehicle Thing; with `deviceDefinitions` merged in (the ELM327 address, schedule) by a PUT. */
async function registerVehicle(hub: TestHub, id: string, vin: string, extra?: Record<string, unknown>): Promise<void> {
  const auth = { authorization: hub.bearer };
  const reg = await hub.app.inject({ method: 'POST', url: '/thing-models/obd-vehicle/instantiate?register=true', headers: auth, payload: { id, placeholders: { TITLE: `Car ${vin}`, ADAPTER_ID: 'urn:wot-hub:adapter:obd', VIN: vin, MAPPING: 'obd-pid' } } });
  expect(reg.statusCode, reg.body).toBe(201);
  if (!extra) return;
  const url = `/things/${encodeURIComponent(id)}`;
  const td = (await hub.app.inject({ url, headers: auth })).json();
  Object.assign(td['hub:ioAdapterDefinitions'][0].deviceDefinitions, extra);
  const upd = await hub.app.inject({ method: 'PUT', url, headers: { ...auth, 'content-type': 'application/td+json' }, payload: td });
  expect(upd.statusCode, upd.body).toBeLessThan(300);
}

const obdStats = (hub: TestHub): Record<string, number> => hub.transports.find((t) => t.name === 'obd')!.stats();

// One hub for the file (a hub start is the slow part on a loaded machine): the embedded broker on a free port, the obd-pid mapfile.
let hub: TestHub;
let mqttPort: number;
beforeAll(async () => {
  mqttPort = await freePort();
  hub = await startTestHub({ mqttPort }, { listen: true });
  const put = await hub.app.inject({ method: 'PUT', url: '/mappings/obd-pid', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/obd-pid.ttl'), 'utf8') });
  expect(put.statusCode, put.body).toBe(201);
});
afterAll(() => hub?.stop());

describe('vehicle simulator over TCP -> hub -> SPARQL and the live Thing', () => {
  let sim: VehicleSimulator;
  let simNow = T0;
  const thing = () => `${hub.config.baseUrl}/things/${encodeURIComponent(ID)}`;

  beforeAll(async () => {
    // The drive's clock is the test's: 20 s into the first cycle the car cruises at 93 km/h (3410.75 rpm, coolant 34 degC);
    // at 31 s (the DTC test) at 84 km/h.
    sim = await startVehicleSimulator({ now: () => simNow, dtcAfterMs: 30_000, gpsIntervalMs: 100, garbageEvery: 4 });
    simNow = T0 + 20_000;
    await registerVehicle(hub, ID, sim.vin, {
      elm327: { host: sim.host, port: sim.port, headers: true, spaces: true, timeoutMs: 1000, gps: { port: sim.gpsPort } },
      pollSchedule: [{ pids: ['0D', '0C', '05', '5C', '2F'], intervalMs: 200 }, { pids: ['fuelRate', '0B'], intervalMs: 400 }],
      dtcIntervalMs: 100,
    });
  });
  afterAll(() => sim?.stop());

  it('stores speed, rpm and coolant with QUDT units, the poll time and the aligned GPS point', async () => {
    const started = Date.now();
    const query = `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/> PREFIX geo: <http://www.opengis.net/ont/geosparql#>
      SELECT ?prop ?v ?unit ?t ?wkt WHERE { GRAPH ?g {
        ?o a sosa:Observation ; sosa:madeBySensor <${thing()}> ; sosa:observedProperty ?prop ; sosa:hasSimpleResult ?v ; sosa:resultTime ?t ; sosa:hasResult ?r .
        ?r qudt:unit ?unit .
        ?l sosa:madeBySensor <${thing()}> ; sosa:observedProperty <${thing()}/properties/location> ; sosa:resultTime ?t ; sosa:hasResult ?pt .
        ?pt geo:asWKT ?wkt } } ORDER BY ?t`;
    const rows = await until('located observations', async () => {
      const r = await sparql(hub, query);
      return ['speed', 'rpm', 'coolantTemperature', 'fuelRate'].every((p) => r.some((x) => x.prop!.value.endsWith(`/properties/${p}`))) ? r : undefined;
    });
    const of = (p: string) => rows.filter((r) => r.prop!.value === `${thing()}/properties/${p}`);
    for (const r of of('speed')) expect([Number(r.v!.value), r.unit!.value]).toEqual([93, 'http://qudt.org/vocab/unit/KiloM-PER-HR']);
    for (const r of of('rpm')) expect([Number(r.v!.value), r.unit!.value]).toEqual([3410.75, 'http://qudt.org/vocab/unit/REV-PER-MIN']);
    for (const r of of('coolantTemperature')) expect([Number(r.v!.value), r.unit!.value]).toEqual([34, 'http://qudt.org/vocab/unit/DEG_C']);
    // 5E: (0.5 + 93/15) * 20 / 20 L/h.
    for (const r of of('fuelRate')) expect([Number(r.v!.value), r.unit!.value]).toEqual([6.7, 'http://qudt.org/vocab/unit/L-PER-HR']);
    const speed = of('speed')[0]!;
    expect(Date.parse(speed.t!.value)).toBeGreaterThanOrEqual(started - 5000);
    expect(Date.parse(speed.t!.value)).toBeLessThanOrEqual(Date.now());
    expect(speed.t!.datatype).toBe('http://www.w3.org/2001/XMLSchema#dateTime');
    expect(speed.wkt!.datatype).toBe('http://www.opengis.net/ont/geosparql#wktLiteral');
    const [lon, lat] = /^POINT\(([-\d.]+) ([-\d.]+)\)$/.exec(speed.wkt!.value)!.slice(1).map(Number);
    expect(lat).toBeCloseTo(48.1173, 1);
    expect(lon).toBeCloseTo(11.5167, 1);
    // 5C is advertised but answered NO DATA: never an observation.
    expect(rows.some((r) => r.prop!.value.endsWith('/properties/oilTemperature'))).toBe(false);
  });

  it('the vehicle Thing reads the live values, the VIN, the location and pending DTCs', async () => {
    expect(await until('speed', () => live(hub, ID, 'speed'))).toBe(93);
    expect(await live(hub, ID, 'rpm')).toBe(3410.75);
    expect(await until('vin', () => live(hub, ID, 'vin'))).toBe(sim.vin);
    const loc = (await until('location', () => live(hub, ID, 'location'))) as { latitude: number; longitude: number; source: string };
    expect(loc.source).toBe('gps');
    expect(loc.latitude).toBeCloseTo(48.1173, 1);
    expect(await until('pending DTC', async () => ((await live(hub, ID, 'pendingDtcs')) as string[] | undefined)?.length ? live(hub, ID, 'pendingDtcs') : undefined)).toEqual(['P0133']);
    expect(await live(hub, ID, 'oilTemperature')).toBeUndefined();
  });

  it('a stored DTC appears: the dtcsChanged event (SSE on the Thing), the dtcs property, a SPARQL observation', async () => {
    const controller = new AbortController();
    const res = await fetch(`${baseUrlOf(hub)}/wot/${encodeURIComponent(ID)}/events/dtcsChanged`, { signal: controller.signal, headers: { accept: 'text/event-stream', authorization: hub.bearer } });
    expect(res.status).toBe(200);
    let sse = '';
    const reader = res.body!.getReader();
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          sse += new TextDecoder().decode(value);
        }
      } catch {
        // aborted
      }
    })();
    try {
      await until('event observer', () => (hub.things.observers.count > 0 ? true : undefined));
      simNow = T0 + 31_000;
      const data = await until('dtcsChanged event', () => /^data: (.+)$/m.exec(sse)?.[1]);
      expect(JSON.parse(data)).toEqual({ dtcs: ['P0133'], added: ['P0133'], cleared: [] });
    } finally {
      controller.abort();
    }
    expect(await until('dtcs', () => live(hub, ID, 'dtcs'))).toEqual(['P0133']);
    const rows = await until('DTC observation', async () => {
      const r = await sparql(hub, `PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT ?v WHERE { GRAPH ?g { ?o sosa:madeBySensor <${thing()}> ; sosa:observedProperty <${thing()}/properties/diagnosticTroubleCode> ; sosa:hasSimpleResult ?v } }`);
      return r.length ? r : undefined;
    });
    expect(new Set(rows.map((r) => r.v!.value))).toEqual(new Set(['P0133']));
  });

  it('garbage lines and truncated frames are counted, never taken for data', async () => {
    await until('garbage counted', () => (obdStats(hub)['session.invalidFrames']! > 0 && obdStats(hub)['session.statuses']! > 0 ? true : undefined));
    // Every stored speed is the simulator's (93 km/h at 20 s, 84 at 31 s), none from the cut-short 7EA frame.
    const rows = await sparql(hub, `PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT DISTINCT ?v WHERE { GRAPH ?g { ?o sosa:madeBySensor <${thing()}> ; sosa:observedProperty <${thing()}/properties/speed> ; sosa:hasSimpleResult ?v } }`);
    const speeds = rows.map((r) => Number(r.v!.value));
    expect(speeds).toContain(93);
    for (const v of speeds) expect([84, 93]).toContain(v);
    expect(obdStats(hub)).toMatchObject({ vehicles: 1, rejected: 0 });
    // 0B is scheduled but not in the ECU's supported-PID bitmaps: never requested, counted as unsupported.
    expect(sim.requests.has('010B')).toBe(false);
    expect(obdStats(hub)['session.unsupported']).toBeGreaterThan(0);
    expect(sim.requests.get('0100')).toBeGreaterThanOrEqual(1);
  });

  it('a lost adapter is reconnected and polling resumes; a flood drops the link, is counted, and is survived', async () => {
    const before = obdStats(hub);
    sim.dropClients();
    await until('reconnect', () => (obdStats(hub)['session.connects']! > before['session.connects']! && obdStats(hub).frames > before.frames + 1 ? true : undefined));
    const mid = obdStats(hub);
    sim.flood(40_000);
    await until('flood counted', () => (obdStats(hub)['session.overflows']! >= 1 ? true : undefined));
    await until('polling after the flood', () => (obdStats(hub).frames > mid.frames + 2 && obdStats(hub)['session.connects']! > mid['session.connects']! ? true : undefined));
    const res = await hub.app.inject({ url: '/things', headers: { authorization: hub.bearer } });
    expect(res.statusCode).toBe(200);
  });

  it('sparql/trip-track.rq: the trip as a track of WKT points in time order, with speed and unit', async () => {
    const text = readFileSync(join(ROOT, 'sparql/trip-track.rq'), 'utf8');
    const rows = (await sparql(hub, text)).filter((r) => r.vehicle!.value === thing());
    expect(rows.length).toBeGreaterThan(3);
    const times = rows.map((r) => Date.parse(r.time!.value));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const r of rows) {
      expect(r.point!.value).toMatch(/^POINT\(11\.5\d* 48\.1\d*\)$/);
      expect(r.point!.datatype).toBe('http://www.opengis.net/ont/geosparql#wktLiteral');
    }
    const withSpeed = rows.filter((r) => r.speed);
    expect(withSpeed.length).toBeGreaterThan(0);
    for (const r of withSpeed) {
      expect([84, 93]).toContain(Number(r.speed!.value));
      expect(r.speedUnit!.value).toBe('http://qudt.org/vocab/unit/KiloM-PER-HR');
    }
    // The drive went 93 km/h, then 84: the track's speeds follow the clock.
    const speeds = withSpeed.map((r) => Number(r.speed!.value));
    expect(speeds.indexOf(84)).toBeGreaterThan(speeds.lastIndexOf(93));
  });

  it('follows the directory: a deleted vehicle Thing stops its session', async () => {
    const del = await hub.app.inject({ method: 'DELETE', url: `/things/${encodeURIComponent(ID)}`, headers: { authorization: hub.bearer } });
    expect(del.statusCode).toBeLessThan(300);
    await until('session stopped', () => (obdStats(hub).vehicles === 0 ? true : undefined));
    const frames = obdStats(hub).frames;
    await new Promise((r) => setTimeout(r, 400));
    expect(obdStats(hub).frames).toBe(frames);
  });
});

describe('obd/{vin}/up: an in-vehicle gateway over MQTT (mosquitto_pub -> embedded broker -> pipeline)', () => {
  const VIN = 'WVWZZZ1JZ3W386752';
  const GW_ID = `urn:dev:vehicle:${VIN}`;
  beforeAll(() => registerVehicle(hub, GW_ID, VIN));

  const pub = (topic: string, text: string) => mosquittoPub(mqttPort, topic, text, ['-u', 'gateway', '-P', hub.adminToken]);

  it('one poll cycle becomes located observations at the RMC time; garbage is rejected and counted', async () => {
    const at = new Date('2026-06-01T09:30:00.000Z');
    const lines = ['7E8 03 41 0D 3C', '7E8 04 41 0C 1A F8', '7E8 03 41 05 7B', nmeaFix(at, { latitude: 52.52, longitude: 13.405, speed: 60 }).trim()].join('\r\n');
    await pub(`obd/${VIN}/up`, lines);
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(GW_ID)}`;
    const rows = await until('gateway observations', async () => {
      const r = await sparql(hub, `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/> PREFIX geo: <http://www.opengis.net/ont/geosparql#>
        SELECT ?prop ?v ?unit ?t ?wkt WHERE { GRAPH ?g { ?o sosa:madeBySensor <${thing}> ; sosa:observedProperty ?prop ; sosa:hasSimpleResult ?v ; sosa:resultTime ?t ; sosa:hasResult ?r . ?r qudt:unit ?unit .
          ?l sosa:observedProperty <${thing}/properties/location> ; sosa:resultTime ?t ; sosa:hasResult ?pt . ?pt geo:asWKT ?wkt } } ORDER BY ?prop`);
      return r.length >= 3 ? r : undefined;
    });
    const got = Object.fromEntries(rows.filter((r) => !r.prop!.value.endsWith('gpsSpeed')).map((r) => [r.prop!.value.split('/').pop(), [Number(r.v!.value), r.unit!.value.split('/').pop()]]));
    expect(got).toEqual({ speed: [60, 'KiloM-PER-HR'], rpm: [1726, 'REV-PER-MIN'], coolantTemperature: [83, 'DEG_C'] });
    for (const r of rows) {
      expect(Date.parse(r.t!.value)).toBe(at.getTime());
      expect(r.wkt!.value).toBe('POINT(13.405 52.52)');
    }
    expect(await live(hub, GW_ID, 'speed')).toBe(60);

    const mqttStats = () => hub.transports.find((t) => t.name === 'mqtt')!.stats();
    const before = mqttStats().rejected ?? 0;
    await pub(`obd/${VIN}/up`, 'NO DATA\r\n#@!garbage\r\n7E8 06 41 0D\r\n$GPRMC,093000.00,A,5231.2000,N*00');
    await pub(`obd/${VIN}/up`, 'x'.repeat(20_000));
    await until('rejections', () => (mqttStats().rejected! >= before + 2 ? true : undefined));
    const snap = hub.routing.rejections.snapshot();
    expect(snap.byBinding.obd).toBeDefined();
    expect(Object.values(snap.byBinding.obd!).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
  });

  it('a flood of garbage from one gateway is rejected and counted message by message; the hub keeps serving', async () => {
    const mqttStats = () => hub.transports.find((t) => t.name === 'mqtt')!.stats();
    const before = mqttStats().rejected!;
    const N = 400;
    // mosquitto_pub -l: one message per stdin line, as fast as the broker takes them (QoS 1: bounded in flight).
    const proc = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mqttPort), '-q', '1', '-t', `obd/${VIN}/up`, '-l', '-u', 'gateway', '-P', hub.adminToken], { stdio: ['pipe', 'ignore', 'ignore'] });
    proc.stdin.end(Array.from({ length: N }, (_, i) => `SEARCHING... NO DATA ${i} 7E8 0`).join('\n') + '\n');
    expect(await new Promise((r) => proc.once('exit', r))).toBe(0);
    await until('flood counted', () => (mqttStats().rejected! >= before + N ? true : undefined), 15_000);
    expect(mqttStats().rejected).toBe(before + N);
    const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(GW_ID)}/properties/speed` });
    expect(res.statusCode).toBe(200);
  });
});
