// The aggregates' state: graphs' parts, indexes, and which graphs are dirty (not used until rebuilt from the store).
import { GraphAgg, KeyAgg, TopK, hash53, isComplete } from './model.ts';
import { addStatement, type ObsRow, type ScanResult } from './scan.ts';

/** Rows held for graphs being rebuilt; past this the rows are dropped and those graphs rebuilt once more. */
const MAX_PENDING_ROWS = 200_000;
export const TOP_K = 1000;

export class AggregateState {
  readonly graphs = new Map<string, GraphAgg>();
  total = 0;
  irregularGraphs = 0;
  readonly keysBySensor = new Map<string, Set<KeyAgg>>();
  readonly keysByProperty = new Map<string, Set<KeyAgg>>();
  readonly top = new TopK(TOP_K);
  topDirty = false;
  /** Bumped by every write that may remove rows from the top list (a rebuild of it then starts over). */
  topGen = 0;

  /** Until the first full build, and again after a write the aggregates cannot place: every graph is unknown. */
  allDirty = true;
  /** Bumped whenever allDirty is set: a full build started before is stale. */
  allGen = 0;
  readonly dirty = new Set<string>();
  readonly building = new Set<string>();
  readonly gen = new Map<string, number>();
  /** Writes in flight per graph ('*': a write on unknown graphs): not rebuilt until they settle. */
  readonly writing = new Map<string, number>();
  /** Rows inserted into graphs that are dirty or being rebuilt: merged into their rebuild (union of statements). */
  readonly pending = new Map<string, Map<string, ObsRow>>();
  pendingRows = 0;
  /** Graphs whose pending rows were dropped (memory bound): rebuilt once more afterwards. */
  readonly overflowed = new Set<string>();

  /** True when the aggregates hold exactly what the store holds for every named graph. */
  ready(needTop = false): boolean {
    return !this.allDirty && this.dirty.size === 0 && this.building.size === 0 && this.writing.size === 0 && this.irregularGraphs === 0 && (!needTop || !this.topDirty);
  }

  /** ingest()'s row hashes, reused from call to call (it is on the insert path). */
  private readonly hashes: number[] = [];

  /** Applies what insert() scanned. A subject already known in its graph makes the graph dirty. */
  ingest(scan: ScanResult): void {
    for (const [g, rows] of scan.graphs) {
      // (The sizes first: the sets are empty in steady ingestion, and a lookup hashes the graph IRI.)
      if (this.allDirty || (this.dirty.size > 0 && this.dirty.has(g)) || (this.building.size > 0 && this.building.has(g)) || (this.writing.size > 0 && this.writing.has(g))) {
        this.hold(g, rows);
        continue;
      }
      let agg = this.graphs.get(g);
      if (!agg) {
        agg = new GraphAgg(g);
        this.graphs.set(agg.iri, agg);
      }
      const hashes = this.hashes;
      hashes.length = 0;
      let repeated = false;
      for (const row of rows.values()) {
        const h = hash53(row.obs);
        if (agg.subjects.has(h)) {
          repeated = true;
          break;
        }
        hashes.push(h);
      }
      if (repeated) {
        this.markDirty(g);
        this.hold(g, rows);
        continue;
      }
      let i = 0;
      for (const row of rows.values()) {
        agg.subjects.add(hashes[i++]!);
        this.addRow(agg, row);
      }
    }
  }

  private hold(g: string, rows: Map<string, ObsRow>): void {
    if (this.overflowed.has(g)) return;
    if (this.pendingRows + rows.size > MAX_PENDING_ROWS) {
      this.overflowed.add(g);
      this.pendingRows -= this.pending.get(g)?.size ?? 0;
      this.pending.delete(g);
      return;
    }
    let held = this.pending.get(g);
    if (!held) this.pending.set(g, (held = new Map()));
    const before = held.size;
    const wrap: ScanResult = { graphs: new Map([[g, held]]), unreadable: false };
    for (const row of rows.values()) mergeRow(wrap, g, row);
    this.pendingRows += held.size - before;
  }

  private addRow(agg: GraphAgg, row: ObsRow): void {
    if (!isComplete(row)) {
      if (agg.irregular++ === 0) this.irregularGraphs++;
      return;
    }
    const k = `${row.sensor} ${row.property}`;
    let key = agg.keys.get(k);
    if (!key) {
      key = new KeyAgg(agg.iri, row.sensor, row.property);
      agg.keys.set(`${key.sensor} ${key.property}`, key);
      index(this.keysBySensor, key.sensor).add(key);
      index(this.keysByProperty, key.property).add(key);
    }
    this.top.add(key.add(row));
    agg.n++;
    this.total++;
  }

  /** Forgets a graph's parts (its rows may be wrong or gone) and queues it for a rebuild from the store. */
  markDirty(g: string): void {
    this.remove(g);
    this.dirty.add(g);
    this.gen.set(g, (this.gen.get(g) ?? 0) + 1);
  }

