// AggregatingQuadStore: a QuadStore decorator that keeps dashboard aggregates over SOSA observations and answers the
// recognised dashboard queries from them (./README.md lists the shapes), delegating everything else.
//
// Writes pass through unchanged. insert() text is scanned line by line for the five SOSA statements (scan.ts) and
// folded into per-graph aggregates; every other write marks the graphs it touches dirty, and dirty graphs are rebuilt
// from the store in the background (rebuild.ts). Aggregates answer only while every named graph is clean and regular,
// so an answer is always the store's own answer (up to the order of ties and of unordered solutions, and double sums).
import { DEFAULT_GRAPH, type GraphName, type JsonBinding, type QueryOptions, type QueryResult, type QuadStore, type UpdateOptions } from '../quad-store.ts';
import { evaluate, serialise } from './answer.ts';
import { Worker } from 'node:worker_threads';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledWorker } from '../embedded/worker-entry.ts';
import { checkpointMark, decodeCheckpoint, encodeCheckpoint, readCheckpoint, savable, writeCheckpoint } from './checkpoint.ts';
import { FILES_MARK, type FileBuild } from './file-build.ts';
import { flat } from './model.ts';
import { Rebuilder } from './rebuild.ts';
import { scanNQuads } from './scan.ts';
import { recognise } from './shapes.ts';
import { AggregateState } from './state.ts';
import { updateTargets } from './update-targets.ts';

const FORMATS = new Set(['application/sparql-results+json', 'application/sparql-results+xml', 'text/csv', 'text/tab-separated-values']);

export interface AggregatingOptions {
  /** Called with a background rebuild's failure (it is retried); default: a process warning. */
  onError?: (e: unknown) => void;
  /**
   * Save the aggregates at close() to `path` and load them at open() when the store's content is the same (checkpoint.ts):
   * `mark` names the inner store's content (EmbeddedQuadStore.filesMark).
   */
  checkpoint?: { path: string; mark(): Promise<string> };
  /**
   * The embedded store's directory: when no checkpoint applies (a crash, kill -9), the aggregates are built from its
   * files in a worker thread while the store opens (file-build.ts) instead of by queries afterwards.
   */
  filesDir?: string;
}

/** At close(), how long to wait for the inner store to apply what it acked before the aggregates are saved. */
const CLOSE_APPLY_WAIT_MS = 10_000;
/** ... and for at most this long without the count of unapplied writes going down. */
const CLOSE_STALL_MS = 1000;

export class AggregatingQuadStore implements QuadStore {
  readonly state = new AggregateState();
  private readonly rebuilder: Rebuilder;
  /** The last insert's promise and the graphs of the inserts sharing it (see insert()). */
  private lastWritten: Promise<void> | undefined;
  private lastGraphs = new Set<string>();
  private readonly counters = { aggregateAnswers: 0, aggregateDelegated: 0, scanCalls: 0, scanChars: 0, scanMs: 0, scanUnreadable: 0,
    checkpointLoaded: 0, checkpointLoadMs: 0, checkpointRefused: 0, filesBuilt: 0, filesBuildMs: 0, filesBuildGaveUp: 0 };
  private readonly checkpoint: AggregatingOptions['checkpoint'];
  private readonly filesDir: string | undefined;
  /** Graphs retention dropped while a build from the files runs (it may not have seen the drop): dropped again after. */
  private openDrops: string[] | undefined;
  /** Retention drops seen (they may run inside the inner store's open(), before a checkpoint is loaded). */
  private drops = 0;
  /** Inner counters whose change means writes the aggregates did not see (failed applies, retention drops). */
  private seen = { applyErrors: 0, retentionDroppedGraphs: 0 };
  private droppedSeen = 0;

