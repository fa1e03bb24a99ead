// DownlinkService: the durable command store and per-Thing/interface queues behind WoT actions (a CommandSink).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OtherNetworkEvent } from '../bindings/tts/network-event.ts';
import { ConflictError, HubError, TooManyRequestsError } from '../errors.ts';
import type { CommandSink, SubmitOptions } from '../things/command-sink.ts';
import { evidenceOf } from './events.ts';
import { CommandLog, frame, LogType } from './log.ts';
import { encodeSigfox } from './payload.ts';
import { TERMINAL, type CommandRecord, type CommandStatus, type DownlinkAdapter, type DownlinkRoute, type HistoryEntry, type QueuePolicy } from './types.ts';

export interface DownlinkConfig {
  /** Commands waiting (QUEUED) per Thing and interface; beyond it submit answers 429 downlink-queue-full. */
  queueLimit: number;
  /** Default time to live of a command not yet sent (s); an action's `ttlSeconds` overrides it. */
  ttlSeconds: number;
  /** Sends tried in all (first one included) before a FAILED command stays FAILED. */
  maxAttempts: number;
  /** Wait before the first retry (ms); doubled for each further one. */
  retryDelayMs: number;
  /** Finished commands (DELIVERED, FAILED, EXPIRED, CANCELLED) kept for their status resources, oldest dropped first. */
  keepFinished: number;
  /**
   * A send the hub may or may not have made (it stopped between the intent record and SENT), on an adapter whose
   * network cannot deduplicate it: `fail` = FAILED "unknown after restart" (never a second downlink; later network
   * events still set its state); `replace` = sent again replacing the device's queue (TTS down/replace), when no other
   * command of the device is in flight there. Adapters that deduplicate (ChirpStack, by queue item id) always resend.
   */
  inDoubt: 'fail' | 'replace';
}

export const DEFAULT_DOWNLINK_CONFIG: DownlinkConfig = { queueLimit: 64, ttlSeconds: 3600, maxAttempts: 3, retryDelayMs: 30_000, keepFinished: 20_000, inDoubt: 'fail' };

/** An intent record (LogType.Intent): written durably before an adapter sends a try. */
interface Intent {
  id: string;
  attempt: number;
  at: string;
  binding: string;
  interface?: string;
  uplink?: { binding: string; topic?: string; at: number };
}

/**
 * Test hook (kill -9 between the publish and its SENT record), HUB_TEST_CRASH_AFTER_DOWNLINK_SEND: `1` = after a send
 * the SENT record is never written and the process SIGKILLs itself 200 ms later; `hold` = SENT is never written (the
 * test process kills it).
 */
const CRASH_AFTER_SEND = process.env.HUB_TEST_CRASH_AFTER_DOWNLINK_SEND;
function crashAfterSend(): Promise<never> {
  if (CRASH_AFTER_SEND === '1') setTimeout(() => process.kill(process.pid, 'SIGKILL'), 200);
  return new Promise<never>(() => {});
}

/** What the service needs of the uplink side (hub/routing): the Thing's interfaces and the one it was last heard on. */
export interface DownlinkRoutes {
  entriesOf(thingId: string): readonly DownlinkRoute[];
  lastActive(thingId: string): { interface: string } | undefined;
  lookup(keyType: string, deviceKey: string): DownlinkRoute | undefined;
}

/** Called on every state change (the actuation recorder writes sosa:Actuation triples). */
export type TransitionListener = (command: Readonly<CommandRecord>, entry: HistoryEntry, isNew: boolean) => void;

