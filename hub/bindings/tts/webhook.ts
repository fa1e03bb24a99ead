// Shared by the network-server webhook routes (TTS, ChirpStack, Sigfox): hand a frame to the uplink pipeline and turn
// its AcceptResult into the HTTP answer, count and report other events, count refused bodies. (A candidate for
// hub/bindings/webhook/ once more bindings use it.)
import type { FastifyReply, FastifyRequest, onErrorAsyncHookHandler } from 'fastify';
import { DecodeError, HubError, UnsupportedMediaTypeError } from '../../errors.ts';
import type { HubDeps } from '../../http/deps.ts';
import { toProblem } from '../../http/problem.ts';
import type { AcceptResult, BindingName, DeviceFrame, UplinkOrigin } from '../types.ts';
import type { NetworkEvent, OtherNetworkEvent } from './network-event.ts';

/** Seconds a network server should wait before retrying while the pipeline is missing or the store is overloaded. */
export const RETRY_AFTER_S = 5;

/** Options of the webhook routes (tests shorten the answer deadline). */
export interface WebhookOptions {
  answerWithinMs?: number;
}

/** Counters of one webhook binding (GET /bindings/{name}/stats). */
export interface WebhookStats {
  received: number;
  uplinks: number;
  stored: number;
  duplicate: number;
  unmapped: number;
  /** Refused by the pipeline (unknown device, replay, mapping error: 4xx). */
  rejected: number;
  /** Bodies that never became a frame: bad JSON, wrong types, too large, wrong media type. */
  invalid: number;
  /** Answered 503: no pipeline, or the store overloaded. */
  unavailable: number;
  unauthorized: number;
  /** Non-uplink events by kind/event name, e.g. `join`, `downlink:txack`. */
  events: Record<string, number>;
}

export function newWebhookStats(): WebhookStats {
  return { received: 0, uplinks: 0, stored: 0, duplicate: 0, unmapped: 0, rejected: 0, invalid: 0, unavailable: 0, unauthorized: 0, events: {} };
}

export function originOf(binding: BindingName, request: FastifyRequest, receivedAt: number): UplinkOrigin {
  return { binding, transport: 'http', receivedAt, topic: request.url.split('?')[0], remote: request.ip };
}

/** The media type of a request without parameters, lower case ('' when absent). */
export function mediaTypeOf(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** An onRequest check (after auth, before the body is read) that the body is of one of `types`. */
export function requireMediaType(types: string[], hint: string): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    if (request.method === 'GET' || request.method === 'HEAD') return;
    const type = mediaTypeOf(request);
    if (!types.includes(type)) throw new UnsupportedMediaTypeError(`This webhook takes ${types.join(' or ')}, not '${type || 'none'}'${hint}`);
  };
}

const HANDLED = Symbol('webhook-counted');

/**
 * An onError hook counting what the route refused: 401/403 as unauthorized; bad bodies (400 bad JSON, 413, 415, 422
 * decode errors) as invalid and handed to the pipeline's reject() so they show on the adapter's counters.
 */
export function countRefusals(binding: BindingName, stats: WebhookStats, deps: HubDeps): onErrorAsyncHookHandler {
  return async (request, _reply, error) => {
    if ((request as unknown as Record<symbol, boolean>)[HANDLED]) return;
    const status = (error as { status?: number; statusCode?: number }).status ?? (error as { statusCode?: number }).statusCode ?? 500;
    if (status === 401 || status === 403) {
      stats.unauthorized++;
      return;
    }
    if (status >= 500 || status === 404 || status === 405) return;
    stats.invalid++;
    // fastify's own errors (413 FST_ERR_CTP_BODY_TOO_LARGE, 415, ...) under the stable code the client saw.
    const hubError = error instanceof HubError ? error : new HubError(status, toProblem(error, '').problem.code, error.message.slice(0, 300));
    deps.uplinks?.reject(hubError, originOf(binding, request, Date.now()));
  };
}

/** Runs a codec; its DecodeError (or any HubError) is counted here and rethrown as the 4xx answer. */
export function decodeOrRefuse(binding: BindingName, request: FastifyRequest, stats: WebhookStats, deps: HubDeps, receivedAt: number, decode: () => NetworkEvent): NetworkEvent {
  try {
    return decode();
  } catch (e) {
    const error = e instanceof HubError ? e : new DecodeError(`The ${binding} message could not be decoded`, { cause: e });
    stats.invalid++;
    deps.uplinks?.reject(error, originOf(binding, request, receivedAt));
    (request as unknown as Record<symbol, boolean>)[HANDLED] = true;
    throw error;
  }
}

/**
 * Refuses a decoded frame before the pipeline sees it (a replayed or stale sequence number): counted as rejected and
 * on the adapter's counters (pipeline reject()), then thrown as the 4xx answer.
 */
