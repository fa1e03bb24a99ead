// Compiles a parsed mapfile into a MappingPlan: triples maps, logical sources, predicate-object maps, joins, functions.
import { DataFactory, Store } from 'n3';
import type { NamedNode, Term } from '@rdfjs/types';
import { MappingError } from '../errors.ts';
import { compileTermMap, compileValueMap, objects, show, single, type CompileContext, type FunctionCompiler } from './compile-term-map.ts';
import { builtinFunctions, type FunctionRegistry } from './functions.ts';
import { compileSource } from './compile-source.ts';
import { parseMapping, type MappingFormat, type ParsedMapping } from './parse.ts';
import { MappingPlan, type JoinPlan, type PomPlan, type RefObjectPlan, type SourcePlan, type TriplesMapPlan, type ValueGen } from './plan.ts';
import { isTerm, lexical } from './terms.ts';
import { RDF, rml } from './vocab.ts';

const { namedNode } = DataFactory;

export interface CompileOptions {
  /** Base IRI for relative IRIs the mapping generates (RML-Core "base IRI"); defaults to the document's @base. */
  baseIri?: string;
  functions?: FunctionRegistry;
  /** Reject file sources: in the hub a mapfile may only read hub:CurrentMessage. */
  perMessageOnly?: boolean;
  /** Reject rml: predicates this engine does not know or does not implement (typos, RML-CC/RML-LV features). */
  strictVocabulary?: boolean;
  /** Data errors (values that make no valid IRI): `fail` (default, MappingError `invalid-iri`) or `skip` the term. */
  dataErrors?: 'fail' | 'skip';
}

/** RML predicates the engine reads (RML-Core, RML-FNML, the sources it implements) or may safely ignore. */
const KNOWN = new Set(
  ('logicalSource source iterator referenceFormulation path root subjectMap subject predicateObjectMap predicateMap predicate ' +
    'objectMap object graphMap graph template reference constant termType class datatype datatypeMap language languageMap ' +
    'parentTriplesMap joinCondition child parent childMap parentMap baseIRI functionExecution function functionMap input ' +
    'parameter parameterMap inputValue inputValueMap return returnMap functionValue fnoExecutes encoding null compression ' +
    'namespace namespacePrefix namespaceURL').split(' '),
);
/** RML predicates of modules this engine does not implement: refused rather than silently ignored. */
const UNSUPPORTED = new Set('gather gatherAs strategy cartesianProduct allowEmptyListAndContainer logicalTarget target serialization sqlQuery tableName query sqlVersion logicalIterable'.split(' '));

function* checkVocabulary(store: Store): Generator<void, void, void> {
  let n = 0;
  // readQuads iterates lazily: getQuads would build every quad object of the store in one go (~50-130 ms at 20k here).
  for (const q of store.readQuads(null, null, null, null)) {
    if ((n += 1) % 500 === 0) yield;
    const p = q.predicate.value;
    if (!p.startsWith(rml(''))) continue;
    const local = p.slice(rml('').length);
    if (UNSUPPORTED.has(local)) throw new MappingError(`rml:${local} is not supported by the hub's RML engine`, { term: `rml:${local}` });
    if (!KNOWN.has(local)) throw new MappingError(`Unknown RML term rml:${local}`, { term: `rml:${local}` });
  }
}

let defaultFunctions: FunctionRegistry | undefined;

/** Parses, normalises, checks and compiles a mapfile; throws MappingError naming the offending term. */
export function compileMapping(text: string, format: MappingFormat = 'turtle', options: CompileOptions = {}): MappingPlan {
  return compileParsed(parseMapping(text, format), options);
}

