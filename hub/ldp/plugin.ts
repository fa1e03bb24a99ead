// The LDP 1.0 server (fastify plugin): every resource under /ldp/, the root basic container, plus the hub's own
// read-only containers (Things, observations, saved queries, mapfiles). W3C LDP 1.0: https://www.w3.org/TR/ldp/
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, MethodNotAllowedError } from '../errors.ts';
import type { HubDeps } from '../http/deps.ts';
import { mediaTypeOf } from '../http/conneg.ts';
import { limitBody } from '../http/limits.ts';
import { decodeUtf8Strict } from '../http/body.ts';
import { linkHeader, requestedModel, sanitizeSlug } from './headers.ts';
import { LdpService, type RequestBody } from './ldp-service.ts';
import { selectTriples } from './representation.ts';
import { sendBytes, sendRdf, setResourceHeaders } from './responses.ts';
import { HubContent } from './hub-content.ts';
import { MappingsContainer, type MapfileRegistry } from './mappings-container.ts';
import { constraintViolation } from './constraints.ts';
import { constraintsUrl, ldp, type InteractionModel } from './vocab.ts';
import { CONSTRAINTS_TURTLE } from './constraints-doc.ts';

const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The IRI a request names: base URL + path. Dot segments, empty segments and encoded slashes are refused. */
function requestIri(baseUrl: string, request: FastifyRequest): string {
  const path = request.url.split('?')[0]!;
  const segments = path.split('/').slice(1);
  const bad = () => new BadRequestError(`'${path}' is not a valid LDP resource path`, undefined, 'bad-path');
  if (/[\s<>"{}|^`\\]/.test(path)) throw bad();
  segments.forEach((segment, i) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw bad();
    }
    if (decoded === '.' || decoded === '..' || /[/\\]/.test(decoded) || (segment === '' && i < segments.length - 1)) throw bad();
  });
  return `${baseUrl}${path}`;
}

function body(request: FastifyRequest): RequestBody {
  const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  return { bytes, mediaType: mediaTypeOf(request.headers['content-type']) };
}

function model(request: FastifyRequest): InteractionModel | undefined {
  const m = requestedModel(request.headers.link);
  if (m === 'Unknown') throw constraintViolation('The requested interaction model (Link rel="type") is not one this server offers');
  return m;
}

/** Registers the LDP routes. Reads need the 'read' scope, writes the 'write' scope. */
export async function ldpPlugin(app: FastifyInstance, deps: HubDeps): Promise<void> {
  const { baseUrl } = deps.config;
  const root = `${baseUrl}/ldp/`;
  const content = new HubContent(deps, root);
  // The mapping registry (hub/mapping) validates and stores mapfiles; /ldp/mappings/ delegates to it when it is wired.
  const registry: MapfileRegistry | undefined = deps.mapping?.registry;
  const mappings = registry ? new MappingsContainer(root, registry, baseUrl) : undefined;
  const mappingsIri = `${root}mappings/`;
  const reserved = (iri: string) => content.reserved(iri) || iri.startsWith(mappingsIri) || iri === mappingsIri.slice(0, -1);
  const service = new LdpService(deps.store, baseUrl, deps.config.dataDir, reserved);
  await service.ensureRoot(root);

  // Bodies are read raw (Buffer) whatever their media type: LDP-NRs take any bytes; RDF is parsed per request.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.config.bodyLimit }, (_req, payload, done) => done(null, payload));

  // LDP §4.2.1.6: every refused request points at the server's constraints.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode >= 400 && reply.statusCode < 500) {
      const existing = reply.getHeader('link');
      const constrained = linkHeader([[constraintsUrl(baseUrl), ldp.constrainedBy]]);
      reply.header('link', existing ? `${String(existing)}, ${constrained}` : constrained);
    }
    return payload;
  });

  app.get('/ldp-constraints', async (_request, reply) => reply.type('text/turtle; charset=utf-8').send(CONSTRAINTS_TURTLE(baseUrl)));
  app.get('/ldp', async (_request, reply) => reply.redirect(root, 301));

  const isRead = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  app.route({
    method: [...METHODS],
    url: '/ldp/*',
    exposeHeadRoute: false,
    // Auth before the body; writes (write token only) take bodyLimit, mapfiles under /ldp/mappings/ mapfileBodyLimit.
    onRequest: async (request) => deps.auth.check(request.headers.authorization, isRead(request.method) ? 'read' : 'write'),
    bodyLimit: deps.config.bodyLimit,
    preParsing: limitBody((request) =>
      request.url.startsWith('/ldp/mappings/') ? Math.min(deps.config.mapfileBodyLimit, deps.config.bodyLimit) : deps.config.bodyLimit,
    ),
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const read = isRead(request.method);
      const iri = requestIri(baseUrl, request);
      if (mappings?.owns(iri)) return mappings.handle(request, reply, iri);

      const virtual = await content.get(iri, request.url);
      if (virtual) {
        setResourceHeaders(reply, iri, virtual);
        if (!read) throw new MethodNotAllowedError(`${iri} is managed by the hub and is read-only here`, virtual.allow);
        if (request.method === 'OPTIONS') return reply.code(204).send();
        if (virtual.bytes) return sendBytes(request, reply, virtual.bytes, virtual.contentType!, virtual.tag);
        return sendRdf(request, reply, () => virtual.quads ?? [], virtual.tag);
      }

      if (request.method === 'PUT') {
        const existing = await service.meta.get(iri);
        if (!existing || existing === 'deleted') {
          const created = await service.createByPut(iri, model(request), body(request), request.headers['if-match']);
          setResourceHeaders(reply, created.iri, { model: created.model, allow: service.allow(created), describedBy: created.describedBy });
          return reply.code(201).header('location', created.iri).send();
        }
      }
      const m = await service.require(iri);
      const info = {
        model: m.model,
        allow: service.allow(m),
        describedBy: m.describedBy,
        describes: m.describes,
      };
      setResourceHeaders(reply, iri, info);
      switch (request.method) {
        case 'OPTIONS':
          return reply.code(204).send();
        case 'GET':
        case 'HEAD': {
          if (m.model === 'NonRDFSource') reply.header('last-modified', new Date(m.modified).toUTCString());
          if (m.model === 'NonRDFSource') return sendBytes(request, reply, await service.files.read(iri), m.contentType!, m.bytesHash!);
          const extra = iri === root ? [...content.rootMembers(), ...(mappings ? [mappings.iri] : [])] : [];
          const { state, hash } = await service.state(m, extra);
          if (m.modified) reply.header('last-modified', new Date(m.modified).toUTCString());
          return sendRdf(request, reply, (pref) => selectTriples(state, pref), hash);
        }
        case 'POST': {
          const slug = sanitizeSlug(request.headers.slug as string | undefined);
          const created = await service.create(iri, model(request), slug, body(request));
          reply.header('link', linkHeader([[ldp.Resource, 'type']]) + (created.describedBy ? `, <${created.describedBy}>; rel="describedby"; anchor="${created.iri}"` : ''));
          return reply.code(201).header('location', created.iri).send();
        }
        case 'PUT':
          await service.replace(m, model(request), body(request), request.headers['if-match']);
          return reply.code(204).send();
        case 'PATCH':
          await service.patch(m, body(request).mediaType, decodeUtf8Strict(body(request).bytes, 'patch'), request.headers['if-match']);
          return reply.code(204).send();
        case 'DELETE':
          await service.remove(m, request.headers['if-match']);
          return reply.code(204).send();
        default:
          throw new MethodNotAllowedError(`${request.method} is not supported on ${iri}`, info.allow);
      }
    },
  });
}
