// Shared by the aggregates tests: the dashboard queries, and a check that the aggregates answer each as the store does.
import { expect } from 'vitest';
import type { AggregatingQuadStore } from '../../hub/store/aggregates/aggregating-quad-store.ts';
import type { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import * as dash from '../bench/store/aggregate-queries.ts';
import { dayOf, XSD } from '../bench/store/sosa-data.ts';

export const QUERIES = [dash.countAll, dash.countPerSensor, dash.countPerProperty, dash.latestPerProperty, dash.latestObservations, dash.averagePerSensor, dash.hourlyAverage(dayOf(1)), dash.hourlyAverageAll(dayOf(2))];
const DOUBLE = `${XSD}double`;

/** The solutions, sorted; doubles to 12 digits (the aggregates add double sums in another order than the store). */
export async function answers(store: { query(q: string): Promise<{ body: string }> }, q: string): Promise<string[]> {
  const rows = JSON.parse((await store.query(q)).body).results.bindings as Array<Record<string, { value: string; datatype?: string }>>;
  return rows.map((b) => JSON.stringify(Object.entries(b).map(([k, t]) => [k, t.datatype === DOUBLE ? { ...t, value: Number(t.value).toPrecision(12) } : t]).sort())).sort();
}

/** Every dashboard query answered from the aggregates (one aggregate answer each), each the store's own answer. */
export async function expectAnsweredLikeTheStore(inner: EmbeddedQuadStore, agg: AggregatingQuadStore): Promise<void> {
  expect(agg.health().aggregatesReady).toBe(1);
  for (const q of QUERIES) {
    const n = agg.health().aggregateAnswers!;
    expect(await answers(agg, q)).toEqual(await answers(inner, q));
    expect(agg.health().aggregateAnswers! - n).toBe(1);
  }
}
