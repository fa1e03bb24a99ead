// JSONPath search: the RFC 9535 evaluator's typed errors and bounds, and hostile queries on /search/jsonpath (issue 8, defect 1).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryJsonPath, SEARCH_LIMITS, searchJsonPath } from '../../hub/directory/jsonpath.ts';
import { JsonPathError } from '../../hub/errors.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { putTd, sampleTd } from './fixtures.ts';

const stars = (n: number): string => Array(n).fill('*').join(',');
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(JsonPathError);
    return (e as JsonPathError).code;
  }
  return undefined;
};

describe('queryJsonPath', () => {
  const tds = [{ id: 'a', title: 'x]y', n: 1 }, { id: 'b', title: 'z', n: 2 }];

  it('evaluates RFC 9535 filters, functions and the parenthesised filter form', () => {
    expect(queryJsonPath("$[?@.title == 'x]y'].id", tds)).toEqual(['a']);
    expect(queryJsonPath('$[?@.n > 1].id', tds)).toEqual(['b']);
    expect(queryJsonPath("$[?(@.title == 'z')].id", tds)).toEqual(['b']);
    expect(queryJsonPath("$[?match(@.title, '[a-z]')].id", tds)).toEqual(['b']);
    // `]` alone is not an I-Regexp (RFC 9485 §3): escaped it is.
    expect(queryJsonPath("$[?search(@.title, '\\\\]')].id", tds)).toEqual(['a']);
    expect(queryJsonPath("$[?search(@.title, ']')].id", tds)).toEqual([]);
    expect(queryJsonPath('$[?length(@.title) == 3].id', tds)).toEqual(['a']);
  });

  it('refuses a relative path, an unclosed filter and script as jsonpath-syntax with an offset', () => {
    for (const q of ['title', ' $', "$[?@.title == 'x'", '$[?(@.constructor.constructor("return 1")())]', "$[?(@.title.repeat(3).length > 0)]"]) {
      expect(codeOf(() => queryJsonPath(q, tds)), q).toBe('jsonpath-syntax');
    }
    try {
      queryJsonPath('$.a[*]]', tds);
    } catch (e) {
      expect((e as JsonPathError).message).toMatch(/^Invalid JSONPath '\$\.a\[\*\]\]' at offset 6: /);
      expect((e as JsonPathError).extensions).toEqual({ offset: 6 });
      expect((e as JsonPathError).status).toBe(400);
    }
  });

  it('bounds the query text: length and nesting are jsonpath-too-complex before parsing', () => {
    expect(codeOf(() => queryJsonPath(`$${'.a'.repeat(3000)}`, tds))).toBe('jsonpath-too-complex');
    expect(codeOf(() => queryJsonPath(`$[?${'('.repeat(100)}@.a${')'.repeat(100)}]`, tds))).toBe('jsonpath-too-complex');
    // Strings do not count towards the nesting.
    expect(queryJsonPath(`$[?@.title == '${'['.repeat(100)}']`, tds)).toEqual([]);
  });

  it('bounds the result: more than maxNodes nodes is jsonpath-too-large', () => {
    const big = Array.from({ length: 20_000 }, (_, i) => i);
    expect(queryJsonPath('$[0:10000]', big)).toHaveLength(10_000);
    expect(codeOf(() => queryJsonPath('$[*]', big))).toBe('jsonpath-too-large');
    expect(codeOf(() => queryJsonPath('$[*]', big.slice(0, 50), { maxNodes: 10 }))).toBe('jsonpath-too-large');
  });

  it('bounds the work and the time of an evaluation: a query that multiplies nodes is jsonpath-too-complex, quickly', () => {
    const doc = Array.from({ length: 50 }, (_, i) => ({ id: i, a: [1, 2, 3, 4], b: { c: [1, 2, 3] } }));
    const started = performance.now();
    // A union of 200 wildcards: 200 copies of every item, then all their descendants.
    expect(queryJsonPath(`$[${stars(200)}]..*`, doc, { maxNodes: 1e9, maxWork: 1e9, timeoutMs: 60_000 })).toHaveLength(200 * 50 * 11);
    expect(codeOf(() => queryJsonPath(`$[${stars(200)}]..*`, doc, { maxNodes: 1e9, maxWork: 10_000 }))).toBe('jsonpath-too-complex');
    // The same inside a filter test, once per descendant: stopped by the deadline.
    const slow = `$..[?count($[${stars(200)}]..*..*) > 0]`;
    expect(() => queryJsonPath(slow, doc, { maxWork: 1e12, timeoutMs: 20 })).toThrow(/did not finish within 20 ms/);
    expect(codeOf(() => queryJsonPath(slow, doc))).toBe('jsonpath-too-complex');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a deeply nested document is walked without recursion: a result or a typed error, quickly', () => {
    let deep: unknown = { a: 1 };
    for (let i = 0; i < 100_000; i += 1) deep = i % 2 ? [deep] : { a: deep };
    const started = performance.now();
    for (const q of ['$..a', '$..[0,1]', '$..[?@.a == 1]', '$..[?length(@) == 1]', '$..*']) {
      try {
        expect(Array.isArray(queryJsonPath(q, deep)), q).toBe(true);
      } catch (e) {
        expect(e, q).toBeInstanceOf(JsonPathError);
      }
    }
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a regular expression from the document runs on RE2: no catastrophic backtracking, invalid I-Regexps are false', () => {
    const doc = { regex: '(a+)+$', values: ['a'.repeat(5000) + '!', 'aaa'] };
    const started = performance.now();
    expect(queryJsonPath('$.values[?search(@, $.regex)]', doc)).toEqual(['aaa']);
    expect(performance.now() - started).toBeLessThan(2000);
    // Not I-Regexp (RFC 9485): \d, lazy quantifiers, lookahead and backreferences never match.
    for (const p of ['\\d', 'a*?', '(?=a)', '(a)\\1']) expect(queryJsonPath(`$[?match(@, '${p.replaceAll('\\', '\\\\')}')]`, ['1', 'a', 'aa']), p).toEqual([]);
  });

  it('searchJsonPath serialises within the byte bound', () => {
    const doc = [{ t: 'x'.repeat(1000) }];
    expect(JSON.parse(searchJsonPath('$[0].t', doc))).toEqual(['x'.repeat(1000)]);
    expect(codeOf(() => searchJsonPath(`$[${Array(40).fill('0').join(',')}]`, doc, { ...SEARCH_LIMITS, maxBytes: 20_000 }))).toBe('jsonpath-too-large');
  });
});

