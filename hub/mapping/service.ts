// Builds the mapping services of a hub: the mapfile registry (loaded from <dataDir>/mappings) and mapfile attachments.
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { HubConfig } from '../config.ts';
import { DataFactory } from 'n3';
import type { Quad } from '@rdfjs/types';
import { writeNQuads } from './nquads.ts';
import { mappingGraph } from '../store/graphs.ts';
import type { QuadStore } from '../store/quad-store.ts';
import type { FunctionRegistry } from './functions.ts';
import { MappingRegistry } from './registry.ts';
import { FileMappingRepository, type MappingRepository } from './repository.ts';
import { ThingMappings, type TdSource } from './thing-mappings.ts';

export interface MappingService {
  registry: MappingRegistry;
  things: ThingMappings;
}

export interface MappingServiceOptions {
  config: Pick<HubConfig, 'dataDir' | 'baseUrl'> & Partial<Pick<HubConfig, 'mapfileBodyLimit' | 'maxMapfileTriples'>>;
  store: QuadStore;
  directory?: TdSource;
  repository?: MappingRepository;
  functions?: FunctionRegistry;
  log?: { warn(obj: object, msg: string): void };
}

/**
 * Blank nodes of one put: a store keeps labels as given and a parser's labels repeat across documents, so each put's
 * labels get a prefix unique across puts and restarts (two mapfiles' `[ ... ]` never become one node).
 */
function scopedBlankNodes(quads: Quad[]): Quad[] {
  const prefix = `mf${randomBytes(6).toString('hex')}_`;
  const fix = <T extends Quad['subject'] | Quad['object']>(t: T): T => (t.termType === 'BlankNode' ? (DataFactory.blankNode(prefix + t.value) as unknown as T) : t);
  return quads.map((q) => (q.subject.termType === 'BlankNode' || q.object.termType === 'BlankNode' ? DataFactory.quad(fix(q.subject), q.predicate, fix(q.object), q.graph) : q));
}

/** N-Triples of a mapfile's quads, written 1,000 at a time with the event loop given back between (20k quads ~ 40 ms). */
async function nTriplesSliced(quads: Quad[]): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < quads.length; i += 1000) {
    parts.push(writeNQuads(quads.slice(i, i + 1000).map((q) => DataFactory.quad(q.subject, q.predicate, q.object))));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return parts.join('');
}

export async function createMappingService(options: MappingServiceOptions): Promise<MappingService> {
  const { config, store, log } = options;
  const repository = options.repository ?? new FileMappingRepository(join(resolve(config.dataDir), 'mappings'));
  const registry = new MappingRegistry(repository, {
    baseIri: `${config.baseUrl}/`,
    functions: options.functions,
    limits: { maxBytes: config.mapfileBodyLimit, maxTriples: config.maxMapfileTriples },
    onLoadError: (name, err) => log?.warn({ err, mapping: name }, 'stored mapfile does not compile; skipped'),
    // A queryable copy of each mapfile in its graph (hub/store/graphs.ts mappingGraph); the repository stays the source.
    onChange: async (name, quads) => {
      const graph = mappingGraph(config.baseUrl, name);
      try {
        if (quads) await store.putGraph(graph, await nTriplesSliced(scopedBlankNodes(quads)));
        else await store.deleteGraph(graph);
      } catch (err) {
        log?.warn({ err, mapping: name }, 'mapfile graph not updated');
      }
    },
  });
  await registry.load();
  const things = new ThingMappings();
  if (options.directory) await things.follow(options.directory);
  return { registry, things };
}
