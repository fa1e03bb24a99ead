// /sparql: result formats by Accept, protocol dataset, auth, problem+json errors, timeouts and hostile input.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QueryTimeoutError } from '../../hub/errors.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';
import type { QueryOptions } from '../../hub/store/quad-store.ts';
import type { InjectOptions } from 'fastify';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { parseCsv, parseSrj, parseSrx, parseTsv } from '../conformance/sparql11/results.ts';
import { expectIsomorphic } from './rdf-parse.ts';

const DATA = `@prefix ex: <http://example.org/> .
ex:s1 ex:p "one" ; ex:q ex:o .
ex:s2 ex:p "two"@en .`;
const SELECT = 'PREFIX ex: <http://example.org/> SELECT ?s ?o WHERE { ?s ex:p ?o } ORDER BY ?s';
const CONSTRUCT = 'CONSTRUCT WHERE { ?s ?p ?o }';
const READER = 'reader-token-0123456789';

let hub: TestHub;
const q = (query: string) => `/sparql?query=${encodeURIComponent(query)}`;
const problem = (body: string) => JSON.parse(body) as { code: string; status: number; detail: string; position?: { line: number; column: number } };

async function load(turtle: string, graph?: string): Promise<void> {
  const r = await hub.app.inject({
    method: 'PUT',
    url: graph ? `/graph-store?graph=${encodeURIComponent(graph)}` : '/graph-store?default',
    headers: { 'content-type': 'text/turtle', authorization: hub.bearer },
    payload: turtle,
  });
  expect(r.statusCode).toBeLessThan(300);
}

// One hub for the file (a hub takes seconds to start on this shared machine); each test starts from DATA alone.
beforeAll(async () => {
  hub = await startTestHub({ tokens: [{ token: READER, scopes: ['read'] }], bodyLimit: 4096 });
});
beforeEach(async () => {
  await hub.store.update('DROP ALL');
  await load(DATA);
});
afterAll(() => hub?.stop());