  constructor(readonly inner: QuadStore, options: AggregatingOptions = {}) {
    this.checkpoint = options.checkpoint;
    this.filesDir = options.filesDir;
    this.rebuilder = new Rebuilder(inner, this.state, options.onError ?? ((e) => process.emitWarning(`aggregates: rebuild failed: ${(e as Error).message}`)));
    // Retention runs inside the embedded store and calls its own dropObservationsBefore: follow it on the instance.
    const drop = (inner as { dropObservationsBefore?: (day: string) => Promise<string[]> }).dropObservationsBefore;
    if (typeof drop === 'function') {
      (inner as unknown as { dropObservationsBefore: (day: string) => Promise<string[]> }).dropObservationsBefore = async (day: string) => {
        const end = this.state.beginWrite([]);
        this.drops++;
        try {
          const graphs = await drop.call(inner, day);
          for (const g of graphs) this.state.dropped(g);
          this.openDrops?.push(...graphs);
          this.droppedSeen += graphs.length;
          return graphs;
        } finally {
          end();
          this.rebuilder.kick();
        }
      };
    }
  }

  /** Drops observation graphs before `cutoffDay` when the inner store does retention (EmbeddedQuadStore). */
  dropObservationsBefore(cutoffDay: string): Promise<string[]> {
    const inner = this.inner as { dropObservationsBefore?: (day: string) => Promise<string[]> };
    if (!inner.dropObservationsBefore) return Promise.reject(new Error('the inner store has no retention'));
    return inner.dropObservationsBefore(cutoffDay);
  }

  /**
   * Opens the inner store. With a checkpoint taken at the same store content, the aggregates are loaded from it and
   * answer at once; otherwise the store's observation graphs are listed (one query), so writes after open() go straight
   * into the aggregates, and rebuilt in the background (queries go to the store until that is done).
   */
  async open(): Promise<void> {
    const cp = this.checkpoint;
    const saved = cp && (await readCheckpoint(cp.path));
    // Without a checkpoint of the files as they are, the aggregates are built from the files while the store opens.
    let build: FileBuildRun | undefined;
    if (this.filesDir && (await hasContent(this.filesDir)) && !(saved && checkpointMark(saved) === (await cp!.mark().catch(() => undefined)))) {
      if (saved) this.counters.checkpointRefused++;
      this.openDrops = [];
      build = startFileBuild(this.filesDir);
    }
    try {
      await this.inner.open();
    } catch (e) {
      build?.cancel();
      throw e;
    }
    this.noteInnerCounters();
    if (build) {
      const installed = this.installBuild(await build.result);
      this.openDrops = undefined;
      if (installed) return this.rebuilder.kick();
    } else if (cp && saved && (await this.restore(cp, saved))) return this.rebuilder.kick();
    await this.rebuilder.initial();
  }

