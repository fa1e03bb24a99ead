// QuadStore over an external SPARQL 1.1 service (Query, Update, Graph Store HTTP Protocol), e.g. Virtuoso or GraphDB.
import { Parser } from 'n3';
import { BadRequestError } from '../errors.ts';
import { queryForm } from './oxigraph-engine.ts';
import { DEFAULT_GRAPH } from './quad-store.ts';
import type { GraphName, JsonBinding, QueryOptions, QueryResult, QuadStore, UpdateOptions } from './quad-store.ts';
import { EndpointHttpClient, remoteError, type EndpointResponse } from './sparql-endpoint/http-client.ts';
import { insertDataRequests, parseQuads, triplesText } from './sparql-endpoint/insert-data.ts';
import { jsonToCsv, jsonToTsv } from './sparql-endpoint/results.ts';
import { InsertBatcher } from './sparql-endpoint/insert-batcher.ts';

export interface SparqlEndpointStoreOptions {
  queryEndpoint: string;
  updateEndpoint: string;
  /** Graph Store HTTP Protocol endpoint; without it graphs are read and written through Query/Update. */
  graphStoreEndpoint?: string;
  user?: string;
  password?: string;
  timeoutMs: number;
  /** 'auto' (default) recognises Virtuoso by its Server header when the store opens. */
  dialect?: 'auto' | 'standard' | 'virtuoso';
  /** Named graph standing in for the default graph on endpoints without a separate one (Virtuoso). */
  defaultGraphIri?: string;
  /** Most triples in one INSERT DATA request. */
  maxBatchTriples?: number;
}

const JSON_RESULTS = 'application/sparql-results+json';

/**
 * A QuadStore that forwards everything to an external SPARQL 1.1 service: queries per SPARQL 1.1 Protocol section 2.1
 * (default-graph-uri / named-graph-uri as protocol parameters), updates per section 2.2, graphs per the Graph Store
 * HTTP Protocol. Concurrent insert() calls share one INSERT DATA request. Virtuoso 7 needs the deviations listed on
 * `virtuoso` below.
 */
export class SparqlEndpointQuadStore implements QuadStore {
  private readonly http: EndpointHttpClient;
  private readonly batcher: InsertBatcher;
  /**
   * Virtuoso 7.2: POST application/sparql-query never answers (form POST is used); a query's default graph is the union
   * of all graphs, and it has no default graph to write to (writes to DEFAULT_GRAPH go to a stand-in named graph, since
   * its Graph Store endpoint refuses `?default` and INSERT DATA without GRAPH needs default-graph-uri); its TSV output
   * is CSV-like (TSV is written from JSON here).
   */
  private virtuoso = false;
  private readonly defaultGraphIri: string;

  constructor(private readonly options: SparqlEndpointStoreOptions) {
    this.http = new EndpointHttpClient(options.user, options.password);
    this.defaultGraphIri = options.defaultGraphIri ?? 'urn:x-hub:default-graph';
    this.virtuoso = options.dialect === 'virtuoso';
    this.batcher = new InsertBatcher((batches) => this.flushInserts(batches));
  }

  /** Checks that the query endpoint answers and recognises its dialect. */
  async open(): Promise<void> {
    const url = new URL(this.options.queryEndpoint);
    url.searchParams.set('query', 'ASK {}');
    const res = await this.http.send({ method: 'GET', url: url.href, headers: { accept: JSON_RESULTS }, timeoutMs: this.options.timeoutMs });
    if (res.status >= 300) throw remoteError(res, this.options.timeoutMs, 'query');
    if ((this.options.dialect ?? 'auto') === 'auto') this.virtuoso = /virtuoso/i.test(res.headers.get('server') ?? '');
  }

  async close(): Promise<void> {
    await this.batcher.drain();
  }

  /** The remote IRI of a graph, or undefined for the remote default graph. */
  private remoteGraph(graph: GraphName): string | undefined {
    if (graph !== DEFAULT_GRAPH) return graph;
    return this.virtuoso ? this.defaultGraphIri : undefined;
  }

