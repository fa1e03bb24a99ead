// The shipped dashboard queries (sparql/*.rq) answered from the maintained aggregates equal Oxigraph's own answer over
// the durable embedded store, after a load, redelivered messages, deletes, a retention drop and later messages.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregatingQuadStore } from '../../hub/store/aggregates/aggregating-quad-store.ts';
import { EmbeddedQuadStore } from '../../hub/store/embedded/embedded-quad-store.ts';
import type { JsonTerm } from '../../hub/store/quad-store.ts';
import { dayOf, observationChunks, observationMessage, observationQuads, SOSA, XSD, type DataShape } from '../bench/store/sosa-data.ts';

const BASE = 'http://hub.test';
const shape: DataShape = { sensors: 8, observations: 960, days: 3 };
const SHIPPED = ['count-observations.rq', 'latest-per-property.rq', 'hourly-average.rq', 'latest-observations.rq', 'average-per-sensor.rq'];
const text = (f: string) => readFileSync(new URL(`../../sparql/${f}`, import.meta.url), 'utf8');
type Row = Record<string, JsonTerm>;

/** A solution as a comparable string: doubles to 12 significant digits (SPARQL sums of doubles depend on their order). */
function canon(b: Row): string {
  return Object.keys(b)
    .sort()
    .map((k) => `${k}=${b[k]!.type}:${b[k]!.datatype === `${XSD}double` ? Number(b[k]!.value).toPrecision(12) : b[k]!.value}^^${b[k]!.datatype ?? ''}`)
    .join(' ');
}

describe('shipped dashboard queries: aggregates = Oxigraph', () => {
  let dir: string;
  let inner: EmbeddedQuadStore;
  let agg: AggregatingQuadStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agg-shipped-'));
    inner = new EmbeddedQuadStore({ dir, replicas: 1, standby: 0 });
    agg = new AggregatingQuadStore(inner);
    await agg.open();
    for (const chunk of observationChunks(BASE, shape, 120)) await agg.insert(chunk);
  });
  afterAll(async () => {
    await agg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every shipped query: answered from the aggregates, and the same solutions as the store's own answer. */
  async function allSame(phase: string, hourlyDay = 0): Promise<void> {
    await agg.aggregatesIdle(20_000);
    expect(agg.health().aggregatesReady, phase).toBe(1);
    for (const f of SHIPPED) {
      // hourly-average.rq as a user edits it: its two dates (a day the data still has).
      const q = f === 'hourly-average.rq' ? text(f).replace(/2026-01-0([12])T/g, (_, d) => `${dayOf(hourlyDay + Number(d) - 1)}T`) : text(f);
      const before = agg.health().aggregateAnswers!;
      const a = JSON.parse((await agg.query(q)).body);
      expect(agg.health().aggregateAnswers! - before, `${phase}: ${f} from the aggregates`).toBe(1);
      const b = JSON.parse((await inner.query(q)).body);
      expect(a.head.vars, `${phase}: ${f}`).toEqual(b.head.vars);
      const ra = (a.results.bindings as Row[]).map(canon);
      const rb = (b.results.bindings as Row[]).map(canon);
      expect(ra.length, `${phase}: ${f}`).toBeGreaterThan(0);
      if (f === 'latest-observations.rq') {
        // ORDER BY DESC(?time) LIMIT 100: the same times in the same order; tied rows may be others of that time.
        expect(a.results.bindings.map((r: Row) => r.time!.value), phase).toEqual(b.results.bindings.map((r: Row) => r.time!.value));
        const all = new Set((JSON.parse((await inner.query(q.replace('LIMIT 100', 'LIMIT 100000'))).body).results.bindings as Row[]).map(canon));
        for (const r of ra) expect(all.has(r), `${phase}: ${r}`).toBe(true);
      } else if (f === 'latest-per-property.rq') {
        expect([...ra].sort(), `${phase}: ${f}`).toEqual([...rb].sort());
      } else expect(ra, `${phase}: ${f}`).toEqual(rb); // ORDER BY its group keys: one order
    }
  }

  it('after the load', async () => {
    await allSame('load');
  });

  it('after redelivered messages (the same observations again, by insert and by INSERT DATA)', async () => {
    const first = observationChunks(BASE, shape, 60).next().value!;
    await agg.insert(first);
    const again = observationMessage(BASE, shape, 3, 5);
    await agg.update(`INSERT DATA { GRAPH <${again.graph}> { ${again.ntriples} } }`);
    await agg.insert(observationQuads(BASE, shape, 3, 6));
    await allSame('redelivered');
    // Nothing counted twice.
    const n = JSON.parse((await agg.query(`PREFIX sosa: <${SOSA}> SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?o a sosa:Observation } }`)).body);
    expect(n.results.bindings[0].n.value).toBe(String(shape.observations));
  });

  it('after deletes (DELETE WHERE on one sensor, a dropped graph, a changed result)', async () => {
    await agg.update(`PREFIX sosa: <${SOSA}> DELETE { GRAPH ?g { ?o ?p ?v } } WHERE { GRAPH ?g { ?o sosa:madeBySensor <https://bench.example.org/sensor/s2> ; ?p ?v } }`);
    await agg.deleteGraph(`${BASE}/graphs/observations/${encodeURIComponent('urn:bench:thing:s4')}/${dayOf(2)}`);
    await agg.update(`PREFIX sosa: <${SOSA}> DELETE { GRAPH ?g { ?o sosa:hasSimpleResult ?v } } INSERT { GRAPH ?g { ?o sosa:hasSimpleResult "-4.5"^^<${XSD}double> } } WHERE { GRAPH ?g { ?o sosa:madeBySensor <https://bench.example.org/sensor/s5> ; sosa:resultTime ?t ; sosa:hasSimpleResult ?v } FILTER(?t >= "${dayOf(2)}T12:00:00Z"^^<${XSD}dateTime>) }`);
    await allSame('deletes');
  });

  it('after a retention drop made inside the store, and messages after it', async () => {
    const dropped = await inner.dropObservationsBefore(dayOf(1));
    // Day 0's graph of every sensor but s2 (its observations were all deleted above: an empty graph is no graph).
    expect(dropped.length).toBe(shape.sensors - 1);
    await allSame('retention', 1);
    for (let k = 0; k < 5; k++) await agg.insert(observationQuads(BASE, { ...shape, observations: shape.observations + 80 }, k % shape.sensors, shape.observations / shape.sensors + k, `late-${k}`));
    await allSame('after retention', 2);
  });
});
