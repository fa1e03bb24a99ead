// The aggregates saved when the hub stops cleanly, so that the next start answers dashboards at once instead of after
// rebuilding them from the store (store bench, 4M quads: ~40 s after listening; at 6M ~110 s with the members joining).
//
// The file names the store content it was taken from: EmbeddedQuadStore.filesMark() (the latest snapshot and the last
// non-empty log segment with their sizes; a segment never grows once its store closed, and every open starts a new
// one). It is used only when the mark is the same at the next open, so any write since (a crash after more writes,
// retention at start, another tool) means a rebuild as before. A file that is damaged, of another version or of
// other content is ignored, never an error: the aggregates are derived data. Layout: MAGIC, u32 CRC-32 of the rest,
// u32 header length, header JSON ({ version, mark }), v8.serialize() of the state's data.
import { readFile } from 'node:fs/promises';
import { deserialize, serialize } from 'node:v8';
import { crc32 } from 'node:zlib';
import { writeFileDurably } from '../../durable-file.ts';
import { GraphAgg, KeyAgg, type Latest, type Window } from './model.ts';
import { index, type AggregateState } from './state.ts';

export const MAGIC = Buffer.from('HUB-AGGREGATES\n');
/** Bumped whenever the saved shape or the meaning of a field changes. */
export const CHECKPOINT_VERSION = 1;

interface SavedKey {
  sensor: string;
  property: string;
  n: number;
  minMs: number;
  maxMs: number;
  latest: Latest[];
  tiesOverflow: boolean;
  hours: Map<number, Window>;
  all: Window;
}

interface SavedGraph {
  iri: string;
  n: number;
  irregular: number;
  subjects: Float64Array;
  subjectCount: number;
  keys: SavedKey[];
}

interface Saved {
  total: number;
  topRows: Latest[];
  topTruncated: boolean;
  topFloor: number;
  topDirty: boolean;
  graphs: SavedGraph[];
}

/** Whether the state holds exactly the store's content (nothing dirty, held or in flight): only then is it saved. */
export function savable(state: AggregateState): boolean {
  return !state.allDirty && state.dirty.size === 0 && state.building.size === 0 && state.writing.size === 0 && state.pending.size === 0 && state.overflowed.size === 0;
}

/** The file's bytes for `state` (which must be savable) taken at store content `mark`. */
export function encodeCheckpoint(state: AggregateState, mark: string): Buffer {
  state.top.compact();
  const saved: Saved = {
    total: state.total,
    topRows: state.top.rows,
    topTruncated: state.top.truncated,
    topFloor: state.top.floor,
    topDirty: state.topDirty,
    graphs: [...state.graphs.values()].map((g) => ({
      iri: g.iri,
      n: g.n,
      irregular: g.irregular,
      ...g.subjects.dump(),
      keys: [...g.keys.values()].map((k) => ({ sensor: k.sensor, property: k.property, n: k.n, minMs: k.minMs, maxMs: k.maxMs, latest: k.latest, tiesOverflow: k.tiesOverflow, hours: k.hours, all: k.all })),
    })),
  };
  const header = Buffer.from(JSON.stringify({ version: CHECKPOINT_VERSION, mark }));
  const body = serialize(saved);
  const out = Buffer.alloc(MAGIC.length + 8 + header.length + body.length);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(header.length, MAGIC.length + 4);
  header.copy(out, MAGIC.length + 8);
  body.copy(out, MAGIC.length + 8 + header.length);
  out.writeUInt32LE(crc32(out.subarray(MAGIC.length + 4)), MAGIC.length);
  return out;
}

/** Why a file was not used (for the hub's log and /health), or undefined when it was. */
export type Refusal = 'absent' | 'damaged' | 'version' | 'other-content';

/**
 * Loads the file's state into `state` (which must be fresh: nothing ingested yet) when it was taken at store content
 * `mark`; otherwise leaves `state` as it was and says why.
 */
export function decodeCheckpoint(bytes: Buffer | undefined, mark: string, state: AggregateState): Refusal | undefined {
  if (!bytes) return 'absent';
  const at = MAGIC.length;
  if (bytes.length < at + 8 || !bytes.subarray(0, at).equals(MAGIC)) return 'damaged';
  if (crc32(bytes.subarray(at + 4)) !== bytes.readUInt32LE(at)) return 'damaged';
  const headerLength = bytes.readUInt32LE(at + 4);
  if (at + 8 + headerLength > bytes.length) return 'damaged';
  let header: { version?: unknown; mark?: unknown };
  try {
    header = JSON.parse(bytes.toString('utf8', at + 8, at + 8 + headerLength)) as typeof header;
    if (header.version !== CHECKPOINT_VERSION) return 'version';
    if (header.mark !== mark) return 'other-content';
    install(deserialize(bytes.subarray(at + 8 + headerLength)), state);
  } catch {
    return 'damaged';
  }
  return undefined;
}

