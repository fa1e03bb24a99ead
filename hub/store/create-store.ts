// Chooses the store implementation from configuration: the durable embedded store by default.
import type { HubConfig } from '../config.ts';
import type { QuadStore } from './quad-store.ts';
import { EmbeddedQuadStore, embeddedStoreOptions } from './embedded/embedded-quad-store.ts';
import { SparqlEndpointQuadStore } from './sparql-endpoint-quad-store.ts';

/** `store.kind` 'embedded' (default): Oxigraph in a worker behind a durable log under `<dataDir>/store/`. */
export function createStore(config: HubConfig): QuadStore {
  switch (config.store.kind) {
    case 'embedded':
      return new EmbeddedQuadStore(embeddedStoreOptions(config));
    case 'sparql': {
      // validateConfig() guarantees both endpoints for kind 'sparql'.
      const { queryEndpoint, updateEndpoint, graphStoreEndpoint, user, password } = config.store;
      return new SparqlEndpointQuadStore({
        queryEndpoint: queryEndpoint!,
        updateEndpoint: updateEndpoint!,
        graphStoreEndpoint,
        user,
        password,
        timeoutMs: config.queryTimeoutMs,
      });
    }
    default:
      throw new Error(`store kind '${config.store.kind}' is not available in this build`);
  }
}
