// Columnar hot store of regular SOSA observations: per (graph, sensor, property) series of times and results in typed arrays.
//
// Measured in the store benchmark (test/bench/store/hot-options.ts) against Oxigraph's full indexes: the rows a scan of
// insert text (hub/store/aggregates/scan.ts) recognises as regular observations are appended here without any RDF
// parse, and the observation patterns (is observation o in graph g; the latest per sensor/property; counts) are answered
// from the columns. Only numeric results (xsd:double/decimal/integer) are held; anything else is refused (`irregular`)
// so the caller keeps that graph on the RDF path. Rows are held until `dropThrough(mark)` (the caller's "applied to
// every engine" mark), so the columns are the not-yet-indexed tail, bounded by `maxRows`.
import { scanNQuads, type ObsRow } from '../aggregates/scan.ts';
import { flat, isComplete } from '../aggregates/model.ts';
import { Kind } from '../aggregates/terms.ts';

/** One (graph, sensor, property) series: parallel columns, appended in arrival order. */
export class HotSeries {
  n = 0;
  times = new Float64Array(16);
  values = new Float64Array(16);
  /** Batch mark of each row (the caller's sequence of the insert that brought it). */
  marks = new Uint32Array(16);
  obs: string[] = [];
  /** Index of the row with the greatest time (-1: none). */
  latest = -1;

  constructor(readonly graph: string, readonly sensor: string, readonly property: string) {}

  push(time: number, value: number, mark: number, obs: string): void {
    if (this.n === this.times.length) {
      const grow = <T extends Float64Array | Uint32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.times = grow(this.times);
      this.values = grow(this.values);
      this.marks = grow(this.marks);
    }
    const i = this.n++;
    this.times[i] = time;
    this.values[i] = value;
    this.marks[i] = mark;
    this.obs.push(obs);
    if (this.latest < 0 || time >= this.times[this.latest]!) this.latest = i;
  }

  /** Drops the rows whose mark is <= `mark` (marks only grow within a series). Returns how many went. */
  dropThrough(mark: number): number {
    let k = 0;
    while (k < this.n && this.marks[k]! <= mark) k++;
    if (k === 0) return 0;
    this.times.copyWithin(0, k, this.n);
    this.values.copyWithin(0, k, this.n);
    this.marks.copyWithin(0, k, this.n);
    this.obs.splice(0, k);
    this.n -= k;
    this.latest = -1;
    for (let i = 0; i < this.n; i++) if (this.latest < 0 || this.times[i]! >= this.times[this.latest]!) this.latest = i;
    return k;
  }
}

export interface HotAddResult {
  /** Regular observations appended. */
  added: number;
  /** The text holds SOSA statements the columns cannot hold (the caller keeps those graphs on the RDF path). */
  irregular: boolean;
}

export class HotStore {
  private readonly series = new Map<string, HotSeries>();
  /** sensor -> its series (for the latest per sensor). */
  private readonly bySensor = new Map<string, Set<HotSeries>>();
  /** graph -> observation IRI -> the mark that brought it (for the membership pattern). */
  private readonly byGraph = new Map<string, Map<string, number>>();
  rows = 0;
  refused = 0;

  constructor(private readonly maxRows = 4_000_000) {}

  /** Scans insert text (N-Quads, or N-Triples going to `graph`) and appends its regular observations under `mark`. */
  add(text: string, graph: string | undefined, mark: number): HotAddResult {
    const scan = scanNQuads(text, graph);
    let added = 0;
    let irregular = scan.unreadable;
    for (const [g, subjects] of scan.graphs) {
      for (const [obs, row] of subjects) {
        if (!regular(row) || this.rows >= this.maxRows) {
          irregular = true;
          this.refused++;
          continue;
        }
        const key = `${g}\u0000${row.sensor}\u0000${row.property}`;
        let s = this.series.get(key);
        if (!s) {
          this.series.set(key, (s = new HotSeries(g, row.sensor!, row.property!)));
          let set = this.bySensor.get(s.sensor);
          if (!set) this.bySensor.set(s.sensor, (set = new Set()));
          set.add(s);
        }
        // A copy, not a slice: a slice keeps the whole insert text alive.
        s.push(row.time!.ms, row.value!.num, mark, flat(obs));
        let members = this.byGraph.get(g);
        if (!members) this.byGraph.set(g, (members = new Map()));
        members.set(obs, mark);
        added++;
        this.rows++;
      }
    }
    return { added, irregular };
  }

  /** Whether observation `obs` is held in `graph`. */
  has(graph: string, obs: string): boolean {
    return this.byGraph.get(graph)?.has(obs) ?? false;
  }

  /** The latest row of a (sensor, property) over all graphs, or undefined. */
  latest(sensor: string, property?: string): { obs: string; time: number; value: number; graph: string } | undefined {
    let best: { obs: string; time: number; value: number; graph: string } | undefined;
    for (const s of this.bySensor.get(sensor) ?? []) {
      if ((property !== undefined && s.property !== property) || s.latest < 0) continue;
      const t = s.times[s.latest]!;
      if (!best || t > best.time) best = { obs: s.obs[s.latest]!, time: t, value: s.values[s.latest]!, graph: s.graph };
    }
    return best;
  }

  /** Rows held, over all series or in one graph. */
  count(graph?: string): number {
    return graph === undefined ? this.rows : (this.byGraph.get(graph)?.size ?? 0);
  }

  /** Drops every row brought by a mark <= `mark` (applied by every engine). */
  dropThrough(mark: number): void {
    for (const [key, s] of this.series) {
      const k = s.dropThrough(mark);
      if (k === 0) continue;
      this.rows -= k;
      if (s.n === 0) this.series.delete(key), this.bySensor.get(s.sensor)?.delete(s);
    }
    for (const [g, members] of this.byGraph) {
      for (const [obs, m] of members) if (m <= mark) members.delete(obs);
      if (members.size === 0) this.byGraph.delete(g);
    }
  }

  get seriesCount(): number {
    return this.series.size;
  }
}

function regular(r: ObsRow): boolean {
  return isComplete(r) && r.value.kind !== Kind.Other && Number.isFinite(r.value.num);
}
