// Two store replicas: a runaway query stalls neither writes nor reads nor health(), ends only its member, and the
// rebuilt member catches up on the log written meanwhile; a runaway update is logged nowhere; the contract still holds.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, QueryTimeoutError, StoreCorruptError } from '../../hub/errors.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import { runQuadStoreContract } from './quad-store.contract.ts';

const EX = 'http://example.org/r/';
const RUNAWAY = `SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g1 { ?a ?b ?c } GRAPH ?g2 { ?d ?e ?f } GRAPH ?g3 { ?h ?i ?j } GRAPH ?g4 { ?k ?l ?m } }`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

runQuadStoreContract('EmbeddedQuadStore, 2 replicas', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-replicas-contract-'));
  const store = new EmbeddedQuadStore({ dir, replicas: 2 });
  await store.open();
  return {
    store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('EmbeddedQuadStore with 2 replicas', () => {
  let dir: string;
  let store: EmbeddedQuadStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-replicas-'));
    store = new EmbeddedQuadStore({ dir, replicas: 2, queryTimeoutMs: 20_000 });
    await store.open();
    let nq = '';
    for (let i = 0; i < 400; i++) nq += `<${EX}s${i}> <${EX}p> "${i}" <${EX}g${i % 7}> .\n`;
    await store.insert(nq);
    await until('both replicas live', () => store.health().replicasLive === 2);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps writes, reads and health() fast while a runaway query runs, and serves at once after ending it', async () => {
    const timeoutMs = 1500;
    const restartsBefore = store.health().workerRestarts!;
    const runaway = store.query(RUNAWAY, { timeoutMs }).then(
      () => 'finished',
      (e: unknown) => e,
    );
    await sleep(100);
    const slowest = { insert: 0, visible: 0, health: 0, update: 0 };
    for (let i = 0; i < 20; i++) {
      let t = performance.now();
      await store.insert(`<${EX}during${i}> <${EX}p> "${i}" .\n`, `${EX}during`);
      slowest.insert = Math.max(slowest.insert, performance.now() - t);
      t = performance.now();
      expect(await store.ask(`ASK { GRAPH <${EX}during> { <${EX}during${i}> <${EX}p> "${i}" } }`)).toBe(true);
      slowest.visible = Math.max(slowest.visible, performance.now() - t);
      t = performance.now();
      expect(store.health().quads).toBeGreaterThan(0);
      slowest.health = Math.max(slowest.health, performance.now() - t);
      t = performance.now();
      await store.update(`INSERT DATA { GRAPH <${EX}upd> { <${EX}u${i}> <${EX}p> "${i}" } }`);
      slowest.update = Math.max(slowest.update, performance.now() - t);
      await sleep(20);
    }
    // Bounds far above what a quiet machine takes (a few ms) and far below the runaway's budget.
    expect(slowest.insert).toBeLessThan(500);
    expect(slowest.visible).toBeLessThan(500);
    expect(slowest.health).toBeLessThan(50);
    expect(slowest.update).toBeLessThan(500);

    expect(await runaway).toBeInstanceOf(QueryTimeoutError);
    // The other member serves right away while the ended one is rebuilt.
    const t = performance.now();
    expect(await store.ask(`ASK { GRAPH <${EX}during> { <${EX}during19> <${EX}p> "19" } }`)).toBe(true);
    expect(performance.now() - t).toBeLessThan(500);
    expect(store.health().workerRestarts).toBe(restartsBefore + 1);
    // Writes go on during the rebuild; the rebuilt member joins with all of them.
    for (let i = 0; i < 50; i++) await store.insert(`<${EX}rebuild${i}> <${EX}p> "${i}" .\n`, `${EX}rebuild`);
    await until('the ended member rebuilt and live again', () => store.health().replicasLive === 2);
    // Reads are spread over both members: every one of them must see every write.
    for (let i = 0; i < 6; i++) {
      const rows = await store.select(`SELECT (COUNT(*) AS ?n) WHERE { { GRAPH <${EX}during> { ?s ?p ?o } } UNION { GRAPH <${EX}rebuild> { ?s ?p ?o } } UNION { GRAPH <${EX}upd> { ?s ?p ?o } } }`);
      expect(Number(rows[0]!.n!.value)).toBe(90);
    }
  });

  it('two readers at once: one runaway on each member does not lose a write', async () => {
    const runaways = [store.query(RUNAWAY, { timeoutMs: 800 }), store.query(RUNAWAY, { timeoutMs: 800 })].map((p) => p.then(() => 'finished', (e: unknown) => e));
    await sleep(50);
    const writes = Array.from({ length: 30 }, (_, i) => store.insert(`<${EX}both${i}> <${EX}p> "${i}" .\n`, `${EX}both`));
    await Promise.all(writes);
    for (const r of await Promise.all(runaways)) expect(r).toBeInstanceOf(QueryTimeoutError);
    const rows = await store.select(`SELECT (COUNT(*) AS ?n) WHERE { GRAPH <${EX}both> { ?s ?p ?o } }`);
    expect(Number(rows[0]!.n!.value)).toBe(30);
    await until('both members live again', () => store.health().replicasLive === 2);
  });

  it('a runaway update is applied by no member and logged nowhere', async () => {
    const runaway = `INSERT { GRAPH <${EX}bad> { ?a <${EX}x> ?d } } WHERE { GRAPH ?g1 { ?a ?b ?c } GRAPH ?g2 { ?d ?e ?f } GRAPH ?g3 { ?h ?i ?j } }`;
    await expect(store.update(runaway, { timeoutMs: 800 })).rejects.toBeInstanceOf(QueryTimeoutError);
    await store.insert(`<${EX}after> <${EX}p> "1" .\n`, `${EX}after`);
    await until('members live again', () => store.health().replicasLive === 2, 30_000);
    for (let i = 0; i < 4; i++) {
      expect(await store.ask(`ASK { GRAPH <${EX}bad> { ?s ?p ?o } }`)).toBe(false);
      expect(await store.ask(`ASK { GRAPH <${EX}after> { ?s ?p ?o } }`)).toBe(true);
    }
    await store.close();
    store = new EmbeddedQuadStore({ dir, replicas: 2 });
    await store.open();
    expect(await store.ask(`ASK { GRAPH <${EX}bad> { ?s ?p ?o } }`)).toBe(false);
    const rows = await store.select(`SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }`);
    expect(Number(rows[0]!.n!.value)).toBe(400 + 90 + 30 + 1);
  });

  it('a damaged log still refuses to start, with the file and offset named', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'embedded-replicas-corrupt-'));
    try {
      const a = new EmbeddedQuadStore({ dir: bad, replicas: 2 });
      await a.open();
      for (let i = 0; i < 5; i++) await a.insert(`<${EX}c${i}> <${EX}p> "${i}" .\n`, `${EX}c`);
      await a.close();
      const path = join(bad, readdirSync(bad).find((f) => f.endsWith('.wal'))!);
      const bytes = readFileSync(path);
      bytes[30] = bytes[30]! ^ 0xff;
      writeFileSync(path, bytes);
      const err = await new EmbeddedQuadStore({ dir: bad, replicas: 2 }).open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreCorruptError);
      expect((err as Error).message).toMatch(/log-0+1\.wal is corrupt at byte 0 \(CRC mismatch\)/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});

