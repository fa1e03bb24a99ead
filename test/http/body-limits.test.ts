// Issue 8 defect 4: per-route body limits (a SPARQL query is not 10 MiB), 413 payload-too-large problems, config keys.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const READER = 'reader-token-0123456789abcdef';
const KiB = 1024;

function expect413(res: { statusCode: number; headers: Record<string, unknown>; body: string }): void {
  expect(res.statusCode).toBe(413);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.body)).toMatchObject({ status: 413, code: 'payload-too-large' });
}

/** A syntactically valid SELECT of about `bytes` bytes (a long comment). */
function paddedQuery(bytes: number): string {
  return `SELECT * WHERE { ?s ?p ?o } LIMIT 1\n#${'x'.repeat(bytes)}\n`;
}

describe('per-route body limits', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ tokens: [{ token: READER, scopes: ['read'] }], mapfileBodyLimit: 200 * KiB });
  });
  afterAll(() => hub?.stop());

  const post = (url: string, type: string, payload: string | Buffer | Readable, authorization?: string) =>
    hub.app.inject({ method: 'POST', url, headers: { 'content-type': type, ...(authorization ? { authorization } : {}) }, payload });

  it('SPARQL query text: 64 KiB without a token, queryBodyLimit (1 MiB) with one, bodyLimit for updates', async () => {
    expect((await post('/sparql', 'application/sparql-query', paddedQuery(60 * KiB))).statusCode).toBe(200);
    expect413(await post('/sparql', 'application/sparql-query', paddedQuery(70 * KiB)));
    expect((await post('/sparql', 'application/sparql-query', paddedQuery(70 * KiB), `Bearer ${READER}`)).statusCode).toBe(200);
    expect413(await post('/sparql', 'application/sparql-query', paddedQuery(1100 * KiB), `Bearer ${READER}`));
    const form = `query=${encodeURIComponent(paddedQuery(70 * KiB))}`;
    expect413(await post('/sparql', 'application/x-www-form-urlencoded', form));
    expect((await post('/sparql', 'application/x-www-form-urlencoded', form, `Bearer ${READER}`)).statusCode).toBe(200);
    const update = `INSERT DATA { <urn:a> <urn:b> "${'y'.repeat(2 * 1024 * KiB)}" }`;
    expect((await post('/sparql', 'application/sparql-update', update, hub.bearer)).statusCode).toBe(204);
  });

  it('a chunked body (no Content-Length) is cut off at the same limit', async () => {
    const chunks = Readable.from(Array.from({ length: 20 }, () => Buffer.from(`#${'z'.repeat(8 * KiB)}\n`)));
    expect413(await post('/sparql', 'application/sparql-query', chunks));
    const search = Readable.from(Array.from({ length: 20 }, () => Buffer.from(`#${'z'.repeat(8 * KiB)}\n`)));
    expect413(await post('/search/sparql', 'application/sparql-query', search));
  });

  it('mapfiles take mapfileBodyLimit, /ingest and preview 256 KiB, actions 64 KiB, TDs 1 MiB, other routes 64 KiB', async () => {
    const put = await hub.app.inject({
      method: 'PUT',
      url: '/mappings/big',
      headers: { authorization: hub.bearer, 'content-type': 'text/turtle' },
      payload: `# ${'m'.repeat(210 * KiB)}\n`,
    });
    expect413(put);
    const json = (n: number) => JSON.stringify({ pad: 'p'.repeat(n) });
    expect413(await post('/ingest/urn:x', 'application/json', json(260 * KiB), hub.bearer));
    expect413(await post('/mappings/x/preview', 'application/json', json(260 * KiB)));
    expect413(await post('/wot/urn:x/actions/setInterval', 'application/json', json(70 * KiB), hub.bearer));
    expect413(await post('/things', 'application/td+json', json(1100 * KiB), hub.bearer));
    const del = await hub.app.inject({
      method: 'DELETE',
      url: '/things/urn:x',
      headers: { authorization: hub.bearer, 'content-type': 'application/json' },
      payload: json(70 * KiB),
    });
    expect413(del);
  });

  it('RDF writes with a write token keep bodyLimit (10 MiB by default)', async () => {
    const ttl = `<urn:s> <urn:p> "${'g'.repeat(3 * 1024 * KiB)}" .\n`;
    const res = await hub.app.inject({
      method: 'PUT',
      url: '/graph-store?graph=urn:big',
      headers: { authorization: hub.bearer, 'content-type': 'text/turtle' },
      payload: ttl,
    });
    expect(res.statusCode).toBe(201);
  });
});

describe('body limit config keys', () => {
  let hub: TestHub;
  afterAll(() => hub?.stop());

  it('queryBodyLimit and ingestBodyLimit are configurable', async () => {
    hub = await startTestHub({ tokens: [{ token: READER, scopes: ['read'] }], queryBodyLimit: 16 * KiB, ingestBodyLimit: 8 * KiB });
    const q = await hub.app.inject({
      method: 'POST',
      url: '/sparql',
      headers: { 'content-type': 'application/sparql-query', authorization: `Bearer ${READER}` },
      payload: paddedQuery(20 * KiB),
    });
    expect413(q);
    const ingest = await hub.app.inject({
      method: 'POST',
      url: '/ingest/urn:x',
      headers: { 'content-type': 'application/json', authorization: hub.bearer },
      payload: JSON.stringify({ pad: 'p'.repeat(10 * KiB) }),
    });
    expect413(ingest);
  });
});
