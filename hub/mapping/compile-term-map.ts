// Compiles one RML term map (constant, reference, template or function) into a TermGen closure, checking it first.
import { DataFactory, type Store } from 'n3';
import type { NamedNode, Term } from '@rdfjs/types';
import { MappingError } from '../errors.ts';
import type { FunctionRegistry } from './functions.ts';
import { compileJsonPath } from './jsonpath.ts';
import type { TermGen, ValueGen } from './plan.ts';
import { parseTemplate } from './template.ts';
import { compileXPath, type XmlNode } from './xml.ts';
import { iriProblem } from './iri.ts';
import { blankLabel, iriSafe, isLanguageTag, isTerm, lexical, naturalLiteral, resolveIri, uriSafe } from './terms.ts';
import { rml } from './vocab.ts';

const { namedNode, blankNode, literal, defaultGraph } = DataFactory;

export type Position = 'subject' | 'predicate' | 'object' | 'graph' | 'datatype' | 'value';
type TermType = 'IRI' | 'UnsafeIRI' | 'BlankNode' | 'Literal';

export interface CompileContext {
  store: Store;
  legacy: boolean;
  base: string | undefined;
  formulation: 'jsonpath' | 'csv' | 'xpath';
  /** Prefixes of an XPath source's rml:namespace declarations. */
  namespaces?: Record<string, string>;
  /** Values of the logical source that stand for no value (RML-IO rml:null, csvw:null). */
  nulls?: Set<string>;
  functions: FunctionRegistry;
  /**
   * What a data error (a value that makes no valid IRI) does: `fail` (default) throws MappingError `invalid-iri`;
   * `skip` generates no term for it, as R2RML §11 lets a processor do (the legacy R2RML-derived test cases expect it).
   */
  dataErrors?: 'fail' | 'skip';
  /** The triples map being compiled, for error messages. */
  triplesMap?: string;
}

const EMPTY: unknown[] = [];
// Local bindings: imported functions reached through module getters cost a call each on the per-message path.
const lexicalOf = lexical;
const iriSafeOf = iriSafe;
const uriSafeOf = uriSafe;

/** Short name of a node for error messages. */
export function show(t: Term): string {
  return t.termType === 'NamedNode' ? `<${t.value}>` : t.termType === 'BlankNode' ? `_:${t.value}` : `"${t.value}"`;
}

export function objects(store: Store, s: Term, p: string): Term[] {
  return store.getObjects(s as never, namedNode(p), null) as Term[];
}

export function single(store: Store, s: Term, p: string): Term | undefined {
  const os = objects(store, s, p);
  if (os.length > 1) throw new MappingError(`${show(s)} has ${os.length} values for <${p}>; one is allowed`, { term: show(s) });
  return os[0];
}

/** A ValueGen that may also expose `one`: the single value of a single-valued reference (the fast path). */
export type ReferenceGen = ValueGen & { one?: (record: unknown) => unknown };

function scalarOnly(ref: string, v: unknown): void {
  if (typeof v === 'object' && v !== null) {
    throw new MappingError(`Reference '${ref}' selects ${Array.isArray(v) ? 'an array' : 'an object'}, not a value`, { term: ref }, {}, 'mapping-failed');
  }
}

/** Compiles an rml:reference for the logical source's reference formulation into a ValueGen. */
export function compileReference(ref: string, ctx: Pick<CompileContext, 'formulation' | 'namespaces' | 'nulls'>): ReferenceGen {
  const gen = compileRawReference(ref, ctx);
  const nulls = ctx.nulls;
  if (!nulls || nulls.size === 0) return gen;
  // RML-IO rml:null: these values of the source stand for no value (CSV cells already are null from the parse).
  const isNull = (v: unknown): boolean => typeof v === 'string' && nulls.has(v);
  const wrapped: ReferenceGen = (rec, run) => gen(rec, run).filter((v) => !isNull(v));
  const one = gen.one;
  if (one) wrapped.one = (rec) => {
    const v = one(rec);
    return isNull(v) ? null : v;
  };
  return wrapped;
}

