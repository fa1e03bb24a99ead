// The aggregates built from the store's files after a stop that left no usable checkpoint (a crash, kill -9):
// hub/store/aggregates/file-build.ts in a worker while the store recovers, instead of rebuild queries afterwards.
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectAnsweredLikeTheStore } from './aggregates-answers.ts';
import { AggregatingQuadStore } from '../../hub/store/aggregates/aggregating-quad-store.ts';
import { decodeCheckpoint } from '../../hub/store/aggregates/checkpoint.ts';
import { FILES_MARK, buildFromFiles } from '../../hub/store/aggregates/file-build.ts';
import { AggregateState } from '../../hub/store/aggregates/state.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import { BNODE_SECTION } from '../../hub/store/embedded/snapshot-file.ts';
import { observationGraph } from '../../hub/store/graphs.ts';
import { dayOf, EX, observationChunks, sensorIri, sensorThingId, SOSA, XSD, type DataShape } from '../bench/store/sosa-data.ts';

const shape: DataShape = { sensors: 10, observations: 1000, days: 3 };
const BASE = 'http://hub.test';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const graphOf = (sensor: number, day: number) => observationGraph(BASE, sensorThingId(sensor), new Date(`${dayOf(day)}T12:00:00Z`));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agg-files-'));
  dirs.push(dir);
  return dir;
}

/** Written and closed without a checkpoint: what a killed hub leaves (a snapshot of the first part, then the log). */
async function written(dir: string, after?: (inner: EmbeddedQuadStore) => Promise<void>): Promise<void> {
  const inner = new EmbeddedQuadStore({ dir, replicas: 1, snapshotLogBytes: 200_000 });
  const agg = new AggregatingQuadStore(inner);
  await agg.open();
  const chunks = [...observationChunks(BASE, shape, 50)];
  // An observation graph with a blank node: that line is in the snapshot's last section, apart from the graph's others.
  await agg.insert(`<${EX}obs/0-0> <${EX}note> _:n <${graphOf(0, 0)}> .\n`);
  for (const c of chunks.slice(0, 14)) await agg.insert(c);
  await inner.snapshotIdle();
  expect(readdirSync(dir).some((f) => f.startsWith('snapshot-'))).toBe(true);
  for (const c of chunks.slice(14)) await agg.insert(c);
  await after?.(inner);
  await agg.close();
}

function reopened(dir: string) {
  const inner = new EmbeddedQuadStore({ dir, replicas: 1, snapshotLogBytes: 200_000 });
  const agg = new AggregatingQuadStore(inner, { checkpoint: { path: join(dir, 'aggregates-checkpoint.bin'), mark: () => inner.filesMark() }, filesDir: dir });
  return { inner, agg };
}

