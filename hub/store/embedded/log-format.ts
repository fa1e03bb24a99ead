// Write-ahead log record framing: [u32 payload length][u32 CRC32 of type+payload][u8 type][payload], little-endian.
//
// The CRC lets recovery tell a torn tail (a crash mid-append) from a good record; see readRecords for the policy.
import { crc32 } from 'node:zlib';
import { StoreCorruptError } from '../../errors.ts';

/** Record types of the store's log. Numbers are on disk: never renumber. */
export const RecordType = {
  /** N-Quads added by insert(); payload = u16 graph length + graph IRI (empty = default) + N-Quads text. */
  Insert: 1,
  /**
   * A SPARQL Update that succeeded; payload = JSON {sparql, baseIri?, now?}. Replay re-runs the text with NOW() fixed at
   * `now` (ms since the epoch, chosen when the update was accepted; records written before it existed replay with the
   * clock), so every engine and every replay agree. Updates calling RAND(), UUID() or STRUUID() are refused before
   * they are run (their values cannot be repeated); BNODE() and blank nodes in a template get fresh nodes on each
   * engine and replay, the same graph up to blank node names.
   */
  Update: 2,
  /** Graph Store PUT; payload = JSON {graph|null, data} (null = default graph). */
  PutGraph: 3,
  /** Graph Store POST; payload = JSON {graph|null, data}. */
  PostGraph: 4,
  /** Graph Store DELETE; payload = JSON {graph|null}. */
  DeleteGraph: 5,
  /** Retention: named graphs dropped because they were older than the retention period; payload = JSON {graphs}. */
  RetentionDrop: 6,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const HEADER_BYTES = 9;
/** Largest payload accepted on read; anything bigger is treated as garbage (a torn or corrupt length field). */
export const MAX_PAYLOAD_BYTES = 1 << 30;

export interface LogRecord {
  type: RecordType;
  payload: Buffer;
}

/** Frames one record. */
export function encodeRecord(type: RecordType, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf[8] = type;
  payload.copy(buf, HEADER_BYTES);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** Frames an insert record; the graph IRI travels in the payload so replay routes triples exactly as the live store did. */
export function encodeInsert(nquads: string, graph: string | undefined): Buffer {
  return encodeInserts([{ nquads, graph: graph ?? null }]);
}

/**
 * Frames many insert records into one buffer (the hot path: one allocation per group of messages, not per message).
 * The same bytes go to the log file and to every store worker, which decodes them exactly as replay does. They live in a
 * SharedArrayBuffer, so posting them to the members of a replica set shares them instead of copying them once per
 * member (and a small batch no longer drags Buffer's whole 8 KiB pool slab along with it).
 */
export function encodeInserts(items: ReadonlyArray<{ nquads: string; graph: string | null; bytes?: number }>): Buffer {
  let total = 0;
  const sizes = new Array<number>(items.length * 2);
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const g = it.graph === null ? 0 : Buffer.byteLength(it.graph);
    const q = it.bytes ?? Buffer.byteLength(it.nquads);
    sizes[2 * i] = g;
    sizes[2 * i + 1] = q;
    total += HEADER_BYTES + 2 + g + q;
  }
  const buf = Buffer.from(new SharedArrayBuffer(total));
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const g = sizes[2 * i]!;
    const q = sizes[2 * i + 1]!;
    const len = 2 + g + q;
    buf.writeUInt32LE(len, off);
    buf[off + 8] = RecordType.Insert;
    buf.writeUInt16LE(g, off + HEADER_BYTES);
    if (g) buf.write(it.graph!, off + HEADER_BYTES + 2, g, 'utf8');
    buf.write(it.nquads, off + HEADER_BYTES + 2 + g, q, 'utf8');
    buf.writeUInt32LE(crc32(buf.subarray(off + 8, off + HEADER_BYTES + len)), off + 4);
    off += HEADER_BYTES + len;
  }
  return buf;
}

/**
 * Decodes an insert payload. A payload too short for its graph length cannot come from encodeInserts: it throws
 * StoreCorruptError (a RangeError from Buffer reads would otherwise escape as an untyped failure).
 */
export function decodeInsert(payload: Buffer): { graph: string | undefined; nquads: string } {
  if (payload.length < 2) throw new StoreCorruptError(`insert record of ${payload.length} bytes has no graph length`);
  const gLen = payload.readUInt16LE(0);
  if (2 + gLen > payload.length) throw new StoreCorruptError(`insert record names a ${gLen}-byte graph but holds ${payload.length - 2} bytes`);
  const graph = gLen ? payload.toString('utf8', 2, 2 + gLen) : undefined;
  return { graph, nquads: payload.toString('utf8', 2 + gLen) };
}

