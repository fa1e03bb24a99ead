// Reads a SPARQL 1.1 Protocol request (GET, POST form, POST direct) into one query or update operation, or refuses it.
import { decodeUtf8Strict } from '../http/body.ts';
import { BadRequestError, MethodNotAllowedError, UnsupportedMediaTypeError } from '../errors.ts';
import { charsetOf, mediaTypeOf } from '../http/conneg.ts';

/** Protocol dataset parameters (SPARQL 1.1 Protocol §2.1.4 for queries, §2.2.3 for updates). */
export interface ProtocolDataset {
  defaultGraphUris: string[];
  namedGraphUris: string[];
  /**
   * `union-default-graph` (an extension Oxigraph's server also offers): the default graph is the union of every
   * graph, so queries reach the observations kept in named graphs without GRAPH clauses.
   */
  unionDefaultGraph: boolean;
}

export type SparqlOperation =
  | ({ kind: 'query'; text: string } & ProtocolDataset)
  | ({ kind: 'update'; text: string } & ProtocolDataset)
  | { kind: 'service-description' };

export interface ProtocolRequest {
  method: string;
  /** The request target (path and query string). */
  url: string;
  contentType: string | undefined;
  body: Buffer | undefined;
}

/** Decodes a body as UTF-8; the protocol allows no other encoding (§2.1.2, §2.2.2). The hub's one strict decoder. */
export const decodeUtf8 = (body: Buffer | undefined, what: string): string => decodeUtf8Strict(body, what);

function checkCharset(contentType: string | undefined): void {
  const charset = charsetOf(contentType);
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new UnsupportedMediaTypeError(`The SPARQL Protocol only allows UTF-8 request bodies, not charset=${charset}`);
  }
}

function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw new BadRequestError(`The request has ${all.length} '${name}' parameters; give exactly one`);
  return all[0];
}

/**
 * Characters an IRI cannot hold (RFC 3987 §2.2: no controls, space, <>"{}|\^` or lone surrogates; SPARQL IRIREF
 * excludes the same ASCII set). `URL.canParse` alone lets NUL and other controls through, which the engine then fails on.
 */
const NOT_IRI = /[\u0000-\u0020<>"{}|\\^`\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Throws 400 `bad-iri` unless `iri` is an absolute IRI the store can hold; `what` names the parameter. */
export function assertAbsoluteIri(iri: string, what: string): void {
  if (!URL.canParse(iri) || NOT_IRI.test(iri)) {
    throw new BadRequestError(`The ${what} parameter ${JSON.stringify(iri)} is not an absolute IRI`, undefined, 'bad-iri');
  }
}

function absoluteIris(params: URLSearchParams[], name: string): string[] {
  const out: string[] = [];
  for (const p of params) {
    for (const iri of p.getAll(name)) {
      assertAbsoluteIri(iri, name);
      out.push(iri);
    }
  }
  return out;
}

function operation(kind: 'query' | 'update', text: string, params: URLSearchParams[]): SparqlOperation {
  if (!text.trim()) throw new BadRequestError(`The ${kind} is empty`);
  const [d, n] = kind === 'query' ? ['default-graph-uri', 'named-graph-uri'] : ['using-graph-uri', 'using-named-graph-uri'];
  const [otherD, otherN] = kind === 'query' ? ['using-graph-uri', 'using-named-graph-uri'] : ['default-graph-uri', 'named-graph-uri'];
  for (const p of params) {
    if (p.has(otherD) || p.has(otherN)) throw new BadRequestError(`A ${kind} takes ${d} and ${n}, not ${otherD} or ${otherN}`);
  }
  const union = params.some((p) => p.has('union-default-graph') && !['false', '0'].includes(p.get('union-default-graph')!));
  const defaultGraphUris = absoluteIris(params, d);
  if (union && (kind === 'update' || defaultGraphUris.length)) {
    throw new BadRequestError(`union-default-graph applies to queries without ${d}`);
  }
  return { kind, text, defaultGraphUris, namedGraphUris: absoluteIris(params, n), unionDefaultGraph: union } as SparqlOperation;
}

/**
 * Applies the operation rules of SPARQL 1.1 Protocol §2.1 and §2.2: exactly one query or update; updates only by POST;
 * POST bodies as application/x-www-form-urlencoded, application/sparql-query or application/sparql-update in UTF-8.
 * A GET without parameters asks for the service description (SPARQL 1.1 Service Description §2).
 */
export function readOperation(req: ProtocolRequest): SparqlOperation {
  const q = req.url.indexOf('?');
  const urlParams = new URLSearchParams(q >= 0 ? req.url.slice(q + 1) : '');
  if (req.method === 'GET' || req.method === 'HEAD') {
    if (urlParams.has('update')) {
      throw new MethodNotAllowedError('A SPARQL update must be sent with POST (SPARQL 1.1 Protocol §2.2)', ['POST']);
    }
    const query = single(urlParams, 'query');
    if (query === undefined) {
      if ([...urlParams.keys()].length === 0) return { kind: 'service-description' };
      throw new BadRequestError("A GET to the SPARQL endpoint needs a 'query' parameter");
    }
    return operation('query', query, [urlParams]);
  }
  if (req.method !== 'POST') {
    throw new MethodNotAllowedError(`The SPARQL endpoint does not support ${req.method}`, ['GET', 'HEAD', 'POST']);
  }
  const type = mediaTypeOf(req.contentType);
  if (type === 'application/x-www-form-urlencoded') {
    checkCharset(req.contentType);
    const form = new URLSearchParams(decodeUtf8(req.body, 'form body'));
    const query = single(form, 'query');
    const update = single(form, 'update');
    if (urlParams.has('query') || urlParams.has('update')) {
      throw new BadRequestError('With a form POST, the query or update goes in the body, not in the URL');
    }
    if (query !== undefined && update !== undefined) throw new BadRequestError("The form has both 'query' and 'update'");
    if (query !== undefined) return operation('query', query, [urlParams, form]);
    if (update !== undefined) return operation('update', update, [urlParams, form]);
    throw new BadRequestError("The form has neither a 'query' nor an 'update' field");
  }
  if (type === 'application/sparql-query' || type === 'application/sparql-update') {
    checkCharset(req.contentType);
    if (urlParams.has('query') || urlParams.has('update')) {
      throw new BadRequestError(`With ${type}, the operation goes in the body, not in the URL`);
    }
    const kind = type === 'application/sparql-query' ? 'query' : 'update';
    return operation(kind, decodeUtf8(req.body, kind), [urlParams]);
  }
  throw new UnsupportedMediaTypeError(
    `POST to the SPARQL endpoint needs application/x-www-form-urlencoded, application/sparql-query or application/sparql-update${
      type ? `, not ${type}` : ''
    }`,
  );
}
