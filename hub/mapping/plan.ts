// The compiled form of a mapfile and its execution: records per logical source -> RDF/JS quads (n3 DataFactory).
import { DataFactory } from 'n3';
import type { NamedNode, Quad, Quad_Graph, Quad_Object, Quad_Predicate, Quad_Subject, Term } from '@rdfjs/types';
import { MappingError } from '../errors.ts';
import type { CsvDialect } from './csv.ts';
import { FILE_LIMITS, type CompiledPath } from './jsonpath.ts';
import type { Compression } from './source-bytes.ts';
import type { CompiledXPath, XmlNode } from './xml.ts';
import { lexical } from './terms.ts';

const { quad, defaultGraph, namedNode } = DataFactory;
const RDF_TYPE = namedNode('http://www.w3.org/1999/02/22-rdf-syntax-ns#type');

/** Per-run state: records of each logical source (evaluated once) and join indexes. */
export interface RunContext {
  records(source: SourcePlan): unknown[];
  joinIndex(ref: RefObjectPlan): Map<string, Term[]>;
}

/** Raw values of an expression (JSON scalars, CSV cells, strings, or RDF/JS terms for constants). */
export type ValueGen = (record: unknown, ctx: RunContext) => unknown[];
/** Terms of a term map for one record; empty when a value is missing or not a valid term (a data error). */
export type TermGen = (record: unknown, ctx: RunContext) => Term[];

export interface SourcePlan {
  /** Identity of the logical source: same key = same records (joins without conditions need it). */
  key: string;
  kind: 'file' | 'message';
  /** File sources: path as written, and whether it is relative to the mapping file or the working directory. */
  path?: string;
  root?: 'mapping' | 'cwd';
  formulation: 'jsonpath' | 'csv' | 'xpath';
  iterator?: CompiledPath;
  /** rml:XPath sources: the iterator and the prefixes of rml:namespace declarations. */
  xpathIterator?: CompiledXPath;
  namespaces?: Record<string, string>;
  /** File sources: how to read the bytes (RML-IO encoding, compression, nulls, CSVW dialect). */
  io?: SourceIo;
  /** hub:CurrentMessage with a `$[?(...)]` iterator: the filter applies to the envelope, not to its members. */
  envelopeFilter?: boolean;
}

/** RML-IO access description of a file source (https://w3id.org/rml/io/spec). */
export interface SourceIo {
  encoding?: string;
  compression: Compression;
  dialect: CsvDialect;
}

export interface JoinPlan {
  child: ValueGen;
  parent: ValueGen;
}

export interface RefObjectPlan {
  parentId: string;
  parent?: TriplesMapPlan;
  joins: JoinPlan[];
}

export interface PomPlan {
  predicates: TermGen[];
  objects: TermGen[];
  refs: RefObjectPlan[];
  graphs: TermGen[];
}

export interface TriplesMapPlan {
  id: string;
  source: SourcePlan;
  subject: TermGen;
  classes: NamedNode[];
  graphs: TermGen[];
  poms: PomPlan[];
}

/** Cartesian product of join values, each as a string key. */
function joinKeys(gens: ValueGen[], side: 'child' | 'parent', record: unknown, ctx: RunContext): string[] {
  let keys = [''];
  for (let i = 0; i < gens.length; i += 1) {
    const values = gens[i]!(record, ctx);
    if (values.length === 0) return [];
    const next: string[] = [];
    for (const k of keys) for (const v of values) next.push(i === 0 ? lexical(v) : `${k}\u0000${lexical(v)}`);
    keys = next;
  }
  void side;
  return keys;
}

/**
 * A compiled mapfile (RML-Core execution, https://w3id.org/rml/core/spec "Generating RDF"). Immutable and reusable:
 * one instance serves every message of every Thing that uses the mapfile.
 */
export class MappingPlan {
  constructor(
    readonly triplesMaps: TriplesMapPlan[],
    readonly sources: SourcePlan[],
  ) {}

  /** Whether the plan reads only `hub:CurrentMessage` (the per-message case). */
  get perMessage(): boolean {
    return this.sources.every((s) => s.kind === 'message');
  }