  /** A write other than insert() on `graphs` ('*': could touch any graph) starts; call the result when it settles. */
  beginWrite(graphs: string[] | '*'): () => void {
    const names = graphs === '*' ? ['*'] : graphs;
    if (graphs === '*') {
      // Rows held so far were written before this write: the full build after it reads whatever of them survived.
      this.setAllDirty();
      this.pending.clear();
      this.pendingRows = 0;
      this.overflowed.clear();
    }
    for (const g of names) {
      if (g !== '*') {
        this.markDirty(g);
        this.pendingRows -= this.pending.get(g)?.size ?? 0;
        this.pending.delete(g);
        this.overflowed.delete(g);
      }
      this.writing.set(g, (this.writing.get(g) ?? 0) + 1);
    }
    this.topGen++;
    return () => {
      for (const g of names) {
        const n = this.writing.get(g)! - 1;
        if (n > 0) this.writing.set(g, n);
        else this.writing.delete(g);
        if (g !== '*') this.gen.set(g, (this.gen.get(g) ?? 0) + 1);
      }
    };
  }

  /** A graph is known to be gone (retention dropped it): forget it, nothing to rebuild. */
  dropped(g: string): void {
    this.remove(g);
    this.topGen++;
    if (!this.allDirty && !this.top.complete()) this.topDirty = true;
  }

  setAllDirty(): void {
    this.allDirty = true;
    this.allGen++;
    for (const g of [...this.graphs.keys()]) this.remove(g);
    this.dirty.clear();
    this.topDirty = false;
    this.top.reset([], false);
  }

  private remove(g: string): void {
    const agg = this.graphs.get(g);
    if (!agg) return;
    this.graphs.delete(g);
    this.total -= agg.n;
    if (agg.irregular > 0) this.irregularGraphs--;
    for (const key of agg.keys.values()) {
      unindex(this.keysBySensor, key.sensor, key);
      unindex(this.keysByProperty, key.property, key);
    }
    if (agg.n > 0) this.top.removeGraph(g);
  }

  /** Installs a graph rebuilt from the store (its rows merged with the rows inserted meanwhile). */
  install(g: string, rows: Map<string, ObsRow>): void {
    const held = this.pending.get(g);
    if (held) {
      const wrap: ScanResult = { graphs: new Map([[g, rows]]), unreadable: false };
      for (const row of held.values()) mergeRow(wrap, g, row);
      this.pendingRows -= held.size;
      this.pending.delete(g);
    }
    this.remove(g);
    if (rows.size === 0) return;
    const agg = new GraphAgg(g);
    this.graphs.set(agg.iri, agg);
    for (const row of rows.values()) {
      agg.subjects.add(hash53(row.obs));
      this.addRow(agg, row);
    }
    if (!this.top.complete()) this.topDirty = true;
  }

  stats(): Record<string, number> {
    return {
      aggregatesReady: this.ready(true) ? 1 : 0,
      aggregatesObservations: this.total,
      aggregatesGraphs: this.graphs.size,
      aggregatesDirtyGraphs: this.dirty.size + this.building.size,
      aggregatesIrregularGraphs: this.irregularGraphs,
      aggregatesPendingRows: this.pendingRows,
    };
  }
}

/** Union of the statements of two rows of one subject (a differing second value makes the row bad, as in the store). */
export function mergeRow(into: ScanResult, g: string, row: ObsRow): void {
  const s = row.obs.startsWith('_:') ? { k: 1 as const, v: row.obs.slice(2) } : { k: 0 as const, v: row.obs };
  const SOSA = 'http://www.w3.org/ns/sosa/';
  if (row.typed) addStatement(into, g, s, 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type', { k: 0, v: `${SOSA}Observation` });
  if (row.sensor !== undefined) addStatement(into, g, s, `${SOSA}madeBySensor`, { k: 0, v: row.sensor });
  if (row.property !== undefined) addStatement(into, g, s, `${SOSA}observedProperty`, { k: 0, v: row.property });
  if (row.time) addStatement(into, g, s, `${SOSA}resultTime`, { k: 2, v: row.time.term.value, dt: row.time.term.datatype });
  if (row.value) addStatement(into, g, s, `${SOSA}hasSimpleResult`, { k: 2, v: row.value.term.value, dt: row.value.term.datatype });
  let rows = into.graphs.get(g);
  if (!rows) into.graphs.set(g, (rows = new Map()));
  const merged = rows.get(row.obs);
  if (merged) merged.bad ||= row.bad;
  else if (row.bad) rows.set(row.obs, { ...row });
}

export function index(map: Map<string, Set<KeyAgg>>, k: string): Set<KeyAgg> {
  let s = map.get(k);
  if (!s) map.set(k, (s = new Set()));
  return s;
}

function unindex(map: Map<string, Set<KeyAgg>>, k: string, key: KeyAgg): void {
  const s = map.get(k);
  if (!s) return;
  s.delete(key);
  if (s.size === 0) map.delete(k);
}
