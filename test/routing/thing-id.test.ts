// Messages that name their Thing by id: the device index's `thingId` key type, and `hub/things/{thingId}/messages`
// published with mosquitto_pub to the embedded broker, ending in SPARQL and in the live value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceIndex, THING_ID_KEY } from '../../hub/routing/device-index.ts';
import { freePort, mosquittoPub, waitFor } from '../bindings/mqtt/helpers.ts';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('DeviceIndex: key type thingId', () => {
  it('finds every registered Thing by its id, through the generic MQTT adapter unless the TD declares a thingId interface', () => {
    const index = new DeviceIndex();
    index.put('urn:plain', { id: 'urn:plain', title: 'no interfaces' });
    index.put('urn:lora', { id: 'urn:lora', 'hub:ioAdapterDefinitions': [{ uuid: 'urn:wot-hub:adapter:lorawan', deviceDefinitions: { keyType: 'devEui', deviceKey: '0004a30b001c0530', propertyNames: { t_1: 't' } } }] });
    index.put('urn:own', { id: 'urn:own', ioAdapterDefinitions: [{ uuid: 'urn:example:adapter:json', deviceDefinitions: { keyType: 'thingId', deviceKey: 'urn:own', payloadCodec: 'senml-json' } }] });
    expect(index.lookup(THING_ID_KEY, 'urn:plain')).toMatchObject({ thingId: 'urn:plain', adapterId: 'urn:wot-hub:adapter:mqtt', keyType: 'thingId', codecs: [] });
    expect(index.lookup(THING_ID_KEY, ' urn:lora ')).toMatchObject({ thingId: 'urn:lora', adapterId: 'urn:wot-hub:adapter:mqtt' });
    expect(index.lookup('devEui', '0004A30B001C0530')?.thingId).toBe('urn:lora');
    expect(index.lookup(THING_ID_KEY, 'urn:own')).toMatchObject({ adapterId: 'urn:example:adapter:json', codecs: ['senml-json'] });
    expect(index.lookup(THING_ID_KEY, 'urn:nobody')).toBeUndefined();
    // the device key index is unchanged by the id entries
    expect(index.counters()).toMatchObject({ things: 2, keys: 2 });
    index.remove('urn:plain');
    expect(index.lookup(THING_ID_KEY, 'urn:plain')).toBeUndefined();
    index.put('urn:lora', undefined);
    expect(index.lookup(THING_ID_KEY, 'urn:lora')).toBeUndefined();
  });
});

