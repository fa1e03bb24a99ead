// IRI-safe / URI-safe template values (R2RML §7.3, RML-Core) and RFC 3987 validation of generated IRIs.
import { describe, expect, it } from 'vitest';
import { MappingError } from '../../hub/errors.ts';
import { compileMapping } from '../../hub/mapping/compile.ts';
import { iriProblem, iriSafe, isUcschar, uriSafe } from '../../hub/mapping/iri.ts';

const PREFIXES = `@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
@prefix ex: <http://example.org/> .
`;
const SOURCE = 'rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ]';
const envelope = (payload: Record<string, unknown>) => ({ meta: { thingId: 't1', protocol: 'test', receivedAt: '2024-05-01T10:00:00Z' }, payload });

describe('iriSafe', () => {
  it('keeps iunreserved (ALPHA, DIGIT, -._~ and ucschar) and percent-encodes the rest as UTF-8, upper-case hex', () => {
    expect(iriSafe('Zoë Krüger')).toBe('Zoë%20Krüger');
    expect(iriSafe('42')).toBe('42');
    expect(iriSafe('Hello World!')).toBe('Hello%20World%21');
    expect(iriSafe('2011-08-23T22:17:00Z')).toBe('2011-08-23T22%3A17%3A00Z');
    expect(iriSafe('~A_17.1-2¢')).toBe('~A_17.1-2¢');
    expect(iriSafe('日本語')).toBe('日本語');
  });

  it('encodes every reserved and excluded ASCII character', () => {
    expect(iriSafe(":/?#[]@!$&'()*+,;=")).toBe('%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D');
    expect(iriSafe('%<>"{}|\\^`')).toBe('%25%3C%3E%22%7B%7D%7C%5C%5E%60');
    expect(iriSafe('a\u0000b\u001fc\u007f')).toBe('a%00b%1Fc%7F');
    expect(iriSafe('Bob/Charles')).toBe('Bob%2FCharles');
  });

  it('keeps astral ucschar and encodes astral non-ucschar (plane 14 tags, nFFFE/nFFFF, private use)', () => {
    expect(iriSafe('😀')).toBe('😀'); // U+1F600
    expect(iriSafe('𠀀')).toBe('𠀀'); // U+20000
    expect(iriSafe('\u{E0001}')).toBe('%F3%A0%80%81'); // LANGUAGE TAG: plane 14 ucschar starts at U+E1000
    expect(iriSafe('\u{E1000}')).toBe('\u{E1000}');
    expect(iriSafe('\u{1FFFE}')).toBe('%F0%9F%BF%BE');
    expect(iriSafe('\u{F0000}')).toBe('%F3%B0%80%80'); // iprivate is not iunreserved
    expect(iriSafe('\uE000')).toBe('%EE%80%80');
  });

  it('follows the ucschar boundaries of RFC 3987 §2.2 exactly', () => {
    const cases: Array<[number, boolean]> = [
      [0x9f, false], [0xa0, true], [0xd7ff, true], [0xf8ff, false], [0xf900, true], [0xfdcf, true], [0xfdd0, false],
      [0xfdef, false], [0xfdf0, true], [0xffef, true], [0xfff0, false], [0xfffd, false], [0x10000, true], [0x1fffd, true],
      [0x1fffe, false], [0x1ffff, false], [0x20000, true], [0xdfffd, true], [0xe0000, false], [0xe0fff, false], [0xe1000, true],
      [0xefffd, true], [0xefffe, false], [0xf0000, false], [0x10fffd, false],
    ];
    for (const [cp, want] of cases) expect([cp.toString(16), isUcschar(cp)]).toEqual([cp.toString(16), want]);
    // Through iriSafe: a kept character is itself, an encoded one is its UTF-8 octets.
    expect(iriSafe(String.fromCodePoint(0xa0))).toBe('\u00a0');
    expect(iriSafe(String.fromCodePoint(0x9f))).toBe('%C2%9F');
    expect(iriSafe(String.fromCodePoint(0xfdd0))).toBe('%EF%B7%90');
    expect(iriSafe(String.fromCodePoint(0xfff0))).toBe('%EF%BF%B0');
  });

  it('encodes a lone surrogate as U+FFFD (it has no UTF-8 form)', () => {
    expect(iriSafe('a\ud800b')).toBe('a%EF%BF%BDb');
    expect(iriSafe('\udc00')).toBe('%EF%BF%BD');
  });

  it('uriSafe (rml:URI) encodes non-ASCII as well', () => {
    expect(uriSafe('Zoë Krüger')).toBe('Zo%C3%AB%20Kr%C3%BCger');
    expect(uriSafe('~A_17.1-2¢')).toBe('~A_17.1-2%C2%A2');
    expect(uriSafe('😀')).toBe('%F0%9F%98%80');
  });
});

