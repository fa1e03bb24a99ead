// AggregatingQuadStore: dashboard answers from maintained aggregates equal the store's own answers, through writes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AggregatingQuadStore } from '../../hub/store/aggregates/aggregating-quad-store.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';
import type { JsonTerm } from '../../hub/store/quad-store.ts';
import { countQuery, dayAverageByFilter, latestQuery } from '../bench/store/queries.ts';
import { dayOf, observationChunks, SOSA, XSD, type DataShape } from '../bench/store/sosa-data.ts';
import * as dash from '../bench/store/aggregate-queries.ts';
import { readFileSync } from 'node:fs';

const BASE = 'http://hub.test';
const shape: DataShape = { sensors: 12, observations: 1200, days: 2 };
const EX = 'https://bench.example.org/';
const G = `${BASE}/graphs/observations/extra/2026-01-01`;
const P = `PREFIX sosa: <${SOSA}>\nPREFIX xsd: <${XSD}>\n`;

/** Observations with integer, decimal and string results, a second property, and a tie at the latest time. */
function extras(): string {
  const lines: string[] = [];
  const obs = (id: string, sensor: string, prop: string, time: string, value: string) => {
    const o = `<${EX}obs/${id}>`;
    lines.push(
      `${o} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${SOSA}Observation> <${G}> .`,
      `${o} <${SOSA}madeBySensor> <${EX}sensor/${sensor}> <${G}> .`,
      `${o} <${SOSA}observedProperty> <${EX}property/${prop}> <${G}> .`,
      `${o} <${SOSA}resultTime> "${time}"^^<${XSD}dateTime> <${G}> .`,
      `${o} <${SOSA}hasSimpleResult> ${value} <${G}> .`,
    );
  };
  for (let i = 0; i < 30; i++) {
    const t = `2026-01-01T${String(i % 24).padStart(2, '0')}:${String(i).padStart(2, '0')}:00.${i % 2 ? '500' : '000'}Z`;
    obs(`int-${i}`, 'int', 'count', t, `"${i * 3 - 7}"^^<${XSD}integer>`);
    obs(`dec-${i}`, 'dec', 'level', t, `"${(i / 7).toFixed(4)}"^^<${XSD}decimal>`);
    obs(`str-${i}`, 'mixed', 'state', t, i % 3 ? `"${i}.25"^^<${XSD}double>` : `"n/a"`);
    obs(`hum-${i}`, 's1', 'humidity', t, `"${40 + i}.5"^^<${XSD}double>`);
  }
  // A tie at the latest time of one (sensor, property).
  obs('tie-a', 'tie', 'temperature', '2026-01-02T23:59:59Z', `"1.5"^^<${XSD}double>`);
  obs('tie-b', 'tie', 'temperature', '2026-01-02T23:59:59.000Z', `"2.5"^^<${XSD}double>`);
  return lines.join('\n') + '\n';
}

function queries(): Record<string, string> {
  const day = dayOf(0);
  return {
    countQuery,
    countAll: dash.countAll,
    countPerSensor: dash.countPerSensor,
    countPerProperty: dash.countPerProperty,
    countPerGraph: `${P}SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?o a sosa:Observation } } GROUP BY ?g ORDER BY ?g`,
    latest3: latestQuery(3),
    latestInt: latestQuery(-1).replace(`${EX}sensor/s-1`, `${EX}sensor/int`),
    latestNone: latestQuery(9999),
    latestPerProperty: dash.latestPerProperty,
    hourly: dash.hourlyAverage(day),
    hourlyAll: dash.hourlyAverageAll(day),
    dayAverage: dayAverageByFilter(day),
    averagePerSensor: readFileSync(new URL('../../sparql/average-per-sensor.rq', import.meta.url), 'utf8'),
    sums: `${P}SELECT ?sensor (SUM(?v) AS ?s) (MIN(?v) AS ?lo) (MAX(?v) AS ?hi) (AVG(?v) AS ?a) WHERE { GRAPH ?g { ?o sosa:madeBySensor ?sensor ; sosa:hasSimpleResult ?v } FILTER(isNumeric(?v)) } GROUP BY ?sensor`,
    emptyRange: `${P}SELECT (COUNT(*) AS ?n) (AVG(?v) AS ?a) (MIN(?v) AS ?m) WHERE { GRAPH ?g { ?o sosa:resultTime ?t ; sosa:hasSimpleResult ?v } FILTER(?t >= "2030-01-01T00:00:00Z"^^xsd:dateTime) }`,
  };
}

