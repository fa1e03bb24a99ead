// Runaway queries on the embedded store: rejected with QueryTimeoutError on time, worker rebuilt from the log, no data lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryTimeoutError } from '../../hub/errors.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';

const EX = 'http://example.org/t/';
const RUNAWAY = `SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g1 { ?a ?b ?c } GRAPH ?g2 { ?d ?e ?f } GRAPH ?g3 { ?h ?i ?j } GRAPH ?g4 { ?k ?l ?m } }`;

describe('EmbeddedQuadStore query timeout', () => {
  let dir: string;
  let store: EmbeddedQuadStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'embedded-timeout-'));
    store = new EmbeddedQuadStore({ dir, queryTimeoutMs: 20_000 });
    await store.open();
    let nq = '';
    for (let i = 0; i < 400; i++) nq += `<${EX}s${i}> <${EX}p> "${i}" <${EX}g${i % 7}> .\n`;
    await store.insert(nq);
    await store.update(`INSERT DATA { GRAPH <${EX}u> { <${EX}u> <${EX}p> "u" } }`);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends a runaway query on time while queries and writes issued meanwhile are answered, and keeps the data', async () => {
    const timeoutMs = 800;
    const started = performance.now();
    const runaway = store.query(RUNAWAY, { timeoutMs }).then(
      () => 'finished',
      (e: unknown) => ({ e, after: performance.now() - started }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const other = store.ask(`ASK { GRAPH <${EX}g1> { <${EX}s1> <${EX}p> "1" } }`);
    const write = store.insert(`<${EX}late> <${EX}p> "during" .\n`, `${EX}late`);

    const outcome = await runaway;
    expect(outcome).not.toBe('finished');
    const { e, after } = outcome as { e: unknown; after: number };
    expect(e).toBeInstanceOf(QueryTimeoutError);
    expect((e as QueryTimeoutError).status).toBe(503);
    expect((e as QueryTimeoutError).code).toBe('query-timeout');
    expect(after).toBeGreaterThanOrEqual(timeoutMs - 5);
    expect(after).toBeLessThan(timeoutMs + 1500);

    await expect(other).resolves.toBe(true);
    await expect(write).resolves.toBeUndefined();
    const stats = await store.stats();
    expect(stats.workerRestarts).toBe(1);
    expect(stats.quads).toBe(402);
    expect(await store.ask(`ASK { GRAPH <${EX}late> { <${EX}late> <${EX}p> "during" } }`)).toBe(true);
    expect(await store.ask(`ASK { GRAPH <${EX}u> { <${EX}u> <${EX}p> "u" } }`)).toBe(true);
  });

  it('rebuilds a worker that died unexpectedly, answering the queries that were waiting', async () => {
    const before = await store.stats();
    const host = (store as unknown as { host: { worker: { terminate(): Promise<number> } } }).host;
    const pending = store.ask(`ASK { GRAPH <${EX}u> { <${EX}u> <${EX}p> "u" } }`);
    await host.worker.terminate();
    const outcome = await pending.then((v) => v, (e: unknown) => e);
    // the request that was running when the worker died fails with a typed error; the store carries on
    if (outcome !== true) expect(outcome).toMatchObject({ code: 'store-failed' });
    expect(await store.ask(`ASK { GRAPH <${EX}u> { <${EX}u> <${EX}p> "u" } }`)).toBe(true);
    const after = await store.stats();
    expect(after.workerRestarts).toBe(before.workerRestarts + 1);
    expect(after.quads).toBe(before.quads);
  });

  it('ends a runaway update without logging it', async () => {
    const before = (await store.stats()).quads;
    const err = await store
      .update(`INSERT { GRAPH <${EX}x> { ?a <${EX}x> ?k } } WHERE { ${RUNAWAY.slice(RUNAWAY.indexOf('{') + 1, -1)} }`, { timeoutMs: 500 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryTimeoutError);
    expect((await store.stats()).quads).toBe(before);
    await store.close();
    store = new EmbeddedQuadStore({ dir });
    await store.open();
    expect((await store.stats()).quads).toBe(before);
    expect((await store.stats()).replayFailedRecords).toBe(0);
  });
});
