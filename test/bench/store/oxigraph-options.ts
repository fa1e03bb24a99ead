// Oxigraph apply-path measurements for the store benchmark: memory per quad and load options, run in a child process.
// Run: node --import tsx test/bench/store/oxigraph-options.ts memory <quads>      (prints one JSON line)
//      node --import tsx test/bench/store/oxigraph-options.ts options <baseQuads> (prints one JSON line)
// `memory` loads <quads> SOSA quads in 10k-quad N-Quads pieces and reports RSS per million quads at 1M steps.
// `options` fills a store to <baseQuads>, then times the same fresh quads loaded with each option, interleaved round by
// round so that a shared machine's load shifts every option alike; the medians are reported (quads/s, one core).
import oxigraph from 'oxigraph';
import { observationQuads, type DataShape } from './sosa-data.ts';

const { Store, parse } = oxigraph;
const BASE = 'http://127.0.0.1:8080';
const rss = () => process.memoryUsage().rss;
const r2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** N-Quads text of `count` observations (8 quads each) starting at observation `from`, over 1,000 sensors. */
export function observationsText(from: number, count: number, shape: DataShape = { sensors: 1000, observations: 100_000_000, days: 365 }, tag = ''): string {
  const parts: string[] = [];
  for (let i = from; i < from + count; i++) parts.push(observationQuads(BASE, shape, i % shape.sensors, Math.floor(i / shape.sensors), `${tag}${i}`));
  return parts.join('');
}

type OxStore = InstanceType<typeof Store>;
function fill(store: OxStore, quads: number, onStep?: (loaded: number, ms: number) => void): number {
  const perPiece = 1250; // 10k quads
  const t0 = performance.now();
  let stepT = t0;
  for (let obs = 0; obs * 8 < quads; obs += perPiece) {
    store.load(observationsText(obs, perPiece), { format: 'application/n-quads', no_transaction: true });
    const loaded = (obs + perPiece) * 8;
    if (onStep && loaded % 1_000_000 === 0) {
      const now = performance.now();
      onStep(loaded, now - stepT);
      stepT = now;
    }
  }
  return performance.now() - t0;
}

function memory(quads: number): void {
  const store = new Store();
  const base = rss();
  const steps: Array<{ quads: number; rssMB: number; mbPerMillion: number; quadsPerS: number }> = [];
  const ms = fill(store, quads, (loaded, stepMs) => {
    const r = rss();
    steps.push({ quads: loaded, rssMB: r2(r / 2 ** 20), mbPerMillion: r2((r - base) / 2 ** 20 / (loaded / 1e6)), quadsPerS: Math.round(1e6 / (stepMs / 1000)) });
  });
  process.stdout.write(`${JSON.stringify({ mode: 'memory', quads: store.size, loadSeconds: r2(ms / 1000), baseRssMB: r2(base / 2 ** 20), steps })}\n`);
}

/** Each option loads the same kind of batch (fresh observations) into the same store; rates in quads/s. */
function options(baseQuads: number): void {
  const store = new Store();
  fill(store, baseQuads);
  let next = baseQuads / 8 + 1;
  const batch = (quads: number) => {
    const text = observationsText(next, quads / 8, undefined, 'o');
    next += quads / 8;
    return text;
  };
  const nq = { format: 'application/n-quads' };
  const opts: Record<string, (quads: number) => number> = {
    'load no_transaction': (n) => time(() => store.load(batch(n), { ...nq, no_transaction: true })),
    'load transaction': (n) => time(() => store.load(batch(n), nq)),
    'load no_transaction unchecked': (n) => time(() => store.load(batch(n), { ...nq, no_transaction: true, unchecked: true })),
    'load no_transaction lenient': (n) => time(() => store.load(batch(n), { ...nq, no_transaction: true, lenient: true })),
    'load Uint8Array no_transaction': (n) => {
      const bytes = new TextEncoder().encode(batch(n));
      return time(() => store.load(bytes, { ...nq, no_transaction: true }));
    },
    // Parse cost counted apart: the text could be parsed on another thread, but RDF/JS terms do not cross threads.
    'parse+add (parse timed too)': (n) => {
      const text = batch(n);
      return time(() => {
        for (const q of parse(text, nq) as ReturnType<typeof store.match>) store.add(q);
      });
    },
    'load per 8-quad message': (n) => {
      const msgs: string[] = [];
      for (let i = 0; i < n / 8; i++) msgs.push(observationsText(next++, 1, undefined, 'm'));
      return time(() => {
        for (const m of msgs) store.load(m, { ...nq, no_transaction: true });
      });
    },
  };
  const sizes = [1000, 10_000, 50_000];
  const rates: Record<string, number[]> = {};
  const rounds = 3;
  for (let round = 0; round < rounds; round++) {
    for (const size of sizes) {
      for (const [name, run] of Object.entries(opts)) {
        if (name === 'load per 8-quad message' && size !== 1000) continue;
        (rates[`${name} @${size}`] ??= []).push(size / (run(size) / 1000));
      }
    }
  }
  const out = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(median(v))]));
  process.stdout.write(`${JSON.stringify({ mode: 'options', baseQuads: store.size, rounds, quadsPerSecond: out })}\n`);
}

function time(f: () => void): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [mode, n] = process.argv.slice(2);
  if (mode === 'memory') memory(Number(n ?? 1_000_000));
  else if (mode === 'options') options(Number(n ?? 1_000_000));
  else throw new Error('usage: oxigraph-options.ts memory|options <quads>');
}
