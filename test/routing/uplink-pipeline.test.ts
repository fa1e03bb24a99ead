// The uplink pipeline on a real hub: frame -> Thing by device key -> codecs -> mapfile -> durable store -> SPARQL + live values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceFrame, UplinkOrigin } from '../../hub/bindings/types.ts';
import { findPayloadCodec, registerPayloadCodec } from '../../hub/bindings/codecs.ts';
import { cayenneLppCodec } from '../../hub/bindings/cayenne/lpp.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');
const LORA = 'urn:wot-hub:adapter:lorawan';
const SENSOR = 'urn:dev:pipeline:sensor-1';
const LPP = 'urn:dev:pipeline:lpp-1';
const DEV_EUI = '70B3D57ED0000001';
const LPP_EUI = '70B3D57ED00000AA';
const SOSA = 'http://www.w3.org/ns/sosa/';

// The real Cayenne LPP codec, registered here when its module's registration line is not in hub/bindings/codecs.ts yet.
if (!findPayloadCodec('cayenne-lpp')) registerPayloadCodec(cayenneLppCodec);

let hub: TestHub;
const origin = (over: Partial<UplinkOrigin> = {}): UplinkOrigin => ({ binding: 'tts', transport: 'mqtt', receivedAt: Date.parse('2026-03-01T10:00:00.500Z'), topic: 'v3/app@ttn/devices/d1/up', ...over });
const frame = (over: Partial<DeviceFrame> = {}): DeviceFrame => ({
  protocol: 'lorawan',
  keyType: 'devEui',
  deviceKey: DEV_EUI,
  sequence: 10,
  messageId: '10-1772359200400',
  observedAt: '2026-03-01T10:00:00.400Z',
  fPort: 1,
  decoded: { temperature: 21.5, humidity: 40 },
  radio: [{ gatewayId: 'eui-b827ebfffe000001', rssi: -71, snr: 9.25 }, { gatewayId: 'eui-b827ebfffe000002', rssi: -99, snr: -2 }],
  ...over,
});

async function register(id: string, placeholders: Record<string, unknown>, model = 'lorawan-sensor'): Promise<void> {
  const res = await hub.app.inject({ method: 'POST', url: `/thing-models/${model}/instantiate?register=true`, headers: { authorization: hub.bearer }, payload: { id, placeholders } });
  expect(res.statusCode, res.body).toBe(201);
}

async function select(query: string): Promise<Array<Record<string, { value: string; datatype?: string }>>> {
  const res = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent(query)}`, headers: { accept: 'application/sparql-results+json', authorization: hub.bearer } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results.bindings;
}

const observations = async (thingId: string, prop: string): Promise<number> => {
  const rows = await select(`SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?o <${SOSA}madeBySensor> <${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}> ; <${SOSA}observedProperty> <${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}/properties/${prop}> } }`);
  return Number(rows[0]!.n!.value);
};

const property = async (thingId: string, name: string) => {
  const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(thingId)}/properties/${name}` });
  return { status: res.statusCode, value: res.statusCode === 200 ? res.json() : undefined };
};

async function until<T>(f: () => Promise<T | undefined>, what: string, ms = 4000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  hub = await startTestHub();
  for (const name of ['lorawan-uplink', 'lorawan-cayenne']) {
    const put = await hub.app.inject({ method: 'PUT', url: `/mappings/${name}`, headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, `mappings/${name}.ttl`), 'utf8') });
    expect(put.statusCode).toBe(201);
  }
  const common = { FPORT: 1, ADAPTER_ID: LORA, DEV_ADDR: '' };
  await register(SENSOR, { ...common, TITLE: 'Field sensor', DEV_EUI, MAPPING: 'lorawan-uplink', PAYLOAD_CODEC: 'network-server' });
  await register(LPP, { ...common, TITLE: 'LPP sensor', DEV_EUI: LPP_EUI, MAPPING: 'lorawan-cayenne', PAYLOAD_CODEC: 'cayenne-lpp' });
});
afterAll(() => hub?.stop());

