// Chooses the store implementation from configuration: the durable embedded store by default.
import { join } from 'node:path';
import type { HubConfig } from '../config.ts';
import type { QuadStore } from './quad-store.ts';
import { EmbeddedQuadStore, embeddedStoreOptions } from './embedded/embedded-quad-store.ts';
import { AGGREGATES_CHECKPOINT } from './embedded/store-files.ts';
import { SparqlEndpointQuadStore } from './sparql-endpoint-quad-store.ts';
import { AggregatingQuadStore } from './aggregates/aggregating-quad-store.ts';

/**
 * `store.kind` 'embedded' (default): Oxigraph in a worker behind a durable log under `<dataDir>/store/`, wrapped in the
 * dashboard aggregates (hub/store/aggregates; `store.aggregates: false` turns them off). An external SPARQL endpoint is
 * not wrapped: other clients write to it, so aggregates kept from the hub's own writes would not be its answer.
 */
export function createStore(config: HubConfig): QuadStore {
  switch (config.store.kind) {
    case 'embedded': {
      const store = new EmbeddedQuadStore(embeddedStoreOptions(config));
      // The aggregates are saved beside the store at a clean stop and loaded at the next start if nothing was written since;
      // after a crash they are built from the store's files while it recovers.
      const checkpoint = { path: join(store.dir, AGGREGATES_CHECKPOINT), mark: () => store.filesMark() };
      return config.store.aggregates === false ? store : new AggregatingQuadStore(store, { checkpoint, filesDir: store.dir });
    }
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
