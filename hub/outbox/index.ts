// Builds the edge-to-cloud outbox from the hub's config (upstreamUrl unset = none) and serves its status at GET /outbox.
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { HubConfig } from '../config.ts';
import type { TokenAuth } from '../http/auth.ts';
import { Outbox } from './outbox.ts';

export { Outbox, OutboxFullError, type OutboxStatus } from './outbox.ts';

/** The upstream Graph Store endpoint: the URL itself when it ends in /graph-store, else `<url>/graph-store`. */
export function upstreamEndpoint(url: string): string {
  const u = new URL(url);
  u.hash = '';
  u.search = '';
  const path = u.pathname.replace(/\/+$/, '');
  u.pathname = path.endsWith('/graph-store') ? path : `${path}/graph-store`;
  return u.toString();
}

/** The configured outbox, opened (its log recovered), or undefined when no upstream is configured. */
export async function createOutbox(config: HubConfig, log?: { warn(obj: object, msg: string): void }): Promise<Outbox | undefined> {
  if (!config.upstreamUrl) return undefined;
  const o = config.outbox;
  const outbox = new Outbox({
    dataDir: resolve(config.dataDir),
    endpoint: upstreamEndpoint(config.upstreamUrl),
    token: config.upstreamToken,
    baseUrl: config.baseUrl,
    maxEntries: o.maxEntries,
    maxBytes: o.maxBytes,
    whenFull: o.whenFull,
    batchEntries: o.batchEntries,
    batchBytes: 1024 * 1024,
    minBackoffMs: 250,
    maxBackoffMs: o.maxBackoffMs,
    requestTimeoutMs: 15_000,
    properties: o.properties,
    aggregate: o.aggregate,
    log,
  });
  await outbox.open();
  return outbox;
}

/** GET /outbox (read scope): queued entries and bytes, oldest age, link state, last success and error, counters. */
export async function outboxPlugin(app: FastifyInstance, deps: { auth: TokenAuth; outbox: Outbox }): Promise<void> {
  app.get('/outbox', { onRequest: deps.auth.require('read') }, async () => deps.outbox.status());
}
