// The Cookie paper's travel-time sensor (Mujica et al. 2018, §5.1) and its weighted travel time (§5.3) as pure state machines.
//
// Travel time per link: Bluetooth detections at the origin and destination scanners; only vehicle devices (DIAC class of
// a hands-free kit or car audio); a pass is a MAC's detections at one scanner with gaps under `passGap` and is placed
// at its strongest detection (closest to the antenna); a pair is an origin pass followed by a destination pass of the
// same MAC within `maxTrip`; pairs whose speed is incoherent (outside [minKmh, maxKmh] over lengthM, then outliers by the
// median absolute deviation) are dropped; a travel time is published only from >= minPairs valid pairs in the window.
// Time is the data's (detection times), never the wall clock: replays and simulations give the same answers.
import { isVehicleClass } from '../bindings/cookie/shadows.ts';
import { madKeep, median } from './stats.ts';

export interface Detection {
  mac: string;
  /** Epoch ms of the detection (the message's time). */
  time: number;
  rssi?: number;
  diac?: string;
  /** The detection's observation IRI (provenance). */
  source?: string;
}

export interface TravelTimeOptions {
  /** Seconds of destination passes in one estimate (default 900). */
  window?: number;
  minPairs?: number;
  maxTrip?: number;
  /** A MAC's detections at one scanner with gaps under this many seconds are one pass (default 30); a pass is settled after it. */
  passGap?: number;
  lengthM?: number;
  minKmh?: number;
  maxKmh?: number;
  /** Modified z-score threshold of the MAD filter (default 3.5). */
  mad?: number;
  /** At most one estimate per this many seconds of data time (default 60; 0: on every new pair). */
  every?: number;
}

export interface ValidPair {
  mac: string;
  /** Epoch ms at origin and destination. */
  origin: number;
  destination: number;
  travelTime: number;
  sources: string[];
}

export interface TravelTimeEstimate {
  /** Mean travel time of the valid pairs, s. */
  travelTime: number;
  median: number;
  /** Half-width of the 95 % confidence interval of the mean (1.96 s / sqrt(n)), s. */
  ci: number;
  /** Valid pairs behind the estimate, and the candidates before the speed and MAD filters. */
  pairs: number;
  candidates: number;
  /** The window, s, and its bounds (epoch ms, by destination pass). */
  interval: number;
  start: number;
  end: number;
  valid: ValidPair[];
}

export interface TravelTimeCounters {
  detections: number;
  /** Detections of non-vehicle classes (dropped). */
  nonVehicle: number;
  /** Origin-destination pairs made (the paper's "double detections"). */
  pairs: number;
  /** Estimates published. */
  published: number;
}

interface Pass {
  first: number;
  last: number;
  best: number;
  bestRssi: number;
  sources: string[];
}

const MAX_PASSES_PER_MAC = 4;
const MAX_MACS = 200_000;
const MAX_SOURCES_PER_PASS = 8;

export class TravelTimeLink {
  readonly counters: TravelTimeCounters = { detections: 0, nonVehicle: 0, pairs: 0, published: 0 };
  private readonly passes = { origin: new Map<string, Pass[]>(), destination: new Map<string, Pass[]>() };
  /** Destination pass -> its origin pass, by MAC. */
  private readonly pairs = new Map<Pass, { mac: string; origin: Pass }>();
  private now = -Infinity;
  private lastEmit = -Infinity;
  private readonly o: Required<Omit<TravelTimeOptions, 'lengthM' | 'minKmh' | 'maxKmh'>> & Pick<TravelTimeOptions, 'lengthM' | 'minKmh' | 'maxKmh'>;

  constructor(options: TravelTimeOptions = {}) {
    this.o = { window: 900, minPairs: 15, maxTrip: 3600, passGap: 30, mad: 3.5, every: 60, ...options };
  }

