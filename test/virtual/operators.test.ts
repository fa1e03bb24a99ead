// Operators of stream virtual sensors (windows per key, percentiles, MAD outliers, join, fusion, filter/map), the
// statistics behind them, bounded expressions at run time, and the definition checks the fuzzer exercises.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileStream, DefinitionError, validateDefinition, type StreamDefinition } from '../../hub/virtual/definition.ts';
import { compileExpression } from '../../hub/virtual/expression.ts';
import type { Sample } from '../../hub/virtual/operators.ts';
import { aggregate, mad, madKeep, quantile } from '../../hub/virtual/stats.ts';
import { StreamSensor, type Publication } from '../../hub/virtual/stream-sensor.ts';
import { MAX_LISTED_MEMBERS, outputEnvelope } from '../../hub/virtual/publish.ts';
import { virtualTarget } from '../fuzz/targets/virtual.ts';

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const sample = (value: unknown, i: number, key = 'k', fields: Record<string, unknown> = {}): Sample => ({ key, time: T0 + i * 1000, value, thing: `urn:x:${key}`, fields, sources: [`urn:obs:${key}:${i}`] });

async function runSensor(def: Record<string, unknown>, feed: Array<[string, Sample]>): Promise<{ published: Publication[]; sensor: StreamSensor }> {
  const published: Publication[] = [];
  const sensor = new StreamSensor(compileStream(validateDefinition(def) as StreamDefinition), { observationIri: () => 'urn:o', publish: (p) => void published.push(p) });
  for (const [stream, s] of feed) sensor.push(stream, s);
  await sensor.settled();
  return { published, sensor };
}

describe('statistics', () => {
  it('percentiles interpolate linearly between ranks (numpy/R type 7)', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(xs, 0.5)).toBe(5.5);
    expect(quantile(xs, 0.9)).toBeCloseTo(9.1, 12);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(10);
    expect(aggregate([4, 1, 3, 2], ['avg', 'min', 'max', 'sum', 'count', 'median', 'p25', 'stddev'])).toEqual({ avg: 2.5, min: 1, max: 4, sum: 10, count: 4, median: 2.5, p25: 1.75, stddev: Math.sqrt(5 / 3) });
  });

  it('MAD: the modified z-score drops a far value and keeps the spread', () => {
    expect(mad([1, 2, 3, 4, 100])).toEqual({ median: 3, mad: 1 });
    expect(madKeep([10, 11, 9, 10, 12, 50], 3.5)).toEqual([true, true, true, true, true, false]);
    // over half the values equal (MAD 0): the mean absolute deviation stands in; all equal: everything is kept
    expect(madKeep([5, 5, 5, 5, 6, 40], 3.5)).toEqual([true, true, true, true, true, false]);
    expect(madKeep([5, 5, 5], 3.5)).toEqual([true, true, true]);
  });
});

