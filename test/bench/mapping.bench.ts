// Benchmark: per-message mapping with the hub's compiled plan: a SOSA observation mapfile (simple paths, 8 triples) vs rocketrml, and a filter iterator over an array of readings.
//
// Prints and writes test/bench/results/mapping.json: messages/s and triples/s on one core, p50/p99 latency per message,
// RSS, and rocketrml on the same messages in the same process (it re-parses the mapfile on every call), with the ratio;
// `filter` times a mapfile whose iterator selects the temperature readings of a message (`[?(@.type == 'temperature')]`,
// the legacy form older mapfiles use) and `filterRfc` the same iterator in RFC 9535 syntax (`[?@.type=='temperature']`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DataFactory, Parser } from 'n3';
import type { Quad } from '@rdfjs/types';
import { isomorphic } from 'rdf-isomorphic';
import { compileMapping } from '../../hub/mapping/compile.ts';
import { toNQuads } from '../../hub/routing/uplink-router.ts';

const require = createRequire(import.meta.url);
// rocketrml's jsonld pulls in ky-universal, whose `require('ky/umd')` fails with the ky installed here; no remote
// context is ever fetched in this benchmark, so an inert stub stands in for the HTTP client.
const kyPath = require.resolve('ky-universal');
require.cache[kyPath] = { id: kyPath, filename: kyPath, loaded: true, exports: { create: () => ({}) } } as unknown as NodeJS.Module;
const rocketrml = require('rocketrml') as { parseFileLive(map: string, inputs: Record<string, string>, options: Record<string, unknown>): Promise<unknown> };

const PREFIXES = `@prefix sosa: <http://www.w3.org/ns/sosa/> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
`;
/** The hub's mapfile: RML-Core, per-message source. */
const HUB_MAPFILE = `${PREFIXES}@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
<#obs> a rml:TriplesMap ;
  rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$" ] ;
  rml:subjectMap [ rml:template "http://hub/things/{$.meta.thingId}/observations/{$.meta.receivedAt}" ; rml:class sosa:Observation ] ;
  rml:predicateObjectMap
    [ rml:predicate sosa:madeBySensor ; rml:objectMap [ rml:template "http://hub/things/{$.meta.thingId}" ] ] ,
    [ rml:predicate sosa:observedProperty ; rml:objectMap [ rml:template "http://hub/properties/{$.payload.property}" ] ] ,
    [ rml:predicate sosa:hasSimpleResult ; rml:objectMap [ rml:reference "$.payload.value" ; rml:datatype xsd:double ] ] ,
    [ rml:predicate sosa:resultTime ; rml:objectMap [ rml:reference "$.meta.receivedAt" ; rml:datatype xsd:dateTime ] ] ,
    [ rml:predicate sosa:hasResult ; rml:objectMap [ rml:template "http://hub/things/{$.meta.thingId}/observations/{$.meta.receivedAt}/result" ] ] .
<#result> a rml:TriplesMap ;
  rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$" ] ;
  rml:subjectMap [ rml:template "http://hub/things/{$.meta.thingId}/observations/{$.meta.receivedAt}/result" ] ;
  rml:predicateObjectMap
    [ rml:predicate qudt:numericValue ; rml:objectMap [ rml:reference "$.payload.value" ; rml:datatype xsd:double ] ] ,
    [ rml:predicate qudt:unit ; rml:objectMap [ rml:template "http://qudt.org/vocab/unit/{$.payload.unit}" ] ] .
`;
/** The same mapping in the legacy vocabulary rocketrml understands (it fails RML-Core), reading an input named "message". */
const ROCKET_MAPFILE = HUB_MAPFILE.replace('@prefix rml: <http://w3id.org/rml/> .', '@prefix rml: <http://semweb.mmlab.be/ns/rml#> .\n@prefix rr: <http://www.w3.org/ns/r2rml#> .\n@prefix ql: <http://semweb.mmlab.be/ns/ql#> .')
  .replaceAll('rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath', 'rml:source "message" ; rml:referenceFormulation ql:JSONPath')
  .replaceAll(/rml:(TriplesMap|subjectMap|predicateObjectMap|predicate|objectMap|template|class|datatype)\b/g, 'rr:$1')
  .replaceAll('<#obs>', '<http://bench/obs>')
  .replaceAll('<#result>', '<http://bench/result>');