  /** Takes one detection; returns an estimate when one is due (enough valid pairs, `every` elapsed in data time). */
  detect(side: 'origin' | 'destination', d: Detection): TravelTimeEstimate | undefined {
    if (typeof d.mac !== 'string' || !Number.isFinite(d.time)) return undefined;
    this.counters.detections += 1;
    if (d.diac !== undefined && isVehicleClass(d.diac) !== true) {
      this.counters.nonVehicle += 1;
      return undefined;
    }
    const mac = d.mac.toUpperCase();
    const pass = this.addToPass(side, mac, d);
    if (d.time > this.now) this.now = d.time;
    if (side === 'origin') {
      // A destination pass heard before its origin: two scanners' messages need not arrive in time order.
      let paired = false;
      for (const dest of this.passes.destination.get(mac) ?? []) {
        if (this.pairs.has(dest) || dest.best <= pass.best || dest.best - pass.best > this.o.maxTrip * 1000) continue;
        this.pairs.set(dest, { mac, origin: pass });
        this.counters.pairs += 1;
        paired = true;
      }
      if (!paired) return undefined;
    } else if (!this.pairs.has(pass)) {
      const origin = (this.passes.origin.get(mac) ?? []).filter((p) => p.best < pass.best && pass.best - p.best <= this.o.maxTrip * 1000).at(-1);
      if (!origin) return undefined;
      this.pairs.set(pass, { mac, origin });
      this.counters.pairs += 1;
    }
    this.prune();
    if (this.now - this.lastEmit < this.o.every * 1000) return undefined;
    const e = this.estimate();
    if (e) {
      this.lastEmit = this.now;
      this.counters.published += 1;
    }
    return e;
  }

  /**
   * The estimate over the window ending at `end` (default: the latest detection), or undefined under minPairs valid
   * pairs. A pair counts once its destination pass is settled (no detection for passGap seconds), so its place (the
   * strongest detection) is final and an estimate never uses a provisional pass time.
   */
  estimate(end = this.now): TravelTimeEstimate | undefined {
    const start = end - this.o.window * 1000;
    const settled = end - this.o.passGap * 1000;
    let candidates: ValidPair[] = [];
    for (const [dest, { mac, origin }] of this.pairs) {
      if (dest.best <= start || dest.best > end || dest.last > settled) continue;
      candidates.push({ mac, origin: origin.best, destination: dest.best, travelTime: (dest.best - origin.best) / 1000, sources: [...origin.sources, ...dest.sources] });
    }
    const all = candidates.length;
    const { lengthM, minKmh, maxKmh } = this.o;
    if (lengthM !== undefined) {
      candidates = candidates.filter((p) => {
        const kmh = (lengthM / p.travelTime) * 3.6;
        return kmh >= (minKmh ?? 0) && kmh <= (maxKmh ?? Infinity);
      });
    }
    const keep = madKeep(candidates.map((p) => p.travelTime), this.o.mad);
    const valid = candidates.filter((_, i) => keep[i]).sort((a, b) => a.destination - b.destination);
    if (valid.length < this.o.minPairs) return undefined;
    const tt = valid.map((p) => p.travelTime);
    const mean = tt.reduce((s, v) => s + v, 0) / tt.length;
    const sd = tt.length < 2 ? 0 : Math.sqrt(tt.reduce((s, v) => s + (v - mean) ** 2, 0) / (tt.length - 1));
    return { travelTime: mean, median: median([...tt].sort((a, b) => a - b)), ci: (1.96 * sd) / Math.sqrt(tt.length), pairs: valid.length, candidates: all, interval: this.o.window, start, end, valid };
  }

  private addToPass(side: 'origin' | 'destination', mac: string, d: Detection): Pass {
    const bySide = this.passes[side];
    let list = bySide.get(mac);
    if (!list) {
      if (bySide.size >= MAX_MACS) bySide.delete(bySide.keys().next().value!);
      bySide.set(mac, (list = []));
    }
    const rssi = typeof d.rssi === 'number' && Number.isFinite(d.rssi) ? d.rssi : -Infinity;
    let pass = list.find((p) => d.time >= p.first - this.o.passGap * 1000 && d.time <= p.last + this.o.passGap * 1000);
    if (!pass) {
      pass = { first: d.time, last: d.time, best: d.time, bestRssi: rssi, sources: [] };
      list.push(pass);
      list.sort((a, b) => a.first - b.first);
      if (list.length > MAX_PASSES_PER_MAC) {
        const gone = list.shift()!;
        this.pairs.delete(gone);
      }
    } else {
      pass.first = Math.min(pass.first, d.time);
      pass.last = Math.max(pass.last, d.time);
      // The strongest detection places the pass; equal strength: the earlier one.
      if (rssi > pass.bestRssi || (rssi === pass.bestRssi && d.time < pass.best)) {
        pass.best = d.time;
        pass.bestRssi = rssi;
      }
    }
    if (d.source && pass.sources.length < MAX_SOURCES_PER_PASS) pass.sources.push(d.source);
    return pass;
  }

