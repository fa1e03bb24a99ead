// Compiles an rml:logicalSource: where the records come from (message or file), how to read it (RML-IO), how to iterate.
import type { Store } from 'n3';
import type { Term } from '@rdfjs/types';
import { MappingError } from '../errors.ts';
import { objects, show, single } from './compile-term-map.ts';
import { DEFAULT_DIALECT, type CsvDialect } from './csv.ts';
import { compileJsonPath } from './jsonpath.ts';
import type { SourceIo, SourcePlan } from './plan.ts';
import type { Compression } from './source-bytes.ts';
import { CURRENT_MESSAGE, rml } from './vocab.ts';
import { compileXPath } from './xml.ts';

export const CSVW = 'http://www.w3.org/ns/csvw#';
const RDF_FIRST = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#first';
const RDF_REST = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#rest';

export interface SourceCompileOptions {
  /** Reject file sources: in the hub a mapfile may only read hub:CurrentMessage. */
  perMessageOnly?: boolean;
}

const COMPRESSIONS: Record<string, Compression> = { none: 'none', gzip: 'gzip', zip: 'zip', targz: 'targz', targzip: 'targz', tarxz: 'tarxz' };

function localName(t: Term): string {
  return t.value.replace(/^.*[/#]/, '');
}

function literalOf(store: Store, node: Term, p: string): string | undefined {
  const v = single(store, node, p);
  if (v && v.termType !== 'Literal') throw new MappingError(`${show(node)} <${p}> must be a literal`, { term: show(v) });
  return v?.value;
}

function booleanOf(store: Store, node: Term, p: string): boolean | undefined {
  const v = literalOf(store, node, p);
  if (v === undefined) return undefined;
  if (v !== 'true' && v !== 'false') throw new MappingError(`<${p}> must be true or false, not '${v}'`, { term: v });
  return v === 'true';
}

function integerOf(store: Store, node: Term, p: string, max = 1_000_000): number | undefined {
  const v = literalOf(store, node, p);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new MappingError(`<${p}> must be an integer from 0 to ${max}, not '${v}'`, { term: v });
  return n;
}

/** A literal or an RDF list of literals (csvw:lineTerminators, csvw:null may be either). */
function stringsOf(store: Store, node: Term, p: string): string[] {
  const out: string[] = [];
  for (const v of objects(store, node, p)) {
    if (v.termType === 'Literal') out.push(v.value);
    else {
      let cell: Term | undefined = v;
      for (let guard = 0; cell && cell.value !== `${RDF_REST.slice(0, -4)}nil` && guard < 1000; guard += 1) {
        const first = single(store, cell, RDF_FIRST);
        if (first) out.push(first.value);
        cell = single(store, cell, RDF_REST);
      }
    }
  }
  return out;
}

/** CSVW dialect terms on a source (csvw:dialect) or a table (csvw:null, csvw:trim also sit there). */
function compileDialect(store: Store, src: Term): Partial<CsvDialect> {
  const d: Partial<CsvDialect> = {};
  const node = single(store, src, `${CSVW}dialect`) ?? src;
  const str = (p: string): string | undefined => literalOf(store, node, `${CSVW}${p}`);
  const delimiter = str('delimiter');
  if (delimiter !== undefined) d.delimiter = delimiter.replace(/^\\t$/, '\t');
  const quote = str('quoteChar');
  if (quote !== undefined) d.quoteChar = quote;
  const doubleQuote = booleanOf(store, node, `${CSVW}doubleQuote`);
  if (doubleQuote !== undefined) d.doubleQuote = doubleQuote;
  const header = booleanOf(store, node, `${CSVW}header`);
  if (header !== undefined) d.header = header;
  for (const k of ['headerRowCount', 'skipRows', 'skipColumns'] as const) {
    const n = integerOf(store, node, `${CSVW}${k}`);
    if (n !== undefined) d[k] = n;
  }
  if (d.headerRowCount === 0) d.header = false;
  for (const k of ['skipBlankRows', 'skipInitialSpace'] as const) {
    const b = booleanOf(store, node, `${CSVW}${k}`);
    if (b !== undefined) d[k] = b;
  }
  const comment = str('commentPrefix');
  if (comment !== undefined) d.commentPrefix = comment;
  const trim = literalOf(store, node, `${CSVW}trim`) ?? literalOf(store, src, `${CSVW}trim`);
  if (trim !== undefined) d.trim = trim === 'true' ? true : trim === 'false' ? false : trim === 'start' || trim === 'end' ? trim : d.trim;
  const terminators = stringsOf(store, node, `${CSVW}lineTerminators`);
  if (terminators.length) d.lineTerminators = terminators.map((t) => t.replace(/\\r/g, '\r').replace(/\\n/g, '\n'));
  const nulls = [...stringsOf(store, src, `${CSVW}null`), ...(node === src ? [] : stringsOf(store, node, `${CSVW}null`))];
  if (nulls.length) d.nulls = nulls;
  if (d.delimiter === '' || (d.quoteChar !== undefined && d.quoteChar.length > 1)) throw new MappingError(`Invalid CSV dialect on ${show(src)}`, { term: show(node) });
  return d;
}

/** RML-IO access terms of a source description: rml:encoding, rml:compression, rml:null, and the CSVW dialect. */
function compileIo(store: Store, src: Term): SourceIo {
  const enc = single(store, src, rml('encoding'));
  const dialectNode = single(store, src, `${CSVW}dialect`);
  const csvwEncoding = dialectNode ? literalOf(store, dialectNode, `${CSVW}encoding`) : undefined;
  const comp = single(store, src, rml('compression'));
  let compression: Compression = 'none';
  if (comp) {
    const c = COMPRESSIONS[localName(comp)];
    if (!c) throw new MappingError(`Unsupported rml:compression ${show(comp)}`, { term: show(comp) });
    compression = c;
  }
  const dialect = compileDialect(store, src);
  const nulls = objects(store, src, rml('null')).map((n) => n.value);
  if (nulls.length) dialect.nulls = [...(dialect.nulls ?? []), ...nulls];
  return { encoding: enc ? localName(enc) : csvwEncoding, compression, dialect: { ...DEFAULT_DIALECT, ...dialect } };
}

/** rml:namespace [ rml:namespacePrefix "ex"; rml:namespaceURL "http://..." ] on an XPath reference formulation. */
function namespacesOf(store: Store, rf: Term): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of objects(store, rf, rml('namespace'))) {
    const prefix = literalOf(store, ns, rml('namespacePrefix'));
    const url = literalOf(store, ns, rml('namespaceURL'));
    if (prefix === undefined || url === undefined) throw new MappingError(`rml:namespace ${show(ns)} needs rml:namespacePrefix and rml:namespaceURL`, { term: show(ns) });
    out[prefix] = url;
  }
  return out;
}

