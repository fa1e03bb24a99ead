// Runs the store worker and talks to it: FIFO requests, per-request execution timeouts, and restart-from-log.
//
// Oxigraph cannot cancel a running query. A request that runs past its timeout is rejected at once, the worker is
// terminated, and a fresh worker is rebuilt from snapshot + log (every acknowledged write is there). Requests that were
// queued behind the runaway one, and those that arrive during the rebuild, are held and posted to the new worker once
// its recovery is done, so they are still answered; one held longer than its wait bound is withdrawn (never applied)
// with a 503 that says when to retry. A worker whose engine trapped answers that request, says so, and is replaced.
import { Worker } from 'node:worker_threads';
import { QueryTimeoutError, ServiceUnavailableError, StoreError } from '../../errors.ts';
import type { Envelope, WireError, WorkerPhase, WorkerReplies, WorkerReply, WorkerRequest } from './protocol.ts';
import type { RecoveryPlan, RecoveryReport } from './recover.ts';

export interface Pending {
  req: WorkerRequest;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Execution timeout, armed when the request reaches the head of the worker's queue (so queueing does not count). */
  timeoutMs?: number;
  timer?: NodeJS.Timeout;
  /** Longest wait while the worker is rebuilt before the request is withdrawn with a 503 (undefined: no bound). */
  waitMs?: number;
  waitTimer?: NodeJS.Timeout;
  /** The worker applies queued inserts before running it: its execution timeout is off until it runs. */
  applying?: boolean;
}

export interface WorkerHostOptions {
  /** Maps a worker-side error to the hub's typed errors. */
  mapError(error: WireError): Error;
  /** The worker thread's nice value (Linux; config.store.workerNice): below the main thread, which answers devices. */
  nice?: number;
  /** Called on restart: waits until every write posted so far is in the log, then says what to replay. */
  recoveryPlan?(): Promise<RecoveryPlan>;
  onRecovered?(report: RecoveryReport): void;
  /** Whether an unanswered request is already in the recovery plan (an insert batch appended to the log). */
  inPlan?(req: WorkerRequest): boolean;
  onRestart?(reason: string): void;
  /**
   * Replica-set members (replica-set.ts): instead of rebuilding itself, the host ends its worker and hands its
   * unanswered requests (unsettled) to the set, which re-routes reads and rebuilds a replica in the background.
   */
  handOff?(reason: string, orphans: Pending[]): void;
}

export class WorkerHost {
  private worker: Worker;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  /** Requests posted while the worker is being replaced; sent once the replacement has its recovery queued. */
  private held: Pending[] | undefined;
  private failed: Error | undefined;
  private closed = false;
  restarts = 0;
  /** How long the last recovery took (ms): the estimate of the next rebuild, for Retry-After. */
  lastRecoveryMs = 0;
  private rebuildStarted = 0;

  /** `entry`: the worker script (worker-entry.ts). */
  constructor(private readonly entry: URL, private readonly options: WorkerHostOptions) {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    // execArgv []: the entry is plain JavaScript, or the bootstrap that registers tsx itself.
    // 16 MB of native stack (workers get 4 MB): Oxigraph's recursive evaluator then runs 2,000 chained operators where
    // 4 MB overflowed at ~1,000, a 4x margin over the complexity guard's 500 (measured with oxigraph 0.5.11, Node 20).
    const worker = new Worker(this.entry, { execArgv: [], workerData: { nice: this.options.nice ?? 0 }, resourceLimits: { stackSizeMb: 16 } });
    worker.on('message', (reply: WorkerReply | WorkerPhase) => ('phase' in reply ? this.onPhase(reply) : this.onReply(reply)));
    worker.on('error', (e) => this.onCrash(worker, e));
    worker.on('exit', (code) => {
      if (worker === this.worker && !this.closed && this.held === undefined) this.onCrash(worker, new Error(`store worker exited with code ${code}`));
    });
    return worker;
  }

