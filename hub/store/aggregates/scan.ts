// Hand-rolled: a line-level scan of N-Quads text for the five SOSA statements the aggregates need (no full parse).
//
// insert() is the hub's hot path, so the text is searched for "/ns/sosa/" and only lines whose hit names one of
// sosa:madeBySensor, observedProperty, resultTime, hasSimpleResult or the class sosa:Observation are tokenised (N-Quads
// has one statement per line, so a line is parsed from its start and a hit inside a literal or an object is recognised
// as such). Text holding a \u or \U escape is tokenised line by line in full, since an escaped IRI could spell a SOSA
// predicate without the plain text. Lines that cannot be read make the scan `unreadable`: the caller then rebuilds from
// the store instead of trusting the scan.
import { literalValue, timeValue, type Value } from './terms.ts';

export const SOSA = 'http://www.w3.org/ns/sosa/';
export const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const P_SENSOR = `${SOSA}madeBySensor`;
const P_PROPERTY = `${SOSA}observedProperty`;
const P_TIME = `${SOSA}resultTime`;
const P_RESULT = `${SOSA}hasSimpleResult`;
const C_OBSERVATION = `${SOSA}Observation`;
const NEEDLE = '/ns/sosa/';
const LOCAL_NAMES = ['madeBySensor>', 'observedProperty>', 'resultTime>', 'hasSimpleResult>', 'Observation>'];

/** What one text says about one subject in one named graph. */
export interface ObsRow {
  obs: string;
  typed: boolean;
  sensor?: string;
  property?: string;
  time?: { ms: number; term: { type: 'literal'; value: string; datatype?: string } };
  value?: Value;
  /** Something the aggregates cannot reproduce: a blank node, a second differing value, an unsupported literal form. */
  bad: boolean;
}

export interface ScanResult {
  /** Named graph IRI -> subject IRI -> row (the default graph is not tracked: the dashboard shapes read GRAPH ?g). */
  graphs: Map<string, Map<string, ObsRow>>;
  /** A line with a SOSA hit could not be tokenised. */
  unreadable: boolean;
}

/** A term as read: 0 an IRI, 1 a blank node (label), 2 a literal. */
export type Term = { k: 0; v: string } | { k: 1; v: string } | { k: 2; v: string; dt?: string; lang?: string };

class Cursor {
  i: number;
  constructor(readonly t: string, start: number, readonly end: number) {
    this.i = start;
  }
  ws(): void {
    const t = this.t;
    while (this.i < this.end && (t.charCodeAt(this.i) === 32 || t.charCodeAt(this.i) === 9)) this.i++;
  }
  iri(): string | undefined {
    const close = this.t.indexOf('>', this.i + 1);
    if (close < 0 || close >= this.end) return undefined;
    const raw = this.t.slice(this.i + 1, close);
    this.i = close + 1;
    // Not validated further: an IRI Oxigraph refuses fails the load, which the decorator sees in applyErrors.
    return raw.indexOf('\\') >= 0 ? unescape(raw) : raw;
  }
  term(): Term | undefined {
    this.ws();
    const c = this.t.charCodeAt(this.i);
    if (c === 60 /* < */) {
      const v = this.iri();
      return v === undefined ? undefined : { k: 0, v };
    }
    if (c === 95 /* _ */) {
      const from = this.i;
      while (this.i < this.end && this.t.charCodeAt(this.i) > 32) this.i++;
      return { k: 1, v: this.t.slice(from, this.i) };
    }
    if (c === 34 /* " */) return this.literal();
    return undefined;
  }
  private literal(): Term | undefined {
    const t = this.t;
    let j = this.i + 1;
    let escaped = false;
    for (; j < this.end; j++) {
      const c = t.charCodeAt(j);
      if (c === 92) {
        escaped = true;
        j++;
      } else if (c === 34) break;
    }
    if (j >= this.end) return undefined;
    const raw = t.slice(this.i + 1, j);
    const v = escaped ? unescape(raw) : raw;
    if (v === undefined) return undefined;
    this.i = j + 1;
    if (t.charCodeAt(this.i) === 64 /* @ */) {
      const m = /^@[a-zA-Z]+(-[a-zA-Z0-9]+)*/.exec(t.slice(this.i, Math.min(this.end, this.i + 64)));
      if (!m) return undefined;
      this.i += m[0].length;
      return { k: 2, v, lang: m[0].slice(1).toLowerCase() };
    }
    if (t.charCodeAt(this.i) === 94 && t.charCodeAt(this.i + 1) === 94) {
      this.i += 2;
      if (t.charCodeAt(this.i) !== 60) return undefined;
      const dt = this.iri();
      return dt === undefined ? undefined : { k: 2, v, dt };
    }
    return { k: 2, v };
  }
}

