// Stream operators of virtual sensors: filter, map, windows per key, MAD outlier removal, join, fusion, travel times.
import { encodeSerial } from '../bindings/cookie/codec.ts';
import { NOT_NOW, type CompiledExpression } from './expression.ts';
import type { OperatorDefinition } from './definition.ts';
import { aggregate, madKeep } from './stats.ts';
import { TravelTimeLink, WeightedTravelTimeLink, type TravelTimeEstimate } from './travel-time.ts';

/** One sample on a stream: from an input Thing's message or an operator. `time` is the data's (epoch ms). */
export interface Sample {
  key: string;
  time: number;
  value: unknown;
  thing: string;
  fields: Record<string, unknown>;
  /** IRIs of the observations this sample comes from (provenance), at most MAX_SOURCES. */
  sources: string[];
  /**
   * The window a sample summarises (prov:wasDerivedFrom a window when present). `pairs`: its members are chosen ones
   * (a travel time's valid pairs), always named; a time or count window names them only when few (hub/virtual/publish.ts).
   */
  window?: { start: number; end: number; count: number; pairs?: boolean };
}

export interface Operator {
  /** Samples out for one sample in on stream `from` (an input or operator id). */
  process(sample: Sample, from: string): Promise<Sample[]> | Sample[];
}

export const MAX_SOURCES = 64;
const MAX_KEYS = 10_000;
const MAX_WINDOW = 100_000;

/** The record an expression sees: {value, key, time (ISO 8601), thing, fields}. */
export const expressionInput = (s: Sample): Record<string, unknown> => ({ value: s.value, key: s.key, time: new Date(s.time).toISOString(), thing: s.thing, fields: s.fields });

/** The union of the inputs' sources, newest input (last) first, at most MAX_SOURCES. */
function union(inputs: ReadonlyArray<{ sources: string[] }>): string[] {
  const out = new Set<string>();
  for (let i = inputs.length - 1; i >= 0 && out.size < MAX_SOURCES; i--) for (const s of inputs[i]!.sources) if (out.size < MAX_SOURCES) out.add(s);
  return [...out];
}

/** A Map bounded in keys: the oldest inserted key goes first. */
function boundedGet<V>(map: Map<string, V>, key: string, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) {
    if (map.size >= MAX_KEYS) map.delete(map.keys().next().value!);
    map.set(key, (v = make()));
  }
  return v;
}

const asNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined);

export function createOperator(def: OperatorDefinition, expressions: Map<string, CompiledExpression>): Operator {
  switch (def.op) {
    // Synchronous when the expression's fast subset answers (no promise per sample), else through JSONata.
    case 'filter': {
      const where = expressions.get(def.id)!;
      return {
        process: (s) => {
          const input = expressionInput(s);
          const v = where.evaluateNow(input);
          return v === NOT_NOW ? later(where, input, s, kept) : kept(s, v);
        },
      };
    }
    case 'map': {
      const expr = expressions.get(def.id)!;
      return {
        process: (s) => {
          const input = expressionInput(s);
          const v = expr.evaluateNow(input);
          return v === NOT_NOW ? later(expr, input, s, mapped) : mapped(s, v);
        },
      };
    }
    case 'window':
      return new WindowOperator(def);
    case 'outliers':
      return new OutlierOperator(def);
    case 'join':
      return new JoinOperator(def);
    case 'fusion':
      return new FusionOperator(def, expressions.get(def.id));
    case 'travel-time':
      return new TravelTimeOperator(def);
    case 'weighted-travel-time':
      return new WeightedOperator(def);
  }
}

/** A filter's samples out: the sample when its expression gave true. */
function kept(s: Sample, v: unknown): Sample[] {
  return v === true ? [s] : [];
}

/** A map's samples out: the sample with the expression's value, none when it gave nothing. */
function mapped(s: Sample, value: unknown): Sample[] {
  return value === undefined ? [] : [{ ...s, value }];
}

/** The samples out once JSONata has evaluated (outside the per-sample functions: their closures cost on every call). */
function later(expression: CompiledExpression, input: unknown, s: Sample, out: (s: Sample, v: unknown) => Sample[]): Promise<Sample[]> {
  return expression.evaluate(input).then((v) => out(s, v));
}

type Def<K extends OperatorDefinition['op']> = Extract<OperatorDefinition, { op: K }>;

