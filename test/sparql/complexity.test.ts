// The lexical complexity guard: what it counts, what it skips, and where it refuses.
import { describe, expect, it } from 'vitest';
import { assertManageable, measure } from '../../hub/sparql/complexity.ts';
import { BadRequestError } from '../../hub/errors.ts';

describe('measure', () => {
  it('counts nesting, groups and operators', () => {
    expect(measure('SELECT ?x WHERE { { ?s ?p ?o } OPTIONAL { ?s <p:q> ?x FILTER((?x + 1) > 2 && ?x != 3) } }')).toEqual({
      depth: 4,
      groups: 4,
      operators: 4,
    });
  });

  it('skips strings, IRIs, comments, prefixed names and DATA blocks', () => {
    const text = `PREFIX ex-1: <http://ex/a-b/c> # { ( [ + -
INSERT DATA { ex-1:a-b.c ex-1:p "{{{ ((( +++ " , '''}}}''' , <http://x/?a=1&b=2> }`;
    expect(measure(text)).toEqual({ depth: 1, groups: 0, operators: 0 });
  });
});

describe('assertManageable', () => {
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