describe('operators', () => {
  it('time windows per key with aggregates and a minimum sample count', async () => {
    const feed: Array<[string, Sample]> = [];
    for (let i = 0; i < 10; i++) feed.push(['t', sample(i, i, i % 2 ? 'odd' : 'even')]);
    const { published } = await runSensor({
      inputs: { t: { thing: 'urn:x:1' } },
      operators: [{ id: 'w', op: 'window', from: 't', size: 4.5, aggregates: ['avg', 'count', 'p50'], minSamples: 2 }],
      outputs: { avg: { from: 'w', select: 'avg' }, n: { from: 'w', select: 'count' } },
    }, feed);
    // from the second sample of each key on; a 4.5 s window holds that key's samples of the last 4.5 s (2 or 3)
    expect(published.map((p) => [p.sample.key, p.values.avg, p.values.n])).toEqual([
      ['even', 1, 2], ['odd', 2, 2], ['even', 2, 3], ['odd', 3, 3], ['even', 4, 3], ['odd', 5, 3], ['even', 6, 3], ['odd', 7, 3],
    ]);
    expect(published.at(-1)!.sample.window).toEqual({ start: T0 + 9000 - 4500, end: T0 + 9000, count: 3 });
    expect(published.at(-1)!.sample.sources).toEqual(['urn:obs:odd:9', 'urn:obs:odd:7', 'urn:obs:odd:5']);
  });

  it('count windows with MAD outlier removal inside the window', async () => {
    const values = [20, 21, 19, 20, 95, 21];
    const { published } = await runSensor({
      inputs: { t: { thing: 'urn:x:1' } },
      operators: [{ id: 'w', op: 'window', from: 't', count: 6, aggregates: ['max', 'count'], outliers: { mad: 3.5 }, minSamples: 5 }],
      outputs: { max: { from: 'w', select: 'max' }, n: { from: 'w', select: 'count', type: 'integer' } },
    }, values.map((v, i) => ['t', sample(v, i)]));
    expect(published.map((p) => p.values)).toEqual([{ max: 21, n: 5 }]);
  });

  it('the outliers operator drops a sample far from the recent ones of its key', async () => {
    const values = [10, 11, 10, 12, 11, 10, 60, 11];
    const { published } = await runSensor({
      inputs: { t: { thing: 'urn:x:1' } },
      operators: [{ id: 'o', op: 'outliers', from: 't', over: 20, threshold: 3.5, minSamples: 5 }],
      outputs: { v: { from: 'o' } },
    }, values.map((v, i) => ['t', sample(v, i)]));
    expect(published.map((p) => p.values.v)).toEqual([10, 11, 10, 12, 11, 10, 11]);
  });

  it('joins two streams by key within a time window, each sample once', async () => {
    const feed: Array<[string, Sample]> = [
      ['a', sample('A1', 0, 'mac1')], ['a', sample('A2', 1, 'mac2')], ['b', sample('B1', 30, 'mac1')], ['b', sample('B2', 200, 'mac2')], ['b', sample('B1again', 31, 'mac1')],
    ];
    const { published } = await runSensor({
      inputs: { a: { thing: 'urn:x:a', key: 'mac' }, b: { thing: 'urn:x:b', key: 'mac' } },
      operators: [{ id: 'j', op: 'join', from: ['a', 'b'], within: 60 }],
      outputs: { dt: { from: 'j', expression: 'value.dt' }, pair: { from: 'j', expression: 'value.left & "-" & value.right', type: 'string' } },
    }, feed);
    // mac2 is 199 s apart (outside 60 s); mac1's second B has no A left to pair with
    expect(published.map((p) => p.values)).toEqual([{ dt: 30, pair: 'A1-B1' }]);
    expect(published[0]!.sample.sources).toEqual(['urn:obs:mac1:0', 'urn:obs:mac1:30'].reverse());
  });

  it('fuses the latest samples of several streams (mean, weighted, expression), none older than maxAge', async () => {
    const def = (fusion: Record<string, unknown>) => ({
      inputs: { a: { thing: 'urn:x:a' }, b: { thing: 'urn:x:b' } },
      operators: [{ id: 'f', op: 'fusion', from: ['a', 'b'], maxAge: 10, ...fusion }],
      outputs: { v: { from: 'f' } },
    });
    const feed: Array<[string, Sample]> = [['a', sample(10, 0)], ['b', sample(20, 1)], ['a', sample(12, 2)], ['b', sample(30, 20)]];
    expect((await runSensor(def({ method: 'mean' }), feed)).published.map((p) => p.values.v)).toEqual([15, 16]);
    expect((await runSensor(def({ method: 'weighted', weights: { a: 3, b: 1 } }), feed)).published.map((p) => p.values.v)).toEqual([12.5, 14]);
    expect((await runSensor(def({ method: 'expression', expression: '$max([a, b]) - $min([a, b])' }), feed)).published.map((p) => p.values.v)).toEqual([10, 8]);
  });

  it('a runaway expression is stopped by its time box, counted, and the sensor goes on', async () => {
    const { published, sensor } = await runSensor({
      inputs: { t: { thing: 'urn:x:1' } },
      operators: [{ id: 'slow', op: 'filter', from: 't', where: 'value > 5 or $sum([1..10000].($sum([1..10000]))) > 0' }],
      outputs: { v: { from: 'slow' } },
    }, [['t', sample(1, 0)], ['t', sample(9, 1)]]);
    expect(sensor.counters).toMatchObject({ samples: 2, published: 1, errors: 1 });
    expect(sensor.counters.lastError).toMatch(/ran for more than 100 ms/);
    expect(published.map((p) => p.values.v)).toEqual([9]);
  });

  it('a full queue drops and counts samples instead of growing', async () => {
    // $sum is not in the synchronous subset: each sample waits for JSONata, so a burst fills the queue.
    const sensor = new StreamSensor(compileStream(validateDefinition({ inputs: { t: { thing: 'x' } }, operators: [{ id: 'm', op: 'map', from: 't', expression: '$sum([value, 1])' }], outputs: { v: { from: 'm' } } }) as StreamDefinition), { observationIri: () => 'o', publish: () => {}, maxQueue: 10 });
    for (let i = 0; i < 50; i++) sensor.push('t', sample(i, i));
    await sensor.settled();
    expect(sensor.counters.dropped).toBeGreaterThanOrEqual(39);
    expect(sensor.counters.samples + sensor.counters.dropped).toBe(50);
  });

  it('a sample the synchronous subset answers is through its operators when push returns, in order with the others', async () => {
    const published: unknown[] = [];
    const def = { inputs: { t: { thing: 'x' } }, operators: [{ id: 'f', op: 'filter', from: 't', where: 'value > 2' }, { id: 'm', op: 'map', from: 'f', expression: 'value * 10' }, { id: 's', op: 'map', from: 'f', expression: '$sum([value, 1])' }], outputs: { v: { from: 'm' }, w: { from: 's' } } };
    const sensor = new StreamSensor(compileStream(validateDefinition(def) as StreamDefinition), { observationIri: () => 'o', publish: (p) => void published.push(p.values), maxQueue: 10 });
    sensor.push('t', sample(1, 0));
    sensor.push('t', sample(3, 1));
    // 3 passes the filter and 'm' at once; 's' needs JSONata, and the next sample waits for it.
    expect(published).toEqual([{ v: 30 }]);
    sensor.push('t', sample(4, 2));
    expect(published).toEqual([{ v: 30 }]);
    await sensor.settled();
    expect(published).toEqual([{ v: 30 }, { w: 4 }, { v: 40 }, { w: 5 }]);
    expect(sensor.counters).toMatchObject({ samples: 3, dropped: 0, errors: 0 });
  });
});

