// The store's worker threads run at config.store.workerNice (Linux): the main thread, which answers devices, comes first when the cores are short.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';

/** Nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux')('store worker priority', () => {
  it('every worker of a replica set (live and standby) runs at workerNice; 0 leaves them at the hub priority', async () => {
    const before = threadNices().filter((n) => n === 13).length;
    const dir = mkdtempSync(join(tmpdir(), 'nice-'));
    dirs.push(dir);
    const store = new EmbeddedQuadStore({ dir, replicas: 2, standby: 1, workerNice: 13 });
    await store.open();
    try {
      await store.insert('<urn:a> <urn:b> "c" .\n', 'urn:g');
      // Members join in the background: wait until all three engines run (each answers; their threads are niced).
      for (const end = Date.now() + 20_000; threadNices().filter((n) => n === 13).length < before + 3 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
      expect(threadNices().filter((n) => n === 13).length - before).toBe(3);
      expect(await store.select('SELECT ?o WHERE { GRAPH ?g { <urn:a> <urn:b> ?o } }')).toHaveLength(1);
    } finally {
      await store.close();
    }
    const plain = mkdtempSync(join(tmpdir(), 'nice-'));
    dirs.push(plain);
    const s2 = new EmbeddedQuadStore({ dir: plain, replicas: 1, standby: 0, workerNice: 0 });
    await s2.open();
    try {
      expect(threadNices().filter((n) => n !== 0 && n !== 13)).toEqual([]);
    } finally {
      await s2.close();
    }
  }, 60_000);
});
