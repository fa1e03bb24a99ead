// Fastify routes of every exposed Thing: /wot/{id} (TD), properties (read, write, SSE observe), actions, events (SSE).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../errors.ts';
import type { ServerResponse } from 'node:http';
import type { HubDeps } from '../http/deps.ts';
import { heartbeatInterval } from '../http/connections.ts';
import { ACTION_BODY_LIMIT } from '../http/limits.ts';
import { SECURITY_HEADERS } from '../http/security-headers.ts';
import { requesterOf as tokenRequester } from './interactions.ts';
import type { ThingRuntime } from './thing-runtime.ts';
import type { ObservedKind } from './observers.ts';

/** Who asked, for the command record: a fingerprint of the bearer token (never the token). */
function requesterOf(authorization: string | undefined): string | undefined {
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return tokenRequester(m?.[1]);
}

/** A slow client that lets this much pile up is dropped rather than buffered without bound (as /events). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

interface Params {
  id: string;
  name: string;
}

const params = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 } },
  required: ['id'],
} as const;

/**
 * The HTTP side of node-wot's ProtocolServer (FastifyProtocolServer writes the forms, these routes answer them), per the
 * W3C WoT HTTP Binding Templates: GET readproperty, PUT writeproperty, POST invokeaction, Server-Sent Events for
 * observeproperty and subscribeevent. Reads need the 'read' scope, actions and property writes the 'act' scope.
 */
export async function thingsPlugin(app: FastifyInstance, deps: HubDeps & { things: ThingRuntime }): Promise<void> {
  const { things, auth } = deps;
  const streams = new Set<() => void>();
  // Comment lines on an open stream (as /events): every 15 s, or often enough for the hub's idle timeout.
  const heartbeatMs = heartbeatInterval(deps.config);
  // Action bodies reach the runtime as bytes: it validates them against the action's schema itself (400, not 500).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.addHook('onClose', async () => {
    for (const end of [...streams]) end();
  });

  const read = { onRequest: auth.require('read'), schema: { params } };

  app.get<{ Params: Params }>('/wot/:id', read, async (request, reply) => {
    reply.type('application/td+json');
    return JSON.stringify(things.thingDescription(request.params.id));
  });

  app.get<{ Params: Params }>('/wot/:id/properties/:name', read, async (request, reply) => {
    // Forms that put observeproperty on the read href (e.g. TDs instantiated from Thing Models) observe by SSE here.
    if (/\btext\/event-stream\b/.test(request.headers.accept ?? '')) return sse('property')(request, reply);
    const result = await things.readProperty(request.params.id, request.params.name);
    reply.type(result.contentType);
    return result.body;
  });

  // invokeaction (POST) and writeproperty (PUT) queue a command: the act scope is checked before the body is read.
  const act = { onRequest: auth.require('act'), bodyLimit: ACTION_BODY_LIMIT, schema: { params } };
  const queued = (interaction: 'invokeAction' | 'writeProperty') => async (request: FastifyRequest<{ Params: Params; Body: Buffer | undefined }>, reply: FastifyReply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    const result = await things[interaction](request.params.id, request.params.name, body, request.headers['content-type'], requesterOf(request.headers.authorization));
    if (result.status) reply.code(result.status);
    if (result.location) reply.header('location', result.location);
    reply.type(result.contentType);
    return result.body;
  };
  app.post<{ Params: Params; Body: Buffer | undefined }>('/wot/:id/actions/:name', act, queued('invokeAction'));
  app.put<{ Params: Params; Body: Buffer | undefined }>('/wot/:id/properties/:name', act, queued('writeProperty'));

  // Queued commands (hub/downlink): queryallactions, queryaction (GET) and cancelaction (DELETE, the act scope).
  const commandParams = {
    type: 'object',
    properties: { id: { type: 'string', minLength: 1 }, cid: { type: 'string', minLength: 1, maxLength: 64 } },
    required: ['id', 'cid'],
  } as const;
  const sink = deps.commands;
  const known = (id: string) => {
    if (!things.hasThing(id)) throw new NotFoundError(`No exposed Thing '${id}'`);
  };
  app.get<{ Params: { id: string } }>('/wot/:id/commands', read, async (request, reply) => {
    known(request.params.id);
    reply.type('application/json');
    return JSON.stringify(sink.list?.(request.params.id) ?? []);
  });
  app.get<{ Params: { id: string; cid: string } }>('/wot/:id/commands/:cid', { onRequest: auth.require('read'), schema: { params: commandParams } }, async (request, reply) => {
    if (!sink.get) throw new NotFoundError('This hub keeps no command status');
    reply.type('application/json');
    return JSON.stringify(sink.get(request.params.id, request.params.cid));
  });
  app.delete<{ Params: { id: string; cid: string } }>('/wot/:id/commands/:cid', { onRequest: auth.require('act'), schema: { params: commandParams } }, async (request, reply) => {
    if (!sink.cancel) throw new NotFoundError('This hub cannot cancel commands');
    const cancelled = await sink.cancel(request.params.id, request.params.cid, requesterOf(request.headers.authorization));
    reply.type('application/json');
    return JSON.stringify(cancelled);
  });

  function sse(kind: ObservedKind) {
    return async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply): Promise<void> => {
      if (request.method === 'HEAD') {
        // HEAD (e.g. a client's handshake) checks the affordance exists without opening a stream.
        (await things.observe(request.params.id, kind, request.params.name, () => {}))();
        return void reply.type('text/event-stream').send();
      }
      // A stream slot per client and in total (429/503 beyond: hub/http/stream-limits.ts).
      const release = deps.streams?.acquire(request) ?? (() => {});
      let unsubscribe: (() => void) | undefined;
      let heartbeat: NodeJS.Timeout | undefined;
      const raw: ServerResponse = reply.raw;
      const end = () => {
        clearInterval(heartbeat);
        release();
        unsubscribe?.();
        unsubscribe = undefined;
        streams.delete(end);
        if (!raw.writableEnded) raw.end();
      };
      // Subscribe before hijacking so that an unknown Thing or affordance is still a problem+json answer.
      try {
        unsubscribe = await things.observe(
          request.params.id,
          kind,
          request.params.name,
          (body) => {
            if (raw.writableEnded) return;
            raw.write(`data: ${body.toString('utf8').replace(/\n/g, '\ndata: ')}\n\n`);
            if (raw.writableLength > MAX_BUFFERED_BYTES) end(); // a client that stopped reading is dropped
          },
          end,
        );
      } catch (e) {
        release();
        throw e;
      }
      reply.hijack();
      raw.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      raw.write(': observing\n\n');
      // Comment lines keep a quiet stream inside the idle timeout; a client that is gone makes the write fail (close).
      heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), heartbeatMs);
      heartbeat.unref();
      streams.add(end);
      request.raw.on('close', end);
      raw.on('error', end);
      if (request.raw.destroyed) end(); // the client left while we subscribed
    };
  }

  app.get<{ Params: Params }>('/wot/:id/properties/:name/observable', read, sse('property'));
  app.get<{ Params: Params }>('/wot/:id/events/:name', read, sse('event'));
}