describe('iriProblem (RFC 3987)', () => {
  it('accepts absolute IRIs with ucschar, escapes, and iprivate in the query', () => {
    for (const iri of ['http://example.org/Zoë%20Krüger', 'urn:x:1', 'http://ex/a?q=\uE000#f', 'http://[::1]:80/p', 'mailto:a@b']) expect([iri, iriProblem(iri)]).toEqual([iri, undefined]);
  });

  it('names what is wrong', () => {
    expect(iriProblem('http://ex/a b')).toMatch(/a space \(U\+0020\) at offset 11/);
    expect(iriProblem('no-scheme')).toMatch(/no scheme/);
    expect(iriProblem('http://ex/<x>')).toMatch(/'<'/);
    expect(iriProblem('http://ex/%zz')).toMatch(/not a percent-encoding/);
    expect(iriProblem('http://ex/\uE000')).toMatch(/U\+E000/); // iprivate outside the query
    expect(iriProblem('http://ex/\u{E0001}')).toMatch(/U\+E0001/);
    expect(iriProblem('http://ex/a\u0007')).toMatch(/U\+0007/);
  });
});

describe('template and reference IRIs in the engine', () => {
  const mapping = (subject: string, base?: string) =>
    compileMapping(`${PREFIXES}ex:tm a rml:TriplesMap ; ${SOURCE} ; rml:subjectMap [ ${subject} ] ; rml:predicateObjectMap [ rml:predicate ex:p ; rml:object ex:o ] .`, 'turtle', { baseIri: base });

  it('IRI-safe templates keep non-ASCII; rml:URI templates encode it', () => {
    const iri = mapping('rml:template "http://example.org/Person/{$.payload.name}"').mapMessage(envelope({ name: 'Zoë Krüger' }))[0]!.subject.value;
    expect(iri).toBe('http://example.org/Person/Zoë%20Krüger');
    const uri = mapping('rml:template "http://example.org/Person/{$.payload.name}" ; rml:termType rml:URI').mapMessage(envelope({ name: 'Zoë Krüger' }))[0]!.subject.value;
    expect(uri).toBe('http://example.org/Person/Zo%C3%AB%20Kr%C3%BCger');
    const astral = mapping('rml:template "http://example.org/e/{$.payload.name}"').mapMessage(envelope({ name: '😀 [x]' }))[0]!.subject.value;
    expect(astral).toBe('http://example.org/e/😀%20%5Bx%5D');
  });

  it('a reference value with a space used as an IRI is a MappingError invalid-iri naming the term map and the value', () => {
    const plan = mapping('rml:reference "$.payload.id" ; rml:termType rml:IRI');
    expect(plan.mapMessage(envelope({ id: 'http://example.org/ok' }))[0]!.subject.value).toBe('http://example.org/ok');
    let error: unknown;
    try {
      plan.mapMessage(envelope({ id: 'http://example.org/a b' }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MappingError);
    expect(error).toMatchObject({ code: 'invalid-iri', status: 422, extensions: { value: 'http://example.org/a b', term: expect.stringMatching(/^subject map .* of triples map <http:\/\/example.org\/tm>$/) } });
    expect((error as Error).message).toMatch(/generated 'http:\/\/example.org\/a b', which is not a valid IRI: a space/);
  });

  it('a relative IRI with no base IRI is invalid-iri; with a base it is resolved', () => {
    expect(() => mapping('rml:reference "$.payload.id" ; rml:termType rml:IRI').mapMessage(envelope({ id: 'rel' }))).toThrow(expect.objectContaining({ code: 'invalid-iri', message: expect.stringMatching(/no base IRI/) }));
    expect(mapping('rml:reference "$.payload.id" ; rml:termType rml:IRI', 'http://b/').mapMessage(envelope({ id: 'rel' }))[0]!.subject.value).toBe('http://b/rel');
  });

  it('characters RFC 3987 does not allow are invalid-iri, in references and in template text', () => {
    expect(() => mapping('rml:reference "$.payload.id" ; rml:termType rml:IRI').mapMessage(envelope({ id: 'http://ex/\u{E0001}' }))).toThrow(expect.objectContaining({ code: 'invalid-iri' }));
    expect(() => mapping('rml:reference "$.payload.id" ; rml:termType rml:IRI').mapMessage(envelope({ id: 'http://ex/{x}' }))).toThrow(expect.objectContaining({ code: 'invalid-iri' }));
    // A template whose literal text is no IRI text is checked per message.
    expect(() => mapping('rml:template "http://ex/a b/{$.payload.id}"').mapMessage(envelope({ id: 1 }))).toThrow(expect.objectContaining({ code: 'invalid-iri' }));
  });

  it('rml:UnsafeIRI values are only required to be absolute', () => {
    expect(mapping('rml:reference "$.payload.id" ; rml:termType rml:UnsafeIRI').mapMessage(envelope({ id: 'http://ex/a b' }))[0]!.subject.value).toBe('http://ex/a b');
    expect(() => mapping('rml:reference "$.payload.id" ; rml:termType rml:UnsafeIRI').mapMessage(envelope({ id: 'a b' }))).toThrow(expect.objectContaining({ code: 'invalid-iri' }));
  });

  it('skips the term instead when dataErrors is skip (the R2RML-derived behaviour)', () => {
    const text = `${PREFIXES}ex:tm a rml:TriplesMap ; ${SOURCE} ; rml:subjectMap [ rml:reference "$.payload.id" ; rml:termType rml:IRI ] ; rml:predicateObjectMap [ rml:predicate ex:p ; rml:object ex:o ] .`;
    expect(compileMapping(text, 'turtle', { dataErrors: 'skip' }).mapMessage(envelope({ id: 'http://ex/a b' }))).toEqual([]);
  });
});