  /**
   * Posts a request; the promise settles with the worker's answer (or a typed error). `timeoutMs` bounds its execution;
   * `waitMs` (default `timeoutMs`) bounds how long it may be held while the worker is rebuilt.
   */
  request<K extends WorkerRequest['op']>(req: Extract<WorkerRequest, { op: K }>, timeoutMs?: number, waitMs = timeoutMs): Promise<WorkerReplies[K]> {
    return new Promise((resolve, reject) => {
      const p: Pending = { req, resolve: resolve as (v: unknown) => void, reject, timeoutMs, waitMs };
      if (this.failed) return reject(this.failed);
      if (this.closed) return reject(new StoreError('The store is closed'));
      if (this.held) this.hold(p);
      else this.post(p);
    });
  }

  /** Number of requests not yet answered. */
  get inFlight(): number {
    return this.pending.size + (this.held?.length ?? 0);
  }

  /** Whether the worker is being replaced (requests are held meanwhile). */
  get rebuilding(): boolean {
    return this.held !== undefined;
  }

  /** Seconds a client should wait before retrying: the rest of the rebuild as the last one took, at least 1. */
  retryAfterSeconds(): number {
    const left = this.rebuilding ? this.lastRecoveryMs - (performance.now() - this.rebuildStarted) : this.lastRecoveryMs;
    return Math.max(1, Math.ceil(left / 1000));
  }

  private hold(p: Pending): void {
    this.held!.push(p);
    if (p.waitMs === undefined || p.waitTimer) return;
    p.waitTimer = setTimeout(() => {
      const i = this.held?.indexOf(p) ?? -1;
      if (i < 0) return;
      this.held!.splice(i, 1);
      const retry = this.retryAfterSeconds();
      p.reject(
        new ServiceUnavailableError(`The store is being rebuilt after a failed request; retry in ${retry} s`, {
          headers: { 'retry-after': String(retry) },
          extensions: { reason: 'store-rebuilding' },
        }),
      );
    }, p.waitMs);
  }

  private post(p: Pending): void {
    if (p.waitTimer) clearTimeout(p.waitTimer), (p.waitTimer = undefined);
    const id = this.nextId++;
    this.pending.set(id, p);
    this.worker.postMessage({ ...p.req, id } satisfies Envelope);
    if (this.pending.size === 1) this.armHead();
  }

  private armHead(): void {
    const first = this.running();
    if (!first) return;
    const [id, p] = first;
    if (p.timeoutMs === undefined || p.timer || p.applying) return;
    p.timer = setTimeout(() => this.onTimeout(id), p.timeoutMs);
  }

