// SPARQL texts that trap the engine or hid such a text from the old lexical guard (shared by the guard and store tests).

/** Texts that trap Oxigraph 0.5.11 (measured, see hub/store/query-complexity.ts) or that hid such a text from the old guard. */
export const TRAPS: Record<string, string> = {
  // `\#` is PN_LOCAL_ESC: the old lexer took '#' for a comment and skipped the rest of the line.
  escapedHash: `PREFIX ex: <http://e/> SELECT * WHERE { ex:a\\#b ?p ?o ${'{'.repeat(1000)} ?s ?p ?o ${'}'.repeat(1000)} }`,
  // A prefix named DATA: the old lexer took `DATA:g {` for INSERT DATA and stopped counting groups and operators.
  dataPrefix: `PREFIX DATA: <http://e/> SELECT * WHERE { GRAPH DATA:g { {?s ?p ?o}${' UNION {?s ?p ?o}'.repeat(5000)} } }`,
  valuesPrefix: `PREFIX VALUES: <http://e/> SELECT * WHERE { ?s VALUES:p ?o ${'{?s ?p ?o} UNION '.repeat(5000)} {} }`,
  // Escaped parentheses in a local name are not brackets, and must not close real ones.
  escapedParens: `PREFIX ex: <http://e/> SELECT * WHERE { ex:a${'\\)'.repeat(300)} ?p ?o ${'{'.repeat(1000)} ${'}'.repeat(1000)} }`,
  // `?a<(((...)))&&?a>0` is less-than and greater-than around an expression, not an IRI.
  lessThanDepth: `SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<${'('.repeat(1000)}2${')'.repeat(1000)}&&?a>0) }`,
  lessThanOpen: `SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<${'('.repeat(1000)}1&&?a>0${')'.repeat(1000)}) }`,
  lessThanChain: `SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<1${'/1'.repeat(5000)}&&?a>0) }`,
  negativeLiterals: `SELECT * WHERE { FILTER(1${' -1'.repeat(5000)} < 0) }`,
  nots: `SELECT * WHERE { FILTER(${'!'.repeat(5000)}true) }`,
  triplePatterns: `SELECT * WHERE { ${Array.from({ length: 3000 }, (_, i) => `?s <p:${i}> ?o${i} .`).join(' ')} }`,
  objects: `SELECT * WHERE { ?s <p:p> ${Array.from({ length: 3000 }, (_, i) => `?o${i}`).join(', ')} }`,
  binds: `SELECT * WHERE { ${Array.from({ length: 1000 }, (_, i) => `BIND(${i} AS ?v${i})`).join(' ')} }`,
  filters: `SELECT * WHERE { ?s ?p ?o ${'FILTER(?o) '.repeat(3000)} }`,
  pathAlternatives: `SELECT * WHERE { ?s ${Array.from({ length: 2000 }, (_, i) => `<p:${i}>`).join('|')} ?o }`,
  nestedListsInData: `INSERT DATA { <a:s> <a:p> ${'('.repeat(5000)} 1 ${')'.repeat(5000)} }`,
  nestedBlankNodesInData: `INSERT DATA { <a:s> <a:p> ${'[ <a:p> '.repeat(5000)} 1 ${']'.repeat(5000)} }`,
  // `<<` opens a quoted triple (SPARQL-star): nested in data it traps the update parser, in a 16 MB worker too (fuzz, seed 31).
  nestedQuotedTriplesInData: `INSERT DATA { <a:s> <a:p> ${'<<'.repeat(2000)} }`,
  nestedQuotedTriples: `SELECT * WHERE { ?s ?p ${'<< ?s ?p '.repeat(2000)} }`,
  manyListMembersInData: `INSERT DATA { <a:s> <a:p> ${Array.from({ length: 2000 }, () => `( ${'1 '.repeat(50)})`).join(' , ')} }`,
};
