// `npm run fuzz`: every target (or --target a,b) for --iterations inputs (default 10^6) in child processes on --jobs cores.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { runPool, type TargetResult } from './pool.ts';
import { REPRO_DIR } from './repro.ts';
import { InputSource, runOnce } from './runner.ts';
import { TARGETS } from './targets/index.ts';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '1000000' },
    target: { type: 'string' },
    seed: { type: 'string' },
    jobs: { type: 'string' },
    'hang-ms': { type: 'string', default: '100' },
    'watchdog-ms': { type: 'string', default: '5000' },
    'unit-size': { type: 'string' },
    'max-seconds': { type: 'string' },
    results: { type: 'string', default: new URL('./results/fuzz.json', import.meta.url).pathname },
    replay: { type: 'string' },
    dump: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const t of TARGETS) console.log(`${t.name.padEnd(18)} ${t.description}`);
  process.exit(0);
}

const names = values.target ? values.target.split(',').map((s) => s.trim()) : TARGETS.map((t) => t.name);
for (const n of names) {
  if (!TARGETS.some((t) => t.name === n)) {
    console.error(`unknown target '${n}'; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
}

if (values.dump !== undefined) {
  // Writes input --dump <index> of --target for --seed to stdout: any finding can be rebuilt from its three numbers.
  const target = TARGETS.find((t) => t.name === names[0])!;
  await target.setup?.();
  const source = new InputSource(target, await target.seeds(), Number(values.seed ?? 0) >>> 0);
  process.stdout.write(source.input(Number(values.dump)));
  process.exit(0);
}

if (values.replay) {
  // Re-runs one saved input in this process and says how it ends.
  const target = TARGETS.find((t) => t.name === names[0])!;
  await target.setup?.();
  const input = new Uint8Array(readFileSync(values.replay));
  // Three runs: the first one pays for cold code (module loading, JIT), the fastest one is what the input costs.
  const runs = [];
  for (let k = 0; k < 3; k++) runs.push(await runOnce(target, input));
  const r = runs[runs.length - 1]!;
  const ms = Math.min(...runs.map((x) => x.ms));
  console.log(`${target.name}: ${r.outcome}, ${runs.map((x) => x.ms.toFixed(1)).join(' / ')} ms CPU (wall ${runs.map((x) => x.wallMs.toFixed(1)).join(' / ')})${r.error ? `: ${r.error instanceof Error ? (r.error.stack ?? r.error.message) : String(r.error)}` : ''}`);
  process.exit(r.outcome === 'crash' || ms > Number(values['hang-ms']) ? 1 : 0);
}

const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const iterations = Number(values.iterations);
const jobs = values.jobs ? Number(values.jobs) : Math.max(1, Math.min(2, availableParallelism()));
console.log(`fuzz: seed ${seed} (rerun with --seed ${seed}), ${iterations} inputs per target, ${names.length} targets, ${jobs} jobs`);
const started = Date.now();
let lastCheckpoint = started;
const command = `npm run fuzz -- ${process.argv.slice(2).join(' ')}`;

/** The results as JSON (--results) and as a Markdown table next to it (same name, .md); `final` once the pool is done. */
function writeResults(rs: TargetResult[], final: boolean): void {
  const total = rs.reduce(
    (a, r) => ({ inputs: a.inputs + r.inputs, crashes: a.crashes + r.crashes, hangs: a.hangs + r.hangs, skipped: a.skipped + r.skipped, notRun: a.notRun + r.notRun }),
    { inputs: 0, crashes: 0, hangs: 0, skipped: 0, notRun: 0 },
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  const complete = final && total.skipped + total.notRun === 0;
  const out = values.results!;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ seed, command, final, complete, iterationsPerTarget: iterations, jobs, hangMs: Number(values['hang-ms']), seconds, startedAt: new Date(started).toISOString(), finishedAt: final ? new Date().toISOString() : undefined, total, targets: rs.map((r) => ({ ...r, findings: r.findings.slice(0, 200) })) }, null, 2));
  const lines = [
    `# Fuzz run, seed ${seed} (started ${new Date(started).toISOString()})`,
    '',
    `\`${command}\`, ${jobs} jobs, hang budget ${values['hang-ms']} ms of CPU of the event-loop thread. ${seconds} s so far; ${final ? (complete ? 'complete' : 'finished, incomplete') : 'IN PROGRESS (checkpoint)'}.`,
    '',
    '| target | inputs | accepted | typed | crashes | hangs | worst CPU ms | inputs/s of its own wall time | not run |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rs.map((r) => `| ${r.target} | ${r.inputs} | ${r.accepted} | ${r.typed} | ${r.crashes} | ${r.hangs} | ${r.worstMs.toFixed(1)} | ${r.wallMs ? Math.round(r.inputs / (r.wallMs / 1000)) : '-'} | ${final ? r.skipped + r.notRun : iterations - r.inputs} |`),
    '',
    `Total: ${total.inputs} inputs, ${total.crashes} crashes, ${total.hangs} hangs.`,
    '',
    '## Findings',
    '',
    ...(rs.some((r) => r.findings.length) ? rs.flatMap((r) => r.findings.slice(0, 20).map((f) => `- ${f.target} ${f.kind} at input ${f.index}${f.ms !== undefined ? ` (${f.ms.toFixed(1)} ms)` : ''}: ${f.message.replace(/\s+/g, ' ').slice(0, 200)}${f.file ? ` (${f.file.replace(/^.*\/test\/fuzz\//, 'test/fuzz/')})` : ''}`)) : ['None.']),
    '',
  ];
  writeFileSync(out.replace(/\.json$/, '') + '.md', lines.join('\n'));
}

const results: TargetResult[] = await runPool({
  targets: names,
  iterations,
  seed,
  jobs,
  hangMs: Number(values['hang-ms']),
  watchdogMs: Number(values['watchdog-ms']),
  reproDir: REPRO_DIR,
  unitSize: values['unit-size'] ? Number(values['unit-size']) : undefined,
  maxMs: values['max-seconds'] ? Number(values['max-seconds']) * 1000 : undefined,
  log: (line) => console.log(`  ${line}`),
  // A checkpoint of the counts at most every 30 s: a long run that is stopped (or outlives its session) leaves its figures.
  onUnit: (partial) => {
    if (Date.now() - lastCheckpoint < 30_000) return;
    lastCheckpoint = Date.now();
    writeResults(partial, false);
  },
});

const row = (cells: Array<string | number>) => cells.map((c, i) => String(c).padStart(i === 0 ? 0 : 10).padEnd(i === 0 ? 18 : 0)).join(' ');
console.log(row(['target', 'inputs', 'accepted', 'typed', 'crashes', 'hangs', 'worst cpu', 'worst wall', 'not run']));
for (const r of results) console.log(row([r.target, r.inputs, r.accepted, r.typed, r.crashes, r.hangs, r.worstMs.toFixed(1), r.worstWallMs.toFixed(1), r.skipped + r.notRun]));
const total = results.reduce(
  (a, r) => ({ inputs: a.inputs + r.inputs, crashes: a.crashes + r.crashes, hangs: a.hangs + r.hangs, skipped: a.skipped + r.skipped, notRun: a.notRun + r.notRun }),
  { inputs: 0, crashes: 0, hangs: 0, skipped: 0, notRun: 0 },
);
const seconds = Math.round((Date.now() - started) / 1000);
const complete = total.skipped + total.notRun === 0;
console.log(
  `fuzz summary: ${total.inputs} inputs over ${results.length} targets in ${seconds} s, ${total.crashes} crashes, ${total.hangs} hangs` +
    `${complete ? '' : `; INCOMPLETE: ${total.skipped + total.notRun} of ${iterations * results.length} inputs not run`}; seed ${seed}`,
);
writeResults(results, true);
console.log(`results: ${values.results} (and .md)`);
process.exit(total.crashes || total.hangs || total.skipped ? 1 : 0);
