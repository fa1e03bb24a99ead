// Engine units: JSONPath, templates, RML-FNML functions (new and legacy syntax), YARRRML, per-message errors.
import { DataFactory } from 'n3';
import type { Quad } from '@rdfjs/types';
import { isomorphic } from 'rdf-isomorphic';
import { Parser } from 'n3';
import { describe, expect, it } from 'vitest';
import { MappingError } from '../../hub/errors.ts';
import { compileMapping } from '../../hub/mapping/compile.ts';
import { builtinFunctions, toDateTime } from '../../hub/mapping/functions.ts';
import { compileJsonPath } from '../../hub/mapping/jsonpath.ts';
import { parseTemplate } from '../../hub/mapping/template.ts';

const PREFIXES = `@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix grel: <http://users.ugent.be/~bjdmeest/function/grel.ttl#> .
`;
const MSG = { meta: { thingId: 't 1', protocol: 'test', receivedAt: '2024-05-01T10:00:00.000Z' }, payload: { temp_f: 212, name: ' Probe ', t: 1714557600, readings: [{ v: 1 }, { v: 2 }] } };
const nq = (text: string): Quad[] => new Parser({ format: 'application/n-quads' }).parse(text) as Quad[];
const map = (ttl: string, message: unknown = MSG) => compileMapping(PREFIXES + ttl, 'turtle', { baseIri: 'http://hub/' }).mapMessage(message);
const SOURCE = `rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ]`;

