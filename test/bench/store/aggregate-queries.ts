// The dashboard queries answered from maintained aggregates (hub/store/aggregates), for the aggregates and store benchmarks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOSA, XSD } from './sosa-data.ts';

const PREFIXES = `PREFIX sosa: <${SOSA}>\nPREFIX xsd: <${XSD}>\n`;
const saved = (name: string) => readFileSync(join(import.meta.dirname, '../../../sparql', name), 'utf8');

/** "How many observations": all of them. */
export const countAll = `${PREFIXES}SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?obs a sosa:Observation } }`;

/** "How many observations" per sensor (sparql/count-observations.rq). */
export const countPerSensor = saved('count-observations.rq');

/** "How many observations" per observed property. */
export const countPerProperty = `${PREFIXES}SELECT ?property (COUNT(?obs) AS ?n) WHERE { GRAPH ?g { ?obs a sosa:Observation ; sosa:observedProperty ?property } } GROUP BY ?property ORDER BY ?property`;

/** "Latest value per property" (sparql/latest-per-property.rq). */
export const latestPerProperty = saved('latest-per-property.rq');

/** The 100 latest observations (sparql/latest-observations.rq). */
export const latestObservations = saved('latest-observations.rq');

/** "Average per hour over a day", per sensor and property: the saved query with its day replaced. */
export function hourlyAverage(day: string): string {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  // Both dates in one pass (replacing one after the other turned 2026-01-02 into an empty range: from > to).
  return saved('hourly-average.rq').replace(/2026-01-0([12])T00:00:00Z/g, (_, d: string) => `${d === '1' ? day : next}T00:00:00Z`);
}

/** Average per hour of the day over every sensor (one row per hour). */
export function hourlyAverageAll(day: string): string {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return `${PREFIXES}SELECT ?hour (AVG(?value) AS ?avg) (COUNT(*) AS ?n) WHERE {
  GRAPH ?g { ?obs sosa:resultTime ?time ; sosa:hasSimpleResult ?value }
  FILTER(?time >= "${day}T00:00:00Z"^^xsd:dateTime && ?time < "${next}T00:00:00Z"^^xsd:dateTime)
} GROUP BY (HOURS(?time) AS ?hour) ORDER BY ?hour`;
}

/** Average result per sensor and property over everything (sparql/average-per-sensor.rq). */
export const averagePerSensor = saved('average-per-sensor.rq');