function formulationOf(store: Store, rf: Term | undefined, path: string | undefined): SourcePlan['formulation'] {
  if (!rf) return /\.csv(\.|$)/i.test(path ?? '') ? 'csv' : /\.xml(\.|$)/i.test(path ?? '') ? 'xpath' : 'jsonpath';
  if (rf.value === rml('JSONPath')) return 'jsonpath';
  if (rf.value === rml('CSV')) return 'csv';
  if (rf.value === rml('XPath')) return 'xpath';
  if (rf.termType === 'BlankNode' || rf.termType === 'NamedNode') {
    const types = store.getObjects(rf as never, 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type' as never, null).map((t) => t.value);
    if (types.includes(rml('XPathReferenceFormulation'))) return 'xpath';
  }
  throw new MappingError(`Unsupported rml:referenceFormulation ${show(rf)}`, { term: show(rf) });
}

/** Compiles (and deduplicates by identity) the logical source of a triples map. */
export function compileSource(store: Store, ls: Term, sources: Map<string, SourcePlan>, options: SourceCompileOptions): SourcePlan {
  const src = single(store, ls, rml('source'));
  if (!src) throw new MappingError(`Logical source ${show(ls)} has no rml:source`, { term: show(ls) });
  const rf = single(store, ls, rml('referenceFormulation'));
  const it = single(store, ls, rml('iterator'));
  let kind: SourcePlan['kind'] = 'file';
  let path: string | undefined;
  let root: SourcePlan['root'] = 'mapping';
  let io: SourceIo | undefined;
  if (src.value === CURRENT_MESSAGE || (src.termType === 'Literal' && src.value === 'hub:CurrentMessage')) kind = 'message';
  else if (src.termType === 'Literal') path = src.value;
  else {
    // rml:RelativePathSource (rml:path, rml:root) or a csvw:Table (csvw:url), with RML-IO access terms.
    const p = single(store, src, rml('path')) ?? single(store, src, `${CSVW}url`);
    if (!p) throw new MappingError(`Unsupported rml:source ${show(src)}: use hub:CurrentMessage or a file path`, { term: show(src) });
    path = p.value;
    root = single(store, src, rml('root'))?.value === rml('CurrentWorkingDirectory') ? 'cwd' : 'mapping';
    io = compileIo(store, src);
  }
  if (kind === 'file' && options.perMessageOnly) {
    throw new MappingError(`rml:source ${show(src)} is a file; hub mapfiles read rml:source hub:CurrentMessage (the hub never reads its own disk for a mapfile)`, { term: show(src) });
  }
  const formulation = formulationOf(store, rf, path);
  if (it && it.termType !== 'Literal') throw new MappingError(`rml:iterator ${show(it)} must be a string`, { term: show(it) });
  const namespaces = formulation === 'xpath' && rf ? namespacesOf(store, rf) : undefined;
  if (formulation === 'xpath' && kind === 'message') throw new MappingError('hub:CurrentMessage is JSON: read it with rml:JSONPath', { term: show(rf!) });
  const iterator = formulation === 'jsonpath' ? compileJsonPath(it?.value ?? '$') : undefined;
  const xpathIterator = formulation === 'xpath' ? compileXPath(it?.value ?? '/*', namespaces) : undefined;
  const key = `${kind}|${root}|${path ?? ''}|${formulation}|${it?.value ?? '$'}|${JSON.stringify(io ?? {})}|${JSON.stringify(namespaces ?? {})}`;
  let plan = sources.get(key);
  if (!plan) {
    plan = { key, kind, path, root, formulation, iterator, xpathIterator, namespaces, io, envelopeFilter: kind === 'message' && /^\$\[\s*\?/.test(it?.value ?? '') };
    sources.set(key, plan);
  }
  return plan;
}