describe('JSONPath', () => {
  it('compiles simple paths and falls back for the rest', () => {
    const doc = { a: { b: [10, 20, { c: 'x' }] }, 'Country Code': 3 };
    expect(compileJsonPath('$.a.b[1]').one(doc)).toBe(20);
    expect(compileJsonPath("$['Country Code']").one(doc)).toBe(3);
    expect(compileJsonPath('$.a.b[*]').all(doc)).toEqual([10, 20, { c: 'x' }]);
    expect(compileJsonPath('$..c').all(doc)).toEqual(['x']);
    expect(compileJsonPath('$.a.b[?(@.c)]').all(doc)).toEqual([{ c: 'x' }]);
    expect(compileJsonPath('$.toString').one(doc)).toBeUndefined();
  });

  it('names the path and offset of a syntax error', () => {
    expect(() => compileJsonPath('$.a[*]]')).toThrow(/Invalid JSONPath '\$\.a\[\*\]\]' at offset 6/);
    expect(() => compileJsonPath('a.b')).toThrow(MappingError);
    expect(() => compileJsonPath("$['x")).toThrow(/Invalid JSONPath '\$\['x' at offset 4: unclosed string/);
  });
});

describe('templates', () => {
  it('parses references and escapes', () => {
    expect(parseTemplate('http://x/{$.a}\\{lit\\}{b}')).toEqual([{ text: 'http://x/' }, { ref: '$.a' }, { text: '{lit}' }, { ref: 'b' }]);
    expect(() => parseTemplate('x{a')).toThrow(/not closed/);
    expect(() => parseTemplate('x{}')).toThrow(/empty reference/);
    expect(() => parseTemplate('x}')).toThrow(/outside a reference/);
  });
});

describe('RML-FNML', () => {
  it('runs built-in functions with the RML-FNML syntax', () => {
    const quads = map(`ex:tm a rml:TriplesMap ; ${SOURCE} ;
      rml:subjectMap [ rml:template "things/{$.meta.thingId}" ] ;
      rml:predicateObjectMap [ rml:predicate ex:celsius ; rml:objectMap [ rml:functionExecution [ rml:function hub:convertUnit ;
          rml:input [ rml:parameter hub:value ; rml:inputValueMap [ rml:reference "$.payload.temp_f" ] ] ,
                    [ rml:parameter hub:fromUnit ; rml:inputValue "degF" ] , [ rml:parameter hub:toUnit ; rml:inputValue "degC" ] ] ] ] ,
        [ rml:predicate ex:name ; rml:objectMap [ rml:functionExecution [ rml:function grel:string_trim ;
          rml:input [ rml:parameter grel:valueParameter ; rml:inputValueMap [ rml:reference "$.payload.name" ] ] ] ] ] ,
        [ rml:predicate ex:time ; rml:objectMap [ rml:functionExecution [ rml:function hub:toDateTime ;
          rml:input [ rml:parameter hub:value ; rml:inputValueMap [ rml:reference "$.payload.t" ] ] ] ] ] .`);
    expect(isomorphic(quads, nq(`<http://hub/things/t%201> <http://example.org/celsius> "100"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://hub/things/t%201> <http://example.org/name> "Probe" .
<http://hub/things/t%201> <http://example.org/time> "2024-05-01T10:00:00.000Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .`))).toBe(true);
  });

  it('rejects an unknown function or parameter at compile time, naming it', () => {
    const fn = (f: string, p: string) => `ex:tm a rml:TriplesMap ; ${SOURCE} ; rml:subjectMap [ rml:template "x:{$.meta.thingId}" ] ;
      rml:predicateObjectMap [ rml:predicate ex:p ; rml:objectMap [ rml:functionExecution [ rml:function ${f} ;
        rml:input [ rml:parameter ${p} ; rml:inputValue "1" ] ] ] ] .`;
    expect(() => map(fn('hub:nope', 'hub:value'))).toThrow(expect.objectContaining({ code: 'invalid-mapping', extensions: { term: 'https://w3id.org/wot-hub#nope' } }));
    expect(() => map(fn('hub:parseNumber', 'hub:nope'))).toThrow(/has no parameter <https:\/\/w3id.org\/wot-hub#nope>/);
  });

  it('takes user functions through the registry', () => {
    const functions = builtinFunctions().register('http://example.org/fn#double', { parameters: ['http://example.org/fn#x'], fn: (x) => 2 * Number(x) });
    const plan = compileMapping(
      `${PREFIXES}ex:tm a rml:TriplesMap ; ${SOURCE} ; rml:subjectMap [ rml:template "x:{$.meta.protocol}" ] ;
      rml:predicateObjectMap [ rml:predicate ex:p ; rml:objectMap [ rml:functionExecution [ rml:function <http://example.org/fn#double> ;
        rml:input [ rml:parameter <http://example.org/fn#x> ; rml:inputValueMap [ rml:reference "$.payload.temp_f" ] ] ] ] ] .`,
      'turtle',
      { functions },
    );
    expect(plan.mapMessage(MSG).map((q) => q.object.value)).toEqual(['424']);
  });

  it('converts times', () => {
    expect(toDateTime(1714557600)).toBe('2024-05-01T10:00:00.000Z');
    expect(toDateTime(1714557600000)).toBe('2024-05-01T10:00:00.000Z');
    expect(toDateTime('2024-05-01T12:00:00+02:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(() => toDateTime('yesterday')).toThrow(MappingError);
  });
});

describe('YARRRML', () => {
  it('is normalised like legacy RML, functions included', () => {
    const yaml = `prefixes:
  ex: http://example.org/
  grel: http://users.ugent.be/~bjdmeest/function/grel.ttl#
mappings:
  thing:
    sources:
      - ['hub:CurrentMessage~jsonpath', '$']
    s: http://hub/things/$(meta.protocol)
    po:
      - [ex:name, $(payload.name)]
      - [ex:upper, {function: grel:toUpperCase, parameters: [[grel:valueParameter, $(payload.name)]]}]
`;
    const quads = compileMapping(yaml, 'yarrrml').mapMessage(MSG);
    expect(isomorphic(quads, nq(`<http://hub/things/test> <http://example.org/name> " Probe " .
<http://hub/things/test> <http://example.org/upper> " PROBE " .`))).toBe(true);
  });

  it('reports parser errors as MappingError', () => {
    expect(() => compileMapping('mappings:\n  x:\n    s: nope:$(a)\n', 'yarrrml')).toThrow(expect.objectContaining({ code: 'mapping-syntax' }));
    expect(() => compileMapping('a: [unclosed', 'yarrrml')).toThrow(MappingError);
  });
});

describe('per-message execution', () => {
  it('joins triples maps over the same message', () => {
    const quads = map(`ex:reading a rml:TriplesMap ;
      rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$.payload.readings[*]" ] ;
      rml:subjectMap [ rml:template "readings/{$.v}" ] ;
      rml:predicateObjectMap [ rml:predicate ex:of ; rml:objectMap [ rml:parentTriplesMap ex:thing ;
        rml:joinCondition [ rml:child "$.v" ; rml:parent "$.payload.readings[*].v" ] ] ] .
    ex:thing a rml:TriplesMap ; ${SOURCE} ; rml:subjectMap [ rml:template "things/{$.meta.protocol}" ] .`);
    expect(isomorphic(quads, nq(`<http://hub/readings/1> <http://example.org/of> <http://hub/things/test> .
<http://hub/readings/2> <http://example.org/of> <http://hub/things/test> .`))).toBe(true);
  });

  it('fails the whole message on a data error, producing nothing', () => {
    const plan = compileMapping(`${PREFIXES}ex:tm a rml:TriplesMap ; ${SOURCE} ; rml:subjectMap [ rml:template "x:{$.meta.protocol}" ] ;
      rml:predicateObjectMap [ rml:predicate ex:a ; rml:objectMap [ rml:reference "$.meta.protocol" ] ] ,
        [ rml:predicate ex:b ; rml:objectMap [ rml:reference "$.payload.readings" ] ] .`);
    expect(() => plan.mapMessage(MSG)).toThrow(expect.objectContaining({ code: 'mapping-failed', message: expect.stringMatching(/selects an array/) }));
    expect(plan.mapMessage({ ...MSG, payload: { readings: 3 } })).toHaveLength(2);
  });

  it('uses the same compiled plan for every message', () => {
    const plan = compileMapping(`${PREFIXES}ex:tm a rml:TriplesMap ; ${SOURCE} ; rml:subjectMap [ rml:template "x:{$.payload.n}" ; rml:class ex:C ] .`);
    const a = plan.mapMessage({ meta: MSG.meta, payload: { n: 1 } });
    const b = plan.mapMessage({ meta: MSG.meta, payload: { n: 2 } });
    expect(a[0]!.subject).toEqual(DataFactory.namedNode('x:1'));
    expect(b[0]!.subject).toEqual(DataFactory.namedNode('x:2'));
  });
});

describe('writeNQuads', () => {
  it('round-trips through a strict N-Quads parser, escapes included', async () => {
    const { writeNQuads } = await import('../../hub/mapping/nquads.ts');
    const { namedNode, literal, blankNode, quad } = DataFactory;
    const quads = [
      quad(namedNode('http://x/a b'), namedNode('http://x/p'), literal('line\n"quoted" \\ back'), namedNode('http://x/g')),
      quad(blankNode('b1'), namedNode('http://x/p'), literal('chat', 'fr')),
      quad(blankNode('b1'), namedNode('http://x/p'), literal('1.5', namedNode('http://www.w3.org/2001/XMLSchema#double'))),
      quad(blankNode('b1'), namedNode('http://x/p'), literal('plain')),
    ];
    const back = nq(writeNQuads(quads));
    expect(back).toHaveLength(4);
    expect(back[0]!.subject.value).toBe('http://x/a%20b');
    expect(back[0]!.object.value).toBe('line\n"quoted" \\ back');
    expect(isomorphic(back.slice(1), quads.slice(1))).toBe(true);
  });
});
