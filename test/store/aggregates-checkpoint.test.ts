// The aggregates' checkpoint (hub/store/aggregates/checkpoint.ts): saved at a clean close, loaded at the next open when
// the store's files hold the same records, refused (and rebuilt from the store) after any write since, or when damaged.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectAnsweredLikeTheStore } from './aggregates-answers.ts';
import { AggregatingQuadStore } from '../../hub/store/aggregates/aggregating-quad-store.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import { observationChunks, sensorIri, type DataShape } from '../bench/store/sosa-data.ts';

const shape: DataShape = { sensors: 12, observations: 1200, days: 3 };
const BASE = 'http://hub.test';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function open(dir: string) {
  const inner = new EmbeddedQuadStore({ dir, replicas: 1 });
  const agg = new AggregatingQuadStore(inner, { checkpoint: { path: join(dir, 'aggregates-checkpoint.bin'), mark: () => inner.filesMark() } });
  return { inner, agg };
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

/** Opens `dir`: its checkpoint is refused, the aggregates rebuilt from the store answer as it does; closed cleanly. */
async function expectRefusedAndRebuilt(dir: string, check?: (agg: AggregatingQuadStore) => void): Promise<void> {
  const { inner, agg } = open(dir);
  await agg.open();
  try {
    expect(agg.health().checkpointLoaded).toBe(0);
    expect(agg.health().checkpointRefused).toBe(1);
    await agg.aggregatesIdle();
    check?.(agg);
    await expectAnsweredLikeTheStore(inner, agg);
  } finally {
    await agg.close();
  }
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
    await expectRefusedAndRebuilt(dir, (agg) => expect(agg.health().aggregatesObservations).toBeLessThan(shape.observations));
  });

  it('a damaged or truncated checkpoint is refused, never an error: the aggregates are rebuilt', async () => {
    const dir = await loaded();
    const path = join(dir, 'aggregates-checkpoint.bin');
    const good = readFileSync(path);
    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1]! ^= 0x40;
    for (const bad of [flipped, good.subarray(0, good.length - 100), good.subarray(0, 10), Buffer.from('not a checkpoint')]) {
      writeFileSync(path, bad);
      // Closed cleanly after: saved again, so the next round starts from a good file too.
      await expectRefusedAndRebuilt(dir);
    }
    const { agg } = open(dir);
    await agg.open();
    expect(agg.health().checkpointLoaded).toBe(1);
    await agg.close();
  });
});