/** Solutions as comparable strings: doubles to 12 significant digits (SPARQL sums of doubles depend on their order). */
function canon(b: Record<string, JsonTerm>): string {
  return Object.keys(b)
    .sort()
    .map((k) => {
      const t = b[k]!;
      const v = t.datatype === `${XSD}double` ? Number(t.value).toPrecision(12) : t.value;
      return `${k}=${t.type}:${v}^^${t.datatype ?? ''}`;
    })
    .join(' ');
}

async function same(agg: AggregatingQuadStore, inner: MemoryQuadStore, name: string, q: string, answered = true): Promise<void> {
  const before = agg.health().aggregateAnswers!;
  const a = JSON.parse((await agg.query(q)).body);
  const b = JSON.parse((await inner.query(q)).body);
  expect(agg.health().aggregateAnswers! - before, `${name} answered from aggregates`).toBe(answered ? 1 : 0);
  expect(a.head.vars, name).toEqual(b.head.vars);
  const ra = a.results.bindings.map(canon);
  const rb = b.results.bindings.map(canon);
  // Ordered on keys without ties: same order. Otherwise (no ORDER BY, or ties) the same multiset of solutions.
  if (/ORDER BY \?(sensor|property|g|hour)/.test(q) && !/latest|MAX\(\?t\)/.test(name)) expect(ra, name).toEqual(rb);
  else expect([...ra].sort(), name).toEqual([...rb].sort());
}

/** Doubles written with more than 12 significant digits, rounded to 12 (text of any result format). */
const roundDoubles = (body: string) => body.replace(/\d+\.\d{6,}(?:[eE][-+]?\d+)?/g, (x) => String(Number(Number(x).toPrecision(12))));