  /**
   * Runs the plan. `load` returns the parsed document of a source (JSON value, CSV rows as objects, or an XML
   * document node). Throws
   * MappingError (code mapping-failed) on a data error that the spec makes fatal; never returns a partial result then.
   */
  run(load: (source: SourcePlan) => unknown): Quad[] {
    const recordCache = new Map<SourcePlan, unknown[]>();
    const joinCache = new Map<RefObjectPlan, Map<string, Term[]>>();
    const ctx: RunContext = {
      records(source) {
        let r = recordCache.get(source);
        if (!r) {
          const doc = load(source);
          if (source.formulation === 'csv') r = doc as unknown[];
          else if (source.formulation === 'xpath') r = source.xpathIterator!.nodes(doc as XmlNode);
          else if (!source.iterator) r = [doc];
          // A filter iterator on hub:CurrentMessage (`$[?(@.payload.address == '/euler')]`) tests the envelope itself:
          // the triples map runs only for messages that pass, and its records still see $.meta and $.payload.
          else if (source.kind === 'message') r = source.envelopeFilter ? source.iterator.all([doc]) : source.iterator.all(doc);
          else r = source.iterator.all(doc, FILE_LIMITS);
          recordCache.set(source, r);
        }
        return r;
      },
      joinIndex(ref) {
        let index = joinCache.get(ref);
        if (!index) {
          index = new Map();
          const parent = ref.parent!;
          const parentGens = ref.joins.map((j) => j.parent);
          for (const rec of ctx.records(parent.source)) {
            const subjects = parent.subject(rec, ctx);
            if (subjects.length === 0) continue;
            for (const key of joinKeys(parentGens, 'parent', rec, ctx)) {
              const list = index.get(key);
              if (list) list.push(...subjects);
              else index.set(key, [...subjects]);
            }
          }
          joinCache.set(ref, index);
        }
        return index;
      },
    };
    const out: Quad[] = [];
    for (const tm of this.triplesMaps) this.runTriplesMap(tm, ctx, out);
    return out;
  }

  /** Runs the plan on one `{meta, payload}` envelope, the `hub:CurrentMessage` source. */
  mapMessage(message: unknown): Quad[] {
    return this.run((source) => {
      if (source.kind !== 'message') {
        throw new MappingError(`Logical source '${source.path ?? source.key}' is a file; only hub:CurrentMessage is available per message`, { term: source.path }, {}, 'mapping-failed');
      }
      return message;
    });
  }

  private runTriplesMap(tm: TriplesMapPlan, ctx: RunContext, out: Quad[]): void {
    const records = ctx.records(tm.source);
    for (let r = 0; r < records.length; r += 1) {
      const rec = records[r];
      const subjects = tm.subject(rec, ctx);
      if (subjects.length === 0) continue;
      const tmGraphs = graphsOf(tm.graphs, rec, ctx);
      for (const s of subjects as Quad_Subject[]) {
        for (const c of tm.classes) emit(out, s, RDF_TYPE, c, tmGraphs);
        for (const pom of tm.poms) {
          const graphs = pom.graphs.length ? mergeGraphs(tmGraphs, graphsOf(pom.graphs, rec, ctx)) : tmGraphs;
          if (graphs.length === 0) continue;
          // One predicate map and one object map is the common case: use their arrays as they are (never mutated).
          let predicates: Term[];
          if (pom.predicates.length === 1) predicates = pom.predicates[0]!(rec, ctx);
          else {
            predicates = [];
            for (const p of pom.predicates) predicates.push(...p(rec, ctx));
          }
          if (predicates.length === 0) continue;
          let objects: Term[];
          if (pom.objects.length === 1 && pom.refs.length === 0) objects = pom.objects[0]!(rec, ctx);
          else {
            objects = [];
            for (const o of pom.objects) objects.push(...o(rec, ctx));
            for (const ref of pom.refs) objects.push(...this.refObjects(ref, tm, rec, ctx));
          }
          for (const p of predicates as Quad_Predicate[]) for (const o of objects as Quad_Object[]) emit(out, s, p, o, graphs);
        }
      }
    }
  }

  private refObjects(ref: RefObjectPlan, child: TriplesMapPlan, rec: unknown, ctx: RunContext): Term[] {
    const parent = ref.parent!;
    if (ref.joins.length === 0) {
      // Same logical source (RML-Core "referencing object map" without join): the parent's subject on this record.
      if (parent.source.key === child.source.key) return parent.subject(rec, ctx);
      const all: Term[] = [];
      for (const prec of ctx.records(parent.source)) all.push(...parent.subject(prec, ctx));
      return all;
    }
    const index = ctx.joinIndex(ref);
    const found: Term[] = [];
    for (const key of joinKeys(ref.joins.map((j) => j.child), 'child', rec, ctx)) {
      const hit = index.get(key);
      if (hit) found.push(...hit);
    }
    return found;
  }
}

const DEFAULT_ONLY: Quad_Graph[] = [defaultGraph()];

/** Graphs of a set of graph maps; no graph map = the default graph. */
function graphsOf(gens: TermGen[], rec: unknown, ctx: RunContext): Quad_Graph[] {
  if (gens.length === 0) return DEFAULT_ONLY;
  const out: Quad_Graph[] = [];
  for (const g of gens) out.push(...(g(rec, ctx) as Quad_Graph[]));
  return out;
}

/** Subject-map graphs and predicate-object-map graphs together (R2RML/RML: the union of both sets). */
function mergeGraphs(a: Quad_Graph[], b: Quad_Graph[]): Quad_Graph[] {
  if (a === DEFAULT_ONLY) return b;
  return [...a, ...b];
}

function emit(out: Quad[], s: Quad_Subject, p: Quad_Predicate, o: Quad_Object, graphs: Quad_Graph[]): void {
  for (let g = 0; g < graphs.length; g += 1) out.push(quad(s, p, o, graphs[g]));
}
