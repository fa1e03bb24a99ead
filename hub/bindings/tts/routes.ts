// The Things Stack v3 webhook: POST /bindings/tts/uplink (any ApplicationUp message type; uplinks reach the pipeline).
import type { FastifyInstance } from 'fastify';
import type { HubDeps } from '../../http/deps.ts';
import { decodeTtsMessage } from './codec.ts';
import { acceptedBody, countEvent, EventLog, countRefusals, decodeOrRefuse, deliverFrame, newWebhookStats, requireMediaType, sendJson, type WebhookOptions } from './webhook.ts';

/**
 * TTS posts every message type it is configured for to Base URL + the type's path (integrations/webhooks); pointing
 * all of them here works: the message member says what it is. `/bindings/tts/uplink/{devEui}` serves a path template
 * `{/devEUI}` for field-masked bodies that carry no end_device_ids. Answers 200 once the uplink is durable.
 */
export async function ttsRoutes(app: FastifyInstance, deps: HubDeps, webhook: WebhookOptions = {}): Promise<void> {
  const stats = newWebhookStats();
  const events = new EventLog();
  const options = {
    onRequest: [deps.auth.require('write'), requireMediaType(['application/json'], ' (TTS webhooks post JSON)')],
    onError: countRefusals('tts', stats, deps),
    bodyLimit: deps.config.ingestBodyLimit,
  };
  const handle = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply, devEui?: string) => {
    const receivedAt = Date.now();
    stats.received++;
    const event = decodeOrRefuse('tts', request, stats, deps, receivedAt, () => decodeTtsMessage(request.body, receivedAt, { devEui }));
    if (event.kind !== 'uplink') return sendJson(reply, countEvent('tts', request, stats, event, events));
    const result = await deliverFrame('tts', request, stats, deps, event.frame, receivedAt, webhook.answerWithinMs);
    return sendJson(reply, acceptedBody(result, event.frame));
  };
  app.post('/bindings/tts/uplink', options, (request, reply) => handle(request, reply));
  app.post<{ Params: { devEui: string } }>(
    '/bindings/tts/uplink/:devEui',
    { ...options, schema: { params: { type: 'object', properties: { devEui: { type: 'string', maxLength: 32 } }, required: ['devEui'] } } },
    (request, reply) => handle(request, reply, request.params.devEui),
  );
  app.get('/bindings/tts/stats', { onRequest: deps.auth.require('read') }, async () => stats);
}
