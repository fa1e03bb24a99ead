// The complexity guard: what it counts, what it skips, where it refuses, and the bypasses of the old lexer heuristic.
import { describe, expect, it } from 'vitest';
import { assertManageable, measure } from '../../hub/store/query-complexity.ts';
import { BadRequestError } from '../../hub/errors.ts';
import { TRAPS } from './complexity-traps.ts';

const refused = (text: string) => {
  try {
    assertManageable(text);
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequestError);
    return (e as BadRequestError).code;
  }
  return 'accepted';
};

const star = (n: number, v = 'v', p = 'p') => Array.from({ length: n }, (_, i) => `?s <http://x/${p}${i}> ?${v}${i} .`).join(' ');

describe('nondeterministic builtins (an update calling them is refused by the embedded store)', () => {
  it('names UUID, STRUUID and RAND calls, in any case, once each; not in strings, IRIs, prefixed names, comments or data', () => {
    expect(measure('SELECT (UUID() AS ?u) (uuid() AS ?v) WHERE {}').nondeterministic).toEqual(['UUID']);
    expect(measure('INSERT { ?s <p:r> ?r } WHERE { ?s ?p ?o BIND(rand() AS ?r) FILTER(STRLEN(STRUUID()) > 0) }').nondeterministic).toEqual(['RAND', 'STRUUID']);
    expect(measure('PREFIX ex: <urn:ex:> INSERT DATA { <urn:UUID> ex:RAND "STRUUID()" } ; INSERT { ?s ex:UUID ?o } WHERE { ?s ?p ?o } # RAND()').nondeterministic).toEqual([]);
    expect(measure("SELECT * WHERE { ?s ?p 'UUID()' ; ?q \"\"\"RAND()\"\"\" }").nondeterministic).toEqual([]);
    expect(measure('SELECT (NOW() AS ?t) (BNODE() AS ?b) WHERE {}').nondeterministic).toEqual([]);
  });
});

describe('triple patterns per join scope (Oxigraph plans joins in about the fourth power of their size)', () => {
  it('counts objects, list members and [ ], not templates, expressions or data', () => {
    expect(measure(`SELECT * { ${star(48)} }`).patterns).toBe(48);
    expect(measure('SELECT * { ?s <p:a> ?a, ?b ; <p:c> [ <p:d> ?d ; <p:e> ?e ] }').patterns).toBe(5);
    expect(measure('SELECT * { ?s <p:a> (1 2 3) }').patterns).toBe(7); // the link, then first + rest per member
    expect(measure(`SELECT * { ?s ?p ?o FILTER(?o > 1 && regex(str(?o), "a") && ?o IN (${Array.from({ length: 60 }, (_, i) => i).join(',')})) BIND(COALESCE(?o, 1) AS ?k) }`).patterns).toBe(1);
    expect(measure(`INSERT { ${star(60).replaceAll('?s', '<s:s>')} } WHERE { ?s ?p ?o }`).patterns).toBe(1);
    expect(measure(`CONSTRUCT { ${star(60)} } WHERE { ?s ?p ?o }`).patterns).toBe(1);
    expect(measure(`SELECT * { VALUES (?a ?b) { ${'(1 2) '.repeat(100)} } ?s ?p ?a }`).patterns).toBe(1);
  });

  it('joined groups count as one scope; OPTIONAL, MINUS and EXISTS groups are scopes of their own', () => {
    expect(measure(`SELECT * { { ${star(24)} } { ${star(24, 'w', 'q')} } }`).patterns).toBe(48);
    expect(measure(`SELECT * { GRAPH ?g { ${star(20)} } GRAPH ?g { ${star(20, 'w', 'q')} } }`).patterns).toBe(40);
    expect(measure(`SELECT * { ${star(20)} { SELECT * { ${star(20, 'w', 'q')} } } }`).patterns).toBe(40);
    expect(measure(`SELECT * { ${star(10)} FILTER NOT EXISTS { ${star(10, 'w', 'q')} } ${star(30, 'x', 'r')} }`).patterns).toBe(40);
    expect(measure(`SELECT * { ${star(40)} OPTIONAL { ${star(40, 'w', 'q')} } MINUS { ${star(5, 'x', 'r')} } }`).patterns).toBe(40);
  });

  it('refuses a scope over 48 and joins whose planning work adds up past the budget; many small OPTIONALs pass', () => {
    expect(refused(`SELECT * { ${star(48)} }`)).toBe('accepted');
    expect(refused(`SELECT * { ${star(49)} }`)).toBe('query-too-complex');
    expect(refused(`SELECT * { ?s <p:p> ${Array.from({ length: 49 }, (_, i) => `?o${i}`).join(', ')} }`)).toBe('query-too-complex');
    expect(refused(`SELECT * { ${'('.repeat(40)}${')'.repeat(40)} }`)).toBe('query-too-complex');
    expect(refused(`SELECT * { { ${star(30)} } { ${star(30, 'w', 'q')} } }`)).toBe('query-too-complex');
    expect(refused(`SELECT * { ${star(45)} OPTIONAL { ${star(45, 'w', 'q')} } }`)).toBe('query-too-complex');
    expect(refused(`SELECT * { ${star(40)} OPTIONAL { ${star(30, 'w', 'q')} } }`)).toBe('accepted');
    expect(refused(`SELECT * { ?s ?p ?o ${Array.from({ length: 60 }, (_, i) => `OPTIONAL { ?s <p:o${i}> ?z${i} . ?z${i} <p:l> ?l${i} }`).join(' ')} }`)).toBe('accepted');
  });
});