  async query(sparql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const form = queryForm(sparql) ?? 'select';
    const isGraph = form === 'construct' || form === 'describe';
    const contentType = options.resultFormat ?? (isGraph ? 'application/n-triples' : JSON_RESULTS);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const text = options.baseIri ? `BASE <${options.baseIri}>\n${sparql}` : sparql;
    const params = new URLSearchParams();
    // Without a protocol dataset Virtuoso's default graph is the union of all graphs: naming the stand-in default graph
    // there (or with FROM / DEFINE input:default-graph-uri) would hide every `GRAPH <iri>` pattern from the query.
    for (const g of options.defaultGraphUris ?? []) params.append('default-graph-uri', g);
    const named = options.namedGraphUris ?? [];
    for (const g of named) params.append('named-graph-uri', g);
    let accept = contentType;
    const rewrite = this.virtuoso && (contentType === 'text/tab-separated-values' || contentType === 'text/csv');
    if (rewrite) accept = JSON_RESULTS;
    if (this.virtuoso && contentType === 'application/n-quads') accept = 'application/n-triples';
    let res: EndpointResponse;
    if (this.virtuoso) {
      params.set('query', text);
      res = await this.http.send({
        method: 'POST',
        url: this.options.queryEndpoint,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
        body: params.toString(),
        timeoutMs,
      });
    } else {
      const url = new URL(this.options.queryEndpoint);
      for (const [k, v] of params) url.searchParams.append(k, v);
      res = await this.http.send({
        method: 'POST',
        url: url.href,
        headers: { 'content-type': 'application/sparql-query; charset=utf-8', accept },
        body: text,
        timeoutMs,
      });
    }
    if (res.status >= 300) throw remoteError(res, timeoutMs, 'query');
    const body = !rewrite ? res.body : contentType === 'text/csv' ? jsonToCsv(res.body) : jsonToTsv(res.body);
    return { form, contentType, body };
  }

  async select(sparql: string, options?: QueryOptions): Promise<JsonBinding[]> {
    const r = await this.query(sparql, { ...options, resultFormat: JSON_RESULTS });
    return (JSON.parse(r.body) as { results: { bindings: JsonBinding[] } }).results.bindings;
  }

  async ask(sparql: string, options?: QueryOptions): Promise<boolean> {
    const r = await this.query(sparql, { ...options, resultFormat: JSON_RESULTS });
    return (JSON.parse(r.body) as { boolean: boolean }).boolean;
  }

  async construct(sparql: string, options?: QueryOptions): Promise<string> {
    return (await this.query(sparql, { ...options, resultFormat: 'application/n-triples' })).body;
  }

  async update(sparql: string, options: UpdateOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    const text = options.baseIri ? `BASE <${options.baseIri}>\n${sparql}` : sparql;
    let res = await this.sendUpdate(this.options.updateEndpoint, text, timeoutMs);
    // Virtuoso has no default graph to write to (SP031): name the stand-in graph, but only then, because its
    // default-graph-uri parameter also hides every `GRAPH <iri>` pattern of the WHERE clause.
    if (this.virtuoso && res.status === 400 && /SP031[^\n]*default graph/i.test(res.body)) {
      const url = new URL(this.options.updateEndpoint);
      url.searchParams.set('default-graph-uri', this.defaultGraphIri);
      res = await this.sendUpdate(url.href, text, timeoutMs);
    }
    // Virtuoso refuses DROP/CLEAR GRAPH for a graph that holds triples but was never CREATEd; SILENT lets it through.
    if (this.virtuoso && res.status >= 400 && /has not been explicitly created/.test(res.body)) {
      res = await this.sendUpdate(this.options.updateEndpoint, text.replace(/\b(DROP|CLEAR)\s+GRAPH\b/gi, '$1 SILENT GRAPH'), timeoutMs);
    }
    if (res.status >= 300) throw remoteError(res, timeoutMs, 'update');
  }

