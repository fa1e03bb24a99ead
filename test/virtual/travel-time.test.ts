// The Cookie travel-time sensor on constructed detections whose travel times are known, and its weighted travel time.
import { describe, expect, it } from 'vitest';
import { decodeSerial } from '../../hub/bindings/cookie/codec.ts';
import { compileStream, validateDefinition, type StreamDefinition } from '../../hub/virtual/definition.ts';
import type { Sample } from '../../hub/virtual/operators.ts';
import { StreamSensor, type Publication } from '../../hub/virtual/stream-sensor.ts';
import { TravelTimeLink, WeightedTravelTimeLink, type Detection, type TravelTimeEstimate } from '../../hub/virtual/travel-time.ts';

const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);
const CAR = '200408'; // hands-free kit: major Audio/Video, minor Hands-free
const PHONE = '5A020C'; // a smartphone

interface Trip { mac: string; diac: string; at: number; tt: number }
/** 20 cars 30 s apart, travel times 60, 62, ... 98 s; three inquiries per pass, strongest at the pass. */
const cars: Trip[] = Array.from({ length: 20 }, (_, i) => ({ mac: `00:11:22:33:44:${i.toString(16).padStart(2, '0')}`, diac: CAR, at: T0 + i * 30_000, tt: 60 + 2 * i }));

function detections(trips: Trip[]): Array<['origin' | 'destination', Detection]> {
  const out: Array<['origin' | 'destination', Detection]> = [];
  for (const t of trips) {
    for (const [side, at] of [['origin', t.at], ['destination', t.at + t.tt * 1000]] as const) {
      out.push([side, { mac: t.mac, diac: t.diac, time: at - 1500, rssi: -82 }], [side, { mac: t.mac, diac: t.diac, time: at, rssi: -58 }], [side, { mac: t.mac, diac: t.diac, time: at + 1400, rssi: -77 }]);
    }
  }
  return out.sort((a, b) => a[1].time - b[1].time);
}

