// Hostile JSON on the directory: deep nesting is a typed 400 (never a 500 stack overflow), and a known path asked with a
// method it lacks is 405 with Allow (W3C WoT Discovery: PUT /things), not 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMergePatch, createMergePatch, MAX_MERGE_PATCH_DEPTH } from '../../hub/directory/merge-patch.ts';
import { HubError } from '../../hub/errors.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { sampleTd, thingUrl } from './fixtures.ts';

/** `{"a":{"a":...1...}}` nested `n` objects deep, as text (JSON.stringify of such a value would itself overflow). */
const nested = (n: number, key = 'a') => `${`{"${key}":`.repeat(n)}1${'}'.repeat(n)}`;
const nestedArrays = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const ID = 'urn:example:deep';

describe('deep JSON and unsupported methods on /things', () => {
  let hub: TestHub;
  const send = (method: string, url: string, type: string, payload: string) =>
    hub.app.inject({ method: method as 'POST', url, headers: { authorization: hub.bearer, 'content-type': type }, payload });
  const problem = (r: { statusCode: number; body: string }) => [r.statusCode, JSON.parse(r.body).code];

  beforeAll(async () => {
    hub = await startTestHub();
    expect((await send('PUT', thingUrl(ID), 'application/td+json', JSON.stringify(sampleTd(ID)))).statusCode).toBe(201);
  });
  afterAll(() => hub?.stop());

  it('PATCH /things/{id} with 100,000 nested objects: 400 json-too-deep, the TD unchanged', async () => {
    const r = await send('PATCH', thingUrl(ID), 'application/merge-patch+json', `{"title":"x","description":${nested(100_000)}}`);
    expect(problem(r)).toEqual([400, 'json-too-deep']);
    expect(((await hub.directory.get(ID)) as { title: string }).title).toBe('Lamp');
  });

  it('PATCH at 65 levels is refused, at 20 levels it reaches validation (400 validation-failed, not 500)', async () => {
    expect(problem(await send('PATCH', thingUrl(ID), 'application/merge-patch+json', nested(65, 'x')))).toEqual([400, 'json-too-deep']);
    const r = await send('PATCH', thingUrl(ID), 'application/merge-patch+json', `{"properties":{"status":{"items":${nested(20)}}}}`);
    expect(r.statusCode).toBeLessThan(500);
  });

  it.each([
    ['POST /things, nested objects', 'POST', '/things', 'application/td+json', () => `{"title":"x","properties":${nested(100_000)}}`],
    ['POST /things, nested arrays', 'POST', '/things', 'application/json', () => `{"title":"x","links":${nestedArrays(100_000)}}`],
    ['PUT /things/{id}, nested objects', 'PUT', thingUrl(ID), 'application/td+json', () => `{"id":"${ID}","title":"x","d":${nested(100_000)}}`],
    ['PUT /things/{id} as ld+json', 'PUT', thingUrl(ID), 'application/ld+json', () => `{"id":"${ID}","@context":${nestedArrays(5000)}}`],
    ['POST /thing-models/{name}/instantiate', 'POST', '/thing-models/lorawan-sensor/instantiate', 'application/json', () => `{"id":"urn:x:y","placeholders":${nested(1000)}}`],
  ])('%s: 400 json-too-deep', async (_name, method, url, type, body) => {
    expect(problem(await send(method, url, type, body()))).toEqual([400, 'json-too-deep']);
  });

  it('applyMergePatch and createMergePatch refuse deep input with a typed error, never a RangeError', () => {
    const deep = JSON.parse(nested(100_000));
    for (const run of [() => applyMergePatch({}, deep), () => applyMergePatch(deep, { a: 1 }), () => createMergePatch({}, deep)]) {
      let caught: unknown;
      try {
        run();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(HubError);
      expect((caught as HubError).code).toBe('json-too-deep');
    }
    const ok = JSON.parse(nested(MAX_MERGE_PATCH_DEPTH));
    expect(applyMergePatch({}, ok)).toEqual(ok);
  });

  it('PUT /things is 405 with Allow: GET, HEAD, POST (tdd-things-crud, RFC 9110 §15.5.6)', async () => {
    const r = await send('PUT', '/things', 'application/td+json', JSON.stringify(sampleTd(undefined)));
    expect(r.statusCode).toBe(405);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(r.body).code).toBe('method-not-allowed');
    expect(r.headers.allow).toBe('GET, HEAD, POST');
  });

  it('other known paths with a missing method are 405 with their Allow; unknown paths stay 404', async () => {
    const del = await hub.app.inject({ method: 'DELETE', url: '/things', headers: { authorization: hub.bearer } });
    expect([del.statusCode, del.headers.allow]).toEqual([405, 'GET, HEAD, POST']);
    const post = await hub.app.inject({ method: 'POST', url: thingUrl(ID), headers: { authorization: hub.bearer } });
    expect(post.statusCode).toBe(405);
    expect(String(post.headers.allow).split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']);
    const health = await hub.app.inject({ method: 'DELETE', url: '/health' });
    expect([health.statusCode, health.headers.allow]).toEqual([405, 'GET, HEAD']);
    const unknown = await hub.app.inject({ method: 'PUT', url: '/no/such/path' });
    expect([unknown.statusCode, JSON.parse(unknown.body).code]).toEqual([404, 'not-found']);
  });
});