  private sendUpdate(url: string, text: string, timeoutMs: number): Promise<EndpointResponse> {
    return this.http.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/sparql-update; charset=utf-8', accept: '*/*' },
      body: text,
      timeoutMs,
    });
  }

  insert(nquads: string, graph?: GraphName): Promise<void> {
    let quads;
    try {
      quads = parseQuads(nquads, this.batcher.nextCallId());
    } catch (e) {
      return Promise.reject(e);
    }
    if (!quads.length) return Promise.resolve();
    return this.batcher.add({ quads, graph });
  }

  private async flushInserts(batches: Parameters<typeof insertDataRequests>[0]): Promise<void> {
    const target = this.virtuoso ? this.defaultGraphIri : DEFAULT_GRAPH;
    // Virtuoso refuses blank nodes in INSERT DATA; INSERT { } WHERE { } has the same meaning for one empty solution.
    const form = this.virtuoso ? 'template' : 'data';
    for (const request of insertDataRequests(batches, target, this.options.maxBatchTriples, form)) await this.update(request);
  }

  hasGraph(graph: GraphName): Promise<boolean> {
    if (graph === DEFAULT_GRAPH) return Promise.resolve(true);
    return this.ask(`ASK { GRAPH <${graph}> { ?s ?p ?o } }`, { unionDefaultGraph: true });
  }

  async getGraph(graph: GraphName): Promise<string | undefined> {
    const remote = this.remoteGraph(graph);
    if (!this.options.graphStoreEndpoint) {
      if (!(await this.hasGraph(graph))) return undefined;
      return this.construct('CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }', { defaultGraphUris: remote ? [remote] : [] });
    }
    const res = await this.gsp('GET', remote, { accept: 'application/n-triples' });
    if (res.status === 404) return graph === DEFAULT_GRAPH ? '' : undefined;
    if (res.status >= 300) throw remoteError(res, this.options.timeoutMs, 'graph read');
    return res.body;
  }

  async putGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    validateNTriples(ntriples);
    const existed = await this.hasGraph(graph);
    const remote = this.remoteGraph(graph);
    if (!this.options.graphStoreEndpoint) {
      const clear = remote ? `DROP SILENT GRAPH <${remote}>` : 'DROP SILENT DEFAULT';
      await this.update(`${clear} ;\n${insertText(ntriples, remote)}`);
      return existed;
    }
    const res = await this.gsp('PUT', remote, { 'content-type': 'application/n-triples' }, ntriples);
    if (res.status >= 300) throw remoteError(res, this.options.timeoutMs, 'graph write');
    return existed;
  }

  async postGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    validateNTriples(ntriples);
    const existed = await this.hasGraph(graph);
    const remote = this.remoteGraph(graph);
    if (!this.options.graphStoreEndpoint) {
      await this.update(insertText(ntriples, remote));
      return existed;
    }
    const res = await this.gsp('POST', remote, { 'content-type': 'application/n-triples' }, ntriples);
    if (res.status >= 300) throw remoteError(res, this.options.timeoutMs, 'graph write');
    return existed;
  }

  async deleteGraph(graph: GraphName): Promise<boolean> {
    const remote = this.remoteGraph(graph);
    if (!this.options.graphStoreEndpoint) {
      const existed = graph === DEFAULT_GRAPH || (await this.hasGraph(graph));
      await this.update(remote ? `DROP SILENT GRAPH <${remote}>` : 'DROP SILENT DEFAULT');
      return existed;
    }
    const res = await this.gsp('DELETE', remote, {});
    if (res.status === 404) return false;
    if (res.status >= 300) throw remoteError(res, this.options.timeoutMs, 'graph delete');
    return true;
  }

  async stats(): Promise<Record<string, number>> {
    const count = 'SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }';
    // Virtuoso's default graph already is the union of every graph.
    const rows = await this.select(this.virtuoso ? 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }' : count, { unionDefaultGraph: true });
    this.lastCount = { quads: Number(rows[0]?.n?.value ?? 0), at: performance.now() };
    return { quads: this.lastCount.quads, pendingInserts: this.batcher.pending };
  }

  private lastCount: { quads: number; at: number } | undefined;
  private counting = false;

  /** Last-known figures without waiting for the endpoint (for /health); a count older than 5 s is refreshed in the background. */
  health(): Record<string, number> {
    const now = performance.now();
    if (!this.counting && (!this.lastCount || now - this.lastCount.at > 5000)) {
      this.counting = true;
      this.stats().then(
        () => (this.counting = false),
        () => (this.counting = false),
      );
    }
    return { quads: this.lastCount?.quads ?? 0, quadsAgeMs: this.lastCount ? Math.round(now - this.lastCount.at) : -1, pendingInserts: this.batcher.pending };
  }

  private gsp(method: 'GET' | 'PUT' | 'POST' | 'DELETE', graph: string | undefined, headers: Record<string, string>, body?: string) {
    const url = new URL(this.options.graphStoreEndpoint!);
    if (graph === undefined) url.searchParams.set('default', '');
    else url.searchParams.set('graph', graph);
    // `?default=` is what URLSearchParams writes; the protocol's form is a bare `?default`.
    const href = graph === undefined ? url.href.replace(/([?&])default=(&|$)/, '$1default$2') : url.href;
    return this.http.send({ method, url: href, headers, body, timeoutMs: this.options.timeoutMs });
  }
}

/** Parses N-Triples so that a bad body is refused before anything reaches the remote store (PUT is all-or-nothing). */
function validateNTriples(ntriples: string): void {
  try {
    new Parser({ format: 'N-Triples' }).parse(ntriples);
  } catch (e) {
    throw new BadRequestError(`The body is not valid N-Triples: ${(e as Error).message}`, { cause: e }, 'rdf-syntax');
  }
}

function insertText(ntriples: string, graph: string | undefined): string {
  const body = triplesText(new Parser({ format: 'N-Triples' }).parse(ntriples));
  // INSERT { } WHERE { } rather than INSERT DATA: Virtuoso refuses blank nodes in INSERT DATA.
  return graph ? `INSERT { GRAPH <${graph}> {\n${body}\n} } WHERE { }` : `INSERT {\n${body}\n} WHERE { }`;
}
