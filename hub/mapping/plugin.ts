// HTTP authoring API for mapfiles (/mappings/{name}: GET, PUT, DELETE, preview); /ingest is served by hub/routing.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Writer } from 'n3';
import type { Quad } from '@rdfjs/types';
import { NotFoundError, UnsupportedMediaTypeError } from '../errors.ts';
import type { HubDeps } from '../http/deps.ts';
import { strictTextParser } from '../http/body.ts';
import { formatOfMediaType } from './parse.ts';
import { MappingRegistry } from './registry.ts';
import { jsonObjectBody, mappingListResponse, nameParams, previewQuery } from './schemas.ts';

const MAPFILE_TYPES = ['text/turtle', 'application/yaml', 'text/yaml', 'application/x-yaml', 'text/x-yaml'];
const PREFIXES = {
  sosa: 'http://www.w3.org/ns/sosa/',
  ssn: 'http://www.w3.org/ns/ssn/',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  qudt: 'http://qudt.org/schema/qudt/',
  unit: 'http://qudt.org/vocab/unit/',
  'ngsi-ld': 'https://uri.etsi.org/ngsi-ld/',
  geo: 'http://www.opengis.net/ont/geosparql#',
};

/**
 * Mapfiles as resources (issue 4 "Authoring API"): PUT validates (Turtle or YARRRML by Content-Type) and answers
 * problem+json with the offending term or line/column; preview runs a stored mapfile on a sample payload and stores
 * nothing.
 */
export async function mappingPlugin(app: FastifyInstance, deps: HubDeps): Promise<void> {
  const { registry } = deps.mapping;
  const base = deps.config.baseUrl;
  // Mapfiles are UTF-8 text (RDF 1.1 Turtle §6.2, YAML 1.2 §5.2 as the hub reads it); /ingest and preview bodies are
  // JSON through the app-wide strict parser (hub/http/body.ts): malformed UTF-8 is 400 bad-encoding in both.
  app.addContentTypeParser(MAPFILE_TYPES, { parseAs: 'buffer' }, strictTextParser);

  app.get('/mappings', { onRequest: deps.auth.require('read'), schema: { response: mappingListResponse } }, async () => ({
    mappings: registry.list().map((m) => ({ name: m.name, url: `${base}/mappings/${m.name}`, format: m.format, mediaType: m.mediaType, updatedAt: m.updatedAt })),
  }));

  app.get<{ Params: { name: string } }>('/mappings/:name', { onRequest: deps.auth.require('read'), schema: { params: nameParams } }, async (req, reply) => {
    const entry = registry.get(req.params.name);
    if (!entry) throw new NotFoundError(`No mapping named '${req.params.name}'`);
    return reply.type(entry.mediaType).header('last-modified', new Date(entry.updatedAt).toUTCString()).send(entry.text);
  });

  // Auth, then the media type, before the body is read: a JSON body is a 415 rather than a JSON parse error.
  const mapfileType = async (req: FastifyRequest): Promise<void> => {
    if (!formatOfMediaType(req.headers['content-type'] ?? '')) {
      throw new UnsupportedMediaTypeError(`A mapfile is text/turtle or YARRRML (application/yaml, text/yaml), not '${req.headers['content-type'] ?? 'none'}'`);
    }
  };
  app.put<{ Params: { name: string } }>('/mappings/:name', { onRequest: [deps.auth.require('write'), mapfileType], bodyLimit: deps.config.mapfileBodyLimit, schema: { params: nameParams } }, async (req, reply) => {
    const mediaType = req.headers['content-type'] ?? '';
    const format = formatOfMediaType(mediaType);
    if (!format || typeof req.body !== 'string') {
      throw new UnsupportedMediaTypeError(`A mapfile is text/turtle or YARRRML (application/yaml, text/yaml), not '${mediaType}'`);
    }
    const { created } = await registry.put(req.params.name, req.body, format, mediaType.split(';')[0]!.trim());
    if (created) return reply.code(201).header('location', `${base}/mappings/${req.params.name}`).send();
    return reply.code(204).send();
  });

  app.delete<{ Params: { name: string } }>('/mappings/:name', { onRequest: deps.auth.require('write'), schema: { params: nameParams } }, async (req, reply) => {
    await registry.delete(req.params.name);
    return reply.code(204).send();
  });

  app.post<{ Params: { name: string }; Querystring: { thingId?: string; receivedAt?: string }; Body: Record<string, unknown> }>(
    '/mappings/:name/preview',
    { onRequest: deps.auth.require('read'), bodyLimit: deps.config.ingestBodyLimit, schema: { params: nameParams, querystring: previewQuery, body: jsonObjectBody } },
    async (req, reply) => {
      MappingRegistry.checkName(req.params.name);
      const entry = registry.get(req.params.name);
      if (!entry) throw new NotFoundError(`No mapping named '${req.params.name}'`);
      const message = envelopeOf(req, req.query.thingId ?? 'preview', 'preview');
      const quads = entry.plan.mapMessage(message);
      const named = quads.some((q) => q.graph.termType !== 'DefaultGraph');
      return reply.type(named ? 'application/trig' : 'text/turtle').send(serialise(quads, named));
    },
  );
}

/**
 * The `{meta, payload}` envelope of a previewed sample (the shape hub/routing hands mapfiles). A body that already is
 * an envelope (`meta` and `payload` members) is taken as is, with meta.thingId forced; otherwise the body is the payload.
 * A sample without meta.messageId / meta.observedAt gets `preview` / its receivedAt, as the uplink pipeline would.
 */
function envelopeOf(req: FastifyRequest, thingId: string, protocol: string): { meta: Record<string, unknown>; payload: Record<string, unknown> } {
  const body = req.body as Record<string, unknown>;
  const query = req.query as { receivedAt?: string };
  const isEnvelope = typeof body.meta === 'object' && body.meta !== null && typeof body.payload === 'object' && body.payload !== null;
  const meta = isEnvelope ? (body.meta as Record<string, unknown>) : {};
  const receivedAt = typeof meta.receivedAt === 'string' ? meta.receivedAt : query.receivedAt ?? new Date().toISOString();
  return {
    meta: { protocol, receivedAt, messageId: 'preview', observedAt: receivedAt, ...meta, thingId },
    payload: (isEnvelope ? body.payload : body) as Record<string, unknown>,
  };
}

function serialise(quads: Quad[], named: boolean): string {
  const writer = new Writer({ format: named ? 'application/trig' : 'text/turtle', prefixes: PREFIXES });
  writer.addQuads(quads);
  let out = '';
  writer.end((_e, result: string) => {
    out = result;
  });
  return out;
}
