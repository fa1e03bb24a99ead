// WoT Discovery §7.3.2.4 Search API: SPARQL over the TD graphs (/search/sparql) and JSONPath over the TDs (/search/jsonpath).
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertManageable } from '../store/query-complexity.ts';
import { BadRequestError, UnsupportedMediaTypeError } from '../errors.ts';
import { queryForm } from '../store/oxigraph-engine.ts';
import type { HubDeps } from '../http/deps.ts';
import { decodeUtf8Strict, parseFormStrict, queryParamStrict } from '../http/body.ts';
import { ANONYMOUS_BODY_LIMIT, limitBody } from '../http/limits.ts';
import { jsonpathQuery, sparqlQuery } from './schemas.ts';
import { searchJsonPath } from './jsonpath.ts';
import { assertEvaluable, requestFault } from '../sparql/execute.ts';
import { queryGate } from '../sparql/query-gate.ts';

const require = createRequire(import.meta.url);
const jsonld = require('jsonld') as { fromRDF(nquads: string, options: Record<string, unknown>): Promise<unknown> };

type Form = 'SELECT' | 'ASK' | 'CONSTRUCT' | 'DESCRIBE';

/** The query form; updates and unparsable text are 400 (tdd-search-sparql-error). */
export function sparqlForm(query: string): Form {
  // The linear guard first (the store checks it again). The form comes from the store's linear keyword scan, not from
  // sparqljs: sparqljs costs ~10 us per character (a 64 KiB anonymous body held the event loop for over half a second,
  // found by the fuzz run); syntax errors, with their position, come from the store's own parser in its worker.
  assertManageable(query);
  const form = queryForm(query);
  if (!form) throw new BadRequestError('The search API answers SELECT, ASK, CONSTRUCT and DESCRIBE queries only');
  return form.toUpperCase() as Form;
}

function wants(accept: string | undefined, type: string): boolean {
  return (accept ?? '').split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === type);
}

export async function searchRoutes(app: FastifyInstance, deps: HubDeps): Promise<void> {
  const { directory, store, auth } = deps;
  const read = auth.require('read');
  // Bodies are UTF-8 only (SPARQL 1.1 Protocol §2.1.2, §2.1.3): malformed bytes are 400 bad-encoding, never U+FFFD.
  app.addContentTypeParser('application/sparql-query', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, { query: decodeUtf8Strict(body as Buffer, 'query') }),
  );
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, Object.fromEntries(parseFormStrict(body as Buffer))),
  );

  const sparql = async (query: string | undefined, request: FastifyRequest, reply: FastifyReply) => {
    if (!query) throw new BadRequestError("A 'query' parameter with a SPARQL query is required");
    // Linear checks only before the store: the complexity guard, the form keyword; SERVICE is 501 unsupported-feature.
    assertEvaluable(query);
    const form = sparqlForm(query);
    // Expired TDs leave the union graph when purged: purge first so that they never match.
    await directory.purgeDue();
    const defaultGraphUris = [directory.unionGraph];
    // Per-client concurrency and time budget, as on /sparql (hub/sparql/query-gate.ts).
    // A call of a function the store does not implement is the query's fault: 400 unsupported-function, not 500.
    return queryGate(deps.config).run(request, (timeoutMs) => answer(query, form, defaultGraphUris, timeoutMs, request, reply).catch((e: unknown) => Promise.reject(requestFault(e) ?? e)));
  };

  const answer = async (query: string, form: Form, defaultGraphUris: string[], timeoutMs: number, request: FastifyRequest, reply: FastifyReply) => {
    const accept = request.headers.accept;
    if (form === 'SELECT' || form === 'ASK') {
      const xml = wants(accept, 'application/sparql-results+xml');
      const result = await store.query(query, {
        defaultGraphUris,
        timeoutMs,
        resultFormat: xml ? 'application/sparql-results+xml' : 'application/sparql-results+json',
      });
      // tdd-search-sparql-resp-select-ask: application/json by default.
      const type = xml ? 'application/sparql-results+xml' : wants(accept, 'application/sparql-results+json') ? 'application/sparql-results+json' : 'application/json';
      return reply.type(type).send(result.body);
    }
    if (wants(accept, 'text/turtle') || wants(accept, 'application/n-triples')) {
      const type = wants(accept, 'text/turtle') ? 'text/turtle' : 'application/n-triples';
      const result = await store.query(query, { defaultGraphUris, timeoutMs, resultFormat: type });
      return reply.type(type).send(result.body);
    }
    // tdd-search-sparql-resp-describe-construct: JSON-LD by default.
    const nt = await store.construct(query, { defaultGraphUris, timeoutMs });
    const doc = await jsonld.fromRDF(nt, { format: 'application/n-quads' });
    return reply.type('application/ld+json').send(doc);
  };

  app.get<{ Querystring: { query?: string } }>('/search/sparql', { schema: { querystring: sparqlQuery }, onRequest: read }, (request, reply) =>
    // The query as sent: percent-escapes that are not UTF-8 are refused (400 bad-encoding), not turned into U+FFFD.
    sparql(request.query.query === undefined ? undefined : queryParamStrict(request.url, 'query'), request, reply),
  );
  // A query text: 64 KiB without a token, queryBodyLimit with one (read before the body, like every scope check).
  const queryLimit = Math.min(deps.config.queryBodyLimit, deps.config.bodyLimit);
  const searchLimit = limitBody((request) => (request.headers.authorization ? queryLimit : ANONYMOUS_BODY_LIMIT));
  app.post('/search/sparql', { onRequest: read, preParsing: searchLimit, bodyLimit: queryLimit }, (request, reply) => {
    const body = request.body as { query?: unknown } | undefined;
    if (body === undefined || typeof body !== 'object') {
      throw new UnsupportedMediaTypeError('POST /search/sparql takes application/sparql-query or application/x-www-form-urlencoded');
    }
    return sparql(typeof body.query === 'string' ? body.query : undefined, request, reply);
  });

  // JSONPath (RFC 9535) over the array of TDs.
  app.get<{ Querystring: { query: string } }>('/search/jsonpath', { schema: { querystring: jsonpathQuery }, onRequest: read }, async (request, reply) => {
    await directory.purgeDue();
    // Serialised here, within the search's node, byte, work and time bounds (jsonpath-too-large / -too-complex 400s).
    const result = searchJsonPath(request.query.query, directory.searchable());
    return reply.type('application/json').send(result);
  });
}
