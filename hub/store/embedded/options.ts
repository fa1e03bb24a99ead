// Options of the embedded store, derived from the hub configuration, and the mapping of worker errors to typed errors.
import { join, resolve } from 'node:path';
import type { HubConfig } from '../../config.ts';
import { StoreCorruptError, StoreError } from '../../errors.ts';
import { mapEngineError } from '../memory-quad-store.ts';
import { EngineSyntaxError } from '../oxigraph-engine.ts';
import type { WireError } from './protocol.ts';

export interface EmbeddedStoreOptions {
  /** Directory of the log and snapshots (createStore uses `<dataDir>/store`). */
  dir: string;
  /** Default query/update timeout (config.queryTimeoutMs). */
  queryTimeoutMs?: number;
  /** Seal the log segment and take a background snapshot past this many log bytes (config.store.snapshotLogBytes). */
  snapshotLogBytes?: number;
  /** Writes accepted but not yet applied by the worker, counted in calls (one insert() = one), before 503 overloaded. */
  maxPendingWrites?: number;
  /** Drop observation graphs older than this many days (0 = never), on open and every `retentionIntervalMs`. */
  retentionDays?: number;
  retentionIntervalMs?: number;
  /**
   * Store workers holding the whole store each (replica-set.ts): 2 (the hub's default) lets queries run on one while
   * the other applies writes, and a runaway query ends only its member; 1 is a single worker rebuilt in place.
   */
  replicas?: number;
  /**
   * Standby workers beside them (config.store.standby): kept current by the writes alone, never given a user query, so a
   * write's outcome never waits behind a query and a live member that is ended is replaced at once (0 = rebuilt first).
   */
  standby?: number;
  /**
   * Nice value of the worker threads (Linux, per thread; 0 = as the hub, the default). The main thread answers devices,
   * rules and HTTP; the engines apply writes and run queries; niced, they yield to it when the cores are short and run
   * as before on idle cores. Measured on the robot loop (400 Hz, three engines, two cores; test/bench/virtual-rules.ts)
   * the effect is within the machine's noise: p99 12.6-20 -> 10.7-12.3 ms at 15 in one series, 16.6-23 (10) vs
   * 11.8-20 ms (19) in another. An option for a hub that shares its cores with a latency-critical loop, not a default.
   */
  workerNice?: number;
  /** Clock, injectable for retention tests. */
  now?: () => Date;
}

/** Options from the hub configuration. */
export function embeddedStoreOptions(config: HubConfig): EmbeddedStoreOptions {
  return {
    dir: join(resolve(config.dataDir), 'store'),
    queryTimeoutMs: config.queryTimeoutMs,
    snapshotLogBytes: config.store.snapshotLogBytes,
    maxPendingWrites: config.store.maxPendingWrites,
    retentionDays: config.store.retentionDays,
    replicas: config.store.replicas,
    standby: config.store.standby,
    workerNice: config.store.workerNice,
  };
}

export function mapWireError(e: WireError): Error {
  if (e.name === 'EngineSyntaxError') return mapEngineError(new EngineSyntaxError(e.message, e.position));
  if (e.name === 'CorruptLogError') return new StoreCorruptError(e.message);
  return new StoreError('The store failed', { cause: new Error(`${e.name}: ${e.message}`) });
}

