// SPARQL 1.1 Protocol endpoint at /sparql (query and update), with its Service Description on a bare GET.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubDeps } from '../http/deps.ts';
import { mediaTypeOf, negotiate } from '../http/conneg.ts';
import { ANONYMOUS_BODY_LIMIT, limitBody } from '../http/limits.ts';
import { NotAcceptableError } from '../errors.ts';
import { readOperation } from './protocol.ts';
import { negotiateResultType, runQuery, runUpdate } from './execute.ts';
import { contentTypeHeader, RDF_OUTPUT_TYPES, RDF_TYPE_ALIASES, serializeNTriples, parseRdfToNTriples } from './rdf-formats.ts';
import { serviceDescription } from './service-description.ts';
import { queryGate } from './query-gate.ts';

/** Every request body reaches the handlers as raw bytes; the protocol rules decide what is acceptable. */
export function installRawBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

/**
 * Registers /sparql. Queries need the 'read' scope (open on loopback by default), updates the 'write' scope.
 * SPARQL 1.1 Protocol: https://www.w3.org/TR/sparql11-protocol/ (query §2.1, update §2.2, responses §2.1.6, §2.2.4).
 * Parameters are read by protocol.ts from the raw query string and body instead of a fastify JSON Schema: the protocol
 * repeats parameters (default-graph-uri), splits them between the URL and a form body, and decodes them exactly once.
 */
export async function sparqlPlugin(app: FastifyInstance, deps: HubDeps): Promise<void> {
  installRawBodyParser(app);
  const endpoint = `${deps.config.baseUrl}/sparql`;
  const sdTurtle = serviceDescription(endpoint);

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const op = readOperation({
      method: request.method,
      url: request.url,
      contentType: request.headers['content-type'],
      body: request.body as Buffer | undefined,
    });
    if (op.kind === 'update') {
      deps.auth.check(request.headers.authorization, 'write');
      await runUpdate(deps.store, op.text, {
        usingGraphUris: op.defaultGraphUris,
        usingNamedGraphUris: op.namedGraphUris,
        timeoutMs: deps.config.queryTimeoutMs,
        baseIri: endpoint,
      });
      return reply.code(204).send();
    }
    deps.auth.check(request.headers.authorization, 'read');
    reply.header('vary', 'Accept');
    if (op.kind === 'service-description') {
      const type = negotiate(request.headers.accept, RDF_OUTPUT_TYPES, RDF_TYPE_ALIASES);
      if (!type) throw new NotAcceptableError(`The service description is available as ${RDF_OUTPUT_TYPES.join(', ')}`);
      const body = type === 'text/turtle' ? sdTurtle : serializeNTriples(parseRdfToNTriples(sdTurtle, 'text/turtle'), type);
      return reply.type(contentTypeHeader(type)).send(body);
    }
    const mediaType = negotiateResultType(op.text, request.headers.accept);
    // Per-client concurrency and time budget (anonymous reads get config.anonymousQueryTimeoutMs).
    const result = await queryGate(deps.config).run(request, (timeoutMs) =>
      runQuery(deps.store, op.text, mediaType, {
        defaultGraphUris: op.defaultGraphUris,
        namedGraphUris: op.namedGraphUris,
        unionDefaultGraph: op.unionDefaultGraph,
        timeoutMs,
        baseIri: endpoint,
      }),
    );
    return reply.type(contentTypeHeader(result.mediaType)).send(result.body);
  };

  // Auth before the body (onRequest): an update body needs a write token up front; a form may hold a query or an
  // update, so it needs a valid token (or open reads) now and its scope is checked above once parsed. Body limits:
  // without a token 64 KiB, a query with a token queryBodyLimit, an update (or a form from a write token) bodyLimit.
  const { auth, config } = deps;
  const authenticated = auth.authenticated();
  const guard = async (request: FastifyRequest) => {
    const type = mediaTypeOf(request.headers['content-type']);
    if (request.method === 'POST' && type === 'application/sparql-update') return auth.check(request.headers.authorization, 'write');
    if (request.method === 'GET' || type === 'application/sparql-query') return auth.check(request.headers.authorization, 'read');
    return authenticated(request);
  };
  const limit = limitBody((request) => {
    const authorization = request.headers.authorization;
    if (!authorization) return ANONYMOUS_BODY_LIMIT;
    const update = mediaTypeOf(request.headers['content-type']) === 'application/sparql-update';
    return update || auth.allows(authorization, 'write') ? config.bodyLimit : Math.min(config.queryBodyLimit, config.bodyLimit);
  });
  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    url: '/sparql',
    onRequest: guard,
    preParsing: limit,
    bodyLimit: config.bodyLimit,
    handler: handle,
  });
}
