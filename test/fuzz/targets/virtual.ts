// Fuzz target: virtual sensor definitions as PUT /virtual/{name} reads them (JSON or YAML) -> validateDefinition ->
// compileStream / checkSparqlDefinition; one compiled expression evaluated on a sample (bounded by its time box).
import { BadRequestError } from '../../../hub/errors.ts';
import { compileStream, validateDefinition } from '../../../hub/virtual/definition.ts';
import { EXPRESSION_LIMITS } from '../../../hub/virtual/expression.ts';
import { travelTimeDefinition, weightedTravelTimeDefinition } from '../../../hub/virtual/road-link.ts';
import { parseYamlDefinition } from '../../../hub/virtual/routes.ts';
import { checkSparqlDefinition } from '../../../hub/virtual/sparql-sensor.ts';
import { enc } from '../corpus.ts';
import type { Rng } from '../prng.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

const LINK = { link: 'a-b', originScanner: 'urn:dev:cookie:a:bt', destinationScanner: 'urn:dev:cookie:b:bt', originRadar: 'urn:dev:cookie:a:radar', lengthM: 1200 };
const STREAM = {
  inputs: { t: { thing: 'urn:dev:room:1', property: 'temperature' }, u: { query: { type: 'sosa:Sensor' }, key: 'room' } },
  operators: [
    { id: 'f', op: 'filter', from: 't', where: 'value > -40 and $exists(fields.room)' },
    { id: 'm', op: 'map', from: 'f', expression: 'value * 9 / 5 + 32' },
    { id: 'w', op: 'window', from: 'm', size: 900, aggregates: ['avg', 'p95', 'stddev'], minSamples: 3, outliers: { mad: 3.5 } },
    { id: 'o', op: 'outliers', from: 'u', over: 50, threshold: 3.5 },
    { id: 'j', op: 'join', from: ['f', 'o'], within: 60 },
    { id: 'x', op: 'fusion', from: ['m', 'o'], method: 'expression', expression: '($a := m; $b := o; ($a + $b) / 2)', maxAge: 300 },
  ],
  outputs: { avg: { from: 'w', select: 'avg', unit: 'qudt:DEG_F' }, dt: { from: 'j', expression: 'value.dt', type: 'number' }, fused: { from: 'x' } },
  event: 'updated',
};
const SPARQL = { kind: 'sparql', query: 'PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT ?room (AVG(?v) AS ?avg) WHERE { GRAPH ?g { ?o sosa:hasFeatureOfInterest ?room ; sosa:hasSimpleResult ?v } } GROUP BY ?room', keyVariable: 'room', trigger: { things: ['urn:dev:room:1'], debounce: 2 }, schedule: { every: 60 }, outputs: { avg: { type: 'object' } } };
const YAML = `inputs:\n  t: { thing: "urn:dev:room:1", property: temperature }\noperators:\n  - { id: w, op: window, from: t, count: 10, aggregates: [max, p50] }\noutputs:\n  maximum: { from: w, select: max }\n`;

const EXPRESSIONS = ['value > 3', '$sum(fields.velocities)', '[1..100]', '$count($keys(fields))', '$string(value) & "x"', 'value.left - value.right', '$eval("1")', '/a+/', '$pad("", 99)', '(', '$sum([1..10000].($sum([1..10000])))', '$f := function($n) { $f($n + 1) }', '$$.fields', 'value ? 1 : 0'];
const OPS = ['filter', 'map', 'window', 'outliers', 'join', 'fusion', 'travel-time', 'weighted-travel-time', 'nope'];

let seeds: Array<Record<string, unknown>> = [];

/** A definition from the grammar: random operators wired to inputs and earlier (or later: cycles) operators. */
function generate(rng: Rng): Uint8Array {
  const streams = ['t', 'u'];
  const operators = Array.from({ length: rng.int(6) }, (_, i) => {
    const op = OPS[rng.int(OPS.length)]!;
    const pick = () => (rng.chance(0.1) ? `op${rng.int(8)}` : streams[rng.int(streams.length)]!);
    const o: Record<string, unknown> = { id: `op${i}`, op, from: op === 'join' || op === 'fusion' ? [pick(), pick()] : pick() };
    if (rng.chance(0.8)) Object.assign(o, { where: EXPRESSIONS[rng.int(EXPRESSIONS.length)], expression: EXPRESSIONS[rng.int(EXPRESSIONS.length)] });
    Object.assign(o, { size: rng.int(2000) - 5, count: rng.int(50), aggregates: [['avg', 'p99', 'p101', 'mode'][rng.int(4)]], over: rng.int(20), threshold: rng.int(5), within: rng.int(100), method: ['mean', 'expression', 'weighted'][rng.int(3)], origin: 't', destination: pick(), counts: pick(), link: 'l' });
    for (const k of Object.keys(o)) if (k !== 'id' && k !== 'op' && rng.chance(0.5)) delete o[k];
    streams.push(`op${i}`);
    return o;
  });
  const doc = { inputs: { t: { thing: 'urn:x:1' }, u: { things: ['urn:x:2'], key: 'mac' } }, operators, outputs: { v: { from: streams[rng.int(streams.length)], ...(rng.chance(0.3) ? { expression: EXPRESSIONS[rng.int(EXPRESSIONS.length)] } : {}) } } };
  return enc(JSON.stringify(doc));
}

export const virtualTarget: FuzzTarget = {
  name: 'virtual',
  description: 'Virtual sensor definitions (JSON or YAML) -> validateDefinition -> compileStream / checkSparqlDefinition; one compiled JSONata expression evaluated within its time box',
  tokens: ['"op"', '"from"', '"where"', '"expression"', '"window"', '"join"', '"fusion"', '"travel-time"', '"inputs"', '"outputs"', '"operators"', '"$eval"', '..', '/', '$', '&', '*', ':', '- ', '\n  '],
  seeds() {
    seeds = [STREAM, SPARQL, travelTimeDefinition(LINK), weightedTravelTimeDefinition(LINK)];
    return [...seeds.map((s) => enc(JSON.stringify(s))), enc(YAML)];
  },
  generate: (rng) => generate(rng),
  generateRatio: 0.5,
  async run(input) {
    const t = text(input);
    let doc: unknown;
    if (/^\s*[{[]/.test(t)) {
      try {
        doc = JSON.parse(t);
      } catch {
        throw new BadRequestError('The body is not JSON', {}, 'invalid-json');
      }
    } else doc = parseYamlDefinition(t);
    const d = validateDefinition(doc);
    if (d.kind === 'sparql') {
      checkSparqlDefinition(d);
      return;
    }
    const compiled = compileStream(d, { ...EXPRESSION_LIMITS, timeoutMs: 40 });
    if (compiled.order.length !== d.operators.length) throw new OracleError('an operator is missing from the compiled order');
    const seen = new Set(Object.keys(d.inputs));
    for (const id of compiled.order) {
      const op = d.operators.find((o) => o.id === id)!;
      const reads = op.op === 'travel-time' ? [op.origin, op.destination] : op.op === 'weighted-travel-time' ? [op.from, op.counts] : [op.from].flat();
      if (reads.some((r) => !seen.has(r))) throw new OracleError(`operator ${id} is ordered before what it reads`);
      seen.add(id);
    }
    const first = compiled.expressions.values().next().value;
    if (first) {
      try {
        await first.evaluate({ value: 21.5, key: 'k', time: '2026-01-01T00:00:00Z', thing: 'urn:x:1', fields: { room: 'r1', velocities: [50, 60] } });
      } catch (e) {
        if (!(e instanceof Error) || e.name !== 'EvaluationError') throw e;
      }
    }
  },
};
