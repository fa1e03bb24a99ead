// The Thing Description Directory: CRUDL of TDs with registration info, validation, persistence, RDF in the store, events.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BadRequestError, NotFoundError, ValidationError } from '../errors.ts';
import type { QuadStore } from '../store/quad-store.ts';
import { thingGraph } from '../store/graphs.ts';
import { applyMergePatch } from './merge-patch.ts';
import { computeExpires, enrich, entryDiff, splitRegistration, type DirectoryEntry, type ThingDescription } from './registration.ts';
import { TdFiles } from './td-files.ts';
import { TdValidator } from './validator.ts';
import { compareCodePoints } from './code-points.ts';
import { entryToNTriples, TdGraphs } from './td-graphs.ts';

export type { ThingDescription } from './registration.ts';
import type { DirectoryEvent, DirectoryEventType, DirectoryOptions } from './directory-types.ts';

export type { DirectoryEvent, DirectoryEventType, DirectoryOptions } from './directory-types.ts';

/**
 * W3C WoT Discovery 1.0 §7.3 Thing Description Directory. Keeps every TD as the client sent it (exact round-trip),
 * as RDF in the named graph thingGraph(baseUrl, id) for SPARQL search, and on disk when a dataDir is given.
 * Mutations run one at a time so that created/replaced answers and event order are consistent.
 */
export class Directory {
  readonly store: QuadStore;
  readonly baseUrl: string;
  private readonly clock: () => Date;
  private readonly files?: TdFiles;
  private readonly rdf: TdGraphs;
  private readonly validator: TdValidator;
  private readonly purgeIntervalMs: number;
  private readonly entries = new Map<string, DirectoryEntry>();
  /** Expiry (ms) of the entries that have one: listings check these only, not every entry. */
  private readonly expiring = new Map<string, number>();
  private readonly events = new EventEmitter();
  private sortedIds?: string[];
  private snapshot?: { version: number; items: ThingDescription[] };
  private version = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(options: DirectoryOptions) {
    this.store = options.store;
    this.baseUrl = options.baseUrl;
    this.clock = options.clock ?? (() => new Date());
    this.rdf = new TdGraphs(options.store, options.baseUrl);
    this.files = options.dataDir ? new TdFiles(join(options.dataDir, 'directory')) : undefined;
    this.validator = options.validator ?? new TdValidator();
    this.purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    this.events.setMaxListeners(0);
  }

