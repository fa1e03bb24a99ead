// ChirpStack v4 HTTP integration: POST /bindings/chirpstack/uplink?event=up|join|ack|txack|log|status|location|integration.
import type { FastifyInstance } from 'fastify';
import type { HubDeps } from '../../http/deps.ts';
import { acceptedBody, countEvent, EventLog, countRefusals, decodeOrRefuse, deliverFrame, newWebhookStats, requireMediaType, sendJson, type WebhookOptions } from '../tts/webhook.ts';
import { decodeChirpstackEvent } from './codec.ts';

/**
 * ChirpStack posts every event to each configured URL with `?event=<type>` (integrations/http.md); `up` events reach
 * the pipeline, the others are counted (join and status also logged). The integration must use the JSON encoding:
 * `application/octet-stream` (binary protobuf) is refused with 415 before the body is read.
 */
export async function chirpstackRoutes(app: FastifyInstance, deps: HubDeps, webhook: WebhookOptions = {}): Promise<void> {
  const stats = newWebhookStats();
  const events = new EventLog();
  app.post<{ Querystring: { event?: string } }>(
    '/bindings/chirpstack/uplink',
    {
      onRequest: [deps.auth.require('write'), requireMediaType(['application/json'], " (set the HTTP integration's payload encoding to JSON)")],
      onError: countRefusals('chirpstack', stats, deps),
      bodyLimit: deps.config.ingestBodyLimit,
      schema: { querystring: { type: 'object', properties: { event: { type: 'string', minLength: 1, maxLength: 32 } } } },
    },
    async (request, reply) => {
      const receivedAt = Date.now();
      stats.received++;
      const event = decodeOrRefuse('chirpstack', request, stats, deps, receivedAt, () => decodeChirpstackEvent(request.query.event, request.body, receivedAt));
      if (event.kind !== 'uplink') return sendJson(reply, countEvent('chirpstack', request, stats, event, events));
      const result = await deliverFrame('chirpstack', request, stats, deps, event.frame, receivedAt, webhook.answerWithinMs);
      return sendJson(reply, acceptedBody(result, event.frame));
    },
  );
  app.get('/bindings/chirpstack/stats', { onRequest: deps.auth.require('read') }, async () => stats);
}
