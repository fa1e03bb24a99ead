// `npm run bench`: runs every test/bench/*.bench.ts as its own child process (`node --expose-gc --import tsx <file>`:
// heap figures are read after a full collection), one after
// another, streaming their output; exits non-zero when any of them fails. Optional args filter by file name.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
// `name=value` and number arguments are passed on, in order, to every benchmark run (`npm run bench ingest
// rates=4500 seconds=5`, `npm run bench aggregates 10000000`); the others filter the benchmarks by file name.
const passed = process.argv.slice(2).filter((a) => /^[A-Za-z][\w-]*=/.test(a) || /^\d+$/.test(a));
const filters = process.argv.slice(2).filter((a) => !passed.includes(a));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  process.stdout.write(`bench: no *.bench.ts files in ${dir}${filters.length ? ` matching ${filters.join(', ')}` : ''}\n`);
  process.exit(filters.length ? 1 : 0);
}

function run(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(dir, file), ...passed], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    process.once('SIGINT', forward).once('SIGTERM', forward);
    child.on('error', (e) => {
      process.stderr.write(`bench: cannot start ${file}: ${e.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

const failed: string[] = [];
for (const file of files) {
  process.stdout.write(`\n=== bench ${file} ===\n`);
  const started = performance.now();
  const code = await run(file);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`=== ${file}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds} s ===\n`);
  if (code !== 0) failed.push(file);
}
process.stdout.write(`\nbench: ${files.length - failed.length} passed, ${failed.length} failed\n`);
process.exit(failed.length ? 1 : 0);
