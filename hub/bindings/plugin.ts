// HTTP routes of the bindings (network-server webhooks, callbacks); each binding adds its route registration here.
import type { FastifyInstance } from 'fastify';
import type { HubDeps } from '../http/deps.ts';

export async function bindingsPlugin(app: FastifyInstance, deps: HubDeps): Promise<void> {
  void app;
  void deps;
  // one line per binding, e.g. await ttsRoutes(app, deps);
  await (await import('./tts/routes.ts')).ttsRoutes(app, deps);
  await (await import('./chirpstack/routes.ts')).chirpstackRoutes(app, deps);
  await (await import('./sigfox/routes.ts')).sigfoxRoutes(app, deps);
}