/** A record's payload as the type says it is laid out (see RecordType). */
export type DecodedRecord =
  | { type: typeof RecordType.Insert; graph: string | undefined; nquads: string }
  | { type: typeof RecordType.Update; sparql: string; baseIri?: string; now?: number }
  | { type: typeof RecordType.PutGraph | typeof RecordType.PostGraph; graph: string | null; data: string }
  | { type: typeof RecordType.DeleteGraph; graph: string | null }
  | { type: typeof RecordType.RetentionDrop; graphs: string[] };

function jsonPayload(record: LogRecord): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(record.payload.toString('utf8'));
  } catch (e) {
    throw new StoreCorruptError(`record of type ${record.type} does not hold JSON`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new StoreCorruptError(`record of type ${record.type} does not hold a JSON object`);
  return v as Record<string, unknown>;
}

const isGraph = (g: unknown): g is string | null => g === null || typeof g === 'string';

/**
 * Decodes and shape-checks one record (a CRC-valid frame can still hold a payload this code never writes, e.g. after a
 * bug or a hand-edited file); throws StoreCorruptError naming what is wrong.
 */
export function decodeRecord(record: LogRecord): DecodedRecord {
  const bad = (what: string): never => {
    throw new StoreCorruptError(`record of type ${record.type}: ${what}`);
  };
  switch (record.type) {
    case RecordType.Insert:
      return { type: RecordType.Insert, ...decodeInsert(record.payload) };
    case RecordType.Update: {
      const p = jsonPayload(record);
      if (typeof p.sparql !== 'string') bad('sparql is not a string');
      if (p.baseIri !== undefined && typeof p.baseIri !== 'string') bad('baseIri is not a string');
      if (p.now !== undefined && !Number.isFinite(p.now)) bad('now is not a number');
      return { type: RecordType.Update, sparql: p.sparql as string, baseIri: p.baseIri as string | undefined, now: p.now as number | undefined };
    }
    case RecordType.PutGraph:
    case RecordType.PostGraph: {
      const p = jsonPayload(record);
      if (!isGraph(p.graph)) bad('graph is neither null nor a string');
      if (p.data !== undefined && typeof p.data !== 'string') bad('data is not a string');
      return { type: record.type, graph: p.graph as string | null, data: (p.data as string | undefined) ?? '' };
    }
    case RecordType.DeleteGraph: {
      const p = jsonPayload(record);
      if (!isGraph(p.graph)) bad('graph is neither null nor a string');
      return { type: RecordType.DeleteGraph, graph: p.graph as string | null };
    }
    case RecordType.RetentionDrop: {
      const p = jsonPayload(record);
      if (!Array.isArray(p.graphs) || !p.graphs.every((g) => typeof g === 'string')) bad('graphs is not a list of strings');
      return { type: RecordType.RetentionDrop, graphs: p.graphs as string[] };
    }
    default:
      return bad('unknown record type');
  }
}

export function encodeJson(type: RecordType, value: unknown): Buffer {
  return encodeRecord(type, Buffer.from(JSON.stringify(value), 'utf8'));
}

export type ReadOutcome =
  | { kind: 'end' }
  /** The bytes from `offset` on are an incomplete or damaged last record: truncate there. */
  | { kind: 'torn'; offset: number; reason: string }
  /** A damaged record followed by more data: the log is corrupt at `offset`. */
  | { kind: 'corrupt'; offset: number; reason: string };

/**
 * Walks the records of one segment, calling `onRecord` for each good one, and says how the segment ends.
 *
 * Policy: a bad record (short header, impossible length, CRC mismatch) whose frame reaches the end of the file, or that is
 * followed only by zero bytes, is a torn tail (a crash interrupted the append; it was never acknowledged, since acks
 * follow fdatasync). A bad record with data after it is corruption: the caller refuses to open the store.
 */
export function readRecords(buf: Buffer, onRecord: (r: LogRecord, offset: number) => void): ReadOutcome {
  let off = 0;
  while (off < buf.length) {
    const remaining = buf.length - off;
    if (remaining < HEADER_BYTES) return { kind: 'torn', offset: off, reason: 'short record header' };
    const len = buf.readUInt32LE(off);
    const end = off + HEADER_BYTES + len;
    const bad = (reason: string): ReadOutcome => {
      if (end >= buf.length || len > MAX_PAYLOAD_BYTES || isZero(buf, off)) return { kind: 'torn', offset: off, reason };
      return { kind: 'corrupt', offset: off, reason };
    };
    if (len > MAX_PAYLOAD_BYTES || end > buf.length) return { kind: 'torn', offset: off, reason: 'record runs past the end' };
    const type = buf[off + 8]!;
    if (type < RecordType.Insert || type > RecordType.RetentionDrop) return bad(`unknown record type ${type}`);
    if (crc32(buf.subarray(off + 8, end)) !== buf.readUInt32LE(off + 4)) return bad('CRC mismatch');
    onRecord({ type: type as RecordType, payload: buf.subarray(off + HEADER_BYTES, end) }, off);
    off = end;
  }
  return { kind: 'end' };
}

function isZero(buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}
