// Several store workers holding the same data (replicas), so that a runaway query never stalls writes, reads or /health.
//
// Every write is posted to every member (live and standby) in the same order (one FIFO each, so each member is the log
// applied in log order); its outcome is whichever member answers first. A read goes to the live member with the fewest
// reads in flight, so while one member runs a long query the others keep applying writes and answering. Standby members
// get every write and no user query: a write's outcome never waits behind a query (the standby answers it), and when a
// live member runs a request past its budget (or traps, or crashes) and is ended alone, a standby is promoted at once,
// its reads re-routed; the replacement standby is rebuilt in the background from snapshot + log, catches up on the log
// written meanwhile, and joins (joinMember: writes are held only while the writes in flight reach the log, not while the
// new member replays). Nothing waits for a rebuild unless no member is left.
//
// A SPARQL Update runs on one member first (the standby, else the live member with the fewest reads): its cost is not
// known before it runs, and one past its budget then ends that member alone, not every member at once (which left no
// member to serve until one was rebuilt). Writes posted meanwhile go to that member behind it and wait for the others;
// once it answers, the others get the update (if it succeeded; decided, so without a budget) and then those writes, so
// every member applies the same writes in the same order, the log's. Memory: each member holds the whole store
// (engine RSS per million quads, ~310 MB with oxigraph 0.5, times live + standby members).
import { QueryTimeoutError, ServiceUnavailableError, StoreError } from '../../errors.ts';
import type { WireError, WorkerReplies, WorkerRequest } from './protocol.ts';
import type { RecoveryPlan, RecoveryReport } from './recover.ts';
import { WorkerHost, isRead, type Pending } from './worker-host.ts';

/** Load figures of one member, as WorkerHost reports them. */
export interface MemberLoad {
  userReadsInFlight: number;
  readsInFlight: number;
  inFlight: number;
}

/**
 * The member a read goes to: the fewest user reads in flight (one of them may be a runaway running to its budget),
 * then the fewest reads (the store's own size request ends by itself), then the fewest requests. Routing by reads alone
 * sent a read behind a runaway query when the other member was counting the store for /health (store bench, 4M quads:
 * an ASK waited 4.8 s for the runaway's end).
 */
export function leastBusy<T extends MemberLoad>(members: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const h of members) {
    if (
      !best ||
      h.userReadsInFlight < best.userReadsInFlight ||
      (h.userReadsInFlight === best.userReadsInFlight &&
        (h.readsInFlight < best.readsInFlight || (h.readsInFlight === best.readsInFlight && h.inFlight < best.inFlight)))
    )
      best = h;
  }
  return best;
}

/** A point in the log: segment number and byte offset in it. */
export interface LogPosition {
  seq: number;
  offset: number;
}

export interface ReplicaSetHooks {
  mapError(error: WireError): Error;
  /** Nice value of every member's thread (WorkerHostOptions.nice). */
  nice?: number;
  /** Waits until everything appended so far is in the log file; returns where the log ends (and the rebuild plan). */
  logEnd(): Promise<{ position: LogPosition; plan: RecoveryPlan }>;
  /** Plan that replays the log from `from` to `to` onto a member's current engine. */
  catchUpPlan(from: LogPosition, to: LogPosition): RecoveryPlan;
  /** Stops insert flushes until the returned function is called. */
  holdInserts(): () => void;
  /** Settles once every logged-after-apply write sequenced so far has been handed to the log. */
  sequenced(): Promise<unknown>;
  /** Whether an unanswered request is in the log already (an insert batch appended), so a rebuild replays it. */
  inPlan(req: WorkerRequest): boolean;
  /** Keeps snapshots from deleting log files while a member rebuilds; call the result when done. */
  pin(): () => void;
  onRecovered?(report: RecoveryReport): void;
  onRestart?(reason: string): void;
}

interface SetWrite {
  req: WorkerRequest;
  timeoutMs?: number;
  waitMs?: number;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  decided: boolean;
  /** Members this write was posted to and that have not answered it. */
  on: Set<WorkerHost>;
}

