// EmbeddedQuadStore: the hub's default, durable QuadStore: Oxigraph in a worker thread behind an append-only log.
//
// Writes: insert() frames a log record, posts the batch to the worker (FIFO, so any later query sees it) and resolves
// after the group-commit fdatasync. update() and Graph Store writes are applied in the worker first (a failing update
// is never logged), then logged, then resolved; append-order.ts keeps the log in apply order. Start: latest snapshot +
// log replay. Snapshots: snapshotter.ts. Runaway queries and worker rebuilds: worker-host.ts.
import { assertManageable, mayAddQuads } from '../query-complexity.ts';
import { UNSAFE_IRI } from '../graphs.ts';
import { mkdir } from 'node:fs/promises';
import { BadRequestError, OverloadedError, StoreError, StoreFullError } from '../../errors.ts';
import type { GraphName, JsonBinding, QueryOptions, QueryResult, QuadStore, UpdateOptions } from '../quad-store.ts';
import { toWire, type InsertItem } from './apply.ts';
import { RecordType, encodeInserts, encodeJson } from './log-format.ts';
import type { RecoveryPlan, RecoveryReport } from './recover.ts';
import { Snapshotter } from './snapshotter.ts';
import { mapWireError, type EmbeddedStoreOptions } from './options.ts';
export { embeddedStoreOptions, type EmbeddedStoreOptions } from './options.ts';
import { acquireLock, deleteBefore, DIR_MODE, filesMark, recoveryPlan, scanStoreDir, segmentPath, truncateDurably } from './store-files.ts';
import { ReplicaSet, type LogPosition } from './replica-set.ts';
import { WorkerHost } from './worker-host.ts';
import { workerEntry } from './worker-entry.ts';
import { WriteLog } from './write-log.ts';
import { Retention } from './retention.ts';
import { AppendOrder } from './append-order.ts';
import { askVia, constructVia, selectVia } from './query-results.ts';

/** What the store talks to: one worker (rebuilt in place when it fails) or a replica set of workers. */
type Engines = WorkerHost | ReplicaSet;