describe('aggregates built from the store files', () => {
  it('after a stop without a checkpoint, the next open answers from aggregates built from the snapshot and the log, with no rebuild query', async () => {
    const dir = tempDir();
    await written(dir);
    // A torn tail, as a kill during an append leaves it: recovery cuts it, the build stops there too.
    const last = readdirSync(dir).filter((f) => f.startsWith('log-')).sort().filter((f) => statSync(join(dir, f)).size > 0).at(-1)!;
    appendFileSync(join(dir, last), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const { inner, agg } = reopened(dir);
    await agg.open();
    try {
      const h = agg.health();
      expect(h.filesBuilt).toBe(1);
      expect(h.filesBuildGaveUp).toBe(0);
      expect(h.checkpointLoaded).toBe(0);
      expect(h.tornTails).toBe(1);
      expect(h.aggregatesObservations).toBe(shape.observations);
      expect(h.aggregatesRebuildQueries).toBe(0);
      await expectAnsweredLikeTheStore(inner, agg);
    } finally {
      await agg.close();
    }
  });

  it('graphs written by PUT, DELETE or a named-graph update after the snapshot are rebuilt by query; the rest comes from the files', async () => {
    const dir = tempDir();
    const g0 = graphOf(2, 0);
    await written(dir, async (inner) => {
      await inner.update(`DELETE WHERE { GRAPH <${g0}> { ?o <${SOSA}hasSimpleResult> ?v } }`);
      expect(await inner.deleteGraph(graphOf(1, 1))).toBe(true);
    });
    const { inner, agg } = reopened(dir);
    await agg.open();
    try {
      expect(agg.health().filesBuilt).toBe(1);
      await agg.aggregatesIdle();
      expect(agg.health().aggregatesRebuiltGraphs).toBeGreaterThanOrEqual(1);
      expect(agg.health().aggregatesObservations).toBeLessThan(shape.observations);
      // The update left partial observations in g0: the aggregates stop answering, as the store's answer has them.
      expect(agg.health().aggregatesIrregularGraphs).toBeGreaterThan(0);
      await agg.deleteGraph(g0);
      await agg.aggregatesIdle();
      await expectAnsweredLikeTheStore(inner, agg);
    } finally {
      await agg.close();
    }
  });

  it('an update on graphs the aggregates cannot name gives up: everything is rebuilt by query, with the same answers', async () => {
    const dir = tempDir();
    await written(dir, (inner) => inner.update(`DELETE WHERE { GRAPH ?g { ?o <${SOSA}madeBySensor> <${sensorIri(3)}> ; ?p ?v } }`));
    const { inner, agg } = reopened(dir);
    await agg.open();
    try {
      expect(agg.health().filesBuilt).toBe(0);
      expect(agg.health().filesBuildGaveUp).toBe(1);
      await agg.aggregatesIdle();
      expect(agg.health().aggregatesObservations).toBe(shape.observations - shape.observations / shape.sensors);
      await expectAnsweredLikeTheStore(inner, agg);
    } finally {
      await agg.close();
    }
  });

  it('a clean close still saves the checkpoint, which the next open loads instead of building from the files', async () => {
    const dir = tempDir();
    await written(dir);
    {
      const { agg } = reopened(dir);
      await agg.open();
      expect(agg.health().filesBuilt).toBe(1);
      await agg.close();
    }
    const { inner, agg } = reopened(dir);
    await agg.open();
    try {
      expect(agg.health().checkpointLoaded).toBe(1);
      expect(agg.health().filesBuilt).toBe(0);
      await expectAnsweredLikeTheStore(inner, agg);
    } finally {
      await agg.close();
    }
  });

  it('reads a snapshot piece by piece: rows split across pieces and the blank-node section are merged; a graph met again is left dirty', () => {
    const dir = tempDir();
    const obs = (g: string, i: number, sensor = 's1') => {
      const o = `<${BASE}/obs/${g}-${i}>`;
      const G = `<${BASE}/g/${g}>`;
      return [
        `${o} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${SOSA}Observation> ${G} .`,
        `${o} <${SOSA}madeBySensor> <${BASE}/${sensor}> ${G} .`,
        `${o} <${SOSA}observedProperty> <${BASE}/temperature> ${G} .`,
        `${o} <${SOSA}resultTime> "2026-01-01T00:0${i}:00Z"^^<${XSD}dateTime> ${G} .`,
        `${o} <${SOSA}hasSimpleResult> "${i}.5"^^<${XSD}double> ${G} .`,
      ];
    };
    const a = [...obs('a', 1), ...obs('a', 2)];
    const b = obs('b', 1);
    // Graph a's second result is in the blank-node section (as a line beside a blank node would be); graph c is met twice.
    const plain = [...a.slice(0, -1), ...b, ...obs('c', 1), ...obs('d', 1), ...obs('c', 2)];
    const blank = [a.at(-1)!, `_:x <${BASE}/p> <${BASE}/o> <${BASE}/g/a> .`];
    writeFileSync(join(dir, 'snapshot-000000000002.nq'), `${plain.join('\n')}\n${BNODE_SECTION}${blank.join('\n')}\n`);
    writeFileSync(join(dir, 'log-000000000002.wal'), '');
    for (const pieceBytes of [64, 300, 1 << 20]) {
      const r = buildFromFiles(dir, pieceBytes);
      if (r.kind !== 'built') throw new Error(r.reason);
      const state = new AggregateState();
      expect(decodeCheckpoint(Buffer.from(r.bytes), FILES_MARK, state)).toBeUndefined();
      expect(state.graphs.get(`${BASE}/g/a`)?.n).toBe(2);
      expect(state.graphs.get(`${BASE}/g/b`)?.n).toBe(1);
      expect(state.irregularGraphs).toBe(0);
      // In one piece graph c is read whole; in small pieces it is met again after it was installed.
      if (pieceBytes === 1 << 20) expect([r.dirty, state.graphs.get(`${BASE}/g/c`)?.n]).toEqual([[], 2]);
      else expect([r.dirty, state.graphs.has(`${BASE}/g/c`)]).toEqual([[`${BASE}/g/c`], false]);
      expect(state.total).toBe(pieceBytes === 1 << 20 ? 6 : 4);
    }
  });

  it('damaged files give up instead of throwing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'log-000000000001.wal'), Buffer.concat([Buffer.from([5, 0, 0, 0, 9, 9, 9, 9, 1]), Buffer.from('hello'), Buffer.alloc(40, 7)]));
    expect(buildFromFiles(dir).kind).toBe('gave-up');
    expect(buildFromFiles(join(dir, 'missing')).kind).toBe('gave-up');
  });
});
