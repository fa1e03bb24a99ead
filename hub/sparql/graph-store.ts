// SPARQL 1.1 Graph Store HTTP Protocol at /graph-store.
import type { FastifyInstance } from 'fastify';
import type { HubDeps } from '../http/deps.ts';

export async function graphStorePlugin(_app: FastifyInstance, _deps: HubDeps): Promise<void> {}