function compileRawReference(ref: string, ctx: Pick<CompileContext, 'formulation' | 'namespaces'>): ReferenceGen {
  if (ctx.formulation === 'xpath') {
    // XPath references are relative to the iterated node; every selected node's string value is a value.
    const x = compileXPath(ref, ctx.namespaces);
    return (rec: unknown) => x.values(rec as XmlNode);
  }
  if (ctx.formulation === 'csv') {
    const one = (rec: unknown): unknown => {
      const v = (rec as Record<string, unknown>)[ref];
      if (v === undefined) throw new MappingError(`The CSV source has no column '${ref}'`, { term: ref }, {}, 'mapping-failed');
      return v;
    };
    return Object.assign((rec: unknown) => {
      const v = one(rec);
      return v === null ? EMPTY : [v];
    }, { one });
  }
  // Legacy mapfiles write relative references ("Name", "a.b"); RML-Core writes JSONPath ("$.Name").
  let path;
  if (ref.startsWith('$') || ref.startsWith('@')) path = compileJsonPath(ref);
  else {
    try {
      path = compileJsonPath(`$.${ref}`);
    } catch {
      path = compileJsonPath(`$['${ref.replace(/['\\]/g, '\\$&')}']`);
    }
  }
  const p = path;
  if (!p.multi) {
    const one = (rec: unknown): unknown => {
      const v = p.one(rec);
      if (v !== undefined && v !== null) scalarOnly(ref, v);
      return v;
    };
    return Object.assign((rec: unknown) => {
      const v = one(rec);
      return v === undefined || v === null ? EMPTY : [v];
    }, { one });
  }
  return (rec) => {
    const out = p.all(rec).filter((v) => v !== undefined && v !== null);
    for (const v of out) scalarOnly(ref, v);
    return out;
  };
}

/** Template values in IRIs are IRI-safe (rml:IRI) or URI-safe (rml:URI); in literals and unsafe IRIs, kept as they are. */
type Encoding = 'iri' | 'uri' | 'none';

function compileTemplate(template: string, encode: Encoding, ctx: CompileContext): ValueGen {
  const parts = parseTemplate(template).map((p) => ('ref' in p ? compileReference(p.ref, ctx) : p.text));
  const str = encode === 'iri' ? (v: unknown): string => iriSafeOf(lexicalOf(v)) : encode === 'uri' ? (v: unknown): string => uriSafeOf(lexicalOf(v)) : lexicalOf;
  if (parts.every((p) => typeof p === 'string' || p.one)) {
    // Every reference is single-valued: one string, built without intermediate arrays (the per-message hot path).
    const ones = parts.map((p) => (typeof p === 'string' ? p : p.one!));
    return (rec) => {
      let out = '';
      for (let i = 0; i < ones.length; i += 1) {
        const part = ones[i]!;
        if (typeof part === 'string') out += part;
        else {
          const v = part(rec);
          if (v === undefined || v === null) return EMPTY;
          out += str(v);
        }
      }
      return [out];
    };
  }
  return (rec, run) => {
    let acc = [''];
    for (const part of parts) {
      if (typeof part === 'string') {
        for (let i = 0; i < acc.length; i += 1) acc[i] += part;
        continue;
      }
      const values = part(rec, run);
      if (values.length === 0) return EMPTY;
      const next: string[] = [];
      for (const a of acc) for (const v of values) next.push(a + str(v));
      acc = next;
    }
    return acc;
  };
}

/** Reads the expression of a term map: exactly one of constant, reference, template or function execution. */
function compileValues(node: Term, termType: TermType, ctx: CompileContext, compileFunction: FunctionCompiler, uri = false): { values?: ValueGen; kind: string; constant?: Term } {
  const { store } = ctx;
  const constant = single(store, node, rml('constant'));
  const reference = single(store, node, rml('reference'));
  const template = single(store, node, rml('template'));
  const fn = single(store, node, rml('functionExecution')) ?? single(store, node, rml('functionValue'));
  const given = [constant, reference, template, fn].filter(Boolean).length;
  if (given > 1) throw new MappingError(`Term map ${show(node)} has more than one of rml:constant, rml:reference, rml:template, function`, { term: show(node) });
  if (constant) return { kind: 'constant', constant, values: () => [constant] };
  if (reference) {
    if (reference.termType !== 'Literal') throw new MappingError(`rml:reference of ${show(node)} must be a string`, { term: show(reference) });
    return { kind: 'reference', values: compileReference(reference.value, ctx) };
  }
  if (template) {
    if (template.termType !== 'Literal') throw new MappingError(`rml:template of ${show(node)} must be a string`, { term: show(template) });
    return { kind: 'template', values: compileTemplate(template.value, termType !== 'IRI' ? 'none' : uri ? 'uri' : 'iri', ctx) };
  }
  if (fn) return { kind: 'function', values: compileFunction(fn, ctx) };
  return { kind: 'none' };
}

