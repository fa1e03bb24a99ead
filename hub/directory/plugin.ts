// Fastify plugin of the Thing Description Directory: /things, /events, /search/*, /.well-known/wot and /thing-models.
import type { FastifyInstance } from 'fastify';
import type { HubDeps } from '../http/deps.ts';
import { installStrictBodyParsers } from '../http/body.ts';
import { directoryTd } from './directory-td.ts';
import { eventsRoutes, type EventsOptions } from './events-routes.ts';
import { searchRoutes } from './search-routes.ts';
import { MERGE_PATCH_MEDIA_TYPE, TD_MEDIA_TYPE } from './schemas.ts';
import { thingModelRoutes } from './thing-model-routes.ts';
import { thingsRoutes } from './things-routes.ts';

export type DirectoryPluginOptions = EventsOptions;

/**
 * W3C WoT Discovery 1.0: the Introduction (§5.2 well-known URI) and the TDD HTTP API (§7.3.2). Bodies are JSON
 * (tdd-things-default-representation) as application/json, application/td+json, application/ld+json or, for PATCH,
 * application/merge-patch+json, decoded strictly (invalid UTF-8, JSON deeper than 64, __proto__ / constructor poisoning: 400).
 */
export async function directoryPlugin(app: FastifyInstance, deps: HubDeps, options: DirectoryPluginOptions = {}): Promise<void> {
  // Strict UTF-8 and bounded depth (hub/http/body.ts) for every JSON type the API takes.
  installStrictBodyParsers(app, [TD_MEDIA_TYPE, MERGE_PATCH_MEDIA_TYPE, 'application/ld+json']);
  // A TD is never text/plain: without this, the text parser would hand handlers a string (400, not 415).
  app.removeContentTypeParser('text/plain');

  const createdAt = new Date().toISOString();
  // introduction-well-known-path, introduction-direct-directory-description.
  // Open to everyone: a client needs this TD to learn how to authenticate.
  app.get('/.well-known/wot', async (_request, reply) =>
    reply.type(TD_MEDIA_TYPE).send(directoryTd(deps.config.baseUrl, deps.auth.readsOpen, createdAt)),
  );

  await thingsRoutes(app, deps);
  await eventsRoutes(app, deps, options);
  await searchRoutes(app, deps);
  await thingModelRoutes(app, deps);
}
