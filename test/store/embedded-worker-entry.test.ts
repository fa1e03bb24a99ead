// The store worker's fallback entry: with HUB_STORE_WORKER_TSX=1 the worker registers tsx itself instead of running the
// esbuild bundle (the path used when bundling is impossible, e.g. a read-only node_modules).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

process.env.HUB_STORE_WORKER_TSX = '1';
const { workerEntry } = await import('../../hub/store/embedded/worker-entry.ts');
const { EmbeddedQuadStore } = await import('../../hub/store/embedded/embedded-quad-store.ts');

describe('store worker entry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-entry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the TypeScript worker through the tsx bootstrap', { timeout: 60_000 }, async () => {
    expect((await workerEntry()).pathname).toMatch(/worker-bootstrap\.mjs$/);
    const store = new EmbeddedQuadStore({ dir });
    await store.open();
    try {
      await store.insert('<http://example.org/s> <http://example.org/p> "o" .\n', 'http://example.org/g');
      expect(await store.ask('ASK { GRAPH <http://example.org/g> { <http://example.org/s> ?p "o" } }')).toBe(true);
    } finally {
      await store.close();
    }
  });
});