const UNITS = ['DEG_C', 'PERCENT', 'HectoPA', 'LUX', 'V'];
const PROPS = ['temperature', 'humidity', 'pressure', 'illuminance', 'battery'];
function message(i: number) {
  const k = i % 5;
  return {
    meta: { thingId: `sensor-${i % 100}`, protocol: 'lorawan', receivedAt: new Date(1_714_550_400_000 + i * 1000).toISOString() },
    payload: { property: PROPS[k], value: Math.round((20 + Math.sin(i) * 10) * 100) / 100, unit: UNITS[k] },
  };
}

/** A filter iterator: one observation per temperature reading of the message (3 of 6 readings, 4 triples each). */
const filterMapfile = (iterator: string): string => `${PREFIXES}@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
<#reading> a rml:TriplesMap ;
  rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "${iterator}" ] ;
  rml:subjectMap [ rml:template "http://hub/readings/{$.id}" ; rml:class sosa:Observation ] ;
  rml:predicateObjectMap
    [ rml:predicate sosa:hasSimpleResult ; rml:objectMap [ rml:reference "$.value" ; rml:datatype xsd:double ] ] ,
    [ rml:predicate sosa:resultTime ; rml:objectMap [ rml:reference "$.time" ; rml:datatype xsd:dateTime ] ] ,
    [ rml:predicate sosa:madeBySensor ; rml:objectMap [ rml:template "http://hub/sensors/{$.sensor}" ] ] .
`;
const FILTER_LEGACY = "$.payload.readings[?(@.type == 'temperature')]";
const FILTER_RFC = "$.payload.readings[?@.type=='temperature']";
function readingsMessage(i: number) {
  const time = new Date(1_714_550_400_000 + i * 1000).toISOString();
  return {
    meta: { thingId: `sensor-${i % 100}`, protocol: 'lorawan', receivedAt: time },
    payload: {
      readings: Array.from({ length: 6 }, (_, k) => ({ id: `${i}-${k}`, type: k % 2 ? 'humidity' : 'temperature', value: 20 + ((i + k) % 10), time, sensor: `s${k}` })),
    },
  };
}

