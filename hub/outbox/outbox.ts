// The edge-to-cloud outbox: observation writes enter a durable queue with the local write; a forwarder POSTs them, in
// order, to the upstream hub's Graph Store Protocol endpoint, with backoff and jitter while the link is down.
import { ServiceUnavailableError } from '../errors.ts';
import type { GraphName, QuadStore } from '../store/quad-store.ts';
import { DEFAULT_GRAPH } from '../store/quad-store.ts';
import { OutboxLog, type OutboxEntry } from './log.ts';
import { BatchBuilder, type PruneOptions } from './prune.ts';

export type WhenFull = 'drop-oldest' | 'refuse-newest';

export interface OutboxOptions {
  dataDir: string;
  /** The upstream Graph Store endpoint (`<upstream hub>/graph-store`). */
  endpoint: string;
  token?: string;
  /** This hub's base URL (skolemised blank nodes). */
  baseUrl: string;
  maxEntries: number;
  maxBytes: number;
  whenFull: WhenFull;
  /** Entries and bytes per request batch. */
  batchEntries: number;
  batchBytes: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  requestTimeoutMs: number;
  properties?: string[];
  aggregate: 'none' | 'minute';
  log?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
  now?: () => number;
  random?: () => number;
}

export interface OutboxStatus {
  upstream: string;
  /** up: the last request succeeded; down: it failed (retrying); idle: nothing sent since start. */
  link: 'up' | 'down' | 'idle';
  queuedEntries: number;
  queuedBytes: number;
  /** Age of the oldest queued entry (ms), 0 when empty. */
  oldestAgeMs: number;
  lastSuccessAt?: string;
  lastErrorAt?: string;
  lastError?: string;
  /** Consecutive failed attempts; the current backoff. */
  failures: number;
  backoffMs: number;
  whenFull: WhenFull;
  maxEntries: number;
  maxBytes: number;
  counters: {
    /** Entries taken in since start. */
    enqueued: number;
    /** Entries acknowledged upstream (persisted across restarts). */
    forwarded: number;
    /** Entries dropped by drop-oldest (persisted). */
    dropped: number;
    /** Messages refused by refuse-newest since start (not stored locally either: the client may retry). */
    refused: number;
    /** Entries the upstream refused as malformed (4xx), skipped one by one (persisted). */
    rejectedUpstream: number;
    requests: number;
    failedRequests: number;
    bytesSent: number;
    triplesSent: number;
    prunedObservations: number;
    aggregates: number;
    /** Entries whose N-Quads did not parse when read back (left out). */
    unreadable: number;
  };
}

