// Thing Models: listing, instantiation (tm:extends, tm:ref, placeholders, tm:optional), registration, playground validity.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThingModelCatalog } from '../../hub/directory/thing-models.ts';
import { TdValidator } from '../../hub/directory/validator.ts';
import { HUB_NS } from '../../hub/store/graphs.ts';
import { ValidationError } from '../../hub/errors.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { failures, playgroundValidate } from './playground.ts';

/** A value for every placeholder any hub TM uses. */
export const PLACEHOLDERS = {
  TITLE: 'Test Thing', MAPPING: 'mappings/test.rml.ttl', ADAPTER_ID: 'urn:uuid:4c960148-31ac-4de7-bada-918a99bdc29f',
  DEV_EUI: '0004A30B001C0530', FPORT: 10, SIGFOX_ID: '1A2B3C', VIN: 'WVWZZZ1JZXW000001', OSC_SOURCE: '127.0.0.1:9000',
  SEND_PORT: 9001, COOKIE_DEVICE: 'cookie-7', ADAPTER_KIND: 'test', ORIGIN_SCANNER: 'urn:x:bt-a', DESTINATION_SCANNER: 'urn:x:bt-b', RADAR: 'urn:x:radar',
  PAYLOAD_CODEC: 'cayenne-lpp', DEV_ADDR: '260B1234', SCHC_RULES: [{ RuleID: 0, RuleIDLength: 3, NoCompression: [] }],
};

const REQUIRED_MODELS = ['lorawan-sensor', 'sigfox-device', 'obd-vehicle', 'ngimu-imu', 'cookie-node', 'cookie-bt-scanner', 'cookie-radar', 'travel-time-sensor',
  'lorawan-adapter', 'sigfox-adapter', 'schc-adapter', 'obd-adapter', 'osc-adapter', 'cookie-adapter', 'http-ingest-adapter'];

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.stop());

describe('the hub Thing Models', () => {
  it('lists a model per device, virtual sensor and adapter kind', async () => {
    const res = await hub.app.inject({ url: '/thing-models' });
    expect(res.statusCode).toBe(200);
    const names = res.json().map((m: { name: string }) => m.name);
    expect(names).toEqual(expect.arrayContaining(REQUIRED_MODELS));
    const tm = await hub.app.inject({ url: '/thing-models/lorawan-sensor' });
    expect(tm.headers['content-type']).toMatch(/^application\/tm\+json/);
    expect(tm.json()['@type']).toContain('tm:ThingModel');
    expect((await hub.app.inject({ url: '/thing-models/nope' })).statusCode).toBe(404);
    expect((await hub.app.inject({ url: '/thing-models/..%2Fetc' })).statusCode).toBe(400);
  });

  it.each(REQUIRED_MODELS)('instantiates %s into a TD that passes the TD playground (offline)', async (name) => {
    const res = await hub.app.inject({ method: 'POST', url: `/thing-models/${name}/instantiate`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ placeholders: PLACEHOLDERS }) });
    expect(res.statusCode, res.body).toBe(200);
    const td = res.json();
    expect(JSON.stringify(td)).not.toMatch(/\{\{|tm:optional|tm:extends|tm:ref/);
    expect(td['@type']).not.toContain('tm:ThingModel');
    expect(td.links).toContainEqual({ rel: 'type', href: `${hub.config.baseUrl}/thing-models/${name}`, type: 'application/tm+json' });
    const result = await playgroundValidate(td);
    expect(failures(result), result.log.join('\n')).toEqual([]);
    expect(result.report.jsonld).toBe('passed');
  });
});

