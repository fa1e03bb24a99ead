// Parses SPARQL result files (.srx, .srj, .tsv, .csv, RDF result sets) and compares result sets (bnode isomorphism).
import { DOMParser } from '@xmldom/xmldom';
import { Parser, Store, type Quad } from 'n3';

const XSD_STRING = 'http://www.w3.org/2001/XMLSchema#string';
const RDF_LANG = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString';

/** A bound value: `u:<iri>`, `b:<label>`, `l:<lex>|<datatype>|<lang>`; compared after bnode relabelling. */
export type Row = Map<string, string>;
export interface ResultSet {
  vars: string[];
  rows?: Row[];
  boolean?: boolean;
}

const XSD = 'http://www.w3.org/2001/XMLSchema#';
const NUMERIC = new Set(['integer', 'decimal', 'double', 'float'].map((t) => `${XSD}${t}`));

/**
 * Literal identity for comparison. Numeric literals compare by datatype and value, not lexical form: the expected
 * files write e.g. "1.0"^^xsd:decimal, "3.0E4"^^xsd:double or "0"^^xsd:boolean where engines return the canonical form.
 */
export function literalKey(value: string, datatype?: string, lang?: string): string {
  const l = lang?.toLowerCase() ?? '';
  const dt = l ? RDF_LANG : datatype || XSD_STRING;
  const n = Number(value);
  let v = NUMERIC.has(dt) && value.trim() !== '' && !Number.isNaN(n) ? String(n) : value;
  if (dt === `${XSD}boolean`) v = value === '1' ? 'true' : value === '0' ? 'false' : value;
  return `l:${v}|${dt}|${l}`;
}

export function parseSrj(text: string): ResultSet {
  const j = JSON.parse(text) as {
    head: { vars?: string[] };
    boolean?: boolean;
    results?: { bindings: Array<Record<string, { type: string; value: string; datatype?: string; 'xml:lang'?: string }>> };
  };
  if (typeof j.boolean === 'boolean') return { vars: [], boolean: j.boolean };
  const rows = (j.results?.bindings ?? []).map((b) => {
    const row: Row = new Map();
    for (const [k, t] of Object.entries(b)) {
      if (t.type === 'uri') row.set(k, `u:${t.value}`);
      else if (t.type === 'bnode') row.set(k, `b:${t.value}`);
      else row.set(k, literalKey(t.value, t.datatype, t['xml:lang']));
    }
    return row;
  });
  return { vars: j.head.vars ?? [], rows };
}

export function parseSrx(text: string): ResultSet {
  const doc = new DOMParser().parseFromString(text, 'text/xml');
  const byTag = (el: { getElementsByTagName(n: string): ArrayLike<unknown> }, tag: string) =>
    Array.from(el.getElementsByTagName(tag) as ArrayLike<Element>);
  const boolean = byTag(doc, 'boolean')[0];
  if (boolean) return { vars: [], boolean: boolean.textContent?.trim() === 'true' };
  const vars = byTag(doc, 'variable').map((v) => v.getAttribute('name')!);
  const rows = byTag(doc, 'result').map((r) => {
    const row: Row = new Map();
    for (const b of byTag(r, 'binding')) {
      const name = b.getAttribute('name')!;
      const v = Array.from(b.childNodes).find((n) => n.nodeType === 1) as Element;
      const text = v.textContent ?? '';
      if (v.tagName === 'uri') row.set(name, `u:${text}`);
      else if (v.tagName === 'bnode') row.set(name, `b:${text}`);
      else row.set(name, literalKey(text, v.getAttribute('datatype') ?? undefined, v.getAttribute('xml:lang') ?? undefined));
    }
    return row;
  });
  return { vars, rows };
}

/** Parses one TSV term (SPARQL 1.1 Query Results CSV and TSV §4: Turtle/N-Triples term syntax). */
function tsvTerm(cell: string): string {
  if (cell.startsWith('<')) return `u:${cell.slice(1, -1)}`;
  if (cell.startsWith('_:')) return `b:${cell.slice(2)}`;
  if (cell.startsWith('"')) {
    const q = new Parser().parse(`<x:s> <x:p> ${cell} .`)[0]!.object;
    return q.termType === 'Literal' ? literalKey(q.value, q.datatype.value, q.language) : cell;
  }
  const num = new Parser().parse(`<x:s> <x:p> ${cell} .`)[0]!.object;
  return num.termType === 'Literal' ? literalKey(num.value, num.datatype.value, num.language) : cell;
}

export function parseTsv(text: string): ResultSet {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const vars = lines[0]!.split('\t').map((v) => v.replace(/^\?/, ''));
  const rows = lines.slice(1).map((line) => {
    const row: Row = new Map();
    line.split('\t').forEach((cell, i) => {
      if (cell !== '') row.set(vars[i]!, tsvTerm(cell));
    });
    return row;
  });
  return { vars, rows };
}

