// Sigfox callbacks: POST /bindings/sigfox/callback (JSON, a templated text body, or a form) and GET with query parameters.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError } from '../../errors.ts';
import { parseFormStrict, parseJsonText } from '../../http/body.ts';
import type { HubDeps } from '../../http/deps.ts';
import { acceptedBody, countEvent, countRefusals, decodeOrRefuse, deliverFrame, newWebhookStats, requireMediaType, sendJson } from '../tts/webhook.ts';
import { decodeSigfoxCallback } from './codec.ts';

const FORM = 'application/x-www-form-urlencoded';
/** Most members a form or query may have: a callback template has a few dozen variables at most. */
const MAX_FIELDS = 64;

function formObject(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  let n = 0;
  for (const [k, v] of params) {
    if (++n > MAX_FIELDS) throw new BadRequestError(`The callback has more than ${MAX_FIELDS} fields`, undefined, 'bad-form');
    if (!(k in out)) out[k] = v;
  }
  return { ...out };
}

/**
 * A callback body as an object. A custom callback's body is the user's template with the Content-Type the user set:
 * JSON (strict: a template that yields invalid JSON, such as a typographic quote, is 400 bad-json), the same JSON
 * sent as text/plain, or `name=value&...` (form or text); GET callbacks carry the variables in the query.
 */
function callbackBody(request: FastifyRequest): unknown {
  if (request.method === 'GET') {
    const q = request.url.indexOf('?');
    return formObject(parseFormStrict(Buffer.from(q < 0 ? '' : request.url.slice(q + 1), 'latin1'), 'query string'));
  }
  const body = request.body;
  if (typeof body !== 'string') return body; // application/json (the app-wide strict parser) or the form parser below
  const trimmed = body.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return parseJsonText(trimmed, 'callback body');
  if (/^[^=&\s]+=/.test(trimmed)) return formObject(parseFormStrict(Buffer.from(trimmed), 'callback body'));
  throw new BadRequestError('The callback body is neither JSON nor name=value pairs', undefined, 'bad-json');
}

/**
 * Answers 200 with the pipeline's result once the uplink is durable. A BIDIR callback asking for a downlink (`ack`
 * true) is answered 204 No Content (docs/bidir: no downlink) until the actions issue answers it with downlinkData.
 */
export async function sigfoxRoutes(app: FastifyInstance, deps: HubDeps): Promise<void> {
  await app.register(async (child) => {
    const stats = newWebhookStats();
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
        const counted = countEvent('sigfox', request, stats, event);
        return event.event === 'empty' ? reply.code(204).send() : sendJson(reply, counted);
      }
      const result = await deliverFrame('sigfox', request, stats, deps, event.frame, receivedAt);
      if (event.frame.network?.downlinkRequested) return reply.code(204).send();
      return sendJson(reply, acceptedBody(result, event.frame));
    };
    const options = {
      onRequest: [deps.auth.require('write'), requireMediaType(['application/json', 'text/plain', FORM], ' (a Sigfox callback posts JSON, text or a form)')],
      onError: countRefusals('sigfox', stats, deps),
      bodyLimit: Math.min(deps.config.ingestBodyLimit, 64 * 1024),
    };
    child.post('/bindings/sigfox/callback', options, handler);
    child.get('/bindings/sigfox/callback', { onRequest: options.onRequest, onError: options.onError }, handler);
    child.get('/bindings/sigfox/stats', { onRequest: deps.auth.require('read') }, async () => stats);
  });
}