  /** Loads persisted TDs, restores their graphs when the store lost them, purges expired ones, starts the purge timer. */
  async open(): Promise<void> {
    if (this.files) {
      const missing: Array<{ id: string; ntriples: string }> = [];
      for (const { entry, ntriples } of await this.files.open()) {
        this.entries.set(entry.id, entry);
        this.track(entry);
        // A durable store still has the graph; an in-memory one gets it back from the saved N-Triples.
        if (!(await this.rdf.has(entry.id))) missing.push({ id: entry.id, ntriples: ntriples ?? (await entryToNTriples(entry)) });
      }
      await this.rdf.putMany(missing);
      this.version++;
    }
    await this.purgeExpired();
    this.timer = setInterval(() => void this.purgeExpired().catch(() => undefined), this.purgeIntervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue.catch(() => undefined);
    this.events.removeAllListeners();
  }

  on(type: DirectoryEventType, listener: (event: DirectoryEvent) => void): this {
    return this.events.on(type, listener), this;
  }
  off(type: DirectoryEventType, listener: (event: DirectoryEvent) => void): this {
    return this.events.off(type, listener), this;
  }

  /** Creates or replaces the TD with this id (tdd-things-create-known-td, tdd-things-update). */
  put(id: string, td: ThingDescription): Promise<{ created: boolean; td: ThingDescription }> {
    return this.serial(async () => {
      if (td.id !== undefined && td.id !== id) {
        throw new ValidationError('The TD id does not match the id in the URL', [
          { field: '/id', description: `must equal '${id}' (the id in the request URL)` },
        ]);
      }
      const existing = this.live(id);
      const entry = await this.write(id, td, existing, td.id === undefined);
      if (existing) this.emit('thing_updated', { id, td: enrich(entry), diff: entryDiff(existing, entry) });
      else this.emit('thing_created', { id, td: enrich(entry) });
      return { created: !existing, td: enrich(entry) };
    });
  }

  /** Registers an Anonymous TD under a new `urn:uuid` v4 id (tdd-things-create-anonymous-id, tdd-anonymous-td-local-uuid). */
  create(td: ThingDescription): Promise<{ id: string; td: ThingDescription }> {
    return this.serial(async () => {
      if (td.id !== undefined) {
        throw new BadRequestError('A TD with an id is registered with PUT /things/{id}; POST /things is for anonymous TDs');
      }
      const id = `urn:uuid:${randomUUID()}`;
      const entry = await this.write(id, td, undefined, true);
      this.emit('thing_created', { id, td: enrich(entry) });
      return { id, td: enrich(entry) };
    });
  }

  /** Applies a JSON Merge Patch and validates the result (tdd-things-update-partial-mergepatch). */
  patch(id: string, mergePatch: unknown): Promise<{ td: ThingDescription }> {
    return this.serial(async () => {
      const existing = this.live(id);
      if (!existing) throw new NotFoundError(`No Thing Description with id '${id}'`);
      if (typeof mergePatch !== 'object' || mergePatch === null || Array.isArray(mergePatch)) {
        throw new ValidationError('A merge patch of a TD must be a JSON object', [{ field: '/', description: 'must be an object' }]);
      }
      const base = existing.anonymous ? { ...existing.td, id } : existing.td;
      const merged = applyMergePatch(base, mergePatch) as ThingDescription;
      if (merged.id !== id) {
        throw new ValidationError('A patch may not change or remove the TD id', [{ field: '/id', description: `must stay '${id}'` }]);
      }
      if (existing.anonymous) delete merged.id;
      const entry = await this.write(id, merged, existing, existing.anonymous);
      this.emit('thing_updated', { id, td: enrich(entry), diff: entryDiff(existing, entry) });
      return { td: enrich(entry) };
    });
  }

  /** The Enriched TD, with `retrieved` set now; undefined when absent or expired. */
  async get(id: string): Promise<ThingDescription | undefined> {
    const entry = this.live(id);
    return entry ? enrich(entry, this.clock()) : undefined;
  }

  has(id: string): boolean {
    return this.live(id) !== undefined;
  }

  /** A page of Enriched TDs sorted by id in code point order (tdd-things-list-pagination-order-default). */
  async list(options: { limit?: number; offset?: number } = {}): Promise<{ items: ThingDescription[]; total: number }> {
    const ids = this.liveIds();
    const offset = Math.max(0, options.offset ?? 0);
    const end = options.limit === undefined ? ids.length : Math.min(ids.length, offset + options.limit);
    const now = this.clock();
    const items: ThingDescription[] = [];
    for (let i = offset; i < end; i++) items.push(enrich(this.entries.get(ids[i]!)!, now));
    return { items, total: ids.length };
  }

  /** Every live Enriched TD (for JSONPath search). */
  async all(): Promise<ThingDescription[]> {
    return (await this.list()).items;
  }

  /**
   * Every live Enriched TD without `retrieved`, cached until the next change: JSONPath search walks all TDs per query,
   * and rebuilding 10,000 enriched copies each time cost more than the search. Callers must not mutate the result.
   */
  searchable(): readonly ThingDescription[] {
    const ids = this.liveIds();
    if (this.snapshot?.version !== this.version || this.snapshot.items.length !== ids.length) {
      this.snapshot = { version: this.version, items: ids.map((id) => enrich(this.entries.get(id)!)) };
    }
    return this.snapshot.items;
  }

  /** Named graphs of every live TD (one per TD, thingGraph(baseUrl, id)). */
  graphs(): string[] {
    return this.liveIds().map((id) => thingGraph(this.baseUrl, id));
  }

  /** The union graph of every TD: the default graph of SPARQL searches (one graph is ~600x faster than 10,000). */
  get unionGraph(): string {
    return this.rdf.union;
  }

  /** Changes whenever the collection changes: the etag of the canonical Link (tdd-things-list-pagination-header-canonicallink). */
  etag(): string {
    return `v${this.version}-${this.entries.size}`;
  }

  get size(): number {
    return this.entries.size;
  }

  delete(id: string): Promise<boolean> {
    return this.serial(async () => {
      if (!this.live(id)) return false;
      await this.remove(id);
      this.emit('thing_deleted', { id });
      return true;
    });
  }

  /** Purges now when some TD is past its expiry (searches call this so expired TDs never match). */
  async purgeDue(): Promise<void> {
    const now = this.clock().getTime();
    for (const at of this.expiring.values()) {
      if (at <= now) {
        await this.purgeExpired();
        return;
      }
    }
  }

  /** Removes every TD past its expiry; returns how many went. */
  purgeExpired(): Promise<number> {
    return this.serial(async () => {
      const now = this.clock().getTime();
      const expired = [...this.expiring].filter(([, at]) => at <= now).map(([id]) => this.entries.get(id)!);
      for (const e of expired) {
        await this.remove(e.id);
        this.emit('thing_deleted', { id: e.id });
      }
      return expired.length;
    });
  }

  /** Sorted ids without expired entries; finding one schedules a purge (the listing never waits for it). */
  private liveIds(): string[] {
    const now = this.clock().getTime();
    let expired: Set<string> | undefined;
    for (const [id, at] of this.expiring) if (at <= now) (expired ??= new Set()).add(id);
    if (!expired) return this.ids();
    void this.purgeExpired().catch(() => undefined);
    return this.ids().filter((id) => !expired.has(id));
  }

  /** The entry unless it has expired (expired TDs are invisible at once and purged soon after). */
  private live(id: string): DirectoryEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expires && Date.parse(e.expires) <= this.clock().getTime()) {
      void this.purgeExpired().catch(() => undefined);
      return undefined;
    }
    return e;
  }

  private async write(id: string, input: ThingDescription, existing: DirectoryEntry | undefined, anonymous: boolean): Promise<DirectoryEntry> {
    this.validator.validate(anonymous ? { ...input, id } : input);
    const { td, ttl, expires } = splitRegistration(input);
    const now = this.clock();
    const entry: DirectoryEntry = {
      id,
      td,
      anonymous,
      created: existing?.created ?? now.toISOString(),
      modified: now.toISOString(),
      ...(ttl !== undefined ? { ttl } : {}),
    };
    const exp = computeExpires(now, ttl, expires);
    if (exp) entry.expires = exp;
    const rdf = await entryToNTriples(entry);
    // The store's insert and the TD file's write (each durable on its own) run side by side, not one after the other.
    // A file written beside a failed insert is put back as it was, so a refused registration is not on disk at the
    // next start.
    const previous = this.entries.get(id);
    const [stored, saved] = await Promise.allSettled([this.rdf.put(id, rdf, previous !== undefined), this.files?.save(entry, rdf)]);
    if (stored.status === 'rejected') {
      if (saved.status === 'fulfilled' && this.files) await (previous ? this.files.save(previous) : this.files.remove(id)).catch(() => undefined);
      throw stored.reason;
    }
    if (saved.status === 'rejected') throw saved.reason;
    if (!existing) this.sortedIds = undefined;
    this.entries.set(id, entry);
    this.track(entry);
    this.version++;
    return entry;
  }

  private async remove(id: string): Promise<void> {
    await this.rdf.remove(id);
    await this.files?.remove(id);
    this.entries.delete(id);
    this.expiring.delete(id);
    this.sortedIds = undefined;
    this.version++;
  }

  private ids(): string[] {
    // Code point order (not localeCompare): tdd-things-list-pagination-order-default.
    this.sortedIds ??= [...this.entries.keys()].sort(compareCodePoints);
    return this.sortedIds;
  }

  private track(entry: DirectoryEntry): void {
    if (entry.expires) this.expiring.set(entry.id, Date.parse(entry.expires));
    else this.expiring.delete(entry.id);
  }

  private emit(type: DirectoryEventType, event: DirectoryEvent): void {
    this.events.emit(type, event);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
