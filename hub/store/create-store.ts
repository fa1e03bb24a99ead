// Chooses the store implementation from configuration.
import type { HubConfig } from '../config.ts';
import type { QuadStore } from './quad-store.ts';
import { MemoryQuadStore } from './memory-quad-store.ts';

export function createStore(_config: HubConfig): QuadStore {
  // Replaced by the durable embedded store and the SPARQL endpoint store (issue 2).
  return new MemoryQuadStore();
}