  /** Forgets passes and pairs older than a window plus a trip before the latest detection. */
  private prune(): void {
    const horizon = this.now - (this.o.window + this.o.maxTrip) * 1000;
    for (const dest of this.pairs.keys()) if (dest.best < horizon) this.pairs.delete(dest);
    for (const bySide of [this.passes.origin, this.passes.destination]) {
      if (bySide.size < 1024) continue;
      for (const [mac, list] of bySide) if (list.every((p) => p.last < horizon)) bySide.delete(mac);
    }
  }
}

export interface WeightedTravelTime {
  /** Minute of day (UTC) of the estimate's end. */
  minute: number;
  link: string;
  interval: number;
  travelTime: number;
  ci: number;
  /** Vehicles counted by the origin's radar over the periods the valid pairs started in. */
  vehicles: number;
}

/**
 * The weighted travel time: the Bluetooth pairs are a sample of the traffic, the origin radar counts all of it. Each
 * radar period p with k_p valid pairs and n_p counted vehicles gives the pairs that started in it the weight n_p / k_p,
 * so the estimate is sum_p n_p mean_p / sum_p n_p (a busy minute weighs as its traffic); a period without a count
 * yet weighs as its pairs (n_p = k_p). ci: 1.96 times the standard error of the weighted mean.
 */
export class WeightedTravelTimeLink {
  private readonly counts = new Map<number, number>();
  private seq = 0;

  constructor(private readonly link: string, private readonly periodS = 60) {}

  /** A radar count: `time` (epoch ms) ends its period. */
  count(time: number, count: number): void {
    if (!Number.isFinite(time) || !Number.isFinite(count) || count < 0) return;
    const p = this.periodOf(time - 1);
    this.counts.set(p, count);
    if (this.counts.size > 10_000) this.counts.delete(this.counts.keys().next().value!);
  }

  weigh(e: TravelTimeEstimate): WeightedTravelTime & { seq: number } {
    const byPeriod = new Map<number, ValidPair[]>();
    for (const p of e.valid) {
      const k = this.periodOf(p.origin);
      byPeriod.set(k, [...(byPeriod.get(k) ?? []), p]);
    }
    let wsum = 0;
    let num = 0;
    const weights: Array<[number, number]> = [];
    for (const [period, pairs] of byPeriod) {
      const n = this.counts.get(period) ?? pairs.length;
      const w = n / pairs.length;
      for (const p of pairs) {
        weights.push([w, p.travelTime]);
        wsum += w;
        num += w * p.travelTime;
      }
    }
    const mean = wsum > 0 ? num / wsum : e.travelTime;
    const se = wsum > 0 ? Math.sqrt(weights.reduce((s, [w, t]) => s + w * w * (t - mean) ** 2, 0)) / wsum : 0;
    const periods = [...byPeriod.keys()];
    let vehicles = 0;
    if (periods.length) for (let p = Math.min(...periods); p <= Math.max(...periods); p++) vehicles += this.counts.get(p) ?? byPeriod.get(p)?.length ?? 0;
    const d = new Date(e.end);
    return { minute: d.getUTCHours() * 60 + d.getUTCMinutes(), link: this.link, interval: e.interval, travelTime: mean, ci: 1.96 * se, vehicles, seq: this.seq++ };
  }

  private periodOf(ms: number): number {
    return Math.floor(ms / (this.periodS * 1000));
  }
}
