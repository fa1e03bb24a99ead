// Rebuilds dirty aggregates from the store in the background: a few queries per batch of graphs, one batch at a time.
//
// Each batch is one SELECT over at most a few thousand statements (its JSON parse stays in the low milliseconds), and
// the next batch waits for setImmediate, so the event loop is never held. A graph written again while its batch runs
// is discarded from the batch and stays dirty.
import { UNSAFE_IRI } from '../graphs.ts';
import type { JsonBinding, JsonTerm, QuadStore } from '../quad-store.ts';
import { addStatement, RDF_TYPE, SOSA, type ScanResult, type Term } from './scan.ts';
import { AggregateState, TOP_K } from './state.ts';
import type { Latest } from './model.ts';
import { literalValue, timeValue } from './terms.ts';

const PREDICATES = ['madeBySensor', 'observedProperty', 'resultTime', 'hasSimpleResult'].map((p) => `${SOSA}${p}`);
const BATCH_ROWS = 6000;
const BATCH_GRAPHS = 64;
const RETRY_MS = 1000;

/** The five statement kinds of graph ?g, as ?g ?s ?p ?o. */
function statements(graphValues: string): string {
  const branches = [
    `{ ?s <${RDF_TYPE}> <${SOSA}Observation> BIND(<${RDF_TYPE}> AS ?p) BIND(<${SOSA}Observation> AS ?o) }`,
    ...PREDICATES.map((p) => `{ ?s <${p}> ?o BIND(<${p}> AS ?p) }`),
  ].join(' UNION ');
  return `SELECT ?g ?s ?p ?o WHERE { ${graphValues} GRAPH ?g { ${branches} } }`;
}

const LIST_GRAPHS = `SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ${[
  `{ ?s <${RDF_TYPE}> <${SOSA}Observation> }`,
  ...PREDICATES.map((p) => `{ ?s <${p}> ?o }`),
].join(' UNION ')} } } GROUP BY ?g`;

const TOP_QUERY = `SELECT ?g ?obs ?sensor ?property ?time ?value WHERE { GRAPH ?g { ?obs <${RDF_TYPE}> <${SOSA}Observation> ; <${SOSA}madeBySensor> ?sensor ; <${SOSA}observedProperty> ?property ; <${SOSA}resultTime> ?time ; <${SOSA}hasSimpleResult> ?value } } ORDER BY DESC(?time) LIMIT ${2 * TOP_K}`;

function toTerm(t: JsonTerm): Term {
  if (t.type === 'uri') return { k: 0, v: t.value };
  if (t.type === 'bnode') return { k: 1, v: t.value };
  return { k: 2, v: t.value, dt: t.datatype, lang: t['xml:lang'] };
}

export class Rebuilder {
  private running = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  /** Statements per graph from the last listing: sizes the batches. */
  private readonly estimate = new Map<string, number>();
  counters = { rebuildQueries: 0, rebuiltGraphs: 0, rebuildFailures: 0, fullBuilds: 0, lastFullBuildMs: 0, topRebuilds: 0 };

  constructor(private readonly store: QuadStore, private readonly state: AggregateState, private readonly onError: (e: unknown) => void = () => {}) {}

