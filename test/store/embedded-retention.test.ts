// Retention on the embedded store: observation graphs older than N days are dropped on open and periodically, and the
// drop is logged so that a restart does not bring them back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import { Retention } from '../../hub/store/embedded/retention.ts';
import { observationGraph } from '../../hub/store/graphs.ts';

const BASE = 'http://127.0.0.1:8080';
const EX = 'http://example.org/r/';
const day = (iso: string) => new Date(`${iso}T12:00:00Z`);
const stores: EmbeddedQuadStore[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openStore(dir: string, now: () => Date, retentionDays: number, retentionIntervalMs?: number) {
  const s = new EmbeddedQuadStore({ dir, retentionDays, now, retentionIntervalMs });
  stores.push(s);
  await s.open();
  return s;
}

describe('EmbeddedQuadStore retention', () => {
  it('computes the first day to keep from the injected clock', () => {
    const r = new Retention({ dropObservationsBefore: async () => [] }, 2, 1000, () => day('2026-03-10'));
    expect(r.cutoffDay()).toBe('2026-03-08');
  });

  it('drops old observation graphs on open and periodically, keeps other graphs, and the drop survives a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'embedded-retention-'));
    dirs.push(dir);
    let now = day('2026-03-10');
    const clock = () => now;
    const a = await openStore(dir, clock, 0);
    const g = (thing: string, d: string) => observationGraph(BASE, thing, day(d));
    for (const d of ['2026-03-01', '2026-03-08', '2026-03-09', '2026-03-10']) {
      await a.insert(`<${EX}obs-${d}> <${EX}p> "${d}" .\n`, g('dev-1', d));
    }
    await a.insert(`<${EX}thing> <${EX}p> "td" .\n`, `${BASE}/graphs/things/dev-1`);
    await a.close();
    stores.length = 0;

    const b = await openStore(dir, clock, 2, 100);
    const graphs = async (s: EmbeddedQuadStore) =>
      (await s.select('SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g')).map((r) => r.g!.value);
    expect(await graphs(b)).toEqual([g('dev-1', '2026-03-08'), g('dev-1', '2026-03-09'), g('dev-1', '2026-03-10'), `${BASE}/graphs/things/dev-1`]);
    expect((await b.stats()).retentionDroppedGraphs).toBe(1);

    now = day('2026-03-11'); // the periodic run (every 100 ms here) drops 2026-03-08 next
    const deadline = Date.now() + 5000;
    while ((await graphs(b)).includes(g('dev-1', '2026-03-08')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await graphs(b)).toEqual([g('dev-1', '2026-03-09'), g('dev-1', '2026-03-10'), `${BASE}/graphs/things/dev-1`]);
    await b.close();
    stores.length = 0;

    const c = await openStore(dir, () => day('2026-03-10'), 0); // retention off: only the logged drops apply
    expect(await graphs(c)).toEqual([g('dev-1', '2026-03-09'), g('dev-1', '2026-03-10'), `${BASE}/graphs/things/dev-1`]);
  });
});
