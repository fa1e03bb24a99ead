// Fuzz finding (seed 42, ldp-sparql-patch input 190053) over HTTP: a SPARQL call of a function the store does not implement
// is 400 problem+json `unsupported-function` on /sparql, /search/sparql and LDP PATCH, and the resource is unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.stop());

const problem = (r: { statusCode: number; headers: Record<string, unknown>; body: string }) => ({
  status: r.statusCode,
  type: String(r.headers['content-type']).split(';')[0],
  code: (JSON.parse(r.body) as { code?: string }).code,
});
const expected = { status: 400, type: 'application/problem+json', code: 'unsupported-function' };

describe('an IRI called as a function (not a SPARQL builtin nor an XSD cast)', () => {
  it('/sparql query and update: 400 unsupported-function, not 500 store-failed', async () => {
    const query = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent('SELECT * WHERE { ?s ?p ?o FILTER(<urn:f>(?o)) }')}`, headers: { authorization: hub.bearer } });
    expect(problem(query)).toEqual(expected);
    const update = await hub.app.inject({
      method: 'POST',
      url: '/sparql',
      headers: { authorization: hub.bearer, 'content-type': 'application/sparql-update' },
      payload: 'DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(<urn:f>(?o)) }',
    });
    expect(problem(update)).toEqual(expected);
    // A cast is a function the engine knows: answered.
    const cast = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent('SELECT (<http://www.w3.org/2001/XMLSchema#integer>("7") AS ?n) {}')}`, headers: { authorization: hub.bearer } });
    expect(cast.statusCode).toBe(200);
    expect(JSON.parse(cast.body).results.bindings[0].n.value).toBe('7');
  });

  it('/search/sparql, without a token: 400 unsupported-function', async () => {
    const r = await hub.app.inject({ url: `/search/sparql?query=${encodeURIComponent('SELECT * WHERE { ?s ?p ?o FILTER(<urn:f>(?o)) }')}` });
    expect(problem(r)).toEqual(expected);
  });

  it('LDP PATCH with the fuzz input: 400, and the resource keeps its triples', async () => {
    const post = await hub.app.inject({ method: 'POST', url: '/ldp/', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: '<> <http://example.com/salary> 1000 .' });
    expect(post.statusCode).toBe(201);
    const url = new URL(String(post.headers.location)).pathname;
    const before = await hub.app.inject({ url, headers: { authorization: hub.bearer, accept: 'application/n-triples' } });
    const patch = await hub.app.inject({
      method: 'PATCH',
      url,
      headers: { authorization: hub.bearer, 'content-type': 'application/sparql-update' },
      payload: 'PREFIX ex: <http://example.com/>\nDELETE { ?s ex:salary ?o } INSERT { ?s ex:salary ?v }\nWHERE { ?s ex:salary ?o FILTER<(((1)))&&?b>(?o < 1500) BIND(?o + 100 AS ?v) }',
    });
    expect(problem(patch)).toEqual(expected);
    const after = await hub.app.inject({ url, headers: { authorization: hub.bearer, accept: 'application/n-triples' } });
    expect(after.body).toBe(before.body);
    expect(after.body).toContain('"1000"');
  });
});