/** The outbox is full and its policy is refuse-newest: the message is refused before the local write. */
export class OutboxFullError extends ServiceUnavailableError {
  override name = 'OutboxFullError';
  constructor(queued: number, bytes: number) {
    super('The upstream outbox is full (refuse-newest): retry later', { extensions: { queuedEntries: queued, queuedBytes: bytes }, headers: { 'retry-after': '5' } }, 'outbox-full');
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Statuses that say the batch itself is refused (resending it as is cannot succeed). */
const REFUSED = new Set([400, 413, 415, 422]);

export class Outbox {
  readonly log: OutboxLog;
  private readonly now: () => number;
  private readonly random: () => number;
  private reservedEntries = 0;
  private reservedBytes = 0;
  private running?: Promise<void>;
  private stopper = new AbortController();
  private wake?: () => void;
  private batchLimit: number;
  private readonly stats: OutboxStatus['counters'] = {
    enqueued: 0, forwarded: 0, dropped: 0, refused: 0, rejectedUpstream: 0, requests: 0, failedRequests: 0, bytesSent: 0, triplesSent: 0, prunedObservations: 0, aggregates: 0, unreadable: 0,
  };
  private link: OutboxStatus['link'] = 'idle';
  private lastSuccessAt?: number;
  private lastErrorAt?: number;
  private lastError?: string;
  private failures = 0;
  private backoffMs = 0;
  private lastWarn = 0;
  private suppressed = 0;

  constructor(private readonly options: OutboxOptions) {
    this.log = new OutboxLog(options.dataDir);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.batchLimit = options.batchEntries;
    this.log.onAppended = () => this.wake?.();
    this.log.onRecovered = (info) => options.log?.warn(info, 'outbox: torn tail cut at open');
  }

  async open(): Promise<void> {
    await this.log.open();
  }

  /**
   * A QuadStore whose insert() also enqueues the quads: after the local durable insert resolved and before the caller
   * hears of it (so a message acknowledged to its device is in both). With refuse-newest a full outbox refuses the
   * insert before the local write (OutboxFullError, 503); with drop-oldest the oldest entries make room.
   */
  tee(store: QuadStore): QuadStore {
    const outbox = this;
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'insert') {
          return async (nquads: string, graph?: GraphName) => {
            const bytes = Buffer.byteLength(nquads);
            outbox.reserve(bytes);
            try {
              await target.insert(nquads, graph);
              await outbox.log.append(graph === undefined || graph === DEFAULT_GRAPH ? null : graph, nquads, outbox.now());
              outbox.stats.enqueued += 1;
            } finally {
              outbox.reservedEntries -= 1;
              outbox.reservedBytes -= bytes;
            }
            await outbox.enforceBound();
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  private reserve(bytes: number): void {
    const o = this.options;
    if (o.whenFull === 'refuse-newest') {
      const entries = this.log.length + this.reservedEntries;
      if (entries + 1 > o.maxEntries || this.log.bytes + this.reservedBytes + bytes > o.maxBytes) {
        this.stats.refused += 1;
        this.warn({ code: 'outbox-full', queuedEntries: this.log.length, queuedBytes: this.log.bytes }, 'outbox: full, message refused (refuse-newest)');
        throw new OutboxFullError(this.log.length, this.log.bytes);
      }
    }
    this.reservedEntries += 1;
    this.reservedBytes += bytes;
  }

  private async enforceBound(): Promise<void> {
    const o = this.options;
    if (o.whenFull !== 'drop-oldest') return;
    let over = Math.max(0, this.log.length - o.maxEntries);
    if (!over && this.log.bytes > o.maxBytes) {
      // Drop whole entries, oldest first, until the bytes fit (at least one; never the newest alone).
      const slots = this.log.window(0, this.log.length, Infinity);
      let bytes = this.log.bytes;
      for (const s of slots) {
        if (bytes <= o.maxBytes || over >= slots.length - 1) break;
        bytes -= s.bytes;
        over += 1;
      }
    }
    if (!over) return;
    const dropped = await this.log.dropOldest(over);
    this.stats.dropped += dropped;
    if (dropped) this.warn({ code: 'outbox-dropped', dropped, totalDropped: this.log.cursor.dropped }, 'outbox: full, oldest entries dropped (drop-oldest)');
  }

  /** Logs at most once per 10 s, with how many were suppressed. */
  private warn(obj: Record<string, unknown>, msg: string): void {
    const t = this.now();
    if (t - this.lastWarn < 10_000) {
      this.suppressed += 1;
      return;
    }
    this.options.log?.warn({ ...obj, suppressed: this.suppressed }, msg);
    this.lastWarn = t;
    this.suppressed = 0;
  }

  status(): OutboxStatus {
    const oldest = this.log.oldestAt;
    const iso = (ms?: number) => (ms === undefined ? undefined : new Date(ms).toISOString());
    const c = this.log.cursor;
    return {
      upstream: this.options.endpoint,
      link: this.link,
      queuedEntries: this.log.length,
      queuedBytes: this.log.bytes,
      oldestAgeMs: oldest === undefined ? 0 : Math.max(0, this.now() - oldest),
      lastSuccessAt: iso(this.lastSuccessAt),
      lastErrorAt: iso(this.lastErrorAt),
      lastError: this.lastError,
      failures: this.failures,
      backoffMs: this.backoffMs,
      whenFull: this.options.whenFull,
      maxEntries: this.options.maxEntries,
      maxBytes: this.options.maxBytes,
      counters: { ...this.stats, forwarded: c.forwarded, dropped: c.dropped, rejectedUpstream: c.rejectedUpstream },
    };
  }

  /** Starts forwarding (idempotent). */
  start(): void {
    if (this.running) return;
    this.stopper = new AbortController();
    this.running = this.loop().catch((e) => this.options.log?.warn({ err: e }, 'outbox: forwarder stopped on an error'));
  }

  /** Stops forwarding (an in-flight request is aborted; its batch is resent after a restart) and closes the log. */
  async stop(): Promise<void> {
    this.stopper.abort();
    this.wake?.();
    await this.running;
    this.running = undefined;
    await this.log.close();
  }

  private async loop(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      const batch = this.nextBatch();
      if (!batch) {
        await this.idle(signal);
        continue;
      }
      let outcome: 'ok' | 'retry' | 'refused';
      try {
        outcome = await this.send(batch, signal);
      } catch (e) {
        outcome = 'retry';
        this.failed(e instanceof Error ? e.message : String(e));
      }
      if (signal.aborted) break;
      if (outcome === 'ok') {
        this.failures = 0;
        this.backoffMs = 0;
        this.batchLimit = Math.min(this.options.batchEntries, this.batchLimit * 2);
        const fresh = batch.filter((s) => s.seq >= this.log.cursor.next).length;
        await this.log.advance(batch[batch.length - 1]!.seq + 1, { forwarded: fresh });
        continue;
      }
      if (outcome === 'refused') {
        if (batch.length > 1) {
          // Find the entry the upstream refuses: halve the batch until it is alone.
          this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
          await this.log.advance(this.log.cursor.next, {}, undefined);
          continue;
        }
        this.options.log?.warn({ seq: batch[0]!.seq, error: this.lastError }, 'outbox: the upstream refuses an entry; it is skipped');
        await this.log.advance(batch[0]!.seq + 1, { rejectedUpstream: 1 });
        this.batchLimit = this.options.batchEntries;
        continue;
      }
      // Backoff with jitter: a random delay in [b/2, b], b doubling from minBackoffMs up to maxBackoffMs.
      this.failures += 1;
      const b = Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** Math.min(this.failures - 1, 30));
      this.backoffMs = Math.round(b / 2 + (this.random() * b) / 2);
      await sleep(this.backoffMs, signal);
    }
  }

  private idle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      // Minute mode waits for the current minute to close; otherwise only an append (or stop) wakes the loop.
      const t = this.options.aggregate === 'minute' && this.log.length ? setTimeout(done, 60_000 - (this.now() % 60_000) + 50) : undefined;
      function done() {
        if (t) clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
      if (signal.aborted) done();
    });
  }

