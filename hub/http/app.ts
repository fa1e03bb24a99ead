// buildApp(deps): the hub's single fastify instance with every plugin registered; it does not listen (tests inject).
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { HubDeps } from './deps.ts';
import { installProblemHandlers } from './problem.ts';
import { installStrictBodyParsers } from './body.ts';
import { installMethodNotAllowed } from './method-not-allowed.ts';
import { sparqlPlugin } from '../sparql/plugin.ts';
import { graphStorePlugin } from '../sparql/graph-store.ts';
import { ldpPlugin } from '../ldp/plugin.ts';
import { directoryPlugin } from '../directory/plugin.ts';
import { mappingPlugin } from '../mapping/plugin.ts';
import { thingsPlugin } from '../things/plugin.ts';

export interface BuildAppOptions {
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(deps: HubDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: deps.config.logLevel },
    bodyLimit: deps.config.bodyLimit,
    // Keep the raw query string semantics of the SPARQL Protocol (repeated default-graph-uri etc.).
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 2048 },
    forceCloseConnections: true,
  });
  installProblemHandlers(app, deps.config.baseUrl);
  installStrictBodyParsers(app); // JSON and text bodies: strict UTF-8, bounded depth (hub/http/body.ts)
  installMethodNotAllowed(app); // a known path with another method: 405 + Allow, not 404 (before any route)

  app.get('/health', async () => ({ status: 'ok', store: await deps.store.stats() }));

  await app.register(async (child) => sparqlPlugin(child, deps));
  await app.register(async (child) => graphStorePlugin(child, deps));
  await app.register(async (child) => ldpPlugin(child, deps));
  await app.register(async (child) => directoryPlugin(child, deps));
  await app.register(async (child) => mappingPlugin(child, deps));
  await app.register(async (child) => thingsPlugin(child, deps));
  return app;
}
