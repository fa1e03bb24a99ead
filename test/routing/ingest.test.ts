// POST /ingest from hub/routing: messageId from the body or made by the hub, redeliveries stored once, counters; rejections' log bound; TMs register.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeError } from '../../hub/errors.ts';
import { Rejections } from '../../hub/routing/rejections.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');
const SOSA = 'http://www.w3.org/ns/sosa/';
const ID = 'urn:dev:ingest:1';

let hub: TestHub;
const ingest = (payload: unknown, query = '') =>
  hub.app.inject({ method: 'POST', url: `/ingest/${encodeURIComponent(ID)}${query}`, headers: { authorization: hub.bearer }, payload: payload as object });

async function count(): Promise<number> {
  const q = `SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?o <${SOSA}madeBySensor> <${hub.config.baseUrl}/things/${encodeURIComponent(ID)}> ; <${SOSA}observedProperty> <${hub.config.baseUrl}/things/${encodeURIComponent(ID)}/properties/temperature> } }`;
  const res = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent(q)}`, headers: { accept: 'application/sparql-results+json' } });
  return Number(res.json().results.bindings[0].n.value);
}

beforeAll(async () => {
  hub = await startTestHub();
  const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-uplink', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8') });
  expect(put.statusCode).toBe(201);
  hub.mapping.things.attach(ID, 'lorawan-uplink');
});
afterAll(() => hub?.stop());

describe('POST /ingest/{thingId}', () => {
  it('gives two posts with one receivedAt two observations (hub-made message ids)', async () => {
    const at = '?receivedAt=2026-03-01T10:00:00.000Z';
    const [a, b] = await Promise.all([ingest({ decoded: { temperature: 1 } }, at), ingest({ decoded: { temperature: 2 } }, at)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(a.json()).toMatchObject({ status: 'stored', mapping: 'lorawan-uplink' });
    expect(await count()).toBe(2);
  });

  it('takes meta.messageId from an envelope body: a second post of it is a duplicate, stored once', async () => {
    const body = { meta: { messageId: 'dev-77', observedAt: '2026-03-01T09:59:59Z' }, payload: { decoded: { temperature: 3 } } };
    const first = await ingest(body);
    expect(first.json()).toMatchObject({ status: 'stored' });
    const before = await count();
    const again = await ingest(body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ status: 'duplicate' });
    expect(await count()).toBe(before);
    const counters = (await hub.app.inject({ url: '/ingest', headers: { authorization: hub.bearer } })).json();
    expect(counters).toMatchObject({ received: 3, stored: 3 });
    expect(hub.routing.adapters.get('http')!.counters()).toMatchObject({ received: 4, stored: 3, duplicate: 1 });
    expect((await ingest({ meta: { messageId: 5 }, payload: {} })).statusCode).toBe(400);
    expect((await ingest({ meta: { observedAt: 'yesterday' }, payload: {} })).statusCode).toBe(400);
  });

  it('counts a failing message on the http adapter by code', async () => {
    hub.mapping.things.attach('urn:dev:ingest:nomap', 'no-such-mapfile');
    const res = await hub.app.inject({ method: 'POST', url: `/ingest/${encodeURIComponent('urn:dev:ingest:nomap')}`, headers: { authorization: hub.bearer }, payload: { a: 1 } });
    expect(res.statusCode).toBe(422);
    expect(res.json().type).toMatch(/mapping-missing$/);
    expect(hub.routing.rejections.ofBinding('http')).toEqual({ 'mapping-missing': 1 });
  });
});

describe('Rejections', () => {
  it('logs the first of a code at once, then at most once per interval with the suppressed count', () => {
    const lines: Array<Record<string, unknown>> = [];
    let now = 0;
    const r = new Rejections({ log: { warn: (o) => lines.push(o as Record<string, unknown>) }, now: () => now });
    const origin = { binding: 'tts', transport: 'mqtt' as const };
    for (let i = 0; i < 1000; i++) r.record(new DecodeError('bad', { offset: 3 }), origin);
    r.record(new DecodeError('other', {}, 'bad-mic'), origin);
    expect(lines.map((l) => l.code)).toEqual(['decode-failed', 'bad-mic']);
    now = 1500;
    r.record(new DecodeError('bad', {}), origin);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ code: 'decode-failed', suppressed: 999, binding: 'tts' });
    expect(r.ofBinding('tts')).toEqual({ 'decode-failed': 1001, 'bad-mic': 1 });
    expect(r.snapshot().total).toBe(1002);
  });
});

describe('the shipped device Thing Models register', () => {
  it.each([
    ['lorawan-sensor', { TITLE: 'L', DEV_EUI: '70B3D57ED0000010', DEV_ADDR: '260B0010', FPORT: 1, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-cayenne', PAYLOAD_CODEC: 'cayenne-lpp' }],
    ['multi-radio-device', { TITLE: 'M', DEV_EUI: '70B3D57ED0000011', SIGFOX_ID: 'C0FFEE', FPORT: 2, MAPPING: 'lorawan-uplink', PAYLOAD_CODEC: 'cayenne-lpp' }],
    ['schc-senml-device', { TITLE: 'S', DEV_EUI: '70B3D57ED0000012', MAPPING: 'schc-senml', SCHC_RULES: [{ RuleID: 1, RuleIDLength: 8, NoCompression: [] }] }],
  ])('%s: a registered instance passes validation and is indexed', async (model, placeholders) => {
    const id = `urn:dev:tm:${model}`;
    const res = await hub.app.inject({ method: 'POST', url: `/thing-models/${model}/instantiate?register=true`, headers: { authorization: hub.bearer }, payload: { id, placeholders } });
    expect(res.statusCode, res.body).toBe(201);
    const entries = hub.routing.index.entriesOf(id);
    expect(entries.length).toBeGreaterThan(0);
    if (model === 'schc-senml-device') expect(entries[0]!.codecs).toEqual(['schc', 'senml-json']);
    if (model === 'multi-radio-device') expect(entries.map((e) => e.keyType).sort()).toEqual(['devEui', 'sigfoxId']);
  });
});
