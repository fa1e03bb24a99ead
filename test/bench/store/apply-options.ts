// Apply-path options for insert batches in the store worker, timed side by side (interleaved rounds, medians).
// Run: node --import tsx test/bench/store/apply-options.ts [baseQuads=1000000] [messages=20000]   (one JSON line)
// strings: today's applyInserts (decode each record to text, append the graph per line, one load of the whole doc);
// records: applyInsertRecords, the worker's path: payload bytes grouped by target graph, one Uint8Array load per graph
// (to_graph_name), or the strings path when there are few messages per graph.
import oxigraph from 'oxigraph';
import { OxigraphEngine } from '../../../hub/store/oxigraph-engine.ts';
import { applyInserts, decodeInserts } from '../../../hub/store/embedded/apply.ts';
import { encodeInserts } from '../../../hub/store/embedded/log-format.ts';
import { observationMessage, type DataShape } from './sosa-data.ts';
import { observationsText } from './oxigraph-options.ts';
import { applyInsertRecords } from '../../../hub/store/embedded/apply.ts';

const BASE = 'http://127.0.0.1:8080';
const shape: DataShape = { sensors: 1000, observations: 100_000_000, days: 365 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const baseQuads = Number(process.argv[2] ?? 1_000_000);
const messages = Number(process.argv[3] ?? 20_000);
const engine = new OxigraphEngine();
for (let obs = 0; obs * 8 < baseQuads; obs += 1250) engine.store.load(observationsText(obs, 1250), { format: 'application/n-quads', no_transaction: true });
void oxigraph;

let next = 0;
function batchRecords(n: number, batch: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let b = 0; b < n; b += batch) {
    const items = [];
    for (let i = 0; i < batch; i++, next++) {
      const m = observationMessage(BASE, shape, next % 1000, 100_000 + Math.floor(next / 1000), `ap-${next}`);
      items.push({ nquads: m.ntriples, graph: m.graph });
    }
    out.push(encodeInserts(items));
  }
  return out;
}
const options: Record<string, (records: Uint8Array) => void> = {
  strings: (r) => void applyInserts(engine, decodeInserts(r)),
  'records (by graph, or strings when graphs x4 > messages)': (r) => void applyInsertRecords(engine, r),
};
const rates: Record<string, number[]> = {};
for (let round = 0; round < 3; round++) {
  for (const batch of [500, 5000]) {
    for (const [name, apply] of Object.entries(options)) {
      const recs = batchRecords(messages, batch);
      const t = performance.now();
      for (const r of recs) apply(r);
      (rates[`${name} @${batch} msgs`] ??= []).push(messages / ((performance.now() - t) / 1000));
    }
  }
}
process.stdout.write(`${JSON.stringify({ mode: 'apply', baseQuads, quads: engine.size(), messagesPerSecond: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(median(v))])) })}\n`);
