// Where a SPARQL syntax error is: Oxigraph's parser (rust-peg) reports the furthest point any alternative reached
// (`SELECT *\nWHERE { ?s ?p }\n` is "error at 3:1", past the end), so the hub asks sparqljs (an LALR parser that stops
// at the first token it cannot shift) for the offending token when the engine refuses a text.
import sparqljs from 'sparqljs';
import './sparqljs-lexer.ts';
import { SparqlSyntaxError } from '../errors.ts';

interface JisonLocation {
  last_line: number;
  last_column: number;
}

/** Line and column (both 1-based) of the first token after `loc` (the last token the parser shifted). */
function tokenAfter(text: string, loc: JisonLocation): { line: number; column: number } {
  let line = 1;
  let i = 0;
  while (line < loc.last_line && i < text.length) if (text.charCodeAt(i++) === 10) line++;
  let column = loc.last_column;
  i += column;
  // Skip white space and comments to the next token.
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 35) {
      while (i < text.length && text.charCodeAt(i) !== 10) (i++, column++);
    } else if (c === 10) {
      line++;
      column = 0;
      i++;
    } else if (c === 32 || c === 9 || c === 13) (i++, column++);
    else break;
  }
  return { line, column: column + 1 };
}

/**
 * `e` with the position of the token sparqljs cannot parse, when `e` is a SparqlSyntaxError and sparqljs refuses the
 * same text; otherwise `e` unchanged (sparqljs accepting a text the engine refuses keeps the engine's position). Call
 * only on texts the complexity guard passed: sparqljs is superlinear on nesting.
 */
export function withTokenPosition(e: unknown, text: string, baseIri?: string): unknown {
  if (!(e instanceof SparqlSyntaxError)) return e;
  try {
    new sparqljs.Parser(baseIri ? { baseIRI: baseIri } : {}).parse(text);
    return e;
  } catch (parseError) {
    const loc = (parseError as { hash?: { loc?: JisonLocation } }).hash?.loc;
    if (!loc || !(loc.last_line >= 1) || !(loc.last_column >= 0)) return e;
    return new SparqlSyntaxError(e.message, tokenAfter(text, loc), { cause: e.cause ?? e });
  }
}
