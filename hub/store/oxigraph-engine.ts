// Synchronous SPARQL engine over an Oxigraph in-memory store; shared by the in-process store and the store worker.
import oxigraph from 'oxigraph';
import type { GraphName, QueryForm, QueryOptions, QueryResult, UpdateOptions } from './quad-store.ts';
import { DEFAULT_GRAPH } from './quad-store.ts';

const { Store, namedNode, defaultGraph, blankNode } = oxigraph;

/** An update as the store's engines run it: the instant NOW() stands for, chosen once when the update was accepted. */
export interface EngineUpdateOptions extends UpdateOptions {
  now?: number;
}
type OxStore = InstanceType<typeof Store>;

export const SELECT_FORMATS = [
  'application/sparql-results+json',
  'application/sparql-results+xml',
  'text/csv',
  'text/tab-separated-values',
];
export const GRAPH_FORMATS = ['application/n-triples', 'text/turtle', 'application/n-quads', 'application/rdf+xml'];

/** Error raised by Oxigraph's parsers, with the position it reports ("error at 1:8: ..."). */
export class EngineSyntaxError extends Error {
  override name = 'EngineSyntaxError';
  constructor(message: string, readonly position?: { line: number; column: number }) {
    super(message);
  }
}

/** Oxigraph reports syntax errors as plain errors whose message starts with "error at L:C". */
export function toEngineError(e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  const m = /error at (\d+):(\d+)/.exec(message);
  if (m) return new EngineSyntaxError(message, { line: Number(m[1]), column: Number(m[2]) });
  if (/^(Parser error|Syntax error|Invalid|Unexpected|expected)/i.test(message)) return new EngineSyntaxError(message);
  return e instanceof Error ? e : new Error(message);
}