describe('EmbeddedQuadStore: updates give every engine and every replay the same result', () => {
  let dir: string;
  let store: EmbeddedQuadStore;
  /** What each engine (both replicas and the standby) holds for <urn:s>, asked of each directly. */
  const perEngine = async (s: EmbeddedQuadStore): Promise<string[]> => {
    const set = (s as unknown as { host: { writers: Array<{ request(r: unknown, t?: number): Promise<{ body: string }> }> } }).host;
    const sparql = 'SELECT ?p ?o WHERE { <urn:s> ?p ?o } ORDER BY ?p ?o';
    return Promise.all(
      set.writers.map(async (m) => {
        const r = await m.request({ op: 'query', sparql, options: { resultFormat: 'application/sparql-results+json' } }, 10_000);
        return JSON.stringify((JSON.parse(r.body) as { results: { bindings: Array<Record<string, { value: string }>> } }).results.bindings.map((b) => [b.p!.value, b.o!.value]));
      }),
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-replicas-det-'));
    store = new EmbeddedQuadStore({ dir, replicas: 2, standby: 1 });
    await store.open();
    await until('2 replicas and a standby', () => store.health().replicasLive === 2 && store.health().replicasStandby === 1);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('UUID(), STRUUID() and RAND() in an update are refused before any engine runs them (400 update-nondeterministic)', async () => {
    for (const [text, fns] of [
      ['INSERT { <urn:s> <urn:u> ?u } WHERE { BIND(UUID() AS ?u) }', ['UUID']],
      ['insert { <urn:s> <urn:u> ?u } where { bind(struuid() as ?u) }', ['STRUUID']],
      ['DELETE { <urn:s> ?p ?o } INSERT { <urn:s> <urn:r> ?r } WHERE { OPTIONAL { <urn:s> ?p ?o } BIND(RAND() AS ?r) BIND(UUID() AS ?x) }', ['RAND', 'UUID']],
    ] as const) {
      const e = await store.update(text).then(() => undefined, (x: unknown) => x as BadRequestError);
      expect(e, text).toBeInstanceOf(BadRequestError);
      expect(e!.code).toBe('update-nondeterministic');
      expect([...(e!.extensions?.functions as string[])].sort()).toEqual([...fns].sort());
    }
    expect(await perEngine(store)).toEqual(['[]', '[]', '[]']);
    // Their names in strings, IRIs, prefixed names and comments are no calls.
    await store.update('PREFIX ex: <urn:ex:> INSERT { <urn:s> <urn:n> "UUID() RAND()" . <urn:s> ex:RAND <urn:UUID> } WHERE { } # STRUUID()');
    expect(await perEngine(store)).toEqual(Array(3).fill(JSON.stringify([['urn:ex:RAND', 'urn:UUID'], ['urn:n', 'UUID() RAND()']])));
  });

  it('NOW() is the instant the update was accepted, on every engine and after a restart (log replay)', async () => {
    const before = Date.now();
    await store.update('INSERT { <urn:s> <urn:t> ?now } WHERE { BIND(NOW() AS ?now) }');
    await sleep(20);
    await store.update('INSERT { <urn:s> <urn:t2> ?now } WHERE { BIND(NOW() AS ?now) }');
    const engines = await perEngine(store);
    expect(new Set(engines).size, engines.join('\n')).toBe(1);
    const rows = JSON.parse(engines[0]!) as string[][];
    const t = Date.parse(rows.find(([p]) => p === 'urn:t')![1]!);
    const t2 = Date.parse(rows.find(([p]) => p === 'urn:t2')![1]!);
    // The wall clock, not a monotonic one: this VM's clock is stepped now and then (CI saw t2 729 ms before t), so only
    // closeness to it is asserted; the point is that every engine and the replay agree on each value.
    expect(Math.abs(t - before)).toBeLessThan(60_000);
    expect(Math.abs(t2 - t)).toBeLessThan(60_000);
    expect(t2).not.toBe(t);
    await store.close();
    await sleep(50);
    store = new EmbeddedQuadStore({ dir, replicas: 2, standby: 1 });
    await store.open();
    await until('2 replicas and a standby again', () => store.health().replicasLive === 2 && store.health().replicasStandby === 1);
    expect(await perEngine(store)).toEqual(engines);
  });
});