describe('instantiation rules', () => {
  it('tm:extends merges the base model; placeholders keep their JSON type; FLINT device config sits in the hub namespace', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/thing-models/lorawan-sensor/instantiate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ placeholders: PLACEHOLDERS, id: 'urn:dev:lora-1' }) });
    const td = res.json();
    expect(td.id).toBe('urn:dev:lora-1');
    expect(td['@context'][1].hub).toBe(HUB_NS);
    expect(td.properties.lastSeen).toBeDefined(); // from hub-device via tm:extends
    expect(td.properties.temperature.forms[0].href).toBe(`${hub.config.baseUrl}/wot/${encodeURIComponent('urn:dev:lora-1')}/properties/temperature`);
    expect(td['hub:ioAdapterDefinitions'][0].deviceDefinitions).toMatchObject({ deviceKey: '0004A30B001C0530', networkDefinitions: { fport: 10 } });
    expect(td['hub:adapterScheme']).toHaveLength(2);
    expect(td['hub:mapping']).toBe('mappings/test.rml.ttl');
  });

  it('tm:optional affordances are left out unless included', async () => {
    const url = '/thing-models/lorawan-sensor/instantiate';
    const headers = { 'content-type': 'application/json' };
    const without = (await hub.app.inject({ method: 'POST', url, headers, payload: JSON.stringify({ placeholders: PLACEHOLDERS }) })).json();
    expect(without.properties.humidity).toBeUndefined();
    expect(without.events).toEqual({});
    const withOpt = (await hub.app.inject({ method: 'POST', url, headers, payload: JSON.stringify({ placeholders: PLACEHOLDERS, include: ['/properties/humidity', '/events/lowBattery'] }) })).json();
    expect(withOpt.properties.humidity.unit).toBe('qudt:PERCENT');
    expect(withOpt.events.lowBattery.forms).toHaveLength(1);
  });

  it('a missing placeholder is a 400 listing every missing name', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/thing-models/obd-vehicle/instantiate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ TITLE: 'car' }) });
    expect(res.statusCode).toBe(400);
    expect(res.json().validationErrors.map((e: { field: string }) => e.field).sort()).toEqual(['/placeholders/ADAPTER_ID', '/placeholders/MAPPING', '/placeholders/VIN']);
  });

  it('tm:ref pulls a definition from another model; reference cycles are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-'));
    try {
      const ctx = ['https://www.w3.org/2022/wot/td/v1.1'];
      writeFileSync(join(dir, 'base.tm.jsonld'), JSON.stringify({ '@context': ctx, '@type': 'tm:ThingModel', title: 'B', properties: { t: { type: 'number', unit: 'x' } } }));
      writeFileSync(join(dir, 'user.tm.jsonld'), JSON.stringify({ '@context': ctx, '@type': 'tm:ThingModel', title: 'U', properties: { temp: { 'tm:ref': 'base.tm.jsonld#/properties/t', unit: 'y' } } }));
      writeFileSync(join(dir, 'loop.tm.jsonld'), JSON.stringify({ '@context': ctx, '@type': 'tm:ThingModel', title: 'L', links: [{ rel: 'tm:extends', href: './loop.tm.jsonld' }] }));
      const catalog = new ThingModelCatalog('http://h', new TdValidator(), dir);
      const td = catalog.instantiate('user', { placeholders: {} });
      expect((td.properties as Record<string, unknown>).temp).toEqual({ type: 'number', unit: 'y', forms: expect.any(Array) });
      expect(() => catalog.instantiate('loop', { placeholders: {} })).toThrow(ValidationError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('?register=true needs the write scope and registers the TD (201 + Location), findable by search', async () => {
    const url = '/thing-models/sigfox-device/instantiate?register=true';
    const payload = JSON.stringify({ placeholders: PLACEHOLDERS, id: 'urn:dev:sigfox-1' });
    const anon = await hub.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
    expect(anon.statusCode).toBe(401);
    const res = await hub.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', authorization: hub.bearer }, payload });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe('/things/urn:dev:sigfox-1');
    expect(res.json().registration.created).toBeDefined();
    const found = await hub.app.inject({ url: `/search/jsonpath?query=${encodeURIComponent("$[?(@['hub:mapping'])].id")}` });
    expect(found.json()).toContain('urn:dev:sigfox-1');
    const ask = `ASK { <urn:dev:sigfox-1> <${HUB_NS}mapping> "mappings/test.rml.ttl" ; a <${HUB_NS}SigfoxDevice> }`;
    const sparql = await hub.app.inject({ url: `/search/sparql?query=${encodeURIComponent(ask)}` });
    expect(sparql.json().boolean).toBe(true);
  });
});
