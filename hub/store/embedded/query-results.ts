// SELECT/ASK/CONSTRUCT conveniences of QuadStore, implemented once over query() and its serialised results.
import type { JsonBinding, QueryOptions, QueryResult } from '../quad-store.ts';

interface Queryable {
  query(sparql: string, options?: QueryOptions): Promise<QueryResult>;
}

/** The `results.bindings` of a SELECT (SPARQL 1.1 Query Results JSON Format, section 3.2). */
export async function selectVia(store: Queryable, sparql: string, options?: QueryOptions): Promise<JsonBinding[]> {
  const r = await store.query(sparql, { ...options, resultFormat: 'application/sparql-results+json' });
  return (JSON.parse(r.body) as { results: { bindings: JsonBinding[] } }).results.bindings;
}

/** The `boolean` of an ASK (SPARQL 1.1 Query Results JSON Format, section 3.3). */
export async function askVia(store: Queryable, sparql: string, options?: QueryOptions): Promise<boolean> {
  const r = await store.query(sparql, { ...options, resultFormat: 'application/sparql-results+json' });
  return (JSON.parse(r.body) as { boolean: boolean }).boolean;
}

/** A CONSTRUCT/DESCRIBE result graph as N-Triples. */
export async function constructVia(store: Queryable, sparql: string, options?: QueryOptions): Promise<string> {
  return (await store.query(sparql, { ...options, resultFormat: 'application/n-triples' })).body;
}