describe('/search/jsonpath with hostile queries (no token)', () => {
  let hub: TestHub;
  const search = (q: string) => hub.app.inject({ url: `/search/jsonpath?query=${encodeURIComponent(q)}` });
  const alive = async (): Promise<void> => {
    const res = await search("$[?@.title == 'Lamp'].id");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(['urn:h:lamp']);
  };

  beforeAll(async () => {
    hub = await startTestHub();
    expect((await putTd(hub, 'urn:h:lamp', sampleTd('urn:h:lamp', 'Lamp'))).statusCode).toBe(201);
    // A title of 40 characters, none an X: `(.+)+X` backtracks 2^40 ways in a backtracking engine.
    expect((await putTd(hub, 'urn:h:long', sampleTd('urn:h:long', 'a'.repeat(40)))).statusCode).toBe(201);
  });
  afterAll(() => hub?.stop());

  it("String.prototype.repeat/split in a filter (V8 'invalid size' abort before) is a 400 jsonpath-syntax problem", async () => {
    const started = performance.now();
    const res = await search("$[?(@.title.repeat(30000000).split('').length > 0)].id");
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, type: expect.stringMatching(/\/problems\/jsonpath-syntax$/) });
    expect(performance.now() - started).toBeLessThan(2000);
    await alive();
  });

  it('a ReDoS pattern as a JavaScript match() call is a 400; as RFC 9535 match()/search() it answers correctly in linear time', async () => {
    const started = performance.now();
    const js = await search("$[?(@.title.match('^(.+)+X$'))].id");
    expect(js.statusCode).toBe(400);
    expect(js.json().type).toMatch(/\/problems\/jsonpath-syntax$/);
    for (const q of ["$[?match(@.title, '(.+)+X')].id", "$[?search(@.title, '^(.+)+X$')].id", "$[?match(@.title, '(a|aa)*b')].id"]) {
      const res = await search(q);
      expect(res.statusCode, q).toBe(200);
      expect(res.json(), q).toEqual([]);
    }
    const hit = await search("$[?match(@.title, '(.+)+a')].id");
    expect(hit.json()).toEqual(['urn:h:long']);
    expect(performance.now() - started).toBeLessThan(3000);
    await alive();
  });

  it('a query that multiplies nodes is a 400 jsonpath-too-large or -too-complex, not a stalled event loop', async () => {
    const started = performance.now();
    const wide = await search(`$[${stars(1000)}]..*`);
    expect(wide.statusCode).toBe(400);
    // 58,000 nodes: over the node cap, or over the deadline first on a loaded machine (json-p3 runs unions).
    expect(wide.json().type).toMatch(/\/problems\/jsonpath-too-(large|complex)$/);
    const slow = await search(`$..[?count($[${stars(1000)}]..*..*) > 0]`);
    expect(slow.statusCode).toBe(400);
    expect(slow.json().type).toMatch(/\/problems\/jsonpath-too-complex$/);
    expect(performance.now() - started).toBeLessThan(5000);
    await alive();
  });
});
