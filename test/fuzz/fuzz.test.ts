// A short seeded fuzz run inside `npm test`: every target for a few thousand inputs, in child processes with the
// watchdog of the full run (`npm run fuzz`); any crash or hang fails the target's test and names the saved input.
import { beforeAll, describe, expect, it } from 'vitest';
import { runPool, type TargetResult } from './pool.ts';
import { REPRO_DIR } from './repro.ts';
import { TARGETS } from './targets/index.ts';

/** Fixed, so a failure here reproduces with `npm run fuzz -- --seed 20260801 --iterations 2000 --unit-size 500 --target <name>`. */
const SEED = Number(process.env.FUZZ_SEED ?? 20260801);
const ITERATIONS = Number(process.env.FUZZ_TEST_ITERATIONS ?? 2000);
/** Wall-clock budget of the whole run: on a loaded machine the last inputs may not start; the counts say so. */
const BUDGET_MS = Number(process.env.FUZZ_TEST_BUDGET_MS ?? 30_000);

/**
 * Past the budget every target still starts and runs its first 100 inputs, and each pays its setup once (schemas,
 * engines, module loading: seconds each on a loaded machine), so the hook's bound grows with the number of targets.
 */
const HOOK_TIMEOUT_MS = BUDGET_MS + 30_000 + TARGETS.length * 5_000;

let results: TargetResult[] = [];

describe('fuzz (short seeded run)', () => {
  beforeAll(async () => {
    results = await runPool({
      targets: TARGETS.map((t) => t.name),
      iterations: ITERATIONS,
      seed: SEED,
      jobs: 2,
      // `npm run fuzz` holds every input to 100 ms of CPU and reports what is over it; this seeded run inside `npm test`
      // fails on crashes and on inputs over 250 ms, so that a loaded CI machine (seen: 2-4x) cannot make it flaky while a
      // real freeze still fails it. Known inputs between 100 and 250 ms are listed in the issue 8 note.
      hangMs: 250,
      watchdogMs: 3_000,
      reproDir: REPRO_DIR,
      unitSize: 500,
      maxMs: BUDGET_MS,
      minPerTarget: 100,
    });
    for (const r of results) console.log(`fuzz ${r.target}: ${r.inputs} inputs, ${r.accepted} accepted, ${r.typed} typed, ${r.crashes} crashes, ${r.hangs} hangs, worst ${r.worstMs.toFixed(1)} ms CPU`);
  }, HOOK_TIMEOUT_MS);

  it.each(TARGETS.map((t) => t.name))('%s: no crash, no hang', (name) => {
    const r = results.find((x) => x.target === name)!;
    const findings = r.findings.map((f) => `${f.kind} at input ${f.index}: ${f.message}${f.file ? ` (${f.file})` : ''}`);
    expect(findings).toEqual([]);
    expect(r.crashes + r.hangs).toBe(0);
    // Every target runs at least its first 100 inputs even when the budget is spent: one that cannot start fails.
    expect(r.inputs).toBeGreaterThanOrEqual(100);
    expect(r.accepted + r.typed).toBe(r.inputs);
  });
});
