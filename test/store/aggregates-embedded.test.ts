// AggregatingQuadStore over the durable embedded store: retention drops are followed, and the hub's /sparql answers the
// dashboard queries from the aggregates (createStore wraps the embedded store).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AggregatingQuadStore } from '../../hub/store/aggregates/aggregating-quad-store.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import * as dash from '../bench/store/aggregate-queries.ts';
import { dayOf, observationChunks, type DataShape } from '../bench/store/sosa-data.ts';
import { startTestHub } from '../helpers/hub.ts';

const shape: DataShape = { sensors: 10, observations: 600, days: 3 };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function answers(store: { query(q: string): Promise<{ body: string }> }, q: string): Promise<string[]> {
  return JSON.parse((await store.query(q)).body).results.bindings.map((b: object) => JSON.stringify(Object.entries(b).sort())).sort();
}

describe('aggregates over the embedded store', () => {
  it('follows retention drops made inside the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agg-emb-'));
    dirs.push(dir);
    const inner = new EmbeddedQuadStore({ dir });
    const agg = new AggregatingQuadStore(inner);
    await agg.open();
    try {
      for (const chunk of observationChunks('http://hub.test', shape, 100)) await agg.insert(chunk);
      await agg.aggregatesIdle();
      const before = await answers(agg, dash.countPerSensor);
      // Retention calls the embedded store's own method, as its timer does.
      const dropped = await inner.dropObservationsBefore(dayOf(1));
      expect(dropped.length).toBe(shape.sensors);
      await agg.aggregatesIdle();
      expect(agg.health().aggregatesReady).toBe(1);
      for (const q of [dash.countAll, dash.countPerSensor, dash.latestPerProperty, dash.hourlyAverage(dayOf(0)), dash.hourlyAverage(dayOf(2))]) {
        const n = agg.health().aggregateAnswers!;
        expect(await answers(agg, q)).toEqual(await answers(inner, q));
        expect(agg.health().aggregateAnswers! - n).toBe(1);
      }
      expect(await answers(agg, dash.countPerSensor)).not.toEqual(before);
    } finally {
      await agg.close();
    }
  });

  it('forgets what it scanned from inserts the store refused (overloaded, or a graph IRI no store holds)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agg-emb-'));
    dirs.push(dir);
    const inner = new EmbeddedQuadStore({ dir, maxPendingWrites: 3 });
    const agg = new AggregatingQuadStore(inner);
    await agg.open();
    try {
      const chunks = [...observationChunks('http://hub.test', shape, 1)].slice(0, 6);
      // One tick: the first three share a group commit, the last three are refused (maxPendingWrites) after the scan.
      const settled = await Promise.allSettled(chunks.map((c) => agg.insert(c)));
      expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
      // Refused for want of room before any scan (the store says so through refusal()), without a stack to capture.
      expect(agg.health().scanCalls).toBe(3);
      expect(inner.health().overloadRefusals).toBe(3);
      const reason = (settled[3] as PromiseRejectedResult).reason as Error;
      expect(reason.name).toBe('OverloadedError');
      expect(reason.stack).not.toMatch(/\n\s+at /);
      // A query over every graph applies the accepted three first (the worker answers them before it): room again.
      await inner.ask('ASK { GRAPH ?g { ?s ?p ?o } }');
      expect(inner.health().pendingWrites).toBe(0);
      // A graph IRI the store refuses: scanned, then refused.
      await expect(agg.insert(chunks[0]!.replace(/ <[^>]+> \.\n/g, ' .\n'), 'http://hub.test/bad graph')).rejects.toThrow(/Invalid graph IRI/);
      await agg.aggregatesIdle();
      expect(agg.health().aggregatesReady).toBe(1);
      for (const q of [dash.countAll, dash.countPerSensor, dash.latestPerProperty]) expect(await answers(agg, q)).toEqual(await answers(inner, q));
      expect(await answers(agg, dash.countAll)).toEqual([JSON.stringify([['n', { type: 'literal', value: '3', datatype: 'http://www.w3.org/2001/XMLSchema#integer' }]])]);
    } finally {
      await agg.close();
    }
  });

  it('the hub answers /sparql dashboard queries from the aggregates', async () => {
    const hub = await startTestHub();
    try {
      expect(hub.store).toBeInstanceOf(AggregatingQuadStore);
      const store = hub.store as AggregatingQuadStore;
      for (const chunk of observationChunks(hub.config.baseUrl, shape, 100)) await store.insert(chunk);
      await store.aggregatesIdle();
      const n = store.health().aggregateAnswers!;
      const res = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query', accept: 'text/csv' }, payload: dash.countAll });
      expect(res.statusCode).toBe(200);
      expect(res.body.trim().split(/\r?\n/)).toEqual(['n', String(shape.observations)]);
      expect(store.health().aggregateAnswers! - n).toBe(1);
    } finally {
      await hub.stop();
    }
  });
});
