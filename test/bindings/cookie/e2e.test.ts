// End to end: the road simulator over TCP, and mosquitto_pub over MQTT -> Cookie listener/topics -> pipeline -> cookie-uplink
// mapfile -> SPARQL (values, QUDT units, device times), live values on the sensor, device and gateway shadows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRoad, startCookieRoad } from '../../../hub/simulators/cookie-road.ts';
import { TEST_ADMIN_TOKEN, type TestHub } from '../../helpers/hub.ts';
import { mosquittoPub } from '../mqtt/helpers.ts';
import { cookieHub, cookieListener, ids, live, observations, sparql, until } from './helpers.ts';

const UNIT = 'http://qudt.org/vocab/unit/';
const ROAD = { cars: 6, pedestrians: 2, seed: 3, meanGapS: 15 };

describe('two Cookie nodes on a road link, over TCP', () => {
  let hub: TestHub;
  const plan = planRoad(ROAD);
  const a = ids('road-a');
  const b = ids('road-b');

  beforeAll(async () => {
    hub = await cookieHub(['road-a', 'road-b']);
    const road = await startCookieRoad({ ...ROAD, transport: 'tcp', port: cookieListener(hub).address!.port });
    await road.done;
    expect(road.stats).toMatchObject({ sent: plan.messages.length, failed: 0 });
    // every message is stored (gateway updates come on top)
    // every message arrived and each of its frames is settled (stored, or unmapped: gateway updates come on top)
    await until(() => cookieListener(hub).ingest.counters, (c) => c.messages >= plan.messages.length && c.stored + c.unmapped + c.duplicate + c.rejected >= c.frames);
    await road.stop();
  });
  afterAll(() => hub?.stop());

  it('every message became frames for the right shadows, nothing refused', () => {
    const c = cookieListener(hub).ingest.counters;
    expect(c.messages).toBe(plan.messages.length);
    expect(c.rejected).toBe(0);
    expect(c.notAcked).toBe(0);
    expect(cookieListener(hub).stats()).toMatchObject({ connectionsTotal: 2, oversized: 0, flood: 0, truncated: 0 });
  });

  it('BT detections: RSSI in dBm (qudt DeciB_M) at the detection time, MAC and class as text', async () => {
    const sent = plan.messages.filter((m) => m.message.device === 'road-a' && m.message.type === 'bt-detection').map((m) => m.message.payload as { time: string; mac: string; rssi: number; diac: string });
    const rssi = await observations(hub, a.bt, 'btRssi');
    expect(rssi).toHaveLength(sent.length);
    const want = sent.map((d) => ({ value: d.rssi, unit: `${UNIT}DeciB_M`, time: d.time })).sort((x, y) => x.time.localeCompare(y.time) || x.value - y.value);
    expect(rssi.map((r) => ({ ...r, value: Number(r.value) }))).toEqual(want);
    const macs = await observations(hub, a.bt, 'btDetection');
    expect(new Set(macs.map((m) => m.value))).toEqual(new Set(sent.map((d) => d.mac)));
    expect(macs[0]!.unit).toBeUndefined();
  });

  it('radar counts (unitless) add up to the cars; velocities in km/h are the cars\' speeds', async () => {
    for (const [thing, atOf] of [[a.radar, 'atOriginMs'], [b.radar, 'atDestinationMs']] as const) {
      const counts = await observations(hub, thing, 'vehicleCount');
      expect(counts.every((c) => c.unit === `${UNIT}UNITLESS`)).toBe(true);
      expect(counts.reduce((s, c) => s + Number(c.value), 0)).toBe(plan.cars.length);
      // each count's time is the end of its period, and the cars of that period passed within it
      for (const c of counts.filter((x) => Number(x.value) > 0)) {
        const end = Date.parse(c.time);
        expect(plan.cars.filter((car) => car[atOf] < end && car[atOf] >= end - 60_000)).toHaveLength(Number(c.value));
      }
      const speeds = await sparql(hub, `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/>
        SELECT ?v ?unit WHERE { GRAPH ?g { ?o sosa:madeBySensor <${hub.config.baseUrl}/things/${encodeURIComponent(thing)}> ; sosa:observedProperty ?p ; sosa:hasResult ?r .
          ?r qudt:numericValue ?v ; qudt:unit ?unit . FILTER(STRENDS(STR(?p), "/properties/vehicleVelocity")) } }`);
      expect(speeds.map((s) => Number(s.v!.value)).sort()).toEqual(plan.cars.map((c) => c.speedKmh).sort());
      expect(new Set(speeds.map((s) => s.unit!.value))).toEqual(new Set([`${UNIT}KiloM-PER-HR`]));
    }
  });

  it('the ground truth travel times are recoverable from the stored detections (what issue 14 will compute)', async () => {
    const first = async (thing: string): Promise<Map<string, number>> => {
      const m = new Map<string, number>();
      for (const o of await observations(hub, thing, 'btDetection')) if (!m.has(o.value)) m.set(o.value, Date.parse(o.time));
      return m;
    };
    const [atA, atB] = [await first(a.bt), await first(b.bt)];
    for (const car of plan.cars) {
      expect(atA.has(car.mac) && atB.has(car.mac), car.mac).toBe(true);
      // detections lie within ±1.7 s of the pass, so a travel time from first detections is within 3.5 s of the truth
      expect(Math.abs((atB.get(car.mac)! - atA.get(car.mac)!) / 1000 - car.travelTimeS)).toBeLessThan(3.5);
    }
  });

  it('NGSI-LD: the BT scanner entity has btRssi properties observed at the detection times', async () => {
    const rows = await sparql(hub, `PREFIX ngsi: <https://uri.etsi.org/ngsi-ld/>
      SELECT (COUNT(?p) AS ?n) WHERE { GRAPH ?g { <urn:ngsi-ld:Device:${encodeURIComponent(a.bt)}> <https://uri.etsi.org/ngsi-ld/default-context/btRssi> ?p . ?p a ngsi:Property ; ngsi:hasValue ?v ; ngsi:observedAt ?t } }`);
    expect(Number(rows[0]!.n!.value)).toBe(plan.messages.filter((m) => m.message.device === 'road-a' && m.message.type === 'bt-detection').length);
  });

  it('live values on the sensor, device and gateway Things', async () => {
    const lastBt = plan.messages.filter((m) => m.message.device === 'road-b' && m.message.type === 'bt-detection').at(-1)!.message.payload as { rssi: number; mac: string; diac: string };
    expect(await live(hub, b.bt, 'rssi')).toBe(lastBt.rssi);
    expect(await live(hub, b.bt, 'lastDetection')).toMatchObject({ mac: lastBt.mac, rssi: lastBt.rssi });
    expect(await live(hub, b.bt, 'detections')).toBe(plan.messages.filter((m) => m.message.device === 'road-b' && m.message.type === 'bt-detection').length);
    const lastRadar = plan.messages.filter((m) => m.message.device === 'road-a' && m.message.type === 'radar-count').at(-1)!.message.payload as Record<string, unknown>;
    expect(await live(hub, a.radar, 'count')).toBe(lastRadar.count);
    const status = plan.messages.find((m) => m.message.device === 'road-a' && m.message.type === 'device-status')!.message.payload as Record<string, unknown>;
    expect(await live(hub, a.node, 'battery')).toBe(status.battery);
    expect(await live(hub, a.node, 'sensors')).toEqual([1, 2, 3]);
    expect(await live(hub, a.gateway, 'gatewayMap')).toEqual({ uart0: ['road-a'] });
    // the gateway's Thing is updated at most once a second, and once more after the last message
    const heard = plan.messages.filter((m) => m.message.device === 'road-a').length;
    const devices = (await until(() => live(hub, a.gateway, 'devices'), (d) => Array.isArray(d) && d[0]?.messages === heard, 5000)) as Array<Record<string, unknown>>;
    expect(devices).toEqual([expect.objectContaining({ device: 'road-a', interface: 'uart0', messages: heard })]);
    expect(await live(hub, a.gateway, 'devicesHeard')).toBe(1);
  });
});

