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
  /** Inserts are refused (503 overloaded) while the oldest insert not yet applied has waited longer (config.store.maxApplyLagMs; 0 or unset = no bound). */
  maxApplyLagMs?: number;
  /**
   * Writes that add quads are refused (507 store-full) once the store would hold more (config.store.maxQuads; 0 or
   * unset = no bound). Every engine holds the whole store in one WebAssembly memory, which cannot pass 4 GiB.
   */
  maxQuads?: number;
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
   * Nice value of the worker threads (Linux, per thread; config default 10, 0 = as the hub). The main thread acks
   * devices, runs rules and answers HTTP; the engines apply writes lazily (hot/backlog.ts) and a query applies what it
   * reads first, so engines that lag under load cost visibility nothing. Measured with 2 replicas + standby, 8-quad
   * messages offered at 20,000/s for 10 s on an empty store (two A/B pairs): at 0 the engines took the cores from the
   * main thread, 11.8-11.9k/s acked with ack p50 5.8-6.1 s and visibility p99 4.4-4.6 s; at 19, 20.0k/s acked, ack
   * p99 174-186 ms, visibility p99 267-295 ms; at 10 the same (20.0k/s, ack p99 216 ms, visibility p99 387 ms), at 5
   * not (18.1k/s, ack p50 2.3 s). 10, not 19: a niced engine still gets ~10 % of a core's share against a busy
   * process at nice 0 (~1.5 % at 19), so the hub's queries do not starve on a machine shared with other work. On the
   * robot loop (test/bench/virtual-rules.ts) the effect was within the machine's noise.
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
    maxApplyLagMs: config.store.maxApplyLagMs,
    maxQuads: config.store.maxQuads,
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