/** N-Triples ECHAR/UCHAR decoding; undefined on a malformed escape. */
function unescape(s: string): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    const simple: Record<string, string> = { t: '\t', b: '\b', n: '\n', r: '\r', f: '\f', '"': '"', "'": "'", '\\': '\\' };
    if (n !== undefined && n in simple) out += simple[n];
    else if (n === 'u' || n === 'U') {
      const len = n === 'u' ? 4 : 8;
      const hex = s.slice(i + 1, i + 1 + len);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) return undefined;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return undefined;
      out += String.fromCodePoint(cp);
      i += len;
    } else return undefined;
  }
  return out;
}

/**
 * Scans N-Quads (or N-Triples going to `graph`) for SOSA observation statements. Rows are per (graph, subject); a
 * repeated statement is harmless (the store keeps one quad), a second differing value marks the row bad.
 */
export function scanNQuads(text: string, graph?: string): ScanResult {
  const result: ScanResult = { graphs: new Map(), unreadable: false };
  const full = text.indexOf('\\u') >= 0 || text.indexOf('\\U') >= 0;
  let pos = 0;
  while (pos < text.length) {
    let start: number;
    if (full) start = pos;
    else {
      const hit = text.indexOf(NEEDLE, pos);
      if (hit < 0) break;
      const name = hit + NEEDLE.length;
      if (!LOCAL_NAMES.some((n) => text.startsWith(n, name))) {
        pos = name;
        continue;
      }
      start = text.lastIndexOf('\n', hit) + 1;
    }
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (!readLine(text, start, end, graph, result)) result.unreadable = true;
    pos = end + 1;
  }
  return result;
}

/** Tokenises one statement line and records it when it is one of the five; false when the line cannot be read. */
function readLine(text: string, start: number, end: number, graph: string | undefined, out: ScanResult): boolean {
  const cur = new Cursor(text, start, end);
  cur.ws();
  if (cur.i >= end || text.charCodeAt(cur.i) === 35 /* # */ || text.charCodeAt(cur.i) === 13) return true;
  const s = cur.term();
  cur.ws();
  if (text.charCodeAt(cur.i) !== 60) return false;
  const p = cur.iri();
  const o = cur.term();
  if (!s || p === undefined || !o || s.k === 2) return false;
  cur.ws();
  let g: string | undefined = graph;
  if (text.charCodeAt(cur.i) !== 46 /* . */) {
    const gt = cur.term();
    if (!gt || gt.k === 2) return false;
    g = gt.k === 0 ? gt.v : '_:';
    cur.ws();
  }
  if (text.charCodeAt(cur.i) !== 46) return false;
  cur.i++;
  cur.ws();
  if (cur.i < end && text.charCodeAt(cur.i) !== 35 && text.charCodeAt(cur.i) !== 13) return false;
  if (g === undefined) return true; // the default graph is not read by GRAPH ?g
  if (g === '_:') {
    // A blank-node graph name: not something the aggregates can name; rebuild from the store.
    if (isRelevant(p, o)) out.unreadable = true;
    return true;
  }
  addStatement(out, g, s, p, o);
  return true;
}

function isRelevant(p: string, o: Term): boolean {
  if (p === RDF_TYPE) return o.k === 0 && o.v === C_OBSERVATION;
  return p === P_SENSOR || p === P_PROPERTY || p === P_TIME || p === P_RESULT;
}

/** Records one statement of a named graph when it is one of the five; shared by the scan and the rebuild from the store. */
export function addStatement(out: ScanResult, g: string, s: Term, p: string, o: Term): void {
  if (!isRelevant(p, o) || s.k === 2) return;
  let rows = out.graphs.get(g);
  if (!rows) out.graphs.set(g, (rows = new Map()));
  const key = s.k === 0 ? s.v : `_:${s.v}`;
  let row = rows.get(key);
  // Every field set up front: one object shape for all rows.
  if (!row) rows.set(key, (row = { obs: key, typed: false, sensor: undefined, property: undefined, time: undefined, value: undefined, bad: s.k !== 0 }));
  if (p === RDF_TYPE) row.typed = true;
  else if (p === P_SENSOR) {
    if (o.k !== 0 || (row.sensor !== undefined && row.sensor !== o.v)) row.bad = true;
    else row.sensor = o.v;
  } else if (p === P_PROPERTY) {
    if (o.k !== 0 || (row.property !== undefined && row.property !== o.v)) row.bad = true;
    else row.property = o.v;
  } else if (o.k !== 2) row.bad = true;
  else if (p === P_TIME) {
    const t = timeValue(o.v, o.dt);
    if (!t || (row.time && row.time.term.value !== t.term.value)) row.bad = true;
    else row.time = t as ObsRow['time'];
  } else {
    const v = literalValue(o.v, o.dt, o.lang);
    if (!v || (row.value && (row.value.term.value !== v.term.value || row.value.term.datatype !== v.term.datatype))) row.bad = true;
    else row.value = v;
  }
}
