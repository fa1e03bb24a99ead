// The maintained aggregates: per named graph, per (sensor, property) counts, latest observations and hourly windows.
//
// Everything is kept per graph so that a write the scan cannot follow (update, PUT, DELETE, retention) only costs the
// rebuild of the graphs it touches; answers merge the graphs' parts (thousands of keys, not millions of observations).
import { Kind, type Value } from './terms.ts';
import type { ObsRow } from './scan.ts';
import type { JsonTerm } from '../quad-store.ts';

export const HOUR_MS = 3_600_000;
/** Ties kept per key at its latest time; more make the key's "latest" answers go to the store. */
const MAX_TIES = 16;

/** Aggregates of the observations of one (graph, sensor, property) in one UTC hour. */
export interface Window {
  n: number;
  /** Results that are not numbers (strings). */
  other: number;
  nInteger: number;
  nDecimal: number;
  nDouble: number;
  /** Sum of the numeric results as doubles (in arrival order). */
  dsum: number;
  /** Exact sum of the integer and decimal results, in 1e-18 units. */
  xsum: bigint;
  min?: Value;
  max?: Value;
}

export interface Latest {
  obs: string;
  ms: number;
  time: JsonTerm;
  value: JsonTerm;
  sensor: string;
  property: string;
  graph: string;
}

export class KeyAgg {
  n = 0;
  minMs = Infinity;
  maxMs = -Infinity;
  latest: Latest[] = [];
  tiesOverflow = false;
  readonly hours = new Map<number, Window>();
  /** Every hour together: answers without a time range read this instead of the hours. */
  readonly all: Window = newWindow();
  readonly sensor: string;
  readonly property: string;
  constructor(readonly graph: string, sensor: string, property: string) {
    this.sensor = flat(sensor);
    this.property = flat(property);
  }

  add(row: Required<Pick<ObsRow, 'obs' | 'time' | 'value'>>): Latest {
    this.n++;
    const ms = row.time.ms;
    // Copies, not slices: a slice would keep the whole N-Quads text of its insert alive.
    const latest: Latest = { obs: flat(row.obs), ms, time: flatTerm(row.time.term), value: flatTerm(row.value.term), sensor: this.sensor, property: this.property, graph: this.graph };
    if (ms > this.maxMs) {
      this.maxMs = ms;
      this.latest = [latest];
      this.tiesOverflow = false;
    } else if (ms === this.maxMs) {
      if (this.latest.length < MAX_TIES) this.latest.push(latest);
      else this.tiesOverflow = true;
    }
    if (ms < this.minMs) this.minMs = ms;
    const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
    let w = this.hours.get(hour);
    if (!w) this.hours.set(hour, (w = newWindow()));
    addToWindow(w, row.value);
    addToWindow(this.all, row.value);
    return latest;
  }
}

/** A window with every field set (min/max too), so that all windows share one hidden class (answer.ts mergeWindow). */
export function newWindow(): Window {
  return { n: 0, other: 0, nInteger: 0, nDecimal: 0, nDouble: 0, dsum: 0, xsum: 0n, min: undefined, max: undefined };
}

function addToWindow(w: Window, v: Value): void {
  w.n++;
  if (v.kind === Kind.Other) {
    w.other++;
    return;
  }
  if (v.kind === Kind.Double) w.nDouble++;
  else {
    if (v.kind === Kind.Integer) w.nInteger++;
    else w.nDecimal++;
    w.xsum += v.scaled!;
  }
  w.dsum += v.num;
  if (!w.min || v.num < w.min.num) w.min = { ...v, term: flatTerm(v.term) };
  if (!w.max || v.num > w.max.num) w.max = { ...v, term: flatTerm(v.term) };
}

function flatTerm(t: JsonTerm): JsonTerm {
  return t.datatype === undefined ? { type: t.type, value: flat(t.value) } : { type: t.type, value: flat(t.value), datatype: t.datatype };
}