function run(link: TravelTimeLink, trips: Trip[]): TravelTimeEstimate[] {
  const out: TravelTimeEstimate[] = [];
  for (const [side, d] of detections(trips)) {
    const e = link.detect(side, d);
    if (e) out.push(e);
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('travel time per link from two BT scanners', () => {
  it('pairs MACs seen at both ends, places each pass at its strongest detection, publishes from 15 valid pairs', () => {
    const link = new TravelTimeLink({ window: 3600, every: 0, passGap: 10 });
    const estimates = run(link, cars);
    // a pair counts once its destination pass is settled (10 s without a detection): the 15th car's pass is, at the
    // 16th car's first destination detection
    expect(estimates[0]!.pairs).toBe(15);
    expect(estimates[0]!.end).toBe(cars[15]!.at + cars[15]!.tt * 1000 - 1500);
    expect(estimates[0]!.travelTime).toBeCloseTo(mean(cars.slice(0, 15).map((c) => c.tt)), 9);
    expect(estimates.at(-1)!.pairs).toBe(19);
    const last = link.estimate(cars[19]!.at + cars[19]!.tt * 1000 + 60_000)!;
    expect(last.pairs).toBe(20);
    expect(last.travelTime).toBeCloseTo(79, 9);
    expect(last.median).toBeCloseTo(79, 9);
    // ci: 1.96 * sd / sqrt(n) of 60..98 step 2 (sd = 11.832)
    expect(last.ci).toBeCloseTo((1.96 * Math.sqrt(cars.reduce((s, c) => s + (c.tt - 79) ** 2, 0) / 19)) / Math.sqrt(20), 9);
    expect(link.counters).toMatchObject({ detections: 120, nonVehicle: 0, pairs: 20 });
  });

  it('keeps vehicle classes only, and drops an incoherent speed (a car that stopped) by speed bounds or by MAD', () => {
    const phone: Trip = { mac: 'AA:BB:CC:DD:EE:01', diac: PHONE, at: T0 + 100_000, tt: 75 };
    const stopped: Trip = { mac: 'AA:BB:CC:DD:EE:02', diac: CAR, at: T0 + 200_000, tt: 900 };
    const onlyOrigin: Trip = { ...cars[0]!, mac: 'AA:BB:CC:DD:EE:03', at: T0 + 5000, tt: 1e6 };
    for (const options of [{ lengthM: 1000, minKmh: 10, maxKmh: 130 }, {}]) {
      const link = new TravelTimeLink({ window: 7200, every: 0, ...options });
      run(link, [...cars, phone, stopped, onlyOrigin]);
      const last = link.estimate(T0 + 3_600_000)!;
      expect(last.travelTime).toBeCloseTo(79, 9);
      expect(last.pairs).toBe(20);
      expect(last.candidates).toBe(21); // the stopped car paired, then dropped
      expect(link.counters.nonVehicle).toBe(6);
    }
  });

  it('publishes nothing under 15 valid pairs, and only pairs inside the window count', () => {
    expect(run(new TravelTimeLink({ every: 0 }), cars.slice(0, 14))).toEqual([]);
    // a 300 s window holds the destination passes of the last ~10 cars only: never 15
    expect(run(new TravelTimeLink({ window: 300, every: 0 }), cars)).toEqual([]);
    const small = run(new TravelTimeLink({ window: 300, minPairs: 5, every: 0, passGap: 10 }), cars).at(-1)!;
    const end = small.end;
    const inWindow = cars.filter((c) => c.at + c.tt * 1000 > end - 300_000 && c.at + c.tt * 1000 + 1400 <= end - 10_000);
    expect(small.pairs).toBe(inWindow.length);
    expect(small.travelTime).toBeCloseTo(mean(inWindow.map((c) => c.tt)), 9);
  });

  it('publishes at most once per `every` seconds of data time', () => {
    const estimates = run(new TravelTimeLink({ window: 3600, every: 60 }), cars);
    for (let i = 1; i < estimates.length; i++) expect(estimates[i]!.end - estimates[i - 1]!.end).toBeGreaterThanOrEqual(60_000);
    expect(estimates.length).toBeGreaterThan(1);
  });
});

describe('weighted travel time (BT pairs weighted by the origin radar counts)', () => {
  const pair = (origin: number, tt: number) => ({ mac: String(origin), origin, destination: origin + tt * 1000, travelTime: tt, sources: [] });
  const estimate = (valid: ReturnType<typeof pair>[]): TravelTimeEstimate => ({ travelTime: mean(valid.map((p) => p.travelTime)), median: 0, ci: 0, pairs: valid.length, candidates: valid.length, interval: 900, start: T0, end: T0 + 600_000, valid });

  it('weighs each radar period by its traffic: (10 x 100 + 30 x 200) / 40 = 175 s, not the sample mean 150 s', () => {
    const w = new WeightedTravelTimeLink('a-b', 60);
    w.count(T0 + 60_000, 10); // period [T0, T0+60s): 10 vehicles
    w.count(T0 + 120_000, 30); // period [T0+60s, T0+120s): 30 vehicles
    const out = w.weigh(estimate([pair(T0 + 5000, 100), pair(T0 + 40_000, 100), pair(T0 + 65_000, 200), pair(T0 + 90_000, 200)]));
    expect(out).toMatchObject({ link: 'a-b', interval: 900, vehicles: 40, minute: 8 * 60 + 10 });
    expect(out.travelTime).toBeCloseTo(175, 9);
    // standard error of the weighted mean: weights 5, 5, 15, 15
    expect(out.ci).toBeCloseTo((1.96 * Math.sqrt(2 * 25 * 75 ** 2 + 2 * 225 * 25 ** 2)) / 40, 9);
  });

  it('a period without a count yet weighs as its pairs (n = k): the plain mean', () => {
    const out = new WeightedTravelTimeLink('a-b').weigh(estimate([pair(T0, 100), pair(T0 + 70_000, 200)]));
    expect(out.travelTime).toBeCloseTo(150, 9);
    expect(out.vehicles).toBe(2);
  });
});

describe('the travel-time and weighted-travel-time operators in a definition', () => {
  const definition = validateDefinition({
    model: 'weighted-travel-time',
    inputs: {
      origin: { thing: 'urn:x:a:bt', property: 'mac', observation: 'btDetection' },
      destination: { thing: 'urn:x:b:bt', property: 'mac', observation: 'btDetection' },
      radar: { thing: 'urn:x:a:radar', property: 'count', observation: 'vehicleCount' },
    },
    operators: [
      { id: 'tt', op: 'travel-time', origin: 'origin', destination: 'destination', link: 'a-b', window: 3600, every: 0, passGap: 10, lengthM: 1000, minKmh: 10, maxKmh: 130 },
      { id: 'wtt', op: 'weighted-travel-time', from: 'tt', counts: 'radar', link: 'a-b', period: 60 },
    ],
    outputs: { travelTime: { from: 'wtt', select: 'travelTime', unit: 'qudt:SEC' }, vehicles: { from: 'wtt', select: 'vehicles', type: 'integer' }, link: { from: 'wtt', select: 'link', type: 'string' } },
  }) as StreamDefinition;

  it('turns detection and count samples into weighted travel times with their Cookie serial form', async () => {
    const published: Publication[] = [];
    const sensor = new StreamSensor(compileStream(definition), { observationIri: (t, m, p) => `urn:obs:${t}/${m}/${p}`, publish: (p) => void published.push(p) });
    const sample = (thing: string, time: number, fields: Record<string, unknown>, value: unknown): Sample => ({ key: thing, time, value, thing, fields, sources: [`urn:obs:${thing}/${time}`] });
    // every radar period of the 20 cars counts 4 vehicles (twice the BT pairs in it)
    for (let p = T0; p < T0 + 700_000; p += 60_000) sensor.push('radar', sample('urn:x:a:radar', p + 60_000, { count: 4 }, 4));
    for (const [side, d] of detections(cars)) sensor.push(side, sample(side === 'origin' ? 'urn:x:a:bt' : 'urn:x:b:bt', d.time, { mac: d.mac, diac: d.diac, rssi: d.rssi }, d.mac));
    await sensor.settled();
    expect(sensor.counters.errors).toBe(0);
    const last = published.at(-1)!;
    // equal counts per period but 1 or 2 pairs per period: the weighted mean differs from 79
    const byPeriod = new Map<number, number[]>();
    for (const c of cars.slice(0, 19)) byPeriod.set(Math.floor((c.at - T0) / 60_000), [...(byPeriod.get(Math.floor((c.at - T0) / 60_000)) ?? []), c.tt]);
    const expected = [...byPeriod.values()].reduce((s, tts) => s + 4 * mean(tts), 0) / (4 * byPeriod.size);
    expect(last.values.travelTime).toBeCloseTo(expected, 2);
    expect(last.values.vehicles).toBe(4 * byPeriod.size);
    expect(last.values.link).toBe('a-b');
    const serial = last.sample.fields.serial as string;
    const decoded = decodeSerial(serial);
    expect(decoded).toMatchObject({ device: 'a-b', sensor: 2, type: 'weighted-travel-time', action: 'data', payload: { link: 'a-b', vehicles: 4 * byPeriod.size, interval: 3600 } });
    expect((decoded.payload as { travelTime: number }).travelTime).toBeCloseTo(expected, 2);
    // the last car's destination pass is not settled at the last detection: 19 pairs
    expect(last.sample.window).toMatchObject({ count: 19 });
    expect(last.sample.sources.length).toBeGreaterThan(19);
  });
});
