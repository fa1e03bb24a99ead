// Every endpoint that reads a text or JSON body refuses malformed UTF-8 with 400 bad-encoding (no silent U+FFFD).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { DEVICE_ID, deviceTd, waitFor } from '../things/fixtures.ts';
import { sampleTd, thingUrl } from '../directory/fixtures.ts';

/** `text` with one malformed sequence spliced in at `@@`: 0xC3 0x28 (a lead byte without its continuation) or a lone 0xFF. */
function bad(text: string, bytes: number[] = [0xc3, 0x28]): Buffer {
  const [a, b] = text.split('@@') as [string, string];
  return Buffer.concat([Buffer.from(a, 'utf8'), Buffer.from(bytes), Buffer.from(b, 'utf8')]);
}

const TTL = '<http://example.com/s> <http://example.com/p> "@@" .';
const LAMP = 'urn:example:lamp-utf8';

describe('strict UTF-8 request bodies', () => {
  let hub: TestHub;
  const send = (method: string, url: string, type: string, payload: Buffer, auth = true) =>
    hub.app.inject({ method: method as 'POST', url, headers: { 'content-type': type, ...(auth ? { authorization: hub.bearer } : {}) }, payload });
  const expectBadEncoding = (r: { statusCode: number; body: string; headers: Record<string, unknown> }) => {
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect([r.statusCode, JSON.parse(r.body).code]).toEqual([400, 'bad-encoding']);
  };

  beforeAll(async () => {
    hub = await startTestHub();
    await hub.directory.put(DEVICE_ID, deviceTd());
    await hub.directory.put(LAMP, sampleTd(LAMP));
    await waitFor(() => (hub.things.thingIds().includes(DEVICE_ID) ? true : undefined), 5000, 'exposure');
    const ldp = await send('PUT', '/ldp/doc', 'text/turtle', Buffer.from(TTL.replace('@@', 'ok')));
    expect(ldp.statusCode).toBe(201);
  });
  afterAll(() => hub?.stop());

  it.each([
    ['LDP PUT (new RDF source)', 'PUT', '/ldp/fresh', 'text/turtle', bad(TTL)],
    ['LDP POST to a container', 'POST', '/ldp/', 'text/turtle', bad(TTL)],
    ['LDP POST JSON-LD', 'POST', '/ldp/', 'application/ld+json', bad('{"@id": "http://example.com/@@"}', [0xff])],
    ['LDP PATCH (N3 Patch)', 'PATCH', '/ldp/doc', 'text/n3', bad('@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch; solid:inserts { <http://example.com/s> <http://example.com/p> "@@" }.')],
    ['LDP PATCH (SPARQL Update)', 'PATCH', '/ldp/doc', 'application/sparql-update', bad('INSERT DATA { <http://example.com/s> <http://example.com/p> "@@" }', [0xff])],
    ['LDP PUT of a mapfile', 'PUT', '/ldp/mappings/bad', 'text/turtle', bad('# @@\n')],
    ['PUT /mappings/{name}', 'PUT', '/mappings/bad', 'text/turtle', bad('# @@\n')],
    ['PUT /mappings/{name} (YARRRML)', 'PUT', '/mappings/bad', 'application/yaml', bad('mappings: {} # @@\n', [0xff])],
    ['POST /mappings/{name}/preview', 'POST', '/mappings/any/preview', 'application/json', bad('{"t": "@@"}')],
    ['POST /ingest/{thingId}', 'POST', `/ingest/${encodeURIComponent(DEVICE_ID)}`, 'application/json', bad('{"temperature": 1, "note": "@@"}')],
    ['POST /wot/{id}/actions/{name}', 'POST', `/wot/${encodeURIComponent(DEVICE_ID)}/actions/setInterval`, 'application/json', bad('{"seconds": 900, "x": "@@"}')],
    ['POST /things', 'POST', '/things', 'application/td+json', bad(JSON.stringify(sampleTd(undefined, '@@')))],
    ['PUT /things/{id}', 'PUT', thingUrl(LAMP), 'application/td+json', bad(JSON.stringify(sampleTd(LAMP, '@@')), [0xff])],
    ['PUT /things/{id} as application/json', 'PUT', thingUrl(LAMP), 'application/json', bad(JSON.stringify(sampleTd(LAMP, '@@')))],
    ['PATCH /things/{id}', 'PATCH', thingUrl(LAMP), 'application/merge-patch+json', bad('{"title": "@@"}')],
    ['POST /search/sparql (sparql-query)', 'POST', '/search/sparql', 'application/sparql-query', bad('SELECT * WHERE { ?s ?p "@@" }')],
    ['POST /search/sparql (form)', 'POST', '/search/sparql', 'application/x-www-form-urlencoded', bad('query=SELECT%20*%20WHERE%20%7B%20?s%20?p%20%22@@%22%20%7D')],
    ['POST /search/sparql (form, percent-escaped)', 'POST', '/search/sparql', 'application/x-www-form-urlencoded', Buffer.from('query=SELECT%20*%20WHERE%20%7B%20?s%20?p%20%22%C3%28%22%20%7D')],
    ['POST /thing-models/{name}/instantiate', 'POST', '/thing-models/lorawan-sensor/instantiate', 'application/json', bad('{"id": "urn:x:@@"}')],
  ])('%s: 400 bad-encoding', async (_name, method, url, type, payload) => {
    expectBadEncoding(await send(method, url, type, payload));
  });

  it('LDP PUT replacing an RDF source (with its ETag): 400 bad-encoding', async () => {
    const etag = String((await hub.app.inject({ method: 'GET', url: '/ldp/doc', headers: { authorization: hub.bearer } })).headers.etag);
    const r = await hub.app.inject({ method: 'PUT', url: '/ldp/doc', headers: { authorization: hub.bearer, 'content-type': 'text/turtle', 'if-match': etag }, payload: bad(TTL, [0xff]) });
    expectBadEncoding(r);
  });

  it('GET /search/sparql with a percent-escape that is not UTF-8: 400 bad-encoding; a valid one answers', async () => {
    const bad = await hub.app.inject({ method: 'GET', url: `/search/sparql?query=${encodeURIComponent('ASK { ?s ?p "')}%C3%28${encodeURIComponent('" }')}`, headers: { authorization: hub.bearer } });
    expectBadEncoding(bad);
    const good = await hub.app.inject({ method: 'GET', url: `/search/sparql?query=${encodeURIComponent('ASK { ?s ?p "Zoë" }')}`, headers: { authorization: hub.bearer } });
    expect([good.statusCode, JSON.parse(good.body).boolean]).toEqual([200, false]);
  });

  it('leaves the stored state untouched: the LDP source and the TD keep their valid text', async () => {
    const doc = await hub.app.inject({ method: 'GET', url: '/ldp/doc', headers: { authorization: hub.bearer, accept: 'application/n-triples' } });
    expect(doc.body).toContain('"ok"');
    expect(doc.body).not.toContain('\uFFFD');
    expect(((await hub.directory.get(LAMP)) as { title: string }).title).toBe('Lamp');
  });

  it('keeps LDP non-RDF bodies as raw bytes, invalid UTF-8 included', async () => {
    const bytes = Buffer.from([0xc3, 0x28, 0xff, 0x00, 0x41]);
    expect((await send('PUT', '/ldp/blob.bin', 'application/octet-stream', bytes)).statusCode).toBe(201);
    const got = await hub.app.inject({ method: 'GET', url: '/ldp/blob.bin', headers: { authorization: hub.bearer } });
    expect(got.statusCode).toBe(200);
    expect(Buffer.compare(got.rawPayload, bytes)).toBe(0);
  });

  it('still accepts valid multi-byte UTF-8 (ë, ü, emoji) on the same endpoints', async () => {
    const title = 'Zoë Krüger 🌡';
    expect((await send('PATCH', thingUrl(LAMP), 'application/merge-patch+json', Buffer.from(JSON.stringify({ title })))).statusCode).toBe(204);
    expect(((await hub.directory.get(LAMP)) as { title: string }).title).toBe(title);
    await send('PATCH', thingUrl(LAMP), 'application/merge-patch+json', Buffer.from('{"title": "Lamp"}'));
    const q = await send('POST', '/search/sparql', 'application/x-www-form-urlencoded', Buffer.from(`query=${encodeURIComponent('ASK { ?s ?p "Zoë" }')}`));
    expect(q.statusCode).toBe(200);
  });
});
