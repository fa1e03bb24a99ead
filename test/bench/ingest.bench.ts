// Ingest benchmark (issue 10 item 9, FLINT's setup on loopback): 6 MQTT publishers -> broker -> hub (decode + map +
// durable store) at 4,500 ... 35,000 messages/s, 513-byte TTS uplinks mapped by the shipped LoRaWAN mapfile, 10 s per
// rate. Rows: mosquitto -> hub (external broker subscription), the hub's embedded broker, and the ceiling: a raw
// MQTT -> UDP forwarder with no semantic work (what FLINT measured). Goodput = durably stored / sent; latency =
// publish -> stored (the live value is published only after the store's durable insert resolved).
// Run: npm run bench ingest [-- rates=4500,17500 seconds=10]. Writes test/bench/results/ingest.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Session } from 'node:inspector/promises';
import { join, relative } from 'node:path';
import { validateConfig } from '../../hub/config.ts';
import { createHub, type Hub } from '../../hub/hub.ts';
import { fleet, type SimulatedDevice } from '../../hub/simulators/formats.ts';
import { freePort } from '../helpers/hub.ts';
import { procUsage, startMosquitto, type Mosquitto } from './ingest/mosquitto.ts';
import { registerLoRaWANFleet } from './ingest/fleet-setup.ts';

const arg = (name: string, fallback: string) => process.argv.slice(2).find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1) ?? fallback;
const RATES = arg('rates', '4500,10500,14500,17500,35000').split(',').map(Number);
const SECONDS = Number(arg('seconds', '10'));
const PUBLISHERS = 6;
const BYTES = 513;
const DEVICES = Number(arg('devices', '600'));
const ROWS = arg('rows', 'ceiling,mosquitto,embedded').split(',');
// profile=1: a V8 CPU profile of the hub's main thread during each hub row, summarised as self time per source file.
const PROFILE = arg('profile', '0') === '1';
const TARGETS = { goodputAt17500: 1, goodputAt35000: 0.999, p99Ms: 100, ceilingRatio: 0.5 };
const TOKEN = 'bench-ingest-token-0123456789abcdef';
const APPLICATION = 'bench';
const TENANT = 'hub';

const log = (s: string) => process.stdout.write(`${s}\n`);
const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (xs: number[], p: number) => (xs.length ? r2([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!) : -1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PublisherResult { sent: number; acked: number; failed: number; unacked?: number; cpuMs: number; rssMb: number; pubackP50Ms: number; pubackP99Ms: number; complete?: boolean }
interface Row {
  row: string;
  rate: number;
  sent: number;
  stored: number;
  goodput: number;
  storedPerS: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  quadsPerMessage?: number;
  cpu: Record<string, number>;
  rssMb: Record<string, number>;
  pubackP99Ms?: number;
  /** profile=1: the hub main thread's self time per source file (ms, top 12), where the time goes. */
  profileMs?: Record<string, number>;
  /** Why the row is incomplete (a publisher without a result, a hub that did not start, ...); the row then fails its targets. */
  errors?: string[];
}

/** Runs the 6 publishers against `url` at `rate` in total for SECONDS; resolves with their results and the failures of
 * the ones that gave none (a publisher's missing result is a failure of the row, never a crash of the benchmark). */
async function publish(url: string, devices: SimulatedDevice[], rate: number): Promise<{ results: PublisherResult[]; sent: number; errors: string[] }> {
  const startAt = Date.now() + 1500;
  const per = Math.ceil(devices.length / PUBLISHERS);
  const children: Array<Promise<PublisherResult | string>> = [];
  for (let p = 0; p < PUBLISHERS; p++) {
    const slice = devices.slice(p * per, (p + 1) * per);
    const payload = JSON.stringify({ url, username: 'bench', password: TOKEN, devices: slice, rate: rate / PUBLISHERS, seconds: SECONDS, bytes: BYTES, application: APPLICATION, tenant: TENANT, seed: p + 1, startAt });
    children.push(new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'ingest', 'publisher.ts'), payload], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += String(d)));
      // The publisher stops sending at SECONDS + 10 s and waits 20 s for PUBACKs; past that it is asked for its partial
      // result (SIGTERM), and killed 5 s later.
      const term = setTimeout(() => child.kill('SIGTERM'), (SECONDS + 45) * 1000);
      const kill = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 50) * 1000);
      child.on('error', (e) => resolve(`publisher ${p + 1}: ${e.message}`));
      child.on('exit', (code, signal) => {
        clearTimeout(term);
        clearTimeout(kill);
        try {
          resolve(JSON.parse(out.trim().split('\n').pop()!) as PublisherResult);
        } catch {
          resolve(`publisher ${p + 1} exited ${code ?? signal} without a result`);
        }
      });
    }));
  }
  const settled = await Promise.all(children);
  const results = settled.filter((r): r is PublisherResult => typeof r !== 'string');
  const errors = settled.filter((r): r is string => typeof r === 'string');
  for (const r of results) if (r.complete === false) errors.push(`a publisher sent ${r.sent} of ${Math.round((rate / PUBLISHERS) * SECONDS)} with ${r.unacked ?? 0} unacknowledged at its deadline`);
  // A publisher without a result counts as having sent its whole share, none of it stored: goodput stays honest.
  const missing = PUBLISHERS - results.length;
  return { results, sent: results.reduce((s, r) => s + r.sent, 0) + Math.round((missing * rate * SECONDS) / PUBLISHERS), errors };
}