/** Time and/or count window per key; numeric samples only (others are skipped); emits from minSamples on. */
class WindowOperator implements Operator {
  private readonly windows = new Map<string, Array<{ time: number; value: number; sources: string[] }>>();
  /** Per key, the data time of the last emission (emitEvery: at most one per that many seconds). */
  private readonly emitted = new Map<string, number>();
  constructor(private readonly def: Def<'window'>) {}

  process(s: Sample): Sample[] {
    const value = asNumber(s.value);
    if (value === undefined) return [];
    const key = this.def.perKey === false ? '*' : s.key;
    const w = boundedGet(this.windows, key, () => []);
    w.push({ time: s.time, value, sources: s.sources });
    if (this.def.size !== undefined) {
      const from = s.time - this.def.size * 1000;
      let drop = 0;
      while (drop < w.length && w[drop]!.time <= from) drop++;
      if (drop) w.splice(0, drop);
    }
    const max = Math.min(this.def.count ?? MAX_WINDOW, MAX_WINDOW);
    if (w.length > max) w.splice(0, w.length - max);
    let members = w;
    if (this.def.outliers) {
      const keep = madKeep(w.map((m) => m.value), this.def.outliers.mad);
      members = w.filter((_, i) => keep[i]);
    }
    if (members.length < (this.def.minSamples ?? 1)) return [];
    if (this.def.emitEvery) {
      const last = this.emitted.get(key);
      if (last !== undefined && s.time - last < this.def.emitEvery * 1000) return [];
      if (last === undefined && this.emitted.size >= MAX_KEYS) this.emitted.delete(this.emitted.keys().next().value!);
      this.emitted.set(key, s.time);
    }
    const start = this.def.size !== undefined ? s.time - this.def.size * 1000 : w[0]!.time;
    return [{
      key,
      time: s.time,
      thing: s.thing,
      value: aggregate(members.map((m) => m.value), this.def.aggregates),
      fields: s.fields,
      sources: union(members),
      window: { start, end: s.time, count: members.length },
    }];
  }
}

/** Drops a sample whose value is an outlier (modified z-score over the last `over` values of its key). */
class OutlierOperator implements Operator {
  private readonly history = new Map<string, number[]>();
  constructor(private readonly def: Def<'outliers'>) {}

  process(s: Sample): Sample[] {
    const value = asNumber(s.value);
    if (value === undefined) return [];
    const h = boundedGet(this.history, s.key, () => []);
    h.push(value);
    if (h.length > this.def.over) h.shift();
    if (h.length < (this.def.minSamples ?? Math.min(this.def.over, 5))) return [s];
    return madKeep(h, this.def.threshold).at(-1) ? [s] : [];
  }
}

/** Joins two streams by key: a sample meets the other stream's latest sample of its key within `within` seconds, once. */
class JoinOperator implements Operator {
  private readonly sides = [new Map<string, Sample>(), new Map<string, Sample>()];
  constructor(private readonly def: Def<'join'>) {}

  process(s: Sample, from: string): Sample[] {
    const side = this.def.from[0] === from ? 0 : 1;
    const other = this.sides[1 - side]!;
    const match = other.get(s.key);
    if (match && Math.abs(s.time - match.time) <= this.def.within * 1000) {
      other.delete(s.key);
      const [left, right] = side === 0 ? [s, match] : [match, s];
      return [{ key: s.key, time: Math.max(left.time, right.time), thing: s.thing, value: { left: left.value, right: right.value, dt: (right.time - left.time) / 1000 }, fields: { left: left.fields, right: right.fields }, sources: union([left, right]) }];
    }
    const mine = this.sides[side]!;
    mine.delete(s.key);
    if (mine.size >= MAX_KEYS) mine.delete(mine.keys().next().value!);
    mine.set(s.key, s);
    return [];
  }
}

/** Fuses the latest sample of each stream (none older than maxAge) into one value: mean, weighted, min, max, expression. */
class FusionOperator implements Operator {
  private readonly latest = new Map<string, Sample>();
  constructor(private readonly def: Def<'fusion'>, private readonly expression?: CompiledExpression) {}

