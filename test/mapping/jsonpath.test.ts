// RML JSONPath: legacy `[?(...)]` filters translated (never run as JavaScript), fast closures vs the RFC 9535 evaluator, bounds, hostile iterators over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MappingError } from '../../hub/errors.ts';
import { parseJsonPath } from '../../hub/jsonpath/evaluator.ts';
import { compileFast } from '../../hub/jsonpath/fast.ts';
import { translateLegacyFilters } from '../../hub/jsonpath/legacy.ts';
import { compileMapping } from '../../hub/mapping/compile.ts';
import { compileJsonPath, FILE_LIMITS } from '../../hub/mapping/jsonpath.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const thrown = (f: () => unknown): MappingError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MappingError);
    return e as MappingError;
  }
  throw new Error('expected a MappingError');
};

describe('legacy filters', () => {
  const docs = [{ a: 'x', n: 1 }, { a: null, n: 0 }, { n: 2 }, { a: '', n: 3 }, { a: 0 }, { a: false }, { a: 'y', n: '1' }];
  const ids = (path: string): number[] => compileJsonPath(path).all(docs).map((d) => docs.indexOf(d as never));

  it('keep their JavaScript meaning for null, undefined and truthiness', () => {
    expect(ids('$[?(@.a != null)]')).toEqual([0, 3, 4, 5, 6]);
    expect(ids('$[?(@.a == null)]')).toEqual([1, 2]);
    expect(ids('$[?(@.a === null)]')).toEqual([1]);
    expect(ids('$[?(@.a !== null)]')).toEqual([0, 2, 3, 4, 5, 6]);
    expect(ids('$[?(@.a === undefined)]')).toEqual([2]);
    expect(ids('$[?(@.a !== undefined)]')).toEqual([0, 1, 3, 4, 5, 6]);
    expect(ids('$[?(@.a)]')).toEqual([0, 6]);
    expect(ids('$[?(!@.a)]')).toEqual([1, 2, 3, 4, 5]);
    expect(ids("$[?(@.a === 'x' || @.n > 2)]")).toEqual([0, 3]);
    expect(ids("$[?((@.a == 'x' || @.a == 'y') && @.n >= 1)]")).toEqual([0]);
    // RFC 9535 typing: the string '1' is not the number 1 (JavaScript's == coerced it).
    expect(ids('$[?(@.n == 1)]')).toEqual([0]);
  });

  it('are rewritten to RFC 9535 text, and RFC filters are left alone', () => {
    expect(translateLegacyFilters("$[?(@.payload.args.yaw != null && @.payload.address == '/euler')]")).toBe(
      "$[?(@.payload.args.yaw && @.payload.args.yaw != null) && @.payload.address == '/euler']",
    );
    expect(translateLegacyFilters("$.a[?(@['b c'] === 1)].d")).toBe("$.a[?@['b c'] == 1].d");
    for (const rfc of ["$[?@.a == 'x']", '$[?(@.a || @.b) && @.c]', "$['[?(@.a)]']", '$[? (@.a)]']) expect(translateLegacyFilters(rfc)).toBe(rfc);
  });

  it('refuse JavaScript: method calls, .length, other operators and identifiers, jsonpath-plus extensions', () => {
    for (const [path, what] of [
      ["$[?(@.title.repeat(30000000).split('').length > 0)]", /'repeat\(\.\.\.\)' is a JavaScript method call/],
      ["$[?(@.title.match('^(.+)+X$'))]", /'match\(\.\.\.\)' is a JavaScript method call/],
      ['$[?(@.name.length > 3)]', /'\.length' is JavaScript/],
      ['$[?(@.a + 1 > 2)]', /'\+' is JavaScript/],
      ['$[?(@.a = 1)]', /'=' is JavaScript/],
      ['$[?(this.constructor)]', /'this' is JavaScript/],
      ["$[?(@property === 'x')]", /'@property' is a jsonpath-plus extension/],
      ['$[?(@.a ? 1 : 2)]', /'\?' is JavaScript/],
    ] as const) {
      const e = thrown(() => compileJsonPath(path));
      expect(e.code, path).toBe('invalid-mapping');
      expect(e.status).toBe(422);
      expect(e.message, path).toMatch(what);
      expect(e.message).toContain(`Invalid JSONPath '${path}' at offset`);
      expect(e.extensions.term).toBe(path);
    }
  });
});

