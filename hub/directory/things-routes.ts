// WoT Discovery §7.3.2.1 Things API: /things listing with paging, and CRUD of one TD at /things/{id}.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import type { HubDeps } from '../http/deps.ts';
import type { ThingDescription } from './directory.ts';
import { DISCOVERY_CONTEXT } from './td-rdf.ts';
import { idParams, listQuery, MAX_TD_BYTES, MERGE_PATCH_MEDIA_TYPE, TD_MEDIA_TYPE } from './schemas.ts';

/** Path of a TD resource; ':' stays readable (urn:uuid:...), everything else reserved is percent-encoded. */
export function thingPath(id: string): string {
  return `/things/${encodeURIComponent(id).replace(/%3A/gi, ':')}`;
}

function requireObject(body: unknown): ThingDescription {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('The request body must be a Thing Description (a JSON object)', [
      { field: '/', description: 'must be a JSON object' },
    ]);
  }
  return body as ThingDescription;
}

export async function thingsRoutes(app: FastifyInstance, deps: HubDeps): Promise<void> {
  const { directory, auth } = deps;
  const read = auth.require('read');
  const write = auth.require('write');

  // tdd-things-list-method, tdd-things-list-pagination-*: sorted by id, Link next + canonical with etag.
  app.get<{ Querystring: { limit?: number; offset?: number; format?: 'array' | 'collection' } }>(
    '/things',
    { schema: { querystring: listQuery }, onRequest: read },
    async (request, reply) => {
      const { limit, offset = 0, format = 'array' } = request.query;
      const page = await directory.list({ limit, offset });
      const links: string[] = [];
      const args = (o: number) => `offset=${o}${limit !== undefined ? `&limit=${limit}` : ''}${format === 'collection' ? '&format=collection' : ''}`;
      const next = limit !== undefined && offset + limit < page.total ? `/things?${args(offset + limit)}` : undefined;
      if (limit !== undefined || offset > 0) {
        if (next) links.push(`<${next}>; rel="next"`);
        links.push(`</things>; rel="canonical"; etag="${directory.etag()}"`);
        reply.header('link', links.join(', '));
      }
      if (format === 'collection') {
        // tdd-things-list-pagination-collection: a ThingCollection with server-side paging information.
        const body: Record<string, unknown> = {
          '@context': DISCOVERY_CONTEXT,
          '@type': 'ThingCollection',
          total: page.total,
          members: page.items,
          '@id': `/things?${args(offset)}`,
        };
        if (next) body.next = next;
        return reply.type('application/ld+json').send(body);
      }
      return reply.type('application/ld+json').send(page.items);
    },
  );

  // tdd-things-create-anonymous-td: POST an anonymous TD, 201 + Location of the new urn:uuid id.
  app.post('/things', { onRequest: write, bodyLimit: MAX_TD_BYTES }, async (request, reply) => {
    const { id } = await directory.create(requireObject(request.body));
    return reply.code(201).header('location', thingPath(id)).send();
  });

  // tdd-things-retrieve: the Enriched TD as application/td+json.
  app.get<{ Params: { id: string } }>('/things/:id', { schema: { params: idParams }, onRequest: read }, async (request, reply) => {
    const td = await directory.get(request.params.id);
    if (!td) throw new NotFoundError(`No Thing Description with id '${request.params.id}'`);
    return reply.type(TD_MEDIA_TYPE).send(td);
  });

  // tdd-things-create-known-td (201) and tdd-things-update (204).
  app.put<{ Params: { id: string } }>(
    '/things/:id',
    { schema: { params: idParams }, onRequest: write, bodyLimit: MAX_TD_BYTES },
    async (request, reply) => {
      const td = requireObject(request.body);
      if (td.id === undefined) {
        throw new ValidationError('A TD registered with PUT must carry its id', [
          { field: '/id', description: `must equal '${request.params.id}'; anonymous TDs are registered with POST /things` },
        ]);
      }
      const { created } = await directory.put(request.params.id, td);
      if (created) return reply.code(201).header('location', thingPath(request.params.id)).send();
      return reply.code(204).send();
    },
  );

  // tdd-things-update-partial-*: JSON Merge Patch, validated after merging.
  app.patch<{ Params: { id: string } }>(
    '/things/:id',
    { schema: { params: idParams }, onRequest: write, bodyLimit: MAX_TD_BYTES },
    async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== MERGE_PATCH_MEDIA_TYPE) {
        throw new UnsupportedMediaTypeError(`PATCH /things/{id} takes ${MERGE_PATCH_MEDIA_TYPE} (RFC 7396), not '${type}'`);
      }
      await directory.patch(request.params.id, request.body);
      return reply.code(204).send();
    },
  );

  // tdd-things-delete.
  app.delete<{ Params: { id: string } }>('/things/:id', { schema: { params: idParams }, onRequest: write }, async (request, reply) => {
    if (!(await directory.delete(request.params.id))) throw new NotFoundError(`No Thing Description with id '${request.params.id}'`);
    return reply.code(204).send();
  });
}
