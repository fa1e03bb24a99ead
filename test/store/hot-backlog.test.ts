// The store worker's lazy insert backlog (hub/store/hot): which graphs a query reads, per-graph apply, and the embedded
// store with it (read-your-writes for queries naming their graph, for GRAPH ?g, for updates; errors still counted).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Backlog, type BacklogRequest } from '../../hub/store/hot/backlog.ts';
import { queryGraphs } from '../../hub/store/hot/query-graphs.ts';
import { OxigraphEngine } from '../../hub/store/oxigraph-engine.ts';
import { encodeInserts } from '../../hub/store/embedded/log-format.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';

const G = (i: number) => `https://h.example/graphs/g${i}`;
const obs = (i: number) => `<https://h.example/obs/${i}> <http://www.w3.org/ns/sosa/hasSimpleResult> "${i}"^^<http://www.w3.org/2001/XMLSchema#integer> .\n`;
const count = (e: OxigraphEngine, g: string) =>
  Number(JSON.parse(e.query(`SELECT (COUNT(*) AS ?n) WHERE { GRAPH <${g}> { ?s ?p ?o } }`).body).results.bindings[0].n.value);

describe('queryGraphs', () => {
  it('lists the graphs of GRAPH <iri> patterns, [] for default-graph queries, * for anything unbounded', () => {
    expect(queryGraphs('SELECT * WHERE { ?s ?p ?o }')).toEqual([]);
    expect(queryGraphs(`ASK { GRAPH <${G(1)}> { ?s ?p ?o } }`)).toEqual([G(1)]);
    expect(new Set(queryGraphs(`SELECT * { { GRAPH <${G(1)}> { ?s ?p ?o } } UNION { GRAPH <${G(2)}> { ?s ?p ?o } } }`) as string[])).toEqual(new Set([G(1), G(2)]));
    expect(queryGraphs(`SELECT * { ?s ?p ?o FILTER EXISTS { GRAPH <${G(3)}> { ?s ?p ?o } } }`)).toEqual([G(3)]);
    expect(queryGraphs(`SELECT * { { SELECT ?s { GRAPH <${G(4)}> { ?s ?p ?o } } } }`)).toEqual([G(4)]);
    expect(queryGraphs('SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }')).toBe('*');
    expect(queryGraphs(`SELECT * { GRAPH <${G(1)}> { GRAPH ?g { ?s ?p ?o } } }`)).toBe('*');
    expect(queryGraphs(`SELECT * FROM <${G(1)}> WHERE { ?s ?p ?o }`)).toBe('*');
    expect(queryGraphs(`SELECT * FROM NAMED <${G(1)}> WHERE { GRAPH <${G(1)}> { ?s ?p ?o } }`)).toBe('*');
    expect(queryGraphs('DESCRIBE <https://h.example/x>')).toBe('*');
    expect(queryGraphs('SELECT * WHERE { SERVICE <https://h.example/sparql> { ?s ?p ?o } }')).toBe('*');
    expect(queryGraphs('SELECT * WHERE { GRAPH <broken')).toBe('*');
    expect(queryGraphs(`ASK { GRAPH <${G(1)}> { ?s ?p ?o } }`, { unionDefaultGraph: true })).toBe('*');
    expect(queryGraphs(`ASK { GRAPH <${G(1)}> { ?s ?p ?o } }`, { namedGraphUris: [G(1)] })).toBe('*');
    // a CONSTRUCT template's GRAPH-less triples are not reads
    expect(queryGraphs(`CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <${G(5)}> { ?s ?p ?o } }`)).toEqual([G(5)]);
  });
});

describe('Backlog', () => {
  it('applies exactly the graphs asked for, then the rest oldest first; answers each request once with its errors', () => {
    const engine = new OxigraphEngine();
    const done: BacklogRequest[] = [];
    const b = new Backlog(() => engine, (r) => done.push({ ...r }));
    b.enqueue(1, encodeInserts([{ nquads: obs(1), graph: G(1) }, { nquads: obs(2), graph: G(2) }]));
    b.enqueue(2, encodeInserts([{ nquads: obs(3), graph: G(1) }, { nquads: 'this is not N-Triples .\n', graph: G(3) }]));
    b.enqueue(3, encodeInserts([{ nquads: '_:b <https://h.example/p> "x" .\n', graph: G(2) }, { nquads: '', graph: G(4) }]));
    b.enqueue(4, encodeInserts([]));
    expect(done.map((r) => r.id)).toEqual([4]); // nothing to apply: answered at once
    b.applyGraphs([G(1)]);
    expect(count(engine, G(1))).toBe(2);
    expect(count(engine, G(2))).toBe(0);
    expect(done.map((r) => r.id)).toEqual([4]); // requests 1 and 2 still wait for G(2) / G(3)
    b.step(1); // the oldest part left: request 1's G(2) message
    expect(count(engine, G(2))).toBe(1);
    expect(done.map((r) => r.id)).toEqual([4, 1]);
    b.applyAll();
    expect(b.empty).toBe(true);
    expect(b.bytes).toBe(0);
    expect(count(engine, G(2))).toBe(2); // the blank-node message, loaded on its own
    expect(done.map((r) => [r.id, r.errors])).toEqual([[4, 0], [1, 0], [2, 1], [3, 0]]);
    expect(done.find((r) => r.id === 2)!.lastError).toBeTruthy();
    expect(b.lines).toBe(4);
  });

  it('refuses a damaged batch with an error (nothing queued)', () => {
    const b = new Backlog(() => new OxigraphEngine(), () => {});
    const bad = encodeInserts([{ nquads: obs(1), graph: G(1) }]).subarray(0, 10);
    expect(() => b.enqueue(1, bad)).toThrow(/bad insert batch/);
    expect(b.empty).toBe(true);
  });

  it('applies a many-graph batch as one document, and one that fails as it would be loaded alone', () => {
    const engine = new OxigraphEngine();
    const done: BacklogRequest[] = [];
    const b = new Backlog(() => engine, (r) => done.push({ ...r }));
    const items = Array.from({ length: 200 }, (_, i) => ({ nquads: obs(i), graph: G(i) }));
    // a quad naming its own graph: the document with graphs appended fails, loaded alone it keeps its graph
    items[150] = { nquads: `${obs(150).replace(' .\n', '')} <${G(999)}> .\n`, graph: G(150) };
    items[151] = { nquads: 'not N-Triples at all\n', graph: G(151) };
    b.enqueue(1, encodeInserts(items));
    b.applyAll();
    expect(done).toHaveLength(1);
    expect(done[0]!.errors).toBe(1);
    expect(count(engine, G(0)) + count(engine, G(199))).toBe(2);
    expect(count(engine, G(150))).toBe(0);
    expect(count(engine, G(999))).toBe(1);
  });
});

