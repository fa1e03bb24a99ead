// The QuadStore interface: what every store implementation (embedded durable, external SPARQL endpoint) provides.
//
// Quads cross this interface as N-Quads text: the embedded store lives in a worker thread and an external store
// speaks HTTP, so text is the one representation both need anyway; parse it with n3 where RDF/JS terms are needed.

/** A named graph IRI, or DEFAULT_GRAPH for the default graph. */
export type GraphName = string | typeof DEFAULT_GRAPH;
export const DEFAULT_GRAPH: unique symbol = Symbol('default graph');

export type QueryForm = 'select' | 'ask' | 'construct' | 'describe';

export interface QueryOptions {
  /** SPARQL Protocol default-graph-uri values: the default graph is the RDF merge of these graphs. */
  defaultGraphUris?: string[];
  /** SPARQL Protocol named-graph-uri values: the only named graphs visible to the query. */
  namedGraphUris?: string[];
  /** Treat the default graph as the union of all graphs (used by internal searches). */
  unionDefaultGraph?: boolean;
  /** End the query after this long with QueryTimeoutError; defaults to the store's configured timeout. */
  timeoutMs?: number;
  /**
   * Media type of the serialised result. SELECT/ASK: application/sparql-results+json (default),
   * application/sparql-results+xml, text/csv, text/tab-separated-values. CONSTRUCT/DESCRIBE: application/n-triples
   * (default), text/turtle, application/n-quads, application/rdf+xml. Other formats are converted by the caller.
   */
  resultFormat?: string;
  /** Base IRI for relative IRIs in the query. */
  baseIri?: string;
}

export interface QueryResult {
  form: QueryForm;
  /** Media type of `body`. */
  contentType: string;
  body: string;
}

export interface UpdateOptions {
  baseIri?: string;
  timeoutMs?: number;
}

/** SPARQL JSON results binding value, as in application/sparql-results+json. */
export interface JsonTerm {
  type: 'uri' | 'literal' | 'bnode' | 'triple';
  value: string;
  datatype?: string;
  'xml:lang'?: string;
}
export type JsonBinding = Record<string, JsonTerm>;

export interface QuadStore {
  /** Opens the store (replays the log, connects to the endpoint). */
  open(): Promise<void>;
  /** Flushes pending writes and releases every resource. Idempotent. */
  close(): Promise<void>;

  /** Runs a SPARQL 1.1 query and returns the serialised result. Throws SparqlSyntaxError / QueryTimeoutError. */
  query(sparql: string, options?: QueryOptions): Promise<QueryResult>;
  /** SELECT convenience: the `results.bindings` of the JSON result. */
  select(sparql: string, options?: QueryOptions): Promise<JsonBinding[]>;
  /** ASK convenience. */
  ask(sparql: string, options?: QueryOptions): Promise<boolean>;
  /** CONSTRUCT/DESCRIBE convenience: the result graph as N-Triples. */
  construct(sparql: string, options?: QueryOptions): Promise<string>;

  /** Runs a SPARQL 1.1 Update. Resolves only once the change is durable. */
  update(sparql: string, options?: UpdateOptions): Promise<void>;

  /**
   * Adds quads given as N-Quads (a triple without graph goes to `graph`, or the default graph). Resolves once durable.
   * This is the hot write path of the hub (observations); implementations batch many calls into one commit.
   */
  insert(nquads: string, graph?: GraphName): Promise<void>;

  /**
   * The error insert() would reject with right now for want of room (503 overloaded), or undefined: lets a decorator
   * refuse before doing its own work on a message the store would refuse anyway.
   */
  refusal?(): Error | undefined;

  /** Graph Store Protocol primitives. `getGraph` returns N-Triples, or undefined when the graph does not exist. */
  getGraph(graph: GraphName): Promise<string | undefined>;
  hasGraph(graph: GraphName): Promise<boolean>;
  /** Replaces the graph's content; returns true when the graph existed before. */
  putGraph(graph: GraphName, ntriples: string): Promise<boolean>;
  /** Adds to the graph; returns true when the graph existed before. */
  postGraph(graph: GraphName, ntriples: string): Promise<boolean>;
  /** Removes the graph; returns false when there was no such graph. */
  deleteGraph(graph: GraphName): Promise<boolean>;

  /** Figures for health and benchmarks (triple count, log size, ...). */
  stats(): Promise<Record<string, number>>;
  /**
   * Last-known figures, answered on the caller's thread without waiting for the store (for /health, which must answer
   * while a query runs or the store is rebuilt); `quadsAgeMs` says how old the quad count is (-1: not known yet).
   */
  health?(): Record<string, number>;
}