describe('mosquitto_pub on cookie/{gatewayId}/up (serial) and /json', () => {
  let hub: TestHub;
  const n = ids('pole-7');
  beforeAll(async () => {
    hub = await cookieHub(['pole-7']);
  });
  afterAll(() => hub?.stop());
  const pub = (topic: string, message: string) => mosquittoPub(hub.config.mqttPort, topic, message, ['-u', 'tester', '-P', TEST_ADMIN_TOKEN]);

  it('serial, JSON and composite messages are stored with their values, units and times', async () => {
    await pub('cookie/gw-pole-7/up', 'gw-pole-7:1:gateway-map:data:0#{{ble0:{pole-7}}}');
    await pub('cookie/gw-pole-7/up', 'pole-7:2:bt-detection:data:1#2026-02-03T04\\:05\\:06.500Z:00\\:11\\:22\\:33\\:44\\:55:200408:-61\u0000');
    await pub('cookie/gw-pole-7/json', JSON.stringify({ device: 'pole-7', sensor: 3, type: 'radar-count', action: 'data', seq: 2, payload: { timestamp: 1770091560, count: 2, velocities: [48.5, -51] } }));
    await pub('cookie/gw-pole-7/up', 'pole-7:*:composite:data:3#{1:device-status:55:fw-9}:{2:bt-detection:1770091570:66\\:77\\:88\\:99\\:AA\\:BB:5A020C:-90}');
    const rssi = await until(() => observations(hub, n.bt, 'btRssi'), (r) => r.length === 2);
    expect(rssi).toEqual([
      { value: '-61', unit: `${UNIT}DeciB_M`, time: '2026-02-03T04:05:06.500Z' },
      { value: '-90', unit: `${UNIT}DeciB_M`, time: new Date(1770091570_000).toISOString() },
    ]);
    const counts = await observations(hub, n.radar, 'vehicleCount');
    expect(counts).toEqual([{ value: '2', unit: `${UNIT}UNITLESS`, time: new Date(1770091560_000).toISOString() }]);
    expect((await observations(hub, n.node, 'battery')).map((o) => [o.value, o.unit])).toEqual([['55', `${UNIT}PERCENT`]]);
    expect(await live(hub, n.node, 'firmware')).toBe('fw-9');
    expect(await live(hub, n.bt, 'vehicle')).toBe(false); // 5A020C: a phone
    expect(await live(hub, n.radar, 'velocities')).toEqual([48.5, -51]);
    const mqttStats = hub.transports.find((t) => t.name === 'mqtt')!.stats();
    expect(mqttStats.received).toBe(4);
  });

  it('bad messages on the topics are refused and counted, the broker keeps going', async () => {
    const ingest = (await import('../../../hub/bindings/cookie/index.ts')).cookieIngestOf({ uplinks: hub.uplinks, log: { info() {}, warn() {}, error() {} } });
    const before = ingest.counters.rejected;
    await pub('cookie/gw-pole-7/up', 'pole-7:3:radar-count:data:9#1:lots');
    await pub('cookie/gw-pole-7/json', '{"device": "pole-7", "sensor": 3');
    await pub('cookie/gw-pole-7/up', 'ghost-1:2:bt-detection:data:1#1:AA:200408:-50');
    await pub('cookie/gw-pole-7/up', 'pole-8:1:gateway-map:data:1#{{x:{pole-7}}}');
    await until(() => ingest.counters.rejected, (r) => r >= before + 4);
    expect(ingest.counters.rejected - before).toBe(4);
    expect(ingest.stats()).toMatchObject({ 'rejected:cookie-wrong-type': 1, 'rejected:unknown-device': 1, 'rejected:cookie-gateway-mismatch': 1 });
    const res = await hub.app.inject({ url: '/health' });
    expect(res.statusCode).toBeLessThan(500);
  });
});
