// Builds a hub's virtual sensor service from its parts (wiring for hub/hub.ts).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Directory } from '../directory/directory.ts';
import type { MappingService } from '../mapping/service.ts';
import type { RoutingService } from '../routing/service.ts';
import type { QuadStore } from '../store/quad-store.ts';
import type { ThingRuntime } from '../things/thing-runtime.ts';
import type { ThingModelCatalog } from '../directory/thing-models.ts';
import { VirtualService } from './service.ts';
import type { TdDirectory } from './thing.ts';

export { VirtualService, virtualThingId, type VirtualOutput } from './service.ts';
export { virtualPlugin } from './routes.ts';

const MAPFILE = new URL('../../mappings/virtual-output.ttl', import.meta.url);

export function createVirtualService(o: {
  config: { baseUrl: string; dataDir: string };
  store: QuadStore;
  routing: RoutingService;
  mapping: MappingService;
  directory: Directory;
  things: ThingRuntime;
  models: ThingModelCatalog;
  log?: { warn(obj: object, msg: string): void };
}): VirtualService {
  const { registry, things: attachments } = o.mapping;
  return new VirtualService(
    {
      config: { baseUrl: o.config.baseUrl, dataDir: resolve(o.config.dataDir) },
      live: o.routing.live,
      store: o.store,
      ingest: (message, values) => o.routing.router.ingest(message, values),
      mapping: {
        async put(name, text) {
          if (registry.get(name)?.text !== text) await registry.put(name, text, 'turtle', 'text/turtle');
        },
        has: (name) => registry.get(name) !== undefined,
        attach: (id, name) => attachments.attach(id, name),
        detach: (id) => void attachments.detach(id),
      },
      directory: o.directory as unknown as TdDirectory,
      things: o.things,
      models: o.models,
      log: o.log,
    },
    readFileSync(MAPFILE, 'utf8'),
  );
}
