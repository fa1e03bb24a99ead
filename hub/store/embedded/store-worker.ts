// The embedded store's worker thread: owns one Oxigraph engine and answers requests in arrival order (FIFO), except
// inserts: they are queued per graph (hot/backlog.ts) and applied in the background, and a query first applies the
// queued inserts of the graphs it can read (hot/query-graphs.ts), which is what keeps read-your-writes: a write posted
// before a query is applied before the query runs. Any other request applies the whole queue first.
import { parentPort, workerData } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { OxigraphEngine } from '../oxigraph-engine.ts';
import { parseObservationGraph } from '../graphs.ts';
import { expiredGraphs, fromWire } from './apply.ts';
import { Backlog } from '../hot/backlog.ts';
import { queryGraphs } from '../hot/query-graphs.ts';
import { CorruptLogError, recover } from './recover.ts';
import { writeSnapshotFile } from './snapshot-file.ts';
import type { Envelope, WireError, WorkerPhase, WorkerReply } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('store-worker.ts must run in a worker thread');
lowerPriority(Number((workerData as { nice?: unknown } | null)?.nice ?? 0));

/**
 * Sets this thread's nice value (Linux: setpriority on the thread id, which /proc/thread-self names; raising it needs
 * no privilege). Elsewhere, or if it fails, the thread keeps the hub's priority: a scheduling hint, never an error.
 */
function lowerPriority(nice: number): void {
  if (!(nice > 0) || process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, nice));
  } catch {
    // not permitted or no procfs: keep the default priority
  }
}

let engine = new OxigraphEngine();
/**
 * Quad count kept without asking the engine: Oxigraph's size walks the whole store (~1 s per 500k quads here), so it
 * is taken after recovery and on `size` requests only; inserts add the lines they loaded (an upper bound: a quad
 * loaded twice counts twice), and other writes leave it as it was until the next `size`.
 */
let quads = 0;

const backlog = new Backlog(
  () => engine,
  (r) => {
    quads += backlog.lines;
    backlog.lines = 0;
    port.postMessage({ id: r.id, ok: true, value: { errors: r.errors, lastError: r.lastError, quads } } satisfies WorkerReply);
  },
);
/** handle()'s answer for a request answered later (a queued insert: when its last part is applied). */
const LATER = Symbol('later');
let stepping = false;

/** Applies the backlog in the background, one chunk per turn, so requests are handled between chunks. */
function scheduleStep(): void {
  if (stepping || backlog.empty) return;
  stepping = true;
  setImmediate(() => {
    stepping = false;
    try {
      backlog.step();
    } catch (e) {
      fatalOrThrow(e);
    }
    scheduleStep();
  });
}

/** Before a request other than an insert: what it reads (queries, graph reads) or everything (writes, sizes, dumps). */
function applyFor(req: Envelope): void {
  if (backlog.empty) return;
  // The host keeps the request's timeout off meanwhile: the backlog is bounded by maxPendingWrites, not a query budget.
  port!.postMessage({ id: req.id, phase: 'applying' } satisfies WorkerPhase);
  if (req.op === 'query') {
    const graphs = queryGraphs(req.sparql, req.options);
    if (graphs === '*') backlog.applyAll();
    else backlog.applyGraphs(graphs);
  } else if (req.op === 'getGraph' || req.op === 'hasGraph') backlog.applyGraphs(req.graph === null ? [] : [req.graph]);
  else backlog.applyAll();
  port!.postMessage({ id: req.id, phase: 'running' } satisfies WorkerPhase);
}

function handle(req: Envelope): unknown {
  if (req.op === 'insert') {
    backlog.enqueue(req.id, req.records);
    return LATER;
  }
  applyFor(req);
  switch (req.op) {
    case 'recover': {
      if (!req.plan.append) engine = new OxigraphEngine();
      const report = recover(engine, req.plan);
      if (report.quads >= 0) quads = report.quads;
      else report.quads = quads;
      return report;
    }
    case 'query':
      return engine.query(req.sparql, req.options);
    case 'update':
      engine.update(req.sparql, req.options);
      return null;
    case 'getGraph':
      return engine.getGraph(fromWire(req.graph)) ?? null;
    case 'hasGraph':
      return engine.hasGraph(fromWire(req.graph));
    case 'deleteGraph':
      return engine.deleteGraph(fromWire(req.graph));
    case 'putGraph':
      return engine.putGraph(fromWire(req.graph), req.data);
    case 'postGraph':
      return engine.postGraph(fromWire(req.graph), req.data);
    case 'expire': {
      const graphs = expiredGraphs(engine, req.cutoffDay, (iri) => parseObservationGraph(iri)?.day);
      for (const g of graphs) engine.deleteGraph(g);
      return graphs;
    }
    case 'size':
      return (quads = engine.size());
    case 'writeSnapshot':
      return writeSnapshotFile(engine, req.path);
  }
}

function toWireError(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  const out: WireError = { name: err.name, message: err.message };
  const pos = (err as { position?: { line: number; column: number } }).position;
  if (pos) out.position = pos;
  if (err instanceof CorruptLogError) Object.assign(out, { path: err.path, offset: err.offset });
  return out;
}

/** A WASM trap (out-of-bounds access, or a stack overflow: RangeError "Maximum call stack size exceeded"). */
const isTrap = (e: unknown) => e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message));

/** A trap while applying the backlog in the background: end the thread (the host rebuilds from the log). */
function fatalOrThrow(e: unknown): never {
  if (isTrap(e)) process.exit(70);
  throw e;
}

port.on('message', (req: Envelope) => {
  let reply: WorkerReply | undefined;
  try {
    const value = handle(req);
    if (value !== LATER) reply = { id: req.id, ok: true, value };
  } catch (e) {
    reply = { id: req.id, ok: false, error: toWireError(e) };
    // A trap leaves Oxigraph's memory in an unknown state and later calls fail: answer this request as fatal, then
    // end the thread so the host rebuilds a fresh engine from snapshot + log.
    if (isTrap(e)) {
      port.postMessage({ ...reply, fatal: true });
      process.exit(70);
    }
  }
  if (reply) port.postMessage(reply);
  scheduleStep();
});
