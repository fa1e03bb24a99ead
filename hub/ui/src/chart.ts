// Time-series charts (uPlot) of a Thing's numeric property, aggregated by the hub (SPARQL GROUP BY time buckets).
import uPlot from 'uplot';
import { api, describe } from './api.ts';
import { clear, field, h } from './dom.ts';
import type { SelectResults } from './results.ts';

/** Windows and their buckets: a prefix of the xsd:dateTime lexical form (16 = minute, 15 = ten minutes, 13 = hour). */
export const WINDOWS: Record<string, { ms: number; prefix: number; label: string }> = {
  '1h': { ms: 3_600_000, prefix: 16, label: 'last hour (per minute)' },
  '6h': { ms: 6 * 3_600_000, prefix: 16, label: 'last 6 hours (per minute)' },
  '24h': { ms: 86_400_000, prefix: 15, label: 'last 24 hours (per 10 minutes)' },
  '7d': { ms: 7 * 86_400_000, prefix: 13, label: 'last 7 days (per hour)' },
  '30d': { ms: 30 * 86_400_000, prefix: 13, label: 'last 30 days (per hour)' },
  '1y': { ms: 365 * 86_400_000, prefix: 10, label: 'last year (per day)' },
};

/** The aggregate query: mean/min/max per bucket of the Thing's observations of `property` since `from`. */
export function bucketQuery(thingId: string, property: string, from: Date, prefix: number): string {
  const graph = JSON.stringify(`/graphs/observations/${encodeURIComponent(thingId)}/`);
  return `PREFIX sosa: <http://www.w3.org/ns/sosa/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?bucket (AVG(?v) AS ?mean) (MIN(?v) AS ?min) (MAX(?v) AS ?max) (COUNT(?v) AS ?n) WHERE {
  GRAPH ?g { ?o sosa:observedProperty ?p ; sosa:resultTime ?t ; sosa:hasSimpleResult ?v . }
  FILTER(CONTAINS(STR(?g), ${graph}))
  FILTER(STRENDS(STR(?p), ${JSON.stringify(`/properties/${property}`)}))
  FILTER(?t >= ${JSON.stringify(from.toISOString())}^^xsd:dateTime)
  FILTER(isNumeric(?v))
}
GROUP BY (SUBSTR(STR(?t), 1, ${prefix}) AS ?bucket)
ORDER BY ?bucket
LIMIT 5000`;
}

/** Start of a bucket from its lexical prefix ("2026-12-02T10:1" -> 10:10:00Z), in seconds. */
export function bucketStart(bucket: string): number {
  const pad = '0000-01-01T00:00:00Z';
  const s = bucket.length >= 19 ? `${bucket.slice(0, 19)}Z` : bucket + (bucket.length === 15 ? '0' + pad.slice(16) : pad.slice(bucket.length));
  return Date.parse(s) / 1000;
}

export interface Series {
  x: number[];
  mean: number[];
  min: number[];
  max: number[];
}

export async function loadSeries(thingId: string, property: string, windowKey: string): Promise<Series> {
  const w = WINDOWS[windowKey] ?? WINDOWS['24h']!;
  const query = bucketQuery(thingId, property, new Date(Date.now() - w.ms), w.prefix);
  const res = await api('/sparql', { method: 'POST', headers: { 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, body: query });
  const data = (await res.json()) as SelectResults;
  const s: Series = { x: [], mean: [], min: [], max: [] };
  for (const b of data.results.bindings) {
    if (!b.bucket) continue;
    s.x.push(bucketStart(b.bucket.value));
    s.mean.push(Number(b.mean?.value));
    s.min.push(Number(b.min?.value));
    s.max.push(Number(b.max?.value));
  }
  return s;
}

/** A chart section for the numeric properties: choose property and window; new values append live (`push`). */
export function chartSection(thingId: string, numeric: string[]): { element: HTMLElement; push(name: string, value: number, at: number): void; destroy(): void } {
  const propSel = h('select', {}, numeric.map((n) => h('option', { value: n }, n)));
  const winSel = h('select', {}, Object.entries(WINDOWS).map(([k, w]) => h('option', { value: k, selected: k === '24h' }, w.label)));
  const plotBox = h('div', { class: 'plot', role: 'img', 'aria-label': 'time series chart' });
  const status = h('p', { class: 'muted', role: 'status' });
  let plot: uPlot | undefined;
  let series: Series | undefined;
  const draw = async () => {
    status.textContent = 'Loading…';
    try {
      series = await loadSeries(thingId, propSel.value, winSel.value);
      plot?.destroy();
      clear(plotBox);
      status.textContent = `${series.x.length} buckets (${propSel.value}, aggregated by the hub)`;
      plotBox.setAttribute('aria-label', `${propSel.value}: ${series.x.length} points`);
      plot = new uPlot(
        {
          width: Math.max(320, Math.min(900, plotBox.clientWidth || 800)),
          height: 260,
          scales: { x: { time: true } },
          series: [{}, { label: 'mean', stroke: '#1f6feb', width: 2 }, { label: 'min', stroke: '#8aa4c8', dash: [4, 4] }, { label: 'max', stroke: '#c8708a', dash: [4, 4] }],
        },
        [series.x, series.mean, series.min, series.max],
        plotBox,
      );
    } catch (e) {
      status.textContent = describe(e);
    }
  };
  propSel.addEventListener('change', () => void draw());
  winSel.addEventListener('change', () => void draw());
  const element = h('section', { 'aria-labelledby': 'chart-h' }, h('h2', { id: 'chart-h' }, 'Charts'), h('div', { class: 'row' }, field('Property', propSel), field('Window', winSel)), status, plotBox);
  if (numeric.length) void draw();
  else element.append(h('p', { class: 'muted' }, 'No numeric properties.'));
  return {
    element,
    push(name, value, at) {
      // Live values append as their own points (a new bucket's aggregate arrives on the next load).
      if (!plot || !series || name !== propSel.value || !Number.isFinite(value)) return;
      const last = series.x[series.x.length - 1];
      if (last !== undefined && at <= last) return;
      series.x.push(at);
      series.mean.push(value);
      series.min.push(value);
      series.max.push(value);
      plot.setData([series.x, series.mean, series.min, series.max]);
    },
    destroy: () => plot?.destroy(),
  };
}