/** A copy not sharing memory with the N-Quads text it was cut from (V8 keeps a slice's parent alive). */
export function flat(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** The aggregates of one named graph. */
export class GraphAgg {
  /** 53-bit hashes of the subjects seen (for redeliveries and observations written in parts). */
  readonly subjects = new HashSet53();
  n = 0;
  /** Rows the aggregates cannot reproduce (blank nodes, partial or multi-valued observations, unsupported literals). */
  irregular = 0;
  readonly keys = new Map<string, KeyAgg>();
  readonly iri: string;
  constructor(iri: string) {
    this.iri = flat(iri);
  }
}

/**
 * A set of hash53 values in one open-addressed Float64Array (linear probing, at most half full; 0 marks a free slot,
 * so the value 0 is stored as 2^53, which hash53 never returns). About 16-32 bytes per member where a Set<number> of
 * such values (heap numbers, not small integers) costs ~50 and an allocation per add: this is on the insert path.
 */
export class HashSet53 {
  private slots: Float64Array = new Float64Array(16);
  size = 0;

  has(h: number): boolean {
    const v = h === 0 ? 2 ** 53 : h;
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = v % slots.length; ; i = (i + 1) & mask) {
      const x = slots[i]!;
      if (x === v) return true;
      if (x === 0) return false;
    }
  }

  add(h: number): void {
    const v = h === 0 ? 2 ** 53 : h;
    if (this.put(this.slots, v)) this.size++;
    if (this.size * 2 > this.slots.length) {
      const old = this.slots;
      this.slots = new Float64Array(old.length * 2);
      for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.put(this.slots, old[i]!);
    }
  }

  /** The slots and member count, for a checkpoint (checkpoint.ts). */
  dump(): { subjects: Float64Array; subjectCount: number } {
    return { subjects: this.slots, subjectCount: this.size };
  }

  /** Takes over slots from dump() (a power of two long, at most half full). */
  load(slots: Float64Array, size: number): void {
    if (slots.length < 16 || (slots.length & (slots.length - 1)) !== 0 || size * 2 > slots.length) throw new Error('aggregates checkpoint: bad subject set');
    this.slots = slots;
    this.size = size;
  }

  /** Stores `v` in `slots`; false when it was there. */
  private put(slots: Float64Array, v: number): boolean {
    const mask = slots.length - 1;
    for (let i = v % slots.length; ; i = (i + 1) & mask) {
      const x = slots[i]!;
      if (x === v) return false;
      if (x === 0) {
        slots[i] = v;
        return true;
      }
    }
  }
}

/** FNV-1a twice with different offsets, folded to 53 bits: collisions are ~n^2/2^54 per graph. */
export function hash53(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

/** A row with every field one regular observation has. */
export function isComplete(r: ObsRow): r is ObsRow & Required<Pick<ObsRow, 'sensor' | 'property' | 'time' | 'value'>> {
  return !r.bad && r.typed && r.sensor !== undefined && r.property !== undefined && r.time !== undefined && r.value !== undefined;
}

/** The latest observations over every graph, at most `k` of them (more are kept until the next compaction). */
export class TopK {
  rows: Latest[] = [];
  /** Rows were cut off: after removing rows the list may miss some, unless `k` remain at or above `floor`. */
  truncated = false;
  floor = -Infinity;
  sorted = true;
  constructor(readonly k: number) {}

  add(l: Latest): void {
    if (this.truncated && l.ms < this.floor) return;
    this.rows.push(l);
    this.sorted = false;
    if (this.rows.length >= 2 * this.k) this.compact();
  }

  compact(): void {
    if (!this.sorted) this.rows.sort((a, b) => b.ms - a.ms);
    this.sorted = true;
    if (this.rows.length > this.k) {
      this.rows.length = this.k;
      this.truncated = true;
      this.floor = this.rows[this.k - 1]!.ms;
    }
  }

  /** Removes a graph's rows; false when the list may now miss rows (rebuild it from the store). */
  removeGraph(graph: string): void {
    this.rows = this.rows.filter((r) => r.graph !== graph);
  }

  /** Whether the list holds every one of the `k` latest (or all observations when never truncated). */
  complete(): boolean {
    if (!this.truncated) return true;
    let n = 0;
    for (const r of this.rows) if (r.ms >= this.floor) n++;
    return n >= this.k;
  }

  reset(rows: Latest[], truncated: boolean): void {
    this.rows = rows;
    this.sorted = false;
    this.truncated = false;
    this.floor = -Infinity;
    this.compact();
    if (truncated) {
      this.truncated = true;
      this.floor = this.rows.at(-1)?.ms ?? -Infinity;
    }
  }

  latest(limit: number): Latest[] {
    this.compact();
    return this.rows.slice(0, limit);
  }
}
