// Runs one target over a range of input indices in this process and classifies every input.
import { openSync, readSync } from 'node:fs';
import { hash32, Rng } from './prng.ts';
import { mutate } from './mutate.ts';
import { isHubError, type FuzzTarget } from './target.ts';

export type Outcome = 'accepted' | 'typed' | 'crash' | 'hang';

export interface Counts {
  inputs: number;
  accepted: number;
  typed: number;
  crashes: number;
  hangs: number;
  /** Slowest input in CPU ms, confirmed by its re-runs (the smallest of up to three times when the first exceeded the budget). */
  worstMs: number;
  /** Slowest input in wall-clock ms (first run; includes time the machine gave to other processes). */
  worstWallMs: number;
  worstIndex: number;
}

export const emptyCounts = (): Counts => ({ inputs: 0, accepted: 0, typed: 0, crashes: 0, hangs: 0, worstMs: 0, worstWallMs: 0, worstIndex: -1 });

export function addCounts(into: Counts, c: Counts): void {
  into.inputs += c.inputs;
  into.accepted += c.accepted;
  into.typed += c.typed;
  into.crashes += c.crashes;
  into.hangs += c.hangs;
  into.worstWallMs = Math.max(into.worstWallMs, c.worstWallMs);
  if (c.worstMs > into.worstMs) {
    into.worstMs = c.worstMs;
    into.worstIndex = c.worstIndex;
  }
}

export interface Finding {
  target: string;
  kind: 'crash' | 'hang';
  seed: number;
  index: number;
  message: string;
  ms?: number;
  /** Where the input was saved (test/fuzz/repro/<target>/...). */
  file?: string;
}

/** Builds input `index` of a target: the seeds first, then generated or mutated inputs, each from its own PRNG stream. */
export class InputSource {
  private readonly stream: number;

  constructor(private readonly target: FuzzTarget, private readonly seeds: Uint8Array[], private readonly seed: number) {
    this.stream = hash32(target.name);
  }