type Plan = ReturnType<typeof compileMapping>;
/** Throughput (no per-call timing) then latency (hrtime around each call) of one plan over the messages, after a warm-up. */
function measure(plan: Plan, messages: unknown[]) {
  const N = messages.length;
  for (let i = 0; i < 20_000; i += 1) plan.mapMessage(messages[i % N] as never);
  let triples = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i += 1) triples += plan.mapMessage(messages[i] as never).length;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  // CPU seconds of this process (all its threads, GC included): the rate on one core, whatever else runs on the box.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const latencies = new Float64Array(N);
  for (let i = 0; i < N; i += 1) {
    const s = process.hrtime.bigint();
    plan.mapMessage(messages[i] as never);
    latencies[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  return { seconds, cpuSeconds, triples, sorted };
}

/** The filter case: undefined (with the reason) when this checkout cannot compile the iterator. */
function filterCase(iterator: string, messages: unknown[]) {
  let plan: Plan;
  try {
    plan = compileMapping(filterMapfile(iterator), 'turtle');
  } catch (e) {
    return { iterator, error: (e as Error).message };
  }
  const m = measure(plan, messages);
  return {
    iterator,
    messages: messages.length,
    triplesPerMessage: m.triples / messages.length,
    messagesPerSecond: Math.round(messages.length / m.seconds),
    messagesPerCpuSecond: Math.round(messages.length / m.cpuSeconds),
    latencyMicros: { p50: +quantile(m.sorted, 0.5).toFixed(2), p99: +quantile(m.sorted, 0.99).toFixed(2), max: +m.sorted[m.sorted.length - 1]!.toFixed(2) },
  };
}

const DOUBLE = 'http://www.w3.org/2001/XMLSchema#double';
function canonicalDouble(q: Quad): Quad {
  if (q.object.termType !== 'Literal' || q.object.datatype.value !== DOUBLE) return q;
  return DataFactory.quad(q.subject, q.predicate, DataFactory.literal(String(Number(q.object.value)), q.object.datatype), q.graph);
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<void> {
  const N = Number(process.env.BENCH_MESSAGES ?? 200_000);
  const ROCKET_N = Number(process.env.BENCH_ROCKET_MESSAGES ?? 300);
  const messages = Array.from({ length: N }, (_, i) => message(i));
  const plan = compileMapping(HUB_MAPFILE, 'turtle');

  // Same output check: both engines agree on one message (isomorphic).
  const sample = message(7);
  const ours = plan.mapMessage(sample);
  const theirsNq = (await rocketrml.parseFileLive(ROCKET_MAPFILE, { message: JSON.stringify(sample) }, { toRDF: true, verbose: false })) as string;
  const theirs = new Parser({ format: 'application/n-quads' }).parse(theirsNq) as Quad[];
  // jsonld writes doubles canonically ("2.657E1"): compare numeric literals by value.
  const sameOutput = isomorphic(ours.map(canonicalDouble), theirs.map(canonicalDouble));
  if (!sameOutput && process.env.BENCH_DEBUG) process.stdout.write(`hub:\n${toNQuads(ours)}\nrocketrml:\n${theirsNq}\n`);

  const { seconds, cpuSeconds, triples, sorted } = measure(plan, messages);
  let t0: bigint;
  // With N-Quads serialisation, what the router hands to the store.
  t0 = process.hrtime.bigint();
  const M = Math.min(N, 50_000);
  for (let i = 0; i < M; i += 1) toNQuads(plan.mapMessage(messages[i]));
  const withSerialisation = M / (Number(process.hrtime.bigint() - t0) / 1e9);

  const FILTER_N = Number(process.env.BENCH_FILTER_MESSAGES ?? 100_000);
  const readings = Array.from({ length: FILTER_N }, (_, i) => readingsMessage(i));
  const filter = filterCase(FILTER_LEGACY, readings);
  const filterRfc = filterCase(FILTER_RFC, readings);

  const rss = process.memoryUsage().rss;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < ROCKET_N; i += 1) {
    await rocketrml.parseFileLive(ROCKET_MAPFILE, { message: JSON.stringify(messages[i]) }, { toRDF: false, verbose: false });
  }
  const rocketSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rocketRate = ROCKET_N / rocketSeconds;
  // A like-for-like ratio: the hub's wall-clock rate against rocketrml's wall-clock rate in the same process run.
  const rate = N / seconds;
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    loadAverage: (await import('node:os')).loadavg()[0],
    messages: N,
    triplesPerMessage: triples / N,
    sameOutputAsRocketrml: sameOutput,
    messagesPerSecond: Math.round(rate),
    triplesPerSecond: Math.round(triples / seconds),
    messagesPerCpuSecond: Math.round(N / cpuSeconds),
    triplesPerCpuSecond: Math.round(triples / cpuSeconds),
    messagesPerSecondWithNQuads: Math.round(withSerialisation),
    latencyMicros: { p50: +quantile(sorted, 0.5).toFixed(2), p99: +quantile(sorted, 0.99).toFixed(2), max: +sorted[sorted.length - 1]!.toFixed(2) },
    rssMiB: +(rss / 1048576).toFixed(1),
    rocketrml: { messages: ROCKET_N, messagesPerSecond: +rocketRate.toFixed(1) },
    ratioVsRocketrml: Math.round(rate / rocketRate),
    filter,
    filterRfc,
    targets: { messagesPerSecond: 100_000, p99Micros: 50, ratio: 100, filterMessagesPerSecond: 50_000, filterP99Micros: 50 },
  };
  const filterMet = (f: typeof filter) => 'messagesPerSecond' in f && f.messagesPerSecond! >= 50_000 && f.latencyMicros!.p99 < 50;
  const met = {
    rate: rate >= 100_000,
    ratePerCpuSecond: N / cpuSeconds >= 100_000,
    p99: result.latencyMicros.p99 < 50,
    ratio: result.ratioVsRocketrml >= 100,
    filter: filterMet(filter),
    filterRfc: filterMet(filterRfc),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\ntargets met: ${JSON.stringify(met)}\n`);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mapping.json'), `${JSON.stringify({ ...result, met }, null, 2)}\n`);
}

await main();