describe('definition checks', () => {
  const base = { inputs: { t: { thing: 'urn:x:1' } }, operators: [{ id: 'a', op: 'map', from: 't', expression: 'value' }], outputs: { v: { from: 'a' } } };
  const pointerOf = (doc: unknown): string => {
    try {
      const d = validateDefinition(doc);
      if (d.kind !== 'sparql') compileStream(d);
    } catch (e) {
      expect(e).toBeInstanceOf(DefinitionError);
      return (e as DefinitionError).extensions.pointer as string;
    }
    return 'accepted';
  };

  it('names the member of each mistake', () => {
    expect(pointerOf(base)).toBe('accepted');
    expect(pointerOf([])).toBe('');
    expect(pointerOf({ ...base, kind: 'magic' })).toBe('/kind');
    expect(pointerOf({ ...base, inputs: { t: { thing: 'x', things: ['y'] } } })).toBe('/inputs/t');
    expect(pointerOf({ ...base, inputs: { '1bad': { thing: 'x' } } })).toBe('/inputs/1bad');
    expect(pointerOf({ ...base, operators: [{ id: 'a', op: 'window', from: 't', aggregates: ['avg'] }] })).toBe('/operators/0');
    expect(pointerOf({ ...base, operators: [{ id: 'a', op: 'join', from: ['t'], within: 5 }] })).toBe('/operators/0/from');
    expect(pointerOf({ ...base, operators: [{ id: 'a', op: 'fusion', from: ['t', 't'], method: 'weighted', weights: { x: 1 } }] })).toBe('/operators/0/weights/t');
    expect(pointerOf({ ...base, outputs: { v: { from: 'zz' } } })).toBe('/outputs/v/from');
    expect(pointerOf({ ...base, outputs: { 'a/b': { from: 'a' } } })).toBe('/outputs/a~1b');
  });

  it('refuses cycles of operators, with the path', () => {
    const cyclic = { ...base, operators: [{ id: 'a', op: 'map', from: 'c', expression: 'value' }, { id: 'b', op: 'map', from: 'a', expression: 'value' }, { id: 'c', op: 'map', from: 'b', expression: 'value' }] };
    expect(() => compileStream(validateDefinition(cyclic) as StreamDefinition)).toThrow(/cycle: a -> c -> b -> a/);
    expect(pointerOf({ ...base, operators: [{ id: 'a', op: 'map', from: 'a', expression: 'value' }] })).toBe('/operators/0/from');
  });

  it('refuses unbounded expressions at compile time', () => {
    for (const e of ['$eval("1+1")', '/(a+)+$/', '[1..$count(fields)]', '$pad("x", 1e9)']) {
      expect(() => compileExpression(e, '/x')).toThrow(expect.objectContaining({ code: 'expression-not-allowed', extensions: { pointer: '/x' } }));
    }
    expect(() => compileExpression('x'.repeat(5000), '/x')).toThrow(expect.objectContaining({ code: 'expression-too-complex' }));
  });

  it('fuzz regression: a SPARQL definition of 2,000 nested groups is refused by the complexity guard within the budget', async () => {
    const input = new Uint8Array(readFileSync(new URL('../fuzz/repro/virtual/regression-nested-groups.bin', import.meta.url)));
    const t0 = performance.now();
    await expect(virtualTarget.run(input)).rejects.toMatchObject({ code: 'query-too-complex', extensions: { pointer: '/query' } });
    expect(performance.now() - t0).toBeLessThan(100);
  });
});

