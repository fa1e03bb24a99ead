// RFC 9535 filter syntax rewritten for jsonpath-plus, and the search evaluator's errors.
import { describe, expect, it } from 'vitest';
import { queryJsonPath, toJsonPathPlus } from '../../hub/directory/jsonpath.ts';
import { BadRequestError } from '../../hub/errors.ts';

describe('toJsonPathPlus', () => {
  it('wraps bare filters, leaves parenthesised ones and quoted brackets alone', () => {
    expect(toJsonPathPlus("$[?@.a == 'x']")).toBe("$[?(@.a == 'x')]");
    expect(toJsonPathPlus("$[?(@.a == 'x')]")).toBe("$[?(@.a == 'x')]");
    expect(toJsonPathPlus("$[?@.a == 'x]y'].b")).toBe("$[?(@.a == 'x]y')].b");
    expect(toJsonPathPlus('$[?@.p[?@.r == true]]')).toBe('$[?(@.p[?(@.r == true)])]');
    expect(toJsonPathPlus('$.a[0].b')).toBe('$.a[0].b');
  });
});

describe('queryJsonPath', () => {
  const tds = [{ id: 'a', title: 'x]y', n: 1 }, { id: 'b', title: 'z', n: 2 }];

  it('evaluates RFC 9535 filters', () => {
    expect(queryJsonPath("$[?@.title == 'x]y'].id", tds)).toEqual(['a']);
    expect(queryJsonPath('$[?@.n > 1].id', tds)).toEqual(['b']);
  });

  it('refuses a relative path, an unclosed filter and script', () => {
    for (const q of ['title', "$[?@.title == 'x'", '$[?(@.constructor.constructor("return 1")())]']) {
      expect(() => queryJsonPath(q, tds), q).toThrow(BadRequestError);
    }
  });
});
