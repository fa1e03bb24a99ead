// Runs fuzz units in child processes, `jobs` at a time, with a watchdog: a child that dies or stops reporting is a
// crash or a hang, charged to the input it had recorded, and the unit goes on in a fresh child after that input.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildMessage, UnitRequest } from './child.ts';
import { ReproSaver } from './repro.ts';
import { addCounts, emptyCounts, type Counts, type Finding } from './runner.ts';

export interface PoolOptions {
  targets: string[];
  iterations: number;
  seed: number;
  jobs: number;
  hangMs: number;
  /** A child that sends nothing for this long is frozen: killed and reported as a hang. */
  watchdogMs: number;
  reproDir: string;
  /** Inputs per child process (smaller units balance the cores better; each costs a process start). */
  unitSize?: number;
  /** Wall-clock budget: no input starts after this many ms; what did not run is reported as `notRun`. */
  maxMs?: number;
  /** Inputs every target runs even past the budget (its first unit's first inputs), so that none goes untested. */
  minPerTarget?: number;
  log?(line: string): void;
  /** Called after each unit with the counts so far (every target, units finished or cut short): for checkpoints. */
  onUnit?(results: TargetResult[]): void;
}

export interface TargetResult extends Counts {
  target: string;
  findings: Finding[];
  /** Inputs of the requested range that were not run (a unit gave up after too many restarts). */
  skipped: number;
  /** Inputs not run because the time budget (--max-seconds) ran out. */
  notRun: number;
  /** Inputs that froze or killed a child process (each also counted as a hang or a crash). */
  processFindings: number;
  /** Set when the target's later inputs were skipped after MAX_PROCESS_FINDINGS such inputs. */
  gaveUp?: boolean;
  wallMs: number;
}

interface Unit {
  target: string;
  from: number;
  to: number;
  first: boolean;
}

const CHILD = new URL('./child.ts', import.meta.url).pathname;
/** Restarts of one unit after process-level failures before its remaining inputs are given up (and reported). */
const MAX_RESTARTS = 5;
/**
 * Process-level findings (frozen or dead children) of one target after which its later units are not run: each costs
 * a watchdog period and a process start, and a parser that keeps freezing would otherwise starve every other target.
 */
const MAX_PROCESS_FINDINGS = 10;

function readCurrent(file: string): { index: number; input: Uint8Array } | undefined {
  try {
    const buf = readFileSync(file);
    if (buf.length < 8) return undefined;
    const len = buf.readUInt32LE(4);
    return { index: buf.readUInt32LE(0), input: buf.subarray(8, 8 + len) };
  } catch {
    return undefined;
  }
}