  input(index: number): Uint8Array {
    if (index < this.seeds.length) return this.seeds[index]!;
    const rng = new Rng(this.seed, this.stream, index);
    const tokens = this.target.tokens ?? [];
    const gen = this.target.generate?.bind(this.target);
    const other = (): Uint8Array => (this.seeds.length && (!gen || rng.chance(0.7)) ? rng.pick(this.seeds) : gen ? gen(rng) : new Uint8Array());
    if (gen && (!this.seeds.length || rng.chance(this.target.generateRatio ?? 0.3))) {
      const g = gen(rng);
      return rng.chance(0.3) ? mutate(g, rng, tokens, other) : g;
    }
    const base = this.seeds.length ? rng.pick(this.seeds) : Uint8Array.from({ length: rng.size(64) }, () => rng.int(256));
    return mutate(base, rng, tokens, other);
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`.slice(0, 500);
  return `non-Error thrown: ${String(e)}`.slice(0, 500);
}

/**
 * CPU time of this thread (the one running the event loop) in ms: /proc/thread-self/schedstat's run time (ns, Linux),
 * read with one pread of a file kept open. process.cpuUsage() counts every thread of the process: V8's concurrent
 * marking and compiler threads, the engine oracle's worker, none of which holds the event loop (seen: the same
 * mapfile input measured 5 to 112 ms by it, a quarter of it garbage-collector time). Elsewhere: process.cpuUsage().
 */
export const threadCpuMs: () => number = (() => {
  try {
    const fd = openSync('/proc/thread-self/schedstat', 'r');
    const buf = Buffer.alloc(64);
    const read = (): number => {
      const n = readSync(fd, buf, 0, 64, 0);
      const space = buf.indexOf(0x20);
      return Number(buf.toString('latin1', 0, space > 0 && space < n ? space : n)) / 1e6;
    };
    if (!Number.isFinite(read())) throw new Error('schedstat unreadable');
    return read;
  } catch {
    return () => {
      const d = process.cpuUsage();
      return (d.user + d.system) / 1000;
    };
  }
})();

function cpuMs(since: number): number {
  return threadCpuMs() - since;
}

/**
 * One timed call of the target; a returned promise is awaited (async parsers are timed to their settlement). `ms` is
 * the CPU time the event-loop thread spent (threadCpuMs), not wall time: on a machine shared with other work, wall time
 * measures the neighbours; an input that costs 100 ms of CPU blocks the hub's event loop that long on any machine.
 */
export async function runOnce(target: FuzzTarget, input: Uint8Array): Promise<{ outcome: 'accepted' | 'typed' | 'crash'; ms: number; wallMs: number; error?: unknown }> {
  const typed = target.isTypedError ?? isHubError;
  const t0 = performance.now();
  const c0 = threadCpuMs();
  const slices = target.timing === 'slice' ? sliceMeter() : undefined;
  let ms = 0;
  let wallMs = 0;
  let stopped = false;
  const stop = () => {
    stopped = true;
    ms = slices ? slices.stop() : cpuMs(c0);
    wallMs = performance.now() - t0;
  };
  try {
    let r = target.run(input);
    if (r && typeof (r as Promise<unknown>).then === 'function') r = await r;
    stop();
    if (typeof r === 'function') r();
    return { outcome: 'accepted', ms, wallMs };
  } catch (e) {
    if (!stopped) stop();
    return { outcome: typed(e) ? 'typed' : 'crash', ms, wallMs, error: e };
  }
}

/**
 * Measures the longest synchronous stretch of the code running now: a setImmediate ticker takes the CPU time between
 * its turns, which can only run when the code under test has given the event loop back. stop() returns the longest
 * stretch in CPU ms, the one still running included.
 */
function sliceMeter(): { stop(): number } {
  let last = threadCpuMs();
  let longest = 0;
  let running = true;
  const take = () => {
    const now = threadCpuMs();
    if (now - last > longest) longest = now - last;
    last = now;
  };
  const tick = () => {
    if (!running) return;
    take();
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop() {
      running = false;
      take();
      return longest;
    },
  };
}

export interface RangeOptions {
  hangMs: number;
  seed: number;
  /** Called before each input runs (the child process records it so that a process-level death can name it). */
  beforeEach?(index: number, input: Uint8Array): void;
  onFinding(f: Finding, input: Uint8Array): void;
  /** Called about every `progressMs` with the counts so far; the loop yields to the event loop then. */
  onProgress?(c: Counts, nextIndex: number): void;
  progressMs?: number;
  /** Epoch ms after which no further input starts, once `minInputs` have run. */
  stopAt?: number;
  minInputs?: number;
  /** Run the first seeds once, untimed, before the range (default true). */
  warmUp?: boolean;
}

/** Runs inputs `from` (inclusive) to `to` (exclusive, or until `stopAt`) and returns their counts and the next index. */
export async function runRange(target: FuzzTarget, seeds: Uint8Array[], from: number, to: number, o: RangeOptions): Promise<{ counts: Counts; next: number }> {
  const source = new InputSource(target, seeds, o.seed);
  // Warm-up: the first calls pay for lazy module loading and JIT compilation, which is not what an input costs.
  // Each warm-up input reports progress: twenty slow seeds (a sliced parse on a busy machine) outlast the watchdog.
  const counts = emptyCounts();
  if (o.warmUp !== false) {
    for (const s of seeds.slice(0, 20)) {
      await runOnce(target, s);
      o.onProgress?.(counts, from);
    }
  }
  const progressMs = o.progressMs ?? 200;
  let lastProgress = performance.now();
  let i = from;
  for (; i < to; i++) {
    if (o.stopAt && (i & 15) === 0 && i - from >= (o.minInputs ?? 0) && Date.now() >= o.stopAt) break;
    const input = source.input(i);
    o.beforeEach?.(i, input);
    const first = await runOnce(target, input);
    let { outcome, ms, error } = first as { outcome: Outcome; ms: number; error?: unknown };
    let runs = 1;
    // Re-run, up to twice: a major GC pause (whose marking falls to the main thread when the machine starves V8's helper
    // threads) can make one run slow (seen: a 22-byte CoAP datagram at 0-118 ms); a real hang is slow every time.
    for (; ms > o.hangMs && runs < 3; runs++) ms = Math.min(ms, (await runOnce(target, input)).ms);
    if (ms > o.hangMs) outcome = 'hang';
    counts.inputs++;
    if (first.wallMs > counts.worstWallMs) counts.worstWallMs = first.wallMs;
    if (ms > counts.worstMs) {
      counts.worstMs = ms;
      counts.worstIndex = i;
    }
    if (outcome === 'accepted') counts.accepted++;
    else if (outcome === 'typed') counts.typed++;
    else if (outcome === 'crash') {
      counts.crashes++;
      o.onFinding({ target: target.name, kind: 'crash', seed: o.seed, index: i, message: describe(error), ms }, input);
    } else {
      counts.hangs++;
      o.onFinding({ target: target.name, kind: 'hang', seed: o.seed, index: i, message: `took ${ms.toFixed(1)} ms of CPU (each of ${runs} runs over ${o.hangMs} ms)${error ? `; ${describe(error)}` : ''}`, ms }, input);
    }
    const now = performance.now();
    if (now - lastProgress >= progressMs) {
      lastProgress = now;
      o.onProgress?.(counts, i + 1);
      await new Promise((r) => setImmediate(r));
    }
  }
  return { counts, next: i };
}
