// SparqlEndpointQuadStore failure paths without a real store: unreachable, hanging and erroring endpoints, digest auth.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { QueryTimeoutError, ServiceUnavailableError, SparqlSyntaxError } from '../../hub/errors.ts';
import { SparqlEndpointQuadStore } from '../../hub/store/sparql-endpoint-quad-store.ts';
import { parseDigestChallenge } from '../../hub/store/sparql-endpoint/http-client.ts';
import { InsertBatcher } from '../../hub/store/sparql-endpoint/insert-batcher.ts';
import { createStore } from '../../hub/store/create-store.ts';
import { validateConfig } from '../../hub/config.ts';
import { freePort } from '../helpers/hub.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function fakeEndpoint(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server!.address() as { port: number }).port}`;
}

const storeAt = (url: string, extra: Record<string, unknown> = {}) =>
  new SparqlEndpointQuadStore({ queryEndpoint: `${url}/sparql`, updateEndpoint: `${url}/update`, timeoutMs: 2000, dialect: 'standard', ...extra });

describe('SparqlEndpointQuadStore failures', () => {
  it('reports an unreachable store as 503 store-unavailable', async () => {
    const port = await freePort();
    const err = await storeAt(`http://127.0.0.1:${port}`).open().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(err).toMatchObject({ status: 503, code: 'store-unavailable' });
  });

  it('ends a query that outlives its time limit with QueryTimeoutError', async () => {
    const url = await fakeEndpoint(() => {}); // never answers
    const started = Date.now();
    const err = await storeAt(url).query('SELECT * WHERE { ?s ?p ?o }', { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('maps a remote 400 to SparqlSyntaxError and sends the protocol request', async () => {
    const seen: Array<{ url: string; type: string; accept: string; body: string }> = [];
    const url = await fakeEndpoint((req, res, body) => {
      seen.push({ url: req.url!, type: req.headers['content-type']!, accept: req.headers.accept!, body });
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Parse error on line 3: unexpected }');
    });
    const err = await storeAt(url)
      .query('SELECT * {', { defaultGraphUris: ['http://g/1', 'http://g/2'], namedGraphUris: ['http://g/3'], resultFormat: 'text/csv' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SparqlSyntaxError);
    expect((err as SparqlSyntaxError).extensions.position).toEqual({ line: 3, column: 1 });
    const u = new URL(seen[0]!.url, 'http://x');
    expect(u.searchParams.getAll('default-graph-uri')).toEqual(['http://g/1', 'http://g/2']);
    expect(u.searchParams.getAll('named-graph-uri')).toEqual(['http://g/3']);
    expect(seen[0]).toMatchObject({ type: 'application/sparql-query; charset=utf-8', accept: 'text/csv', body: 'SELECT * {' });
  });

  it('maps a remote 5xx to 503 store-unavailable', async () => {
    const url = await fakeEndpoint((_req, res) => res.writeHead(500).end('boom'));
    await expect(storeAt(url).update('CLEAR ALL')).rejects.toMatchObject({ status: 503, code: 'store-unavailable' });
  });

  it('answers a digest challenge (RFC 7616) and reuses it', async () => {
    const auths: string[] = [];
    const url = await fakeEndpoint((req, res) => {
      const auth = req.headers.authorization ?? '';
      auths.push(auth);
      if (!auth.startsWith('Digest ')) {
        res.writeHead(401, { 'www-authenticate': 'Digest realm="SPARQL", nonce="abc", opaque="op", qop="auth", algorithm="MD5"' }).end();
      } else res.writeHead(200).end();
    });
    const store = storeAt(url, { user: 'dba', password: 'dba' });
    await store.update('CLEAR ALL');
    await store.update('CLEAR ALL');
    expect(auths[0]).toBe('');
    expect(auths.slice(1)).toHaveLength(2);
    expect(auths[1]).toMatch(/username="dba".*nonce="abc".*nc=00000001/);
    expect(auths[2]).toMatch(/nc=00000002/);
  });

  it('answers a Basic challenge (RFC 7617)', async () => {
    const auths: string[] = [];
    const url = await fakeEndpoint((req, res) => {
      auths.push(req.headers.authorization ?? '');
      if (!req.headers.authorization) res.writeHead(401, { 'www-authenticate': 'Basic realm="store"' }).end();
      else res.writeHead(200).end();
    });
    const store = storeAt(url, { user: 'hub', password: 's3cret' });
    await store.update('CLEAR ALL');
    await store.update('CLEAR ALL');
    const basic = `Basic ${Buffer.from('hub:s3cret').toString('base64')}`;
    expect(auths).toEqual(['', basic, basic]);
  });

  it('parses digest challenges', () => {
    expect(parseDigestChallenge('Digest realm="r", nonce="n", qop="auth,auth-int"')).toMatchObject({ realm: 'r', nonce: 'n', qop: 'auth' });
    expect(parseDigestChallenge('Basic realm="r"')).toBeUndefined();
  });

  it('groups calls made while a request is in flight', async () => {
    const sizes: number[] = [];
    const batcher = new InsertBatcher(async (items) => {
      sizes.push(items.length);
      await new Promise((r) => setTimeout(r, 20));
    });
    await Promise.all(Array.from({ length: 100 }, () => batcher.add({ quads: [] })));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(100);
    expect(sizes.length).toBeLessThanOrEqual(2);
  });

  it('is what createStore returns for store.kind "sparql"', () => {
    const config = validateConfig({ dataDir: '/tmp/unused', store: { kind: 'sparql', queryEndpoint: 'http://127.0.0.1:1/q', updateEndpoint: 'http://127.0.0.1:1/u' } });
    expect(createStore(config)).toBeInstanceOf(SparqlEndpointQuadStore);
  });
});
