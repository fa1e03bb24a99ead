// Rebuilds an engine from a snapshot file plus log segments (runs inside a store worker: it blocks while it loads).
import { openSync, readSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import type { OxigraphEngine } from '../oxigraph-engine.ts';
import { RecordType, decodeInsert, decodeRecord, readRecords, type LogRecord } from './log-format.ts';
import { SnapshotParseError, loadSnapshotFile } from './snapshot-file.ts';
import { applyInserts, applyRecord, type InsertItem } from './apply.ts';

/** What to replay: the snapshot (N-Quads) and the segments after it, in order; `length` bounds a segment being appended to. */
export interface RecoveryPlan {
  snapshot?: string;
  /** `start`: replay from this byte (a record boundary), for a replica catching up on what it has not seen yet. */
  segments: Array<{ path: string; length?: number; start?: number }>;
  /** Apply onto the worker's current engine instead of a fresh one (catch-up of a joining replica; no snapshot). */
  append?: boolean;
}

export interface RecoveryReport {
  replayedRecords: number;
  /** Records whose replay failed the same way the live write did (e.g. a failing insert); they are skipped. */
  failedRecords: number;
  snapshotQuads: number;
  quads: number;
  durationMs: number;
  /** Set when the last segment ends in a torn record: the caller truncates the file there. */
  torn?: { path: string; offset: number; reason: string };
}

/** The log is damaged in the middle: the store refuses to open rather than silently lose acknowledged writes. */
export class CorruptLogError extends Error {
  override name = 'CorruptLogError';
  constructor(readonly path: string, readonly offset: number, reason: string) {
    super(`Store log ${path} is corrupt at byte ${offset} (${reason})`);
  }
}

/** Consecutive inserts are applied together (they commute); this bounds the batch so memory stays flat. */
const REPLAY_BATCH = 5_000;

function readPrefix(path: string, length?: number): Buffer {
  if (length === undefined) return readFileSync(path);
  const fd = openSync(path, 'r');
  try {
    const size = Math.min(length, fstatSync(fd).size);
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) off += readSync(fd, buf, off, size - off, off);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Runs a record decoder; its StoreCorruptError becomes a CorruptLogError that names the segment and offset. */
function decoded<T>(decode: () => T, path: string, offset: number): T {
  try {
    return decode();
  } catch (e) {
    throw new CorruptLogError(path, offset, (e as Error).message);
  }
}

export function recover(engine: OxigraphEngine, plan: RecoveryPlan): RecoveryReport {
  const started = performance.now();
  const report: RecoveryReport = { replayedRecords: 0, failedRecords: 0, snapshotQuads: 0, quads: 0, durationMs: 0 };
  if (plan.snapshot) {
    try {
      loadSnapshotFile(engine, plan.snapshot);
    } catch (e) {
      if (e instanceof SnapshotParseError) throw new CorruptLogError(e.path, e.offset, `a snapshot piece from here on does not parse: ${e.reason}`);
      throw e;
    }
    report.snapshotQuads = engine.size();
  }
  let batch: InsertItem[] = [];
  const flush = () => {
    report.failedRecords += applyInserts(engine, batch).errors;
    batch = [];
  };
  plan.segments.forEach((seg, i) => {
    const start = seg.start ?? 0;
    const buf = readPrefix(seg.path, seg.length).subarray(start);
    const outcome = readRecords(buf, (rec: LogRecord, at: number) => {
      const offset = at + start;
      report.replayedRecords++;
      if (rec.type === RecordType.Insert) {
        const { graph, nquads } = decoded(() => decodeInsert(rec.payload), seg.path, offset);
        batch.push({ nquads, graph: graph ?? null });
        if (batch.length >= REPLAY_BATCH) flush();
        return;
      }
      // A CRC-valid record whose payload this code never writes is damage, not a failed write: refuse, naming it.
      const record = decoded(() => decodeRecord(rec), seg.path, offset);
      flush();
      try {
        applyRecord(engine, record);
      } catch {
        report.failedRecords++;
      }
    });
    flush();
    if (outcome.kind === 'corrupt') throw new CorruptLogError(seg.path, outcome.offset + start, outcome.reason);
    if (outcome.kind === 'torn') {
      if (i !== plan.segments.length - 1) throw new CorruptLogError(seg.path, outcome.offset + start, `${outcome.reason} in a sealed segment`);
      report.torn = { path: seg.path, offset: outcome.offset + start, reason: outcome.reason };
    }
  });
  // Oxigraph's size walks the whole store (seconds at millions of quads): a catch-up, which may run while inserts are
  // held, leaves the count to its caller (-1).
  report.quads = plan.append ? -1 : engine.size();
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