/** An update running on its first member alone, and the writes that arrived since (posted to that member only). */
interface Barrier {
  w: SetWrite;
  leader: WorkerHost;
  deferred: SetWrite[];
}

/** Catch-up rounds replay the log written while a member rebuilt; the last round runs with insert flushes held. */
const CATCH_UP_ROUNDS = 4;
const CATCH_UP_SMALL_BYTES = 4 << 20;

export class ReplicaSet {
  private live: WorkerHost[] = [];
  /** Current members that get every write and no read: promoted when a live member is ended. */
  private standbys: WorkerHost[] = [];
  /** Members in their last catch-up: they get every write posted from then on (after the catch-up, in their FIFO). */
  private accepting: WorkerHost[] = [];
  /** Members being rebuilt (closed with the set). */
  private building = new Set<WorkerHost>();
  private joining = 0;
  /** Writes posted and not yet decided, by request object (orphans handed back by a member are matched on it). */
  private writes = new Map<WorkerRequest, SetWrite>();
  /** Writes that no live member holds (every member holding it was ended): posted to the next member that joins. */
  private homeless: SetWrite[] = [];
  /** Requests that arrived while no member was live. */
  private waiting: Array<{ run(): void; reject(e: unknown): void; timer?: NodeJS.Timeout }> = [];
  /** Writes that arrived while a member joins (its last catch-up): posted to every member, the new one too, after. */
  private paused: SetWrite[] | undefined;
  /** The update being run by one member before the others (see the file comment). */
  private barrier: Barrier | undefined;
  /** Updates run first by one member: how many, and how many ended only that member (past their budget). */
  leaderFirst = { updates: 0, endedAlone: 0 };
  private closed = false;
  private failed: Error | undefined;
  private noneLive: Array<() => void> = [];
  restarts = 0;
  lastRecoveryMs = 0;
  /** Standbys promoted to live (a live member was ended). */
  promotions = 0;
  /** How long the last join held writes (ms): the writes in flight reaching the log, not the new member's replay. */
  lastJoinHoldMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Settles when the member holding writes for its last catch-up has let them go. */
  private lastStage: Promise<void> = Promise.resolve();

  /** `size`: live members (reads and writes); `standby`: members kept current by the writes alone, promoted on a loss. */
  constructor(private readonly entry: URL, private readonly size: number, private readonly hooks: ReplicaSetHooks, private readonly standby = 0) {}

  private spawn(): WorkerHost {
    const host: WorkerHost = new WorkerHost(this.entry, {
      mapError: this.hooks.mapError,
      nice: this.hooks.nice,
      handOff: (reason, orphans) => this.memberDown(host, reason, orphans),
    });
    return host;
  }

  /** Starts the first member from `plan` (the store's open); the others join in the background. */
  async start(plan: RecoveryPlan): Promise<RecoveryReport> {
    const first = this.spawn();
    let report: RecoveryReport;
    try {
      report = await first.request({ op: 'recover', plan });
    } catch (e) {
      await first.close();
      throw e;
    }
    this.lastRecoveryMs = report.durationMs;
    this.live.push(first);
    return report;
  }

  /** Adds members until the set has its size (after open, and after a member was ended). Runs in the background. */
  fill(): void {
    while (!this.closed && !this.failed && this.live.length + this.standbys.length + this.joining < this.size + this.standby) void this.joinMember();
  }

  /** Every member a write goes to: live, standby and those in their last catch-up. */
  private get writers(): WorkerHost[] {
    return [...this.live, ...this.standbys, ...this.accepting];
  }

  /** Standby members ready to be promoted. */
  get standbyMembers(): number {
    return this.standbys.length;
  }

  /** Members answering requests now. */
  get liveMembers(): number {
    return this.live.length;
  }

  get rebuilding(): boolean {
    return this.joining > 0;
  }

