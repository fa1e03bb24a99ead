// Turns N-Quads into SPARQL 1.1 INSERT DATA requests, grouped by graph and cut into bounded chunks.
import { Parser, Writer, type Quad } from 'n3';
import { DecodeError } from '../../errors.ts';
import { DEFAULT_GRAPH, type GraphName } from '../quad-store.ts';

/** Where the hub's default graph lives on the remote side: the real default graph, or a named stand-in graph. */
export type DefaultGraphTarget = typeof DEFAULT_GRAPH | string;

/**
 * Parses N-Quads. Each call gets its own blank node
 * prefix so that blank nodes of different insert() calls batched into one request stay distinct (SPARQL 1.1 Update
 * section 3.1.1: blank nodes in INSERT DATA are fresh per request, not per call).
 */
export function parseQuads(nquads: string, callId: number): Quad[] {
  try {
    return new Parser({ format: 'N-Quads', blankNodePrefix: `c${callId}_` }).parse(nquads);
  } catch (e) {
    throw new DecodeError(`Invalid N-Quads: ${(e as Error).message}`, { cause: e });
  }
}

/** The remote graph IRI of a quad's graph term, or DEFAULT_GRAPH. */
function targetGraph(q: Quad, fallback: GraphName | undefined, defaultTarget: DefaultGraphTarget): GraphName {
  if (q.graph.termType === 'NamedNode') return q.graph.value;
  const g = fallback ?? DEFAULT_GRAPH;
  return g === DEFAULT_GRAPH ? defaultTarget : g;
}

/**
 * One request per chunk of at most `maxTriples` triples (Virtuoso rejects very long requests): `INSERT DATA { }`, or
 * for 'template' `INSERT { } WHERE { }`, which inserts the same triples with fresh blank nodes (SPARQL 1.1 Update 3.1.3).
 */
export function insertDataRequests(
  batches: Array<{ quads: Quad[]; graph?: GraphName }>,
  defaultTarget: DefaultGraphTarget,
  maxTriples = 5000,
  form: 'data' | 'template' = 'data',
): string[] {
  const byGraph = new Map<GraphName, Quad[]>();
  for (const b of batches) {
    for (const q of b.quads) {
      const g = targetGraph(q, b.graph, defaultTarget);
      let list = byGraph.get(g);
      if (!list) byGraph.set(g, (list = []));
      list.push(q);
    }
  }
  const requests: string[] = [];
  let parts: string[] = [];
  let count = 0;
  const flush = () => {
    if (parts.length) {
      requests.push(form === 'data' ? `INSERT DATA {\n${parts.join('\n')}\n}` : `INSERT {\n${parts.join('\n')}\n} WHERE { }`);
    }
    parts = [];
    count = 0;
  };
  for (const [g, quads] of byGraph) {
    for (let i = 0; i < quads.length; ) {
      const take = Math.min(maxTriples - count, quads.length - i);
      const body = triplesText(quads.slice(i, i + take));
      parts.push(g === DEFAULT_GRAPH ? body : `GRAPH <${g}> {\n${body}\n}`);
      count += take;
      i += take;
      if (count >= maxTriples) flush();
    }
  }
  flush();
  return requests;
}

/** N-Triples lines of the quads' triples; N-Triples term syntax is valid SPARQL term syntax. */
export function triplesText(quads: Quad[]): string {
  const w = new Writer({ format: 'N-Triples' });
  return quads.map((q) => w.quadToString(q.subject, q.predicate, q.object)).join('').trimEnd();
}