/** Starts a CPU profile of this process's main thread; the returned stop() gives self time per file (top 12). */
async function startProfile(): Promise<() => Promise<Record<string, number>>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    const dt = profile.timeDeltas ?? [];
    (profile.samples ?? []).forEach((id, i) => {
      const node = byId.get(id)!;
      const url = node.callFrame.url;
      const key = url ? (url.includes('node_modules/') ? `npm:${url.split('node_modules/').pop()!.split('/').slice(0, url.includes('node_modules/@') ? 2 : 1).join('/')}` : relative(process.cwd(), url.replace(/^file:\/\//, ''))) : `(${node.callFrame.functionName || 'native'})`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    return Object.fromEntries([...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => [k, Math.round(v)]));
  };
}

/** Waits until `count()` reaches `target` or stops growing for 2 s (at most 30 s). */
async function drain(count: () => number, target: number): Promise<void> {
  let last = -1;
  let still = 0;
  for (const t0 = Date.now(); Date.now() - t0 < 30_000 && count() < target; ) {
    await sleep(100);
    const now = count();
    still = now === last ? still + 100 : 0;
    last = now;
    if (still >= 2000) break;
  }
}

async function ceilingRow(rate: number, devices: SimulatedDevice[]): Promise<Row> {
  const mosq = await startMosquitto(await freePort());
  const udp = createSocket('udp4');
  let fwd: ChildProcess | undefined;
  try {
    const latencies: number[] = [];
    let received = 0;
    udp.on('message', (msg) => {
      received += 1;
      const m = /"received_at":"([^"]+)"/.exec(msg.toString('latin1'));
      if (m) latencies.push(Date.now() - Date.parse(m[1]!));
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    // The default 208 KiB receive buffer holds ~400 datagrams: a sink that drops them would understate the ceiling.
    try {
      udp.setRecvBufferSize(4 << 20);
    } catch {
      // capped by net.core.rmem_max; the default buffer is used
    }
    fwd = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'ingest', 'forwarder.ts'), JSON.stringify({ url: mosq.url, topic: 'v3/+/devices/+/up', udpPort: (udp.address() as { port: number }).port })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let fwdOut = '';
    fwd.stdout!.on('data', (d) => (fwdOut += String(d)));
    // 60 s: starting a tsx child on a loaded machine (shared cores) has taken over 15 s.
    for (const t0 = Date.now(); !fwdOut.includes('ready') && Date.now() - t0 < 60_000; ) await sleep(50);
    if (!fwdOut.includes('ready')) throw new Error('the forwarder did not subscribe within 60 s');
    const mosqBefore = procUsage(mosq.pid);
    const { results, sent, errors } = await publish(mosq.url, devices, rate);
    await drain(() => received, sent);
    const mosqAfter = procUsage(mosq.pid);
    const fwdResult = await stopChild(fwd, () => fwdOut);
    fwd = undefined;
    return {
      row: 'ceiling (MQTT -> UDP forwarder)',
      rate,
      sent,
      stored: received,
      goodput: sent ? Math.floor((received / sent) * 10000) / 10000 : 0,
      storedPerS: Math.round(received / SECONDS),
      p50Ms: pct(latencies, 0.5),
      p99Ms: pct(latencies, 0.99),
      p999Ms: pct(latencies, 0.999),
      cpu: { forwarderMs: fwdResult?.cpuMs ?? -1, mosquittoMs: mosqAfter.cpuMs - mosqBefore.cpuMs, publishersMs: results.reduce((s, r) => s + r.cpuMs, 0) },
      rssMb: { forwarder: fwdResult?.rssMb ?? -1, mosquitto: mosqAfter.rssMb },
      ...(errors.length ? { errors } : {}),
    };
  } finally {
    if (fwd) await stopChild(fwd, () => '');
    udp.close();
    await mosq.stop();
  }
}

async function stopChild(child: ChildProcess, out: () => string): Promise<{ cpuMs: number; rssMb: number } | undefined> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  try {
    return JSON.parse(out().trim().split('\n').pop()!) as { cpuMs: number; rssMb: number };
  } catch {
    return undefined;
  }
}

/** One rate through a hub on a fresh data dir (and, for `mosquitto`, a fresh broker) with the fleet registered, so a
 * backlog left by one rate cannot poison the next; `mode` says which broker the publishers reach it through. */
async function hubRow(mode: 'mosquitto' | 'embedded', rate: number, devices: SimulatedDevice[]): Promise<Row> {
  const name = mode === 'embedded' ? 'hub (embedded broker)' : 'hub (mosquitto -> hub)';
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-bench-ingest-'));
  let mosq: Mosquitto | undefined;
  let hub: Hub | undefined;
  try {
    const mqttPort = mode === 'embedded' ? await freePort() : 0;
    if (mode === 'mosquitto') mosq = await startMosquitto(await freePort());
    const config = validateConfig({
      host: '127.0.0.1',
      httpPort: await freePort(),
      coapPort: 0,
      dataDir,
      adminToken: TOKEN,
      logLevel: 'warn',
      packetForwarderPort: 0,
      oscPort: 0,
      mqttPort,
      ...(mosq ? { mqttUrl: mosq.url } : {}),
    });
    hub = await createHub(config, { logger: false });
    await hub.start();
    const things = await registerLoRaWANFleet(hub, devices, TOKEN);
    let stored = 0;
    const latencies: number[] = [];
    for (const thingId of things) {
      hub.liveState.subscribe(thingId, (m) => {
        stored += 1;
        const at = Date.parse(String(m.meta.observedAt ?? m.meta.receivedAt));
        if (Number.isFinite(at)) latencies.push(Date.now() - at);
      });
    }
    const url = mode === 'embedded' ? `mqtt://127.0.0.1:${mqttPort}` : mosq!.url;
    const quadsBefore = hub.routing.router.counters.quads;
    const cpu0 = process.cpuUsage();
    const mosq0 = mosq ? procUsage(mosq.pid) : undefined;
    const stopProfile = PROFILE ? await startProfile() : undefined;
    const { results, sent, errors } = await publish(url, devices, rate);
    await drain(() => stored, sent);
    const profileMs = await stopProfile?.();
    const cpu = process.cpuUsage(cpu0);
    const mosq1 = mosq ? procUsage(mosq.pid) : undefined;
    const quads = hub.routing.router.counters.quads - quadsBefore;
    const c = hub.routing.router.counters;
    if (c.failed) errors.push(`router failures ${JSON.stringify(c.failedByCode)}`);
    return {
      row: name,
      rate,
      sent,
      stored,
      goodput: sent ? Math.floor((stored / sent) * 10000) / 10000 : 0,
      storedPerS: Math.round(stored / SECONDS),
      p50Ms: pct(latencies, 0.5),
      p99Ms: pct(latencies, 0.99),
      p999Ms: pct(latencies, 0.999),
      quadsPerMessage: stored ? r2(quads / stored) : 0,
      cpu: { hubMs: Math.round((cpu.user + cpu.system) / 1000), ...(mosq0 && mosq1 ? { mosquittoMs: mosq1.cpuMs - mosq0.cpuMs } : {}), publishersMs: results.reduce((s, r) => s + r.cpuMs, 0) },
      rssMb: { hub: Math.round(process.memoryUsage().rss / 1048576), ...(mosq1 ? { mosquitto: mosq1.rssMb } : {}) },
      pubackP99Ms: results.length ? Math.max(...results.map((r) => r.pubackP99Ms)) : -1,
      ...(profileMs ? { profileMs } : {}),
      ...(errors.length ? { errors } : {}),
    };
  } catch (e) {
    return { row: name, rate, sent: 0, stored: 0, goodput: 0, storedPerS: 0, p50Ms: -1, p99Ms: -1, p999Ms: -1, cpu: {}, rssMb: {}, errors: [(e as Error).message] };
  } finally {
    await Promise.race([hub?.stop(), sleep(15_000)]).catch(() => undefined);
    await mosq?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printRow(r: Row): void {
  log(`${r.row.padEnd(32)} ${String(r.rate).padStart(6)}/s  sent ${String(r.sent).padStart(7)}  stored ${String(r.stored).padStart(7)}  goodput ${(r.goodput * 100).toFixed(2).padStart(6)}%  ` +
    `p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  p99.9 ${r.p999Ms} ms${r.quadsPerMessage !== undefined ? `  quads/msg ${r.quadsPerMessage}` : ''}  cpu ${JSON.stringify(r.cpu)}  rss ${JSON.stringify(r.rssMb)}${r.errors ? `  ERRORS ${r.errors.join('; ')}` : ''}`);
  if (r.profileMs) log(`  hub main thread self ms: ${JSON.stringify(r.profileMs)}`);
}

const devices = fleet(DEVICES, 0x70b3d57eb0000000n);
const rows: Row[] = [];
log(`ingest benchmark: ${PUBLISHERS} publishers, ${BYTES}-byte TTS uplinks, ${DEVICES} devices, ${SECONDS} s per rate, rates ${RATES.join(', ')}`);
if (ROWS.includes('ceiling')) for (const rate of RATES) {
  const row = await ceilingRow(rate, devices).catch((e: Error): Row => ({ row: 'ceiling (MQTT -> UDP forwarder)', rate, sent: 0, stored: 0, goodput: 0, storedPerS: 0, p50Ms: -1, p99Ms: -1, p999Ms: -1, cpu: {}, rssMb: {}, errors: [e.message] }));
  rows.push(row);
  printRow(row);
}
for (const mode of ['mosquitto', 'embedded'] as const) {
  if (!ROWS.includes(mode)) continue;
  for (const rate of RATES) {
    const row = await hubRow(mode, rate, devices);
    rows.push(row);
    printRow(row);
  }
}

const hubRows = rows.filter((r) => r.row.startsWith('hub (mosquitto'));
const at = (rs: Row[], rate: number) => rs.find((r) => r.rate === rate);
const ceiling35 = at(rows.filter((r) => r.row.startsWith('ceiling')), 35_000);
const hub35 = at(hubRows, 35_000);
const measured = {
  goodputAt17500: at(hubRows, 17_500)?.goodput ?? -1,
  goodputAt35000: hub35?.goodput ?? -1,
  p99Ms: at(hubRows, 17_500)?.p99Ms ?? -1,
  ceilingRatio: hub35 && ceiling35 ? r2(hub35.storedPerS / ceiling35.storedPerS) : -1,
};
const met = {
  goodputAt17500: measured.goodputAt17500 >= TARGETS.goodputAt17500,
  goodputAt35000: measured.goodputAt35000 >= TARGETS.goodputAt35000,
  p99Ms: measured.p99Ms >= 0 && measured.p99Ms < TARGETS.p99Ms,
  ceilingRatio: measured.ceilingRatio >= TARGETS.ceilingRatio,
};
const resultsDir = join(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'ingest.json'), `${JSON.stringify({ date: new Date().toISOString(), setup: { publishers: PUBLISHERS, bytes: BYTES, devices: DEVICES, seconds: SECONDS }, rows, measured, targets: TARGETS, met }, null, 2)}\n`);
log(`measured: ${JSON.stringify(measured)}`);
log(`targets met: ${JSON.stringify(met)}`);
process.exit(0);
