// Hand-rolled: a line-level scan of N-Quads text for the five SOSA statements the aggregates need (no full parse).
//
// insert() is the hub's hot path: N-Quads has one statement per line, so lines are found with indexOf('\\n'), the
// predicate is compared in place, and only the lines of sosa:madeBySensor, observedProperty, resultTime,
// hasSimpleResult and `rdf:type sosa:Observation` are read further (FastLines; lines in another layout go to the full
// tokenizer). Text holding a \u or \U escape is tokenised line by line in full, since an escaped IRI could spell a SOSA
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
  const full = hasUcharEscape(text);
  const fast = new FastLines(text, graph, result);
  const n = text.length;
  let start = 0;
  while (start < n) {
    // One memchr-fast search per line for its end; the subject is skipped with another and the predicate compared in
    // place. Only the lines of the five statements are tokenised.
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    const verdict = full ? Line.Unsure : fast.line(start, end);
    if (verdict === Line.Unsure && !readLine(text, start, end, graph, result)) result.unreadable = true;
    start = end + 1;
  }
  return result;
}

/** Whether the text holds a \\u or \\U escape (one single-character search: most texts hold no backslash at all). */
function hasUcharEscape(text: string): boolean {
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i + 2)) {
    const c = text.charCodeAt(i + 1);
    if (c === 117 || c === 85) return true;
  }
  return false;
}

const enum Line {
  Done,
  /** Not the plain layout (leading or several spaces, tabs, escapes): tokenise it in full. */
  Unsure,
}

const PREDICATES = [P_SENSOR, P_PROPERTY, P_TIME, P_RESULT];
const ALL_PREDICATES = [...PREDICATES, RDF_TYPE];
const FIELD_BY_LENGTH: number[] = [];
ALL_PREDICATES.forEach((p, i) => (FIELD_BY_LENGTH[p.length] = i));
if (new Set(ALL_PREDICATES.map((p) => p.length)).size !== 5) throw new Error('scan: predicate lengths must differ');
const OBSERVATION: Term = { k: 0, v: C_OBSERVATION };

/**
 * The common layout, `<s> <p> o <g> .` with single spaces, read in place: the last subject, graph and row are reused
 * while consecutive lines share them (one observation's lines are adjacent), so most lines cut no strings but the object.
 */
class FastLines {
  private lastSubject = '';
  private lastGraph: string | undefined;
  private lastRows: Map<string, ObsRow> | undefined;
  private lastRow: ObsRow | undefined;
  private readonly cur: Cursor;
  constructor(private readonly text: string, private readonly graph: string | undefined, private readonly out: ScanResult) {
    this.cur = new Cursor(text, 0, text.length);
  }

  /**
   * Whether the IRI `<...>` at `at` is `known`: the length first (its '>' is where `known` would end), then one slice
   * compared whole (String.prototype.startsWith with an offset costs more than that on long texts in this V8).
   */
  private same(at: number, known: string | undefined): boolean {
    return known !== undefined && this.text.charCodeAt(at + 1 + known.length) === 62 && this.text.slice(at + 1, at + 1 + known.length) === known;
  }

  line(start: number, end: number): Line {
    const t = this.text;
    const c = t.charCodeAt(start);
    if (start === end || c === 35 /* # */ || c === 13) return Line.Done;
    if (c !== 60 /* < */) return Line.Unsure;
    const sClose = t.indexOf('>', start);
    if (sClose < 0 || sClose >= end || t.charCodeAt(sClose + 1) !== 32) return Line.Unsure;
    const p = sClose + 2;
    if (t.charCodeAt(p) !== 60) return Line.Unsure;
    const pClose = t.indexOf('>', p);
    if (pClose < 0 || pClose >= end) return Line.Unsure;
    // The five predicate IRIs have different lengths, none shared with SOSA's other predicates: compare only on a match.
    const field = FIELD_BY_LENGTH[pClose - p - 1] ?? -1;
    // (An escaped IRI spelling a SOSA predicate needs a \u escape: such text is tokenised in full, never read here.)
    if (field < 0 || t.slice(p + 1, pClose) !== ALL_PREDICATES[field]) return Line.Done;
    const cur = this.cur;
    let obj: Term = OBSERVATION;
    if (t.charCodeAt(pClose + 1) !== 32) return Line.Unsure;
    cur.i = pClose + 2;
    if (field === 4) {
      if (!this.same(cur.i, C_OBSERVATION)) return t.charCodeAt(cur.i) === 60 ? Line.Done : Line.Unsure;
      cur.i += C_OBSERVATION.length + 2;
    } else {
      const term = cur.term();
      if (!term || cur.i > end) return Line.Unsure;
      obj = term;
    }
    // Graph: the line's own, or the insert's graph for a triple.
    if (t.charCodeAt(cur.i) !== 32) return Line.Unsure;
    const gAt = cur.i + 1;
    let g: string | undefined;
    if (t.charCodeAt(gAt) === 46 /* . */) {
      g = this.graph;
      cur.i = gAt;
    } else if (t.charCodeAt(gAt) === 60) {
      if (this.lastGraph !== undefined && this.same(gAt, this.lastGraph)) {
        g = this.lastGraph;
        cur.i = gAt + g!.length + 2;
      } else {
        cur.i = gAt;
        g = cur.iri();
        if (g === undefined || g.indexOf('\\') >= 0) return Line.Unsure;
      }
      if (t.charCodeAt(cur.i) !== 32 || t.charCodeAt(cur.i + 1) !== 46) return Line.Unsure;
      cur.i++;
    } else return Line.Unsure;
    const after = cur.i + 1;
    if (after < end && !(after + 1 === end && t.charCodeAt(after) === 13)) return Line.Unsure;
    if (g === undefined) return Line.Done; // the default graph: not read by GRAPH ?g
    let rows: Map<string, ObsRow>;
    if (g === this.lastGraph && this.lastRows) rows = this.lastRows;
    else {
      let found = this.out.graphs.get(g);
      if (!found) this.out.graphs.set(g, (found = new Map()));
      rows = found;
      this.lastGraph = g;
      this.lastRows = rows;
      this.lastRow = undefined;
    }
    let row: ObsRow;
    if (this.lastRow && this.same(start, this.lastSubject)) row = this.lastRow;
    else {
      const subject = t.slice(start + 1, sClose);
      if (subject.indexOf('\\') >= 0) return Line.Unsure;
      let found = rows.get(subject);
      if (!found) rows.set(subject, (found = { obs: subject, typed: false, sensor: undefined, property: undefined, time: undefined, value: undefined, bad: false }));
      row = found;
      this.lastSubject = subject;
      this.lastRow = row;
    }
    setField(row, field === 4 ? RDF_TYPE : PREDICATES[field]!, obj);
    return Line.Done;
  }
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
  setField(row, p, o);
}

/** Sets the field statement (p, o) gives a row; a second differing value or an unusable term marks the row bad. */
function setField(row: ObsRow, p: string, o: Term): void {
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