describe('SELECT and ASK results', () => {
  it('answers SPARQL JSON by default and XML, CSV, TSV by Accept', async () => {
    const json = await hub.app.inject({ url: q(SELECT) });
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/sparql-results\+json/);
    expect(json.headers.vary).toMatch(/Accept/);
    const rows = parseSrj(json.body).rows!.map((r) => r.get('o'));
    expect(rows).toEqual(['l:one|http://www.w3.org/2001/XMLSchema#string|', 'l:two|http://www.w3.org/1999/02/22-rdf-syntax-ns#langString|en']);

    const xml = await hub.app.inject({ url: q(SELECT), headers: { accept: 'application/sparql-results+xml' } });
    expect(xml.headers['content-type']).toMatch(/^application\/sparql-results\+xml/);
    expect(parseSrx(xml.body).rows).toEqual(parseSrj(json.body).rows);

    const tsv = await hub.app.inject({ url: q(SELECT), headers: { accept: 'text/tab-separated-values' } });
    expect(tsv.headers['content-type']).toMatch(/^text\/tab-separated-values/);
    expect(parseTsv(tsv.body).rows).toEqual(parseSrj(json.body).rows);

    const csv = await hub.app.inject({ url: q(SELECT), headers: { accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(parseCsv(csv.body).rows!.map((r) => r.get('o'))).toEqual(['s:one', 's:two']);
  });

  it('honours q-values and answers 406 when nothing fits', async () => {
    const r = await hub.app.inject({ url: q(SELECT), headers: { accept: 'application/sparql-results+json;q=0.5, text/csv;q=0.9' } });
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const ask = await hub.app.inject({ url: q('ASK { ?s ?p ?o }'), headers: { accept: 'application/sparql-results+xml' } });
    expect(parseSrx(ask.body).boolean).toBe(true);
    const none = await hub.app.inject({ url: q('ASK {}'), headers: { accept: 'text/csv' } });
    expect(none.statusCode).toBe(406);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(problem(none.body).code).toBe('not-acceptable');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const r = await hub.app.inject({ method: 'HEAD', url: q(SELECT) });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/sparql-results\+json/);
    expect(r.body).toBe('');
  });
});

describe('CONSTRUCT and DESCRIBE results', () => {
  for (const type of ['text/turtle', 'application/n-triples', 'application/n-quads', 'application/ld+json', 'application/rdf+xml']) {
    it(`serialises the graph as ${type}`, async () => {
      const r = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query', accept: type }, payload: CONSTRUCT });
      expect(r.statusCode).toBe(200);
      expect(String(r.headers['content-type']).split(';')[0]).toBe(type);
      expect(await expectIsomorphic(r.body, type, DATA)).toBe(true);
    });
  }

  it('defaults to Turtle and refuses result-set types', async () => {
    const r = await hub.app.inject({ url: q('DESCRIBE <http://example.org/s1>') });
    expect(r.headers['content-type']).toMatch(/^text\/turtle/);
    expect(await expectIsomorphic(r.body, 'text/turtle', '@prefix ex: <http://example.org/> . ex:s1 ex:p "one" ; ex:q ex:o .')).toBe(true);
    const bad = await hub.app.inject({ url: q(CONSTRUCT), headers: { accept: 'application/sparql-results+json' } });
    expect(bad.statusCode).toBe(406);
  });
});

describe('protocol dataset and updates', () => {
  it('uses default-graph-uri and named-graph-uri, from the URL and the form', async () => {
    await load('<http://example.org/a> <http://example.org/in> "g1" .', 'http://example.org/g1');
    await load('<http://example.org/b> <http://example.org/in> "g2" .', 'http://example.org/g2');
    const count = 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }';
    const r = await hub.app.inject({
      url: `${q(count)}&default-graph-uri=${encodeURIComponent('http://example.org/g1')}&default-graph-uri=${encodeURIComponent('http://example.org/g2')}`,
    });
    expect(parseSrj(r.body).rows![0]!.get('n')).toBe('l:2|http://www.w3.org/2001/XMLSchema#integer|');
    const form = new URLSearchParams({ query: 'SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }', 'named-graph-uri': 'http://example.org/g2' });
    const f = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
    expect(parseSrj(f.body).rows!.map((x) => x.get('g'))).toEqual(['u:http://example.org/g2']);
  });

  it('queries the union of all graphs with union-default-graph', async () => {
    await load('<http://example.org/a> <http://example.org/in> "g1" .', 'http://example.org/g1');
    const count = 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }';
    const plain = await hub.app.inject({ url: q(count) });
    expect(parseSrj(plain.body).rows![0]!.get('n')).toBe('l:3|http://www.w3.org/2001/XMLSchema#integer|');
    const union = await hub.app.inject({ url: `${q(count)}&union-default-graph` });
    expect(parseSrj(union.body).rows![0]!.get('n')).toBe('l:4|http://www.w3.org/2001/XMLSchema#integer|');
    const both = await hub.app.inject({ url: `${q(count)}&union-default-graph&default-graph-uri=${encodeURIComponent('http://example.org/g1')}` });
    expect(both.statusCode).toBe(400);
  });

  it('runs updates with the write scope, and using-graph-uri', async () => {
    await load('<http://example.org/a> <http://example.org/in> "g1" .', 'http://example.org/g1');
    const update = 'INSERT { GRAPH <http://example.org/copy> { ?s ?p ?o } } WHERE { ?s ?p ?o }';
    const anon = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update' }, payload: update });
    expect(anon.statusCode).toBe(401);
    expect(problem(anon.body).code).toBe('unauthorized');
    const reader = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update', authorization: `Bearer ${READER}` }, payload: update });
    expect(reader.statusCode).toBe(403);
    const ok = await hub.app.inject({
      method: 'POST',
      url: `/sparql?using-graph-uri=${encodeURIComponent('http://example.org/g1')}`,
      headers: { 'content-type': 'application/sparql-update', authorization: hub.bearer },
      payload: update,
    });
    expect(ok.statusCode).toBe(204);
    expect(await hub.store.getGraph('http://example.org/copy')).toBe('<http://example.org/a> <http://example.org/in> "g1" .\n');
    const conflict = await hub.app.inject({
      method: 'POST',
      url: `/sparql?using-graph-uri=${encodeURIComponent('http://example.org/g1')}`,
      headers: { 'content-type': 'application/sparql-update', authorization: hub.bearer },
      payload: 'WITH <http://example.org/g1> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }',
    });
    expect(conflict.statusCode).toBe(400);
    expect(problem(conflict.body).code).toBe('dataset-conflict');
  });
});