  /** The first build's listing of graphs, awaited by open(); their rebuilds then run in the background. */
  async initial(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.fullBuild();
    } catch (e) {
      this.counters.rebuildFailures++;
      this.onError(e);
    } finally {
      this.running = false;
    }
    this.kick();
  }

  /** Starts the background loop when there is work and it is not running. */
  kick(): void {
    if (this.running || this.closed || this.retry) return;
    this.running = true;
    setImmediate(() => this.loop());
  }

  /** Resolves when nothing is left to rebuild (tests, benchmarks). */
  async idle(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.hasWork() || this.running) {
      if (Date.now() > until) throw new Error('aggregates: rebuild did not finish in time');
      this.kick();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
  }

  private hasWork(): boolean {
    const s = this.state;
    return s.allDirty || s.dirty.size > 0 || s.building.size > 0 || s.overflowed.size > 0 || s.topDirty;
  }

  private async loop(): Promise<void> {
    try {
      while (!this.closed) {
        const s = this.state;
        if (s.writing.has('*')) break;
        if (s.allDirty) await this.fullBuild();
        else if (s.overflowed.size && s.building.size === 0 && s.dirty.size === 0) {
          for (const g of s.overflowed) s.markDirty(g);
          s.overflowed.clear();
        } else if (s.dirty.size) {
          if (!(await this.batch())) break;
        } else if (s.topDirty && s.ready()) await this.rebuildTop();
        else break;
        await new Promise((r) => setImmediate(r));
      }
      this.running = false;
    } catch (e) {
      this.running = false;
      this.counters.rebuildFailures++;
      this.onError(e);
      if (!this.closed) this.retry = setTimeout(() => ((this.retry = undefined), this.kick()), RETRY_MS).unref();
    }
  }

  private async fullBuild(): Promise<void> {
    const s = this.state;
    const gen = s.allGen;
    const started = performance.now();
    this.counters.rebuildQueries++;
    const rows = await this.store.select(LIST_GRAPHS);
    if (gen !== s.allGen || this.closed) return;
    this.estimate.clear();
    s.allDirty = false;
    for (const b of rows) {
      const g = b.g!.value;
      if (b.g!.type !== 'uri') continue;
      this.estimate.set(g, Number(b.n!.value));
      s.markDirty(g);
    }
    for (const g of s.pending.keys()) s.markDirty(g);
    this.counters.fullBuilds++;
    this.counters.lastFullBuildMs = Math.round(performance.now() - started);
  }

  /** Rebuilds one batch of dirty graphs; false when every dirty graph waits for a write to settle. */
  private async batch(): Promise<boolean> {
    const s = this.state;
    const picked: string[] = [];
    let rows = 0;
    for (const g of s.dirty) {
      if (s.writing.has(g)) continue;
      picked.push(g);
      rows += this.estimate.get(g) ?? 1000;
      if (rows >= BATCH_ROWS || picked.length >= BATCH_GRAPHS) break;
    }
    if (picked.length === 0) return false;
    const gens = picked.map((g) => s.gen.get(g) ?? 0);
    const allGen = s.allGen;
    for (const g of picked) {
      s.dirty.delete(g);
      s.building.add(g);
    }
    // A name no IRI can have (scanned from an insert the store then refused) names no graph of the store, and cannot be
    // written in the query: such graphs are rebuilt empty, or one would fail every batch it is in, forever.
    const queried = picked.filter((g) => !UNSAFE_IRI.test(g));
    let bindings: JsonBinding[];
    try {
      this.counters.rebuildQueries++;
      bindings = queried.length ? await this.store.select(statements(`VALUES ?g { ${queried.map((g) => `<${g}>`).join(' ')} }`)) : [];
    } catch (e) {
      for (const g of picked) {
        s.building.delete(g);
        if (!s.allDirty) s.dirty.add(g);
      }
      throw e;
    }
    const scan: ScanResult = { graphs: new Map(), unreadable: false };
    for (const b of bindings) addStatement(scan, b.g!.value, toTerm(b.s!), b.p!.value, toTerm(b.o!));
    picked.forEach((g, i) => {
      s.building.delete(g);
      if (s.allDirty || allGen !== s.allGen) return;
      if ((s.gen.get(g) ?? 0) !== gens[i] || s.writing.has(g)) {
        s.dirty.add(g);
        return;
      }
      this.estimate.set(g, scan.graphs.get(g)?.size ?? 0);
      s.install(g, scan.graphs.get(g) ?? new Map());
      this.counters.rebuiltGraphs++;
    });
    return true;
  }

  /** Refills the list of latest observations from the store (after graphs left it and it may miss some). */
  private async rebuildTop(): Promise<void> {
    const s = this.state;
    const gen = s.topGen;
    this.counters.rebuildQueries++;
    this.counters.topRebuilds++;
    const bindings = await this.store.select(TOP_QUERY);
    if (gen !== s.topGen || !s.ready()) return;
    const seen = new Set<string>();
    const rows: Latest[] = [];
    const add = (l: Latest) => {
      const k = `${l.graph} ${l.obs}`;
      if (!seen.has(k)) seen.add(k), rows.push(l);
    };
    for (const b of bindings) {
      const time = timeValue(b.time!.value, b.time!.datatype);
      const value = literalValue(b.value!.value, b.value!.datatype, b.value!['xml:lang']);
      if (!time || !value) return; // irregular data appeared meanwhile: the state says so already
      add({ obs: b.obs!.value, ms: time.ms, time: time.term, value: value.term, sensor: b.sensor!.value, property: b.property!.value, graph: b.g!.value });
    }
    for (const l of s.top.rows) add(l);
    s.top.reset(rows, bindings.length >= 2 * TOP_K);
    s.topDirty = false;
  }
}
