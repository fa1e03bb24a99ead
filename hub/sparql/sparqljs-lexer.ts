// Makes sparqljs's lexer linear: its INSERT DATA / DELETE DATA / DELETE WHERE rules backtrack exponentially.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * sparqljs 3.7 (Jison) lexes `INSERT DATA`, `DELETE DATA` and `DELETE WHERE` as one token each with
 * `/^(?:DELETE((\s+|(#[^\n\r]*)\n\r?)+)WHERE)/i`: the nested `(\s+)+` tries every split of a whitespace run, so
 * `DELETE` + 40 spaces + `x` (47 bytes, sent to /search/sparql without a token) froze the event loop for good. The
 * same language without the nesting: each iteration takes one whitespace character or one comment up to its `\n`
 * (a following `\r` is whitespace), so each run is read once. Patched once in the shared lexer, for every caller.
 */
const LINEAR: Record<string, RegExp> = {
  'INSERT((\\s+|(#[^\\n\\r]*)\\n\\r?)+)DATA': /^(?:INSERT((?:\s|#[^\n\r]*\n)+)DATA)/i,
  'DELETE((\\s+|(#[^\\n\\r]*)\\n\\r?)+)DATA': /^(?:DELETE((?:\s|#[^\n\r]*\n)+)DATA)/i,
  'DELETE((\\s+|(#[^\\n\\r]*)\\n\\r?)+)WHERE': /^(?:DELETE((?:\s|#[^\n\r]*\n)+)WHERE)/i,
};

const parser = require('sparqljs/lib/SparqlParser.js') as { Parser: { prototype: { lexer: { rules: RegExp[] } } } };
const rules = parser.Parser.prototype.lexer.rules;
for (let i = 0; i < rules.length; i++) {
  const source = rules[i]!.source.replace(/^\^\(\?:/, '').replace(/\)$/, '');
  const linear = LINEAR[source];
  if (linear) rules[i] = linear;
}

/** How many lexer rules were replaced (3 with the sparqljs this was written for); tests check it. */
export const patchedRules = rules.filter((r) => Object.values(LINEAR).includes(r)).length;
