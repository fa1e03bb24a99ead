// Rebuilds an engine from a snapshot file plus log segments (runs inside a store worker: it blocks while it loads).
import { openSync, readSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import type { OxigraphEngine } from '../oxigraph-engine.ts';
import { RecordType, decodeInsert, readRecords, type LogRecord } from './log-format.ts';
import { applyInserts, applyRecord, type InsertItem } from './apply.ts';

/** What to replay: the snapshot (N-Quads) and the segments after it, in order; `length` bounds a segment being appended to. */
export interface RecoveryPlan {
  snapshot?: string;
  segments: Array<{ path: string; length?: number }>;
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
const REPLAY_BATCH = 20_000;

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

export function recover(engine: OxigraphEngine, plan: RecoveryPlan): RecoveryReport {
  const started = performance.now();
  const report: RecoveryReport = { replayedRecords: 0, failedRecords: 0, snapshotQuads: 0, quads: 0, durationMs: 0 };
  if (plan.snapshot) {
    engine.load(readFileSync(plan.snapshot, 'utf8'));
    report.snapshotQuads = engine.size();
  }
  let batch: InsertItem[] = [];
  const flush = () => {
    report.failedRecords += applyInserts(engine, batch).errors;
    batch = [];
  };
  plan.segments.forEach((seg, i) => {
    const buf = readPrefix(seg.path, seg.length);
    const outcome = readRecords(buf, (rec: LogRecord) => {
      report.replayedRecords++;
      if (rec.type === RecordType.Insert) {
        const { graph, nquads } = decodeInsert(rec.payload);
        batch.push({ nquads, graph: graph ?? null });
        if (batch.length >= REPLAY_BATCH) flush();
        return;
      }
      flush();
      try {
        applyRecord(engine, rec);
      } catch {
        report.failedRecords++;
      }
    });
    flush();
    if (outcome.kind === 'corrupt') throw new CorruptLogError(seg.path, outcome.offset, outcome.reason);
    if (outcome.kind === 'torn') {
      if (i !== plan.segments.length - 1) throw new CorruptLogError(seg.path, outcome.offset, `${outcome.reason} in a sealed segment`);
      report.torn = { path: seg.path, offset: outcome.offset, reason: outcome.reason };
    }
  });
  report.quads = engine.size();
  report.durationMs = Math.round(performance.now() - started);
  return report;
}
