// SPARQL 1.1 Graph Store HTTP Protocol at /graph-store: indirect (?graph=, ?default) and direct (/graph-store/...) identification.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubDeps } from '../http/deps.ts';
import { mediaTypeOf, negotiate } from '../http/conneg.ts';
import { BadRequestError, MethodNotAllowedError, NotAcceptableError, NotFoundError, UnsupportedMediaTypeError } from '../errors.ts';
import { DEFAULT_GRAPH, type GraphName } from '../store/quad-store.ts';
import { contentTypeHeader, parseRdfToNTriples, RDF_OUTPUT_TYPES, RDF_TYPE_ALIASES, serializeNTriples } from './rdf-formats.ts';
import { parseMultipart } from './multipart.ts';
import { assertAbsoluteIri, decodeUtf8 } from './protocol.ts';
import { installRawBodyParser } from './plugin.ts';

export const GRAPH_STORE_PATH = '/graph-store';

/** The graph a request addresses, or 'new' for a POST to the store itself (Graph Store Protocol §5.5). */
function targetGraph(request: FastifyRequest, baseUrl: string): { graph: GraphName | 'new'; iri: string } {
  const url = request.url;
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const params = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  if (path !== GRAPH_STORE_PATH) {
    // Direct identification (§4.1): the request IRI is the graph IRI.
    if (params.size) throw new BadRequestError('A directly identified graph takes no query parameters');
    return { graph: `${baseUrl}${path}`, iri: `${baseUrl}${path}` };
  }
  const graphs = params.getAll('graph');
  const isDefault = params.has('default');
  if (graphs.length > 1) throw new BadRequestError("Give one 'graph' parameter");
  if (graphs.length && isDefault) throw new BadRequestError("Give either 'graph' or 'default', not both");
  if (isDefault) return { graph: DEFAULT_GRAPH, iri: `${baseUrl}${GRAPH_STORE_PATH}?default` };
  if (!graphs.length) {
    if (request.method === 'POST') return { graph: 'new', iri: '' };
    throw new BadRequestError("Identify the graph with ?graph=<IRI> or ?default (Graph Store Protocol §4.2)");
  }
  const iri = graphs[0]!;
  assertAbsoluteIri(iri, 'graph');
  return { graph: iri, iri };
}

/** Reads the body as N-Triples: one RDF document, or several in multipart/form-data. Relative IRIs resolve against the graph. */
function bodyAsNTriples(request: FastifyRequest, baseIri: string): string {
  const contentType = request.headers['content-type'];
  const type = mediaTypeOf(contentType);
  const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
  if (!type) throw new UnsupportedMediaTypeError('The request body needs a Content-Type');
  if (type === 'multipart/form-data') {
    return parseMultipart(body, contentType!)
      .map((p) => parseRdfToNTriples(decodeUtf8(p.body, 'part'), mediaTypeOf(p.headers['content-type']) ?? 'text/turtle', baseIri))
      .join('');
  }
  return parseRdfToNTriples(decodeUtf8(body, 'body'), type, baseIri);
}

/**
 * Registers /graph-store and /graph-store/*. Reads need 'read', writes 'write'.
 * Statuses per SPARQL 1.1 Graph Store HTTP Protocol §5: GET 200/404; PUT 201 (created) or 204; POST 204, or 201 with
 * Location when it created a graph; DELETE 204 or 404; 400 for a bad body or IRI; 415 for an unknown syntax.
 */
export async function graphStorePlugin(app: FastifyInstance, deps: HubDeps): Promise<void> {
  installRawBodyParser(app);
  const base = deps.config.baseUrl;

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const method = request.method;
    const { graph, iri } = targetGraph(request, base);
    if (method === 'GET' || method === 'HEAD') {
      deps.auth.check(request.headers.authorization, 'read');
      const type = negotiate(request.headers.accept, RDF_OUTPUT_TYPES, RDF_TYPE_ALIASES);
      if (!type) throw new NotAcceptableError(`Graphs are available as ${RDF_OUTPUT_TYPES.join(', ')}`);
      const ntriples = await deps.store.getGraph(graph as GraphName);
      if (ntriples === undefined) throw new NotFoundError(`There is no graph <${iri}>`);
      return reply.header('vary', 'Accept').type(contentTypeHeader(type)).send(serializeNTriples(ntriples, type));
    }
    deps.auth.check(request.headers.authorization, 'write');
    if (method === 'PUT') {
      const existed = await deps.store.putGraph(graph as GraphName, bodyAsNTriples(request, iri));
      return reply.code(existed ? 204 : 201).send();
    }
    if (method === 'POST') {
      if (graph === 'new') {
        const created = `${base}${GRAPH_STORE_PATH}/${randomUUID()}`;
        await deps.store.postGraph(created, bodyAsNTriples(request, created));
        return reply.code(201).header('location', created).send();
      }
      const existed = await deps.store.postGraph(graph, bodyAsNTriples(request, iri));
      return reply.code(existed ? 204 : 201).send();
    }
    if (method === 'DELETE') {
      const existed = await deps.store.deleteGraph(graph as GraphName);
      if (!existed && graph !== DEFAULT_GRAPH) throw new NotFoundError(`There is no graph <${iri}>`);
      return reply.code(204).send();
    }
    throw new MethodNotAllowedError(`The Graph Store does not support ${method}`, ['GET', 'HEAD', 'PUT', 'POST', 'DELETE']);
  };

  for (const url of [GRAPH_STORE_PATH, `${GRAPH_STORE_PATH}/*`]) {
    // Auth before the body (onRequest); RDF writes (write token only) take up to bodyLimit.
    const guard = async (request: FastifyRequest) =>
      deps.auth.check(request.headers.authorization, request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
    app.route({ method: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH'], url, onRequest: guard, bodyLimit: deps.config.bodyLimit, handler: handle });
  }
}
