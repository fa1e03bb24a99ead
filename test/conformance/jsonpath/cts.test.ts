// RFC 9535 JSONPath Compliance Test Suite (../shared/conformance/jsonpath/cts.json, 703 cases) on the directory's evaluator and the RML engine's compiled paths.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { queryJsonPath } from '../../../hub/directory/jsonpath.ts';
import { JsonPathError, MappingError } from '../../../hub/errors.ts';
import { parseJsonPath } from '../../../hub/jsonpath/evaluator.ts';
import { compileFast } from '../../../hub/jsonpath/fast.ts';
import { translateLegacyFilters } from '../../../hub/jsonpath/legacy.ts';
import { compileJsonPath } from '../../../hub/mapping/jsonpath.ts';

interface Case {
  name: string;
  selector: string;
  document?: unknown;
  /** The only allowed result. */
  result?: unknown[];
  /** Every allowed result, where RFC 9535 leaves the order of object members open. */
  results?: unknown[][];
  invalid_selector?: boolean;
}

const CTS = resolve(import.meta.dirname, '../../../../shared/conformance/jsonpath/cts.json');
const cases = (JSON.parse(readFileSync(CTS, 'utf8')) as { tests: Case[] }).tests;

/** Why a case fails on one evaluator, or undefined when it passes. */
function failure(c: Case, evaluate: (selector: string, doc: unknown) => unknown[], errorClass: new (...a: never[]) => Error): string | undefined {
  let got: unknown[];
  try {
    got = evaluate(c.selector, c.document);
  } catch (e) {
    if (c.invalid_selector && e instanceof errorClass) return undefined;
    return `threw ${(e as Error).name}: ${(e as Error).message}`;
  }
  if (c.invalid_selector) return `accepted an invalid selector, selecting ${JSON.stringify(got)}`;
  const allowed = c.results ?? [c.result];
  return allowed.some((r) => isDeepStrictEqual(got, r)) ? undefined : `selected ${JSON.stringify(got)}, expected ${JSON.stringify(allowed[0])}`;
}

describe('RFC 9535 compliance test suite', () => {
  it('has all 703 cases', () => {
    expect(cases).toHaveLength(703);
  });

  it('the directory evaluator (/search/jsonpath) passes every case; invalid selectors are JsonPathError', () => {
    const failed = cases.map((c) => [c.name, failure(c, (s, d) => queryJsonPath(s, d), JsonPathError)]).filter(([, why]) => why);
    expect(failed).toEqual([]);
  });

  it('the RML compiled paths (compileJsonPath(sel).all(doc)) pass every case; invalid selectors are MappingError invalid-mapping', () => {
    const failed = cases
      .map((c) => [c.name, failure(c, (s, d) => compileJsonPath(s).all(d), MappingError)])
      .filter(([, why]) => why);
    expect(failed).toEqual([]);
    for (const c of cases.filter((x) => x.invalid_selector).slice(0, 20)) {
      expect(() => compileJsonPath(c.selector), c.name).toThrow(expect.objectContaining({ code: 'invalid-mapping' }));
    }
  });

  it('the closures of fast.ts carry a good share of the valid cases (so the suite checks them, not only json-p3)', () => {
    const valid = cases.filter((c) => !c.invalid_selector);
    const fast = valid.filter((c) => compileFast(parseJsonPath(translateLegacyFilters(c.selector)).query) !== undefined);
    // 283 of 456 when written: names, indexes, wildcards, descendants and comparison filters.
    expect(fast.length).toBeGreaterThan(250);
  });
});