/** CSV loses term kinds: cells are compared as strings, bnode labels (`_:x`) still relabelled. */
export function parseCsv(text: string): ResultSet {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field), records.push(record), (record = []), (field = '');
    } else field += c;
  }
  if (field !== '' || record.length) record.push(field), records.push(record);
  const vars = records[0] ?? [];
  const rows = records.slice(1).map((r) => {
    const row: Row = new Map();
    r.forEach((cell, i) => {
      if (cell !== '') row.set(vars[i]!, cell.startsWith('_:') ? `b:${cell.slice(2)}` : `s:${cell}`);
    });
    return row;
  });
  return { vars, rows };
}

/** Result sets encoded in RDF (the DAWG rs: vocabulary), used by a few older tests. */
export function parseRdfResultSet(turtle: string, baseIRI: string): ResultSet {
  const RS = 'http://www.w3.org/2001/sw/DataAccess/tests/result-set#';
  const store = new Store(new Parser({ baseIRI }).parse(turtle) as Quad[]);
  const set = store.getSubjects('http://www.w3.org/1999/02/22-rdf-syntax-ns#type', `${RS}ResultSet`, null)[0]!;
  const bool = store.getObjects(set, `${RS}boolean`, null)[0];
  if (bool) return { vars: [], boolean: bool.value === 'true' };
  const vars = store.getObjects(set, `${RS}resultVariable`, null).map((v) => v.value);
  const rows = store.getObjects(set, `${RS}solution`, null).map((sol) => {
    const row: Row = new Map();
    for (const b of store.getObjects(sol, `${RS}binding`, null)) {
      const name = store.getObjects(b, `${RS}variable`, null)[0]!.value;
      const v = store.getObjects(b, `${RS}value`, null)[0]!;
      row.set(name, v.termType === 'NamedNode' ? `u:${v.value}` : v.termType === 'BlankNode' ? `b:${v.value}` : literalKey(v.value, (v as { datatype: { value: string } }).datatype.value, (v as { language: string }).language));
    }
    return row;
  });
  return { vars, rows };
}

function rowKey(row: Row, map?: Map<string, string>): string {
  return [...row.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v.startsWith('b:') ? (map ? `b:${map.get(v) ?? '?'}` : 'b:*') : v}`)
    .join('\u0001');
}

/**
 * Whether two result sets are equal: same boolean, or the same rows as multisets (in order when `ordered`) under one
 * bijection between blank node labels (SPARQL 1.1 Query §18.5, "result set equivalence").
 */
export function sameResults(expected: ResultSet, actual: ResultSet, ordered: boolean): boolean {
  if (expected.boolean !== undefined || actual.boolean !== undefined) return expected.boolean === actual.boolean;
  const e = expected.rows!;
  const a = actual.rows!;
  if (e.length !== a.length) return false;
  // Cheap check first: shapes with blank nodes masked must match as multisets.
  const masked = (rows: Row[]) => rows.map((r) => rowKey(r)).sort().join('\n');
  if (masked(e) !== masked(a)) return false;
  const forward = new Map<string, string>();
  const backward = new Map<string, string>();
  const used = new Array<boolean>(a.length).fill(false);
  const tryPair = (er: Row, ar: Row): string[] | undefined => {
    if (er.size !== ar.size) return undefined;
    const added: string[] = [];
    for (const [k, ev] of er) {
      const av = ar.get(k);
      if (av === undefined) return undo(added);
      if (ev.startsWith('b:') !== av.startsWith('b:')) return undo(added);
      if (!ev.startsWith('b:')) {
        if (ev !== av) return undo(added);
        continue;
      }
      const f = forward.get(ev);
      const b = backward.get(av);
      if (f === undefined && b === undefined) forward.set(ev, av), backward.set(av, ev), added.push(ev);
      else if (f !== av || b !== ev) return undo(added);
    }
    return added;
  };
  const undo = (added: string[]): undefined => {
    for (const ev of added) backward.delete(forward.get(ev)!), forward.delete(ev);
    return undefined;
  };
  let steps = 0;
  const match = (i: number): boolean => {
    if (i === e.length) return true;
    if (++steps > 200_000) return false;
    const candidates = ordered ? [i] : a.keys();
    for (const j of candidates) {
      if (used[j]) continue;
      const added = tryPair(e[i]!, a[j]!);
      if (!added) continue;
      used[j] = true;
      if (match(i + 1)) return true;
      used[j] = false;
      undo(added);
    }
    return false;
  };
  return match(0);
}
