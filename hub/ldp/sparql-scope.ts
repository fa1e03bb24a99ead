// Scopes a SPARQL 1.1 Update to one graph for PATCH (LDP §4.2.7): every operation is rewritten to act on that graph
// only (WITH / GRAPH), and what could reach other graphs (GRAPH, SERVICE, USING, WITH, graph management) is refused.
import sparqljs from 'sparqljs';
import { parseSparqlForRewrite } from '../sparql/parse-update.ts';
import { UnprocessablePatchError } from './patch-errors.ts';

const { Generator } = sparqljs;

interface Block {
  type: string;
  name?: unknown;
  triples: unknown[];
}
interface Op {
  type?: string;
  updateType?: string;
  graph?: unknown;
  using?: unknown;
  delete?: Block[];
  insert?: Block[];
  where?: unknown[];
}

/** True when a pattern tree contains a GRAPH or SERVICE pattern (the only ways a WHERE clause leaves the graph). */
function leavesGraph(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(leavesGraph);
  if (!node || typeof node !== 'object') return false;
  const n = node as Record<string, unknown>;
  if (n.type === 'graph' || n.type === 'service') return true;
  return Object.values(n).some((v) => typeof v === 'object' && leavesGraph(v));
}

function triplesOnly(blocks: Block[] | undefined): Block[] {
  for (const b of blocks ?? []) if (b.type !== 'bgp') throw new UnprocessablePatchError('A PATCH update applies to the resource: GRAPH blocks are not allowed');
  return blocks ?? [];
}

/** Rewrites `update` so that it reads and writes `graph` only; relative IRIs resolve against `base`. */
export function scopeUpdate(update: string, graph: string, base: string): string {
  const parsed = parseSparqlForRewrite<Op>(update, base);
  if (parsed.type !== 'update') throw new UnprocessablePatchError('Expected a SPARQL Update, got a query');
  const target = { termType: 'NamedNode', value: graph };
  const inGraph = (blocks: Block[]) => blocks.map((b) => ({ type: 'graph', name: target, triples: b.triples }));
  parsed.updates = parsed.updates.map((op): Op => {
    switch (op.updateType) {
      case 'insert':
        return { ...op, insert: inGraph(triplesOnly(op.insert)) };
      case 'delete':
        return { ...op, delete: inGraph(triplesOnly(op.delete)) };
      case 'deletewhere': {
        const blocks = triplesOnly(op.delete);
        return { updateType: 'insertdelete', graph: target, delete: blocks, insert: [], where: blocks.map((b) => ({ type: 'bgp', triples: b.triples })) };
      }
      case 'insertdelete':
        if (op.graph || op.using) throw new UnprocessablePatchError('A PATCH update applies to the resource: WITH and USING are not allowed');
        if (leavesGraph(op.where)) throw new UnprocessablePatchError('A PATCH update applies to the resource: GRAPH and SERVICE are not allowed');
        return { ...op, graph: target, insert: triplesOnly(op.insert), delete: triplesOnly(op.delete) };
      default:
        throw new UnprocessablePatchError(`A PATCH update cannot use ${String(op.type ?? op.updateType).toUpperCase()}`);
    }
  });
  // Written with full IRIs: sparqljs builds a RegExp from the prefix IRIs without escaping them, so a prefix IRI
  // holding '[' made the generator throw SyntaxError (a 500). Without prefixes the text means the same.
  return new Generator().stringify({ ...(parsed as object), prefixes: {} } as never);
}
