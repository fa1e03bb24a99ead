// The aggregates' checkpoint (hub/store/aggregates/checkpoint.ts): saved at a clean close, loaded at the next open when
// the store's files hold the same records, refused (and rebuilt from the store) after any write since, or when damaged.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AggregatingQuadStore } from '../../hub/store/aggregates/aggregating-quad-store.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import * as dash from '../bench/store/aggregate-queries.ts';
import { dayOf, observationChunks, sensorIri, type DataShape } from '../bench/store/sosa-data.ts';

const shape: DataShape = { sensors: 12, observations: 1200, days: 3 };
const BASE = 'http://hub.test';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const QUERIES = [dash.countAll, dash.countPerSensor, dash.countPerProperty, dash.latestPerProperty, dash.latestObservations, dash.averagePerSensor, dash.hourlyAverage(dayOf(1)), dash.hourlyAverageAll(dayOf(2))];

const DOUBLE = 'http://www.w3.org/2001/XMLSchema#double';
/** The solutions, sorted; doubles to 12 digits (the aggregates add double sums in another order than the store). */
async function answers(store: { query(q: string): Promise<{ body: string }> }, q: string): Promise<string[]> {
  const rows = JSON.parse((await store.query(q)).body).results.bindings as Array<Record<string, { value: string; datatype?: string }>>;
  return rows.map((b) => JSON.stringify(Object.entries(b).map(([k, t]) => [k, t.datatype === DOUBLE ? { ...t, value: Number(t.value).toPrecision(12) } : t]).sort())).sort();
}

function open(dir: string) {
  const inner = new EmbeddedQuadStore({ dir, replicas: 1 });
  const agg = new AggregatingQuadStore(inner, { checkpoint: { path: join(dir, 'aggregates-checkpoint.bin'), mark: () => inner.filesMark() } });
  return { inner, agg };
}

/** Every dashboard query answered from the aggregates, each the store's own answer. */
async function expectAnsweredLikeTheStore(inner: EmbeddedQuadStore, agg: AggregatingQuadStore): Promise<void> {
  expect(agg.health().aggregatesReady).toBe(1);
  for (const q of QUERIES) {
    const n = agg.health().aggregateAnswers!;
    expect(await answers(agg, q)).toEqual(await answers(inner, q));
    expect(agg.health().aggregateAnswers! - n).toBe(1);
  }
}

async function loaded(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'agg-ckpt-'));
  dirs.push(dir);
  const { agg } = open(dir);
  await agg.open();
  for (const chunk of observationChunks(BASE, shape, 100)) await agg.insert(chunk);
  await agg.aggregatesIdle();
  await agg.close();
  return dir;
}

describe('aggregates checkpoint', () => {
  it('a clean close saves the aggregates; the next open answers from them at once, without a rebuild query', async () => {
    const dir = await loaded();
    expect(existsSync(join(dir, 'aggregates-checkpoint.bin'))).toBe(true);
    const { inner, agg } = open(dir);
    await agg.open();
    try {
      const h = agg.health();
      expect(h.checkpointLoaded).toBe(1);
      expect(h.aggregatesRebuildQueries).toBe(0);
      expect(h.aggregatesObservations).toBe(shape.observations);
      await expectAnsweredLikeTheStore(inner, agg);
      // The subjects came back too: a redelivered observation makes its graph dirty instead of counting twice.
      const [first] = observationChunks(BASE, shape, 1);
      await agg.insert(first!);
      await agg.aggregatesIdle();
      expect(agg.health().aggregatesRebuiltGraphs).toBe(1);
      // New observations go on into the loaded aggregates.
      await agg.insert(first!.replaceAll('/obs/', '/obs-new/'));
      await agg.aggregatesIdle();
      expect(agg.health().aggregatesObservations).toBe(shape.observations + 1);
      await expectAnsweredLikeTheStore(inner, agg);
    } finally {
      await agg.close();
    }
  });

  it('a write after the checkpoint (a session that did not close cleanly) means a rebuild from the store', async () => {
    const dir = await loaded();
    {
      // Written through the store alone, and closed without saving: as if the hub had been killed after this write.
      const inner = new EmbeddedQuadStore({ dir, replicas: 1 });
      await inner.open();
      await inner.update(`DELETE WHERE { GRAPH ?g { ?o <http://www.w3.org/ns/sosa/madeBySensor> <${sensorIri(3)}> ; ?p ?v } }`);
      await inner.close();
    }
    const { inner, agg } = open(dir);
    await agg.open();
    try {
      expect(agg.health().checkpointLoaded).toBe(0);
      expect(agg.health().checkpointRefused).toBe(1);
      await agg.aggregatesIdle();
      expect(agg.health().aggregatesObservations).toBeLessThan(shape.observations);
      await expectAnsweredLikeTheStore(inner, agg);
    } finally {
      await agg.close();
    }
  });

  it('a damaged or truncated checkpoint is refused, never an error: the aggregates are rebuilt', async () => {
    const dir = await loaded();
    const path = join(dir, 'aggregates-checkpoint.bin');
    const good = readFileSync(path);
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0x40;
    for (const bad of [flipped, good.subarray(0, good.length - 100), good.subarray(0, 10), Buffer.from('not a checkpoint')]) {
      writeFileSync(path, bad);
      const { inner, agg } = open(dir);
      await agg.open();
      try {
        expect(agg.health().checkpointLoaded).toBe(0);
        expect(agg.health().checkpointRefused).toBe(1);
        await agg.aggregatesIdle();
        await expectAnsweredLikeTheStore(inner, agg);
      } finally {
        // Closed cleanly: saved again, so the next round starts from a good file too.
        await agg.close();
      }
    }
    const { agg } = open(dir);
    await agg.open();
    expect(agg.health().checkpointLoaded).toBe(1);
    await agg.close();
  });
});