  get inFlight(): number {
    return this.live.reduce((n, h) => n + h.inFlight, 0) + this.waiting.length;
  }

  /** Requests not yet answered by each live and standby member (tests: a standby runs no user query). */
  get memberLoads(): { live: number[]; standby: number[] } {
    return { live: this.live.map((h) => h.readsInFlight), standby: this.standbys.map((h) => h.readsInFlight) };
  }

  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.lastRecoveryMs / 1000));
  }

  /** Same contract as WorkerHost.request: reads go to one live member, writes to all (first answer decides). */
  request<K extends WorkerRequest['op']>(req: Extract<WorkerRequest, { op: K }>, timeoutMs?: number, waitMs = timeoutMs): Promise<WorkerReplies[K]> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      if (this.closed) return reject(new StoreError('The store is closed'));
      if (isRead(req)) this.read(req, timeoutMs, waitMs, resolve as (v: unknown) => void, reject);
      else {
        const w: SetWrite = { req, timeoutMs, waitMs, resolve: resolve as (v: unknown) => void, reject, decided: false, on: new Set() };
        this.writes.set(req, w);
        if (this.paused) this.paused.push(w);
        else if (this.live.length) this.dispatch(w);
        else this.wait(() => this.dispatch(w), w, waitMs);
      }
    });
  }

  private read(req: WorkerRequest, timeoutMs: number | undefined, waitMs: number | undefined, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    const host = leastBusy(this.live);
    if (!host) return this.wait(() => this.read(req, timeoutMs, waitMs, resolve, reject), { reject }, waitMs);
    host.request(req as WorkerRequest & { op: 'query' }, timeoutMs, waitMs).then(resolve, reject);
  }

  /** Holds a request until a member is live; past `waitMs` it is withdrawn with a 503 (as a rebuilding WorkerHost does). */
  private wait(run: () => void, target: { reject(e: unknown): void; decided?: boolean; req?: WorkerRequest }, waitMs?: number): void {
    const entry: { run(): void; reject(e: unknown): void; timer?: NodeJS.Timeout } = { run, reject: (e) => target.reject(e) };
    if (waitMs !== undefined) {
      entry.timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        if (target.req) this.writes.delete(target.req);
        const retry = this.retryAfterSeconds();
        target.reject(
          new ServiceUnavailableError(`The store is being rebuilt after a failed request; retry in ${retry} s`, {
            headers: { 'retry-after': String(retry) },
            extensions: { reason: 'store-rebuilding' },
          }),
        );
      }, waitMs);
    }
    this.waiting.push(entry);
  }

  /** Posts a write to every member, or, for an update, to one member first (see the file comment). */
  private dispatch(w: SetWrite): void {
    const b = this.barrier;
    if (b) {
      this.postWrite(w, [b.leader]);
      b.deferred.push(w);
      return;
    }
    const members = this.writers;
    const leader = w.req.op === 'update' && members.length > 1 ? (this.standbys[0] ?? leastBusy(this.live)) : undefined;
    if (!leader) return this.postWrite(w, members);
    this.barrier = { w, leader, deferred: [] };
    this.leaderFirst.updates++;
    this.postWrite(w, [leader]);
  }

  /**
   * The barrier's update is decided (answered by its member, or that member is gone): the other members get it if it
   * succeeded, then the writes that waited, in order.
   */
  private lift(b: Barrier, applied: boolean): void {
    if (this.barrier !== b) return;
    this.barrier = undefined;
    const others = this.writers.filter((m) => m !== b.leader);
    if (applied) for (const m of others) this.follow(b.w.req, m);
    // Undecided still: their member answers them after the update (FIFO), and the update's answer lifts the barrier.
    for (const w of b.deferred) this.postWrite(w, others);
  }

  /**
   * Posts a write already decided by another member: applied without a budget; a member that fails it would no longer
   * hold what the log says, so it is ended and rebuilt from the log.
   */
  private follow(req: WorkerRequest, m: WorkerHost): void {
    m.request(req as WorkerRequest & { op: 'update' }, undefined, undefined).catch(() => {
      if (!m.rebuilding) m.stop(`it failed a ${req.op} another member applied`);
    });
  }

  private postWrite(w: SetWrite, members: WorkerHost[]): void {
    for (const host of members) {
      w.on.add(host);
      host.request(w.req as WorkerRequest & { op: 'update' }, w.timeoutMs, w.waitMs).then(
        (v) => this.answered(w, host, true, v),
        (e) => this.answered(w, host, false, e),
      );
    }
  }

  private answered(w: SetWrite, host: WorkerHost, ok: boolean, value: unknown): void {
    if (!w.on.delete(host)) return; // handed off meanwhile
    if (w.decided) return;
    w.decided = true;
    this.writes.delete(w.req);
    const b = this.barrier;
    if (b?.w === w) {
      if (value instanceof QueryTimeoutError) this.leaderFirst.endedAlone++;
      this.lift(b, ok);
    }
    if (ok) return w.resolve(value);
    w.reject(value);
    // A write that ran past its budget is not logged: a member still running it would apply it anyway, so it is
    // ended too (it rebuilds from the log, which does not hold the write).
    if (value instanceof QueryTimeoutError) for (const other of [...w.on]) other.stop(`a ${w.req.op} ran past its budget on another member`);
  }

  private memberDown(host: WorkerHost, reason: string, orphans: Pending[]): void {
    this.restarts++;
    this.hooks.onRestart?.(reason);
    const wasLive = this.live.includes(host);
    this.live = this.live.filter((h) => h !== host);
    this.standbys = this.standbys.filter((h) => h !== host);
    this.accepting = this.accepting.filter((h) => h !== host);
    // A standby holds every write so far in order: it serves at once in the ended member's place.
    if (wasLive && !this.closed && this.standbys.length) {
      this.live.push(this.standbys.shift()!);
      this.promotions++;
    }
    // The member running an update first is gone: past its budget or crashed, the update's own answer (already on its
    // way) decides it; handed back unanswered, it was not applied and is refused. The writes behind it go to the others.
    const b = this.barrier;
    if (b && b.leader === host) {
      if (!b.w.decided && orphans.some((p) => p.req === b.w.req)) {
        b.w.decided = true;
        this.writes.delete(b.w.req);
        b.w.reject(new StoreError(`The store worker running this update stopped (${reason}); it was not applied`));
      }
      if (!b.w.decided) this.leaderFirst.endedAlone++; // its answer (the timeout) comes after; counted here
      this.lift(b, false);
    }
    for (const p of orphans) {
      const w = this.writes.get(p.req);
      if (w) {
        w.on.delete(host);
        if (!w.decided && w.on.size === 0) this.homeless.push(w);
      } else if (isRead(p.req)) {
        this.read(p.req, p.timeoutMs, p.waitMs, p.resolve, p.reject);
      } else {
        p.reject(new StoreError(`The store worker stopped (${reason})`));
      }
    }
    if (this.live.length === 0) for (const f of this.noneLive.splice(0)) f();
    if (!this.closed) this.fill();
  }

  /**
   * Rebuilds a member from snapshot + log, replays what was logged meanwhile (a few rounds, while the live members
   * serve), then holds insert flushes and new writes until the writes already sequenced are in the log, posts the
   * replay of the rest and, right behind it in the member's FIFO, every write from then on; the hold ends there, before
   * the member has replayed. It joins as live member (the set is short of one) or as standby once that replay is done.
   */
  private async joinMember(): Promise<void> {
    this.joining++;
    const unpin = this.hooks.pin();
    const host = this.spawn();
    this.building.add(host);
    let release: (() => void) | undefined;
    let unlock: (() => void) | undefined;
    let joined = false;
    try {
      let { position, plan } = await this.hooks.logEnd();
      const report = await host.request({ op: 'recover', plan });
      this.lastRecoveryMs = report.durationMs;
      for (let round = 0; round < CATCH_UP_ROUNDS; round++) {
        const end = (await this.hooks.logEnd()).position;
        const small = end.seq === position.seq && end.offset - position.offset < CATCH_UP_SMALL_BYTES;
        await host.request({ op: 'recover', plan: this.hooks.catchUpPlan(position, end) });
        position = end;
        if (small) break;
      }
      // One member at a time holds the writes (members rebuilt together, e.g. at start, take turns here).
      const previous = this.lastStage;
      this.lastStage = new Promise<void>((r) => (unlock = r));
      await previous;
      if (this.closed) return void (await host.close());
      release = this.hooks.holdInserts();
      const held = performance.now();
      this.paused = [];
      // With a member live, the writes sequenced so far get their outcome from it; with none, they are homeless and
      // go to this member (they are not in the log: it stops before the first undecided write).
      if (this.live.length) await Promise.race([this.hooks.sequenced(), new Promise<void>((r) => this.noneLive.push(r))]);
      const end = (await this.hooks.logEnd()).position;
      const lastDone = host.request({ op: 'recover', plan: this.hooks.catchUpPlan(position, end) });
      for (const w of this.homeless.splice(0)) {
        if (this.hooks.inPlan(w.req)) {
          w.decided = true;
          this.writes.delete(w.req);
          w.resolve({ errors: 0 });
        } else this.postWrite(w, [host]);
      }
      this.accepting.push(host);
      const endHold = () => {
        this.resume();
        release?.();
        release = undefined;
        this.lastJoinHoldMs = performance.now() - held;
        unlock?.();
        unlock = undefined;
      };
      // With a member live, writes go on at once (this member gets them after its replay); with none, they wait for it.
      if (this.live.length) endHold();
      const last = await lastDone;
      this.accepting = this.accepting.filter((h) => h !== host);
      if (this.closed) return void (await host.close());
      this.hooks.onRecovered?.(last);
      if (this.live.length < this.size) this.live.push(host);
      else this.standbys.push(host);
      joined = true;
      // Requests that waited for a member came before the writes held here (arrival order is the log's order).
      for (const wt of this.waiting.splice(0)) wt.timer && clearTimeout(wt.timer), wt.run();
      if (unlock) endHold();
    } catch (e) {
      this.accepting = this.accepting.filter((h) => h !== host);
      // Its answers no longer decide anything: the other members were given every write it was.
      for (const w of this.writes.values()) w.on.delete(host);
      if (unlock) this.resume();
      await host.close();
      if (!this.closed && this.live.length === 0) this.fail(new StoreError('The store could not be rebuilt after a worker restart', { cause: e }));
    } finally {
      this.building.delete(host);
      release?.();
      unlock?.();
      unpin();
      this.joining--;
      // A failed join is retried after a pause (the set keeps serving with the members it has).
      if (!joined && !this.closed && !this.failed && !this.retryTimer) {
        this.retryTimer = setTimeout(() => ((this.retryTimer = undefined), this.fill()), 5000);
        this.retryTimer.unref();
      }
    }
  }

  /** Posts the writes held during a member's last catch-up to every live member, in arrival order. */
  private resume(): void {
    const paused = this.paused ?? [];
    this.paused = undefined;
    for (const w of paused) {
      if (this.live.length) this.dispatch(w);
      else this.wait(() => this.dispatch(w), w, w.waitMs);
    }
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    this.barrier = undefined;
    for (const w of this.homeless.splice(0)) w.reject(e);
    for (const wt of this.waiting.splice(0)) wt.timer && clearTimeout(wt.timer), wt.reject(e);
    for (const w of this.paused?.splice(0) ?? []) w.reject(e);
    for (const w of this.writes.values()) if (!w.decided) w.reject(e);
    this.writes.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.fail(new StoreError('The store is closed'));
    await Promise.all([...new Set([...this.live, ...this.standbys, ...this.building])].map((h) => h.close()));
    this.live = [];
    this.standbys = [];
  }
}