describe('compiled paths', () => {
  it("use closures for names, indexes, wildcards, descendants and comparison filters, json-p3's evaluator for the rest, with the same nodes", () => {
    const doc = { a: [{ t: 'temperature', v: 1 }, { t: 'humidity', v: 2 }, { t: 'temperature', v: 3, x: [1, 2] }], o: { k: 1, length: 2 } };
    const cases: Array<[string, boolean]> = [
      ['$.a[0].t', true],
      ['$.a[-1].v', true],
      ['$.a[*].v', true],
      ["$.a[?@.t == 'temperature'].v", true],
      ["$.a[?(@.t == 'temperature')].v", true],
      ['$.a[?@.v > 1 && !@.x]', true],
      ['$.a[?@.x[1] == 2].v', true],
      ['$.o.length', true],
      ['$..v', true],
      ["$..[?@.t == 'humidity'].v", true],
      ['$.a[0:2].v', false],
      ['$.a[0,2].v', false],
      ['$.a[?length(@.t) > 8].v', false],
      ["$.a[?match(@.t, 'temp.*')].v", false],
    ];
    for (const [path, fast] of cases) {
      const parsed = parseJsonPath(translateLegacyFilters(path));
      expect(compileFast(parsed.query) !== undefined, path).toBe(fast);
      // json-p3's own evaluation of the same AST (its generators, not the closures).
      expect(compileJsonPath(path).all(doc), path).toEqual(parsed.query.query(doc as never).values());
    }
    expect(compileJsonPath("$.a[?@.t == 'temperature'].v").all(doc)).toEqual([1, 3]);
    // RFC 9535: a name selects object members only (not an array's length), an index array elements only.
    expect(compileJsonPath('$.a.length').one(doc)).toBeUndefined();
    expect(compileJsonPath('$.o.length').one(doc)).toBe(2);
    expect(compileJsonPath('$.o[0]').one({ o: { 0: 'x' } })).toBeUndefined();
    expect(compileJsonPath('$.toString').one({})).toBeUndefined();
  });

  it('bound the nodes an iterator selects: more than 10,000 is a MappingError jsonpath-too-large', () => {
    const msg = { payload: { readings: Array.from({ length: 12_000 }, (_, i) => ({ i })) } };
    expect(compileJsonPath('$.payload.readings[0:100]').all(msg)).toHaveLength(100);
    for (const path of ['$.payload.readings[*]', '$.payload.readings[?@.i >= 0]', '$..i']) {
      const e = thrown(() => compileJsonPath(path).all(msg));
      // 36,000 nodes to walk for `$..i`: on a loaded machine the deadline (mapping-failed) may come first.
      expect(e.code, path).toMatch(path === '$..i' ? /^(jsonpath-too-large|mapping-failed)$/ : /^jsonpath-too-large$/);
      expect(e.extensions.term).toBe(path);
    }
  });
});

describe('file sources (the CLI)', () => {
  it('iterate over every record of a file, past the per-message node cap', () => {
    const doc = { items: Array.from({ length: 12_000 }, (_, i) => ({ id: i, kind: i % 2 ? 'odd' : 'even' })) };
    expect(compileJsonPath("$.items[?@.kind == 'odd']").all(doc, FILE_LIMITS)).toHaveLength(6_000);
    const plan = compileMapping(`@prefix rml: <http://w3id.org/rml/> .
<#tm> a rml:TriplesMap ;
  rml:logicalSource [ rml:source "items.json" ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$.items[*]" ] ;
  rml:subjectMap [ rml:template "http://example.org/items/{$.id}" ; rml:class <http://example.org/Item> ] .
`);
    expect(plan.run(() => doc)).toHaveLength(12_000);
  });
});

describe('hostile iterators through /mappings (issue 8)', () => {
  let hub: TestHub;
  const mapfile = (iterator: string): string => `@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
@prefix ex: <http://example.org/> .
<#tm> a rml:TriplesMap ;
  rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator ${JSON.stringify(iterator)} ] ;
  rml:subjectMap [ rml:template "http://example.org/things/{$.meta.thingId}" ] ;
  rml:predicateObjectMap [ rml:predicate ex:title ; rml:objectMap [ rml:reference "$.payload.title" ] ] .
`;
  const put = (name: string, body: string) =>
    hub.app.inject({ method: 'PUT', url: `/mappings/${name}`, headers: { 'content-type': 'text/turtle', authorization: hub.bearer }, payload: body });
  const preview = (name: string, payload: unknown) => hub.app.inject({ method: 'POST', url: `/mappings/${name}/preview?thingId=t1`, payload: payload as object });
  const title = 'a'.repeat(40);

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.stop());

  it('JavaScript in a legacy iterator (repeat/split, a ReDoS match()) is a 422 invalid-mapping naming the path, and nothing is stored', async () => {
    const started = performance.now();
    for (const iterator of ["$[?(@.payload.title.repeat(30000000).split('').length > 0)]", "$[?(@.payload.title.match('^(.+)+X$'))]"]) {
      const res = await put('hostile', mapfile(iterator));
      expect(res.statusCode, iterator).toBe(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'invalid-mapping', term: iterator, detail: expect.stringContaining('is a JavaScript method call') });
      expect((await preview('hostile', { title })).statusCode).toBe(404);
    }
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('an RFC 9535 ReDoS pattern as an iterator maps in linear time through the preview', async () => {
    expect((await put('redos', mapfile("$[?match(@.payload.title, '(.+)+X')]"))).statusCode).toBe(201);
    expect((await put('redos-hit', mapfile("$[?match(@.payload.title, '(.+)+a')]"))).statusCode).toBe(201);
    const started = performance.now();
    const miss = await preview('redos', { title });
    expect(miss.statusCode).toBe(200);
    expect(miss.body).not.toContain('example.org/title');
    const hit = await preview('redos-hit', { title });
    expect(hit.statusCode).toBe(200);
    expect(hit.body).toContain(title);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('an iterator that selects too many nodes of a previewed message is a 422 jsonpath-too-large, and the hub answers after it', async () => {
    expect((await put('wide', mapfile('$..*'))).statusCode).toBe(201);
    const started = performance.now();
    const res = await preview('wide', { items: Array.from({ length: 6000 }, (_, i) => ({ i })) });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'jsonpath-too-large', term: '$..*' });
    expect(performance.now() - started).toBeLessThan(3000);
    expect((await preview('redos-hit', { title })).statusCode).toBe(200);
  });
});
