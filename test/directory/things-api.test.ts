// WoT Discovery §7.3.2.1 Things API through the hub's HTTP app: CRUDL, anonymous TDs, paging, HEAD, auth, problem details.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { putTd, sampleTd, thingUrl } from './fixtures.ts';

const DISCOVERY = 'https://www.w3.org/2022/wot/discovery';
// One hub for the file (a hub takes ~1 s to start here); each test starts from an empty directory.
let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.stop());
beforeEach(async () => {
  for (const td of await hub.directory.all()) await hub.directory.delete(td.id as string);
});

describe('tdd-things-crud tdd-things-crudl: create, read, update, delete (listing below)', () => {
  it('tdd-things-default-representation tdd-things-create-known-contenttype tdd-things-create-known-td tdd-things-create-known-td-resp tdd-things-retrieve tdd-things-retrieve-resp tdd-things-retrieve-resp-content-type tdd-context-injection: PUT then GET round-trips with registration info', async () => {
    const td = sampleTd('https://example.org/things/lamp-1');
    const put = await putTd(hub, td.id as string, td);
    expect(put.statusCode).toBe(201);
    const get = await hub.app.inject({ method: 'GET', url: thingUrl(td.id as string) });
    expect(get.statusCode).toBe(200);
    expect(get.headers['content-type']).toMatch(/^application\/td\+json/);
    const served = get.json();
    const { registration, '@context': ctx, ...rest } = served;
    const { '@context': sentCtx, ...sentRest } = td;
    expect(rest).toEqual(sentRest);
    expect(ctx).toEqual([TD_CTX_OF(sentCtx)[0], DISCOVERY, TD_CTX_OF(sentCtx)[1]]);
    expect(Date.parse(registration.created)).not.toBeNaN();
    expect(registration.modified).toBe(registration.created);
    expect(Date.parse(registration.retrieved)).toBeGreaterThanOrEqual(Date.parse(registration.created));
  });

  it('tdd-things-update tdd-things-update-resp tdd-things-update-contenttype tdd-things-representation-alternate-input: a second PUT replaces the TD with 204 and keeps created', async () => {
    const td = sampleTd('urn:example:lamp-2');
    expect((await putTd(hub, 'urn:example:lamp-2', td)).statusCode).toBe(201);
    const first = (await hub.app.inject({ url: thingUrl('urn:example:lamp-2') })).json();
    await new Promise((r) => setTimeout(r, 5));
    // application/json is accepted as well as application/td+json.
    const replaced = await putTd(hub, 'urn:example:lamp-2', { ...td, title: 'Renamed' }, 'application/json');
    expect(replaced.statusCode).toBe(204);
    const after = (await hub.app.inject({ url: thingUrl('urn:example:lamp-2') })).json();
    expect(after.title).toBe('Renamed');
    expect(after.registration.created).toBe(first.registration.created);
    expect(after.registration.modified > first.registration.modified).toBe(true);
  });

  it('tdd-things-create-anonymous-contenttype tdd-things-create-anonymous-td tdd-things-create-anonymous-td-resp tdd-things-create-anonymous-id tdd-anonymous-td-identifier tdd-anonymous-td-local-uuid', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/things', headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: JSON.stringify(sampleTd(undefined)) });
    expect(res.statusCode).toBe(201);
    const location = res.headers.location as string;
    expect(location).toMatch(/^\/things\/urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const served = (await hub.app.inject({ url: location })).json();
    expect(served.id).toBe(location.slice('/things/'.length));
    const listed = (await hub.app.inject({ url: '/things' })).json();
    expect(listed.map((t: { id: string }) => t.id)).toContain(served.id);
  });

  it('tdd-things-create-known-vs-anonymous: POST with an id and PUT without one are refused', async () => {
    const post = await hub.app.inject({ method: 'POST', url: '/things', headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: JSON.stringify(sampleTd('urn:x:1')) });
    expect(post.statusCode).toBe(400);
    const put = await putTd(hub, 'urn:x:2', sampleTd(undefined));
    expect(put.statusCode).toBe(400);
    expect(put.json().validationErrors[0].field).toBe('/id');
    const mismatch = await putTd(hub, 'urn:x:3', sampleTd('urn:x:4'));
    expect(mismatch.statusCode).toBe(400);
  });

  it('tdd-things-update-partial tdd-things-update-partial-mergepatch tdd-things-update-partial-resp tdd-things-update-partial-contenttype', async () => {
    await putTd(hub, 'urn:x:p', sampleTd('urn:x:p'));
    const headers = { authorization: hub.bearer, 'content-type': 'application/merge-patch+json' };
    const ok = await hub.app.inject({ method: 'PATCH', url: thingUrl('urn:x:p'), headers, payload: JSON.stringify({ title: 'Patched', actions: null, description: 'new' }) });
    expect(ok.statusCode).toBe(204);
    const served = (await hub.app.inject({ url: thingUrl('urn:x:p') })).json();
    expect(served.title).toBe('Patched');
    expect(served.description).toBe('new');
    expect(served.actions).toBeUndefined();
    expect(served.properties.status.enum).toEqual(['on', 'off']);
    const wrongType = await hub.app.inject({ method: 'PATCH', url: thingUrl('urn:x:p'), headers: { ...headers, 'content-type': 'application/json' }, payload: '{"title":"x"}' });
    expect(wrongType.statusCode).toBe(415);
    const missing = await hub.app.inject({ method: 'PATCH', url: thingUrl('urn:x:none'), headers, payload: '{"title":"x"}' });
    expect(missing.statusCode).toBe(404);
  });

  it('tdd-things-update-partial-partialtd: a patch that breaks the TD is refused and leaves it unchanged', async () => {
    await putTd(hub, 'urn:x:q', sampleTd('urn:x:q'));
    const headers = { authorization: hub.bearer, 'content-type': 'application/merge-patch+json' };
    const bad = await hub.app.inject({ method: 'PATCH', url: thingUrl('urn:x:q'), headers, payload: JSON.stringify({ title: null, security: 42 }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().validationErrors.map((e: { field: string }) => e.field).sort()).toEqual(expect.arrayContaining(['/title', '/security']));
    const idChange = await hub.app.inject({ method: 'PATCH', url: thingUrl('urn:x:q'), headers, payload: JSON.stringify({ id: 'urn:other' }) });
    expect(idChange.statusCode).toBe(400);
    expect((await hub.app.inject({ url: thingUrl('urn:x:q') })).json().title).toBe('Lamp');
  });

  it('tdd-things-delete tdd-things-delete-resp: DELETE answers 204, then 404', async () => {
    await putTd(hub, 'urn:x:d', sampleTd('urn:x:d'));
    const del = await hub.app.inject({ method: 'DELETE', url: thingUrl('urn:x:d'), headers: { authorization: hub.bearer } });
    expect(del.statusCode).toBe(204);
    expect((await hub.app.inject({ url: thingUrl('urn:x:d') })).statusCode).toBe(404);
    expect((await hub.app.inject({ method: 'DELETE', url: thingUrl('urn:x:d'), headers: { authorization: hub.bearer } })).statusCode).toBe(404);
  });

  it('tdd-http-error-response tdd-http-error-response-utf-8: a missing TD is a problem+json in UTF-8', async () => {
    const res = await hub.app.inject({ url: thingUrl('urn:x:ünknown') });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, code: 'not-found' });
    expect(Buffer.from(res.rawPayload).toString('utf8')).toContain('ünknown');
  });

  it('tdd-things-read-only-auth: writes need a token with the write scope; reads are open on loopback', async () => {
    const td = sampleTd('urn:x:a');
    const anon = await hub.app.inject({ method: 'PUT', url: thingUrl('urn:x:a'), headers: { 'content-type': 'application/td+json' }, payload: JSON.stringify(td) });
    expect(anon.statusCode).toBe(401);
    const wrong = await hub.app.inject({ method: 'DELETE', url: thingUrl('urn:x:a'), headers: { authorization: 'Bearer not-a-valid-token-at-all' } });
    expect(wrong.statusCode).toBe(401);
    const post = await hub.app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/td+json' }, payload: JSON.stringify(sampleTd(undefined)) });
    expect(post.statusCode).toBe(401);
    expect((await hub.app.inject({ url: '/things' })).statusCode).toBe(200);
  });
});

