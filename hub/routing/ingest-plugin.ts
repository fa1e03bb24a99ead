// POST /ingest/{thingId}: one decoded JSON message through the Thing's mapfile into the store; GET /ingest: counters.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../errors.ts';
import type { HubDeps } from '../http/deps.ts';
import type { MessageEnvelope } from './live-state.ts';
import { asXsdDateTime, hubMessageId } from './uplink-pipeline.ts';
import { ingestQuery, jsonObjectBody, thingParams } from './schemas.ts';

/** A messageId a client may give (observation IRIs are built from it; the mapfiles' templates percent-encode it). */
const MAX_MESSAGE_ID = 200;

/**
 * The HTTP ingestion endpoint of the uplink pipeline (issue 4; served from routing/ since issue 10). A message posted
 * twice with the same meta.messageId is stored once (the second answers `{status: 'duplicate'}`); one without gets a
 * hub-made id, so two posts in one millisecond are two observations.
 */
export async function ingestPlugin(app: FastifyInstance, deps: HubDeps): Promise<void> {
  const { router, pipeline } = deps.routing;

  app.get('/ingest', { onRequest: deps.auth.require('read') }, async () => router.counters);

  app.post<{ Params: { thingId: string }; Querystring: { receivedAt?: string }; Body: Record<string, unknown> }>(
    '/ingest/:thingId',
    { onRequest: deps.auth.require('write'), bodyLimit: deps.config.ingestBodyLimit, schema: { params: thingParams, querystring: ingestQuery, body: jsonObjectBody } },
    async (req) => {
      const receivedAt = Date.now();
      const result = await pipeline.ingestEnvelope(envelopeOf(req, req.params.thingId, receivedAt), { binding: 'http', transport: 'http', receivedAt, topic: req.url.split('?')[0] });
      if (result.status === 'failed') throw result.error;
      return result;
    },
  );
}

/**
 * The `{meta, payload}` envelope of a pushed message. A body that already is an envelope (`meta` and `payload`
 * members) is taken as is, with meta.thingId forced to the path's Thing; otherwise the body is the payload.
 */
export function envelopeOf(req: FastifyRequest, thingId: string, now: number): MessageEnvelope {
  const body = req.body as Record<string, unknown>;
  const query = req.query as { receivedAt?: string };
  const isEnvelope = typeof body.meta === 'object' && body.meta !== null && typeof body.payload === 'object' && body.payload !== null;
  const meta = isEnvelope ? (body.meta as Record<string, unknown>) : {};
  const messageId = meta.messageId;
  if (messageId !== undefined && (typeof messageId !== 'string' || messageId === '' || messageId.length > MAX_MESSAGE_ID)) {
    throw new ValidationError('meta.messageId must be a non-empty string of at most 200 characters', [{ field: '/meta/messageId', description: 'must be a string of 1-200 characters' }]);
  }
  const receivedAt = query.receivedAt ?? new Date(now).toISOString();
  const observedAt = meta.observedAt === undefined ? undefined : asXsdDateTime(meta.observedAt);
  if (meta.observedAt !== undefined && observedAt === undefined) {
    throw new ValidationError('meta.observedAt must be an ISO 8601 date-time', [{ field: '/meta/observedAt', description: 'must be a date-time' }]);
  }
  return {
    meta: {
      protocol: 'http',
      receivedAt,
      ...meta,
      thingId,
      messageId: messageId ?? hubMessageId(),
      observedAt: observedAt ?? asXsdDateTime(meta.receivedAt) ?? asXsdDateTime(receivedAt) ?? new Date(now).toISOString(),
    },
    payload: (isEnvelope ? body.payload : body) as Record<string, unknown>,
  };
}
