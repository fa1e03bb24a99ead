// Issue 8 on the SPARQL side: /health never waits for the store, anonymous query budget and per-client limit (429),
// Retry-After on every store 503, SERVICE 501, IRIs with controls 400, Turtle bodies bounded before parsing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { TRAPS } from './complexity-traps.ts';

// 200^4 = 1.6e9 joined rows: runs until its time budget ends.
const RUNAWAY = 'SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?t ?h }';
const q = (text: string) => `/sparql?query=${encodeURIComponent(text)}`;
const body = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ queryTimeoutMs: 4000, anonymousQueryTimeoutMs: 1000, maxQueriesPerClient: 2 });
  const triples = Array.from({ length: 200 }, (_, i) => `<http://example.org/s${i}> <http://example.org/p> ${i} .`).join('\n');
  const r = await hub.app.inject({ method: 'PUT', url: '/graph-store?default', headers: { 'content-type': 'text/turtle', authorization: hub.bearer }, payload: triples });
  expect(r.statusCode).toBeLessThan(300);
});
afterAll(() => hub?.stop());
// A runaway ends with a worker rebuild; requests held during it may be withdrawn (503): start each test on a settled store.
beforeEach(async () => {
  for (let i = 0; i < 200 && (body(await hub.app.inject({ url: '/health' })).store as Record<string, number>).rebuilding; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
});

const timed = async <T>(p: Promise<T>) => {
  const t0 = performance.now();
  const value = await p;
  return { value, ms: performance.now() - t0 };
};

describe('queries that run long', () => {
  it('answers /health from the main thread while a runaway query runs, with the store figures and their age', async () => {
    const runaway = hub.app.inject({ url: q(RUNAWAY), headers: { authorization: hub.bearer } });
    await new Promise((r) => setTimeout(r, 200));
    const { value: health, ms } = await timed(hub.app.inject({ url: '/health' }));
    expect(health.statusCode).toBe(200);
    console.log(`[hardening] /health during a runaway query: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000); // before: /health waited for the worker, i.e. for the query's whole budget (4 s)
    const store = body(health).store as Record<string, number>;
    expect(store.quads).toBeGreaterThanOrEqual(0);
    expect(typeof store.quadsAgeMs).toBe('number');
    const r = await runaway;
    expect(r.statusCode).toBe(503);
    expect(body(r)).toMatchObject({ code: 'query-timeout' });
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('gives anonymous reads anonymousQueryTimeoutMs and token holders queryTimeoutMs', async () => {
    const anon = timed(hub.app.inject({ url: q(RUNAWAY) }));
    const { value: a, ms: anonMs } = await anon;
    expect(a.statusCode).toBe(503);
    expect(body(a)).toMatchObject({ code: 'query-timeout' });
    expect(body(a).detail).toMatch(/1000 ms/);
    expect(anonMs).toBeLessThan(3500);
    const { value: t, ms: tokenMs } = await timed(hub.app.inject({ url: q(RUNAWAY), headers: { authorization: hub.bearer } }));
    expect(t.statusCode).toBe(503);
    expect(body(t).detail).toMatch(/4000 ms/);
    expect(tokenMs).toBeGreaterThanOrEqual(3900);
  }, 40_000);

  it('limits the queries one client runs at once: the next gets 429 with Retry-After; other clients are not limited', async () => {
    const running = [hub.app.inject({ url: q(RUNAWAY) }), hub.app.inject({ url: q(RUNAWAY) })];
    await new Promise((r) => setTimeout(r, 50));
    const third = await hub.app.inject({ url: q('ASK { ?s ?p ?o }') });
    expect(third.statusCode).toBe(429);
    expect(third.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(body(third)).toMatchObject({ code: 'too-many-queries', status: 429 });
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another client (a token holder) is counted apart: queued behind the runaways, not refused.
    const other = hub.app.inject({ url: q('ASK { ?s ?p ?o }'), headers: { authorization: hub.bearer } });
    const search = await hub.app.inject({ url: `/search/sparql?query=${encodeURIComponent('ASK { ?s ?p ?o }')}` });
    expect(search.statusCode).toBe(429); // /search/sparql shares the gate
    for (const r of await Promise.all(running)) expect(r.statusCode).toBe(503);
    expect((await other).statusCode).toBe(200);
    expect((await hub.app.inject({ url: q('ASK { ?s ?p ?o }') })).statusCode).toBe(200);
  }, 60_000);

  it('measures how long writes wait behind an anonymous runaway query', async () => {
    const runaway = hub.app.inject({ url: q(RUNAWAY) });
    await new Promise((r) => setTimeout(r, 100));
    const update = timed(
      hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update', authorization: hub.bearer }, payload: 'INSERT DATA { <http://w/s> <http://w/p> 1 }' }),
    );
    const insert = timed(hub.store.insert('<http://w/s> <http://w/p> "2"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'));
    const [u, i] = await Promise.all([update, insert]);
    await runaway;
    console.log(`[hardening] behind an anonymous runaway (budget 1000 ms): SPARQL update acked after ${u.ms.toFixed(0)} ms, insert() after ${i.ms.toFixed(0)} ms`);
    expect(u.value.statusCode).toBe(204);
    expect(i.ms).toBeLessThan(u.ms); // inserts are acknowledged from the log, not after the worker
    expect(u.ms).toBeLessThan(8000);
    expect((await hub.app.inject({ url: q('ASK { <http://w/s> <http://w/p> 1, 2 }') })).body).toMatch(/true/);
  }, 30_000);
});

describe('refused before the store', () => {
  it('answers the guard bypasses of issue 8 with 400 query-too-complex on /sparql, and the worker never restarts', async () => {
    const before = (await hub.store.stats()).workerRestarts!;
    for (const name of ['escapedHash', 'dataPrefix', 'lessThanDepth', 'triplePatterns'] as const) {
      // With a token: some of these texts are over the anonymous body limit (64 KiB), which would refuse them first.
      const r = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query', authorization: hub.bearer }, payload: TRAPS[name] });
      expect(body(r), name).toMatchObject({ status: 400, code: 'query-too-complex' });
    }
    const update = await hub.app.inject({
      method: 'POST',
      url: '/sparql',
      headers: { 'content-type': 'application/sparql-update', authorization: hub.bearer },
      payload: TRAPS.nestedListsInData,
    });
    expect(body(update)).toMatchObject({ status: 400, code: 'query-too-complex' });
    expect((await hub.store.stats()).workerRestarts).toBe(before);
  });

  it('keeps the using-graph-uri rewrite (sparqljs on the event loop) to 8 KiB: 413 beyond, the same update without it is fine', async () => {
    const update = `INSERT { <urn:x:s> <urn:x:p> ?o } WHERE { ?s ?p ?o FILTER(?o != "${'x'.repeat(9000)}") }`;
    const headers = { authorization: hub.bearer, 'content-type': 'application/sparql-update' };
    const big = await hub.app.inject({ method: 'POST', url: '/sparql?using-graph-uri=http%3A%2F%2Fa%2F', headers, payload: update });
    expect(big.statusCode).toBe(413);
    expect(body(big)).toMatchObject({ code: 'payload-too-large' });
    const plain = await hub.app.inject({ method: 'POST', url: '/sparql', headers, payload: update });
    expect(plain.statusCode).toBe(204);
    const small = await hub.app.inject({ method: 'POST', url: '/sparql?using-graph-uri=http%3A%2F%2Fa%2F', headers, payload: 'INSERT { <urn:x:s> <urn:x:p> ?o } WHERE { ?s ?p ?o }' });
    expect(small.statusCode).toBe(204);
  });

  it('answers SERVICE with 501 unsupported-feature on /sparql and /search/sparql (tdd-http-unsupported-feature)', async () => {
    const service = 'SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }';
    for (const url of [q(service), `/search/sparql?query=${encodeURIComponent(service)}`]) {
      const r = await hub.app.inject({ url });
      expect(r.statusCode, url).toBe(501);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(body(r)).toMatchObject({ status: 501, code: 'unsupported-feature', title: 'Not Implemented', detail: expect.stringMatching(/SERVICE/) });
    }
    const post = await hub.app.inject({ method: 'POST', url: '/search/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: service });
    expect(post.statusCode).toBe(501);
    const silent = await hub.app.inject({ url: q('SELECT * WHERE { ?s ?p ?o FILTER(?o = "SERVICE") } LIMIT 1') });
    expect(silent.statusCode).toBe(200);
  });

  it('answers 400 query-too-complex on /search/sparql before sparqljs (which needs seconds on deep nesting)', async () => {
    const deep = `SELECT * WHERE ${'{'.repeat(5000)} ?s ?p ?o ${'}'.repeat(5000)}`;
    const { value: r, ms } = await timed(hub.app.inject({ method: 'POST', url: '/search/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: deep }));
    expect(r.statusCode).toBe(400);
    expect(body(r)).toMatchObject({ code: 'query-too-complex' });
    expect(ms).toBeLessThan(2000);
  });

  it.each([
    ['default-graph-uri', q('ASK {}') + '&default-graph-uri=http%3A%2F%2Fa%2F%00'],
    ['named-graph-uri', q('ASK {}') + '&named-graph-uri=http%3A%2F%2Fa%2F%01b'],
    ['GSP ?graph=', '/graph-store?graph=http%3A%2F%2Fa%2F%00'],
  ])('answers 400 bad-iri for a control character in %s', async (_name, url) => {
    const r = await hub.app.inject({ url });
    expect(r.statusCode).toBe(400);
    expect(body(r)).toMatchObject({ code: 'bad-iri' });
  });

  it('answers 400 bad-iri for controls in write parameters (GSP PUT, using-graph-uri, using-named-graph-uri)', async () => {
    const auth = { authorization: hub.bearer };
    const put = await hub.app.inject({ method: 'PUT', url: '/graph-store?graph=http%3A%2F%2Fa%2F%7F', headers: { ...auth, 'content-type': 'text/turtle' }, payload: '<a:s> <a:p> 1 .' });
    expect(body(put)).toMatchObject({ status: 400, code: 'bad-iri' });
    for (const p of ['using-graph-uri', 'using-named-graph-uri']) {
      const r = await hub.app.inject({
        method: 'POST',
        url: `/sparql?${p}=http%3A%2F%2Fa%2F%1F`,
        headers: { ...auth, 'content-type': 'application/sparql-update' },
        payload: 'DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(false) }',
      });
      expect(body(r), p).toMatchObject({ status: 400, code: 'bad-iri' });
    }
  });

  it('bounds Turtle bodies before parsing: deep lists 400 rdf-too-deep, many list members 413, both at once', async () => {
    const auth = { authorization: hub.bearer, 'content-type': 'text/turtle' };
    const nested = `<http://a/s> <http://a/p> ${'( '.repeat(100_000)} 1 ${') '.repeat(100_000)} .`; // 400 KB
    const deep = await timed(hub.app.inject({ method: 'PUT', url: '/graph-store?graph=http%3A%2F%2Fa%2Fg', headers: auth, payload: nested }));
    expect(deep.value.statusCode).toBe(400);
    expect(body(deep.value)).toMatchObject({ code: 'rdf-too-deep' });
    expect(deep.ms).toBeLessThan(2000); // before: 78 s in the worker
    const many = `<http://a/s> <http://a/p> ${Array.from({ length: 2000 }, () => `( ${'1 '.repeat(50)})`).join(' , ')} .`; // 212 KB, 100,000 members
    const wide = await timed(hub.app.inject({ method: 'POST', url: '/graph-store?graph=http%3A%2F%2Fa%2Fg', headers: auth, payload: many }));
    expect(wide.value.statusCode).toBe(413);
    expect(body(wide.value)).toMatchObject({ code: 'payload-too-large' });
    expect(wide.ms).toBeLessThan(2000); // before: 98 s parsing on the event loop
    const fine = await hub.app.inject({ method: 'PUT', url: '/graph-store?graph=http%3A%2F%2Fa%2Fg', headers: auth, payload: '<http://a/s> <http://a/p> ( 1 2 [ <http://a/q> 3 ] ) .' });
    expect(fine.statusCode).toBe(201);
  });
});
