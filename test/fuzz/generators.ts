// Grammar-aware generators: JSON with deep nesting, SPARQL token soup, Turtle-ish text, JSONPath, header values, CoAP datagrams.
import type { Rng } from './prng.ts';

const KEYS = ['id', 'title', '@context', '@type', 'properties', 'actions', 'events', 'forms', 'href', 'op', 'security', 'securityDefinitions',
  'nosec_sc', 'scheme', 'type', 'items', 'links', '__proto__', 'constructor', 'prototype', 'toString', '', ' ', 'a'.repeat(300), '\u0000',
  'registration', 'ttl', 'expires', 'created', 'hub:mapping', 'ioAdapterDefinitions', 'adapterScheme', 'base', 'version', 'description',
  '$', '@', '..', 'é', '\uD800'];
const STRINGS = ['', 'x', 'urn:ex:a', 'https://www.w3.org/2022/wot/td/v1.1', 'http://example.org/a b', 'nosec', 'readproperty', 'string',
  'object', 'number', '2024-01-01T00:00:00Z', 'not-a-date', '\u0000', '\\', '"', '<>', 'javascript:alert(1)', '../../etc/passwd',
  'a'.repeat(10000), '\uD83D', '%00', 'urn:', ':', 'http://[::1', '@none', '@vocab', '@graph', '@id', '@list'];

/** A JSON value; `depthBudget` can be large to build the deep nesting that overflows recursive walkers. */
export function jsonValue(rng: Rng, depthBudget = 6): unknown {
  const r = rng.int(10);
  if (depthBudget <= 0 || r < 4) {
    switch (rng.int(7)) {
      case 0:
        return null;
      case 1:
        return rng.chance(0.5);
      case 2:
        return rng.pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, 4294967296, -0, 1e21]);
      default:
        return rng.pick(STRINGS);
    }
  }
  if (r < 7) {
    const out: unknown[] = [];
    for (let k = rng.size(6); k > 0; k--) out.push(jsonValue(rng, depthBudget - 1));
    return out;
  }
  const out: Record<string, unknown> = {};
  for (let k = rng.size(8); k > 0; k--) out[rng.pick(KEYS)] = jsonValue(rng, depthBudget - 1);
  return out;
}

/** JSON text nested `depth` deep (arrays or objects), built as text so building it cannot overflow. */
export function deepJson(rng: Rng, depth: number): string {
  const key = rng.pick(['a', '__proto__', 'properties', '@context']);
  return rng.chance(0.5) ? '['.repeat(depth) + '1' + ']'.repeat(depth) : `{"${key}":`.repeat(depth) + '1' + '}'.repeat(depth);
}

export function jsonText(rng: Rng): string {
  if (rng.chance(0.1)) return deepJson(rng, rng.pick([65, 200, 1000, 5000, 20000, 100000]));
  return JSON.stringify(jsonValue(rng, rng.range(1, 8))) ?? 'null';
}

const SPARQL_TOKENS = ['SELECT', 'ASK', 'CONSTRUCT', 'DESCRIBE', 'WHERE', '*', 'DISTINCT', 'REDUCED', 'FROM', 'NAMED', 'GRAPH', 'SERVICE',
  'SILENT', 'OPTIONAL', 'UNION', 'MINUS', 'FILTER', 'BIND', 'AS', 'VALUES', 'UNDEF', 'GROUP BY', 'HAVING', 'ORDER BY', 'LIMIT', 'OFFSET',
  'INSERT', 'DELETE', 'DATA', 'WITH', 'USING', 'LOAD', 'CLEAR', 'DROP', 'CREATE', 'ADD', 'MOVE', 'COPY', 'DEFAULT', 'ALL', 'PREFIX',
  'BASE', 'a', 'EXISTS', 'NOT EXISTS', 'IN', 'NOT IN', 'REGEX', 'STR', 'CONCAT', 'REPLACE', 'STRLEN', 'SUBSTR', 'COUNT', 'SUM', 'SAMPLE',
  'GROUP_CONCAT', 'SEPARATOR', 'IF', 'COALESCE', 'NOW()', 'RAND()', 'UUID()', 'BNODE()', 'LANG', 'DATATYPE', 'IRI', 'xsd:integer',
  '?s', '?p', '?o', '?x', '$y', '?g', '_:b', '[]', '<urn:ex:a>', '<http://example.org/>', 'ex:a', 'ex:a\\#b', 'DATA:g', 'ex:', ':x',
  '"lit"', "'lit'", '"""long"""', '"x"@en', '"1"^^xsd:integer', '42', '-1.5e10', 'true', '{', '}', '(', ')', '[', ']', '.', ';', ',',
  '+', '-', '*', '/', '|', '^', '!', '=', '!=', '<', '>', '<=', '>=', '&&', '||', '^^', '?', '#comment\n', '\n', ' '];

