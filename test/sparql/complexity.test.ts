// The lexical complexity guard: what it counts, what it skips, and where it refuses.
import { describe, expect, it } from 'vitest';
import { assertManageable, measure } from '../../hub/store/query-complexity.ts';
import { BadRequestError } from '../../hub/errors.ts';

describe('measure', () => {
  it('counts nesting, groups and operators', () => {
    expect(measure('SELECT ?x WHERE { { ?s ?p ?o } OPTIONAL { ?s <p:q> ?x FILTER((?x + 1) > 2 && ?x != 3) } }')).toMatchObject({
      depth: 4,
      groups: 5,
      operators: 4,
    });
  });

  it('skips strings, IRIs, comments, prefixed names and DATA blocks', () => {
    const text = `PREFIX ex-1: <http://ex/a-b/c> # { ( [ + -
INSERT DATA { ex-1:a-b.c ex-1:p "{{{ ((( +++ " , '''}}}''' , <http://x/?a=1&b=2> }`;
    expect(measure(text)).toMatchObject({ depth: 1, groups: 0, operators: 0 });
  });
});

describe('assertManageable', () => {
  it('accepts large flat INSERT DATA / DELETE DATA (typed and signed literals are data, not operators)', () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `<http://s/${i}> <http://p> "${i}"^^<http://www.w3.org/2001/XMLSchema#integer>, -${i}.5e3 .`);
    expect(() => assertManageable(`INSERT DATA { GRAPH <http://g> { ${rows.join('\n')} } }`)).not.toThrow();
    expect(() => assertManageable(`DELETE DATA { ${rows.join('\n')} }`)).not.toThrow();
    // ...but operators after the data block are counted again.
    expect(() => assertManageable(`INSERT DATA { <a:b> <a:c> 1 } ; DELETE WHERE { ?s ?p ?o FILTER(1${'+1'.repeat(600)} > 0) }`)).toThrow(BadRequestError);
  });

  it('accepts ordinary queries and refuses deep or long ones', () => {
    expect(() => assertManageable('SELECT * WHERE { ?s ?p ?o FILTER(?o > 1) }')).not.toThrow();
    expect(() => assertManageable(`SELECT * WHERE ${'{'.repeat(200)}${'}'.repeat(200)}`)).toThrow(BadRequestError);
    try {
      assertManageable(`ASK { FILTER(1${'+1'.repeat(600)} > 0) }`);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BadRequestError);
      expect((e as BadRequestError).code).toBe('query-too-complex');
      expect((e as BadRequestError).message).toMatch(/601 operators/);
    }
  });
});
