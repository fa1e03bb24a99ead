// Unit tests of the LDP header parsers: Link rel=type (interaction model), Prefer include/omit, If-Match, Slug.
import { describe, expect, it } from 'vitest';
import { ifMatchMatches, parseLink, parsePrefer, requestedModel, sanitizeSlug } from '../../hub/ldp/headers.ts';

const LDP = 'http://www.w3.org/ns/ldp#';

describe('Link', () => {
  it('parses targets, rel lists and quoted parameters', () => {
    expect(parseLink(`<${LDP}Resource>; rel="type", <http://x/meta>; rel="describedby"; anchor="http://x/a,b"`)).toEqual([
      { target: `${LDP}Resource`, rel: ['type'], params: { rel: 'type' } },
      { target: 'http://x/meta', rel: ['describedby'], params: { rel: 'describedby', anchor: 'http://x/a,b' } },
    ]);
  });

  it('picks the most specific interaction model; unknown ldp: types are flagged; others ignored', () => {
    expect(requestedModel(`<${LDP}Resource>; rel="type", <${LDP}DirectContainer>; rel="type"`)).toBe('DirectContainer');
    expect(requestedModel(`<${LDP}Container>; rel="type"`)).toBe('BasicContainer');
    expect(requestedModel(`<${LDP}Resource>; rel="type"`)).toBe('RDFSource');
    expect(requestedModel(`<${LDP}Bogus>; rel="type"`)).toBe('Unknown');
    expect(requestedModel(`<http://schema.org/Thing>; rel="type", <${LDP}BasicContainer>; rel="describedby"`)).toBeUndefined();
    expect(requestedModel(undefined)).toBeUndefined();
  });
});

describe('Prefer', () => {
  it('includes everything without return=representation', () => {
    expect(parsePrefer('handling=lenient')).toEqual({ representation: false, minimal: false, containment: true, membership: true });
  });
  it('honours include, omit and PreferMinimalContainer (LDP §7.2)', () => {
    expect(parsePrefer(`return=representation; include="${LDP}PreferMinimalContainer"`)).toMatchObject({ containment: false, membership: false });
    expect(parsePrefer(`return=representation; include="${LDP}PreferMinimalContainer ${LDP}PreferMembership"`)).toMatchObject({
      containment: false,
      membership: true,
    });
    expect(parsePrefer(`return=representation; omit="${LDP}PreferContainment"`)).toMatchObject({ containment: false, membership: true });
    expect(parsePrefer(`return=representation; include="${LDP}PreferEmptyContainer"`)).toMatchObject({ minimal: true });
  });
});

describe('If-Match', () => {
  it('compares strong tags only; * matches; lists are searched', () => {
    expect(ifMatchMatches('"a"', '"a"')).toBe(true);
    expect(ifMatchMatches('W/"a"', '"a"')).toBe(false);
    expect(ifMatchMatches('"x", "a"', '"a"')).toBe(true);
    expect(ifMatchMatches('*', '"a"')).toBe(true);
    expect(ifMatchMatches('garbage', '"a"')).toBe(false);
  });
});

describe('Slug', () => {
  it('keeps one safe path segment', () => {
    expect(sanitizeSlug('My Photo.png')).toBe('My-Photo.png');
    expect(sanitizeSlug('../../etc/passwd')).toBe('etc-passwd');
    expect(sanitizeSlug('%2e%2e%2f')).toBeUndefined();
    expect(sanitizeSlug('...')).toBeUndefined();
    expect(sanitizeSlug('a'.repeat(100))).toHaveLength(64);
    expect(sanitizeSlug('%E0%A4%A')).toBe('E0-A4-A');
  });
});
