// WoT Discovery §7.3.2.5 Notification API: Server-Sent Events at /events and /events/{type}, diffs, Last-Event-ID replay.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubDeps } from '../http/deps.ts';
import { SECURITY_HEADERS } from '../http/security-headers.ts';
import type { DirectoryEventType } from './directory.ts';
import { EVENT_TYPES, EventLog, type LoggedEvent } from './event-log.ts';
import { eventsParams, eventsQuery } from './schemas.ts';

export interface EventsOptions {
  /** Comment lines keep idle connections (and proxies) alive; default 15 s. */
  heartbeatMs?: number;
  /** Events kept for replay after Last-Event-ID; default 1000. */
  historySize?: number;
}

/** A slow client that lets this much pile up is dropped rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** Event data (tdd-notification-data*): the id in Partial TD form, or with ?diff=true the TD / merge patch. */
export function eventData(e: LoggedEvent, diff: boolean): unknown {
  if (!diff || e.type === 'thing_deleted') return { id: e.event.id };
  if (e.type === 'thing_created') return e.event.td ?? { id: e.event.id };
  return e.event.diff ?? { id: e.event.id };
}

export function formatEvent(e: LoggedEvent, diff: boolean): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(eventData(e, diff))}\n\n`;
}

export async function eventsRoutes(app: FastifyInstance, deps: HubDeps, options: EventsOptions = {}): Promise<void> {
  const log = new EventLog(deps.directory, options.historySize ?? 1000);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const read = deps.auth.require('read');
  const streams = new Set<() => void>();
  app.addHook('onClose', async () => {
    for (const end of [...streams]) end();
    log.close();
  });

  const stream = (types: DirectoryEventType[]) => async (request: FastifyRequest, reply: FastifyReply) => {
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    };
    if (request.method === 'HEAD') return reply.headers(headers).send();
    const diff = (request.query as { diff?: boolean }).diff === true;
    const wanted = new Set(types);
    // A stream slot per client and in total (429/503 beyond: hub/http/stream-limits.ts), taken before hijacking.
    const release = deps.streams?.acquire(request) ?? (() => {});
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, headers);
    raw.write(': connected\n\n');

    const send = (e: LoggedEvent) => {
      if (!wanted.has(e.type)) return;
      raw.write(formatEvent(e, diff));
      if (raw.writableLength > MAX_BUFFERED_BYTES) end();
    };
    // tdd-notification-event-id: replay what a reconnecting client missed.
    const last = Number(request.headers['last-event-id']);
    const unsubscribe = log.subscribe(send);
    if (request.headers['last-event-id'] !== undefined && Number.isFinite(last)) for (const e of log.since(last)) send(e);
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    let ended = false;
    function end() {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      release();
      unsubscribe();
      streams.delete(end);
      if (!raw.writableEnded) raw.end();
    }
    streams.add(end);
    request.raw.on('close', end);
    raw.on('close', end);
    raw.on('error', end);
    if (request.raw.destroyed || raw.destroyed) end(); // the client left before the listeners were in place
  };

  app.get('/events', { schema: { querystring: eventsQuery }, onRequest: read }, stream(EVENT_TYPES));
  app.get<{ Params: { type: DirectoryEventType } }>(
    '/events/:type',
    { schema: { params: eventsParams, querystring: eventsQuery }, onRequest: read },
    (request, reply) => stream([request.params.type])(request, reply),
  );
}
