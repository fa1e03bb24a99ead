// Store benchmark (issues 2 and 9): SOSA observations in a real hub (embedded store with its replicas, /sparql over
// HTTP) vs Comunica over n3; load, memory and disk per million quads, recovery after kill -9, queries, sustained
// ingestion at device rate with SPARQL visibility, writes and /health while a runaway query runs, Oxigraph options.
// The data is loaded through an in-process hub's store, which is then stopped; the HTTP figures come from the hub run as
// users run it, `node --import tsx hub/main.ts` in a child process recovering that data dir, queried over keep-alive HTTP.
// Run: npm run bench store                      (1M quads; STORE_BENCH_QUADS=10000000 npm run bench store for 10M)
//      node --import tsx test/bench/store.bench.ts [observations=125000] [sustainSeconds=60]
// Writes test/bench/results/store.json (store-<quads>.json too).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../hub/config.ts';
import { createHub } from '../../hub/hub.ts';
import { freePort } from '../helpers/hub.ts';
import { ChildHub, killChildHubs, procMemory, type Rows } from './store/child-hub.ts';
import { duringRunaway } from './store/runaway.ts';
import { capacity, lorawanMessage, sosaMessage, sustain, type CapacityFigures, type IngestFigures } from './store/ingest.ts';
import { ComunicaSide } from './store/comunica-side.ts';
import { countQuery, dayAverageByFilter, dayAverageByGraphs, latestQuery } from './store/queries.ts';
import { dayOf, observationChunks, observationMessage, sensorThingId, type DataShape } from './store/sosa-data.ts';
import { observationGraph } from '../../hub/store/graphs.ts';

// Observations per sensor must be whole: round to a multiple of the 1,000 sensors.
const OBSERVATIONS = Math.round(Number(process.argv[2] ?? (Number(process.env.STORE_BENCH_QUADS) || 1_000_000) / 8) / 1000) * 1000;
const SUSTAIN_SECONDS = Number(process.argv[3] ?? process.env.STORE_BENCH_SUSTAIN_SECONDS ?? 60);
// Comunica keeps the quads as JavaScript objects (n3 Store): past ~2M its heap runs out; it is compared up to there.
const COMUNICA_MAX_QUADS = 2_000_000;
const shape: DataShape = { sensors: 1000, observations: OBSERVATIONS, days: 5 };
const TARGETS = {
  latestMs: 5,
  dayAverageMs: 250,
  countMs: 100,
  /** Issue 9: acked 8-quad messages/s sustained, every one visible within 1 s (p99). */
  insertMsgsPerS: 35_000,
  visibleP99Ms: 1000,
  /** Issue 9: LoRaWAN mapfile messages/s (45 quads) sustained, visible within 1 s (p99). */
  lorawanMsgsPerS: 17_500,
  /** Issue 9: no write or /health slower than this while a runaway query runs. */
  duringRunawayMs: 50,
};
const HUB_RUNS = 21;
// A store just written (load) or just recovered (child start) answers slower for a few seconds (GC of the load's garbage,
// cold code paths: measured ~10 ms for latest over HTTP in the first 0.2 s, ~4 ms from 2 s on). Both sides run the
// latest query for this long before timing; the median of the first HUB_RUNS of them is reported as coldLatestMs.
const SETTLE_MS = 5000;
const COMUNICA_RUNS = 3;

const r2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs `once` (which returns its own duration in ms) for SETTLE_MS; returns the median of the first HUB_RUNS runs. */
async function settle(once: () => Promise<number>): Promise<number> {
  const ms: number[] = [];
  for (const t0 = performance.now(); performance.now() - t0 < SETTLE_MS; ) ms.push(await once());
  return r2(median(ms.slice(0, HUB_RUNS)));
}
const mb = (bytes: number) => r2(bytes / 1024 / 1024);
const log = (s: string) => process.stdout.write(`${s}\n`);

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

