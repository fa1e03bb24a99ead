// Issue 9 ingestion options side by side, in one child process: Oxigraph batch sizes x message shapes, partitioning
// over 2 engines (2 threads in parallel), and the columnar hot store (hub/store/hot/hot-series.ts).
// Run: node --import tsx test/bench/store/hot-options.ts [baseQuads=1000000]   (prints one JSON line)
// Every Oxigraph figure is `load(..., {no_transaction: true})` of N-Quads bytes into a store already holding baseQuads,
// interleaved round by round (a shared machine's load shifts every option alike); medians of the rounds.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import oxigraph from 'oxigraph';
import { HotStore } from '../../../hub/store/hot/hot-series.ts';
import { lorawanMessage, sosaMessage } from './ingest.ts';
import { observationsText } from './oxigraph-options.ts';
import { sensorIri } from './sosa-data.ts';

const BASE = 'http://127.0.0.1:8080';
const baseQuads = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.env.HOT_OPTIONS_ROUNDS ?? 2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r2 = (x: number) => Math.round(x * 100) / 100;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => (gc(), process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
const nq = { format: 'application/n-quads', no_transaction: true } as const;
const T0 = Date.UTC(2026, 5, 1);

/** The four message shapes as N-Quads (graph appended to each line), `count` messages from `from`. */
const SHAPES: Record<string, (i: number) => { ntriples: string; graph: string }> = {
  sosa8: (i) => sosaMessage(BASE, i, T0 + i),
  // SOSA allows leaving out rdf:type (sosa:madeBySensor's domain is sosa:Observation), but sparql/*.rq match
  // `a sosa:Observation`: only a measurement of what a 7-quad message would save.
  sosa7NoType: (i) => {
    const m = sosaMessage(BASE, i, T0 + i);
    return { ...m, ntriples: m.ntriples.split('\n').filter((l) => !l.includes('22-rdf-syntax-ns#type')).join('\n') };
  },
  lorawan45: (i) => lorawanMessage(BASE, i, T0 + i),
  lorawanSlim15: (i) => lorawanMessage(BASE, i, T0 + i, true),
};
const quadsOf = (shape: string) => SHAPES[shape]!(0).ntriples.split('\n').filter(Boolean).length;

let next = 10_000_000;
function batchText(shape: string, quads: number): string {
  const per = quadsOf(shape);
  const parts: string[] = [];
  for (let q = 0; q < quads; q += per) {
    const m = SHAPES[shape]!(next++);
    parts.push(m.ntriples.replace(/ \.\n/g, ` <${m.graph}> .\n`));
  }
  return parts.join('');
}

function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

// ---- 1. batch sizes x shapes, one engine -----------------------------------------------------------------------
const store = new oxigraph.Store();
for (let obs = 0; obs * 8 < baseQuads; obs += 1250) store.load(observationsText(obs, 1250), nq);
const sizes = [8_000, 64_000, 256_000];
const quadRates: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const size of sizes) {
    for (const shape of Object.keys(SHAPES)) {
      const bytes = Buffer.from(batchText(shape, size));
      (quadRates[`${shape} @${size / 1000}k quads`] ??= []).push(size / (time(() => store.load(bytes, nq)) / 1000));
    }
  }
}
const batches: Record<string, { quadsPerS: number; msgsPerS: number }> = {};
for (const [k, v] of Object.entries(quadRates)) {
  const q = median(v);
  batches[k] = { quadsPerS: Math.round(q), msgsPerS: Math.round(q / quadsOf(k.split(' ')[0]!)) };
}

// ---- 2. partitioning: the same quads over 2 engines in 2 threads at once vs 1 engine ---------------------------
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ox = require('oxigraph');
const s = new ox.Store();
const nq = { format: 'application/n-quads', no_transaction: true };
parentPort.on('message', (m) => {
  if (m.op === 'fill') { for (const b of m.batches) s.load(b, nq); parentPort.postMessage('filled'); return; }
  const t = performance.now();
  for (const b of m.batches) s.load(b, nq);
  parentPort.postMessage(performance.now() - t);
});`;
async function partitioned(engines: number, totalQuads: number): Promise<number> {
  const workers = Array.from({ length: engines }, () => new Worker(WORKER, { eval: true }));
  const ask = (w: Worker, msg: unknown) => new Promise<unknown>((res, rej) => (w.once('message', res), w.once('error', rej), w.postMessage(msg)));
  try {
    // Each engine starts with its share of the base (the partitions together hold baseQuads).
    const fillObs = baseQuads / 8 / engines;
    await Promise.all(workers.map((w, k) => {
      const fill: Uint8Array[] = [];
      for (let o = 0; o < fillObs; o += 1250) fill.push(Buffer.from(observationsText(k * fillObs + o, 1250)));
      return ask(w, { op: 'fill', batches: fill });
    }));
    const per = workers.map(() => [] as Uint8Array[]);
    for (let q = 0, k = 0; q < totalQuads; q += 64_000, k++) per[k % engines]!.push(Buffer.from(batchText('sosa8', 64_000)));
    const t = performance.now();
    await Promise.all(workers.map((w, k) => ask(w, { op: 'load', batches: per[k] })));
    return totalQuads / ((performance.now() - t) / 1000);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
const partitionRates: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const engines of [1, 2]) (partitionRates[`${engines} engine${engines > 1 ? 's' : ''}`] ??= []).push(await partitioned(engines, 512_000));
}
const partitions = Object.fromEntries(Object.entries(partitionRates).map(([k, v]) => [k, { quadsPerS: Math.round(median(v)), msgsPerS8: Math.round(median(v) / 8) }]));

// ---- 3. the columnar hot store: scan + append, lookups, memory ----------------------------------------------------
const hot = new HotStore(8_000_000);
const hotRates: Record<string, number[]> = {};
const HOT_MSGS = 200_000;
let mark = 0;
const heap0 = heap();
for (let round = 0; round < ROUNDS; round++) {
  for (const shape of ['sosa8', 'lorawan45']) {
    const msgs = Array.from({ length: HOT_MSGS / (shape === 'sosa8' ? 1 : 4) }, () => SHAPES[shape]!(next++));
    const ms = time(() => {
      for (const m of msgs) hot.add(m.ntriples, m.graph, ++mark);
    });
    (hotRates[`append ${shape}`] ??= []).push(msgs.length / (ms / 1000));
  }
}
const heldRows = hot.rows;
const heapHot = heap() - heap0;
const probeMsg = sosaMessage(BASE, next - 1, T0);
const lookups = (f: () => unknown, n = 10_000) => r2((time(() => { for (let i = 0; i < n; i++) f(); }) * 1000) / n);
const hotFigures = {
  msgsPerS: Object.fromEntries(Object.entries(hotRates).map(([k, v]) => [k, Math.round(median(v))])),
  rows: heldRows,
  series: hot.seriesCount,
  heapMBPerMillionRows: r2(heapHot / 2 ** 20 / (heldRows / 1e6)),
  hasUs: lookups(() => hot.has(probeMsg.graph, `https://bench.example.org/live/${next - 1}`)),
  latestUs: lookups(() => hot.latest(sensorIri(42))),
};

process.stdout.write(`${JSON.stringify({ mode: 'hot-options', baseQuads: store.size, rounds: ROUNDS, batches, partitions, hot: hotFigures })}\n`);
