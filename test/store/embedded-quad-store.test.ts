// Runs the QuadStore contract on the in-process MemoryQuadStore and on the durable EmbeddedQuadStore.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import { runQuadStoreContract } from './quad-store.contract.ts';

runQuadStoreContract('MemoryQuadStore', async () => {
  const store = new MemoryQuadStore();
  await store.open();
  return { store, dispose: () => store.close() };
});

runQuadStoreContract('EmbeddedQuadStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-contract-'));
  const store = new EmbeddedQuadStore({ dir });
  await store.open();
  return {
    store,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
