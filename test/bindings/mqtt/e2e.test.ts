// End to end through the whole hub: MQTT (embedded broker, and mosquitto as an external broker) -> codec -> pipeline
// -> mapfile -> durable store, ending in a SPARQL result with the right value, unit and time, and the live value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../../helpers/hub.ts';
import { freePort, Mosquitto, mosquittoPub, waitFor } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../../..');
const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{ id: string; input: unknown }>;
const TTS = vectors.find((v) => v.id === 'tts-uplink-dataformats')!.input as { end_device_ids: { dev_eui: string } };
const EUI = TTS.end_device_ids.dev_eui; // 0004A30B001C0530
const ID = `urn:dev:lorawan:${EUI}`;
const EUI2 = '0004A30B001C0531';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** A listening hub with the lorawan-uplink mapfile and two lorawan-sensor Things (EUI, EUI2). */
async function hubWithSensors(overrides: Record<string, unknown>): Promise<TestHub> {
  const hub = await startTestHub(overrides, { listen: true });
  cleanups.push(() => hub.stop());
  const auth = { authorization: hub.bearer };
  const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-uplink', headers: { ...auth, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8') });
  expect(put.statusCode).toBe(201);
  for (const eui of [EUI, EUI2]) {
    const td = await hub.app.inject({
      method: 'POST',
      url: '/thing-models/lorawan-sensor/instantiate?register=true',
      headers: auth,
      payload: { id: `urn:dev:lorawan:${eui}`, placeholders: { TITLE: `Sensor ${eui}`, DEV_EUI: eui, FPORT: 1, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink', DEV_ADDR: '', PAYLOAD_CODEC: 'network-server' } },
    });
    expect(td.statusCode, td.body).toBe(201);
  }
  return hub;
}

/** Temperature observations of the Thing of `eui`: value, unit and result time. */
async function temperatures(hub: TestHub, eui = EUI): Promise<Array<{ value: number; unit: string; time: string }>> {
  const query = `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/>
    SELECT ?v ?unit ?t WHERE { GRAPH ?g { ?o a sosa:Observation ; sosa:observedProperty ?p ; sosa:hasSimpleResult ?v ; sosa:resultTime ?t ; sosa:hasResult ?r . ?r qudt:unit ?unit .
      FILTER(STRENDS(STR(?p), "/properties/temperature") && CONTAINS(STR(?o), "${eui}")) } } ORDER BY ?t`;
  const res = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results.bindings.map((b: Record<string, { value: string }>) => ({ value: Number(b.v!.value), unit: b.unit!.value, time: b.t!.value }));
}

const mqttT0 = () => hubRef!.transports.find((t) => t.name === 'mqtt')!;
let hubRef: TestHub | undefined;

async function liveTemperature(hub: TestHub): Promise<unknown> {
  const res = await hub.app.inject({ method: 'GET', url: `/wot/${encodeURIComponent(ID)}/properties/temperature` });
  return res.statusCode === 200 ? res.json() : undefined;
}

describe('MQTT end to end (one hub with the embedded broker and a subscriber on mosquitto)', () => {
  let hub: TestHub;
  let m: Mosquitto;
  beforeAll(async () => {
    m = new Mosquitto(await freePort());
    await m.start();
    cleanups.push(() => m.stop());
    hub = hubRef = await hubWithSensors({ mqttPort: await freePort(), mqttUrl: `mqtt://127.0.0.1:${m.port}` });
    await waitFor(() => mqttT0().stats()['subscriber.connected'] === 1, 5000, 'subscriber connected');
  });

  it('embedded broker: a generic JSON uplink and a TTS uplink end in SPARQL and in the live value', async () => {
    const port = hub.config.mqttPort;
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'sim', password: TEST_ADMIN_TOKEN, protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => c.endAsync(true));
    await c.publishAsync('v3/app1@tenant1/devices/dev1/up', JSON.stringify(TTS), { qos: 1 });
    // the PUBACK came after the store: the observation is queryable now
    // value 1 (decoded_payload.temperature), degrees Celsius, at the network server's time of the uplink
    expect(await temperatures(hub)).toEqual([{ value: 1, unit: 'http://qudt.org/vocab/unit/DEG_C', time: expect.stringMatching(/^2020-02-12T15:15:4/) }]);
    await c.publishAsync(`hub/devices/devEui/${EUI}/up`, JSON.stringify({ seq: 9, time: '2026-03-01T10:00:00Z', temperature: 22.5 }), { qos: 1 });
    const all = await temperatures(hub);
    expect(all.map((t) => t.value)).toEqual([1, 22.5]);
    expect(all[1]!.time).toMatch(/^2026-03-01T10:00:00/);
    expect(await liveTemperature(hub)).toBe(22.5);
    // the same message again is a duplicate: acknowledged, stored once
    await c.publishAsync(`hub/devices/devEui/${EUI}/up`, JSON.stringify({ seq: 9, time: '2026-03-01T10:00:00Z', temperature: 22.5 }), { qos: 1 });
    expect((await temperatures(hub)).length).toBe(2);
    // an unknown device is rejected (acknowledged, counted), the broker stays up
    await c.publishAsync('hub/devices/devEui/FFFFFFFFFFFFFFFF/up', JSON.stringify({ seq: 1, temperature: 5 }), { qos: 1 });
    expect(mqttT0().stats()).toMatchObject({ stored: 2, duplicate: 1, rejected: 1 });
  });

  it('mosquitto as external broker: mosquitto_pub TTS and ChirpStack uplinks end in SPARQL', async () => {
    // the second device, so that the first test's observations do not count here
    const tts2 = { ...TTS, end_device_ids: { ...TTS.end_device_ids, device_id: 'dev2', dev_eui: EUI2 } };
    const before = mqttT0().stats().stored ?? 0;
    const mqttT = mqttT0();
    const cs = vectors.find((v) => v.id === 'chirpstack-up-docs')!.input as Record<string, unknown> & { deviceInfo: Record<string, unknown> };
    const chirp = { ...cs, deviceInfo: { ...cs.deviceInfo, devEui: EUI2.toLowerCase() }, object: { temperature: 7.25 } };
    // mosquitto_pub may race the SUBACK: resend TTS until it is in (redelivery is a duplicate, harmless)
    const end = Date.now() + 5000;
    while ((await temperatures(hub, EUI2)).length === 0 && Date.now() < end) {
      await mosquittoPub(m.port, 'v3/app1@tenant1/devices/dev2/up', JSON.stringify(tts2));
      await new Promise((r) => setTimeout(r, 100));
    }
    await mosquittoPub(m.port, `application/00000000-0000-0000-0000-000000000001/device/${EUI2.toLowerCase()}/event/up`, JSON.stringify(chirp));
    await waitFor(() => (mqttT.stats().stored ?? 0) >= before + 2, 5000, 'both stored');
    expect((await temperatures(hub, EUI2)).map((t) => t.value).sort()).toEqual([1, 7.25]);
  });
});
