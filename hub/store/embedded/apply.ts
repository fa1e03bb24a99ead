// Applies log records and insert batches to an OxigraphEngine: the one code path shared by live writes and replay.
import { DEFAULT_GRAPH, type GraphName } from '../quad-store.ts';
import type { OxigraphEngine } from '../oxigraph-engine.ts';
import { RecordType, decodeInsert, readRecords, type DecodedRecord } from './log-format.ts';

/**
 * Oxigraph (WASM) loads N-Quads about twice as fast (CPU time, measured here on a 78 MB snapshot) in ~1 MB pieces as
 * in one huge string, so big documents are loaded in pieces of about this many characters.
 */
export const LOAD_CHUNK_CHARS = 1 << 20;

/** One insert() call as it crosses to the worker: `graph` null = no target graph (quads keep their own graph). */
export interface InsertItem {
  nquads: string;
  graph: string | null;
  /** The UTF-8 length of `nquads` when already known. */
  bytes?: number;
}

/** Graph names cross the worker boundary as null (default graph) or an IRI string: symbols do not clone. */
export type WireGraph = string | null;
export const toWire = (g: GraphName): WireGraph => (g === DEFAULT_GRAPH ? null : g);
export const fromWire = (g: WireGraph): GraphName => (g === null ? DEFAULT_GRAPH : g);

/**
 * Loads a batch of inserts with as few Oxigraph load calls as possible: one load call costs ~40 us on top of ~5 us per
 * quad (measured here), so 8-quad messages loaded one by one run at half speed. Inserts commute (set union), so the
 * messages are rewritten into one N-Quads document (each triple line of a message with a target graph gets the graph
 * appended) and loaded at once. Blank node labels are scoped to one insert() call (Oxigraph gives every load fresh
 * blank nodes), so a message holding `_:` is loaded on its own. If the combined load fails (a message held quads that
 * already name a graph, or bad syntax), loads are idempotent, so the batch is loaded again message by message; messages
 * that still fail are counted.
 */
export function applyInserts(engine: OxigraphEngine, batch: InsertItem[]): { errors: number; lastError?: string } {
  let errors = 0;
  let lastError: string | undefined;
  const loadOne = (item: InsertItem) => {
    try {
      engine.load(item.nquads, item.graph === null ? undefined : item.graph);
    } catch (e) {
      errors++;
      lastError = (e as Error).message;
    }
  };
  let doc = '';
  let combined: InsertItem[] = [];
  const loadCombined = () => {
    try {
      if (doc) engine.load(doc);
    } catch {
      combined.forEach(loadOne);
    }
    doc = '';
    combined = [];
  };
  for (const item of batch) {
    if (batch.length === 1 || item.nquads.includes('_:')) {
      loadOne(item);
      continue;
    }
    const text = item.nquads.endsWith('\n') ? item.nquads : `${item.nquads}\n`;
    doc += item.graph === null ? text : text.replace(/\.[ \t]*(\r?\n)/g, ` <${item.graph}> .$1`);
    combined.push(item);
    if (doc.length >= LOAD_CHUNK_CHARS) loadCombined();
  }
  loadCombined();
  return { errors, lastError };
}

const NL = 0x0a;
const UNDERSCORE = 0x5f;
const COLON = 0x3a;

/** Whether N-Quads bytes may hold a blank node label (`_:`; also matches inside literals, which only costs batching). */
function mayHoldBlankNode(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(UNDERSCORE); i >= 0 && i < bytes.length - 1; i = bytes.indexOf(UNDERSCORE, i + 1)) {
    if (bytes[i + 1] === COLON) return true;
  }
  return false;
}

/**
 * The worker's insert path: applies framed insert records (the bytes appended to the log) without decoding them to
 * JavaScript strings. Messages are grouped by target graph and each group's N-Quads bytes are loaded with one
 * `to_graph_name` load, so no text is rewritten; measured side by side with applyInserts in
 * test/bench/store/apply-options.ts. Same semantics as applyInserts: a message that may hold blank nodes is loaded on
 * its own, and a group whose load fails is loaded again message by message (loads are idempotent), counting failures.
 */
