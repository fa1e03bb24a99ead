// Durability of the embedded store: reopen after close, snapshots, torn tails, corrupt records, back-pressure.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OverloadedError, StoreCorruptError } from '../../hub/errors.ts';
import { EmbeddedQuadStore, type EmbeddedStoreOptions } from '../../hub/store/embedded/embedded-quad-store.ts';
import { encodeInsert } from '../../hub/store/embedded/log-format.ts';
import { DEFAULT_GRAPH } from '../../hub/store/quad-store.ts';
import { sameRdf } from './rdf-compare.ts';

const EX = 'http://example.org/d/';
const dirs: string[] = [];
const open: EmbeddedQuadStore[] = [];

async function openStore(dir: string, options: Partial<EmbeddedStoreOptions> = {}): Promise<EmbeddedQuadStore> {
  const store = new EmbeddedQuadStore({ dir, ...options });
  open.push(store);
  await store.open();
  return store;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-durability-'));
  dirs.push(dir);
  return dir;
}

const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.wal')).sort();
const triple = (i: number) => `<${EX}s${i}> <${EX}p> "${i}" .\n`;

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('EmbeddedQuadStore durability', () => {
  it('keeps multi-byte text of batched inserts whole in the log (UTF-8 lengths measured at insert)', async () => {
    const dir = tempDir();
    const a = await openStore(dir);
    // Concatenated (rope) strings of several sizes with 2-, 3- and 4-byte characters, in one batch.
    const texts = ['é', '✓ ✓', '𝄞', 'plain'].map((v, i) => `<${EX}m${i}> <${EX}p> "${v}` + `${'ü'.repeat(i * 40)}" .\n`);
    await Promise.all(texts.map((t) => a.insert(t, `${EX}mb`)));
    await a.close();
    const b = await openStore(dir);
    expect(sameRdf((await b.getGraph(`${EX}mb`))!, texts.join(''), 'application/n-triples')).toBe(true);
    expect((await b.stats()).replayFailedRecords).toBe(0);
  });

  it('rebuilds inserts, updates and Graph Store writes from the log after a restart', async () => {
    const dir = tempDir();
    const a = await openStore(dir);
    await a.insert(triple(1), `${EX}g1`);
    await a.insert(`<${EX}q> <${EX}p> "quad" <${EX}g2> .\n`);
    await a.update(`INSERT DATA { GRAPH <${EX}g3> { <${EX}u> <${EX}p> "upd" } }`);
    await a.putGraph(`${EX}g4`, triple(4));
    await a.postGraph(`${EX}g4`, triple(5));
    await a.putGraph(DEFAULT_GRAPH, triple(6));
    await a.putGraph(`${EX}g5`, triple(7));
    await a.deleteGraph(`${EX}g5`);
    await expect(a.update('DELETE WHERE { ?s ?p')).rejects.toThrow(); // failing updates are not logged
    const before = await a.query('CONSTRUCT { ?s ?p ?o } WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }');
    await a.close();

    const b = await openStore(dir);
    const after = await b.query('CONSTRUCT { ?s ?p ?o } WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }');
    expect(sameRdf(after.body, before.body, 'application/n-triples')).toBe(true);
    expect(sameRdf((await b.getGraph(`${EX}g4`))!, triple(4) + triple(5), 'application/n-triples')).toBe(true);
    expect(await b.hasGraph(`${EX}g5`)).toBe(false);
    const stats = await b.stats();
    expect(stats.quads).toBe(6);
    expect(stats.replayedRecords).toBe(8);
    expect(stats.replayFailedRecords).toBe(0);
  });

  it('logs interleaved inserts and updates in the order they were applied', async () => {
    const dir = tempDir();
    const a = await openStore(dir);
    const g = `${EX}order`;
    const writes: Array<Promise<unknown>> = [];
    for (let i = 0; i < 30; i++) {
      writes.push(a.update(`INSERT DATA { GRAPH <${g}> { <${EX}u${i}> <${EX}p> "u" } }`));
      writes.push(a.insert(triple(i), g));
      writes.push(a.update(`DELETE DATA { GRAPH <${g}> { <${EX}s${i}> <${EX}p> "${i}" } }`)); // deletes the insert just before
      writes.push(a.insert(triple(100 + i), g));
    }
    await Promise.all(writes);
    const live = (await a.getGraph(g))!;
    expect((await a.stats()).quads).toBe(60);
    await a.close();
    const b = await openStore(dir);
    expect(sameRdf((await b.getGraph(g))!, live, 'application/n-triples')).toBe(true);
    expect(await b.ask(`ASK { GRAPH <${g}> { <${EX}s5> ?p ?o } }`)).toBe(false);
  });

  it('takes a background snapshot past snapshotLogBytes, deletes covered segments and recovers from it', async () => {
    const dir = tempDir();
    const a = await openStore(dir, { snapshotLogBytes: 2048 });
    const bnodes = `_:x <${EX}p> _:y .\n_:y <${EX}q> "v" .\n_:y <${EX}r> _:x .\n_:z <${EX}p> _:y .\n`;
    await a.putGraph(`${EX}bn`, bnodes);
    for (let i = 0; i < 60; i++) await a.insert(triple(i), `${EX}snap`);
    await a.update(`DELETE DATA { GRAPH <${EX}snap> { <${EX}s0> <${EX}p> "0" } }`);
    await a.snapshotIdle();
    const s = await a.stats();
    expect(s.snapshots).toBeGreaterThanOrEqual(1);
    expect(readdirSync(dir).filter((f) => f.startsWith('snapshot-'))).toHaveLength(1);
    expect(segments(dir).length).toBeLessThanOrEqual(2);
    const expected = await a.getGraph(`${EX}snap`);
    await a.close();

    const b = await openStore(dir, { snapshotLogBytes: 2048 });
    const r = await b.stats();
    expect(r.quads).toBe(63);
    expect(r.replayedRecords).toBeLessThan(62); // the snapshot replaced most of the log
    expect(sameRdf((await b.getGraph(`${EX}snap`))!, expected!, 'application/n-triples')).toBe(true);
    expect(sameRdf((await b.getGraph(`${EX}bn`))!, bnodes, 'application/n-triples')).toBe(true);
  });

  it('truncates a torn tail (a crash mid-append) and keeps every complete record', async () => {
    const dir = tempDir();
    const a = await openStore(dir);
    for (let i = 0; i < 5; i++) await a.insert(triple(i), `${EX}torn`);
    await a.close();
    const [seg] = segments(dir);
    const path = join(dir, seg!);
    const goodSize = statSync(path).size;
    const partial = encodeInsert(triple(99), `${EX}torn`);
    appendFileSync(path, partial.subarray(0, partial.length - 7));

    const b = await openStore(dir);
    expect((await b.stats()).tornTails).toBe(1);
    expect(statSync(path).size).toBe(goodSize);
    expect((await b.stats()).quads).toBe(5);
    await b.insert(triple(6), `${EX}torn`);
    await b.close();

    const c = await openStore(dir);
    expect((await c.stats()).quads).toBe(6);
    expect(await c.ask(`ASK { GRAPH <${EX}torn> { <${EX}s99> ?p ?o } }`)).toBe(false);
  });

  it('treats a zero-filled tail as torn', async () => {
    const dir = tempDir();
    const a = await openStore(dir);
    await a.insert(triple(1), `${EX}z`);
    await a.close();
    appendFileSync(join(dir, segments(dir)[0]!), Buffer.alloc(4096));
    const b = await openStore(dir);
    expect((await b.stats()).quads).toBe(1);
  });

  it('refuses to open on a corrupt record in the middle of the log (StoreCorruptError names file and offset)', async () => {
    const dir = tempDir();
    const a = await openStore(dir);
    for (let i = 0; i < 5; i++) await a.insert(triple(i), `${EX}c`);
    await a.close();
    const path = join(dir, segments(dir)[0]!);
    const bytes = readFileSync(path);
    bytes[30] = bytes[30]! ^ 0xff; // inside the first record's payload: its CRC no longer matches
    writeFileSync(path, bytes);
    const err = await openStore(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreCorruptError);
    expect((err as StoreCorruptError).code).toBe('store-corrupt');
    expect((err as Error).message).toMatch(/log-0+1\.wal is corrupt at byte 0 \(CRC mismatch\)/);
  });

  it('rejects inserts with 503 overloaded past maxPendingWrites, and accepts again once drained', async () => {
    const dir = tempDir();
    const a = await openStore(dir, { maxPendingWrites: 10 });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => a.insert(triple(i), `${EX}o`)));
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(OverloadedError);
    expect(((rejected[0] as PromiseRejectedResult).reason as OverloadedError).status).toBe(503);
    // A query over every graph applies the whole insert backlog first, and the worker answers the inserts before it:
    // once it answers, the accepted batch is applied and counted off. (`ASK {}` reads the default graph only, which
    // applies nothing of graph <o>: on a loaded CI machine the background step had not run yet.)
    await a.ask('ASK { GRAPH ?g { ?s ?p ?o } }');
    await a.insert(triple(100), `${EX}o`);
    expect((await a.stats()).quads).toBe(11);
  });

  it('rejects inserts with 503 overloaded while the oldest unapplied insert is older than maxApplyLagMs, and accepts again once applied', async () => {
    const a = await openStore(tempDir(), { replicas: 1, standby: 0, maxApplyLagMs: 100 });
    await a.insert(Array.from({ length: 150 }, (_, i) => triple(i)).join(''));
    // The only worker is busy with a long query: inserts posted meanwhile wait unapplied.
    const slow = a.query('SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }');
    const first = a.insert(triple(1000), `${EX}lag`);
    for (const until = Date.now() + 5000; a.health().applyLagMs <= 100 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    const refused = await a.insert(triple(1001), `${EX}lag`).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(OverloadedError);
    expect((refused as OverloadedError).message).toMatch(/ms behind in applying writes/);
    expect(a.health().applyLagMs).toBeGreaterThan(100);
    expect(a.health().overloadRefusals).toBe(1);
    await slow;
    await first;
    await a.ask(`ASK { GRAPH <${EX}lag> { ?s ?p ?o } }`);
    await a.insert(triple(1002), `${EX}lag`);
    expect(a.health().applyLagMs).toBeLessThan(100);
    expect(sameRdf((await a.getGraph(`${EX}lag`))!, triple(1000) + triple(1002), 'application/n-triples')).toBe(true);
  });

  it('makes an acknowledged insert visible to the next query (read-your-writes)', async () => {
    const a = await openStore(tempDir());
    for (let i = 0; i < 20; i++) {
      await a.insert(triple(i), `${EX}ryw`);
      expect(await a.ask(`ASK { GRAPH <${EX}ryw> { <${EX}s${i}> ?p ?o } }`)).toBe(true);
    }
  });

  it('refuses a second open of the same directory while the first process holds it, and takes over a stale lock', async () => {
    const dir = tempDir();
    const a = await openStore(dir);
    await expect(openStore(dir)).rejects.toThrow(/in use by process/);
    await a.close();
    writeFileSync(join(dir, 'LOCK'), '999999999\n'); // a pid that does not run: left by a crashed process
    const b = await openStore(dir);
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    await b.close();
  });

  it('close() is idempotent and later calls fail with a typed error', async () => {
    const a = await openStore(tempDir());
    await a.insert(triple(1));
    await Promise.all([a.close(), a.close()]);
    await a.close();
    await expect(a.insert(triple(2))).rejects.toMatchObject({ code: 'store-failed' });
  });
});
