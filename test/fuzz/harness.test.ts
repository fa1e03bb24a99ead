// The fuzz harness's own measurements: CPU time of the event-loop thread only, slice timing, reproducible inputs.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { mutate } from './mutate.ts';
import { Rng } from './prng.ts';
import { InputSource, runOnce, runRange, threadCpuMs } from './runner.ts';
import type { FuzzTarget } from './target.ts';

/** Spins this thread for `ms` of its own CPU time. */
function spin(ms: number): void {
  const end = threadCpuMs() + ms;
  while (threadCpuMs() < end) {
    /* busy */
  }
}

describe('threadCpuMs: the hang budget is held against the event-loop thread', () => {
  it('counts this thread spinning and not a worker thread spinning meanwhile', async () => {
    const c0 = threadCpuMs();
    spin(60);
    expect(threadCpuMs() - c0).toBeGreaterThanOrEqual(60);
    // A worker burns ~300 ms of CPU while this thread waits: process.cpuUsage() counts it, threadCpuMs must not.
    const worker = new Worker('const end = Date.now() + 300; while (Date.now() < end) {} require("node:worker_threads").parentPort.postMessage(1);', { eval: true });
    const p0 = process.cpuUsage();
    const t0 = threadCpuMs();
    await new Promise((r) => worker.once('message', r));
    const threadMs = threadCpuMs() - t0;
    const p = process.cpuUsage(p0);
    await worker.terminate();
    expect(threadMs).toBeLessThan(100);
    // Where the worker got a core, the process figure saw it (on a starved machine it may have had little CPU).
    expect((p.user + p.system) / 1000).toBeGreaterThanOrEqual(threadMs);
  });
});

describe('runOnce: total and slice timing', () => {
  const base = { description: 'harness test', seeds: () => [] };

  it('times a synchronous parser by its CPU', async () => {
    const t: FuzzTarget = { ...base, name: 'spin', run: () => spin(120) };
    const r = await runOnce(t, new Uint8Array());
    expect(r.outcome).toBe('accepted');
    expect(r.ms).toBeGreaterThanOrEqual(120);
    expect(r.ms).toBeLessThan(1000);
  });

  it("times a time-sliced parser by its longest slice, not the sum ('slice')", async () => {
    const sliced = async () => {
      for (let k = 0; k < 4; k++) {
        spin(30);
        await new Promise((r) => setImmediate(r));
      }
    };
    const total = await runOnce({ ...base, name: 'sum', run: sliced }, new Uint8Array());
    const slice = await runOnce({ ...base, name: 'slice', run: sliced, timing: 'slice' }, new Uint8Array());
    expect(total.ms).toBeGreaterThanOrEqual(120);
    expect(slice.ms).toBeGreaterThanOrEqual(30);
    expect(slice.ms).toBeLessThan(90);
  });

  it('a thrown HubError is typed, anything else a crash', async () => {
    const { BadRequestError } = await import('../../hub/errors.ts');
    expect((await runOnce({ ...base, name: 'typed', run: () => { throw new BadRequestError('no'); } }, new Uint8Array())).outcome).toBe('typed');
    expect((await runOnce({ ...base, name: 'crash', run: () => { throw new TypeError('x'); } }, new Uint8Array())).outcome).toBe('crash');
  });
});

describe('runRange: a hang is an input slow on every run', () => {
  it('one slow run (a GC pause) is re-run and not reported; an input slow three times is a hang', async () => {
    let calls = 0;
    const once: FuzzTarget = { name: 'once', description: '', seeds: () => [new Uint8Array([1])], run: () => spin(calls++ === 0 ? 130 : 1) };
    const findings: string[] = [];
    const a = await runRange(once, [new Uint8Array([1])], 0, 1, { seed: 1, hangMs: 100, warmUp: false, onFinding: (f) => findings.push(f.message) });
    expect(a.counts).toMatchObject({ inputs: 1, hangs: 0, accepted: 1 });
    expect(calls).toBe(2);
    const always: FuzzTarget = { ...once, name: 'always', run: () => spin(110) };
    const b = await runRange(always, [new Uint8Array([1])], 0, 1, { seed: 1, hangMs: 100, warmUp: false, onFinding: (f) => findings.push(f.message) });
    expect(b.counts).toMatchObject({ inputs: 1, hangs: 1 });
    expect(findings).toEqual([expect.stringMatching(/^took 1\d\d\.\d ms of CPU \(each of 3 runs over 100 ms\)$/)]);
  });
});

describe('inputs are a pure function of (seed, target, index)', () => {
  it('the same index gives the same bytes, from a fresh source too (the cached encodings are never written to)', { timeout: 60_000 }, () => {
    const seeds = [new TextEncoder().encode('{"a": [1, 2.5, "x"], "b": 12345}'), new TextEncoder().encode('SELECT * WHERE { ?s ?p ?o }')];
    const t: FuzzTarget = { name: 'pure', description: '', seeds: () => seeds, tokens: ['{', 'é'], run: () => {} };
    const a = new InputSource(t, seeds, 7);
    const first = Array.from({ length: 200 }, (_, i) => Buffer.from(a.input(i)));
    const b = new InputSource(t, seeds, 7);
    let same = 0;
    for (let i = 199; i >= 0; i--) if (first[i]!.equals(b.input(i))) same++;
    expect(same).toBe(200);
    expect(new Set(first.map((x) => x.toString('base64'))).size).toBeGreaterThan(150);
    // The mutators keep to MAX_INPUT and leave their input untouched.
    const input = Uint8Array.from(seeds[0]!);
    let longest = 0;
    for (let i = 0; i < 200; i++) longest = Math.max(longest, mutate(input, new Rng(1, 2, i), ['x'], () => seeds[1]!).length);
    expect(longest).toBeLessThanOrEqual(256 * 1024);
    expect(Buffer.from(input).equals(seeds[0]!)).toBe(true);
  });
});