/** SPARQL-ish text: a random walk over the grammar's tokens, sometimes wrapped around deep nesting or long chains. */
export function sparqlSoup(rng: Rng): string {
  const parts: string[] = [];
  if (rng.chance(0.5)) parts.push(rng.pick(['PREFIX ex: <http://example.org/>', 'PREFIX DATA: <urn:d:>', 'BASE <http://b/>', '']));
  if (rng.chance(0.5)) parts.push(rng.pick(['SELECT * WHERE', 'ASK', 'CONSTRUCT WHERE', 'INSERT DATA', 'DELETE WHERE', 'SELECT ?s { GRAPH DATA:g']));
  const n = rng.size(60) + 1;
  for (let k = 0; k < n; k++) parts.push(rng.pick(SPARQL_TOKENS));
  let body = parts.join(' ');
  if (rng.chance(0.2)) {
    const depth = rng.pick([64, 127, 129, 300, 1000, 3000]);
    const [open, close] = rng.pick([['{ ', ' }'], ['( ', ' )'], ['[ ', ' ]'], ['{ OPTIONAL { ', ' } }'], ['{ ?s ex:p\\#', ' }']]);
    body = `SELECT * WHERE ${open!.repeat(depth)}?s ?p ?o${close!.repeat(depth)}`;
  } else if (rng.chance(0.1)) {
    const op = rng.pick([' + 1', ' && true', ' || false', ' UNION { ?s ?p ?o }', ' OPTIONAL { ?s ?p ?o }', '/ex:p', '|ex:q']);
    body = `SELECT * WHERE { ?s ?p ?o FILTER(?o${op.repeat(rng.pick([100, 501, 2000, 6000]))}) }`;
  }
  return body;
}

const TURTLE_TOKENS = ['@prefix', '@base', 'PREFIX', 'BASE', 'rml:', 'rr:', 'ql:', 'rml:logicalSource', 'rml:source', 'rml:iterator',
  'rml:referenceFormulation', 'rml:JSONPath', 'rml:subjectMap', 'rml:template', 'rml:reference', 'rml:constant', 'rml:predicateObjectMap',
  'rml:predicate', 'rml:objectMap', 'rml:parentTriplesMap', 'rml:joinCondition', 'rml:child', 'rml:parent', 'rml:termType', 'rml:IRI',
  'rml:BlankNode', 'rml:Literal', 'rml:datatype', 'rml:language', 'rml:class', 'rml:graphMap', 'rml:functionExecution', 'rml:input',
  'rml:TriplesMap', 'hub:CurrentMessage', 'a', '<#TM>', '<>', '_:b0', '[', ']', '(', ')', ';', ',', '.', '"$.payload"', '"{$.meta.thingId}"',
  '"{a}{b}"', '"\\{"', '"$[*]"', '"$..*"', '"$[?(@.x)]"', '"""x"""', '"x"@en', '"1"^^xsd:int', '1', '1.0', '1e1', 'true', '<urn:x>'];
const TURTLE_PREFIXES = '@prefix rml: <http://w3id.org/rml/> . @prefix rr: <http://www.w3.org/ns/r2rml#> . @prefix hub: <https://w3id.org/wot-hub#> .\n';

export function turtleish(rng: Rng): string {
  const parts: string[] = [TURTLE_PREFIXES];
  for (let k = rng.size(80) + 1; k > 0; k--) parts.push(rng.pick(TURTLE_TOKENS));
  if (rng.chance(0.1)) parts.push('('.repeat(rng.pick([100, 1000, 10000])), '[ rml:a '.repeat(rng.pick([100, 1000])));
  return parts.join(' ');
}

const JSONPATH_TOKENS = ['$', '@', '.', '..', '*', '[', ']', '[*]', '[0]', '[-1]', '[1:3]', '[::-1]', '[0:10:0]', "['a']", '["b"]', '?',
  '(', ')', '==', '!=', '<', '<=', '>', '>=', '&&', '||', '!', 'length(@)', 'count(@.*)', 'match(@.a, "a.*")', 'search(@, "[")',
  'value(@..x)', 'title', 'id', 'properties', 'forms', 'href', '1', '-0', '1e400', 'true', 'null', "'x'", '"\\u00"', '.repeat(1e6)',
  '.constructor', '__proto__', "@.title.match('^(.+)+X$')", '@property', '@parent', '@root', '$..*', '[?@.a]', '[?(@.a)]', ' '];