describe('window provenance (outputEnvelope)', () => {
  const base = 'http://hub.example';
  const obs = (thing: string, i: number, p = 'value') => `${base}/things/${encodeURIComponent(thing)}/observations/m${i}/${p}`;
  const envelope = (sources: string[], pairs?: boolean) =>
    outputEnvelope({ baseUrl: base, thingId: 'urn:v:1', procedure: `${base}/virtual/v1`, messageId: 'o1', time: Date.UTC(2026, 0, 1), items: [['average', { value: 1 }]], sample: { sources, window: { start: 0, end: 1000, count: sources.length, ...(pairs ? { pairs } : {}) } } });
  it('names the members of a small window, and describes a large one by its input properties and bounds', () => {
    const few = Array.from({ length: MAX_LISTED_MEMBERS }, (_, i) => obs('urn:t:a', i));
    expect((envelope(few).payload.windows as Array<Record<string, unknown>>)[0]).toMatchObject({ members: few, count: MAX_LISTED_MEMBERS });
    const many = [...Array.from({ length: 40 }, (_, i) => obs('urn:t:a', i)), ...Array.from({ length: 24 }, (_, i) => obs('urn:t:b', i, 'speed'))];
    const w = (envelope(many).payload.windows as Array<Record<string, unknown>>)[0]!;
    expect(w.members).toBeUndefined();
    expect(w).toMatchObject({ count: 64, inputs: [`${base}/things/urn%3At%3Aa/properties/value`, `${base}/things/urn%3At%3Ab/properties/speed`] });
    // A travel time's pairs are chosen observations: always named.
    expect((envelope(many, true).payload.windows as Array<Record<string, unknown>>)[0]).toMatchObject({ members: many });
    // Either way the observation is derived from the window.
    expect((envelope(many).payload.observations as Array<Record<string, unknown>>)[0]!.derivedFrom).toEqual([`${base}/things/urn%3Av%3A1/windows/o1`]);
  });
});