export type FunctionCompiler = (node: Term, ctx: CompileContext) => ValueGen;

/** A ValueGen for any term map used as a plain value (join conditions, function inputs, datatype/language maps). */
export function compileValueMap(node: Term, ctx: CompileContext, compileFunction: FunctionCompiler): ValueGen {
  const { values } = compileValues(node, 'Literal', ctx, compileFunction);
  if (!values) throw new MappingError(`Term map ${show(node)} has no rml:constant, rml:reference, rml:template or function`, { term: show(node) });
  return values;
}

/**
 * Compiles a term map at a position (RML-Core "Term maps"): default term types, the checks the spec makes (no literal
 * subjects or graphs, predicates are IRIs, a constant agrees with an explicit term type, valid language tags), and the
 * conversion of values into terms (IRI-safe templates, base IRI, natural datatypes, language and datatype maps).
 */
export function compileTermMap(node: Term, position: Position, ctx: CompileContext, compileFunction: FunctionCompiler): TermGen {
  const { store } = ctx;
  const tt = single(store, node, rml('termType'));
  const language = single(store, node, rml('language'));
  const languageMap = single(store, node, rml('languageMap'));
  const datatype = single(store, node, rml('datatype'));
  const datatypeMap = single(store, node, rml('datatypeMap'));
  const hasLiteralHints = Boolean(language || languageMap || datatype || datatypeMap);
  const explicit = tt ? (tt.value.startsWith(rml('')) ? tt.value.slice(rml('').length) : tt.value) : undefined;
  if (explicit && !['IRI', 'UnsafeIRI', 'BlankNode', 'Literal', 'URI', 'UnsafeURI'].includes(explicit)) {
    throw new MappingError(`Unknown rml:termType ${show(tt!)}`, { term: show(tt!) });
  }
  const peek = { constant: single(store, node, rml('constant')), reference: single(store, node, rml('reference')), fn: single(store, node, rml('functionExecution')) ?? single(store, node, rml('functionValue')) };
  let termType: TermType;
  // rml:URI is an IRI whose template values are URI-safe; rml:UnsafeURI, like rml:UnsafeIRI, keeps them as they are.
  const uri = explicit === 'URI' || explicit === 'UnsafeURI';
  if (explicit) termType = explicit === 'URI' ? 'IRI' : explicit === 'UnsafeURI' ? 'UnsafeIRI' : (explicit as TermType);
  else if (peek.constant) termType = peek.constant.termType === 'Literal' ? 'Literal' : peek.constant.termType === 'BlankNode' ? 'BlankNode' : 'IRI';
  else if (position === 'object' && (peek.reference || peek.fn || hasLiteralHints)) termType = 'Literal';
  else if (position === 'value') termType = 'Literal';
  else termType = 'IRI';

  const where = `${position} map ${show(node)}${ctx.triplesMap ? ` of triples map ${ctx.triplesMap}` : ''}`;
  if (position === 'subject' && termType === 'Literal') throw new MappingError(`A subject map cannot generate literals (${where})`, { term: show(tt ?? node) });
  if (position === 'predicate' && termType !== 'IRI' && termType !== 'UnsafeIRI') throw new MappingError(`A predicate map must generate IRIs (${where})`, { term: show(tt ?? node) });
  if (position === 'graph' && termType !== 'IRI' && termType !== 'UnsafeIRI') throw new MappingError(`A graph map must generate IRIs (${where})`, { term: show(tt ?? node) });
  if (position === 'datatype' && termType !== 'IRI') throw new MappingError(`A datatype map must generate IRIs (${where})`, { term: show(tt ?? node) });
  if (hasLiteralHints && termType !== 'Literal') throw new MappingError(`rml:language/rml:datatype need a literal term type (${where})`, { term: show(node) });
  if (language && datatype) throw new MappingError(`A term map cannot have both a language and a datatype (${where})`, { term: show(node) });
  if (language && (language.termType !== 'Literal' || !isLanguageTag(language.value))) {
    throw new MappingError(`Invalid language tag ${show(language)} (${where})`, { term: show(language) });
  }
  if (datatype && datatype.termType !== 'NamedNode') throw new MappingError(`rml:datatype must be an IRI (${where})`, { term: show(datatype) });

  const { values, constant, kind } = compileValues(node, termType, ctx, compileFunction, uri);
  if (constant) {
    const want = termType === 'UnsafeIRI' ? 'IRI' : termType;
    const is = constant.termType === 'NamedNode' ? 'IRI' : constant.termType;
    if (tt && is !== want) throw new MappingError(`Constant ${show(constant)} is not a ${termType} (${where})`, { term: show(constant) });
    if ((position === 'subject' || position === 'graph' || position === 'predicate') && constant.termType === 'Literal') {
      throw new MappingError(`A ${position} map cannot have the literal constant ${show(constant)}`, { term: show(constant) });
    }
    if (position === 'graph' && constant.value === rml('defaultGraph')) {
      const g = [defaultGraph()];
      return () => g;
    }
    const c = [constant];
    return () => c;
  }
  if (!values) {
    if (termType === 'BlankNode' && (position === 'subject' || position === 'object')) return () => [blankNode()];
    throw new MappingError(`Term map ${show(node)} has no rml:constant, rml:reference, rml:template or function`, { term: show(node) });
  }
  const base = ctx.base;
  const skipDataErrors = ctx.dataErrors === 'skip';
  const natural = !ctx.legacy && (kind === 'reference' || kind === 'function');
  const langGen = languageMap ? compileValueMap(languageMap, ctx, compileFunction) : undefined;
  // A datatype map generates IRIs: IRI-safe template values, relative values resolved against the base IRI.
  const dtGen = datatypeMap ? compileTermMap(datatypeMap, 'datatype', ctx, compileFunction) : undefined;
  const lang = language?.value;
  const dt = datatype as NamedNode | undefined;

  if (kind === 'template' && termType === 'IRI') {
    // IRI-safe values are only unreserved characters and %XX, so a template whose text parts are valid IRI text and
    // begin with a scheme always yields a valid absolute IRI: no per-message validation or base resolution needed.
    // Each text part is checked alone (conservatively: a '%' or iprivate text part takes the checked path below).
    const parts = parseTemplate(single(store, node, rml('template'))!.value);
    const first = parts[0];
    const validText = parts.every((p) => !('text' in p) || iriProblem(`x:${p.text}`) === undefined);
    if (first && 'text' in first && /^[A-Za-z][A-Za-z0-9+.-]*:/.test(first.text) && validText) {
      return (rec, run) => {
        const vs = values(rec, run);
        if (vs.length === 1) return [namedNode(vs[0] as string)];
        return vs.map((v) => namedNode(v as string));
      };
    }
  }
  return (rec, run) => {
    const vs = values(rec, run);
    if (vs.length === 0) return vs as Term[];
    const out: Term[] = [];
    for (const v of vs) {
      if (termType === 'IRI' || termType === 'UnsafeIRI') {
        if (isTerm(v) && v.termType === 'NamedNode') out.push(v);
        else {
          if (!skipDataErrors) out.push(namedNode(resolveIri(lexical(v), base, where, termType === 'IRI')));
          else {
            try {
              out.push(namedNode(resolveIri(lexical(v), base, where, termType === 'IRI')));
            } catch (e) {
              if (!(e instanceof MappingError) || e.code !== 'invalid-iri') throw e;
            }
          }
        }
      } else if (termType === 'BlankNode') {
        out.push(isTerm(v) && v.termType === 'BlankNode' ? v : blankNode(blankLabel(lexical(v))));
      } else {
        const l = lang ?? (langGen ? langGen(rec, run)[0] : undefined);
        if (l !== undefined) {
          const tag = lexical(l);
          if (!isLanguageTag(tag)) throw new MappingError(`Invalid language tag '${tag}' from ${show(languageMap!)}`, { term: tag }, {}, 'mapping-failed');
          out.push(literal(lexical(v), tag));
          continue;
        }
        const d = dt ?? (dtGen ? dtGen(rec, run).map((x) => (isTerm(x) ? x.value : lexical(x)))[0] : undefined);
        if (d !== undefined) out.push(literal(lexical(v), typeof d === 'string' ? namedNode(d) : d));
        else if (isTerm(v) && v.termType === 'Literal') out.push(v);
        else out.push(natural ? naturalLiteral(v) : literal(lexical(v)));
      }
    }
    return out;
  };
}