  /** Installs what the worker built from the files, or says why not (the caller then rebuilds everything by query). */
  private installBuild(result: FileBuild): boolean {
    const h = this.inner.health?.() ?? {};
    // Records the store's replay failed (as their live write did) were still scanned by the build.
    const ok = result.kind === 'built' && !(h.replayFailedRecords! > 0) && decodeCheckpoint(Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength), FILES_MARK, this.state) === undefined;
    if (!ok) {
      this.counters.filesBuildGaveUp++;
      return false;
    }
    for (const g of result.dirty) this.state.markDirty(g);
    for (const g of this.openDrops ?? []) this.state.dropped(g);
    this.counters.filesBuilt++;
    this.counters.filesBuildMs = result.ms;
    return true;
  }

  private async restore(cp: NonNullable<AggregatingOptions['checkpoint']>, bytes: Buffer): Promise<boolean> {
    const t0 = performance.now();
    // A write since the inner store opened (retention at start) is not in the checkpoint: rebuild.
    const drops = this.drops;
    const refused = drops > 0 ? 'written-since' : decodeCheckpoint(bytes, await cp.mark(), this.state);
    if (refused === undefined && this.drops !== drops) this.state.setAllDirty();
    this.counters.checkpointLoadMs = Math.round(performance.now() - t0);
    if (refused !== undefined || this.drops !== drops) {
      this.counters.checkpointRefused++;
      return false;
    }
    this.counters.checkpointLoaded++;
    return true;
  }

  /** Resolves once nothing is dirty (tests, benchmarks). */
  aggregatesIdle(timeoutMs?: number): Promise<void> {
    return this.rebuilder.idle(timeoutMs);
  }

  /** Closes the inner store; with a checkpoint configured, saves the aggregates if they hold exactly its content. */
  async close(): Promise<void> {
    this.rebuilder.close();
    const cp = this.checkpoint;
    const pending = () => this.inner.health?.().pendingWrites ?? Infinity;
    // Bounded, and only while the engines make progress (a store left without a live member would never get there).
    if (cp) {
      const until = performance.now() + CLOSE_APPLY_WAIT_MS;
      let last = pending();
      let progressAt = performance.now();
      while (last > 0 && performance.now() < until && performance.now() - progressAt < CLOSE_STALL_MS) {
        await new Promise((r) => setTimeout(r, 20));
        const now = pending();
        if (now < last) progressAt = performance.now();
        last = now;
      }
    }
    await this.inner.close();
    if (!cp) return;
    // Every acked write applied (an apply error shows in the counters), nothing dirty, held or in flight.
    this.noteInnerCounters();
    if (pending() !== 0 || !savable(this.state)) return;
    await writeCheckpoint(cp.path, encodeCheckpoint(this.state, await cp.mark()));
  }

  /** Writes the aggregates did not see show in the inner store's counters: then nothing is trusted until rebuilt. */
  private noteInnerCounters(): void {
    const h = this.inner.health?.();
    if (!h) return;
    const applyErrors = h.applyErrors ?? 0;
    const dropped = h.retentionDroppedGraphs ?? 0;
    if (applyErrors !== this.seen.applyErrors || dropped - this.seen.retentionDroppedGraphs > this.droppedSeen) {
      this.state.setAllDirty();
      this.rebuilder.kick();
    }
    this.seen = { applyErrors, retentionDroppedGraphs: dropped };
    this.droppedSeen = 0;
  }

  query(sparql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const answer = this.answer(sparql, options);
    if (answer) {
      this.counters.aggregateAnswers++;
      return Promise.resolve(answer);
    }
    this.counters.aggregateDelegated++;
    return this.inner.query(sparql, options);
  }

  private answer(sparql: string, options: QueryOptions): QueryResult | undefined {
    // GRAPH ?g patterns are the same whatever the default graph is; a restricted set of named graphs is not followed.
    if (options.namedGraphUris?.length || options.defaultGraphUris?.length) return undefined;
    const format = options.resultFormat ?? 'application/sparql-results+json';
    if (!FORMATS.has(format)) return undefined;
    const plan = recognise(sparql);
    if (!plan) return undefined;
    this.noteInnerCounters();
    if (!this.state.ready(plan.kind === 'latest')) return undefined;
    const result = evaluate(plan, this.state);
    return result && serialise(result.vars, result.rows, format);
  }

  async select(sparql: string, options?: QueryOptions): Promise<JsonBinding[]> {
    const r = await this.query(sparql, { ...options, resultFormat: 'application/sparql-results+json' });
    return (JSON.parse(r.body) as { results: { bindings: JsonBinding[] } }).results.bindings;
  }

  async ask(sparql: string, options?: QueryOptions): Promise<boolean> {
    return this.inner.ask(sparql, options);
  }

  construct(sparql: string, options?: QueryOptions): Promise<string> {
    return this.inner.construct(sparql, options);
  }

  async update(sparql: string, options: UpdateOptions = {}): Promise<void> {
    const targets = updateTargets(sparql, options.baseIri);
    if (targets === undefined) {
      // sparqljs cannot read it: usually the store refuses it too (nothing changed); if the store applies it, rebuild all.
      await this.inner.update(sparql, options);
      this.state.setAllDirty();
      this.rebuilder.kick();
      return;
    }
    await this.tracked(targets, () => this.inner.update(sparql, options));
  }

  private async tracked<T>(targets: string[] | '*', write: () => Promise<T>): Promise<T> {
    const end = this.state.beginWrite(targets);
    try {
      return await write();
    } finally {
      end();
      this.rebuilder.kick();
    }
  }

  insert(nquads: string, graph?: GraphName): Promise<void> {
    // A message the store refuses for want of room is not scanned: under overload the scan, and the rebuild of the
    // graph it then marked dirty (queries on engines already short of time), cut the rate the store acked from ~25k to
    // ~6-10k msgs/s at 35k offered.
    const refused = this.inner.refusal?.();
    if (refused) return Promise.reject(refused);
    const written = this.inner.insert(nquads, graph);
    const started = performance.now();
    const scan = scanNQuads(nquads, graph === undefined || graph === DEFAULT_GRAPH ? undefined : graph);
    if (scan.unreadable) {
      this.counters.scanUnreadable++;
      this.state.setAllDirty();
    } else this.state.ingest(scan);
    this.counters.scanCalls++;
    this.counters.scanChars += nquads.length;
    this.counters.scanMs += performance.now() - started;
    if (this.state.dirty.size || this.state.allDirty) this.rebuilder.kick();
    // A refused insert is not in the store: its graphs are rebuilt (the caller still gets the rejection). Only copies of
    // the graph names are kept meanwhile: the scan's strings are slices of the text, and holding them until the ack
    // kept every message's text alive through young-generation GCs. The inserts of one group commit share one promise
    // (EmbeddedQuadStore), so they share one handler and one set of names.
    if (written !== this.lastWritten) {
      const graphs = new Set<string>();
      this.lastWritten = written;
      this.lastGraphs = graphs;
      written.catch(() => {
        for (const g of graphs) this.state.markDirty(g);
        this.rebuilder.kick();
      });
    }
    for (const g of scan.graphs.keys()) if (!this.lastGraphs.has(g)) this.lastGraphs.add(flat(g));
    return written;
  }

  refusal(): Error | undefined {
    return this.inner.refusal?.();
  }

  getGraph(graph: GraphName): Promise<string | undefined> {
    return this.inner.getGraph(graph);
  }

  hasGraph(graph: GraphName): Promise<boolean> {
    return this.inner.hasGraph(graph);
  }

  putGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    return this.tracked(graph === DEFAULT_GRAPH ? [] : [graph], () => this.inner.putGraph(graph, ntriples));
  }

  postGraph(graph: GraphName, ntriples: string): Promise<boolean> {
    return this.tracked(graph === DEFAULT_GRAPH ? [] : [graph], () => this.inner.postGraph(graph, ntriples));
  }

  deleteGraph(graph: GraphName): Promise<boolean> {
    return this.tracked(graph === DEFAULT_GRAPH ? [] : [graph], () => this.inner.deleteGraph(graph));
  }

  private figures(): Record<string, number> {
    return { ...this.state.stats(), ...this.counters, scanMs: Math.round(this.counters.scanMs), ...prefixed(this.rebuilder.counters) };
  }

  async stats(): Promise<Record<string, number>> {
    return { ...(await this.inner.stats()), ...this.figures() };
  }

  health(): Record<string, number> {
    const inner = this.inner.health?.() ?? {};
    return { ...inner, ...this.figures() };
  }
}

