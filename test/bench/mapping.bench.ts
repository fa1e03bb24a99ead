// Benchmark: per-message mapping of a SOSA observation mapfile (5 fields, 8 triples) with the hub's compiled plan vs rocketrml.
//
// Prints and writes test/bench/results/mapping.json: messages/s and triples/s on one core, p50/p99 latency per message,
// RSS, and rocketrml on the same messages in the same process (it re-parses the mapfile on every call), with the ratio.
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

  // Warm-up, then throughput (no per-call timing), then latency (hrtime around each call).
  for (let i = 0; i < 20_000; i += 1) plan.mapMessage(messages[i % N]);
  let triples = 0;
  let t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i += 1) triples += plan.mapMessage(messages[i]).length;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  // CPU seconds of this process (all its threads, GC included): the rate on one core, whatever else runs on the box.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const latencies = new Float64Array(N);
  for (let i = 0; i < N; i += 1) {
    const s = process.hrtime.bigint();
    plan.mapMessage(messages[i]);
    latencies[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  // With N-Quads serialisation, what the router hands to the store.
  t0 = process.hrtime.bigint();
  const M = Math.min(N, 50_000);
  for (let i = 0; i < M; i += 1) toNQuads(plan.mapMessage(messages[i]));
  const withSerialisation = M / (Number(process.hrtime.bigint() - t0) / 1e9);

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
    targets: { messagesPerSecond: 100_000, p99Micros: 50, ratio: 100 },
  };
  const met = { rate: rate >= 100_000, ratePerCpuSecond: N / cpuSeconds >= 100_000, p99: result.latencyMicros.p99 < 50, ratio: result.ratioVsRocketrml >= 100 };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\ntargets met: ${JSON.stringify(met)}\n`);
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mapping.json'), `${JSON.stringify({ ...result, targetsMet: met }, null, 2)}\n`);
}

await main();
