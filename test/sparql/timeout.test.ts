// A runaway query on the embedded store ends at queryTimeoutMs with a 503 problem while the hub keeps answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub({ queryTimeoutMs: 3000 });
  const triples = Array.from({ length: 200 }, (_, i) => `<http://example.org/s${i}> <http://example.org/p> ${i} .`).join('\n');
  const r = await hub.app.inject({ method: 'PUT', url: '/graph-store?default', headers: { 'content-type': 'text/turtle', authorization: hub.bearer }, payload: triples });
  expect(r.statusCode).toBeLessThan(300);
});
afterAll(() => hub?.stop());

describe('query timeout (embedded store)', () => {
  it('answers 503 query-timeout for a runaway query, stays responsive meanwhile, and works afterwards', async () => {
    // 200^4 = 1.6e9 joined rows: far beyond 3 s.
    const runaway = 'SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?t ?h }';
    const started = Date.now();
    let settled = false;
    const pending = hub.app.inject({ url: `/sparql?query=${encodeURIComponent(runaway)}` }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The event loop is free while the worker runs the query: another request is answered before the query ends.
    const description = await hub.app.inject({ url: '/sparql' });
    expect(description.statusCode).toBe(200);
    expect(settled).toBe(false);
    const r = await pending;
    expect(r.statusCode).toBe(503);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'query-timeout', status: 503 });
    expect(Date.now() - started).toBeLessThan(10_000);
    const after = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent('SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }')}` });
    expect(after.statusCode).toBe(200);
    expect(JSON.parse(after.body).results.bindings[0].n.value).toBe('200');
  }, 20_000);
});