class Malformed extends Error {}
const check = (ok: boolean): void => {
  if (!ok) throw new Malformed('aggregates checkpoint: malformed');
};
const isNum = (x: unknown): x is number => typeof x === 'number';
const isStr = (x: unknown): x is string => typeof x === 'string';
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;
function checkTerm(t: unknown): void {
  check(isObj(t) && isStr(t.type) && isStr(t.value) && (t.datatype === undefined || isStr(t.datatype)) && (t['xml:lang'] === undefined || isStr(t['xml:lang'])));
}
function checkLatest(l: unknown): void {
  check(isObj(l) && isStr(l.obs) && isNum(l.ms) && isStr(l.sensor) && isStr(l.property) && isStr(l.graph));
  checkTerm((l as Record<string, unknown>).time);
  checkTerm((l as Record<string, unknown>).value);
}
function checkValue(v: unknown): void {
  if (v === undefined) return;
  check(isObj(v) && isNum(v.num) && (v.kind === 0 || v.kind === 1 || v.kind === 2 || v.kind === 3) && (v.scaled === undefined || typeof v.scaled === 'bigint'));
  checkTerm((v as Record<string, unknown>).term);
}
function checkWindow(w: unknown): void {
  check(isObj(w) && isNum(w.n) && isNum(w.other) && isNum(w.nInteger) && isNum(w.nDecimal) && isNum(w.nDouble) && isNum(w.dsum) && typeof w.xsum === 'bigint');
  checkValue((w as Record<string, unknown>).min);
  checkValue((w as Record<string, unknown>).max);
}
/** Every field of the saved data has the type the aggregates use (a file can be damaged past its CRC by hand). */
function checkSaved(saved: unknown): asserts saved is Saved {
  check(isObj(saved) && isNum(saved.total) && Array.isArray(saved.topRows) && typeof saved.topTruncated === 'boolean' && isNum(saved.topFloor) && typeof saved.topDirty === 'boolean' && Array.isArray(saved.graphs));
  const sv = saved as unknown as Saved;
  sv.topRows.forEach(checkLatest);
  for (const g of sv.graphs as unknown[]) {
    check(isObj(g) && isStr(g.iri) && isNum(g.n) && isNum(g.irregular) && g.subjects instanceof Float64Array && isNum(g.subjectCount) && Array.isArray(g.keys));
    for (const k of (g as unknown as SavedGraph).keys as unknown[]) {
      check(isObj(k) && isStr(k.sensor) && isStr(k.property) && isNum(k.n) && isNum(k.minMs) && isNum(k.maxMs) && Array.isArray(k.latest) && typeof k.tiesOverflow === 'boolean' && k.hours instanceof Map);
      const key = k as unknown as SavedKey;
      key.latest.forEach(checkLatest);
      for (const [h, w] of key.hours) check(isNum(h)), checkWindow(w);
      checkWindow(key.all);
    }
  }
}

function install(saved: unknown, state: AggregateState): void {
  checkSaved(saved);
  // Everything is built first; the state is changed only once nothing can throw.
  const graphs = saved.graphs.map((s) => {
    const g = new GraphAgg(s.iri);
    g.n = s.n;
    g.irregular = s.irregular;
    g.subjects.load(s.subjects, s.subjectCount);
    for (const sk of s.keys) {
      const k = new KeyAgg(g.iri, sk.sensor, sk.property);
      k.n = sk.n;
      k.minMs = sk.minMs;
      k.maxMs = sk.maxMs;
      // The same Latest objects as in the top list (v8.serialize keeps shared references shared).
      k.latest = sk.latest;
      k.tiesOverflow = sk.tiesOverflow;
      for (const [h, w] of sk.hours) k.hours.set(h, w);
      Object.assign(k.all, sk.all);
      g.keys.set(`${k.sensor} ${k.property}`, k);
    }
    return g;
  });
  for (const g of graphs) {
    state.graphs.set(g.iri, g);
    if (g.irregular > 0) state.irregularGraphs++;
    for (const k of g.keys.values()) {
      index(state.keysBySensor, k.sensor).add(k);
      index(state.keysByProperty, k.property).add(k);
    }
  }
  state.total = saved.total;
  // As saved: compacted (sorted, at most k rows) just before.
  state.top.rows = saved.topRows;
  state.top.sorted = true;
  state.top.truncated = saved.topTruncated;
  state.top.floor = saved.topFloor;
  state.topDirty = saved.topDirty;
  state.allDirty = false;
}

/** The content mark a file's header names (undefined for a file that is not a readable checkpoint of this version). */
export function checkpointMark(bytes: Buffer): string | undefined {
  const at = MAGIC.length;
  if (bytes.length < at + 8 || !bytes.subarray(0, at).equals(MAGIC)) return undefined;
  const headerLength = bytes.readUInt32LE(at + 4);
  if (at + 8 + headerLength > bytes.length) return undefined;
  try {
    const header = JSON.parse(bytes.toString('utf8', at + 8, at + 8 + headerLength)) as { version?: unknown; mark?: unknown };
    return header.version === CHECKPOINT_VERSION && typeof header.mark === 'string' ? header.mark : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the file, or undefined when there is none (or it cannot be read). */
export async function readCheckpoint(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch(() => undefined);
}

export function writeCheckpoint(path: string, bytes: Buffer): Promise<void> {
  return writeFileDurably(path, bytes);
}