export function applyInsertRecords(engine: OxigraphEngine, records: Uint8Array): { errors: number; lastError?: string; lines: number } {
  const buf = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  const groups = new Map<string | null, Buffer[]>();
  const alone: Array<{ graph: string | null; bytes: Buffer }> = [];
  const outcome = readRecords(buf, (r) => {
    const p = r.payload;
    if (p.length < 2) throw new Error(`insert record of ${p.length} bytes has no graph length`);
    const gLen = p.readUInt16LE(0);
    if (2 + gLen > p.length) throw new Error(`insert record names a ${gLen}-byte graph but holds ${p.length - 2} bytes`);
    const graph = gLen ? p.toString('utf8', 2, 2 + gLen) : null;
    const bytes = p.subarray(2 + gLen);
    if (bytes.length === 0) return;
    if (mayHoldBlankNode(bytes)) return void alone.push({ graph, bytes });
    let list = groups.get(graph);
    if (!list) groups.set(graph, (list = []));
    list.push(bytes);
    if (bytes[bytes.length - 1] !== NL) list.push(NEWLINE);
  });
  if (outcome.kind !== 'end') throw new Error(`bad insert batch at byte ${outcome.offset}: ${outcome.reason}`);
  // One load call costs ~40 us: with few messages per graph (small batches over many Things), one rewritten document
  // (applyInserts) is cheaper than a load per graph (measured: 500 messages over 1,000 graphs ran ~1.4x slower by graph,
  // 5,000 ran 1.4-1.9x faster).
  let messages = alone.length;
  for (const parts of groups.values()) for (const p of parts) if (p !== NEWLINE) messages++;
  if (groups.size * 4 > messages) {
    const r = applyInserts(engine, decodeInserts(records));
    let n = 0;
    for (let i = buf.indexOf(NL); i >= 0; i = buf.indexOf(NL, i + 1)) n++;
    return { ...r, lines: n };
  }
  let errors = 0;
  let lastError: string | undefined;
  let lines = 0;
  const load = (bytes: Uint8Array, graph: string | null): boolean => {
    try {
      engine.load(bytes, graph === null ? undefined : graph);
      for (let i = bytes.indexOf(NL); i >= 0; i = bytes.indexOf(NL, i + 1)) lines++;
      return true;
    } catch (e) {
      lastError = (e as Error).message;
      return false;
    }
  };
  for (const [graph, parts] of groups) {
    const messages = parts.filter((p) => p !== NEWLINE);
    if (messages.length === 1) {
      if (!load(messages[0]!, graph)) errors++;
    } else if (!load(Buffer.concat(parts), graph)) {
      for (const m of messages) if (!load(m, graph)) errors++;
    }
  }
  for (const { graph, bytes } of alone) if (!load(bytes, graph)) errors++;
  return { errors, lastError, lines };
}
const NEWLINE = Buffer.from('\n');

/** Decodes a buffer of framed insert records (as built by encodeInserts) into insert items. */
export function decodeInserts(records: Uint8Array): InsertItem[] {
  const buf = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  const items: InsertItem[] = [];
  const outcome = readRecords(buf, (r) => {
    const { graph, nquads } = decodeInsert(r.payload);
    items.push({ nquads, graph: graph ?? null });
  });
  if (outcome.kind !== 'end') throw new Error(`bad insert batch at byte ${outcome.offset}: ${outcome.reason}`);
  return items;
}

/**
 * Applies one decoded record (recovery decodes and checks each before; inserts go through applyInserts in batches).
 * Throws what the engine throws.
 */
export function applyRecord(engine: OxigraphEngine, record: DecodedRecord): void {
  switch (record.type) {
    case RecordType.Insert:
      applyInserts(engine, [{ nquads: record.nquads, graph: record.graph ?? null }]);
      return;
    case RecordType.Update:
      engine.update(record.sparql, { baseIri: record.baseIri, now: record.now });
      return;
    case RecordType.PutGraph:
      engine.putGraph(fromWire(record.graph), record.data);
      return;
    case RecordType.PostGraph:
      engine.postGraph(fromWire(record.graph), record.data);
      return;
    case RecordType.DeleteGraph:
      engine.deleteGraph(fromWire(record.graph));
      return;
    case RecordType.RetentionDrop:
      for (const g of record.graphs) engine.deleteGraph(g);
      return;
  }
}

/** Observation graphs (hub/store/graphs.ts naming) whose day is before `cutoffDay` (YYYY-MM-DD). */
export function expiredGraphs(engine: OxigraphEngine, cutoffDay: string, isObservation: (iri: string) => string | undefined): string[] {
  const out: string[] = [];
  for (const g of engine.namedGraphs()) {
    const day = g.blank ? undefined : isObservation(g.value);
    if (day !== undefined && day < cutoffDay) out.push(g.value);
  }
  return out;
}