/** Finds the query form from the first keyword after the prologue (PREFIX/BASE declarations and comments). */
export function queryForm(sparql: string): QueryForm | undefined {
  const body = sparql
    .replace(/#[^\n\r]*/g, ' ')
    // `<[^<>\s]*>`, not `<[^>]*>`: an IRI holds no '<' or space, and the bounded class keeps this linear on any text.
    .replace(/\b(PREFIX\s+[^\s:<]*:\s*<[^<>\s]*>|BASE\s*<[^<>\s]*>)/gi, ' ');
  const m = /\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i.exec(body);
  return m ? (m[1]!.toLowerCase() as QueryForm) : undefined;
}

function graphTerm(graph: GraphName) {
  return graph === DEFAULT_GRAPH ? defaultGraph() : namedNode(graph);
}

export class OxigraphEngine {
  readonly store: OxStore = new Store();

  query(sparql: string, options: QueryOptions = {}): QueryResult {
    const form = queryForm(sparql) ?? 'select';
    const isGraph = form === 'construct' || form === 'describe';
    const contentType = options.resultFormat ?? (isGraph ? 'application/n-triples' : 'application/sparql-results+json');
    const opts: Record<string, unknown> = { results_format: contentType };
    if (options.baseIri) opts.base_iri = options.baseIri;
    if (options.defaultGraphUris?.length) opts.default_graph = options.defaultGraphUris.map((g) => namedNode(g));
    if (options.namedGraphUris?.length) opts.named_graphs = options.namedGraphUris.map((g) => namedNode(g));
    if (options.unionDefaultGraph && !options.defaultGraphUris?.length) opts.use_default_graph_as_union = true;
    try {
      const body = this.store.query(sparql, opts) as unknown as string;
      return { form, contentType, body };
    } catch (e) {
      throw toEngineError(e);
    }
  }

  /**
   * Runs a SPARQL Update. With `now` (ms since the epoch), NOW() is that instant: the WASM engine reads the clock through
   * Date.now(), which is fixed for the (synchronous) call, so every engine and every replay of the log agree on it.
   */
  update(sparql: string, options: EngineUpdateOptions = {}): void {
    const clock = Date.now;
    if (options.now !== undefined) {
      const now = options.now;
      Date.now = () => now;
    }
    try {
      this.store.update(sparql, options.baseIri ? { base_iri: options.baseIri } : undefined);
    } catch (e) {
      throw toEngineError(e);
    } finally {
      Date.now = clock;
    }
  }

  /** Loads N-Quads (text, or its UTF-8 bytes: no string crosses into WASM then); triples without a graph go to `graph`. */
  load(nquads: string | Uint8Array, graph?: GraphName): void {
    if (!nquads.length) return;
    try {
      const opts: Record<string, unknown> = { format: 'application/n-quads', lenient: true, no_transaction: true };
      if (graph !== undefined && graph !== DEFAULT_GRAPH) opts.to_graph_name = namedNode(graph);
      this.store.load(nquads as string, opts as { format: string });
    } catch (e) {
      throw toEngineError(e);
    }
  }

  hasGraph(graph: GraphName): boolean {
    if (graph === DEFAULT_GRAPH) return true;
    const g = namedNode(graph);
    return this.store.match(null, null, null, g).length > 0;
  }

  getGraph(graph: GraphName): string | undefined {
    return this.hasGraph(graph) ? this.dumpGraph(graph) : undefined;
  }

  /** The named graphs holding quads: IRIs, or blank node labels (`blank`) that only N-Quads loads can give. */
  namedGraphs(): Array<{ value: string; blank: boolean }> {
    const rows = this.store.query('SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }') as unknown as Array<Map<string, { termType: string; value: string }>>;
    const out: Array<{ value: string; blank: boolean }> = [];
    for (const row of rows) {
      const g = row.get('g');
      if (g) out.push({ value: g.value, blank: g.termType === 'BlankNode' });
    }
    return out;
  }

  /** One graph's triples as N-Triples ('' when it has none), without the existence check of getGraph. */
  dumpGraph(graph: GraphName): string {
    return this.store.dump({ format: 'application/n-triples', from_graph_name: graphTerm(graph) }) as string;
  }

  /** The triples of the graph named by blank node `label` (a graph name only N-Quads loads can give). */
  dumpBlankGraph(label: string): string {
    return this.store.dump({ format: 'application/n-triples', from_graph_name: blankNode(label) }) as string;
  }

  /** Removes every quad of the graph; returns whether it had any. */
  clearGraph(graph: GraphName): boolean {
    const existed = graph === DEFAULT_GRAPH ? this.store.match(null, null, null, defaultGraph()).length > 0 : this.hasGraph(graph);
    this.store.update(graph === DEFAULT_GRAPH ? 'CLEAR DEFAULT' : `CLEAR SILENT GRAPH <${graph}>`);
    return existed;
  }

  putGraph(graph: GraphName, ntriples: string): boolean {
    const existed = this.hasGraph(graph);
    this.validateTriples(ntriples);
    this.clearGraph(graph);
    this.loadTriples(ntriples, graph);
    return existed;
  }

  postGraph(graph: GraphName, ntriples: string): boolean {
    const existed = this.hasGraph(graph);
    this.loadTriples(ntriples, graph);
    return existed;
  }

  deleteGraph(graph: GraphName): boolean {
    return this.clearGraph(graph);
  }

  dump(): string {
    return this.store.dump({ format: 'application/n-quads' }) as string;
  }

  size(): number {
    return this.store.size;
  }

  private validateTriples(ntriples: string): void {
    // Parse into a scratch store first so that a bad body leaves the graph untouched (PUT is all-or-nothing).
    const scratch = new Store();
    try {
      scratch.load(ntriples, { format: 'application/n-triples' });
    } catch (e) {
      throw toEngineError(e);
    } finally {
      (scratch as unknown as { free(): void }).free();
    }
  }

  private loadTriples(ntriples: string, graph: GraphName): void {
    if (!ntriples) return;
    try {
      const opts: Record<string, unknown> = { format: 'application/n-triples' };
      if (graph !== DEFAULT_GRAPH) opts.to_graph_name = namedNode(graph);
      this.store.load(ntriples, opts as { format: string });
    } catch (e) {
      throw toEngineError(e);
    }
  }
}
