// Applies the protocol's using-graph-uri / using-named-graph-uri to an update by rewriting it (SPARQL 1.1 Protocol §2.2.3).
import sparqljs from 'sparqljs';
import { BadRequestError, PayloadTooLargeError } from '../errors.ts';
import { parseSparqlForRewrite } from './parse-update.ts';

const { Generator } = sparqljs;

/** Longest update text rewritten for using-graph-uri / using-named-graph-uri (8 KiB, as LDP's SPARQL PATCH). */
export const MAX_REWRITE_CHARS = 8 * 1024;

interface NamedNodeTerm {
  termType: 'NamedNode';
  value: string;
}
interface QuadsBlock {
  type: 'bgp' | 'graph';
  name?: unknown;
  triples: unknown[];
}
interface UpdateOp {
  type?: string;
  updateType?: string;
  graph?: unknown;
  using?: { default: NamedNodeTerm[]; named: NamedNodeTerm[] };
  delete?: QuadsBlock[];
  insert?: QuadsBlock[];
  where?: unknown[];
}

/** Turns the quad blocks of DELETE WHERE into the equivalent WHERE patterns (SPARQL 1.1 Update §3.1.3.3). */
function blocksAsPatterns(blocks: QuadsBlock[]): unknown[] {
  return blocks.map((b) =>
    b.type === 'graph' ? { type: 'graph', name: b.name, patterns: [{ type: 'bgp', triples: b.triples }] } : b,
  );
}

/**
 * Returns `update` with USING / USING NAMED clauses for the protocol's graphs on every operation that has a WHERE
 * clause. The protocol forbids combining these parameters with USING, USING NAMED or WITH in the request (§2.2.3):
 * that is a 400. Needs the update parsed, so a syntax error surfaces here as SparqlSyntaxError.
 */
export function applyUsingGraphs(update: string, usingGraphs: string[], usingNamedGraphs: string[], baseIri: string): string {
  if (!usingGraphs.length && !usingNamedGraphs.length) return update;
  // No WHERE anywhere: no operation has a WHERE clause (INSERT DATA, LOAD, CLEAR, ...), so nothing to rewrite, and no
  // sparqljs parse (2.7-5 s for a 2 MB INSERT DATA here, on the event loop).
  if (!/where/i.test(update)) return update;
  // sparqljs costs ~10 us per character on the event loop (the fuzz run: 100-134 ms for texts of 10-15 KB): an update
  // rewritten for using-graph-uri is kept to what it parses in well under 100 ms. USING clauses in the text itself have no
  // such limit (the store parses them in its worker).
  if (update.length > MAX_REWRITE_CHARS) {
    throw new PayloadTooLargeError(`An update sent with using-graph-uri or using-named-graph-uri is rewritten by the hub: at most ${MAX_REWRITE_CHARS} characters (write USING / USING NAMED in the update instead)`);
  }
  const parsed = parseSparqlForRewrite<UpdateOp>(update, baseIri);
  if (parsed.type !== 'update') throw new BadRequestError('Expected a SPARQL update, got a query');
  const using = {
    default: usingGraphs.map((value): NamedNodeTerm => ({ termType: 'NamedNode', value })),
    named: usingNamedGraphs.map((value): NamedNodeTerm => ({ termType: 'NamedNode', value })),
  };
  parsed.updates = parsed.updates.map((op) => {
    if (op.updateType === 'insertdelete') {
      if (op.graph || op.using) {
        throw new BadRequestError(
          'using-graph-uri / using-named-graph-uri cannot be combined with USING, USING NAMED or WITH in the update',
          undefined,
          'dataset-conflict',
        );
      }
      return { ...op, using };
    }
    if (op.updateType === 'deletewhere') {
      return { updateType: 'insertdelete', delete: op.delete, insert: [], where: blocksAsPatterns(op.delete ?? []), using };
    }
    return op;
  });
  return new Generator().stringify(parsed as never);
}