interface FileBuildRun {
  result: Promise<FileBuild>;
  cancel(): void;
}

/** Whether the store directory holds a snapshot or a non-empty log segment (else there is nothing to build from). */
async function hasContent(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (/^snapshot-\d+\.nq$/.test(name)) return true;
    if (/^log-\d+\.wal$/.test(name) && (await stat(join(dir, name)).catch(() => undefined))?.size) return true;
  }
  return false;
}

const FILE_BUILD_WORKER = new URL('./file-build-worker.ts', import.meta.url);
const FILE_BUILD_BOOTSTRAP = new URL('./file-build-bootstrap.mjs', import.meta.url);

/** Runs file-build.ts in a worker thread; any failure of the thread is a build that gave up. */
function startFileBuild(dir: string): FileBuildRun {
  let worker: Worker | undefined;
  let cancelled = false;
  const result = bundledWorker(FILE_BUILD_WORKER, FILE_BUILD_BOOTSTRAP).then(
    (entry) =>
      new Promise<FileBuild>((resolve) => {
        if (cancelled) return resolve({ kind: 'gave-up', reason: 'cancelled' });
        const w = (worker = new Worker(entry, { execArgv: [], workerData: { dir } }));
        w.once('message', (m: FileBuild) => resolve(m));
        w.once('error', (e) => resolve({ kind: 'gave-up', reason: `worker failed: ${e.message}` }));
        w.once('exit', (code) => resolve({ kind: 'gave-up', reason: `worker exited with code ${code}` }));
      }),
    (e: Error) => ({ kind: 'gave-up' as const, reason: `no worker script: ${e.message}` }),
  );
  return {
    result,
    cancel() {
      cancelled = true;
      void worker?.terminate();
    },
  };
}

function prefixed(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [`aggregates${k[0]!.toUpperCase()}${k.slice(1)}`, v]));
}