  /** The worker applies queued inserts first (timeout off), then runs the request (its timeout starts now). */
  private onPhase(m: WorkerPhase): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer), (p.timer = undefined);
    p.applying = m.phase === 'applying';
    if (!p.applying && p.timeoutMs !== undefined) p.timer = setTimeout(() => this.onTimeout(m.id), p.timeoutMs);
  }

  /**
   * The request the worker is running: the first one posted, not counting inserts (the worker queues them and answers
   * them once applied, hot/backlog.ts, while it goes on with the requests after them); the first insert if only inserts.
   */
  private running(): [number, Pending] | undefined {
    let insert: [number, Pending] | undefined;
    for (const e of this.pending) {
      if (e[1].req.op !== 'insert') return e;
      insert ??= e;
    }
    return insert;
  }

  private onReply(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (p.timer) clearTimeout(p.timer);
    this.armHead();
    if (reply.ok && p.req.op === 'recover') this.lastRecoveryMs = (reply.value as RecoveryReport).durationMs;
    if (reply.ok) p.resolve(reply.value);
    else p.reject(this.options.mapError(reply.error));
    // The engine trapped on this request: the worker exits next; nothing else was running, so rebuild and re-post all.
    if (!reply.ok && reply.fatal && !this.closed && this.held === undefined) void this.restart(`engine trapped: ${reply.error.message}`);
  }

  private onTimeout(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(new QueryTimeoutError(p.timeoutMs!, { headers: { 'retry-after': String(Math.max(1, Math.ceil(this.lastRecoveryMs / 1000) + 1)) } }));
    void this.restart(`a ${p.req.op} ran past ${p.timeoutMs} ms`);
  }

  private onCrash(worker: Worker, e: Error): void {
    if (worker !== this.worker || this.closed || this.held !== undefined) return;
    // FIFO (inserts aside): the request at the head was running when the worker died.
    const first = this.running();
    if (first) {
      this.pending.delete(first[0]);
      first[1].reject(new StoreError('The store worker failed while running this request', { cause: e }));
      // A worker that dies while rebuilding would die again: stop instead of looping.
      if (first[1].req.op === 'recover') return this.fail(new StoreError('The store worker failed during recovery', { cause: e }));
    }
    void this.restart(`worker crashed: ${e.message}`);
  }

  /** Reads (queries, graph reads, size) posted and not yet answered: a replica set routes reads to the least busy. */
  get readsInFlight(): number {
    let n = 0;
    for (const p of this.pending.values()) if (isRead(p.req)) n++;
    return n;
  }

  /**
   * Reads posted by users and not yet answered: queries and graph reads, which may run to their budget. The store's
   * own size request is left out: it walks the store once (~60 ns per quad, 230 ms at 4M) and then ends.
   */
  get userReadsInFlight(): number {
    let n = 0;
    for (const p of this.pending.values()) if (isRead(p.req) && p.req.op !== 'size') n++;
    return n;
  }

  /** Ends this host now (replica sets: a member that missed a write's outcome); its requests are handed off. */
  stop(reason: string): void {
    if (!this.closed && !this.failed) void this.restart(reason);
  }

  /** Replaces the worker by a fresh one rebuilt from snapshot + log; unanswered requests are posted again. */
  private async restart(reason: string): Promise<void> {
    if (this.options.handOff) {
      if (this.failed) return; // handed off already (the terminated worker's exit event comes after)
      const orphans = [...this.pending.values()];
      for (const p of orphans) if (p.timer) clearTimeout(p.timer), (p.timer = undefined);
      this.pending.clear();
      this.failed = new StoreError(`The store worker stopped (${reason})`);
      void this.worker.terminate();
      this.options.handOff(reason, orphans);
      return;
    }
    if (!this.options.recoveryPlan) {
      this.fail(new StoreError(`The store worker stopped (${reason})`));
      return;
    }
    this.restarts++;
    this.rebuildStarted = performance.now();
    this.options.onRestart?.(reason);
    const orphans = [...this.pending.values()];
    for (const p of orphans) if (p.timer) clearTimeout(p.timer), (p.timer = undefined);
    this.pending.clear();
    this.held = [];
    // Insert batches the plan covers are applied by the recovery (they settle with it); the rest wait for the new worker.
    const covered = orphans.filter((p) => this.options.inPlan?.(p.req));
    for (const p of orphans) if (!covered.includes(p)) this.hold(p);
    const old = this.worker;
    void old.terminate();
    let plan: RecoveryPlan;
    try {
      plan = await this.options.recoveryPlan();
    } catch (e) {
      this.fail(new StoreError('The store could not be rebuilt after a worker restart', { cause: e }));
      return;
    }
    if (this.closed) return;
    this.worker = this.spawn();
    const recovered = new Promise<RecoveryReport>((resolve, reject) => this.post({ req: { op: 'recover', plan }, resolve: resolve as (v: unknown) => void, reject }));
    for (const p of covered) recovered.then(() => p.resolve({ errors: 0 }), p.reject);
    try {
      this.options.onRecovered?.(await recovered);
    } catch (e) {
      return this.fail(new StoreError('The store could not be rebuilt after a worker restart', { cause: e }));
    }
    if (this.closed || this.failed) return;
    // Held requests (in arrival order) go to the rebuilt worker; new ones are posted directly again.
    const queued = this.held ?? [];
    this.held = undefined;
    for (const p of queued) this.post(p);
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    for (const p of this.pending.values()) p.reject(e), p.timer && clearTimeout(p.timer);
    this.pending.clear();
    for (const p of this.held ?? []) p.reject(e), p.waitTimer && clearTimeout(p.waitTimer);
    this.held = undefined;
  }

  /** Ends the worker; unanswered requests are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new StoreError('The store is closed'));
    await this.worker.terminate();
  }
}

/** Requests that only read the engine (a replica set may answer them from any current member). */
export function isRead(req: WorkerRequest): boolean {
  return req.op === 'query' || req.op === 'getGraph' || req.op === 'hasGraph' || req.op === 'size';
}