describe('hub/things/{thingId}/messages through the embedded broker (mosquitto_pub)', () => {
  let hub: TestHub;
  const SENSOR = 'urn:dev:lorawan:70B3D57ED00000D1';
  const PLAIN = 'urn:example:thing:plain-1';
  const auth = ['-u', 'sim', '-P', TEST_ADMIN_TOKEN];

  const temperatures = async (thingId: string) => {
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}`;
    const query = `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/>
      SELECT ?v ?t ?unit WHERE { GRAPH ?g { ?o a sosa:Observation ; sosa:madeBySensor <${thing}> ; sosa:observedProperty <${thing}/properties/temperature> ;
        sosa:hasSimpleResult ?v ; sosa:resultTime ?t ; sosa:hasResult ?r . ?r qudt:unit ?unit } } ORDER BY ?t`;
    const res = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent(query)}`, headers: { accept: 'application/sparql-results+json', authorization: hub.bearer } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results.bindings.map((b: Record<string, { value: string }>) => [Number(b.v!.value), new Date(b.t!.value).toISOString(), b.unit!.value.split('/').pop()]);
  };
  const live = async (thingId: string) => {
    const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(thingId)}/properties/temperature`, headers: { authorization: hub.bearer } });
    return res.statusCode === 200 ? res.json() : undefined;
  };
  const mqttStats = () => hub.transports.find((t) => t.name === 'mqtt')!.stats();

  beforeAll(async () => {
    hub = await startTestHub({ mqttPort: await freePort() }, { listen: true });
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-uplink', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8') });
    expect(put.statusCode, put.body).toBe(201);
    const sensor = await hub.app.inject({
      method: 'POST',
      url: '/thing-models/lorawan-sensor/instantiate?register=true',
      headers: { authorization: hub.bearer },
      payload: { id: SENSOR, placeholders: { TITLE: 'Sensor D1', DEV_EUI: '70B3D57ED00000D1', DEV_ADDR: '', FPORT: 1, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink', PAYLOAD_CODEC: 'network-server' } },
    });
    expect(sensor.statusCode, sensor.body).toBe(201);
    // A Thing with no device interface at all: only its id and its mapfile.
    const plain = await hub.app.inject({
      method: 'PUT',
      url: `/things/${encodeURIComponent(PLAIN)}`,
      headers: { authorization: hub.bearer, 'content-type': 'application/td+json' },
      payload: {
        '@context': 'https://www.w3.org/2022/wot/td/v1.1', id: PLAIN, title: 'Plain', 'hub:mapping': 'lorawan-uplink', securityDefinitions: { nosec_sc: { scheme: 'nosec' } }, security: 'nosec_sc',
        properties: { temperature: { type: 'number', readOnly: true, observable: true, forms: [{ href: `/wot/${encodeURIComponent(PLAIN)}/properties/temperature` }] } },
      },
    });
    expect(plain.statusCode, plain.body).toBeLessThan(300);
  });
  afterAll(() => hub?.stop());

  it('a message on the Thing id topic is stored (value, unit, device time) and becomes the live value; a redelivery is stored once', async () => {
    const msg = JSON.stringify({ seq: 3, time: '2026-03-02T08:00:00Z', temperature: 17.25 });
    await mosquittoPub(hub.config.mqttPort, `hub/things/${SENSOR}/messages`, msg, auth);
    await waitFor(() => mqttStats().stored === 1, 5000, 'stored');
    expect(await temperatures(SENSOR)).toEqual([[17.25, '2026-03-02T08:00:00.000Z', 'DEG_C']]);
    expect(await live(SENSOR)).toBe(17.25);
    await mosquittoPub(hub.config.mqttPort, `hub/things/${SENSOR}/messages`, msg, auth);
    await waitFor(() => mqttStats().duplicate === 1, 5000, 'duplicate');
    expect(await temperatures(SENSOR)).toHaveLength(1);
  });

  it('a Thing without device interfaces is reachable by id too', async () => {
    await mosquittoPub(hub.config.mqttPort, `hub/things/${PLAIN}/messages`, JSON.stringify({ seq: 1, time: '2026-03-02T09:00:00Z', temperature: -3.5 }), auth);
    await waitFor(() => mqttStats().stored === 2, 5000, 'stored');
    expect(await temperatures(PLAIN)).toEqual([[-3.5, '2026-03-02T09:00:00.000Z', 'DEG_C']]);
    expect(await live(PLAIN)).toBe(-3.5);
  });

  it('an id no Thing has is rejected as unknown-device and counted; a deleted Thing is no longer found', async () => {
    const before = mqttStats().rejected ?? 0;
    await mosquittoPub(hub.config.mqttPort, 'hub/things/urn:example:thing:nobody/messages', JSON.stringify({ seq: 1, temperature: 1 }), auth);
    await waitFor(() => mqttStats().rejected === before + 1, 5000, 'rejected');
    const del = await hub.app.inject({ method: 'DELETE', url: `/things/${encodeURIComponent(PLAIN)}`, headers: { authorization: hub.bearer } });
    expect(del.statusCode).toBeLessThan(300);
    await mosquittoPub(hub.config.mqttPort, `hub/things/${PLAIN}/messages`, JSON.stringify({ seq: 2, temperature: 1 }), auth);
    await waitFor(() => mqttStats().rejected === before + 2, 5000, 'rejected after delete');
    const counters = await hub.app.inject({ url: `/wot/${encodeURIComponent('urn:wot-hub:adapter:mqtt')}/properties/rejectedByCode`, headers: { authorization: hub.bearer } });
    if (counters.statusCode === 200) expect(counters.json()['unknown-device']).toBeGreaterThanOrEqual(2);
  });
});