describe('end to end: a lorawan-sensor Thing and a decoded frame', () => {
  it('stores value, unit, time and device, readable by SPARQL and as the live property', async () => {
    const result = await hub.uplinks.accept(frame(), origin());
    expect(result).toMatchObject({ status: 'stored', thingId: SENSOR });
    expect(result.status === 'stored' && result.quads).toBeGreaterThan(20);
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(SENSOR)}`;
    const rows = await select(`SELECT ?v ?unit ?t WHERE { GRAPH ?g {
      ?o <${SOSA}madeBySensor> <${thing}> ; <${SOSA}observedProperty> <${thing}/properties/temperature> ;
         <${SOSA}hasSimpleResult> ?v ; <${SOSA}resultTime> ?t ; <${SOSA}hasResult> ?r .
      ?r <http://qudt.org/schema/qudt/unit> ?unit } }`);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.v!.value)).toBe(21.5);
    expect(rows[0]!.unit!.value).toBe('http://qudt.org/vocab/unit/DEG_C');
    // The device's time (observedAt), not the hub's arrival time.
    expect(rows[0]!.t!.datatype).toBe('http://www.w3.org/2001/XMLSchema#dateTime');
    expect(Date.parse(rows[0]!.t!.value)).toBe(Date.parse('2026-03-01T10:00:00.400Z'));

    const links = await select(`SELECT ?gw ?rssi WHERE { GRAPH ?g { ?o <${SOSA}hasFeatureOfInterest> ?link ; <${SOSA}observedProperty> <${thing}/properties/rssi> ; <${SOSA}hasSimpleResult> ?rssi . ?link <https://w3id.org/wot-hub#gatewayId> ?gw } } ORDER BY ?gw`);
    expect(links.map((r) => [r.gw!.value, Number(r.rssi!.value)])).toEqual([['eui-b827ebfffe000001', -71], ['eui-b827ebfffe000002', -99]]);

    expect(await property(SENSOR, 'temperature')).toEqual({ status: 200, value: 21.5 });
    expect(await property(SENSOR, 'frameCounter')).toEqual({ status: 200, value: 10 });
    expect(await property(SENSOR, 'lastInterface')).toEqual({ status: 200, value: LORA });
    expect(await property(SENSOR, 'lastSeen')).toEqual({ status: 200, value: '2026-03-01T10:00:00.500Z' });
    expect(hub.routing.pipeline.lastActive(SENSOR)).toMatchObject({ interface: LORA, at: '2026-03-01T10:00:00.500Z' });
  });

  it('runs the TD payload codec on the bytes (cayenne-lpp) and maps with the Thing mapfile', async () => {
    // Channel 3 temperature 27.2 °C, channel 5 humidity 41.5 % (Cayenne LPP: [ch, type, value...]).
    const bytes = Uint8Array.from([0x03, 0x67, 0x01, 0x10, 0x05, 0x68, 0x53]);
    const r = await hub.uplinks.accept(frame({ deviceKey: LPP_EUI.toLowerCase(), messageId: 'lpp-1', bytes, decoded: { ignored: 1 } }), origin());
    expect(r).toMatchObject({ status: 'stored', thingId: LPP });
    expect(await observations(LPP, 'temperature_3')).toBe(1);
    // Mapped values are live values under the observed property's name (the TD declares only some of them).
    expect(hub.liveState.property(LPP, 'relative_humidity_5')).toBe(41.5);
  });
});

describe('observation identity', () => {
  it('writes a device time that is not xsd:dateTime in ISO form, and the arrival time when there is none', async () => {
    const { asXsdDateTime } = await import('../../hub/routing/uplink-pipeline.ts');
    expect(asXsdDateTime('2020-02-12T15:15:46.014773143Z')).toBe('2020-02-12T15:15:46.014773143Z');
    expect(asXsdDateTime('2026-03-01 10:00:00Z')).toBe('2026-03-01T10:00:00.000Z');
    expect(asXsdDateTime('soon')).toBeUndefined();
    const r = await hub.uplinks.accept(frame({ messageId: 'time-1', observedAt: 'Sun, 01 Mar 2026 10:00:00 GMT' }), origin());
    expect(r.status).toBe('stored');
    expect(hub.liveState.latest(SENSOR)?.meta.observedAt).toBe('2026-03-01T10:00:00.000Z');
    await hub.uplinks.accept(frame({ messageId: 'time-2', observedAt: 'never' }), origin());
    expect(hub.liveState.latest(SENSOR)?.meta.observedAt).toBe('2026-03-01T10:00:00.500Z');
  });

  it('keeps two messages received in one millisecond as two observations', async () => {
    const before = await observations(SENSOR, 'humidity');
    const o = origin({ receivedAt: Date.parse('2026-03-01T11:00:00.000Z') });
    const [a, b] = await Promise.all([
      hub.uplinks.accept(frame({ sequence: 11, messageId: '11-x', observedAt: undefined }), o),
      hub.uplinks.accept(frame({ sequence: 12, messageId: '12-x', observedAt: undefined }), o),
    ]);
    expect([a.status, b.status]).toEqual(['stored', 'stored']);
    expect(await observations(SENSOR, 'humidity')).toBe(before + 2);
  });

  it('stores a redelivered message once and acknowledges the copy as a duplicate', async () => {
    const f = frame({ sequence: 13, messageId: '13-redelivered' });
    expect((await hub.uplinks.accept(f, origin())).status).toBe('stored');
    const count = await observations(SENSOR, 'humidity');
    const quadsBefore = hub.routing.router.counters.quads;
    // Later (another arrival time, another transport) and at once twice: still the same message.
    const again = await Promise.all([hub.uplinks.accept(f, origin({ receivedAt: Date.now() })), hub.uplinks.accept(f, origin({ binding: 'chirpstack' }))]);
    expect(again.map((r) => r.status)).toEqual(['duplicate', 'duplicate']);
    expect(hub.routing.router.counters.quads).toBe(quadsBefore);
    expect(await observations(SENSOR, 'humidity')).toBe(count);
    expect(hub.routing.adapters.get('lorawan')!.counters().duplicate).toBeGreaterThanOrEqual(2);
  });
});

describe('rejections', () => {
  it('rejects an unknown device (404-class, unknown-device), counted on the adapter Thing', async () => {
    const r = await hub.uplinks.accept(frame({ deviceKey: '0102030405060708' }), origin({ binding: 'sigfox', transport: 'http' }));
    expect(r).toMatchObject({ status: 'rejected', error: { status: 404, code: 'unknown-device' } });
    expect(hub.routing.rejections.ofBinding('sigfox')).toEqual({ 'unknown-device': 1 });
    const id = encodeURIComponent('urn:wot-hub:adapter:sigfox');
    const rejected = await until(async () => {
      const res = await hub.app.inject({ url: `/wot/${id}/properties/rejected` });
      return res.statusCode === 200 ? res.json() : undefined;
    }, 'the sigfox adapter Thing');
    expect(rejected).toBe(1);
    expect((await hub.app.inject({ url: `/wot/${id}/properties/rejectedByCode` })).json()).toEqual({ 'unknown-device': 1 });
    expect(await until(() => hub.directory.get('urn:wot-hub:adapter:sigfox'), 'the adapter TD in the directory')).toMatchObject({ 'hub:adapterKind': 'sigfox' });
  });

  it('counts a decode error on the adapter Thing; last seen still moves; the transport gets a 4xx', async () => {
    const before = hub.routing.adapters.get('lorawan')!.counters();
    const at = Date.parse('2026-03-01T12:00:00.000Z');
    const r = await hub.uplinks.accept(frame({ deviceKey: LPP_EUI, messageId: 'lpp-bad', bytes: Uint8Array.from([0x03, 0x67, 0x01]) }), origin({ receivedAt: at }));
    expect(r.status).toBe('rejected');
    if (r.status !== 'rejected') return;
    expect(r.error.status).toBe(422);
    expect(r.error.name).toBe('DecodeError');
    const code = r.error.code;
    const after = hub.routing.adapters.get('lorawan')!.counters();
    expect(after.rejected).toBe(before.rejected + 1);
    expect(after.rejectedByCode[code]).toBe((before.rejectedByCode[code] ?? 0) + 1);
    expect(after.decoded).toBe(before.decoded);
    expect((await hub.app.inject({ url: `/wot/${encodeURIComponent(LORA)}/properties/rejected` })).json()).toBe(after.rejected);
    expect(hub.routing.pipeline.lastActive(LPP)?.at).toBe('2026-03-01T12:00:00.000Z');
  });

  it('refuses malformed frames and a codec the hub does not have, and never throws', async () => {
    const bad: unknown[] = [null, 7, {}, { keyType: 'devEui', deviceKey: DEV_EUI }, { ...frame(), messageId: 'has space' }, { ...frame(), messageId: 'x'.repeat(201) }];
    for (const f of bad) {
      const r = await hub.uplinks.accept(f as DeviceFrame, origin());
      expect(r.status, JSON.stringify(f)).toBe('rejected');
    }
    hub.routing.index.put('urn:dev:odd-codec', { 'hub:ioAdapterDefinitions': [{ uuid: LORA, deviceDefinitions: { keyType: 'devEui', deviceKey: 'EEEE', payloadCodec: 'no-such-codec' } }] });
    const r = await hub.uplinks.accept(frame({ deviceKey: 'EEEE', bytes: Uint8Array.of(1) }), origin());
    expect(r).toMatchObject({ status: 'rejected', error: { code: 'unsupported-protocol' } });
    hub.uplinks.reject(new (await import('../../hub/errors.ts')).DecodeError('bad MIC', { field: 'MIC' }, 'bad-mic'), origin({ binding: 'semtech-udp', transport: 'udp' }));
    expect(hub.routing.rejections.ofBinding('semtech-udp')).toEqual({ 'bad-mic': 1 });
  });

  it('answers 5xx when the store fails, and takes the redelivery afterwards', async () => {
    const store = hub.store;
    const insert = store.insert.bind(store);
    const { OverloadedError } = await import('../../hub/errors.ts');
    store.insert = async () => {
      throw new OverloadedError('full');
    };
    const f = frame({ sequence: 20, messageId: '20-overload' });
    try {
      const r = await hub.uplinks.accept(f, origin());
      expect(r).toMatchObject({ status: 'rejected', error: { status: 503, code: 'overloaded' } });
    } finally {
      store.insert = insert;
    }
    expect((await hub.uplinks.accept(f, origin())).status).toBe('stored');
  });

  it('refuses uplinks of a paused adapter with a 503 (not acknowledged), and takes them once resumed', async () => {
    const path = `/wot/${encodeURIComponent(LORA)}/actions`;
    expect((await hub.app.inject({ method: 'POST', url: `${path}/pause`, headers: { authorization: hub.bearer } })).statusCode).toBe(200);
    const f = frame({ sequence: 30, messageId: '30-paused' });
    expect(await hub.uplinks.accept(f, origin())).toMatchObject({ status: 'rejected', error: { status: 503, code: 'adapter-paused' } });
    await hub.app.inject({ method: 'POST', url: `${path}/resume`, headers: { authorization: hub.bearer } });
    expect((await hub.uplinks.accept(f, origin())).status).toBe('stored');
  });
});

describe('a multi-radio Thing (LoRaWAN + Sigfox)', () => {
  it('routes both interfaces to one Thing and tracks the last active one', async () => {
    const id = 'urn:dev:pipeline:multi-1';
    await register(id, { TITLE: 'Multi', DEV_EUI: '70B3D57ED00000BB', SIGFOX_ID: '1A2B3C', FPORT: 2, MAPPING: 'lorawan-uplink', PAYLOAD_CODEC: 'network-server' }, 'multi-radio-device');
    const lora = await hub.uplinks.accept(frame({ deviceKey: '70B3D57ED00000BB', messageId: 'm-1' }), origin({ receivedAt: Date.parse('2026-03-01T13:00:00Z') }));
    expect(lora).toMatchObject({ status: 'stored', thingId: id });
    const sigfox = await hub.uplinks.accept(
      { protocol: 'sigfox', keyType: 'sigfoxId', deviceKey: '1a2b3c', sequence: 5, messageId: '5-1772370060', observedAt: '2026-03-01T13:01:00Z', decoded: { temperature: 19 }, radio: [{ gatewayId: '93CF', rssi: -120, snr: 8 }] },
      origin({ binding: 'sigfox', transport: 'http', receivedAt: Date.parse('2026-03-01T13:01:01Z') }),
    );
    expect(sigfox).toMatchObject({ status: 'stored', thingId: id });
    expect(hub.routing.pipeline.lastActive(id)).toEqual({
      interface: 'urn:wot-hub:adapter:sigfox',
      at: '2026-03-01T13:01:01.000Z',
      byInterface: { [LORA]: '2026-03-01T13:00:00.000Z', 'urn:wot-hub:adapter:sigfox': '2026-03-01T13:01:01.000Z' },
    });
    expect(await property(id, 'temperature')).toEqual({ status: 200, value: 19 });
    expect(await observations(id, 'temperature')).toBe(2);
  });
});
