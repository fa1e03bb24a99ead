// Messages between the embedded store and its worker threads (structured-clone safe: no symbols, no class instances).
import type { QueryOptions, QueryResult } from '../quad-store.ts';
import type { EngineUpdateOptions } from '../oxigraph-engine.ts';
import type { WireGraph } from './apply.ts';
import type { RecoveryPlan, RecoveryReport } from './recover.ts';

export type WorkerRequest =
  | { op: 'recover'; plan: RecoveryPlan }
  /** Framed insert records (log-format.ts), the very bytes appended to the log. */
  | { op: 'insert'; records: Uint8Array }
  | { op: 'query'; sparql: string; options: QueryOptions }
  | { op: 'update'; sparql: string; options: EngineUpdateOptions }
  | { op: 'getGraph'; graph: WireGraph }
  | { op: 'hasGraph'; graph: WireGraph }
  | { op: 'deleteGraph'; graph: WireGraph }
  | { op: 'putGraph'; graph: WireGraph; data: string }
  | { op: 'postGraph'; graph: WireGraph; data: string }
  | { op: 'expire'; cutoffDay: string }
  | { op: 'size' }
  /** Snapshot workers: dump the whole store as N-Quads to `path` (via `path.tmp`, fsync, rename). */
  | { op: 'writeSnapshot'; path: string };

export interface WorkerReplies {
  recover: RecoveryReport;
  /** `quads`: the worker's running count after the batch (exact at the last size, plus the quads loaded since). */
  insert: { errors: number; lastError?: string; quads?: number };
  query: QueryResult;
  update: null;
  getGraph: string | null;
  hasGraph: boolean;
  deleteGraph: boolean;
  putGraph: boolean;
  postGraph: boolean;
  expire: string[];
  size: number;
  writeSnapshot: { quads: number; bytes: number };
}

export type Envelope = WorkerRequest & { id: number };

export interface WireError {
  name: string;
  message: string;
  position?: { line: number; column: number };
  path?: string;
  offset?: number;
}

/** `fatal`: the engine trapped on this request and the worker exits right after this reply. */
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError; fatal?: boolean };

/**
 * Not an answer: the worker applies queued inserts before request `id` (`applying`) and now runs it (`running`); the
 * host keeps the request's execution timeout off while the inserts are applied (hub/store/hot/backlog.ts).
 */
export interface WorkerPhase {
  id: number;
  phase: 'applying' | 'running';
}