describe('listing', () => {
  it('tdd-things-list-only tdd-things-list-method tdd-things-list-resp tdd-things-list-resp-content-type tdd-things-list-pagination-order-default: sorted by id in code point order', async () => {
    const ids = ['urn:x:b', 'urn:x:B', 'urn:x:a', 'urn:x:\u{1F600}', 'urn:x:\uFF5E'];
    for (const id of ids) await putTd(hub, id, sampleTd(id));
    const res = await hub.app.inject({ url: '/things' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/(ld\+)?json/);
    // Code point order puts U+FF5E before U+1F600 (UTF-16 unit order would not).
    expect(res.json().map((t: { id: string }) => t.id)).toEqual(['urn:x:B', 'urn:x:a', 'urn:x:b', 'urn:x:\uFF5E', 'urn:x:\u{1F600}']);
  });

  it('tdd-things-list-pagination tdd-things-list-pagination-limit tdd-things-list-pagination-header-nextlink tdd-things-list-pagination-header-nextlink-attr tdd-things-list-pagination-header-nextlink-base tdd-things-list-pagination-header-canonicallink', async () => {
    for (let i = 0; i < 5; i++) await putTd(hub, `urn:x:${i}`, sampleTd(`urn:x:${i}`));
    const seen: string[] = [];
    let url: string | undefined = '/things?limit=2';
    let etag: string | undefined;
    let pages = 0;
    while (url && pages < 10) {
      const res = await hub.app.inject({ url });
      expect(res.statusCode).toBe(200);
      const page = res.json() as Array<{ id: string }>;
      expect(page.length).toBeLessThanOrEqual(2);
      seen.push(...page.map((t) => t.id));
      const link = String(res.headers.link);
      const canonical = /<\/things>; rel="canonical"; etag="([^"]+)"/.exec(link);
      expect(canonical).not.toBeNull();
      etag ??= canonical![1];
      expect(canonical![1]).toBe(etag);
      const next = /<([^>]+)>; rel="next"/.exec(link);
      if (next) expect(next[1]).toMatch(/^\/things\?offset=\d+&limit=2$/);
      url = next?.[1];
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['urn:x:0', 'urn:x:1', 'urn:x:2', 'urn:x:3', 'urn:x:4']);
    await putTd(hub, 'urn:x:9', sampleTd('urn:x:9'));
    const later = await hub.app.inject({ url: '/things?limit=2' });
    expect(String(later.headers.link)).not.toContain(`etag="${etag}"`);
  });

  it('tdd-things-list-pagination-collection: ?format=collection gives a ThingCollection with total and next', async () => {
    for (let i = 0; i < 3; i++) await putTd(hub, `urn:x:${i}`, sampleTd(`urn:x:${i}`));
    const body = (await hub.app.inject({ url: '/things?format=collection&limit=2' })).json();
    expect(body['@type']).toBe('ThingCollection');
    expect(body.total).toBe(3);
    expect(body.members).toHaveLength(2);
    expect(body.next).toBe('/things?offset=2&limit=2&format=collection');
  });

  it('rejects a bad limit or offset with 400 problem details', async () => {
    for (const q of ['limit=0', 'limit=abc', 'offset=-1', 'format=xml']) {
      const res = await hub.app.inject({ url: `/things?${q}` });
      expect(res.statusCode, q).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('tdd-http-head exploration-server-http-head: HEAD on every GET endpoint returns the GET headers and no body', async () => {
    await putTd(hub, 'urn:x:h', sampleTd('urn:x:h'));
    for (const url of ['/things', '/things?limit=1', thingUrl('urn:x:h'), '/.well-known/wot', '/thing-models', '/search/jsonpath?query=%24', '/events']) {
      const head = await hub.app.inject({ method: 'HEAD', url });
      expect(head.statusCode, url).toBe(200);
      expect(head.body, url).toBe('');
      if (url !== '/events') {
        const get = await hub.app.inject({ url });
        expect(head.headers['content-type'], url).toBe(get.headers['content-type']);
      } else expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
    }
  });
});

function TD_CTX_OF(ctx: unknown): unknown[] {
  return ctx as unknown[];
}