/** Allowed state changes; anything else an event claims is ignored (counted `ignoredEvidence`). */
const NEXT: Record<CommandStatus, ReadonlySet<CommandStatus>> = {
  // QUEUED -> DELIVERED/ACCEPTED: a late network event for a try that was retried after a FAILED.
  QUEUED: new Set(['SENT', 'ACCEPTED', 'DELIVERED', 'EXPIRED', 'CANCELLED', 'FAILED']),
  SENT: new Set(['ACCEPTED', 'DELIVERED', 'FAILED']),
  ACCEPTED: new Set(['DELIVERED', 'FAILED']),
  // FAILED -> ACCEPTED/DELIVERED: late evidence of a try that did reach the network (e.g. "unknown after restart").
  FAILED: new Set(['QUEUED', 'ACCEPTED', 'DELIVERED']),
  DELIVERED: new Set(),
  EXPIRED: new Set(),
  CANCELLED: new Set(),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SWEEP_MS = 1000;
/** The log is rewritten (finished commands beyond keepFinished dropped, one record per command) past this size. */
const COMPACT_BYTES = 16 * 1024 * 1024;

const uuidOf = (id: string): string => id.slice('urn:uuid:'.length);
const queueKey = (thingId: string, adapterId: string | undefined): string => `${thingId}\u0000${adapterId ?? ''}`;

export class DownlinkService implements CommandSink {
  private readonly log: CommandLog;
  private readonly records = new Map<string, CommandRecord>();
  /** uuids of QUEUED commands per Thing+interface, oldest first. */
  private readonly queues = new Map<string, string[]>();
  /** Every kept command's uuid per Thing, oldest first (the commands list). */
  private readonly byThing = new Map<string, string[]>();
  /** Finished commands in the order they finished (eviction beyond keepFinished). */
  private readonly finished = new Set<string>();
  /** The latest uplink per Thing+interface (binding, topic). */
  private readonly lastUplinks = new Map<string, { binding: string; topic?: string; at: number }>();
  private readonly busy = new Set<string>();
  private readonly beaconTimers = new Map<string, NodeJS.Timeout>();
  private readonly adapters: DownlinkAdapter[] = [];
  private readonly listeners: TransitionListener[] = [];
  /** Tries being sent now (their intent is on disk, SENT or FAILED is not yet): a compaction keeps their intents. */
  private readonly inFlight = new Map<string, Intent>();
  /** Tries found in doubt at open (intent without an outcome) still to resolve: resent as-is or with replace(). */
  private readonly inDoubt = new Map<string, Intent & { how: 'idempotent' | 'replace' }>();
  /** Commands moved to the interface their Thing was last heard on: uuid -> the interface they were queued for. */
  private readonly moved = new Map<string, string>();
  private sweeper?: NodeJS.Timeout;
  /** Continuous queues that were asked to send while they were sending: they drain again when done. */
  private readonly redrain = new Map<string, { route: DownlinkRoute; adapter: DownlinkAdapter }>();
  private opened = false;
  readonly config: DownlinkConfig;
  readonly counters = { submitted: 0, sent: 0, sendErrors: 0, expired: 0, cancelled: 0, retried: 0, evidence: 0, ignoredEvidence: 0, refusedFull: 0, compactions: 0, inDoubtFailed: 0, inDoubtResent: 0, movedToLastActive: 0 };
  /** Uplink -> SENT latencies (ms) of uplink-triggered sends, the latest 10,000 (benchmarks, stats). */
  readonly triggerLatencies: number[] = [];
  onError: (error: unknown, context: string) => void = () => {};

  constructor(
    dataDir: string,
    private readonly routes: DownlinkRoutes,
    config: Partial<DownlinkConfig> = {},
    private readonly now: () => number = Date.now,
  ) {
    const dir = join(dataDir, 'downlink');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.log = new CommandLog(dir);
    this.config = { ...DEFAULT_DOWNLINK_CONFIG, ...config };
  }

  /** Replays the log (queued commands come back QUEUED, with their tries and retry times) and starts the TTL sweep. */
  async open(): Promise<void> {
    const records = await this.log.open();
    let transitions = 0;
    /** Intents not followed by a state change of their command: the hub stopped while that try was being sent. */
    const pending = new Map<string, Intent>();
    for (const { type, value } of records) {
      if (type === LogType.Command) this.replayCommand(value);
      else if (type === LogType.Transition) {
        transitions += 1;
        this.replayTransition(value);
        const id = (value as { id?: unknown } | null)?.id;
        if (typeof id === 'string') pending.delete(id);
      } else if (type === LogType.Intent) {
        const i = value as Intent | null;
        if (i && typeof i.id === 'string' && typeof i.attempt === 'number' && typeof i.binding === 'string') pending.set(i.id, i);
      }
    }
    this.rebuildQueues();
    this.evictFinished();
    const failInDoubt: Array<[CommandRecord, Intent]> = [];
    for (const [u, intent] of pending) {
      const r = this.records.get(u);
      if (!r || r.status !== 'QUEUED') continue;
      r.attempts = Math.max(r.attempts, intent.attempt);
      if (intent.uplink && r.interface) this.lastUplinks.set(queueKey(r.thingId, r.interface), intent.uplink);
      const adapter = this.adapters.find((a) => a.binding === intent.binding);
      const how = adapter?.inDoubt === 'idempotent' ? 'idempotent' : adapter?.inDoubt === 'replace' && adapter.replace && this.config.inDoubt === 'replace' ? 'replace' : undefined;
      if (how === 'replace' && this.othersInFlight(r, intent.binding)) failInDoubt.push([r, intent]);
      else if (how) {
        this.inDoubt.set(u, { ...intent, how });
        if (how === 'replace') this.unqueue(r); // replaced at once (resolveInDoubt), not at the interface's next chance
      } else failInDoubt.push([r, intent]);
    }
    // The intents of tries still in doubt are kept by the rewrite: a stop before their outcome leaves them in doubt.
    if (transitions > 0 || records.length > this.records.size || pending.size > 0) await this.log.replace(this.snapshot(failInDoubt.map(([, i]) => i)));
    this.opened = true;
    for (const [r, intent] of failInDoubt) {
      this.counters.inDoubtFailed += 1;
      this.unqueue(r);
      const others = this.othersInFlight(r, intent.binding);
      await this.transition(
        r,
        'FAILED',
        `unknown after restart: the hub stopped while sending try ${intent.attempt} on ${intent.binding} (intent at ${intent.at}), before its publish was confirmed; ` +
          `the network may hold it, so it is not sent again (downlink.inDoubt ${this.config.inDoubt}${this.config.inDoubt === 'replace' && others ? ', other commands of the device in flight' : ''}); a later network event still sets its state`,
      );
    }
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
    // Continuous interfaces and retries that came due while the hub was down go now.
    queueMicrotask(() => this.sweep());
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    clearInterval(this.sweeper);
    for (const t of this.beaconTimers.values()) clearTimeout(t);
    this.beaconTimers.clear();
    await this.log.close();
  }

  registerAdapter(adapter: DownlinkAdapter): void {
    this.adapters.push(adapter);
  }

  onTransition(listener: TransitionListener): void {
    this.listeners.push(listener);
  }

  // ---- CommandSink (the WoT side) ----

  async submit(thingId: string, action: string, input: unknown, options: SubmitOptions = {}): Promise<{ id: string; status: 'QUEUED' }> {
    if (!this.opened) throw new HubError(503, 'downlink-closed', 'The downlink queue is not open');
    const at = this.now();
    const route = this.chooseRoute(thingId);
    const key = queueKey(thingId, route?.adapterId);
    const policy: QueuePolicy = options.policy ?? 'fifo';
    const queue = this.queues.get(key) ?? [];
    const superseded = policy === 'latest-only' || policy === 'stream' ? queue.filter((u) => this.records.get(u)?.action === action) : [];
    if (queue.length - superseded.length >= this.config.queueLimit) {
      this.counters.refusedFull += 1;
      throw new TooManyRequestsError(`The downlink queue of '${thingId}' holds ${queue.length} commands (the limit)`, 60, {}, 'downlink-queue-full');
    }
    if (route?.deviceDefinitions && this.adapterFor(route)?.binding === 'sigfox') encodeSigfox(input); // 400 now, not FAILED later
    if (route) this.adapterFor(route)?.validate?.(action, input ?? null, route);
    const uuid = randomUUID();
    const ttl = options.ttlSeconds ?? this.config.ttlSeconds;
    const iso = new Date(at).toISOString();
    const record: CommandRecord = {
      id: `urn:uuid:${uuid}`,
      thingId,
      action,
      input: input ?? null,
      status: 'QUEUED',
      history: [{ status: 'QUEUED', at: iso, evidence: `accepted by the hub${route ? ` for interface ${route.adapterId}` : ' (no downlink interface known yet)'}` }],
      submittedAt: iso,
      expiresAt: new Date(at + ttl * 1000).toISOString(),
      attempts: 0,
      ...(options.requester ? { requester: options.requester } : {}),
      ...(route ? { interface: route.adapterId } : {}),
      ...(policy === 'stream' ? { durable: false as const } : {}),
    };
    // Durable before the client hears 201: the record is fsync'd with its group (a stream command is memory only).
    if (record.durable !== false) await this.log.append(frame(LogType.Command, record));
    this.counters.submitted += 1;
    this.records.set(uuid, record);
    this.listOf(thingId).push(uuid);
    const q = this.queues.get(key) ?? [];
    this.queues.set(key, q);
    q.push(uuid);
    this.emit(record, record.history[0]!, true);
    for (const old of superseded) {
      const r = this.records.get(old);
      if (r?.status === 'QUEUED') this.transition(r, 'CANCELLED', `superseded by ${record.id} (latest-only policy of action '${action}')`);
    }
    if (route) this.schedule(route);
    return { id: record.id, status: 'QUEUED' };
  }

  /** The command's status resource, or 404. */
  get(thingId: string, uuid: string): CommandRecord {
    const r = UUID.test(uuid) ? this.records.get(uuid) : undefined;
    if (!r || r.thingId !== thingId) throw new HubError(404, 'unknown-command', `Thing '${thingId}' has no command '${uuid.slice(0, 64)}'`);
    return r;
  }

  /** A Thing's kept commands, oldest first. */
  list(thingId: string): CommandRecord[] {
    return (this.byThing.get(thingId) ?? []).map((u) => this.records.get(u)!).filter(Boolean);
  }

  /** Commands (all or one Thing's), oldest first: the MemoryCommandSink view tests and the UI used. */
  commands(thingId?: string): CommandRecord[] {
    if (thingId !== undefined) return this.list(thingId);
    return [...this.records.values()];
  }

  /** cancelaction: a QUEUED command becomes CANCELLED; once the network has it, it cannot be taken back (409). */
  async cancel(thingId: string, uuid: string, requester?: string): Promise<CommandRecord> {
    const r = this.get(thingId, uuid);
    if (this.inFlight.has(uuid) || this.inDoubt.has(uuid)) {
      throw new ConflictError(`Command ${r.id} is being sent: it can no longer be cancelled`, { extensions: { commandStatus: r.status } }, 'command-not-cancellable');
    }
    if (r.status !== 'QUEUED') {
      throw new ConflictError(`Command ${r.id} is ${r.status}: only a QUEUED command can be cancelled`, { extensions: { commandStatus: r.status } }, 'command-not-cancellable');
    }
    await this.transition(r, 'CANCELLED', `cancelled by ${requester ?? 'a client'} (cancelaction)`);
    return r;
  }

  // ---- the network side ----

  /**
   * An uplink on a Thing's interface (from the uplink pipeline): remembers where it came from, binds commands that
   * had no interface yet, and sends what an uplink_triggered interface was holding.
   */
  onUplink(route: DownlinkRoute, origin: { binding: string; topic?: string; receivedAt: number }): void {
    const key = queueKey(route.thingId, route.adapterId);
    this.lastUplinks.set(key, { binding: origin.binding, ...(origin.topic ? { topic: origin.topic } : {}), at: origin.receivedAt });
    const unbound = this.queues.get(queueKey(route.thingId, undefined));
    if (unbound?.length) {
      this.queues.delete(queueKey(route.thingId, undefined));
      const q = this.queues.get(key) ?? [];
      this.queues.set(key, q);
      for (const u of unbound) {
        const r = this.records.get(u);
        if (!r) continue;
        r.interface = route.adapterId;
        q.push(u);
      }
    }
    const full = this.withUplink(route);
    const adapter = this.adapterFor(full);
    if (adapter) this.follow(full, adapter);
    if (!this.queues.get(key)?.length) return;
    if (adapter?.mode === 'push' && route.interfaceType === 'uplink_triggered') void this.drain(full, adapter, origin.receivedAt);
  }

  /**
   * For `answer` adapters (a Sigfox BIDIR callback): the oldest ready command of the Thing's interface on `binding`,
   * encoded, marked SENT. Undefined when nothing is queued (the binding answers 204).
   */
  async answer(binding: string, keyType: string, deviceKey: string, evidence: string): Promise<{ id: string; hex: string } | undefined> {
    const route = this.routes.lookup(keyType, deviceKey);
    if (!route) return undefined;
    const key = queueKey(route.thingId, route.adapterId);
    this.onUplink(route, { binding, receivedAt: this.now() });
    const q = this.queues.get(key);
    while (q?.length) {
      const q0 = q[0]!;
      const r = this.records.get(q0);
      if (!r || r.status !== 'QUEUED') {
        q.shift();
        continue;
      }
      if (this.expireIfDue(r)) continue;
      if ((r.retryAt ?? 0) > this.now()) return undefined;
      let hex: string;
      try {
        hex = encodeSigfox(r.input);
      } catch (e) {
        q.shift();
        await this.transition(r, 'FAILED', `cannot encode for ${binding}: ${(e as Error).message}`);
        continue;
      }
      q.shift();
      r.attempts += 1;
      r.binding = binding;
      this.counters.sent += 1;
      const from = this.moved.get(q0);
      this.moved.delete(q0);
      await this.transition(r, 'SENT', from !== undefined ? `${evidence}; on ${route.adapterId}, the interface the device was last heard on (queued for ${from})` : evidence);
      return { id: r.id, hex };
    }
    return undefined;
  }

  /** A decoded network-server event (MQTT ingest, webhooks, Sigfox acknowledge): applies the evidence it holds. */
  networkEvent(binding: string, event: OtherNetworkEvent): void {
    let found;
    try {
      found = evidenceOf(binding, event);
    } catch (e) {
      this.onError(e, 'downlink event mapping failed');
      return;
    }
    if (!found) return;
    let r: CommandRecord | undefined;
    if (found.uuid) r = this.records.get(found.uuid);
    else if (found.device) r = this.latestInFlight(found.device.keyType, found.device.deviceKey, binding);
    if (!r) {
      this.counters.ignoredEvidence += 1;
      return;
    }
    void this.evidence(r, found.status, found.evidence, found.retryable === true);
  }

  /** Applies one piece of evidence to a command (adapters of OSC, Cookie, OBD call this with their echo / ack / err). */
  async evidence(r: CommandRecord, status: CommandStatus, evidence: string, retryable = false, output?: unknown): Promise<void> {
    if (r.status === status || !NEXT[r.status].has(status) || (r.status === 'QUEUED' && r.attempts === 0)) {
      this.counters.ignoredEvidence += 1;
      return;
    }
    this.counters.evidence += 1;
    if (r.status === 'QUEUED' && (status === 'ACCEPTED' || status === 'DELIVERED')) this.unqueue(r);
    await this.transition(r, status, evidence, output);
    if (status === 'FAILED' && retryable) await this.retryOrStop(r);
  }

  /** Uplink -> downlink p50/p99 and queue figures. */
  stats(): Record<string, number> {
    let queued = 0;
    for (const q of this.queues.values()) queued += q.length;
    return { ...this.counters, commands: this.records.size, queued, logBytes: this.log.size };
  }

  // ---- internals ----

  private chooseRoute(thingId: string): DownlinkRoute | undefined {
    const entries = this.routes.entriesOf(thingId);
    if (!entries.length) return undefined;
    const last = this.routes.lastActive(thingId)?.interface;
    const routable = entries.filter((e) => this.adapterFor(this.withUplink(e)) !== undefined);
    const pick = routable.find((e) => e.adapterId === last) ?? entries.find((e) => e.adapterId === last) ?? routable[0] ?? entries[0]!;
    return this.withUplink(pick);
  }

  private routeOf(r: CommandRecord): DownlinkRoute | undefined {
    const e = this.routes.entriesOf(r.thingId).find((x) => x.adapterId === r.interface);
    return e ? this.withUplink(e) : undefined;
  }

  private withUplink(route: DownlinkRoute): DownlinkRoute {
    const last = this.lastUplinks.get(queueKey(route.thingId, route.adapterId));
    return last ? { ...route, lastUplink: last } : route;
  }

  private adapterFor(route: DownlinkRoute): DownlinkAdapter | undefined {
    return this.adapters.find((a) => a.serves(route));
  }

  /** Sends what the route's schedule allows now: continuous now, beacon at the next slot, uplink_triggered waits. */
  private schedule(route: DownlinkRoute): void {
    const adapter = this.adapterFor(route);
    if (!adapter || adapter.mode !== 'push') return;
    if (route.interfaceType === 'continuous') void this.drain(route, adapter);
    else if (route.interfaceType === 'beacon') this.scheduleBeacon(route, adapter);
  }

  private scheduleBeacon(route: DownlinkRoute, adapter: DownlinkAdapter): void {
    const key = queueKey(route.thingId, route.adapterId);
    if (this.beaconTimers.has(key)) return;
    const dd = route.deviceDefinitions;
    const periodMs = Math.max(1, Number(dd.beaconPeriod ?? dd.beaconPeriodSeconds ?? 128)) * 1000;
    const offsetMs = Math.max(0, Number(dd.beaconOffset ?? dd.beaconOffsetSeconds ?? 0)) * 1000;
    const now = this.now();
    const next = Math.ceil((now - offsetMs) / periodMs) * periodMs + offsetMs;
    const t = setTimeout(() => {
      this.beaconTimers.delete(key);
      void this.drain(route, adapter).then(() => {
        if (this.queues.get(key)?.length && this.opened) this.scheduleBeacon(route, adapter);
      });
    }, Math.max(0, next - now));
    t.unref();
    this.beaconTimers.set(key, t);
  }

  /** Sends the ready commands of one queue in order, one at a time. */
  private async drain(route: DownlinkRoute, adapter: DownlinkAdapter, uplinkAt?: number): Promise<void> {
    const key = queueKey(route.thingId, route.adapterId);
    if (this.busy.has(key)) {
      // A continuous interface sends as soon as it can: a command queued while this queue sends goes when it is done,
      // not at the next 1 s sweep (the robot loop of issue 14 queues a servoj every 2.5-10 ms).
      if (route.interfaceType === 'continuous' && uplinkAt === undefined) this.redrain.set(key, { route, adapter });
      return;
    }
    if (!adapter.send || (adapter.ready && !adapter.ready(route))) return;
    this.busy.add(key);
    try {
      const q = this.queues.get(key);
      // What was queued when the trigger came (an uplink, a slot): a command queued meanwhile waits for the next one.
      for (const u of q ? [...q] : []) {
        if (!this.opened) break;
        const i = q!.indexOf(u);
        if (i < 0) continue;
        const r = this.records.get(u);
        if (!r || r.status !== 'QUEUED') {
          q!.splice(i, 1);
          continue;
        }
        if (this.expireIfDue(r)) continue;
        if ((r.retryAt ?? 0) > this.now()) continue;
        // Not ready (a session lost meanwhile): the rest waits QUEUED for the sweep.
        if (adapter.ready && !adapter.ready(route)) break;
        q!.splice(i, 1);
        r.attempts += 1;
        r.binding = adapter.binding;
        const doubt = this.inDoubt.get(u);
        let receipt;
        try {
          // Resend safety: the intent is on disk before the network can have the command (see open()).
          await this.intend(r, adapter, route);
          receipt = await adapter.send(r, route);
          if (CRASH_AFTER_SEND === '1' || CRASH_AFTER_SEND === 'hold') await crashAfterSend();
        } catch (e) {
          this.inFlight.delete(u);
          this.counters.sendErrors += 1;
          await this.transition(r, 'FAILED', `${adapter.binding} send failed: ${e instanceof HubError ? e.message : (e as Error)?.message ?? String(e)}`);
          await this.retryOrStop(r);
          continue;
        }
        this.counters.sent += 1;
        if (uplinkAt !== undefined) {
          this.triggerLatencies.push(this.now() - uplinkAt);
          if (this.triggerLatencies.length > 10_000) this.triggerLatencies.shift();
        }
        let evidence = receipt.evidence;
        const from = this.moved.get(u);
        if (from !== undefined) evidence += `; on ${route.adapterId}, the interface the device was last heard on (queued for ${from})`;
        if (doubt) {
          this.counters.inDoubtResent += 1;
          evidence += `; sent again after a restart left try ${doubt.attempt} unconfirmed (${adapter.binding} deduplicates it)`;
        }
        this.moved.delete(u);
        this.inDoubt.delete(u);
        this.inFlight.delete(u);
        await this.transition(r, 'SENT', evidence);
      }
    } finally {
      this.busy.delete(key);
      const again = this.redrain.get(key);
      if (again) {
        this.redrain.delete(key);
        if (this.opened) void this.drain(again.route, again.adapter);
      }
    }
  }

  /** After a FAILED: QUEUED again with a retry time while tries and TTL allow, else it stays FAILED. */
  private async retryOrStop(r: CommandRecord): Promise<void> {
    if (r.status !== 'FAILED' || r.attempts >= this.config.maxAttempts) return;
    const at = this.now() + this.config.retryDelayMs * 2 ** (r.attempts - 1);
    if (at >= Date.parse(r.expiresAt)) return;
    r.retryAt = at;
    this.counters.retried += 1;
    await this.transition(r, 'QUEUED', `retry policy: try ${r.attempts + 1} of ${this.config.maxAttempts} from ${new Date(at).toISOString()}`);
    const key = queueKey(r.thingId, r.interface);
    const q = this.queues.get(key) ?? [];
    this.queues.set(key, q);
    q.unshift(uuidOf(r.id));
  }

  private expireIfDue(r: CommandRecord): boolean {
    if (r.status !== 'QUEUED' || this.now() < Date.parse(r.expiresAt)) return false;
    this.unqueue(r);
    const doubt = this.inDoubt.get(uuidOf(r.id));
    if (doubt) {
      // Not "never sent": try doubt.attempt may have reached the network before the restart.
      this.inDoubt.delete(uuidOf(r.id));
      this.counters.inDoubtFailed += 1;
      void this.transition(r, 'FAILED', `unknown after restart: try ${doubt.attempt} on ${doubt.binding} may have been sent before the restart; its time to live elapsed at ${r.expiresAt} before it could be sent again`);
      return true;
    }
    this.counters.expired += 1;
    void this.transition(r, 'EXPIRED', `time to live elapsed at ${r.expiresAt} before it was sent`);
    return true;
  }

  /** Every second: expires what is due, sends due retries and what continuous interfaces hold. */
  private sweep(): void {
    if (!this.opened) return;
    this.resolveReplacements();
    const now = this.now();
    for (const [key, q] of this.queues) {
      if (!q.length) continue;
      let due = false;
      for (const u of [...q]) {
        const r = this.records.get(u);
        if (!r) continue;
        if (this.expireIfDue(r)) continue;
        if ((r.retryAt ?? 0) <= now) due = true;
      }
      const first = this.records.get(q[0] ?? '');
      if (!due || !first) continue;
      const route = this.routeOf(first);
      if (!route) continue;
      const adapter = this.adapterFor(route);
      // Retries of uplink_triggered commands still wait for an uplink; continuous ones (and restarts) go now.
      if (adapter?.mode === 'push' && route.interfaceType === 'continuous') void this.drain(route, adapter);
      else if (adapter?.mode === 'push' && route.interfaceType === 'beacon') this.scheduleBeacon(route, adapter);
      void key;
    }
    if (this.log.size > COMPACT_BYTES) {
      this.counters.compactions += 1;
      this.evictFinished();
      this.log.compact(() => this.snapshot()).catch((e) => this.onError(e, 'downlink log compaction failed'));
    }
  }

  /** Writes (fsync'd) the intent to send try r.attempts on `adapter`; the try is in flight until SENT or FAILED. */
  private async intend(r: CommandRecord, adapter: DownlinkAdapter, route: DownlinkRoute): Promise<void> {
    const intent: Intent = {
      id: uuidOf(r.id),
      attempt: r.attempts,
      at: new Date(this.now()).toISOString(),
      binding: adapter.binding,
      ...(route.adapterId ? { interface: route.adapterId } : {}),
      ...(route.lastUplink ? { uplink: route.lastUplink } : {}),
    };
    this.inFlight.set(intent.id, intent);
    if (r.durable !== false) await this.log.append(frame(LogType.Intent, intent));
  }

  /** In-doubt tries on `replace` adapters (downlink.inDoubt replace): sent again at once, replacing the device's queue. */
  private resolveReplacements(): void {
    for (const [u, doubt] of this.inDoubt) {
      if (doubt.how !== 'replace' || this.inFlight.has(u)) continue;
      const r = this.records.get(u);
      if (!r || r.status !== 'QUEUED') {
        this.inDoubt.delete(u);
        continue;
      }
      if (this.expireIfDue(r)) continue;
      const route = this.routeOf(r);
      const adapter = this.adapters.find((a) => a.binding === doubt.binding);
      if (!route || !adapter?.replace || !adapter.serves(route)) continue; // the route is not known yet: next sweep
      void this.replaceNow(r, route, adapter, doubt);
    }
  }

  private async replaceNow(r: CommandRecord, route: DownlinkRoute, adapter: DownlinkAdapter, doubt: Intent): Promise<void> {
    const u = uuidOf(r.id);
    r.attempts += 1;
    r.binding = adapter.binding;
    let receipt;
    try {
      await this.intend(r, adapter, route);
      receipt = await adapter.replace!(r, route);
    } catch (e) {
      this.inFlight.delete(u);
      this.counters.sendErrors += 1;
      // Still in doubt about the first try: no retry (a retry could be a second downlink).
      this.inDoubt.delete(u);
      await this.transition(r, 'FAILED', `unknown after restart: try ${doubt.attempt} may have been sent; its replacement failed: ${(e as Error)?.message ?? String(e)}`);
      return;
    }
    this.inDoubt.delete(u);
    this.inFlight.delete(u);
    this.counters.sent += 1;
    this.counters.inDoubtResent += 1;
    await this.transition(r, 'SENT', `${receipt.evidence}; replacing the device's queue after a restart left try ${doubt.attempt} unconfirmed (downlink.inDoubt replace)`);
  }

  /** Whether another command of r's Thing is with the network on `binding` (SENT, ACCEPTED or being sent). */
  private othersInFlight(r: CommandRecord, binding: string): boolean {
    for (const u of this.byThing.get(r.thingId) ?? []) {
      const o = this.records.get(u);
      if (!o || o === r || o.binding !== binding) continue;
      if (o.status === 'SENT' || o.status === 'ACCEPTED' || this.inFlight.has(u)) return true;
    }
    return false;
  }

  /**
   * A command follows the interface its Thing was last heard on at send time, not the one chosen at submit: on an
   * uplink on `route`, QUEUED commands of the Thing's other interfaces move to this one (in submit order) when its
   * adapter can carry them (a Sigfox downlink is 8 bytes; an adapter's validate()). Tries being sent stay where they are.
   */
  private follow(route: DownlinkRoute, adapter: DownlinkAdapter): void {
    const key = queueKey(route.thingId, route.adapterId);
    let target: string[] | undefined;
    for (const other of this.routes.entriesOf(route.thingId)) {
      if (other.adapterId === route.adapterId) continue;
      const q = this.queues.get(queueKey(route.thingId, other.adapterId));
      if (!q?.length) continue;
      for (const u of [...q]) {
        const r = this.records.get(u);
        if (!r || r.status !== 'QUEUED' || this.inDoubt.has(u) || !this.carries(adapter, r, route)) continue;
        q.splice(q.indexOf(u), 1);
        if (!this.moved.has(u)) this.moved.set(u, r.interface ?? other.adapterId);
        r.interface = route.adapterId;
        target ??= this.queues.get(key) ?? [];
        target.push(u);
        this.counters.movedToLastActive += 1;
      }
    }
    if (!target) return;
    target.sort((a, b) => (this.records.get(a)?.submittedAt ?? '').localeCompare(this.records.get(b)?.submittedAt ?? ''));
    this.queues.set(key, target);
  }

  private carries(adapter: DownlinkAdapter, r: CommandRecord, route: DownlinkRoute): boolean {
    try {
      if (adapter.binding === 'sigfox') encodeSigfox(r.input);
      adapter.validate?.(r.action, r.input, route);
      return true;
    } catch {
      return false;
    }
  }

  private unqueue(r: CommandRecord): void {
    const q = this.queues.get(queueKey(r.thingId, r.interface));
    const i = q?.indexOf(uuidOf(r.id)) ?? -1;
    if (i >= 0) q!.splice(i, 1);
  }

  /** The command of a device on `binding` that the network is handling now (SENT or ACCEPTED), newest first. */
  private latestInFlight(keyType: string, deviceKey: string, binding: string): CommandRecord | undefined {
    const route = this.routes.lookup(keyType, deviceKey);
    if (!route) return undefined;
    const list = this.byThing.get(route.thingId) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const r = this.records.get(list[i]!);
      if (r && r.binding === binding && (r.status === 'SENT' || r.status === 'ACCEPTED')) return r;
    }
    return undefined;
  }

  private async transition(r: CommandRecord, status: CommandStatus, evidence: string, output?: unknown): Promise<void> {
    const entry: HistoryEntry = { status, at: new Date(this.now()).toISOString(), evidence };
    const seq = r.history.length;
    r.status = status;
    r.history.push(entry);
    if (output !== undefined) r.output = output;
    if (status !== 'QUEUED') delete r.retryAt;
    if (TERMINAL.has(status)) this.finish(r);
    else this.finished.delete(uuidOf(r.id)); // open again (a retry, late evidence): not evicted as finished
    if (status === 'CANCELLED') this.counters.cancelled += 1;
    this.emit(r, entry, false);
    const t = { id: uuidOf(r.id), seq, ...entry, attempts: r.attempts, ...(r.retryAt ? { retryAt: r.retryAt } : {}), ...(r.interface ? { interface: r.interface } : {}), ...(r.binding ? { binding: r.binding } : {}), ...(output !== undefined ? { output } : {}) };
    if (r.durable === false) return;
    try {
      await this.log.append(frame(LogType.Transition, t));
    } catch (e) {
      this.onError(e, `downlink: state ${status} of ${r.id} not written`);
    }
  }

  private finish(r: CommandRecord): void {
    this.unqueue(r);
    const u = uuidOf(r.id);
    this.moved.delete(u);
    this.inDoubt.delete(u);
    this.finished.delete(u);
    this.finished.add(u);
    if (this.finished.size > this.config.keepFinished) this.evictFinished();
  }

  private evictFinished(): void {
    while (this.finished.size > this.config.keepFinished) {
      const u = this.finished.values().next().value!;
      this.finished.delete(u);
      const r = this.records.get(u);
      this.records.delete(u);
      if (r) {
        const list = this.byThing.get(r.thingId);
        const i = list?.indexOf(u) ?? -1;
        if (i >= 0) list!.splice(i, 1);
        if (list && !list.length) this.byThing.delete(r.thingId);
      }
    }
  }

  private emit(r: CommandRecord, entry: HistoryEntry, isNew: boolean): void {
    for (const l of this.listeners) {
      try {
        l(r, entry, isNew);
      } catch (e) {
        this.onError(e, 'downlink transition listener failed');
      }
    }
  }

  private listOf(thingId: string): string[] {
    let list = this.byThing.get(thingId);
    if (!list) this.byThing.set(thingId, (list = []));
    return list;
  }

  private snapshot(extraIntents: readonly Intent[] = []): Buffer[] {
    const out: Buffer[] = [];
    for (const r of this.records.values()) if (r.durable !== false) out.push(frame(LogType.Command, r));
    // After the commands: a try being sent (or still in doubt) stays in doubt if the hub stops before its outcome.
    for (const i of this.inFlight.values()) if (this.logged(i.id)) out.push(frame(LogType.Intent, i));
    const doubts: Intent[] = [...extraIntents, ...[...this.inDoubt].filter(([u]) => !this.inFlight.has(u)).map(([, i]) => i)];
    for (const i of doubts) if (this.logged(i.id)) out.push(frame(LogType.Intent, { id: i.id, attempt: i.attempt, at: i.at, binding: i.binding, ...(i.interface ? { interface: i.interface } : {}), ...(i.uplink ? { uplink: i.uplink } : {}) }));
    return out;
  }

  /** Whether a command is kept and written to the log (a `stream` command is neither replayed nor compacted). */
  private logged(u: string): boolean {
    const r = this.records.get(u);
    return r !== undefined && r.durable !== false;
  }

  private replayCommand(value: unknown): void {
    const r = value as CommandRecord;
    if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || typeof r.thingId !== 'string' || !Array.isArray(r.history)) return;
    const u = uuidOf(r.id);
    const had = this.records.has(u);
    this.records.set(u, r);
    if (!had) this.listOf(r.thingId).push(u);
  }

  private replayTransition(value: unknown): void {
    const t = value as { id?: string; seq?: number; status?: CommandStatus; at?: string; evidence?: string; attempts?: number; retryAt?: number; interface?: string; binding?: string; output?: unknown };
    const r = typeof t?.id === 'string' ? this.records.get(t.id) : undefined;
    // Idempotent: a change already in the command record (written again by a compaction) is skipped.
    if (!r || t.seq !== r.history.length || typeof t.status !== 'string' || !(t.status in NEXT)) return;
    r.history.push({ status: t.status, at: String(t.at), evidence: String(t.evidence ?? '') });
    r.status = t.status;
    r.attempts = typeof t.attempts === 'number' ? t.attempts : r.attempts;
    if (typeof t.retryAt === 'number') r.retryAt = t.retryAt;
    else delete r.retryAt;
    if (t.interface) r.interface = t.interface;
    if (t.binding) r.binding = t.binding;
    if (t.output !== undefined) r.output = t.output;
  }

  /** Queue membership and the finished order, rebuilt once after replay (log order = submit order). */
  private rebuildQueues(): void {
    for (const [u, r] of this.records) {
      if (r.status === 'QUEUED') {
        const key = queueKey(r.thingId, r.interface);
        const q = this.queues.get(key) ?? [];
        this.queues.set(key, q);
        q.push(u);
      } else if (TERMINAL.has(r.status)) this.finished.add(u);
    }
  }
}
