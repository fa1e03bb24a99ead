// Turns the ht:Request descriptions of the protocol and graph store manifests into real HTTP exchanges with a hub.
import { Parser, type Quad, type Store, type Term } from 'n3';
import { isomorphic } from 'rdf-isomorphic';
import { parseRdfToNTriples } from '../../../hub/sparql/rdf-formats.ts';
import { listItems, one } from './manifest.ts';
import { parseSrj, parseSrx } from './results.ts';

const HT = 'http://www.w3.org/2011/http#';
const HTS = 'http://www.w3.org/2011/http-statusCodes#';
const MF = 'http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#';
const CNT = 'http://www.w3.org/2011/content#';

export interface Exchange {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  expect: {
    statuses: string[];
    boolean?: boolean;
    format?: string;
    location?: string;
    contentType?: string;
    body?: string;
  };
}

function headerList(store: Store, node: Term): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of listItems(store, one(store, node, `${HT}headers`))) {
    out[one(store, h, `${HT}fieldName`)!.value.toLowerCase()] = one(store, h, `${HT}fieldValue`)!.value;
  }
  return out;
}

/** The requests of one test, in order. */
export function exchanges(store: Store, test: Term): Exchange[] {
  const connection = one(store, test, `${MF}action`)!;
  return listItems(store, one(store, connection, `${HT}requests`)).map((req) => {
    const resp = one(store, req, `${HT}resp`)!;
    const respHeaders = headerList(store, resp);
    const bodyNode = one(store, req, `${HT}body`);
    const respBody = one(store, resp, `${HT}body`);
    return {
      method: one(store, req, `${HT}methodName`)!.value,
      path: one(store, req, `${HT}absolutePath`)!.value,
      headers: headerList(store, req),
      body: bodyNode ? one(store, bodyNode, `${CNT}chars`)?.value : undefined,
      expect: {
        statuses: store.getObjects(resp, `${MF}expectedStatus`, null).map((s) => s.value.replace(HTS, '')),
        boolean: one(store, resp, `${MF}expectedBoolean`) ? one(store, resp, `${MF}expectedBoolean`)!.value === 'true' : undefined,
        format: one(store, resp, `${MF}expectedFormat`)?.value,
        location: one(store, resp, `${MF}expectedLocation`)?.value,
        contentType: respHeaders['content-type'],
        body: respBody ? one(store, respBody, `${CNT}chars`)?.value : undefined,
      },
    };
  });
}

const NAMED: Record<string, number> = { OK: 200, Created: 201, NoContent: 204, NotFound: 404, BadRequest: 400 };

export function statusMatches(status: number, expected: string[]): boolean {
  return expected.some((e) => {
    const m = /^StatusCode(\d)xx$/.exec(e);
    return m ? Math.floor(status / 100) === Number(m[1]) : NAMED[e] === status;
  });
}

const RESULT_TYPES: Record<string, string[]> = {
  boolean: ['application/sparql-results+json', 'application/sparql-results+xml'],
  tabular: ['application/sparql-results+json', 'application/sparql-results+xml', 'text/csv', 'text/tab-separated-values'],
  RDF: ['text/turtle', 'application/n-triples', 'application/rdf+xml', 'application/ld+json', 'application/n-quads'],
};

/** Checks one response against the manifest's expectations; returns the problems found (empty when it conforms). */
export function checkResponse(ex: Exchange, status: number, headers: Headers, body: string, baseIri: string): string[] {
  const problems: string[] = [];
  if (ex.expect.statuses.length && !statusMatches(status, ex.expect.statuses)) {
    problems.push(`${ex.method} ${ex.path}: status ${status}, expected ${ex.expect.statuses.join('|')} (${body.slice(0, 200)})`);
    return problems;
  }
  const type = headers.get('content-type')?.split(';')[0]?.trim() ?? '';
  if (ex.expect.format && !RESULT_TYPES[ex.expect.format]?.includes(type)) {
    problems.push(`${ex.method} ${ex.path}: content-type ${type} is not a ${ex.expect.format} format`);
  }
  if (ex.expect.boolean !== undefined) {
    const parsed = type.endsWith('+xml') ? parseSrx(body) : parseSrj(body);
    if (parsed.boolean !== ex.expect.boolean) problems.push(`${ex.method} ${ex.path}: boolean ${parsed.boolean}, expected ${ex.expect.boolean}`);
  }
  const expectedType = ex.expect.contentType?.split(';')[0]?.trim();
  if (expectedType && type !== expectedType) problems.push(`${ex.method} ${ex.path}: content-type ${type}, expected ${expectedType}`);
  if (ex.expect.body !== undefined && ex.method !== 'HEAD') {
    const quads = (nt: string) => new Parser({ format: 'N-Triples' }).parse(nt) as Quad[];
    const expected = quads(parseRdfToNTriples(ex.expect.body, expectedType ?? 'text/turtle', baseIri));
    const actual = quads(parseRdfToNTriples(body, type, baseIri));
    if (!isomorphic(expected, actual)) problems.push(`${ex.method} ${ex.path}: graph differs; got ${body.slice(0, 400)}`);
  }
  return problems;
}
