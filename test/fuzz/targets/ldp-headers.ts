// Fuzz target: the LDP request headers (Link rel=type, Prefer, If-Match, Slug) and Accept negotiation, on one header value.
import { ifMatchMatches, parseLink, parsePrefer, requestedModel, sanitizeSlug } from '../../../hub/ldp/headers.ts';
import { negotiate, parseAccept } from '../../../hub/http/conneg.ts';
import { enc } from '../corpus.ts';
import { headerSoup } from '../generators.ts';
import { HubError } from '../../../hub/errors.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const MAX_HEADER_BYTES = 16 * 1024;
const TYPES = ['text/turtle', 'application/ld+json', 'application/n-triples', 'text/html'];

export const ldpHeadersTarget: FuzzTarget = {
  name: 'ldp-headers',
  description: 'one header value -> parseLink, requestedModel, parsePrefer, ifMatchMatches, sanitizeSlug, parseAccept + negotiate',
  tokens: ['<', '>', ';', ',', '=', '"', 'rel="type"', 'rel=', 'include=', 'omit=', 'return=representation', 'W/', '*', 'q=', '%2F', '%', '..'],
  seeds: () =>
    [
      '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type"',
      '<http://www.w3.org/ns/ldp#Resource>; rel="type", <http://www.w3.org/ns/ldp#DirectContainer>; rel="type"',
      '<http://www.w3.org/ns/ldp#NonRDFSource>;rel=type;title="x, y"',
      'return=representation; include="http://www.w3.org/ns/ldp#PreferMinimalContainer"',
      'return=representation; omit="http://www.w3.org/ns/ldp#PreferContainment http://www.w3.org/ns/ldp#PreferMembership"',
      '"abc", W/"def"',
      '*',
      'my%20doc.ttl',
      '../../etc/passwd',
      'text/turtle;q=0.9, application/ld+json;q=1, */*;q=0.1',
      'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"',
    ].map(enc),
  generate: (rng) => enc(headerSoup(rng)),
  run(input) {
    // Node's HTTP parser passes a header value as latin1 text, all headers together at most 16 KiB
    // (--max-http-header-size, which the hub keeps): a longer one is answered 431 before any route runs.
    if (input.length > MAX_HEADER_BYTES) throw new HubError(431, 'request-header-fields-too-large', 'header over 16 KiB');
    const value = Buffer.from(input).toString('latin1');
    const links = parseLink(value);
    for (const l of links) if (!Array.isArray(l.rel)) throw new OracleError('parseLink returned a link without rel list');
    requestedModel(value);
    parsePrefer(value);
    ifMatchMatches(value, '"abc"');
    const slug = sanitizeSlug(value);
    if (slug !== undefined && (slug.includes('/') || /^\.+$/.test(slug) || slug.length > 64)) throw new OracleError(`sanitizeSlug returned an unsafe segment '${slug}'`);
    parseAccept(value);
    negotiate(value, TYPES);
  },
};