describe('measure', () => {
  it('counts nesting, groups, operators and terms', () => {
    expect(measure('SELECT ?x WHERE { { ?s ?p ?o } OPTIONAL { ?s <p:q> ?x FILTER((?x + 1) > 2 && ?x != 3) } }')).toMatchObject({
      depth: 4,
      groups: 5,
      operators: 4,
      terms: 12,
    });
  });

  it('skips strings, IRIs, comments, prefixed names and DATA / VALUES blocks', () => {
    const text = `PREFIX ex-1: <http://ex/a-b/c> # { ( [ + -
INSERT DATA { ex-1:a-b.c ex-1:p "{{{ ((( +++ " , '''}}}''' , """ " "" ( """, <http://x/?a=1&b=2> , ex-1:x\\#\\(y , "a"@en-US, -1.5e3 }`;
    expect(measure(text)).toMatchObject({ depth: 1, groups: 0, operators: 0, terms: 2 }); // the PREFIX declaration's two
    expect(measure('SELECT * { VALUES (?a ?b) { (<a:x> -1) (UNDEF "(") } }')).toMatchObject({ depth: 3, groups: 1, terms: 2 });
  });

  it('is linear and never throws on arbitrary text', () => {
    for (const t of ['', '<', '"', "'''", '\\', '#', ')))', '}}}', '?', '_:', '@', 'ex:\\', '<\\u12', "FILTER(?a<'", '\uD800']) {
      expect(() => measure(t)).not.toThrow();
    }
    const unterminated = `SELECT * { ?s ?p ?o } #${'<'.repeat(200_000)}\n${'"'.repeat(200_000)}${"'".repeat(200_000)}${'('.repeat(200_000)}`;
    const t0 = performance.now();
    expect(measure(unterminated).depth).toBe(200_000);
    // Openers that never close, and '<' tokens read as expressions: each must not rescan the rest of the text.
    for (const t of [`'''${"\\'''".repeat(100_000)}`, `"${'\\"'.repeat(100_000)}`, `ASK { FILTER(?a${'<(1)&&?b>'.repeat(50_000)}) }`]) {
      expect(measure(t).depth).toBeGreaterThanOrEqual(0);
    }
    // ~0.9 s here on a quiet machine; a quadratic scan of these 400-500 KB texts would take minutes.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('assertManageable', () => {
  it.each(Object.entries(TRAPS))('refuses %s with query-too-complex', (_name, text) => {
    expect(refused(text)).toBe('query-too-complex');
  });

  it("refuses an ambiguous '<' whose expression reading holds a quote", () => {
    expect(refused(`SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<'x>' = 'x>' && ${'('.repeat(500)}1${')'.repeat(500)}) }`)).toBe('query-too-complex');
    expect(measure(`SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<'x>' = 'x>') }`).ambiguous).toBe(true);
  });

  it('accepts large flat INSERT DATA / DELETE DATA fast (typed and signed literals are data, not operators)', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => `<http://s/${i}> <http://p> "v ${i}"^^<http://www.w3.org/2001/XMLSchema#string>, -${i}.5e3, "x"@en .`);
    const big = `INSERT DATA { GRAPH <http://g> { ${rows.join('\n')} } }`;
    const t0 = performance.now();
    expect(() => assertManageable(big)).not.toThrow();
    expect(performance.now() - t0).toBeLessThan(3000); // 2.1 MB: ~110 ms here when warm
    expect(() => assertManageable(`DELETE DATA { ${rows.slice(0, 3000).join('\n')} }`)).not.toThrow();
    expect(() => assertManageable(`SELECT * { VALUES ?x { ${Array.from({ length: 5000 }, (_, i) => `<http://x/${i}>`).join(' ')} } }`)).not.toThrow();
    // ...but operators after the data block are counted again.
    expect(refused(`INSERT DATA { <a:b> <a:c> 1 } ; DELETE WHERE { ?s ?p ?o FILTER(1${'+1'.repeat(600)} > 0) }`)).toBe('query-too-complex');
  });

  it('accepts ordinary queries and names what is over the limits', () => {
    expect(() => assertManageable('SELECT * WHERE { ?s ?p ?o FILTER(?o > 1) }')).not.toThrow();
    expect(() => assertManageable('SELECT * WHERE { ?s <http://x/a(b)> ?o FILTER(?o IN (<http://x/(1)>, <http://x/?a=1&b=2>)) }')).not.toThrow();
    expect(() => assertManageable(`SELECT * WHERE ${'{'.repeat(200)}${'}'.repeat(200)}`)).toThrow(BadRequestError);
    try {
      assertManageable(`ASK { FILTER(1${'+1'.repeat(600)} > 0) }`);
      expect.unreachable();
    } catch (e) {
      expect((e as BadRequestError).code).toBe('query-too-complex');
      expect((e as BadRequestError).message).toMatch(/601 operators/);
    }
  });

  it('counts SERVICE without SILENT, as a keyword only', () => {
    expect(measure('SELECT * { SERVICE <http://x/sparql> { ?s ?p ?o } }').service).toBe(1);
    expect(measure('SELECT * { SERVICE SILENT <http://x/sparql> { ?s ?p ?o } }').service).toBe(0);
    expect(measure('PREFIX SERVICE: <http://e/> SELECT * { ?s SERVICE:p "SERVICE" } # SERVICE').service).toBe(0);
  });
});

describe('sparqljs callers', () => {
  it('guard the rewrite parser (sparqljs needs over a minute for 10,000 nested groups)', async () => {
    const { parseSparqlForRewrite } = await import('../../hub/sparql/parse-update.ts');
    const t0 = performance.now();
    expect(() => parseSparqlForRewrite(`DELETE { ?s ?p ?o } WHERE ${'{'.repeat(10_000)}${'}'.repeat(10_000)}`, 'http://b/')).toThrow(
      expect.objectContaining({ code: 'query-too-complex' }),
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('leave updates without WHERE unparsed under using-graph-uri (a 2 MB INSERT DATA took 2.7-5 s in sparqljs)', async () => {
    const { applyUsingGraphs } = await import('../../hub/sparql/update-dataset.ts');
    const big = `INSERT DATA { ${Array.from({ length: 20_000 }, (_, i) => `<http://s/${i}> <http://p> "v ${i}" .`).join('\n')} }`;
    const t0 = performance.now();
    expect(applyUsingGraphs(big, ['http://g/'], [], 'http://b/')).toBe(big);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(applyUsingGraphs('DELETE WHERE { ?s ?p ?o }', ['http://g/'], [], 'http://b/')).toMatch(/USING <http:\/\/g\/>/);
  });
});