  /**
   * The next batch: the persisted in-flight range first (a restart resends exactly what may have arrived), else the
   * oldest pending entries up to the batch bounds. Minute mode takes only entries of minutes that have closed.
   */
  private nextBatch(): Array<{ seq: number; at: number; bytes: number }> | undefined {
    const c = this.log.cursor;
    const inflight = c.inflight && c.inflight.from >= c.next ? c.inflight : undefined;
    let batch = inflight
      ? this.log.window(inflight.from, Number.MAX_SAFE_INTEGER, Infinity, inflight.to)
      : this.log.window(c.next, this.batchLimit, this.options.batchBytes);
    if (!inflight && this.options.aggregate === 'minute') {
      const minuteStart = this.now() - (this.now() % 60_000);
      // In order: the batch ends before the first entry of a minute still open.
      const open = batch.findIndex((s) => s.at >= minuteStart);
      if (open >= 0) batch = batch.slice(0, open);
    }
    return batch.length ? batch : undefined;
  }

  /** POSTs a batch, one request per graph, in order. */
  private async send(batch: Array<{ seq: number }>, signal: AbortSignal): Promise<'ok' | 'retry' | 'refused'> {
    const from = batch[0]!.seq;
    const to = batch[batch.length - 1]!.seq;
    if (this.log.cursor.inflight?.from !== from || this.log.cursor.inflight?.to !== to) {
      this.log.cursor = { ...this.log.cursor, inflight: { from, to } };
      await this.log.saveCursor();
    }
    const entries: OutboxEntry[] = await this.log.read(batch);
    const prune: PruneOptions = { properties: this.options.properties, aggregate: this.options.aggregate, skolemBase: this.options.baseUrl };
    // Built in slices: the event loop turns at least every 10 ms while a large batch is prepared.
    const builder = new BatchBuilder(prune, from);
    let sliceStart = performance.now();
    for (const entry of entries) {
      builder.add(entry);
      if (performance.now() - sliceStart > 10) {
        await new Promise<void>((r) => setImmediate(r));
        if (signal.aborted) return 'retry';
        sliceStart = performance.now();
      }
    }
    const prepared = builder.finish();
    if (prepared.unreadable) {
      this.stats.unreadable += prepared.unreadable;
      this.options.log?.warn({ code: 'outbox-unreadable', entries: prepared.unreadable, from, to }, 'outbox: entries that do not parse are left out');
    }
    for (const [graph, body] of prepared.graphs) {
      const url = graph === null ? `${this.options.endpoint}?default` : `${this.options.endpoint}?graph=${encodeURIComponent(graph)}`;
      this.stats.requests += 1;
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/n-triples', ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) },
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.requestTimeoutMs)]),
        });
        await res.arrayBuffer().catch(() => undefined);
      } catch (e) {
        const timeout = (e as Error).name === 'TimeoutError';
        // A slow upstream: smaller batches next time (a batch that did arrive is harmless to resend).
        // Minute mode resends exactly the same range (its aggregates' IRIs and values depend on it).
        if (timeout && this.options.aggregate === 'none') {
          this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
          delete this.log.cursor.inflight;
        }
        this.failed(`${timeout ? 'timeout' : 'network'}: ${causeOf(e)}`);
        return 'retry';
      }
      if (!res.ok) {
        this.failed(`HTTP ${res.status} from the upstream`);
        return REFUSED.has(res.status) ? 'refused' : 'retry';
      }
      this.stats.bytesSent += Buffer.byteLength(body);
    }
    this.stats.triplesSent += prepared.triples;
    this.stats.prunedObservations += prepared.prunedObservations;
    this.stats.aggregates += prepared.aggregates;
    this.link = 'up';
    this.lastSuccessAt = this.now();
    return 'ok';
  }

  private failed(message: string): void {
    this.stats.failedRequests += 1;
    this.link = 'down';
    this.lastErrorAt = this.now();
    this.lastError = message;
    this.warn({ code: 'upstream-failed', error: message, queuedEntries: this.log.length }, 'outbox: upstream request failed; retrying with backoff');
  }
}

function causeOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message ?? String(e);
}