// ---- the in-process hub (embedded store) that loads the data; it does not listen --------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'hub-bench-store-'));
// The child hub later serves on this port: the same base URL, so the same IRIs (graphs, Things) as at load time.
const port = await freePort();
const adminToken = 'bench-admin-token-0123456789abcdef';
// STORE_BENCH_MAX_PENDING (default 2,000,000; the hub's default is 100,000): writes accepted but not applied before
// 503. The workers apply inserts lazily (hub/store/hot/backlog.ts) and a query applies what it reads first, so a backlog
// does not delay visibility; it bounds the worker memory (~0.7 KB per 8-quad message per replica) and what each
// sustained run leaves to apply. 0 = the hub's default.
const maxPendingWrites = process.env.STORE_BENCH_MAX_PENDING === '0' ? undefined : Number(process.env.STORE_BENCH_MAX_PENDING) || 2_000_000;
const config = validateConfig({ host: '127.0.0.1', httpPort: port, coapPort: 0, mqttPort: 0, packetForwarderPort: 0, oscPort: 0, dataDir, logLevel: 'silent', adminToken, ...(maxPendingWrites ? { store: { maxPendingWrites } } : {}) });
// Whatever happens (error, Ctrl-C), no child hub outlives this process and the data dir goes.
process.on('exit', () => {
  killChildHubs();
  rmSync(dataDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
let hub = await createHub(config, { logger: false });
const replicas = Number(process.env.HUB_STORE_REPLICAS) || 2;
const standby = Number(process.env.HUB_STORE_STANDBY ?? 1) || 0;
const rssBefore = procMemory(process.pid).rss;
const countOf = (rows: Rows) => Number(rows[0]!.n!.value);

// ---- probes of the engine alone, in child processes (one core each): memory per quad and load options -----------
function probe(args: string[]): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', ...args], { cwd: join(import.meta.dirname, '..', '..'), encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
}
const QUADS = shape.observations * 8;
log(`store bench: ${shape.observations} observations x 8 = ${QUADS} quads, ${shape.sensors} sensors, ${shape.days} days`);
const probeBase = Math.min(QUADS, 1_000_000);
// Up to 3M quads (at 10M this probe alone takes minutes); RSS per million quads levels off past 2M.
// STORE_BENCH_SKIP_PROBES=1 leaves the engine probes out (they take minutes on a loaded machine).
const skipProbes = process.env.STORE_BENCH_SKIP_PROBES === '1';
const probeOrSkip = (args: string[]) => (skipProbes ? { skipped: true } : probe(args));
const engineMemory = probeOrSkip(['test/bench/store/oxigraph-options.ts', 'memory', String(Math.min(QUADS, 3_000_000))]);
log(`oxigraph alone (one engine, one thread): ${JSON.stringify(engineMemory)}`);
const loadOptions = probeOrSkip(['test/bench/store/oxigraph-options.ts', 'options', String(probeBase)]);
log(`oxigraph load options at ${probeBase} quads (quads/s, median of interleaved rounds): ${JSON.stringify(loadOptions.quadsPerSecond)}`);
const applyOptions = probeOrSkip(['test/bench/store/apply-options.ts', String(probeBase), '20000']);
log(`worker apply path at ${probeBase} quads (8-quad msgs/s): ${JSON.stringify(applyOptions.messagesPerSecond)}`);
// Issue 9 options side by side (one child process): batch sizes x message shapes (8, 7 without rdf:type, LoRaWAN 45,
// slim 15), 1 vs 2 engines in parallel threads, the columnar hot store (hub/store/hot/hot-series.ts).
const ingestOptions = probeOrSkip(['test/bench/store/hot-options.ts', String(probeBase)]);
log(`ingestion options at ${probeBase} quads: ${JSON.stringify(ingestOptions)}`);

// ---- load through the store's write path (bulk: 1,000 observations per insert), the same quads into Comunica -----
// The hub may hold observations of its own (demo Things); the counts below are relative to them.
const baseline = countOf(await hub.store.select(countQuery));
const withComunica = QUADS <= COMUNICA_MAX_QUADS;
const comunica = new ComunicaSide();
let t0 = performance.now();
{
  const inFlight = new Set<Promise<void>>();
  for (const c of observationChunks(config.baseUrl, shape, 1000)) {
    const p: Promise<void> = hub.store.insert(c).then(() => void inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
const loadAckMs = performance.now() - t0;
const expectCount = baseline + shape.observations;
const health = () => (hub.store.health?.() ?? {}) as Record<string, number>;
// Loaded = applied by every replica (acked inserts are durable at once and applied a little later).
{
  const t = performance.now();
  while (countOf(await hub.store.select(countQuery)) !== expectCount || health().replicasLive !== replicas || health().pendingWrites !== 0) {
    if (performance.now() - t > 1_800_000) throw new Error('loaded observations not all applied within 30 min');
    await new Promise((r) => setTimeout(r, 200));
  }
}
const loadMs = performance.now() - t0;
const stats = await hub.store.stats();
const rssAfterLoad = procMemory(process.pid).rss;
const diskAfterLoad = dirBytes(dataDir);
const perM = (bytes: number) => r2(bytes / 2 ** 20 / (QUADS / 1e6));
log(`load: acked in ${r2(loadAckMs / 1000)} s, applied by ${replicas} replicas in ${r2(loadMs / 1000)} s (${Math.round(QUADS / (loadMs / 1000))} quads/s), quads=${stats.quads}, RSS ${mb(rssAfterLoad)} MB (${perM(rssAfterLoad - rssBefore)} MB per million quads, ${replicas} replicas), disk ${mb(diskAfterLoad)} MB (${perM(diskAfterLoad)} MB per million)`);

const day = dayOf(2);
const sensor = 42;

// Diagnostic: the same queries on hub.store directly (no HTTP, no JSON over the socket), to separate engine time from transport.
async function timeStore(query: string, runs = HUB_RUNS) {
  await hub.store.query(query);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await hub.store.query(query);
    ms.push(performance.now() - t);
  }
  return r2(median(ms));
}
const latestBefore = (await hub.store.select(latestQuery(sensor)))[0]!.obs!.value;
const directColdLatestMs = await settle(async () => {
  const t = performance.now();
  await hub.store.query(latestQuery(sensor));
  return performance.now() - t;
});
const direct = {
  latestMs: await timeStore(latestQuery(sensor)),
  dayAverageMs: await timeStore(dayAverageByGraphs(config.baseUrl, day, shape.sensors)),
  countMs: await timeStore(countQuery),
  coldLatestMs: directColdLatestMs,
};
log(`hub.store.query in-process (median of ${HUB_RUNS}): latest ${direct.latestMs} ms, day average ${direct.dayAverageMs} ms, count ${direct.countMs} ms (latest right after the load: ${direct.coldLatestMs} ms)`);

// ---- sustained ingestion at device rate, in-process (the store's write path as the uplink router calls it) -------
// Open loop: messages offered at a fixed rate for SUSTAIN_SECONDS, one insert() each; acks, 503s, visibility by ASK.
// STORE_BENCH_RATE_SCALE (default 1) scales the offered rates down for smoke runs; results then meet no target.
const RATE_SCALE = Number(process.env.STORE_BENCH_RATE_SCALE ?? 1);
const sustained: Record<string, IngestFigures> = {};
/**
 * Each run's live messages are deleted once it is applied (their day graphs of the 1,000 live sensors), so every shape
 * starts from the loaded store and the store stays under store.maxQuads (12M: at 4M quads, 60 s of 8-quad messages at
 * 20k/s add ~10M; the engines trap past ~14.7M). The base data is on other days, in other graphs.
 */
async function dropLive(from: number): Promise<void> {
  while (health().pendingWrites! > 0) await new Promise((r) => setTimeout(r, 200));
  for (let day = Math.floor(from / 86_400_000); day <= Math.floor(Date.now() / 86_400_000); day++) {
    for (let s = 0; s < 1000; s++) await hub.store.deleteGraph(observationGraph(config.baseUrl, sensorThingId(s), new Date(day * 86_400_000 + 43_200_000)));
  }
}
let liveIndex = 0;
for (const [name, rate, message] of [
  ['sosa8', TARGETS.insertMsgsPerS, (i: number, at: number) => sosaMessage(config.baseUrl, i, at)],
  ['lorawan45', TARGETS.lorawanMsgsPerS, (i: number, at: number) => lorawanMessage(config.baseUrl, i, at)],
  ['lorawanSlim15', TARGETS.lorawanMsgsPerS, (i: number, at: number) => lorawanMessage(config.baseUrl, i, at, true)],
] as const) {
  // Each run starts from a drained store: the previous run's backlog is applied first.
  while (health().pendingWrites! > 0) await new Promise((r) => setTimeout(r, 200));
  const from = Date.now();
  const f = await sustain(hub.store, { rate: Math.round(rate * RATE_SCALE), seconds: SUSTAIN_SECONDS, message, startIndex: liveIndex });
  liveIndex += f.offered;
  sustained[name] = f;
  await dropLive(from);
  log(`sustained ${name}: offered ${f.offeredPerSecond}/s x ${f.quadsPerMessage} quads for ${f.seconds} s: acked ${f.ackedPerSecond}/s (${f.acked} of ${f.offered}; ${f.overloaded} got 503 overloaded, ${f.failed} failed), ack p50 ${f.ackP50Ms} ms p99 ${f.ackP99Ms} ms; visible p50 ${f.visibleP50Ms} ms p99 ${f.visibleP99Ms ?? 'n/a'} ms (${f.notVisible} of ${f.visibilitySamples} samples not visible within 30 s), last sample visible ${f.drainMs} ms after the last ack, at most ${f.maxSamplesWaitingForAPoll} samples waiting for a poll`);
}
// The rate each shape sustains (doubling from 1,000/s, then bisection; STORE_BENCH_CAPACITY_PROBES=0 skips it): how far
// from a target the store is.
const CAPACITY_PROBES = Number(process.env.STORE_BENCH_CAPACITY_PROBES ?? 7);
const CAPACITY_SECONDS = Number(process.env.STORE_BENCH_CAPACITY_SECONDS ?? 8);
const capacities: Record<string, CapacityFigures> = {};
if (CAPACITY_PROBES > 0) {
  for (const [name, target, message] of [
    ['sosa8', TARGETS.insertMsgsPerS, (i: number, at: number) => sosaMessage(config.baseUrl, i, at)],
    ['lorawan45', TARGETS.lorawanMsgsPerS, (i: number, at: number) => lorawanMessage(config.baseUrl, i, at)],
    ['lorawanSlim15', TARGETS.lorawanMsgsPerS, (i: number, at: number) => lorawanMessage(config.baseUrl, i, at, true)],
  ] as const) {
    const drained = async () => {
      while (health().pendingWrites! > 0) await new Promise((r) => setTimeout(r, 200));
    };
    const capacityFrom = Date.now();
    const c = await capacity(hub.store, { message, lo: 1000, hi: Math.round(target * 1.2 * RATE_SCALE), probes: CAPACITY_PROBES, seconds: CAPACITY_SECONDS, visibleP99Ms: TARGETS.visibleP99Ms, startIndex: liveIndex, drained, backlog: () => health().pendingWrites! });
    liveIndex += c.offered;
    await dropLive(capacityFrom);
    capacities[name] = { maxPassingPerSecond: c.maxPassingPerSecond, probes: c.probes };
    log(`capacity ${name}: ${c.maxPassingPerSecond ?? 'none'} msgs/s passes (all acked, no 503, visibility p99 <= ${TARGETS.visibleP99Ms} ms, backlog at the end <= 1 s of messages); probes ${c.probes.map((p) => `${p.offeredPerSecond}/s ${p.pass ? 'pass' : 'fail'} (acked ${p.ackedPerSecond}/s, ${p.overloaded} refused, ack p99 ${p.ackP99Ms} ms, visible p99 ${p.visibleP99Ms ?? 'n/a'} ms, backlog ${p.backlogAtEnd})`).join('; ')}`);
  }
}
// Every message acked in the runs above is in the store (and the backlog drains).
const liveAcked = Object.values(sustained).reduce((n, f) => n + f.acked, 0);
{
  const t = performance.now();
  while (health().pendingWrites! > 0) {
    if (performance.now() - t > 1_800_000) throw new Error('ingestion backlog not applied within 30 min');
    await new Promise((r) => setTimeout(r, 200));
  }
}
const drainedAfterMs = 0;
void drainedAfterMs;

// ---- stop the loading hub; the data is durable in <dataDir>/store ---------------------------------------------
t0 = performance.now();
await hub.stop();
const stopMs = performance.now() - t0;

// ---- queries over HTTP to the hub in its own process (as users run it) ----------------------------------------
let child = await ChildHub.start({ port, dataDir, adminToken, startTimeoutMs: 1_800_000 });
const childAtStart = child.memory();
log(`child hub (pid ${child.pid}): in-process hub stopped in ${r2(stopMs / 1000)} s; child listening ${r2(child.startMs / 1000)} s after spawn (recovery), RSS ${mb(childAtStart.rss)} MB`);
// The aggregates are rebuilt after a start and every member (standby too) joins: dashboard queries sent before go to the
// engines, and at several million quads one past the anonymous budget ends its member (a rebuild of a minute here).
// The in-process hub stopped cleanly, so the child loads the aggregates it saved (hub/store/aggregates/checkpoint.ts).
const aggregatesReadySeconds = await child.waitForStore((s) => s.aggregatesReady === 1, 1_800_000);
const checkpointLoaded = JSON.parse((await child.get('/health')).body).store.checkpointLoaded === 1;
const storeReadySeconds = aggregatesReadySeconds + (await child.waitForStore((s) => s.aggregatesReady === 1 && s.replicasLive === replicas && s.replicasStandby === standby, 1_800_000));
log(`child hub: aggregates ready ${r2(aggregatesReadySeconds)} s after listening (${checkpointLoaded ? 'loaded from the checkpoint of the clean stop' : 'rebuilt from the store'}), every store member live ${r2(storeReadySeconds)} s after listening`);

async function timeHub(query: string, runs = HUB_RUNS) {
  await child.select(query); // warm-up
  const ms: number[] = [];
  let rows: Rows = [];
  for (let i = 0; i < runs; i++) ({ ms: ms[i]!, rows } = await child.select(query));
  return { medianMs: r2(median(ms)), minMs: r2(Math.min(...ms)), rows };
}
let latest!: Awaited<ReturnType<typeof timeHub>>, dayFilter!: typeof latest, dayGraphs!: typeof latest, count!: typeof latest;
let notFoundMs = 0;
let coldLatestMs = 0;
let childAfterQueries = childAtStart;
let runaway!: Awaited<ReturnType<typeof duringRunaway>>;
try {
  // Transport floor: a bare 404 on the same keep-alive socket, after 50 to warm the freshly started server's code paths.
  const floor: number[] = [];
  for (let i = 0; i < 50 + HUB_RUNS; i++) {
    const t = performance.now();
    const res = await child.get('/bench-no-such-path');
    if (i >= 50) floor.push(performance.now() - t);
    if (res.status !== 404) throw new Error(`404 floor: got ${res.status}`);
  }
  notFoundMs = r2(median(floor));
  coldLatestMs = await settle(async () => (await child.select(latestQuery(sensor))).ms);
  latest = await timeHub(latestQuery(sensor));
  // A diagnostic (the naive form of the day average scans every observation): past the anonymous query budget it is
  // reported as timed out rather than ending the run (the live messages of the runs above make the store larger).
  dayFilter = await timeHub(dayAverageByFilter(day), 5).catch(async (e: Error) => {
    if (!/query-timeout/.test(e.message)) throw e;
    // Its member was ended: the rest of the run starts from a whole store again.
    const s = await child.waitForStore((h) => h.replicasLive === replicas && h.replicasStandby === standby, 1_800_000);
    log(`naive time FILTER day average: ended by the query budget; its member replaced and rebuilt in ${r2(s)} s`);
    return { medianMs: null as unknown as number, minMs: null as unknown as number, rows: [] as Rows };
  });
  dayGraphs = await timeHub(dayAverageByGraphs(config.baseUrl, day, shape.sensors));
  count = await timeHub(countQuery);
  childAfterQueries = child.memory();
  // Wait until the child's second replica has joined, then run a runaway query and time writes and /health meanwhile.
  runaway = await duringRunaway(child.base, adminToken);
} finally {
  await child.stop();
}
const expectLive = expectCount + liveAcked * 0; // live messages are counted apart (their observations are sosa too)
void expectLive;
if (latest.rows.length !== 1) throw new Error('latest: no row');
const filterTimedOut = dayFilter.medianMs === null;
if (dayGraphs.rows.length !== shape.sensors || (!filterTimedOut && dayFilter.rows.length !== shape.sensors)) {
  throw new Error(`day average: ${dayGraphs.rows.length} / ${dayFilter.rows.length} sensors, expected ${shape.sensors}`);
}
const avgOf = (rows: Rows) => new Map(rows.map((r) => [r.sensor!.value, Number(r.avg!.value)]));
const byFilter = avgOf(dayFilter.rows);
if (!filterTimedOut) for (const [s, v] of avgOf(dayGraphs.rows)) if (Math.abs(v - byFilter.get(s)!) > 1e-9) throw new Error(`day average differs for ${s}`);
log(`child hub after the queries: RSS ${mb(childAfterQueries.rss)} MB (peak ${mb(childAfterQueries.peak)} MB); bare 404 ${notFoundMs} ms; latest right after start ${coldLatestMs} ms`);
log(`hub /sparql from a separate process (median of ${HUB_RUNS}): latest ${latest.medianMs} ms, day average ${dayGraphs.medianMs} ms (naive time FILTER: ${filterTimedOut ? 'ended by the query budget' : `${dayFilter.medianMs} ms`}), count ${count.medianMs} ms`);
log(`during a runaway query (${runaway.runawayStatus} after ${runaway.runawayMs} ms): /health max ${runaway.healthMaxMs} ms p99 ${runaway.healthP99Ms} ms, SPARQL Update max ${runaway.updateMaxMs} ms p99 ${runaway.updateP99Ms} ms, update visible (ASK) max ${runaway.visibleMaxMs} ms (${runaway.samples} samples); a query right after it ${runaway.afterMs} ms`);
{
  const a = runaway.afterKill;
  log(`after the runaway, ${a.seconds} s while its member is replaced (${a.standbyPromotions} standby promoted): /health max ${a.healthMaxMs} ms, update max ${a.updateMaxMs} ms, ASK max ${a.visibleMaxMs} ms, a query max ${a.queryMaxMs} ms p50 ${a.queryP50Ms} ms (${a.samples} samples; ${a.replicasLive} live, ${a.replicasStandby} standby at the end)`);
}

// ---- recovery after kill -9: a child hub is SIGKILLed and started again on the same data dir ---------------------
// Observations written just before the kill make the clean stop's checkpoint stale: the restarted hub builds its
// aggregates from the store's files (hub/store/aggregates/file-build.ts) while its engines load, and counts by query
// only the graphs the update named.
const KILL_WRITES = 50;
child = await ChildHub.start({ port, dataDir, adminToken, startTimeoutMs: 1_800_000 });
await child.waitForStore((s) => s.aggregatesReady === 1, 1_800_000);
const countBeforeKill = countOf((await child.select(countQuery)).rows) + KILL_WRITES;
{
  const byGraph = new Map<string, string[]>();
  for (let i = 0; i < KILL_WRITES; i++) {
    const { ntriples, graph } = observationMessage(config.baseUrl, shape, i % shape.sensors, Math.floor(i / shape.sensors), `before-kill-${i}`);
    byGraph.set(graph, [...(byGraph.get(graph) ?? []), ntriples]);
  }
  await child.update(`INSERT DATA { ${[...byGraph].map(([g, t]) => `GRAPH <${g}> { ${t.join('')} }`).join('\n')} }`);
}
const killed = child.pid;
child.proc.kill('SIGKILL');
await child.stop();
child = await ChildHub.start({ port, dataDir, adminToken, startTimeoutMs: 1_800_000 });
const recoveryAfterKillMs = child.startMs;
const aggregatesAfterKillSeconds = await child.waitForStore((s) => s.aggregatesReady === 1, 1_800_000);
const killHealth = JSON.parse((await child.get('/health')).body).store as Record<string, number>;
const countAfterKill = countOf((await child.select(countQuery)).rows);
await child.stop();
const afterKill = { listeningSeconds: r2(recoveryAfterKillMs / 1000), aggregatesReadyAfterListeningSeconds: r2(aggregatesAfterKillSeconds), filesBuilt: killHealth.filesBuilt ?? 0, filesBuildMs: killHealth.filesBuildMs ?? null, filesBuildGaveUp: killHealth.filesBuildGaveUp ?? 0, checkpointRefused: killHealth.checkpointRefused ?? 0, observations: countAfterKill };
log(`recovery after kill -9 of pid ${killed} (${KILL_WRITES} observations written just before): listening ${afterKill.listeningSeconds} s after spawn, aggregates ready ${afterKill.aggregatesReadyAfterListeningSeconds} s after listening (${afterKill.filesBuilt ? `built from the store files in ${afterKill.filesBuildMs} ms` : afterKill.filesBuildGaveUp ? 'the file build gave up: rebuilt by query' : 'not built from the files'}), ${countAfterKill} observations`);
if (countAfterKill < expectCount) throw new Error(`after kill -9: ${countAfterKill} observations, expected at least ${expectCount} (the live messages were deleted after their runs)`);
if (countAfterKill !== countBeforeKill) throw new Error(`after kill -9: ${countAfterKill} observations, expected ${countBeforeKill}`);

// ---- Comunica over n3, same queries, in this process (n3 Store in memory, no durability) -----------------------
let comunicaFigures: Record<string, number> | null = null;
let ratios: Record<string, number> | null = null;
if (withComunica) {
  for (const c of observationChunks(config.baseUrl, shape, 1000)) comunica.load(c);
  log(`comunica n3 Store: ${comunica.store.size} quads`);
  async function timeComunica(query: string, runs = COMUNICA_RUNS) {
    const ms: number[] = [];
    let rows: Array<Record<string, string>> = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      rows = await comunica.select(query);
      ms.push(performance.now() - t);
    }
    log(`  comunica ${query.split('\n')[2]!.slice(0, 60)}...: ${ms.map((x) => Math.round(x)).join(', ')} ms`);
    return { medianMs: r2(median(ms)), rows };
  }
  const cLatest = await timeComunica(latestQuery(sensor));
  const cDayGraphs = await timeComunica(dayAverageByGraphs(config.baseUrl, day, shape.sensors));
  const cCount = await timeComunica(countQuery);
  if (Number(cCount.rows[0]!.n) !== shape.observations) throw new Error(`comunica count: ${cCount.rows[0]!.n}`);
  // The hub also holds the live messages of the sustained runs: compare with its latest before them.
  if (cLatest.rows[0]!.obs !== latestBefore) throw new Error('comunica and the hub disagree on the latest observation');
  const ratio = (c: number, h: number) => r2(c / h);
  comunicaFigures = { runs: COMUNICA_RUNS, latestMs: cLatest.medianMs, dayAverageMs: cDayGraphs.medianMs, countMs: cCount.medianMs };
  ratios = { latest: ratio(cLatest.medianMs, latest.medianMs), dayAverage: ratio(cDayGraphs.medianMs, dayGraphs.medianMs), count: ratio(cCount.medianMs, count.medianMs) };
  log(`comunica (median of ${COMUNICA_RUNS}): latest ${cLatest.medianMs} ms, day average ${cDayGraphs.medianMs} ms, count ${cCount.medianMs} ms`);
  log(`ratios comunica/hub: latest x${ratios.latest}, day average x${ratios.dayAverage}, count x${ratios.count}`);
} else log(`comunica: not run at ${QUADS} quads (n3 Store holds quads as JavaScript objects; its heap runs out past ~${COMUNICA_MAX_QUADS})`);

const s8 = sustained.sosa8!;
const l45 = sustained.lorawan45!;
const results = {
  date: new Date().toISOString(),
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version, loadAverage: (await import('node:os')).loadavg() },
  data: { ...shape, quads: QUADS, graphs: 'one per sensor per UTC day (hub/store/graphs.ts observationGraph)' },
  replicas,
  engineAlone: engineMemory,
  loadOptions,
  applyOptions,
  ingestOptions,
  load: {
    ackedSeconds: r2(loadAckMs / 1000),
    appliedSeconds: r2(loadMs / 1000),
    quadsPerSecond: Math.round(QUADS / (loadMs / 1000)),
    rssMB: mb(rssAfterLoad),
    rssMBPerMillionQuads: perM(rssAfterLoad - rssBefore),
    diskMB: mb(diskAfterLoad),
    diskMBPerMillionQuads: perM(diskAfterLoad),
  },
  hubHttp: {
    runs: HUB_RUNS,
    latestMs: latest.medianMs,
    dayAverageMs: dayGraphs.medianMs,
    dayAverageTimeFilterMs: dayFilter.medianMs,
    countMs: count.medianMs,
    latestMinMs: latest.minMs,
    dayAverageMinMs: dayGraphs.minMs,
    countMinMs: count.minMs,
    notFoundMs,
    coldLatestMs,
    settleSeconds: SETTLE_MS / 1000,
  },
  hubChild: { aggregatesReadyAfterListeningSeconds: r2(aggregatesReadySeconds), aggregatesCheckpointLoaded: checkpointLoaded, storeReadyAfterListeningSeconds: r2(storeReadySeconds), startToListeningSeconds: r2(child.startMs / 1000), rssAtListeningMB: mb(childAtStart.rss), rssAfterQueriesMB: mb(childAfterQueries.rss), peakRssMB: mb(childAfterQueries.peak) },
  recoveryAfterKill9Seconds: r2(recoveryAfterKillMs / 1000),
  afterKill9: afterKill,
  inProcessHub: { stopSeconds: r2(stopMs / 1000) },
  hubStoreInProcess: direct,
  sustained,
  capacity: capacities,
  duringRunaway: runaway,
  comunica: comunicaFigures,
  ratiosComunicaOverHub: ratios,
  virtuoso: null,
  end: { diskMB: mb(dirBytes(dataDir)) },
  targets: TARGETS,
  met: {
    latest: latest.medianMs <= TARGETS.latestMs,
    dayAverage: dayGraphs.medianMs <= TARGETS.dayAverageMs,
    count: count.medianMs <= TARGETS.countMs,
    insert: s8.ackedPerSecond >= TARGETS.insertMsgsPerS && s8.overloaded === 0,
    insertVisibleP99: s8.visibleP99Ms !== null && s8.visibleP99Ms <= TARGETS.visibleP99Ms,
    lorawan: l45.ackedPerSecond >= TARGETS.lorawanMsgsPerS && l45.overloaded === 0,
    lorawanVisibleP99: l45.visibleP99Ms !== null && l45.visibleP99Ms <= TARGETS.visibleP99Ms,
    duringRunaway: runaway.healthMaxMs <= TARGETS.duringRunawayMs && runaway.updateMaxMs <= TARGETS.duringRunawayMs,
    at10M: QUADS >= 10_000_000,
    fullRate: RATE_SCALE === 1,
  },
};
const outDir = join(import.meta.dirname, 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'store.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, `store-${QUADS}.json`), `${JSON.stringify(results, null, 2)}\n`);
log(`targets met: ${JSON.stringify(results.met)}; wrote test/bench/results/store.json`);
process.exit(0); // the 'exit' handler removes the data dir
