// Accept parsing and negotiation (RFC 9110 §12.5.1) used by the SPARQL endpoint and the Graph Store.
import { describe, expect, it } from 'vitest';
import { charsetOf, mediaTypeOf, negotiate, parseAccept } from '../../hub/http/conneg.ts';

const OFFERED = ['text/turtle', 'application/n-triples', 'application/ld+json'];

describe('parseAccept', () => {
  it('reads ranges, q-values and ignores junk members', () => {
    expect(parseAccept('text/turtle;q=0.5, application/*, bogus, */*;q=0.1')).toEqual([
      { type: 'text', subtype: 'turtle', q: 0.5, index: 0 },
      { type: 'application', subtype: '*', q: 1, index: 1 },
      { type: '*', subtype: '*', q: 0.1, index: 3 },
    ]);
    expect(parseAccept('text/html;q=7')[0]!.q).toBe(1);
    expect(parseAccept(undefined)).toEqual([]);
  });
});

describe('negotiate', () => {
  it('defaults to the first offered type without Accept or with */*', () => {
    expect(negotiate(undefined, OFFERED)).toBe('text/turtle');
    expect(negotiate('', OFFERED)).toBe('text/turtle');
    expect(negotiate('*/*', OFFERED)).toBe('text/turtle');
  });

  it('honours q-values and specificity', () => {
    expect(negotiate('text/turtle;q=0.2, application/ld+json;q=0.9', OFFERED)).toBe('application/ld+json');
    expect(negotiate('application/*;q=0.5, application/n-triples;q=0.1', OFFERED)).toBe('application/ld+json');
    expect(negotiate('*/*;q=0.1, text/turtle;q=0', OFFERED)).toBe('application/n-triples');
  });

  it('returns undefined when nothing is acceptable', () => {
    expect(negotiate('text/html', OFFERED)).toBeUndefined();
    expect(negotiate('text/turtle;q=0', OFFERED)).toBeUndefined();
  });

  it('maps aliases onto offered types', () => {
    expect(negotiate('application/json', OFFERED, { 'application/json': 'application/ld+json' })).toBe('application/ld+json');
  });
});

describe('content-type helpers', () => {
  it('extracts the media type and charset', () => {
    expect(mediaTypeOf('Text/Turtle; charset=UTF-8')).toBe('text/turtle');
    expect(charsetOf('application/sparql-query; charset="UTF-16"')).toBe('utf-16');
    expect(mediaTypeOf(undefined)).toBeUndefined();
    expect(charsetOf('text/turtle')).toBeUndefined();
  });
});