export async function runPool(o: PoolOptions): Promise<TargetResult[]> {
  const log = o.log ?? (() => {});
  const unitSize = o.unitSize ?? Math.max(2000, Math.min(25_000, Math.ceil(o.iterations / 4)));
  const stopAt = o.maxMs ? Date.now() + o.maxMs : undefined;
  const results = new Map<string, TargetResult>();
  // Units interleaved across targets, so that a run cut short by its time budget has covered every target.
  const units: Unit[] = [];
  for (const target of o.targets) results.set(target, { target, ...emptyCounts(), findings: [], skipped: 0, notRun: 0, processFindings: 0, wallMs: 0 });
  for (let from = 0; from < o.iterations; from += unitSize) {
    for (const target of o.targets) units.push({ target, from, to: Math.min(o.iterations, from + unitSize), first: from === 0 });
  }
  const work = join(tmpdir(), `hub-fuzz-${process.pid}-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  const saver = new ReproSaver(o.reproDir);
  let slot = 0;

  const runUnit = async (unit: Unit, slotId: number): Promise<void> => {
    const res = results.get(unit.target)!;
    const started = performance.now();
    const currentFile = join(work, `current-${slot++}.bin`);
    let from = unit.from;
    for (let attempt = 0; from < unit.to; attempt++) {
      if (res.processFindings >= MAX_PROCESS_FINDINGS) {
        res.skipped += unit.to - from;
        if (!res.gaveUp) log(`${unit.target}: ${MAX_PROCESS_FINDINGS} inputs froze or killed the process; its remaining inputs are skipped`);
        res.gaveUp = true;
        break;
      }
      if (attempt > MAX_RESTARTS) {
        res.skipped += unit.to - from;
        log(`${unit.target}: gave up on inputs ${from}..${unit.to - 1} after ${MAX_RESTARTS} restarts`);
        break;
      }
      if (stopAt && Date.now() >= stopAt && !(unit.first && attempt === 0)) {
        res.notRun += unit.to - from;
        break;
      }
      rmSync(currentFile, { force: true });
      const outcome = await runChild(slotId, { target: unit.target, seed: o.seed, from, to: unit.to, hangMs: o.hangMs, currentFile, reproDir: o.reproDir, stopAt, minInputs: unit.first && attempt === 0 ? (o.minPerTarget ?? 0) : 0 }, o.watchdogMs, res);
      if (outcome.kind === 'done') {
        res.notRun += unit.to - outcome.next;
        break;
      }
      const cur = readCurrent(currentFile);
      const index = cur?.index ?? outcome.next;
      const f: Finding = { target: unit.target, kind: outcome.kind === 'frozen' ? 'hang' : 'crash', seed: o.seed, index, message: outcome.message };
      f.file = cur ? saver.save(f, cur.input) : undefined;
      res.findings.push(f);
      res.processFindings++;
      res.inputs++;
      if (f.kind === 'hang') res.hangs++;
      else res.crashes++;
      log(`${unit.target}: ${f.kind} at input ${index}: ${f.message}${f.file ? ` (saved ${f.file})` : ''}`);
      from = Math.max(index + 1, outcome.next);
    }
    res.wallMs += performance.now() - started;
    o.onUnit?.(o.targets.map((t) => results.get(t)!));
  };

  const queue = [...units];
  await Promise.all(
    Array.from({ length: Math.max(1, o.jobs) }, async (_, slotId) => {
      for (let u = queue.shift(); u; u = queue.shift()) await runUnit(u, slotId);
    }),
  );
  stopWorkers();
  rmSync(work, { recursive: true, force: true });
  return o.targets.map((t) => results.get(t)!);
}

/** A child that gets no CPU and sends nothing for this many watchdog periods of wall time is stopped anyway. */
const WALL_BACKSTOP = 24;
const TICKS_PER_MS = 100 / 1000; // USER_HZ is 100 on Linux

/** CPU time (user + system, all threads) of a process from /proc (Linux); undefined elsewhere or when it is gone. */
function childCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ... utime is field 14 of stat, index 11 here; stime index 12.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_MS;
  } catch {
    return undefined;
  }
}

type ChildOutcome = { kind: 'done'; next: number } | { kind: 'died' | 'frozen'; message: string; next: number };

/** A child process kept for the next unit of the same job slot (killed and replaced after a crash or a hang). */
interface Worker {
  child: ChildProcess;
  stderr: string;
  onMessage?(m: ChildMessage): void;
  onExit?(code: number | null, signal: NodeJS.Signals | null): void;
}

function spawnWorker(): Worker {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
  const w: Worker = { child, stderr: '' };
  child.stderr!.on('data', (d: Buffer) => {
    w.stderr = (w.stderr + d.toString()).slice(-4000);
  });
  child.on('message', (m: ChildMessage) => w.onMessage?.(m));
  child.on('exit', (code, signal) => w.onExit?.(code, signal));
  return w;
}

const slots = new Map<number, Worker>();

/** Stops the kept children (end of a pool run). */
function stopWorkers(): void {
  for (const w of slots.values()) if (w.child.connected) w.child.disconnect();
  slots.clear();
}

/** One unit (or its rest) on the slot's child; its counts and findings are added to `res` as they arrive. */
function runChild(slot: number, req: UnitRequest, watchdogMs: number, res: TargetResult): Promise<ChildOutcome> {
  let w = slots.get(slot);
  if (!w || w.child.exitCode !== null || !w.child.connected) {
    w = spawnWorker();
    slots.set(slot, w);
  }
  const worker = w;
  return new Promise((resolve) => {
    let last = emptyCounts();
    let next = req.from;
    let settled = false;
    let ready = false;
    let lastSeen = performance.now();
    const finish = (o: ChildOutcome) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      worker.onMessage = undefined;
      worker.onExit = undefined;
      addCounts(res, last);
      if (o.kind !== 'done') {
        worker.child.kill('SIGKILL');
        slots.delete(slot);
      }
      resolve(o);
    };
    // Start-up and setup (loading modules and seeds, compiling schemas) get more time than one input. The budget is
    // the child's CPU time where the system reports it (on a loaded machine a child may wait seconds for a core, which
    // is not a freeze), with a wall-clock backstop for a child that stopped without spinning.
    let cpuAtLastSeen = childCpuMs(worker.child.pid);
    const timer = setInterval(() => {
      const limit = ready ? watchdogMs : Math.max(watchdogMs, 120_000);
      const wall = performance.now() - lastSeen;
      const cpuNow = childCpuMs(worker.child.pid);
      const spent = cpuNow !== undefined && cpuAtLastSeen !== undefined ? cpuNow - cpuAtLastSeen : wall;
      if (spent > limit) finish({ kind: 'frozen', message: `no answer for ${Math.round(spent)} ms of CPU (${Math.round(wall)} ms wall): an input froze the process`, next });
      else if (wall > limit * WALL_BACKSTOP) finish({ kind: 'frozen', message: `no answer for ${Math.round(wall)} ms (${Math.round(spent)} ms of CPU): the process stopped`, next });
    }, 250);
    worker.onMessage = (m) => {
      lastSeen = performance.now();
      cpuAtLastSeen = childCpuMs(worker.child.pid);
      if (m.type === 'ready') ready = true;
      else if (m.type === 'progress') {
        last = m.counts;
        next = m.next;
      } else if (m.type === 'finding') res.findings.push(m.finding);
      else if (m.type === 'done') {
        last = m.counts;
        finish({ kind: 'done', next: m.next });
      } else if (m.type === 'error') finish({ kind: 'died', message: `harness error: ${m.message}`, next: req.to });
    };
    worker.onExit = (code, signal) =>
      finish({ kind: 'died', message: `process died (exit ${code ?? ''}${signal ? ` signal ${signal}` : ''}): ${worker.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`, next });
    worker.child.send(req);
  });
}