export class EmbeddedQuadStore implements QuadStore {
  private host: Engines | undefined;
  private log: WriteLog | undefined;
  private readonly timeoutMs: number;
  private queue: InsertItem[] = [];
  private queueAck: Promise<void> | undefined;
  private queueResolvers: { res(): void; rej(e: unknown): void } | undefined;
  private flushScheduled = false;
  /** Set while the worker is rebuilt: inserts wait so the rebuild's plan and the posts after it do not overlap. */
  private hold = 0;
  private readonly order = new AppendOrder();
  private snapshots!: Snapshotter;
  private rebuilding: Promise<void> | undefined;
  private rebuilt: (() => void) | undefined;
  private unlock: () => Promise<void> = async () => {};
  private retention: Retention | undefined;
  private opened = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Last known quad count and when it was read (performance.now()), for health(); refreshed in the background. */
  private lastQuads = 0;
  private lastQuadsAt = 0;
  /** The size request in flight (one at a time). */
  private sizing: Promise<void> | undefined;
  /** Quads guessed into lastQuads for updates and Graph Store writes since the last exact count (maxQuads only). */
  private guessed = 0;
  private readonly counters = { pendingWrites: 0, ackedWrites: 0, applyErrors: 0, replayedRecords: 0, replayFailedRecords: 0,
    recoveryMs: 0, workerRestarts: 0, retentionDroppedGraphs: 0, tornTails: 0, overloadRefusals: 0, fullRefusals: 0 };
  /** Lines of the inserts accepted and not yet reported applied (in the queue: `queueLines`), for the maxQuads bound. */
  private queuedLines = 0;
  private queueLines = 0;
  /** Insert batches posted and not yet applied by any member: batch number -> when posted (performance.now()). */
  private readonly unapplied = new Map<number, number>();
  private batches = 0;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.timeoutMs = options.queryTimeoutMs ?? 30_000;
  }

  /** Rebuilds the store from the latest snapshot plus the log; a log damaged in the middle throws StoreCorruptError. */
  async open(): Promise<void> {
    if (this.opened) return;
    const dir = this.options.dir;
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    this.unlock = await acquireLock(dir);
    const files = await scanStoreDir(dir);
    const snap = files.snapshots.at(-1);
    const segments = files.segments.filter((s) => snap === undefined || s >= snap);
    const replicas = this.options.replicas ?? 1;
    const standby = this.options.standby ?? 0;
    const set = replicas > 1 || standby > 0 ? new ReplicaSet(await workerEntry(), replicas, this.replicaHooks(), standby) : undefined;
    this.host =
      set ??
      new WorkerHost(await workerEntry(), {
        mapError: mapWireError,
        nice: this.options.workerNice,
        recoveryPlan: () => this.restartPlan(),
        onRecovered: (r) => this.noteRecovery(r),
        onRestart: () => this.counters.workerRestarts++,
        inPlan: (req) => req.op === 'insert' && this.order.appended.has(req.records),
      });
    let report: RecoveryReport;
    try {
      const plan = recoveryPlan(dir, snap, segments);
      report = await (set ? set.start(plan) : this.host.request({ op: 'recover', plan }));
    } catch (e) {
      await this.host.close();
      await this.unlock();
      throw e;
    }
    this.noteRecovery(report);
    if (report.torn) await truncateDurably(report.torn.path, report.torn.offset).then(() => this.counters.tornTails++);
    this.snapshots = new Snapshotter(dir, snap, segments, async () => void (await this.rebuilding));
    await deleteBefore(dir, files, snap ?? 0);
    this.log = new WriteLog({
      dir,
      seq: Math.max(1, (files.segments.at(-1) ?? 0) + 1, snap ?? 0),
      rotateBytes: this.options.snapshotLogBytes ?? 256 * 1024 * 1024,
      onSealed: (seq) => this.snapshots.onSealed(seq),
    });
    await this.log.open();
    this.opened = true;
    set?.fill();
    if ((await this.snapshots.sealedBytes()) >= (this.options.snapshotLogBytes ?? Infinity)) this.snapshots.start();
    if ((this.options.retentionDays ?? 0) > 0) {
      this.retention = new Retention(this, this.options.retentionDays!, this.options.retentionIntervalMs, this.options.now);
      await this.retention.start();
    }
  }

  private noteRecovery(r: RecoveryReport): void {
    this.counters.replayedRecords = r.replayedRecords;
    this.counters.replayFailedRecords = r.failedRecords;
    this.counters.recoveryMs = r.durationMs;
    this.lastQuads = r.quads;
    this.lastQuadsAt = performance.now();
    this.rebuilt?.();
  }

  /**
   * Worker restart: hold new writes, wait until everything already posted is in the log file, replay up to there.
   * A snapshot finishing meanwhile does not delete the files named in the plan until the rebuild is over.
   */
  private async restartPlan(): Promise<RecoveryPlan> {
    this.hold++;
    this.rebuilding ??= new Promise<void>((resolve) => (this.rebuilt = () => ((this.rebuilding = undefined), resolve())));
    try {
      await this.log!.drain();
      return recoveryPlan(this.options.dir, this.snapshots.seq, [...this.snapshots.sealed, this.log!.seq], this.log!.offset);
    } finally {
      this.hold--;
      this.scheduleFlush();
    }
  }

  /** How a replica set rebuilds and catches up a member from this store's log (replica-set.ts). */
  private replicaHooks() {
    let pins = 0;
    let unpinned: (() => void) | undefined;
    return {
      mapError: mapWireError,
      nice: this.options.workerNice,
      logEnd: async () => {
        await this.log!.drain();
        const log = this.log!;
        const sealed = this.snapshots.sealed;
        return { position: { seq: log.seq, offset: log.offset }, plan: recoveryPlan(this.options.dir, this.snapshots.seq, [...sealed, log.seq], log.offset) };
      },
      catchUpPlan: (from: LogPosition, to: LogPosition) => {
        const segments = [];
        for (let s = from.seq; s <= to.seq; s++) {
          segments.push({ path: segmentPath(this.options.dir, s), start: s === from.seq ? from.offset : 0, length: s === to.seq ? to.offset : undefined });
        }
        return { segments, append: true };
      },
      holdInserts: () => {
        this.hold++;
        return () => {
          this.hold--;
          this.scheduleFlush();
        };
      },
      sequenced: () => this.order.idle(),
      inPlan: (req: { op: string; records?: Uint8Array }) => req.op === 'insert' && this.order.appended.has(req.records!),
      // Snapshots wait on `rebuilding` before deleting old files: pinned while any member rebuilds.
      pin: () => {
        if (pins++ === 0) this.rebuilding = new Promise<void>((resolve) => (unpinned = resolve));
        return () => {
          if (--pins === 0) (this.rebuilding = undefined), unpinned?.();
        };
      },
      onRecovered: (r: RecoveryReport) => ((this.lastQuads = r.quads), (this.lastQuadsAt = performance.now())),
      onRestart: () => this.counters.workerRestarts++,
    };
  }

  private unavailable = () => new StoreError(this.closed ? 'The store is closed' : 'The store is not open');

  private get active(): { host: Engines; log: WriteLog } {
    if (!this.opened || this.closed) throw this.unavailable();
    return { host: this.host!, log: this.log! };
  }

  /** Adds N-Quads; resolves once durable (group commit). Rejects with OverloadedError past maxPendingWrites. */
  insert(nquads: string, graph?: GraphName): Promise<void> {
    if (!this.opened || this.closed) return Promise.reject(this.unavailable());
    const wire = graph === undefined ? null : toWire(graph);
    if (wire !== null && UNSAFE_IRI.test(wire)) return Promise.reject(new BadRequestError(`Invalid graph IRI <${wire}>`));
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    const lines = lineCount(nquads);
    const full = this.fullRefusal(lines);
    if (full) return Promise.reject(full);
    this.queuedLines += lines;
    this.queueLines += lines;
    this.counters.pendingWrites++;
    // Measured here, not at encoding: the UTF-8 length flattens a concatenated string in place while its pieces are
    // fresh. Left as a rope, its ~60 pieces survived young-generation GCs while queued and cost ~6 us per 1 KB message
    // to walk at encoding (A/B in the commit that added this); flattened now, the pieces die young.
    this.queue.push({ nquads, graph: wire, bytes: Buffer.byteLength(nquads) });
    if (!this.queueAck) this.queueAck = new Promise((res, rej) => (this.queueResolvers = { res, rej }));
    this.scheduleFlush();
    return this.queueAck;
  }

  /**
   * The OverloadedError an insert gets now (maxPendingWrites, maxApplyLagMs), counted, or undefined. Built without a
   * stack: under overload one is made per refused message (profiled at 35k msgs/s offered: the Error constructor's
   * stack capture was 1.3 s of main-thread time per 10 s), and the stack of a full queue tells nothing.
   */
  refusal(): OverloadedError | StoreFullError | undefined {
    const full = this.fullRefusal(0);
    if (full) return full;
    let why: string | undefined;
    if (this.counters.pendingWrites >= (this.options.maxPendingWrites ?? 100_000)) why = 'The store has too many writes waiting to be applied; retry later';
    else {
      const maxLag = this.options.maxApplyLagMs ?? 0;
      const lag = maxLag > 0 ? this.applyLagMs() : 0;
      if (lag > maxLag) why = `The store is ${Math.round(lag)} ms behind in applying writes; retry later`;
    }
    if (why === undefined) return undefined;
    this.counters.overloadRefusals++;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new OverloadedError(why);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /**
   * The StoreFullError a write adding `lines` quads gets now, counted, or undefined. The count is the last one a worker
   * reported (inserts add their lines: an upper bound) plus the lines still in flight; while writes are refused it is
   * taken again from the engine every 10 s, and after every write that may remove quads, so room made by deleting
   * graphs or by retention opens the store again.
   */
  private fullRefusal(lines: number): StoreFullError | undefined {
    const max = this.options.maxQuads ?? 0;
    if (max <= 0) return undefined;
    const held = this.lastQuads + this.queuedLines;
    if (held + lines <= max) return undefined;
    this.counters.fullRefusals++;
    this.refreshQuads(10_000);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new StoreFullError(
        `The store holds about ${held} quads and may hold ${max} (store.maxQuads); this write adds ${lines > 0 ? lines : 'more'}. Delete graphs (DELETE on the Graph Store, DROP GRAPH) or set store.retentionDays so old observation graphs are dropped`,
        { extensions: { quads: held, maxQuads: max } },
      );
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** Takes the exact quad count from a worker in the background if the last is older than `minAgeMs` (one at a time). */
  private refreshQuads(minAgeMs: number): void {
    if (performance.now() - this.lastQuadsAt >= minAgeMs) void this.countNow();
  }

  /** The exact quad count from a worker, into lastQuads (joins the request in flight); never rejects. */
  private countNow(): Promise<void> {
    const host = this.host;
    if (!host || !this.opened || this.closed) return Promise.resolve();
    this.sizing ??= host.request({ op: 'size' }).then(
      (n) => {
        this.lastQuads = n;
        this.lastQuadsAt = performance.now();
        this.guessed = 0;
        this.sizing = undefined;
      },
      () => void (this.sizing = undefined),
    );
    return this.sizing;
  }

  /**
   * Undefined when there is room for `lines` more quads (the write goes on at once, in call order), else a promise that
   * rejects with StoreFullError, or, when guesses of what updates and Graph Store writes added are part of the count,
   * resolves if an exact count taken first shows room.
   */
  private roomWait(lines: number): Promise<void> | undefined {
    const max = this.options.maxQuads ?? 0;
    if (max <= 0 || this.lastQuads + this.queuedLines + lines <= max) return undefined;
    if (this.guessed > 0) {
      return this.countNow().then(() => {
        const full = this.fullRefusal(lines);
        if (full) throw full;
      });
    }
    return Promise.reject(this.fullRefusal(lines));
  }

  /** After a write that may have removed quads: a fresh count when the store is near its bound. */
  private recount(): void {
    const max = this.options.maxQuads ?? 0;
    if (max > 0 && this.lastQuads + this.queuedLines > max * 0.9) this.refreshQuads(0);
  }

  /**
   * How long the oldest insert batch still unapplied has waited (0 when none). With maxApplyLagMs set, inserts are
   * refused past it: a store offered more than it applies then holds seconds of backlog, not maxPendingWrites of it.
   * Off by default: a query applies the graphs it reads first, so it waits only for their part of a backlog, while
   * refusing early would drop the messages of a burst that senders without retries (UDP, MQTT QoS 0) cannot resend.
   */
  private applyLagMs(): number {
    if (this.unapplied.size === 0) return 0;
    return performance.now() - this.unapplied.values().next().value!;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.hold > 0 || this.queue.length === 0) return;
    this.flushScheduled = true;
    // setImmediate, not a microtask: lets every insert() of the current I/O turn join the batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Posts the queued inserts to the worker and appends them to the log; their callers' promise is the log's sync. */
  private flush(): void {
    if (this.hold > 0 || this.queue.length === 0 || !this.log) return;
    const batch = this.queue;
    const resolvers = this.queueResolvers!;
    this.queue = [];
    this.queueAck = undefined;
    this.queueResolvers = undefined;
    const records = encodeInserts(batch);
    const n = batch.length; // keep only the count: the batch's strings can be collected once encoded
    const lines = this.queueLines;
    this.queueLines = 0;
    const id = ++this.batches;
    this.unapplied.set(id, performance.now());
    this.host!.request({ op: 'insert', records }).then(
      (r) => {
        this.unapplied.delete(id);
        this.counters.pendingWrites -= n;
        this.queuedLines -= lines;
        this.counters.applyErrors += r.errors;
        if (r.quads !== undefined) (this.lastQuads = r.quads), (this.lastQuadsAt = performance.now());
      },
      () => {
        this.unapplied.delete(id);
        this.counters.pendingWrites -= n;
        this.queuedLines -= lines;
      },
    );
    this.order.appendInserts(this.log, records).then(
      () => ((this.counters.ackedWrites += n), resolvers.res()),
      (e) => resolvers.rej(e),
    );
  }

  /**
   * Posts `apply` to the worker now (inserts accepted earlier are flushed first; later ones are held until it answers),
   * then logs `record()` of its result in answer order and resolves once that record is durable. Several such writes
   * pipeline: the worker answers in FIFO order, so the log order is the apply order, and they share group commits.
   */
  private loggedWrite<T>(apply: (host: Engines) => Promise<T>, record: (result: T) => Buffer | undefined): Promise<T> {
    const { host, log } = this.active;
    this.flush();
    this.counters.pendingWrites++;
    return this.order.appendAfterApply(log, apply(host), record, () => this.counters.pendingWrites--);
  }

  /**
   * Every engine runs the text and the log keeps it for replay, so its result must not depend on when or where it runs:
   * NOW() is fixed when the update is accepted (logged with it), and RAND(), UUID() and STRUUID() are refused (400
   * `update-nondeterministic`): each engine and each replay would draw other values (measured: two replicas held two
   * different UUIDs, and a restart a third).
   */
  async update(sparql: string, options: UpdateOptions = {}): Promise<void> {
    const { nondeterministic } = assertManageable(sparql);
    if (nondeterministic.length) {
      throw new BadRequestError(
        `The update calls ${nondeterministic.map((f) => `${f}()`).join(', ')}, whose values would differ on every store engine and on every replay of the log; mint the values in the client (INSERT DATA), or derive them from the data (e.g. IRI(CONCAT("urn:x:", SHA256(STR(?s)))))`,
        { extensions: { functions: nondeterministic } },
        'update-nondeterministic',
      );
    }
    // Past maxQuads an update that may add quads is refused; one that only deletes, clears or drops runs (it makes room).
    const wait = mayAddQuads(sparql) ? this.roomWait(1) : undefined;
    if (wait) await wait;
    const now = Date.now();
    try {
      await this.loggedWrite(
        (h) => h.request({ op: 'update', sparql, options: { baseIri: options.baseIri, now } }, options.timeoutMs ?? this.timeoutMs),
        () => encodeJson(RecordType.Update, { sparql, baseIri: options.baseIri, now }),
      );
    } finally {
      // What an update added is not known without counting: it is guessed from its length (a quad of INSERT DATA takes
      // 20 bytes or more), and near the bound the count is taken again.
      if (mayAddQuads(sparql)) this.added(Math.ceil(Buffer.byteLength(sparql) / 20));
      this.recount();
    }
  }

  /** Adds a guess of what a write added to the count (taken again from the engine near the bound). */
  private added(quads: number): void {
    if ((this.options.maxQuads ?? 0) <= 0) return;
    this.lastQuads += quads;
    this.guessed += quads;
  }

  // Graph Store writes have no execution timeout (a large PUT is not a runaway), but wait at most queryTimeoutMs for a
  // worker rebuild: past it they are withdrawn unapplied with a 503 and Retry-After (worker-host.ts).
  putGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    const wait = this.roomWait(lineCount(ntriples));
    if (wait) return wait.then(() => this.putGraphNow(graph, ntriples));
    return this.putGraphNow(graph, ntriples);
  }

  private putGraphNow(graph: GraphName, ntriples: string): Promise<boolean> {
    const g = toWire(graph);
    return this.loggedWrite(
      (h) => h.request({ op: 'putGraph', graph: g, data: ntriples }, undefined, this.timeoutMs),
      () => encodeJson(RecordType.PutGraph, { graph: g, data: ntriples }),
    ).finally(() => (this.added(lineCount(ntriples)), this.recount()));
  }

  postGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    const wait = this.roomWait(lineCount(ntriples));
    if (wait) return wait.then(() => this.postGraphNow(graph, ntriples));
    return this.postGraphNow(graph, ntriples);
  }

  private postGraphNow(graph: GraphName, ntriples: string): Promise<boolean> {
    const g = toWire(graph);
    return this.loggedWrite(
      (h) => h.request({ op: 'postGraph', graph: g, data: ntriples }, undefined, this.timeoutMs),
      () => encodeJson(RecordType.PostGraph, { graph: g, data: ntriples }),
    ).finally(() => (this.added(lineCount(ntriples)), this.recount()));
  }

  deleteGraph(graph: GraphName): Promise<boolean> {
    const g = toWire(graph);
    return this.loggedWrite(
      (h) => h.request({ op: 'deleteGraph', graph: g }, undefined, this.timeoutMs),
      (existed) => (existed ? encodeJson(RecordType.DeleteGraph, { graph: g }) : undefined),
    ).finally(() => this.recount());
  }

  /** Drops observation graphs whose day is before `cutoffDay` (YYYY-MM-DD); logged as one retention record. */
  async dropObservationsBefore(cutoffDay: string): Promise<string[]> {
    const graphs = await this.loggedWrite(
      (h) => h.request({ op: 'expire', cutoffDay }),
      (dropped) => (dropped.length ? encodeJson(RecordType.RetentionDrop, { graphs: dropped }) : undefined),
    );
    this.counters.retentionDroppedGraphs += graphs.length;
    if (graphs.length) this.recount();
    return graphs;
  }

  query(sparql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const { timeoutMs, ...rest } = options;
    try {
      assertManageable(sparql);
      return this.active.host.request({ op: 'query', sparql, options: rest }, timeoutMs ?? this.timeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  select(sparql: string, options?: QueryOptions): Promise<JsonBinding[]> {
    return selectVia(this, sparql, options);
  }
  ask(sparql: string, options?: QueryOptions): Promise<boolean> {
    return askVia(this, sparql, options);
  }
  construct(sparql: string, options?: QueryOptions): Promise<string> {
    return constructVia(this, sparql, options);
  }

  async getGraph(graph: GraphName): Promise<string | undefined> {
    return (await this.active.host.request({ op: 'getGraph', graph: toWire(graph) }, this.timeoutMs)) ?? undefined;
  }

  hasGraph(graph: GraphName): Promise<boolean> {
    return this.active.host.request({ op: 'hasGraph', graph: toWire(graph) }, this.timeoutMs);
  }

  /** Waits for a running background snapshot (tests, benchmarks). */
  snapshotIdle = (): Promise<void> => this.snapshots.idle();

  /**
   * Figures for /health without waiting for the worker: counters kept on this thread and the last known quad count with
   * its age (`quadsAgeMs`). A stale count is refreshed in the background, one size request at a time.
   */
  health(): Record<string, number> {
    const host = this.host;
    const now = performance.now();
    const serving = host instanceof ReplicaSet ? host.liveMembers > 0 : !host?.rebuilding;
    // An exact count walks the whole store in the worker (seconds at millions of quads): at most every 30 s, and only
    // when no insert reported a running count meanwhile.
    if (host && this.opened && !this.closed && !this.sizing && serving && now - this.lastQuadsAt > 30_000) void this.countNow();
    return {
      quads: this.lastQuads,
      quadsAgeMs: this.lastQuadsAt ? Math.round(now - this.lastQuadsAt) : -1,
      maxQuads: this.options.maxQuads ?? 0,
      rebuilding: host?.rebuilding ? 1 : 0,
      replicasLive: host instanceof ReplicaSet ? host.liveMembers : host && !host.rebuilding ? 1 : 0,
      replicasStandby: host instanceof ReplicaSet ? host.standbyMembers : 0,
      standbyPromotions: host instanceof ReplicaSet ? host.promotions : 0,
      lastJoinHoldMs: host instanceof ReplicaSet ? Math.round(host.lastJoinHoldMs * 100) / 100 : 0,
      // Updates run on one member before the others, and those whose first member was ended (the others went on).
      updatesRunFirst: host instanceof ReplicaSet ? host.leaderFirst.updates : 0,
      updatesEndedFirstMember: host instanceof ReplicaSet ? host.leaderFirst.endedAlone : 0,
      requestsInFlight: host?.inFlight ?? 0,
      logBytesWritten: this.log?.bytesWritten ?? 0,
      logSyncs: this.log?.syncs ?? 0,
      applyLagMs: Math.round(this.applyLagMs()),
      ...this.counters,
    };
  }

  async stats(): Promise<Record<string, number>> {
    const quads = await this.active.host.request({ op: 'size' });
    this.lastQuads = quads;
    this.lastQuadsAt = performance.now();
    const snap = this.snapshots;
    return {
      quads,
      logBytes: this.log!.offset + (await snap.sealedBytes()),
      logBytesWritten: this.log!.bytesWritten,
      logSegments: snap.sealed.length + 1,
      logSyncs: this.log!.syncs,
      snapshotSeq: snap.seq ?? 0,
      snapshots: snap.snapshots,
      lastSnapshotMs: snap.lastSnapshotMs,
      snapshotQuads: snap.snapshotQuads,
      snapshotFailures: snap.failures,
      ...this.counters,
    };
  }

  /**
   * Names the content of the store's files (store-files.ts filesMark): the same mark at a later open means the same
   * records, so data derived from them (the aggregates' checkpoint) still holds. Only meaningful while no write is in
   * flight: right after open() or after close().
   */
  filesMark(): Promise<string> {
    return filesMark(this.options.dir);
  }

  /** Where files derived from the store's content may be kept beside it. */
  get dir(): string {
    return this.options.dir;
  }

  /** Flushes pending writes, stops retention, snapshots and the worker, closes the log. Idempotent. */
  close(): Promise<void> {
    if (!this.opened) return Promise.resolve();
    this.closing ??= (async () => {
      this.retention?.stop();
      this.flush();
      await this.order.idle();
      this.flush();
      this.closed = true;
      await this.log!.close();
      this.rebuilt?.();
      // A replica still rebuilding pins the files a snapshot would delete: end the members before the snapshots.
      if (this.host instanceof ReplicaSet) await this.host.close();
      await this.snapshots.stop();
      await this.host!.close();
      await this.unlock();
    })();
    return this.closing;
  }
}

/** Quads in N-Quads/N-Triples text, counted as lines (an upper bound: blank and comment lines count too). */
function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return text.length > 0 && !text.endsWith('\n') ? n + 1 : n;
}