export function compileParsed(parsed: ParsedMapping, options: CompileOptions = {}): MappingPlan {
  const steps = compileSteps(parsed, options);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * compileParsed for uploads: the same compilation, giving the event loop back whenever a slice has run `sliceMs`
 * (a 20,000-triple mapfile is ~0.5 s of work on this machine; no single slice may hold the loop that long).
 */
export async function compileParsedSliced(parsed: ParsedMapping, options: CompileOptions = {}, sliceMs = 10): Promise<MappingPlan> {
  const steps = compileSteps(parsed, options);
  let sliceStart = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - sliceStart > sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** Most nested function executions (a function whose input is a function ...): deeper is a typed error, not a stack overflow. */
export const MAX_FUNCTION_DEPTH = 32;

/** The compilation as a sequence of small steps (it yields between triples maps, predicate-object maps and checks). */
function* compileSteps(parsed: ParsedMapping, options: CompileOptions): Generator<void, MappingPlan, void> {
  const { store } = parsed;
  if (options.strictVocabulary) yield* checkVocabulary(store);
  const functions = options.functions ?? (defaultFunctions ??= builtinFunctions());
  const sources = new Map<string, SourcePlan>();
  const ids = new Set<string>();
  for (const q of store.getQuads(null, namedNode(`${RDF}type`), namedNode(rml('TriplesMap')), null)) ids.add(termKey(q.subject));
  for (const p of ['subjectMap', 'subject']) for (const q of store.getQuads(null, namedNode(rml(p)), null, null)) ids.add(termKey(q.subject));
  const nodes = new Map<string, Term>();
  let n = 0;
  for (const q of store.readQuads(null, null, null, null)) {
    if (ids.has(termKey(q.subject))) nodes.set(termKey(q.subject), q.subject);
    if ((n += 1) % 500 === 0) yield;
  }
  if (nodes.size === 0) throw new MappingError('The mapfile defines no rml:TriplesMap', {});

  let depth = 0;
  const compileFunction: FunctionCompiler = (node, ctx) => {
    if (depth >= MAX_FUNCTION_DEPTH) throw new MappingError(`Function executions are nested more than ${MAX_FUNCTION_DEPTH} deep`, { term: show(node) }, {}, 'mapfile-too-deep');
    depth += 1;
    try {
      return compileFunctionExecution(node, ctx, functions, compileFunction);
    } finally {
      depth -= 1;
    }
  };
  const plans: TriplesMapPlan[] = [];
  for (const [id, node] of nodes) {
    const ls = single(store, node, rml('logicalSource'));
    if (!ls) throw new MappingError(`Triples map ${show(node)} has no rml:logicalSource`, { term: show(node) });
    const source = compileSource(store, ls, sources, options);
    const tmBase = single(store, node, rml('baseIRI'));
    const ctx: CompileContext = { store, legacy: parsed.legacy, base: tmBase?.value ?? options.baseIri ?? parsed.documentBase, formulation: source.formulation, namespaces: source.namespaces, nulls: source.io?.dialect.nulls.length ? new Set(source.io.dialect.nulls) : undefined, functions, dataErrors: options.dataErrors, triplesMap: show(node) };
    const subjectMaps = objects(store, node, rml('subjectMap'));
    const subjectShortcut = objects(store, node, rml('subject'));
    if (subjectMaps.length + subjectShortcut.length === 0) throw new MappingError(`Triples map ${show(node)} has no subject map`, { term: show(node) });
    if (subjectMaps.length + subjectShortcut.length > 1) throw new MappingError(`Triples map ${show(node)} has more than one subject map`, { term: show(node) });
    const sm = subjectMaps[0];
    const subject = sm ? compileTermMap(sm, 'subject', ctx, compileFunction) : constantGen(subjectShortcut[0]!, 'subject');
    const classes = sm ? objects(store, sm, rml('class')) : [];
    for (const c of classes) if (c.termType !== 'NamedNode') throw new MappingError(`rml:class ${show(c)} is not an IRI`, { term: show(c) });
    const graphs = sm ? compileGraphs(sm, ctx, compileFunction) : [];
    const poms: PomPlan[] = [];
    for (const pom of objects(store, node, rml('predicateObjectMap'))) {
      poms.push(compilePom(pom, ctx, compileFunction));
      yield;
    }
    plans.push({ id, source, subject, classes: classes as NamedNode[], graphs, poms });
  }
  const byId = new Map(plans.map((p) => [p.id, p]));
  for (const tm of plans) {
    for (const pom of tm.poms) {
      for (const ref of pom.refs) {
        ref.parent = byId.get(ref.parentId);
        if (!ref.parent) throw new MappingError(`rml:parentTriplesMap ${ref.parentId} is not a triples map of this mapfile`, { term: ref.parentId });
      }
    }
  }
  return new MappingPlan(plans, [...sources.values()]);
}

function termKey(t: Term): string {
  return t.termType === 'BlankNode' ? `_:${t.value}` : `<${t.value}>`;
}

function constantGen(c: Term, position: string): () => Term[] {
  if (c.termType === 'Literal' && position !== 'object') throw new MappingError(`A ${position} cannot be the literal ${show(c)}`, { term: show(c) });
  const out = [c];
  return () => out;
}

function compileGraphs(node: Term, ctx: CompileContext, fc: FunctionCompiler) {
  return [
    ...objects(ctx.store, node, rml('graphMap')).map((g) => compileTermMap(g, 'graph', ctx, fc)),
    ...objects(ctx.store, node, rml('graph')).map((g) => {
      // Legacy test RMLTC0007h expects no output (not an error) for `rr:graph [ ... ]`: such triples go nowhere.
      if (g.termType === 'BlankNode' && ctx.legacy) return () => [];
      if (g.termType !== 'NamedNode') throw new MappingError(`rml:graph ${show(g)} must be an IRI`, { term: show(g) });
      if (g.value === rml('defaultGraph')) {
        const d = [DataFactory.defaultGraph()];
        return () => d;
      }
      return constantGen(g, 'graph');
    }),
  ];
}

function compilePom(pom: Term, ctx: CompileContext, fc: FunctionCompiler): PomPlan {
  const { store } = ctx;
  const predicates = [
    ...objects(store, pom, rml('predicateMap')).map((p) => compileTermMap(p, 'predicate', ctx, fc)),
    ...objects(store, pom, rml('predicate')).map((p) => {
      if (p.termType !== 'NamedNode') throw new MappingError(`rml:predicate ${show(p)} must be an IRI`, { term: show(p) });
      return constantGen(p, 'predicate');
    }),
  ];
  if (predicates.length === 0) throw new MappingError(`Predicate-object map ${show(pom)} has no predicate`, { term: show(pom) });
  const objectsOut = [];
  const refs: RefObjectPlan[] = [];
  for (const om of objects(store, pom, rml('objectMap'))) {
    const parent = single(store, om, rml('parentTriplesMap'));
    if (parent) {
      const joins: JoinPlan[] = objects(store, om, rml('joinCondition')).map((jc) => ({
        child: joinSide(jc, 'child', ctx, fc),
        parent: joinSide(jc, 'parent', ctx, fc),
      }));
      refs.push({ parentId: termKey(parent), joins });
    } else objectsOut.push(compileTermMap(om, 'object', ctx, fc));
  }
  for (const o of objects(store, pom, rml('object'))) objectsOut.push(constantGen(o, 'object'));
  if (objectsOut.length + refs.length === 0) throw new MappingError(`Predicate-object map ${show(pom)} has no object`, { term: show(pom) });
  return { predicates, objects: objectsOut, refs, graphs: compileGraphs(pom, ctx, fc) };
}

/** A join side: rml:child "ref" / rml:parent "ref" (shortcut references) or rml:childMap / rml:parentMap term maps. */
function joinSide(jc: Term, side: 'child' | 'parent', ctx: CompileContext, fc: FunctionCompiler): ValueGen {
  const short = single(ctx.store, jc, rml(side));
  const map = single(ctx.store, jc, rml(`${side}Map`));
  if (short && map) throw new MappingError(`Join condition ${show(jc)} has both rml:${side} and rml:${side}Map`, { term: show(jc) });
  if (short) {
    if (short.termType !== 'Literal') throw new MappingError(`rml:${side} of ${show(jc)} must be a string`, { term: show(short) });
    return compileValueMap(namedNode('urn:join'), { ...ctx, store: referenceStore(short.value) }, fc);
  }
  if (map) return compileValueMap(map, ctx, fc);
  throw new MappingError(`Join condition ${show(jc)} has no rml:${side}`, { term: show(jc) });
}

/** A one-triple store `<urn:join> rml:reference "ref"` so that a join shortcut compiles like any reference-valued map. */
function referenceStore(ref: string): Store {
  const store = new Store();
  store.addQuad(namedNode('urn:join'), namedNode(rml('reference')), DataFactory.literal(ref));
  return store;
}

/**
 * RML-FNML function execution (https://w3id.org/rml/fnml/spec): rml:function (or rml:functionMap) and rml:input with
 * rml:parameter + rml:inputValueMap / rml:inputValue; legacy fnml:functionValue nodes use predicate-object maps with
 * fno:executes. Unknown functions are compile errors naming the function IRI.
 */
function compileFunctionExecution(node: Term, ctx: CompileContext, functions: FunctionRegistry, fc: FunctionCompiler): ValueGen {
  const { store } = ctx;
  let fnIri: string | undefined = single(store, node, rml('function'))?.value;
  const fnMap = single(store, node, rml('functionMap'));
  if (!fnIri && fnMap) fnIri = single(store, fnMap, rml('constant'))?.value;
  const inputs = new Map<string, ValueGen>();
  for (const input of objects(store, node, rml('input'))) {
    const param = single(store, input, rml('parameter')) ?? single(store, single(store, input, rml('parameterMap')) ?? namedNode('urn:none'), rml('constant'));
    if (!param) throw new MappingError(`Function input ${show(input)} has no rml:parameter`, { term: show(input) });
    const vm = single(store, input, rml('inputValueMap'));
    const v = single(store, input, rml('inputValue'));
    if (vm) inputs.set(param.value, compileValueMap(vm, ctx, fc));
    else if (v) inputs.set(param.value, () => [v]);
    else throw new MappingError(`Function input ${show(input)} has no rml:inputValueMap`, { term: show(input) });
  }
  // Legacy FnO: the function node is a triples-map-like node whose predicate-object maps bind fno:executes and parameters.
  for (const pom of objects(store, node, rml('predicateObjectMap'))) {
    const preds = [...objects(store, pom, rml('predicate')), ...objects(store, pom, rml('predicateMap')).map((pm) => single(store, pm, rml('constant'))!)].filter(Boolean);
    const oms = objects(store, pom, rml('objectMap'));
    const shortcut = objects(store, pom, rml('object'));
    for (const p of preds) {
      if (p.value === rml('fnoExecutes')) {
        const c = shortcut[0] ?? (oms[0] ? single(store, oms[0], rml('constant')) : undefined);
        fnIri = c ? expandCurie(c.value, store) : undefined;
      } else if (oms[0]) inputs.set(expandCurie(p.value, store), compileValueMap(oms[0], ctx, fc));
      else if (shortcut[0]) inputs.set(expandCurie(p.value, store), () => [shortcut[0]]);
    }
  }
  if (!fnIri) throw new MappingError(`Function execution ${show(node)} names no function`, { term: show(node) });
  const fn = functions.get(fnIri);
  if (!fn) throw new MappingError(`Unknown function <${fnIri}>; register it in the FunctionRegistry`, { term: fnIri });
  for (const p of inputs.keys()) if (!fn.parameters.includes(p)) throw new MappingError(`Function <${fnIri}> has no parameter <${p}>`, { term: p });
  const gens = fn.parameters.map((p) => inputs.get(p));
  const name = fnIri;
  return (rec, run) => {
    const args = gens.map((g) => {
      if (!g) return undefined;
      const vs = g(rec, run);
      return vs.length === 0 ? undefined : vs.length === 1 ? unwrap(vs[0]) : vs.map(unwrap);
    });
    let result: unknown;
    try {
      result = fn.fn(...args);
    } catch (e) {
      if (e instanceof MappingError) throw e;
      throw new MappingError(`Function <${name}> failed: ${(e as Error).message}`, { term: name }, { cause: e }, 'mapping-failed');
    }
    if (result === undefined || result === null || (typeof result === 'number' && !Number.isFinite(result))) return [];
    return Array.isArray(result) ? result : [result];
  };
}

/** Constants reach functions as their lexical value; literals with numeric datatypes as numbers. */
function unwrap(v: unknown): unknown {
  if (!isTerm(v)) return v;
  if (v.termType === 'Literal' && /#(integer|decimal|double|float|int|long)$/.test(v.datatype.value)) return Number(v.value);
  return lexical(v);
}

/** YARRRML writes function IRIs as CURIEs in string constants ("grel:toUpperCase"); expand the known prefixes. */
function expandCurie(value: string, _store: Store): string {
  const m = /^(grel|idlab-fn|hub):(.+)$/.exec(value);
  if (!m) return value;
  const ns: Record<string, string> = {
    grel: 'http://users.ugent.be/~bjdmeest/function/grel.ttl#',
    'idlab-fn': 'https://w3id.org/imec/idlab/function#',
    hub: 'https://w3id.org/wot-hub#',
  };
  return ns[m[1]!]! + m[2]!;
}
