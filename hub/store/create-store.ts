// Chooses the store implementation from configuration: the durable embedded store by default.
import type { HubConfig } from '../config.ts';
import type { QuadStore } from './quad-store.ts';
import { EmbeddedQuadStore, embeddedStoreOptions } from './embedded/embedded-quad-store.ts';

/** `store.kind` 'embedded' (default): Oxigraph in a worker behind a durable log under `<dataDir>/store/`. */
export function createStore(config: HubConfig): QuadStore {
  switch (config.store.kind) {
    case 'embedded':
      return new EmbeddedQuadStore(embeddedStoreOptions(config));
    default:
      // 'sparql' is wired by the SPARQL-endpoint store (hub/store/sparql-endpoint*).
      throw new Error(`store kind '${config.store.kind}' is not available in this build`);
  }
}
