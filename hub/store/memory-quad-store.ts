// In-process, non-durable QuadStore over Oxigraph: for tests, previews and scratch work. Queries run on the caller's thread.
import { HubError, SparqlSyntaxError, StoreError } from '../errors.ts';
import type { GraphName, JsonBinding, QueryOptions, QueryResult, QuadStore, UpdateOptions } from './quad-store.ts';
import { EngineSyntaxError, OxigraphEngine } from './oxigraph-engine.ts';
import { assertManageable } from './query-complexity.ts';

/** Maps engine errors to the hub's typed errors. */
export function mapEngineError(e: unknown): Error {
  if (e instanceof EngineSyntaxError) return new SparqlSyntaxError(e.message, e.position, { cause: e });
  if (e instanceof HubError) return e;
  return new StoreError('The store failed', { cause: e });
}

export class MemoryQuadStore implements QuadStore {
  private engine = new OxigraphEngine();

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  private run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(mapEngineError(e));
    }
  }

  query(sparql: string, options?: QueryOptions): Promise<QueryResult> {
    return this.run(() => {
      assertManageable(sparql);
      return this.engine.query(sparql, options);
    });
  }

  async select(sparql: string, options?: QueryOptions): Promise<JsonBinding[]> {
    const r = await this.query(sparql, { ...options, resultFormat: 'application/sparql-results+json' });
    return (JSON.parse(r.body) as { results: { bindings: JsonBinding[] } }).results.bindings;
  }

  async ask(sparql: string, options?: QueryOptions): Promise<boolean> {
    const r = await this.query(sparql, { ...options, resultFormat: 'application/sparql-results+json' });
    return (JSON.parse(r.body) as { boolean: boolean }).boolean;
  }

  async construct(sparql: string, options?: QueryOptions): Promise<string> {
    return (await this.query(sparql, { ...options, resultFormat: 'application/n-triples' })).body;
  }

  update(sparql: string, options?: UpdateOptions): Promise<void> {
    return this.run(() => {
      assertManageable(sparql);
      this.engine.update(sparql, options);
    });
  }

  insert(nquads: string, graph?: GraphName): Promise<void> {
    return this.run(() => this.engine.load(nquads, graph));
  }

  getGraph(graph: GraphName): Promise<string | undefined> {
    return this.run(() => this.engine.getGraph(graph));
  }
  hasGraph(graph: GraphName): Promise<boolean> {
    return this.run(() => this.engine.hasGraph(graph));
  }
  putGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    return this.run(() => this.engine.putGraph(graph, ntriples));
  }
  postGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    return this.run(() => this.engine.postGraph(graph, ntriples));
  }
  deleteGraph(graph: GraphName): Promise<boolean> {
    return this.run(() => this.engine.deleteGraph(graph));
  }
  async stats(): Promise<Record<string, number>> {
    return { quads: this.engine.size() };
  }
  health(): Record<string, number> {
    return { quads: this.engine.size(), quadsAgeMs: 0 };
  }
}
