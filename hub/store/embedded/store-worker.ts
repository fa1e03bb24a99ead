// The embedded store's worker thread: owns one Oxigraph engine and answers requests strictly in arrival order (FIFO),
// which is what gives read-your-writes: a write posted before a query is applied before the query runs.
import { parentPort } from 'node:worker_threads';
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { OxigraphEngine } from '../oxigraph-engine.ts';
import { parseObservationGraph } from '../graphs.ts';
import { applyInsertRecords, expiredGraphs, fromWire } from './apply.ts';
import { CorruptLogError, recover, snapshotText } from './recover.ts';
import type { Envelope, WireError, WorkerReply } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('store-worker.ts must run in a worker thread');

let engine = new OxigraphEngine();
/**
 * Quad count kept without asking the engine: Oxigraph's size walks the whole store (~1 s per 500k quads here), so it
 * is taken after recovery and on `size` requests only; inserts add the lines they loaded (an upper bound: a quad
 * loaded twice counts twice), and other writes leave it as it was until the next `size`.
 */
let quads = 0;

function handle(req: Envelope): unknown {
  switch (req.op) {
    case 'recover': {
      if (!req.plan.append) engine = new OxigraphEngine();
      const report = recover(engine, req.plan);
      if (report.quads >= 0) quads = report.quads;
      else report.quads = quads;
      return report;
    }
    case 'insert': {
      const { errors, lastError, lines } = applyInsertRecords(engine, req.records);
      quads += lines;
      return { errors, lastError, quads };
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
      return writeSnapshot(req.path);
  }
}

function writeSnapshot(path: string): { quads: number; bytes: number } {
  const data = Buffer.from(snapshotText(engine.dump()), 'utf8');
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600); // FILE_MODE of store-files.ts: owner only
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return { quads: engine.size(), bytes: data.length };
}

function toWireError(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  const out: WireError = { name: err.name, message: err.message };
  const pos = (err as { position?: { line: number; column: number } }).position;
  if (pos) out.position = pos;
  if (err instanceof CorruptLogError) Object.assign(out, { path: err.path, offset: err.offset });
  return out;
}

port.on('message', (req: Envelope) => {
  let reply: WorkerReply;
  try {
    reply = { id: req.id, ok: true, value: handle(req) };
  } catch (e) {
    reply = { id: req.id, ok: false, error: toWireError(e) };
    // A WASM trap (out-of-bounds access, or a stack overflow: RangeError "Maximum call stack size exceeded") leaves
    // Oxigraph's memory in an unknown state and later calls fail: answer this request as fatal, then end the thread so
    // the host rebuilds a fresh engine from snapshot + log.
    if (e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message))) {
      port.postMessage({ ...reply, fatal: true });
      process.exit(70);
    }
  }
  port.postMessage(reply);
});