  async process(s: Sample, from: string): Promise<Sample[]> {
    this.latest.set(from, s);
    const parts: Array<[string, Sample]> = [];
    for (const f of this.def.from) {
      const p = this.latest.get(f);
      if (!p || (this.def.maxAge !== undefined && s.time - p.time > this.def.maxAge * 1000)) return [];
      parts.push([f, p]);
    }
    let value: unknown;
    if (this.def.method === 'expression') {
      value = await this.expression!.evaluate(Object.fromEntries(parts.map(([f, p]) => [f, p.value])), { sample: expressionInput(s) });
    } else {
      const nums = parts.map(([f, p]) => [f, asNumber(p.value)] as const);
      if (nums.some(([, v]) => v === undefined)) return [];
      const vs = nums.map(([, v]) => v!);
      if (this.def.method === 'mean') value = vs.reduce((a, b) => a + b, 0) / vs.length;
      else if (this.def.method === 'min') value = Math.min(...vs);
      else if (this.def.method === 'max') value = Math.max(...vs);
      else {
        const w = nums.map(([f]) => this.def.weights![f]!);
        const total = w.reduce((a, b) => a + b, 0);
        if (total === 0) return [];
        value = vs.reduce((a, v, i) => a + v * w[i]!, 0) / total;
      }
    }
    if (value === undefined) return [];
    return [{ key: '*', time: s.time, thing: s.thing, value, fields: Object.fromEntries(parts.map(([f, p]) => [f, p.value])), sources: union(parts.map(([, p]) => p)) }];
  }
}

/** The Cookie travel-time sensor over two detection streams (hub/virtual/travel-time.ts). */
class TravelTimeOperator implements Operator {
  readonly link: TravelTimeLink;
  constructor(private readonly def: Def<'travel-time'>) {
    this.link = new TravelTimeLink(def);
  }

  process(s: Sample, from: string): Sample[] {
    const mac = typeof s.fields.mac === 'string' ? s.fields.mac : typeof s.value === 'string' ? s.value : undefined;
    if (!mac) return [];
    const diac = typeof s.fields.diac === 'string' ? s.fields.diac : undefined;
    const rssi = asNumber(s.fields.rssi);
    const side = from === this.def.origin ? 'origin' : 'destination';
    const e = this.link.detect(side, { mac, time: s.time, ...(rssi !== undefined ? { rssi } : {}), ...(diac !== undefined ? { diac } : {}), ...(s.sources[0] ? { source: s.sources[0] } : {}) });
    if (!e) return [];
    const { valid, ...value } = e;
    return [{
      key: this.def.link,
      time: e.end,
      thing: s.thing,
      value: { ...value, link: this.def.link },
      fields: { estimate: e, counters: { ...this.link.counters } },
      sources: union(valid),
      window: { start: e.start, end: e.end, count: e.pairs, pairs: true },
    }];
  }
}

/** Weighs a travel-time step's estimates by the origin radar's counts (the Cookie weighted-travel-time type). */
class WeightedOperator implements Operator {
  private readonly weighted: WeightedTravelTimeLink;
  constructor(private readonly def: Def<'weighted-travel-time'>) {
    this.weighted = new WeightedTravelTimeLink(def.link ?? 'link', def.period ?? 60);
  }

  process(s: Sample, from: string): Sample[] {
    if (from === this.def.counts) {
      const n = asNumber(s.fields.count ?? s.value);
      if (n !== undefined) this.weighted.count(s.time, n);
      return [];
    }
    const e = s.fields.estimate as TravelTimeEstimate | undefined;
    if (!e) return [];
    const link = this.def.link ?? String((s.value as { link?: unknown })?.link ?? 'link');
    const { seq, ...w } = this.weighted.weigh(e);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    const payload = { minute: w.minute, link, interval: w.interval, travelTime: r(w.travelTime), ci: r(w.ci), vehicles: w.vehicles };
    // The Cookie forms of the message (COOKIE.md): JSON map and serial string, device = the link, sensor 2.
    const json = { device: link, sensor: 2, type: 'weighted-travel-time', action: 'data' as const, seq: seq % 0x1_0000_0000, payload };
    let serial: string | undefined;
    try {
      serial = encodeSerial(json);
    } catch {
      serial = undefined; // a link id the serial header cannot carry: the JSON form only
    }
    return [{ key: link, time: s.time, thing: s.thing, value: payload, fields: { json, ...(serial ? { serial } : {}) }, sources: s.sources, ...(s.window ? { window: s.window } : {}) }];
  }
}