export function jsonPathSoup(rng: Rng): string {
  const parts = ['$'];
  for (let k = rng.size(30) + 1; k > 0; k--) parts.push(rng.pick(JSONPATH_TOKENS));
  if (rng.chance(0.05)) parts.push('['.repeat(rng.pick([100, 1000])));
  return parts.join(rng.chance(0.7) ? '' : ' ');
}

const HEADER_TOKENS = ['<http://www.w3.org/ns/ldp#BasicContainer>', '<http://www.w3.org/ns/ldp#Resource>', '<>', '<', '>', ';', ',',
  'rel="type"', 'rel=type', 'rel', '=', '"', ' ', '\t', 'return=representation', 'return=minimal', 'include="', 'omit=',
  'http://www.w3.org/ns/ldp#PreferContainment', 'http://www.w3.org/ns/ldp#PreferMinimalContainer', '*', 'W/', '"abc"', '"', 'text/turtle',
  'application/ld+json', 'q=0.5', 'q=1.1', 'q=x', '*/*', 'text/*', ';charset=utf-8', '%2F', '%2e%2e', '..', '/', '\\', 'é', '\u0000'];

export function headerSoup(rng: Rng): string {
  const parts: string[] = [];
  for (let k = rng.size(40) + 1; k > 0; k--) parts.push(rng.pick(HEADER_TOKENS));
  if (rng.chance(0.05)) parts.push(rng.pick([';', ' ;', '; a', ',<>', '\t', ' =']).repeat(rng.pick([1000, 10000, 50000])));
  return parts.join(rng.chance(0.5) ? '' : ' ');
}

const OPTION_NUMBERS = [1, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 17, 20, 23, 27, 28, 35, 39, 60, 258, 2049, 65000];
const PATHS = ['wot', '.well-known', 'core', 'urn:ex:thing', 'urn%3Aex%3Athing', 'properties', 'actions', 'events', 'temperature', 'toggle',
  '%', '%ZZ', '', '..', 'a'.repeat(300)];

/** A CoAP datagram (RFC 7252 §3): mostly well-formed header and options (Uri-Path, Uri-Query, Observe...), sometimes not. */
export function coapDatagram(rng: Rng): Uint8Array {
  const out: number[] = [];
  const tkl = rng.chance(0.9) ? rng.range(0, 8) : rng.range(9, 15);
  const type = rng.int(4);
  const version = rng.chance(0.95) ? 1 : rng.int(4);
  out.push((version << 6) | (type << 4) | tkl);
  out.push(rng.chance(0.8) ? rng.pick([0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x45]) : rng.int(256));
  out.push(rng.int(256), rng.int(256));
  for (let k = 0; k < Math.min(tkl, 8); k++) out.push(rng.int(256));
  let last = 0;
  const options: Array<[number, Uint8Array]> = [];
  for (let k = rng.size(8); k > 0; k--) {
    const num = rng.chance(0.6) ? rng.pick([11, 11, 15, 6, 12, 23, 27]) : rng.pick(OPTION_NUMBERS);
    const value = num === 11 || num === 15 ? Buffer.from(rng.chance(0.5) ? rng.pick(PATHS) : `access_token=${rng.pick(['x', 'secret', ''])}`) : Buffer.from(Array.from({ length: rng.size(8) }, () => rng.int(256)));
    options.push([num, value]);
  }
  options.sort((a, b) => a[0] - b[0]);
  for (const [num, value] of options) {
    const delta = num - last;
    last = num;
    const nib = (v: number) => (v < 13 ? v : v < 269 ? 13 : 14);
    const ext = (v: number) => (v < 13 ? [] : v < 269 ? [v - 13] : [((v - 269) >> 8) & 0xff, (v - 269) & 0xff]);
    const d = rng.chance(0.03) ? 15 : nib(delta);
    out.push((d << 4) | nib(value.length), ...(d === 15 ? [] : ext(delta)), ...ext(value.length), ...value);
  }
  if (rng.chance(0.5)) {
    out.push(0xff);
    for (let k = rng.size(64); k > 0; k--) out.push(rng.int(256));
  }
  return Uint8Array.from(out);
}
