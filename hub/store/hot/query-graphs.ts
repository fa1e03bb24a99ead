// Which graphs a SPARQL query can read: the named graphs of its GRAPH <iri> patterns, or '*' (any), read with sparqljs.
//
// The store worker (store-worker.ts) applies queued inserts lazily (backlog.ts); before a query runs it applies the
// queued inserts of exactly the graphs the query can read. Anything this cannot bound is '*': GRAPH ?var, FROM /
// FROM NAMED, the protocol's default-/named-graph-uri, a union default graph, DESCRIBE, SERVICE, text sparqljs cannot
// parse, or a text over MAX_CHARS. The default graph is always applied too (it is never observation data and its
// queue is short), so it is not listed.
import sparqljs from 'sparqljs';
import '../../sparql/sparqljs-lexer.ts';
import type { QueryOptions } from '../quad-store.ts';

const MAX_CHARS = 16 * 1024;
const parser = new sparqljs.Parser();
/** Last answers by query text (the same dashboard and visibility queries come again and again). */
const cache = new Map<string, string[] | '*'>();
const CACHE_SIZE = 512;

export function queryGraphs(sparql: string, options: QueryOptions = {}): string[] | '*' {
  if (options.unionDefaultGraph || options.defaultGraphUris?.length || options.namedGraphUris?.length) return '*';
  if (sparql.length > MAX_CHARS) return '*';
  // Cheap first look: a query without the words GRAPH, FROM, DESCRIBE and SERVICE reads the default graph only.
  if (!/graph|from|describe|service/i.test(sparql)) return [];
  const hit = cache.get(sparql);
  if (hit !== undefined) return hit;
  const out = analyse(sparql);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(sparql, out);
  return out;
}

function analyse(sparql: string): string[] | '*' {
  let parsed: any;
  try {
    parsed = parser.parse(sparql);
  } catch {
    return '*';
  }
  if (parsed.type !== 'query' || parsed.queryType === 'DESCRIBE') return '*';
  const graphs = new Set<string>();
  let any = false;
  const walk = (node: unknown, key?: string): void => {
    if (any || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach((n) => walk(n));
    const o = node as Record<string, any>;
    // FROM / FROM NAMED (on the query or a sub-SELECT): the dataset is not the store's own.
    if (key === 'from' && ((o.default?.length ?? 0) > 0 || (o.named?.length ?? 0) > 0)) return void (any = true);
    if (o.type === 'service') return void (any = true);
    if (o.type === 'graph') {
      if (o.name?.termType !== 'NamedNode') return void (any = true);
      graphs.add(o.name.value);
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'template' && k !== 'prefixes') walk(v, k);
  };
  walk(parsed);
  return any ? '*' : [...graphs];
}
