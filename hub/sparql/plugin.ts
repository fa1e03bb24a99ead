// SPARQL 1.1 Protocol endpoint at /sparql (query and update).
import type { FastifyInstance } from 'fastify';
import type { HubDeps } from '../http/deps.ts';

export async function sparqlPlugin(_app: FastifyInstance, _deps: HubDeps): Promise<void> {}
