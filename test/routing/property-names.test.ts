// deviceDefinitions.propertyNames: Cayenne LPP keys (<type>_<channel>) become the lorawan-sensor model's properties, as
// live values and as the observed property of the SPARQL observations (TTS webhook -> pipeline -> lorawan-cayenne).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPropertyNames, propertyNamesOf } from '../../hub/routing/device-index.ts';
import { ttsUplink, type SimulatedDevice } from '../../hub/simulators/formats.ts';
import { cayenneLpp } from '../../hub/simulators/sensor.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('propertyNamesOf / applyPropertyNames', () => {
  it('renames the mapped keys, keeps the others, leaves the input alone', () => {
    const dd = { propertyNames: { temperature_1: 'temperature', analog_in_3: 'battery' } };
    const decoded = { temperature_1: 21.5, analog_in_3: 3.3, luminosity_4: 120 };
    expect(applyPropertyNames(decoded, dd)).toEqual({ temperature: 21.5, battery: 3.3, luminosity_4: 120 });
    expect(decoded).toEqual({ temperature_1: 21.5, analog_in_3: 3.3, luminosity_4: 120 });
  });

  it('returns the same object when the TD renames nothing or the message has none of the keys', () => {
    const decoded = { temperature_1: 1 };
    expect(applyPropertyNames(decoded, {})).toBe(decoded);
    expect(applyPropertyNames(decoded, { propertyNames: { humidity_2: 'humidity' } })).toBe(decoded);
  });

  it('two channels swapped by the TD swap values', () => {
    const dd = { propertyNames: { a: 'b', b: 'a' } };
    expect(applyPropertyNames({ a: 1, b: 2 }, dd)).toEqual({ a: 2, b: 1 });
  });

  it('ignores hostile or malformed members (prototype keys, non-strings, bad names, a non-object)', () => {
    const hostile = JSON.parse('{"propertyNames": {"__proto__": "x", "t_1": "__proto__", "c": "constructor", "n": 5, "bad name": "y", "ok_1": "ok", "same": "same"}}');
    expect(propertyNamesOf(hostile)).toEqual([['ok_1', 'ok']]);
    const out = applyPropertyNames(JSON.parse('{"__proto__": {"polluted": true}, "ok_1": 1}'), hostile);
    expect(out).toEqual(JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(propertyNamesOf({ propertyNames: ['temperature'] })).toEqual([]);
    expect(propertyNamesOf({ propertyNames: 'temperature' })).toEqual([]);
    expect(propertyNamesOf({ propertyNames: { [`k${'x'.repeat(200)}`]: 'y' } })).toEqual([]);
  });
});