describe('AggregatingQuadStore', () => {
  let inner: MemoryQuadStore;
  let agg: AggregatingQuadStore;

  beforeEach(async () => {
    inner = new MemoryQuadStore();
    agg = new AggregatingQuadStore(inner);
    await agg.open();
    for (const chunk of observationChunks(BASE, shape, 100)) await agg.insert(chunk);
    await agg.insert(extras());
    await agg.aggregatesIdle();
  });
  afterEach(() => agg.close());

  it('answers every dashboard shape as the store does', async () => {
    expect(agg.health().aggregatesReady).toBe(1);
    for (const [name, q] of Object.entries(queries())) await same(agg, inner, name, q);
    const latest = JSON.parse((await agg.query(dash.latestPerProperty)).body).results.bindings;
    expect(latest.filter((b: Record<string, JsonTerm>) => b.sensor!.value.endsWith('/tie')).length).toBe(2);
  });

  it('writes every result format as the store does', async () => {
    for (const format of ['application/sparql-results+xml', 'text/csv', 'text/tab-separated-values']) {
      for (const q of [dash.countPerSensor, dash.countAll, dash.hourlyAverage(dayOf(1))]) {
        const a = await agg.query(q, { resultFormat: format });
        // Byte for byte, but for the last digits of double averages (summed in another order: ./README.md).
        expect(roundDoubles(a.body)).toBe(roundDoubles((await inner.query(q, { resultFormat: format })).body));
        expect(a.contentType).toBe(format);
      }
    }
  });

  it('the latest 100 observations are a valid answer (ties may be broken differently)', async () => {
    const a = JSON.parse((await agg.query(dash.latestObservations)).body).results.bindings as Record<string, JsonTerm>[];
    const b = JSON.parse((await inner.query(dash.latestObservations)).body).results.bindings as Record<string, JsonTerm>[];
    expect(a.map((r) => r.time!.value)).toEqual(b.map((r) => r.time!.value));
    const all = new Set(JSON.parse((await inner.query(dash.latestObservations.replace('LIMIT 100', 'LIMIT 10000'))).body).results.bindings.map(canon));
    for (const r of a) expect(all.has(canon(r))).toBe(true);
  });

  it('follows deletes, updates, PUT, redeliveries and observations written in parts', async () => {
    const q = queries();
    const g0 = `${BASE}/graphs/observations/${encodeURIComponent('urn:bench:thing:s2')}/${dayOf(0)}`;
    const first = observationChunks(BASE, shape, 50).next().value!;
    await agg.insert(first); // a redelivery: same quads again
    await agg.deleteGraph(g0);
    await agg.update(`PREFIX sosa: <${SOSA}> DELETE { GRAPH ?g { ?o sosa:hasSimpleResult ?v } } INSERT { GRAPH ?g { ?o sosa:hasSimpleResult "99"^^<${XSD}integer> } } WHERE { GRAPH ?g { ?o sosa:madeBySensor <${EX}sensor/s5> ; sosa:hasSimpleResult ?v } }`);
    await agg.putGraph(G, `<${EX}obs/put> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${SOSA}Observation> .\n<${EX}obs/put> <${SOSA}madeBySensor> <${EX}sensor/put> .\n<${EX}obs/put> <${SOSA}observedProperty> <${EX}property/p> .\n<${EX}obs/put> <${SOSA}resultTime> "2026-01-01T05:00:00Z"^^<${XSD}dateTime> .\n<${EX}obs/put> <${SOSA}hasSimpleResult> "3"^^<${XSD}double> .\n`);
    const o = `<${EX}obs/split>`;
    const g = `<${BASE}/graphs/observations/split/2026-01-01>`;
    await agg.insert(`${o} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${SOSA}Observation> ${g} .\n${o} <${SOSA}madeBySensor> <${EX}sensor/split> ${g} .\n`);
    await agg.insert(`${o} <${SOSA}observedProperty> <${EX}property/p> ${g} .\n${o} <${SOSA}resultTime> "2026-01-01T01:00:00Z"^^<${XSD}dateTime> ${g} .\n${o} <${SOSA}hasSimpleResult> "7"^^<${XSD}double> ${g} .\n`);
    await agg.aggregatesIdle();
    expect(Object.fromEntries(Object.entries(agg.health()).filter(([k]) => k.startsWith("aggregates")))).toMatchObject({ aggregatesReady: 1 });
    for (const [name, text] of Object.entries(q)) await same(agg, inner, name, text);
  });

  it('delegates while data is irregular (blank nodes, a second result) and answers the same', async () => {
    await agg.insert(`_:b <${SOSA}madeBySensor> <${EX}sensor/s1> <${G}> .\n`);
    await agg.aggregatesIdle();
    await same(agg, inner, 'count', dash.countPerSensor, false);
    await agg.update(`DELETE WHERE { GRAPH <${G}> { ?b <${SOSA}madeBySensor> <${EX}sensor/s1> . FILTER(isBlank(?b)) } }`).catch(() => undefined);
    await agg.deleteGraph(G);
    await agg.aggregatesIdle();
    await same(agg, inner, 'count', dash.countPerSensor, true);
  });

  it('builds from a store that already holds data when opened', async () => {
    const again = new AggregatingQuadStore(inner);
    await again.open();
    await again.aggregatesIdle();
    for (const [name, q] of Object.entries(queries())) await same(again, inner, name, q);
  });

  it('delegates other queries and dataset restrictions', async () => {
    await same(agg, inner, 'other', `SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }`, false);
    const before = agg.health().aggregateDelegated!;
    await agg.query(dash.countAll, { namedGraphUris: [G] });
    expect(agg.health().aggregateDelegated! - before).toBe(1);
    // A union default graph does not change GRAPH ?g: still answered, and the same.
    const answered = agg.health().aggregateAnswers!;
    const a = JSON.parse((await agg.query(dash.countPerSensor, { unionDefaultGraph: true })).body).results.bindings;
    expect(a).toEqual(JSON.parse((await inner.query(dash.countPerSensor, { unionDefaultGraph: true })).body).results.bindings);
    expect(agg.health().aggregateAnswers! - answered).toBe(1);
  });
});
