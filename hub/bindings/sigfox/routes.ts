// Sigfox callbacks: POST /bindings/sigfox/callback (JSON, a templated text body, or a form) and GET with query parameters.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseFormStrict } from '../../http/body.ts';
import type { HubDeps } from '../../http/deps.ts';
import { acceptedBody, countEvent, EventLog, countRefusals, decodeOrRefuse, deliverFrame, newWebhookStats, refuseFrame, requireMediaType, sendJson, type WebhookOptions } from '../tts/webhook.ts';
import { callbackQuery, callbackTextBody, formObject } from './body.ts';
import { canonicalKey } from '../types.ts';
import { callbackDeviceId, decodeSigfoxCallback } from './codec.ts';
import { SequenceError, SigfoxSequences } from './sequence.ts';

const FORM = 'application/x-www-form-urlencoded';

/** A callback body as an object: the parsed JSON or form, a text template, or the query of a GET callback. */
function callbackBody(request: FastifyRequest): unknown {
  if (request.method === 'GET') return callbackQuery(request.url);
  return typeof request.body === 'string' ? callbackTextBody(request.body) : request.body;
}

/**
 * Answers 200 with the pipeline's result once the uplink is durable. Sequence numbers are checked per device first
 * (hub/bindings/sigfox/sequence.ts): a replayed or stale one is 409 `sigfox-sequence-replay` / `-stale`, counted. A BIDIR callback asking for a downlink (`ack`
 * true) is answered 204 No Content (docs/bidir: no downlink) until the actions issue answers it with downlinkData.
 */
export async function sigfoxRoutes(app: FastifyInstance, deps: HubDeps, webhook: WebhookOptions = {}): Promise<void> {
  await app.register(async (child) => {
    const stats = newWebhookStats();
    const events = new EventLog();
    const sequences = new SigfoxSequences({
      // Persisted under the hub's data directory when there is one (the hub makes it before its routes).
      dir: deps.config.dataDir && existsSync(deps.config.dataDir) ? join(deps.config.dataDir, 'sigfox') : undefined,
      onError: (e) => child.log.warn({ err: e }, 'Sigfox sequence state not written'),
    });
    const sequenceRefusals = { replay: 0, stale: 0 };
    child.addHook('onClose', async () => sequences.close());
    if (!child.hasContentTypeParser(FORM)) {
      child.addContentTypeParser(FORM, { parseAs: 'buffer' }, (_request, body, done) => {
        try {
          done(null, formObject(parseFormStrict(body as Buffer, 'form body')));
        } catch (e) {
          done(e as Error);
        }
      });
    }
    const handler = async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const receivedAt = Date.now();
      stats.received++;
      const body = callbackBody(request); // a 400 here is counted by the onError hook
      const event = decodeOrRefuse('sigfox', request, stats, deps, receivedAt, () => decodeSigfoxCallback(body, receivedAt));
      if (event.kind !== 'uplink') {
        const counted = countEvent('sigfox', request, stats, event, events);
        // The acknowledge callback's infoCode is the evidence for the downlink it answers (hub/downlink/events.ts).
        if (event.event === 'acknowledge') (deps.uplinks as { networkEvent?: (b: string, e: typeof event) => void }).networkEvent?.('sigfox', event);
        return event.event === 'empty' ? reply.code(204).send() : sendJson(reply, counted);
      }
      const { frame } = event;
      const seconds = frame.observedAt ? Math.floor(Date.parse(frame.observedAt) / 1000) : undefined;
      if (frame.sequence !== undefined) {
        try {
          sequences.check(frame.deviceKey, frame.sequence, seconds);
        } catch (e) {
          if (!(e instanceof SequenceError)) throw e;
          sequenceRefusals[e.reason]++;
          refuseFrame('sigfox', request, stats, deps, e, receivedAt);
        }
      }
      const result = await deliverFrame('sigfox', request, stats, deps, frame, receivedAt, webhook.answerWithinMs);
      if (frame.sequence !== undefined) sequences.accept(frame.deviceKey, frame.sequence, seconds);
      if (event.frame.network?.downlinkRequested) {
        // BIDIR: the queued command's 8 bytes in this response (docs/bidir), 204 when nothing is queued.
        void result;
        const answer = await deps.commands?.answer?.('sigfox', event.frame.keyType, event.frame.deviceKey, `answered in the Sigfox BIDIR callback response (${event.frame.deviceKey})`);
        if (!answer) return reply.code(204).send();
        // Keyed by the device id exactly as the callback sent it (docs/bidir: `{"<device>": ...}`), not the canonical key.
        const sent = callbackDeviceId(body);
        const key = sent !== undefined && canonicalKey('sigfoxId', sent) === event.frame.deviceKey ? sent : event.frame.deviceKey;
        return sendJson(reply, { [key]: { downlinkData: answer.hex } });
      }
      return sendJson(reply, acceptedBody(result, event.frame));
    };
    const options = {
      onRequest: [deps.auth.require('write'), requireMediaType(['application/json', 'text/plain', FORM], ' (a Sigfox callback posts JSON, text or a form)')],
      onError: countRefusals('sigfox', stats, deps),
      bodyLimit: Math.min(deps.config.ingestBodyLimit, 64 * 1024),
    };
    child.post('/bindings/sigfox/callback', options, handler);
    child.get('/bindings/sigfox/callback', { onRequest: options.onRequest, onError: options.onError }, handler);
    child.get('/bindings/sigfox/stats', { onRequest: deps.auth.require('read') }, async () => ({ ...stats, sequenceReplay: sequenceRefusals.replay, sequenceStale: sequenceRefusals.stale, sequenceDevices: sequences.size }));
  });
}