describe('errors', () => {
  it('reports syntax errors with the parser message and position', async () => {
    const r = await hub.app.inject({ url: q('SELECT * WHERE {\n  ?s ?p \n}') });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = problem(r.body);
    expect(p.code).toBe('sparql-syntax');
    expect(p.position).toEqual({ line: expect.any(Number), column: expect.any(Number) });
    expect(p.position!.line).toBeGreaterThanOrEqual(2);
    const u = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update', authorization: hub.bearer }, payload: 'INSERT DATA { <a:a> }' });
    expect(problem(u.body).code).toBe('sparql-syntax');
  });

  it('applies the protocol rules', async () => {
    const cases: Array<[InjectOptions, number, string]> = [
      [{ url: '/sparql?default-graph-uri=http%3A%2F%2Fx' }, 400, 'bad-request'],
      [{ url: `${q('ASK {}')}&query=${encodeURIComponent('ASK {}')}` }, 400, 'bad-request'],
      [{ url: '/sparql?update=CLEAR%20ALL' }, 405, 'method-not-allowed'],
      [{ method: 'PUT', url: '/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: 'ASK {}' }, 405, 'method-not-allowed'],
      [{ method: 'POST', url: '/sparql', headers: { 'content-type': 'text/plain' }, payload: 'ASK {}' }, 415, 'unsupported-media-type'],
      [{ method: 'POST', url: '/sparql', payload: 'ASK {}' }, 415, 'unsupported-media-type'],
      [{ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query; charset=utf-16' }, payload: 'ASK {}' }, 415, 'unsupported-media-type'],
      [{ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'query=ASK%20%7B%7D&update=CLEAR%20ALL' }, 400, 'bad-request'],
      [{ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'nothing=here' }, 400, 'bad-request'],
      [{ url: `${q('ASK {}')}&default-graph-uri=not%20an%20iri` }, 400, 'bad-iri'],
      [{ url: `${q('ASK {}')}&using-graph-uri=http%3A%2F%2Fx` }, 400, 'bad-request'],
    ];
    for (const [req, status, code] of cases) {
      const r = await hub.app.inject(req);
      expect([r.statusCode, problem(r.body).code], JSON.stringify(req)).toEqual([status, code]);
    }
    const put = await hub.app.inject({ method: 'PUT', url: '/sparql' });
    expect(put.headers.allow).toBe('GET, HEAD, POST');
  });

  it('refuses SERVICE and remote LOAD with a 501 unsupported-feature the client can act on', async () => {
    const service = await hub.app.inject({ url: q('SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }') });
    expect([service.statusCode, problem(service.body).code]).toEqual([501, 'unsupported-feature']);
    const silent = await hub.app.inject({ url: q('SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }') });
    expect(silent.statusCode).toBe(200);
    const load = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update', authorization: hub.bearer }, payload: 'LOAD <http://127.0.0.1:9/x.ttl>' });
    expect([load.statusCode, problem(load.body).code]).toEqual([501, 'unsupported-feature']);
  });

  it('needs a read token when reads are closed', async () => {
    const closed = await startTestHub({ readsOpen: 'never', tokens: [{ token: READER, scopes: ['read'] }] });
    try {
      expect((await closed.app.inject({ url: q('ASK {}') })).statusCode).toBe(401);
      expect((await closed.app.inject({ url: q('ASK {}'), headers: { authorization: `Bearer ${READER}` } })).statusCode).toBe(200);
      expect((await closed.app.inject({ url: q('ASK {}'), headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(401);
    } finally {
      await closed.stop();
    }
  });

  it('ends a query at the configured timeout with a 503 problem', async () => {
    const seen: QueryOptions[] = [];
    class SlowStore extends MemoryQuadStore {
      override async query(sparql: string, options?: QueryOptions) {
        if (sparql.includes('?slow')) seen.push(options ?? {});
        if (sparql.includes('?slow')) throw new QueryTimeoutError(options?.timeoutMs ?? -1);
        return super.query(sparql, options);
      }
    }
    const slow = await startTestHub({ queryTimeoutMs: 1234 }, { store: new SlowStore() });
    try {
      const r = await slow.app.inject({ url: q('SELECT * WHERE { ?slow ?p ?o }') });
      expect(r.statusCode).toBe(503);
      expect(problem(r.body)).toMatchObject({ code: 'query-timeout', detail: expect.stringContaining('1234 ms') });
      expect(seen[0]!.timeoutMs).toBe(1234);
      expect((await slow.app.inject({ url: q('ASK {}') })).statusCode).toBe(200);
    } finally {
      await slow.stop();
    }
  });
});

describe('hostile input', () => {
  const stillAnswers = async () => {
    const r = await hub.app.inject({ url: q('ASK { ?s ?p ?o }') });
    expect(r.statusCode).toBe(200);
    expect(parseSrj(r.body).boolean).toBe(true);
  };

  it('bounds the body size', async () => {
    const r = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: `ASK {} #${'x'.repeat(8000)}` });
    expect(r.statusCode).toBe(413);
    expect(problem(r.body).code).toBe('payload-too-large');
    await stillAnswers();
  });

  it('refuses binary garbage and truncated form bodies', async () => {
    const garbage = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]) });
    expect([garbage.statusCode, problem(garbage.body).code]).toEqual([400, 'bad-encoding']);
    const truncated = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3F' });
    expect([truncated.statusCode, problem(truncated.body).code]).toEqual([400, 'sparql-syntax']);
    const badEscape = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'query=%E2%82' });
    expect(badEscape.statusCode).toBe(400);
    const empty = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query' } });
    expect(empty.statusCode).toBe(400);
    await stillAnswers();
  });

  it('refuses texts deep enough to overflow the engine, and the store survives', async () => {
    const deep = `SELECT * WHERE ${'{'.repeat(1000)}${'}'.repeat(1000)}`;
    const chain = `SELECT * WHERE { FILTER(1${'+1'.repeat(5000)} > 0) }`;
    const big = await startTestHub({ bodyLimit: 1024 * 1024 });
    try {
      for (const text of [deep, chain]) {
        const r = await big.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: text });
        expect([r.statusCode, problem(r.body).code]).toEqual([400, 'query-too-complex']);
      }
      const u = await big.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update', authorization: big.bearer }, payload: `INSERT { <a:a> <a:b> <a:c> } WHERE ${'{'.repeat(1000)}${'}'.repeat(1000)}` });
      expect(problem(u.body).code).toBe('query-too-complex');
      // An update whose result would differ on each store engine and each log replay: refused, named, nothing written.
      const n = await big.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update', authorization: big.bearer }, payload: 'INSERT { <a:a> <a:id> ?u } WHERE { BIND(STRUUID() AS ?u) }' });
      expect([n.statusCode, n.headers['content-type'], problem(n.body).code]).toEqual([400, 'application/problem+json; charset=utf-8', 'update-nondeterministic']);
      expect(problem(n.body).detail).toMatch(/STRUUID\(\)/);
      expect(await big.store.ask('ASK { <a:a> <a:id> ?u }')).toBe(false);
      const ok = await big.app.inject({ url: q('ASK {}') });
      expect(ok.statusCode).toBe(200);
    } finally {
      await big.stop();
    }
    await stillAnswers();
  });
});

describe('service description', () => {
  it('describes the endpoint in Turtle by default and in other RDF syntaxes by Accept', async () => {
    const r = await hub.app.inject({ url: '/sparql' });
    expect(r.headers['content-type']).toMatch(/^text\/turtle/);
    expect(r.body).toContain(`sd:endpoint <${hub.config.baseUrl}/sparql>`);
    const nt = await hub.app.inject({ url: '/sparql', headers: { accept: 'application/n-triples' } });
    expect(nt.headers['content-type']).toMatch(/^application\/n-triples/);
    expect(nt.body).toContain('<http://www.w3.org/ns/sparql-service-description#endpoint>');
  });
});
