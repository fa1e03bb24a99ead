// buildApp(deps): the hub's single fastify instance with every plugin registered; it does not listen (tests inject).
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { HubDeps } from './deps.ts';
import { installProblemHandlers, sendProblem } from './problem.ts';
import { clientErrorHandler } from './client-errors.ts';
import { heartbeatInterval, limitConnections, serverTimeouts } from './connections.ts';
import { hostCheck } from './host-check.ts';
import { DEFAULT_BODY_LIMIT } from './limits.ts';
import { installSecurityHeaders } from './security-headers.ts';
import { StreamLimiter } from './stream-limits.ts';
import { installStrictBodyParsers } from './body.ts';
import { installMethodNotAllowed } from './method-not-allowed.ts';
import { sparqlPlugin } from '../sparql/plugin.ts';
import { graphStorePlugin } from '../sparql/graph-store.ts';
import { ldpPlugin } from '../ldp/plugin.ts';
import { directoryPlugin } from '../directory/plugin.ts';
import { mappingPlugin } from '../mapping/plugin.ts';
import { thingsPlugin } from '../things/plugin.ts';
import { ingestPlugin } from '../routing/ingest-plugin.ts';
import { bindingsPlugin } from '../bindings/plugin.ts';
import { secretsRoutes } from '../secrets/index.ts';
import { uiPlugin } from '../ui/plugin.ts';

export interface BuildAppOptions {
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(hubDeps: HubDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = hubDeps;
  const deps: HubDeps = {
    ...hubDeps,
    streams: hubDeps.streams ?? new StreamLimiter({ total: config.maxEventStreams, perClient: config.maxEventStreamsPerClient }),
  };
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    // Routes with bodies set their own limit (hub/http/limits.ts); this is the limit of every other route.
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Keep the raw query string semantics of the SPARQL Protocol (repeated default-graph-uri etc.).
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 2048 },
    forceCloseConnections: true,
    ...serverTimeouts(config),
    clientErrorHandler: clientErrorHandler(config.baseUrl),
    // Bad URL encodings and over-long path parameters (414) are problem+json too.
    frameworkErrors: (error, request, reply) => sendProblem(reply, request, error, config.baseUrl),
  });
  limitConnections(app.server, { total: config.maxConnections, perClient: config.maxConnectionsPerClient });
  installProblemHandlers(app, config.baseUrl);
  installSecurityHeaders(app);
  const host = hostCheck(config);
  if (host) app.addHook('onRequest', host);
  installStrictBodyParsers(app); // JSON and text bodies: strict UTF-8, bounded depth (hub/http/body.ts)
  installMethodNotAllowed(app); // a known path with another method: 405 + Allow, not 404 (before any route)

  // From this thread only: the store's last-known figures (with their age), never waiting behind a query or a rebuild.
  app.get('/health', async () => {
    const extra = Object.fromEntries(Object.entries(deps.health ?? {}).map(([k, read]) => [k, read()]));
    return { status: 'ok', store: deps.store.health ? deps.store.health() : await deps.store.stats(), ...extra };
  });

  await app.register(async (child) => sparqlPlugin(child, deps));
  await app.register(async (child) => graphStorePlugin(child, deps));
  await app.register(async (child) => ldpPlugin(child, deps));
  await app.register(async (child) => directoryPlugin(child, deps, { heartbeatMs: heartbeatInterval(config) }));
  await app.register(async (child) => mappingPlugin(child, deps));
  await app.register(async (child) => ingestPlugin(child, deps));
  await app.register(async (child) => bindingsPlugin(child, deps));
  await app.register(async (child) => secretsRoutes(child, deps));
  await app.register(async (child) => thingsPlugin(child, deps));
  await app.register(async (child) => uiPlugin(child, deps)); // the web UI at /ui/ (hub/ui), `/` redirects there
  return app;
}