export function refuseFrame(binding: BindingName, request: FastifyRequest, stats: WebhookStats, deps: HubDeps, error: HubError, receivedAt: number): never {
  stats.uplinks++;
  stats.rejected++;
  deps.uplinks?.reject(error, originOf(binding, request, receivedAt));
  (request as unknown as Record<symbol, boolean>)[HANDLED] = true;
  throw error;
}

/**
 * How long a webhook waits for the pipeline before answering 503: TTS and Sigfox give a request 10 s (TTS
 * webhooks/retries.md, Sigfox docs/callback-integration), so the hub answers before they give up. The frame is still
 * stored when the pipeline finishes, and the network server's retry is then acknowledged as a duplicate.
 */
export const WEBHOOK_ANSWER_MS = 9000;

/**
 * Hands one frame to the pipeline and waits until it is durable. Stored, duplicate and unmapped are success; a 4xx
 * rejection is that problem (the message itself is bad); a 5xx one, no pipeline, or no answer within `answerWithinMs`
 * is 503 + Retry-After so that the network server retries (nothing acknowledged is lost).
 */
export async function deliverFrame(
  binding: BindingName,
  request: FastifyRequest,
  stats: WebhookStats,
  deps: HubDeps,
  frame: DeviceFrame,
  receivedAt: number,
  answerWithinMs = WEBHOOK_ANSWER_MS,
): Promise<Exclude<AcceptResult, { status: 'rejected' }>> {
  stats.uplinks++;
  (request as unknown as Record<symbol, boolean>)[HANDLED] = true;
  const retry = { 'retry-after': String(RETRY_AFTER_S) };
  if (!deps.uplinks) {
    stats.unavailable++;
    throw new HubError(503, 'pipeline-unavailable', 'The uplink pipeline is not running; retry later', { headers: retry });
  }
  const accepting = deps.uplinks.accept(frame, originOf(binding, request, receivedAt));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), answerWithinMs);
    timer.unref();
  });
  const result = await Promise.race([accepting, late]).finally(() => clearTimeout(timer));
  if (result === 'late') {
    stats.unavailable++;
    // Counted when it lands; the answer has gone already.
    void accepting.then((r) => {
      if (r.status !== 'rejected') stats[r.status]++;
    });
    throw new HubError(503, 'pipeline-timeout', `The uplink was not stored within ${answerWithinMs} ms; retry later`, { headers: retry });
  }
  if (result.status !== 'rejected') {
    stats[result.status]++;
    return result;
  }
  const { error } = result;
  if (error.status < 500) {
    stats.rejected++;
    throw error;
  }
  stats.unavailable++;
  throw new HubError(503, error.code, error.status === 503 ? error.message : 'The hub cannot store uplinks right now; retry later', {
    cause: error,
    headers: { ...retry, ...error.headers },
    extensions: error.extensions,
  });
}

/**
 * Reports at a bounded rate: the first event of each name, then at most one per second per name, with the count of
 * those left out since (a network server replaying thousands of joins cannot flood the log).
 */
export class EventLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs = 1000) {}

  /** Whether to log `name` now, and how many were suppressed before it. */
  admit(name: string, now = Date.now()): { log: boolean; suppressed: number } {
    const seen = this.last.get(name);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return { log: false, suppressed: 0 };
    }
    this.last.set(name, { at: now, suppressed: 0 });
    return { log: true, suppressed: seen?.suppressed ?? 0 };
  }
}

/** Counts a non-uplink event; joins and device status are reported in the log (they change what the hub knows). */
export function countEvent(binding: BindingName, request: FastifyRequest, stats: WebhookStats, event: OtherNetworkEvent, log: EventLog): Record<string, unknown> {
  const name = event.kind === event.event ? event.kind : `${event.kind}:${event.event}`;
  // Bounded: event names come from the codecs' fixed tables, never from the body.
  stats.events[name] = (stats.events[name] ?? 0) + 1;
  const reported = event.kind === 'join' || event.kind === 'status';
  const admitted = log.admit(name);
  if (admitted.log) {
    const entry = { binding, event: event.event, device: event.device, time: event.time, ...(reported ? { details: event.details } : {}), ...(admitted.suppressed ? { suppressed: admitted.suppressed } : {}) };
    if (reported) request.log.info(entry, `${binding} ${event.event}`);
    else request.log.debug(entry, `${binding} ${event.event} counted`);
  }
  return { status: reported ? 'reported' : 'counted', kind: event.kind, event: event.event, ...(event.device ? { device: event.device } : {}), ...(reported ? { details: event.details } : {}) };
}

/** The 2xx body of an accepted uplink. */
export function acceptedBody(result: Exclude<AcceptResult, { status: 'rejected' }>, frame: DeviceFrame): Record<string, unknown> {
  return { status: result.status, thingId: result.thingId, messageId: frame.messageId, ...(result.status === 'stored' ? { quads: result.quads } : {}) };
}

export function sendJson(reply: FastifyReply, body: Record<string, unknown>): FastifyReply {
  return reply.code(200).type('application/json').send(body);
}