describe('a lorawan-sensor device shows its Cayenne channels under the model property names', () => {
  let hub: TestHub;
  const dev: SimulatedDevice = { devEui: '70B3D57ED00000C1', devAddr: '260B00C1', name: 'names-1' };
  const nsDev: SimulatedDevice = { devEui: '70B3D57ED00000C2', devAddr: '260B00C2', name: 'names-2' };
  const id = (d: SimulatedDevice) => `urn:dev:eui:${d.devEui.toLowerCase()}`;
  const at = Date.parse('2026-03-01T10:00:00.000Z');

  const sparql = async (query: string) => {
    const res = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent(query)}`, headers: { accept: 'application/sparql-results+json', authorization: hub.bearer } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results.bindings as Array<Record<string, { value: string }>>;
  };
  /** property -> [value, unit] of the Thing's observations, polled until `count` are visible (the store applies the log a moment later). */
  const observations = async (thingId: string, count: number) => {
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}`;
    const query = `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/>
      SELECT ?p ?v ?unit WHERE { GRAPH ?g { ?o a sosa:Observation ; sosa:madeBySensor <${thing}> ; sosa:observedProperty ?p ;
        sosa:hasSimpleResult ?v ; sosa:hasResult ?r . ?r qudt:unit ?unit } }`;
    for (const end = Date.now() + 5000; ;) {
      const rows = await sparql(query);
      if (rows.length >= count || Date.now() > end) {
        return Object.fromEntries(rows.map((r) => [r.p!.value.slice(`${thing}/properties/`.length), [Number(r.v!.value), r.unit!.value.replace('http://qudt.org/vocab/unit/', '')]]));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const live = async (thingId: string, property: string) => {
    const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(thingId)}/properties/${property}`, headers: { authorization: hub.bearer } });
    return res.statusCode === 200 ? res.json() : `HTTP ${res.statusCode}`;
  };

  const SIGFOX = 'urn:dev:sigfox:c0de00c3';
  beforeAll(async () => {
    hub = await startTestHub({});
    const sf = await hub.app.inject({ method: 'PUT', url: '/mappings/sigfox-callback', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/sigfox-callback.ttl'), 'utf8') });
    expect(sf.statusCode, sf.body).toBe(201);
    const reg = await hub.app.inject({
      method: 'POST', url: '/thing-models/sigfox-device/instantiate?register=true', headers: { authorization: hub.bearer },
      payload: { id: SIGFOX, placeholders: { TITLE: 'Sigfox C3', SIGFOX_ID: 'C0DE00C3', ADAPTER_ID: 'urn:wot-hub:adapter:sigfox', MAPPING: 'sigfox-callback', PAYLOAD_CODEC: 'cayenne-lpp' } },
    });
    expect(reg.statusCode, reg.body).toBe(201);
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-cayenne', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/lorawan-cayenne.ttl'), 'utf8') });
    expect(put.statusCode, put.body).toBe(201);
    for (const [d, codec] of [[dev, 'cayenne-lpp'], [nsDev, 'network-server']] as const) {
      const res = await hub.app.inject({
        method: 'POST',
        url: '/thing-models/lorawan-sensor/instantiate?register=true',
        headers: { authorization: hub.bearer },
        payload: { id: id(d), include: ['/properties/humidity'], placeholders: { TITLE: d.name, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', DEV_EUI: d.devEui, DEV_ADDR: d.devAddr, FPORT: 2, MAPPING: 'lorawan-cayenne', PAYLOAD_CODEC: codec } },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(() => hub?.stop());

  it('the TM gives the Cayenne defaults (channel 1 temperature, 2 humidity, 3 battery)', async () => {
    const res = await hub.app.inject({ url: `/things/${encodeURIComponent(id(dev))}`, headers: { authorization: hub.bearer } });
    const td = res.json();
    const dd = (td['hub:ioAdapterDefinitions'] ?? td.ioAdapterDefinitions)[0].deviceDefinitions;
    expect(dd.propertyNames).toEqual({ temperature_1: 'temperature', relative_humidity_2: 'humidity', analog_in_3: 'battery' });
  });

  it('cayenne-lpp codec: live values and observations under temperature / humidity / battery with their units', async () => {
    const body = ttsUplink(dev, { fCnt: 5, fPort: 2, payload: cayenneLpp({ temperature: 21.7, humidity: 48.5, battery: 3.42 }), at, gateways: [{ eui: '00800000A00000C1', rssi: -71, snr: 8.25 }] }, 'names');
    const res = await hub.app.inject({ method: 'POST', url: '/bindings/tts/uplink', headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'stored', thingId: id(dev) });
    expect(await live(id(dev), 'temperature')).toBe(21.7);
    expect(await live(id(dev), 'humidity')).toBe(48.5);
    expect(await live(id(dev), 'battery')).toBe(3.42);
    const obs = await observations(id(dev), 6);
    expect(obs).toMatchObject({ temperature: [21.7, 'DEG_C'], humidity: [48.5, 'PERCENT'], battery: [3.42, 'V'], rssi: [-71, 'DeciB_M'], snr: [8.25, 'DeciB'], frameCounter: [5, 'UNITLESS'] });
    expect(Object.keys(obs).filter((p) => /_\d$/.test(p))).toEqual([]);
  });

  it("network-server codec: TTS's own Cayenne formatter keys are renamed the same way; an unmapped channel keeps its key", async () => {
    const body = ttsUplink(nsDev, { fCnt: 9, fPort: 2, payload: new Uint8Array([0]), at, gateways: [{ eui: '00800000A00000C1', rssi: -90, snr: 1 }] }, 'names') as { uplink_message: Record<string, unknown> };
    body.uplink_message.decoded_payload = { temperature_1: 19.5, analog_in_3: 3.1, luminosity_4: 250 };
    const res = await hub.app.inject({ method: 'POST', url: '/bindings/tts/uplink', headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    expect(await live(id(nsDev), 'temperature')).toBe(19.5);
    const obs = await observations(id(nsDev), 6);
    expect(obs).toMatchObject({ temperature: [19.5, 'DEG_C'], battery: [3.1, 'V'], luminosity_4: [250, 'LUX'] });
    expect(obs.temperature_1).toBeUndefined();
  });

  it('a sigfox-device with the cayenne-lpp codec: channel 1 is its temperature (live and in SPARQL)', async () => {
    const data = Buffer.from(cayenneLpp({ temperature: 12.3, humidity: 60, battery: 3 })).toString('hex').slice(0, 24);
    const res = await hub.app.inject({ method: 'POST', url: '/bindings/sigfox/callback', headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: { device: 'C0DE00C3', time: at / 1000, data, seqNumber: 7, station: '37FF', rssi: -118, snr: 11 } });
    expect(res.statusCode, res.body).toBe(200);
    expect(await live(SIGFOX, 'temperature')).toBe(12.3);
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(SIGFOX)}`;
    const q = `PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT ?v WHERE { GRAPH ?g { ?o sosa:madeBySensor <${thing}> ; sosa:observedProperty <${thing}/properties/temperature> ; sosa:hasSimpleResult ?v } }`;
    let rows: Array<Record<string, { value: string }>> = [];
    for (const end = Date.now() + 5000; rows.length === 0 && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) rows = await sparql(q);
    expect(rows.map((r) => Number(r.v!.value))).toEqual([12.3]);
  });
});
