// Hostile input to the LDP server: bad RDF, huge bodies, path traversal in Slug and URL, bad If-Match, unknown
// interaction models, missing credentials, JSON-LD remote contexts. Every refusal is a 4xx problem, never a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DCT, LDP, Ldp, ldpHub } from './helpers.ts';

let ldp: Ldp;
const READER = 'reader-token-0123456789';
beforeAll(async () => (ldp = await ldpHub({ bodyLimit: 64 * 1024, tokens: [{ token: READER, scopes: ['read'] }] }, true)));
afterAll(async () => ldp?.hub.stop());

const TTL = { 'content-type': 'text/turtle' };

describe('hostile input', () => {
  it('refuses bad Turtle with 400 rdf-syntax, stores nothing, and keeps serving', async () => {
    const before = (await ldp.get('/ldp/')).quads.length;
    const r = await ldp.req('POST', '/ldp/', TTL, '<> <http://ex/p> "unterminated ;');
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(r.body).code).toBe('rdf-syntax');
    expect(String(r.headers.link)).toContain(`rel="${LDP}constrainedBy"`);
    expect((await ldp.get('/ldp/')).quads.length).toBe(before);
    const bad = await ldp.req('POST', '/ldp/', { 'content-type': 'application/ld+json' }, '{"@id": ');
    expect(bad.status).toBe(400);
  });

  it('refuses a body above the limit with 413', async () => {
    const big = `<> <${DCT}description> "${'x'.repeat(70 * 1024)}" .`;
    const r = await ldp.req('POST', '/ldp/', TTL, big);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body).code).toBe('payload-too-large');
  });

  it('reduces a Slug with path traversal to one segment inside the container', async () => {
    for (const slug of ['../../etc/passwd', '..', '%2e%2e%2fsecret', 'a/b\\c', '.meta', 'x.meta']) {
      const loc = await ldp.post('/ldp/', `<> <${DCT}title> "slug" .`, { slug });
      const rest = loc.slice(`${ldp.base}/ldp/`.length);
      expect(rest, slug).not.toContain('/');
      expect(rest, slug).not.toMatch(/^\.\.?$/);
      expect(rest.endsWith('.meta'), slug).toBe(false);
      expect((await ldp.req('GET', loc)).status).toBe(200);
    }
  });

  it('refuses dot segments, empty segments and encoded slashes in the request path (raw HTTP, no client normalisation)', async () => {
    const { baseUrlOf } = await import('../helpers/hub.ts');
    const { request } = await import('node:http');
    const hub = ldp.hub;
    {
      const port = Number(new URL(baseUrlOf(hub)).port);
      for (const path of ['/ldp/../x', '/ldp/%2e%2e/x', '/ldp/%2E/x', '/ldp/a%2Fb', '/ldp/a//b', '/ldp/a%5Cb']) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path, method: 'PUT', headers: { ...TTL, authorization: hub.bearer }, timeout: 5000 }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          });
          req.on('error', reject);
          req.end(`<> <${DCT}title> "x" .`);
        });
        expect(status, path).toBe(400);
      }
    }
  });

  it('answers 412 to malformed, weak or stale If-Match values and 428 without one', async () => {
    const loc = await ldp.post('/ldp/', `<> <${DCT}title> "v1" .`);
    const etag = String((await ldp.req('GET', loc)).headers.etag);
    for (const value of ['garbage', 'W/' + etag, '"stale"', '""']) {
      const r = await ldp.req('PUT', loc, { ...TTL, 'if-match': value }, `<> <${DCT}title> "v2" .`);
      expect(r.status, value).toBe(412);
    }
    expect((await ldp.req('PUT', loc, TTL, `<> <${DCT}title> "v2" .`)).status).toBe(428);
    expect((await ldp.req('PUT', loc, { ...TTL, 'if-match': etag }, `<> <${DCT}title> "v2" .`)).status).toBe(204);
    // The tag of another representation of the same state matches too (same state hash, different variant).
    const nt = String((await ldp.req('GET', loc, { accept: 'application/n-triples' })).headers.etag);
    expect(nt).not.toBe(etag);
    expect((await ldp.req('PUT', loc, { ...TTL, 'if-match': nt }, `<> <${DCT}title> "v3" .`)).status).toBe(204);
  });

  it('PUT-create keeps container IRIs ending with / and only them (409)', async () => {
    expect((await ldp.req('PUT', '/ldp/not-a-dir', { ...TTL, link: `<${LDP}BasicContainer>; rel="type"` }, '')).status).toBe(409);
    expect((await ldp.req('PUT', '/ldp/a-dir/', { ...TTL, link: `<${LDP}RDFSource>; rel="type"` }, '')).status).toBe(409);
    expect((await ldp.req('PUT', '/ldp/a-dir/', TTL, '')).status).toBe(201);
    expect((await ldp.req('PUT', '/ldp/a-dir/doc', TTL, `<> <${DCT}title> "in a dir" .`)).status).toBe(201);
    expect((await ldp.req('PUT', '/ldp/no-such-dir/doc', TTL, '')).status).toBe(409);
  });

  it('refuses an unknown interaction model with 409 and constrainedBy', async () => {
    const r = await ldp.req('POST', '/ldp/', { ...TTL, link: `<${LDP}Fancy>; rel="type"` }, '');
    expect(r.status).toBe(409);
    expect(String(r.headers.link)).toContain('constrainedBy');
  });

  it('needs the write scope for writes (401 without a token, 403 with a read-only token)', async () => {
    const r = await ldp.req('POST', '/ldp/', TTL, `<> <${DCT}title> "anon" .`, false);
    expect(r.status).toBe(401);
    expect((await ldp.req('GET', '/ldp/', {}, undefined, false)).status).toBe(200);
    const res = await ldp.req('POST', '/ldp/', { ...TTL, authorization: `Bearer ${READER}` }, '', false);
    expect(res.status).toBe(403);
  });

  it('does not fetch remote JSON-LD contexts', async () => {
    const doc = JSON.stringify({ '@context': 'http://127.0.0.1:9/never-fetched.jsonld', '@id': '', title: 'x' });
    const t0 = Date.now();
    const r = await ldp.req('POST', '/ldp/', { 'content-type': 'application/ld+json' }, doc);
    expect(r.status).toBe(400);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('refuses deleting the root and non-empty containers; 410 after delete, never re-minted', async () => {
    expect((await ldp.req('DELETE', '/ldp/')).status).toBe(405);
    const c = await ldp.post('/ldp/', '', { link: `<${LDP}BasicContainer>; rel="type"`, slug: 'box' });
    const m = await ldp.post(c, `<> <${DCT}title> "inside" .`);
    expect((await ldp.req('DELETE', c)).status).toBe(409);
    expect((await ldp.req('DELETE', m)).status).toBe(204);
    expect((await ldp.req('DELETE', c)).status).toBe(204);
    expect((await ldp.req('GET', c)).status).toBe(410);
    expect((await ldp.req('PUT', c, TTL, '')).status).toBe(410);
    const again = await ldp.post('/ldp/', '', { link: `<${LDP}BasicContainer>; rel="type"`, slug: 'box' });
    expect(again).not.toBe(c);
  });
});
