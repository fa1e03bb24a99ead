// /thing-models: list and read the hub's Thing Models; instantiate one into a TD and optionally register it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.ts';
import type { HubDeps } from '../http/deps.ts';
import { instantiateQuery, thingModelParams, TD_MEDIA_TYPE } from './schemas.ts';
import { ThingModelCatalog, type InstantiateRequest } from './thing-models.ts';
import { thingPath } from './things-routes.ts';
import { TdValidator } from './validator.ts';

/** Reads `{placeholders, include?, id?}`, or a bare placeholder map. */
function readRequest(body: unknown): InstantiateRequest {
  if (body === undefined || body === null) return { placeholders: {} };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new ValidationError('The body must be a placeholder map (a JSON object)', [{ field: '/', description: 'must be an object' }]);
  }
  const b = body as Record<string, unknown>;
  if (typeof b.placeholders !== 'object' || b.placeholders === null || Array.isArray(b.placeholders)) return { placeholders: b };
  const errors: Array<{ field: string; description: string }> = [];
  if (b.include !== undefined && !(Array.isArray(b.include) && b.include.every((p) => typeof p === 'string'))) {
    errors.push({ field: '/include', description: 'must be an array of JSON pointers' });
  }
  if (b.id !== undefined && typeof b.id !== 'string') errors.push({ field: '/id', description: 'must be a string' });
  if (errors.length) throw new ValidationError('The instantiation request is not valid', errors);
  return { placeholders: b.placeholders as Record<string, unknown>, include: b.include as string[] | undefined, id: b.id as string | undefined };
}

export async function thingModelRoutes(app: FastifyInstance, deps: HubDeps): Promise<void> {
  const catalog = new ThingModelCatalog(deps.config.baseUrl, new TdValidator());
  const read = deps.auth.require('read');
  // ?register=true writes to the directory: its write token is checked before the body is read, as on every write.
  const registerNeedsWrite = async (request: FastifyRequest) => {
    if (String((request.query as { register?: unknown }).register) === 'true') deps.auth.check(request.headers.authorization, 'write');
  };

  app.get('/thing-models', { onRequest: read }, async () => catalog.list());

  app.get<{ Params: { name: string } }>('/thing-models/:name', { schema: { params: thingModelParams }, onRequest: read }, async (request, reply) =>
    reply.type('application/tm+json').send(catalog.get(request.params.name)),
  );

  // TD 1.1 §10.4: TM -> TD; ?register=true also registers it in the directory (needs the 'write' scope).
  app.post<{ Params: { name: string }; Querystring: { register?: boolean } }>(
    '/thing-models/:name/instantiate',
    { schema: { params: thingModelParams, querystring: instantiateQuery }, onRequest: [read, registerNeedsWrite], bodyLimit: 256 * 1024 },
    async (request, reply) => {
      const register = request.query.register === true;
      if (register) deps.auth.check(request.headers.authorization, 'write');
      const td = catalog.instantiate(request.params.name, readRequest(request.body));
      if (!register) return reply.type(TD_MEDIA_TYPE).send(td);
      const id = td.id as string;
      const { td: enriched } = await deps.directory.put(id, td);
      return reply.code(201).header('location', thingPath(id)).type(TD_MEDIA_TYPE).send(enriched);
    },
  );
}