describe('EmbeddedQuadStore with the lazy backlog (2 replicas)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const openStore = async (prefix: string, replicas: number): Promise<EmbeddedQuadStore> => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    const store = new EmbeddedQuadStore({ dir, replicas });
    await store.open();
    return store;
  };

  it('shows every acknowledged insert to the next query (GRAPH <g>, GRAPH ?g, an update), after a burst', { timeout: 60_000 }, async () => {
    const store = await openStore('hot-backlog-', 2);
    try {
      const N = 20_000;
      const acks: Promise<void>[] = [];
      for (let i = 0; i < N; i++) acks.push(store.insert(obs(i), G(i % 500)));
      await acks[N - 1];
      // the last message's graph, right after its ack (the rest of the burst may still be queued)
      expect(await store.ask(`ASK { GRAPH <${G((N - 1) % 500)}> { <https://h.example/obs/${N - 1}> ?p ?o } }`)).toBe(true);
      await Promise.all(acks);
      const all = await store.select('SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }');
      expect(Number(all[0]!.n!.value)).toBe(N);
      for (let i = 0; i < 100; i++) void store.insert(obs(N + i), G(7));
      await store.update(`DELETE WHERE { GRAPH <${G(7)}> { ?s ?p ?o } }`);
      expect(await store.ask(`ASK { GRAPH <${G(7)}> { ?s ?p ?o } }`)).toBe(false);
      expect(store.health().applyErrors).toBe(0);
      await store.insert('<https://h.example/bad> <https://h.example/p> "unterminated .\n', G(1));
      // counted once applied: a query of every graph applies the whole backlog first
      await store.select('SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }');
      for (let t = 0; t < 100 && store.health().applyErrors === 0; t++) await new Promise((r) => setTimeout(r, 20));
      expect(store.health().applyErrors).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('does not count the apply of queued inserts against a query\'s timeout (no runaway restart)', { timeout: 180_000 }, async () => {
    const store = await openStore('hot-backlog-timeout-', 1);
    try {
      // 400 insert calls of 200 quads over 200 graphs each (~0.5 s of Oxigraph work on a quiet machine)
      const batch = (from: number) => {
        const acks: Promise<void>[] = [];
        for (let c = 0; c < 400; c++) {
          acks.push(store.insert(Array.from({ length: 200 }, (_, k) => obs(from + c * 200 + k).replace(' .\n', ` <${G(k)}> .\n`)).join('')));
        }
        return Promise.all(acks); // durable; the worker applies them lazily
      };
      const COUNT = 'SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }';
      const counted = async (timeoutMs: number) => Number((await store.select(COUNT, { timeoutMs }))[0]!.n!.value);
      await batch(0);
      let t = performance.now();
      expect(await counted(60_000)).toBe(80_000);
      const applyAndQueryMs = performance.now() - t;
      t = performance.now();
      expect(await counted(60_000)).toBe(80_000);
      const queryMs = performance.now() - t;
      // Budget: the query alone fits 4 times over; the apply of the next 80,000 takes about applyAndQueryMs.
      const budget = Math.round(queryMs * 4 + 100);
      await batch(80_000);
      t = performance.now();
      expect(await counted(budget)).toBe(160_000);
      console.log(`apply + query ${Math.round(applyAndQueryMs)} ms, query ${Math.round(queryMs)} ms, budget ${budget} ms, with a backlog ${Math.round(performance.now() - t)} ms`);
      expect(store.health().workerRestarts).toBe(0);
      // and a query that does run away is still ended on time
      await expect(store.query('SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?a { ?s ?p ?o } GRAPH ?b { ?x ?y ?z } }', { timeoutMs: 200 })).rejects.toMatchObject({ name: 'QueryTimeoutError' });
    } finally {
      await store.close();
    }
  });
});
