// Parses a SPARQL 1.1 Update with sparqljs for rewriting; a syntax error becomes SparqlSyntaxError with its position.
import sparqljs from 'sparqljs';
import './sparqljs-lexer.ts';
import { SparqlSyntaxError } from '../errors.ts';
import { assertManageable } from '../store/query-complexity.ts';

/**
 * Parses `text` as a query or update (the caller checks `type`). `Op` is the caller's view of one update operation:
 * sparqljs's own types are looser than the rewrites need. The linear complexity guard runs first (400
 * `query-too-complex`): sparqljs is superlinear on nesting (1,000 nested groups 0.7 s, 10,000 over a minute).
 */
export function parseSparqlForRewrite<Op>(text: string, baseIri: string): { type: string; updates: Op[] } {
  assertManageable(text);
  try {
    return new sparqljs.Parser({ baseIRI: baseIri }).parse(text) as unknown as { type: string; updates: Op[] };
  } catch (e) {
    const loc = (e as { hash?: { loc?: { first_line: number; first_column: number } } }).hash?.loc;
    throw new SparqlSyntaxError((e as Error).message, loc ? { line: loc.first_line, column: loc.first_column + 1 } : undefined, { cause: e });
  }
}
