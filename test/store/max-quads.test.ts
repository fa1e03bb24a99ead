// store.maxQuads: past it, writes that add quads get 507 store-full (the engine's WebAssembly memory cannot grow past
// 4 GiB, and an engine that traps there is lost); writes that remove quads still run and open the store again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreFullError } from '../../hub/errors.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import { mayAddQuads } from '../../hub/store/query-complexity.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const EX = 'http://example.org/full/';
const lines = (from: number, n: number, graph?: string) =>
  Array.from({ length: n }, (_, i) => `<${EX}s${from + i}> <${EX}p> "${from + i}"${graph ? ` <${graph}>` : ''} .\n`).join('');
const dirs: string[] = [];
const stores: EmbeddedQuadStore[] = [];
let hub: TestHub | undefined;

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await hub?.stop();
  hub = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openStore(maxQuads: number): Promise<EmbeddedQuadStore> {
  const dir = mkdtempSync(join(tmpdir(), 'max-quads-'));
  dirs.push(dir);
  const store = new EmbeddedQuadStore({ dir, maxQuads, replicas: 1, standby: 0, workerNice: 0 });
  stores.push(store);
  await store.open();
  return store;
}

const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('store.maxQuads', () => {
  it('refuses inserts, PUT/POST and adding updates past the bound with 507 store-full; deleting makes room again', async () => {
    const store = await openStore(100);
    await store.insert(lines(0, 60, `${EX}g1`));
    await store.insert(lines(100, 30, `${EX}g2`));
    const refused = await rejection(store.insert(lines(200, 20, `${EX}g3`)));
    expect(refused).toBeInstanceOf(StoreFullError);
    expect((refused as StoreFullError).status).toBe(507);
    expect((refused as StoreFullError).code).toBe('store-full');
    expect((refused as Error).message).toMatch(/holds about 90 quads and may hold 100 \(store\.maxQuads\)/);
    // Room for 10 more: a write of 10 passes, the next of 1 does not.
    await store.insert(lines(300, 10, `${EX}g2`));
    expect(await rejection(store.insert(lines(400, 1, `${EX}g2`)))).toBeInstanceOf(StoreFullError);
    expect(await rejection(store.putGraph(`${EX}g4`, lines(500, 1)))).toBeInstanceOf(StoreFullError);
    expect(await rejection(store.postGraph(`${EX}g4`, lines(500, 1)))).toBeInstanceOf(StoreFullError);
    expect(await rejection(store.update(`INSERT DATA { GRAPH <${EX}g4> { <${EX}a> <${EX}b> "c" } }`))).toBeInstanceOf(StoreFullError);
    // Updates that only remove run, whatever words their strings and IRIs hold.
    await store.update(`DELETE DATA { GRAPH <${EX}g2> { <${EX}s100> <${EX}p> "100" } } # INSERT later`);
    await store.update(`DELETE WHERE { GRAPH <${EX}g2> { ?s <${EX}p> "insert" } }`);
    expect(store.health().fullRefusals).toBe(5);
    expect((await store.stats()).quads).toBe(99);
    // Dropping a graph makes room: the count is taken again from the engine, and writes pass.
    expect(await store.deleteGraph(`${EX}g1`)).toBe(true);
    let accepted = false;
    for (const until = Date.now() + 10_000; !accepted && Date.now() < until; ) {
      accepted = await store.insert(lines(600, 40, `${EX}g5`)).then(() => true, () => false);
      if (!accepted) await new Promise((r) => setTimeout(r, 50));
    }
    expect(accepted).toBe(true);
    expect((await store.stats()).quads).toBe(79);
    expect(await store.ask(`ASK { GRAPH <${EX}g5> { <${EX}s639> <${EX}p> "639" } }`)).toBe(true);
    // Nothing refused is in the store.
    expect(await store.ask(`ASK { GRAPH ?g { <${EX}s200> ?p ?o } }`)).toBe(false);
    expect(await store.ask(`ASK { GRAPH <${EX}g4> { ?s ?p ?o } }`)).toBe(false);
  });

  it('tells updates that may add quads from those that only remove', () => {
    for (const q of ['INSERT DATA { <a:b> <a:c> "d" }', 'delete { ?s ?p ?o } insert { ?s ?p 1 } where { ?s ?p ?o }', 'LOAD <http://x/y>', 'ADD <a:g> TO <a:h>', 'COPY DEFAULT TO <a:g>', 'move <a:g> to <a:h>', 'DROP ALL ; INSERT DATA {}'])
      expect(mayAddQuads(q), q).toBe(true);
    for (const q of ['DELETE DATA { <a:insert> <a:p> "INSERT" }', 'DROP GRAPH <a:g>', 'CLEAR ALL', "DELETE WHERE { ?s ?p '''load\nadd''' }", 'CREATE GRAPH <a:g> # INSERT', 'DELETE WHERE { ?s <a:p> "a \\" INSERT" }', 'WITH <a:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o . FILTER(?o > 1 && ?o < 5) }'])
      expect(mayAddQuads(q), q).toBe(false);
  });

  it('answers 507 application/problem+json over HTTP, counted in /health', async () => {
    hub = await startTestHub({ store: { maxQuads: 50, replicas: 1 } });
    const post = (payload: string) =>
      hub!.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-update', authorization: hub!.bearer }, payload });
    // One quad per update: what an update added is guessed from its length (~5 here); a write the guesses would refuse
    // waits for an exact count, so the store fills to its bound exactly.
    let res = await post(`INSERT DATA { GRAPH <${EX}h> { <${EX}x0> <${EX}y> "z" } }`);
    for (let i = 1; i < 100 && res.statusCode !== 507; i++) res = await post(`INSERT DATA { GRAPH <${EX}h> { <${EX}x${i}> <${EX}y> "z" } }`);
    expect(res.statusCode).toBe(507);
    const held = Number((await hub.store.select('SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }'))[0]!.n!.value);
    expect(held).toBe(50);
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 507, code: 'store-full', maxQuads: 50 });
    const put = await hub.app.inject({ method: 'PUT', url: `/graph-store?graph=${encodeURIComponent(`${EX}k`)}`, headers: { 'content-type': 'application/n-triples', authorization: hub.bearer }, payload: lines(900, 5) });
    expect(put.statusCode).toBe(507);
    expect((await post(`DROP GRAPH <${EX}h>`)).statusCode).toBe(204);
    const health = JSON.parse((await hub.app.inject({ method: 'GET', url: '/health' })).body);
    expect(health.store.fullRefusals).toBeGreaterThanOrEqual(3);
    expect(health.store.maxQuads).toBe(50);
  });
});
