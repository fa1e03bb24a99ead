// OSC benchmark (issue 11 item 5): simulated NGIMUs in a sender process stream OSC bundles (one message each, timetag =
// send time, as an NGIMU does) at 4,500 / 17,500 / 35,000 messages/s in total, 1,000 messages/s per IMU (5 message types
// x 200 Hz). Rows: the ceiling, a raw UDP -> UDP forwarder process (no decoding, no semantic work), and the hub (OSC
// listener -> pipeline -> ngimu-osc mapfile -> durable embedded store -> live state), one fresh hub per rate. Goodput =
// durably stored / sent; latency = datagram (its timetag) -> stored (the pipeline's accept resolved `stored`) and ->
// live value (LiveState observer). Run: npm run bench osc [rates=4500,17500 seconds=5]. Writes test/bench/results/osc.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OscListener } from '../../hub/bindings/osc/listener.ts';
import { msToTimetag } from '../../hub/bindings/osc/packet.ts';
import type { AcceptResult, DeviceFrame, UplinkOrigin } from '../../hub/bindings/types.ts';
import type { Hub } from '../../hub/hub.ts';
import { ngimuBundle } from '../../hub/simulators/ngimu.ts';

const arg = (name: string, fallback: string) => process.argv.slice(2).find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1) ?? fallback;
const now = () => Date.now(); // the wall clock: the same in the sender, the forwarder and the hub
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ADDRESSES = ['/sensors', '/quaternion', '/euler', '/linear', '/earth'];
const PER_IMU = 1000;

// ---- child modes: the sender (simulated NGIMUs) and the ceiling's forwarder --------------------------------------
if (process.argv[2] === '--sender') {
  const o = JSON.parse(process.argv[3]!) as { port: number; ports: number[]; rate: number; seconds: number; startAt: number };
  const sockets: Socket[] = [];
  for (const p of o.ports) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(p, '127.0.0.1', () => r()));
    sockets.push(s);
  }
  // Templates: the bytes of each message type, the timetag (bytes 8-15) written per send (osc-min encodes a message in
  // ~15 us: at 35,000/s that alone would take half a core from the hub being measured).
  const templates = ADDRESSES.map((a) => ngimuBundle(a, 0, 1.25));
  const total = Math.round(o.rate * o.seconds);
  let sent = 0;
  let errors = 0;
  await sleep(Math.max(0, o.startAt - Date.now()));
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * o.rate));
      while (sent < due) {
        const k = sent % (sockets.length * ADDRESSES.length);
        const buf = Buffer.from(templates[k % ADDRESSES.length]!);
        const [sec, frac] = msToTimetag(now());
        buf.writeUInt32BE(sec, 8);
        buf.writeUInt32BE(frac, 12);
        sockets[Math.floor(k / ADDRESSES.length)]!.send(buf, o.port, '127.0.0.1', (e) => e && (errors += 1));
        sent += 1;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  await sleep(200);
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ sent, errors, cpuMs: Math.round((cpu.user + cpu.system) / 1000), seconds: (performance.now() - t0) / 1000 })}\n`);
  for (const s of sockets) s.close();
  process.exit(0);
}
if (process.argv[2] === '--forwarder') {
  process.stdout.on('error', () => process.exit(0)); // the benchmark went away
  const o = JSON.parse(process.argv[3]!) as { to: number };
  const s = createSocket('udp4');
  let forwarded = 0;
  s.on('message', (m) => {
    s.send(m, o.to, '127.0.0.1');
    forwarded += 1;
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  s.setRecvBufferSize(4 * 1024 * 1024);
  process.stdout.write(`${JSON.stringify({ port: s.address().port })}\n`);
  process.on('SIGTERM', () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ forwarded, cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`);
    process.exit(0);
  });
  await new Promise(() => {});
}

// ---- the benchmark ------------------------------------------------------------------------------------------------
const RATES = arg('rates', '4500,17500,35000').split(',').map(Number);
const SECONDS = Number(arg('seconds', '5'));
const ROWS = arg('rows', 'ceiling,hub').split(',');
const TARGETS = { goodputAt4500: 1, goodputAt17500: 0.999, goodputAt35000: 0.99, storedP99MsAt17500: 100, liveP99MsAt17500: 100, ceilingRatioAt35000: 0.5 };
const TOKEN = 'bench-osc-token-0123456789abcdef0123';
const ROOT = join(import.meta.dirname, '..', '..');
const log = (s: string) => process.stdout.write(`${s}\n`);
const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (xs: number[], p: number) => (xs.length ? r2([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!) : -1);

interface Row {
  row: string; rate: number; imus: number; sent: number; stored: number; goodput: number; storedPerS: number;
  storedP50Ms: number; storedP99Ms: number; liveP50Ms: number; liveP99Ms: number; quadsPerMessage?: number;
  dropped?: Record<string, number>; cpu: Record<string, number>; rssMb?: number; errors?: string[];
}

async function udpPorts(n: number): Promise<number[]> {
  const socks: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    socks.push(s);
  }
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

function child(mode: string, options: unknown): { proc: ChildProcess; lines: () => string[] } {
  const proc = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, mode, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  return { proc, lines: () => out.trim().split('\n').filter(Boolean) };
}

async function send(port: number, ports: number[], rate: number): Promise<{ sent: number; errors: number; cpuMs: number }> {
  const s = child('--sender', { port, ports, rate, seconds: SECONDS, startAt: Date.now() + 1000 });
  const exited = new Promise((r) => s.proc.once('exit', r));
  await Promise.race([exited, sleep((SECONDS + 30) * 1000)]);
  if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
  try {
    return JSON.parse(s.lines().at(-1)!);
  } catch {
    return { sent: Math.round(rate * SECONDS), errors: -1, cpuMs: -1 };
  }
}

/** Waits until `count()` reaches `target` or stops growing for 2 s (at most 30 s). */
async function drain(count: () => number, target: number): Promise<void> {
  let last = -1;
  let still = 0;
  for (const t0 = Date.now(); Date.now() - t0 < 30_000 && count() < target; ) {
    await sleep(100);
    const c = count();
    still = c === last ? still + 100 : 0;
    last = c;
    if (still >= 2000) break;
  }
}

/** Epoch ms (fractional) of an xsd:dateTime with up to microseconds. */
function isoMs(iso: string): number {
  const m = /^(.*\.\d{3})(\d*)Z$/.exec(iso);
  return m ? Date.parse(`${m[1]}Z`) + Number(`0.${m[2] || '0'}`) : Date.parse(iso);
}

async function ceilingRow(rate: number): Promise<Row> {
  const imus = Math.ceil(rate / PER_IMU);
  const sink = createSocket('udp4');
  sink.setMaxListeners(0);
  const latencies: number[] = [];
  let received = 0;
  sink.on('message', (m) => {
    received += 1;
    latencies.push(now() - ((m.readUInt32BE(8) - 2_208_988_800) * 1000 + (m.readUInt32BE(12) * 1000) / 4_294_967_296));
  });
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  sink.setRecvBufferSize(4 * 1024 * 1024);
  const fwd = child('--forwarder', { to: sink.address().port });
  // a loaded machine takes a while to start a tsx process; 60 s, then the row is an error, not a crash
  for (const t0 = Date.now(); fwd.lines().length === 0 && Date.now() - t0 < 60_000; ) await sleep(50);
  if (fwd.lines().length === 0) {
    fwd.proc.kill('SIGKILL');
    sink.close();
    throw new Error('forwarder did not start within 60 s');
  }
  const fwdPort = (JSON.parse(fwd.lines()[0]!) as { port: number }).port;
  const result = await send(fwdPort, await udpPorts(imus), rate);
  await drain(() => received, result.sent);
  fwd.proc.kill('SIGTERM');
  await Promise.race([new Promise((r) => fwd.proc.once('exit', r)), sleep(3000)]);
  const fwdStats = fwd.lines().length > 1 ? (JSON.parse(fwd.lines().at(-1)!) as { forwarded: number; cpuMs: number }) : undefined;
  sink.close();
  return {
    row: 'ceiling (UDP -> UDP forwarder)', rate, imus, sent: result.sent, stored: received, goodput: r2(received / result.sent), storedPerS: Math.round(received / SECONDS),
    storedP50Ms: pct(latencies, 0.5), storedP99Ms: pct(latencies, 0.99), liveP50Ms: -1, liveP99Ms: -1,
    cpu: { forwarderMs: fwdStats?.cpuMs ?? -1, senderMs: result.cpuMs },
  };
}

async function hubRow(rate: number): Promise<Row> {
  const imus = Math.ceil(rate / PER_IMU);
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-bench-osc-'));
  let hub: Hub | undefined;
  const errors: string[] = [];
  try {
    // imported here, not at the top: the sender and forwarder processes run this file too and need none of the hub
    const { validateConfig } = await import('../../hub/config.ts');
    const { createHub } = await import('../../hub/hub.ts');
    const { freePort } = await import('../helpers/hub.ts');
    const [oscPort] = await udpPorts(1);
    hub = await createHub(validateConfig({ host: '127.0.0.1', httpPort: await freePort(), coapPort: 0, mqttPort: 0, packetForwarderPort: 0, oscPort, dataDir, adminToken: TOKEN, logLevel: 'warn' }), { logger: false });
    await hub.start();
    const auth = { authorization: `Bearer ${TOKEN}` };
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/ngimu-osc', headers: { ...auth, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings', 'ngimu-osc.ttl'), 'utf8') });
    if (put.statusCode >= 300) throw new Error(`PUT mapping: ${put.statusCode}`);
    const ports = await udpPorts(imus);
    const stored: number[] = [];
    const live: number[] = [];
    for (const p of ports) {
      const id = `urn:dev:ngimu:bench-${p}`;
      const res = await hub.app.inject({ method: 'POST', url: '/thing-models/ngimu-imu/instantiate?register=true', headers: auth, payload: { id, placeholders: { TITLE: `IMU ${p}`, ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: `127.0.0.1:${p}`, SEND_PORT: oscPort, MAPPING: 'ngimu-osc' } } });
      if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
      hub.liveState.subscribe(id, (m) => live.push(now() - isoMs(String(m.meta.observedAt))));
    }
    // datagram -> stored: the pipeline's answer to the listener, timed against the message's timetag
    const pipeline = hub.uplinks;
    const accept = pipeline.accept.bind(pipeline);
    pipeline.accept = async (frame: DeviceFrame, origin: UplinkOrigin): Promise<AcceptResult> => {
      const r = await accept(frame, origin);
      if (r.status === 'stored' && frame.observedAt) stored.push(now() - isoMs(frame.observedAt));
      return r;
    };
    const osc = hub.transports.find((t) => t.name === 'osc') as OscListener;
    const quads0 = hub.routing.router.counters.quads;
    const cpu0 = process.cpuUsage();
    const result = await send(oscPort!, ports, rate);
    await drain(() => stored.length, result.sent);
    const cpu = process.cpuUsage(cpu0);
    const st = osc.stats();
    const failed = hub.routing.router.counters.failedByCode;
    if (Object.keys(failed).length) errors.push(`router failures ${JSON.stringify(failed)}`);
    return {
      row: 'hub (OSC -> store -> live)', rate, imus, sent: result.sent, stored: stored.length, goodput: Math.floor((stored.length / result.sent) * 10_000) / 10_000,
      storedPerS: Math.round(stored.length / SECONDS), storedP50Ms: pct(stored, 0.5), storedP99Ms: pct(stored, 0.99), liveP50Ms: pct(live, 0.5), liveP99Ms: pct(live, 0.99),
      quadsPerMessage: stored.length ? r2((hub.routing.router.counters.quads - quads0) / stored.length) : 0,
      dropped: { notReceived: result.sent - st.datagrams, flooded: st.flooded, overloaded: st.overloaded, rejected: st.rejected, invalid: st.invalid + st.truncated + st.oversized },
      cpu: { hubMs: Math.round((cpu.user + cpu.system) / 1000), senderMs: result.cpuMs }, rssMb: Math.round(process.memoryUsage().rss / 1048576),
      ...(errors.length ? { errors } : {}),
    };
  } catch (e) {
    return { row: 'hub (OSC -> store -> live)', rate, imus, sent: 0, stored: 0, goodput: 0, storedPerS: 0, storedP50Ms: -1, storedP99Ms: -1, liveP50Ms: -1, liveP99Ms: -1, cpu: {}, errors: [(e as Error).message] };
  } finally {
    await Promise.race([hub?.stop(), sleep(20_000)]).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printRow(r: Row): void {
  log(`${r.row.padEnd(31)} ${String(r.rate).padStart(6)}/s  imus ${String(r.imus).padStart(2)}  sent ${String(r.sent).padStart(7)}  stored ${String(r.stored).padStart(7)}  goodput ${(r.goodput * 100).toFixed(2).padStart(6)}%  ` +
    `stored p50 ${r.storedP50Ms} p99 ${r.storedP99Ms} ms  live p50 ${r.liveP50Ms} p99 ${r.liveP99Ms} ms${r.quadsPerMessage !== undefined ? `  quads/msg ${r.quadsPerMessage}` : ''}` +
    `${r.dropped ? `  dropped ${JSON.stringify(r.dropped)}` : ''}  cpu ${JSON.stringify(r.cpu)}${r.errors ? `  ERRORS ${r.errors.join('; ')}` : ''}`);
}

log(`osc benchmark: NGIMU bundles (1 message each, 5 types x 200 Hz per IMU), ${SECONDS} s per rate, rates ${RATES.join(', ')}`);
const rows: Row[] = [];
for (const rate of RATES) {
  if (ROWS.includes('ceiling')) {
    const c = await ceilingRow(rate).catch((e: Error): Row => ({ row: 'ceiling (UDP -> UDP forwarder)', rate, imus: 0, sent: 0, stored: 0, goodput: 0, storedPerS: 0, storedP50Ms: -1, storedP99Ms: -1, liveP50Ms: -1, liveP99Ms: -1, cpu: {}, errors: [e.message] }));
    rows.push(c);
    printRow(c);
  }
  if (ROWS.includes('hub')) {
    const h = await hubRow(rate);
    rows.push(h);
    printRow(h);
  }
}
const at = (prefix: string, rate: number) => rows.find((r) => r.row.startsWith(prefix) && r.rate === rate);
const hub35 = at('hub', 35_000);
const ceil35 = at('ceiling', 35_000);
const measured = {
  goodputAt4500: at('hub', 4500)?.goodput ?? -1,
  goodputAt17500: at('hub', 17_500)?.goodput ?? -1,
  goodputAt35000: hub35?.goodput ?? -1,
  storedP99MsAt17500: at('hub', 17_500)?.storedP99Ms ?? -1,
  liveP99MsAt17500: at('hub', 17_500)?.liveP99Ms ?? -1,
  // only against a ceiling that kept up (a starved forwarder would make any hub look fast)
  ceilingRatioAt35000: hub35 && ceil35 && ceil35.goodput >= 0.99 ? r2(hub35.storedPerS / ceil35.storedPerS) : -1,
};
const met = {
  goodputAt4500: measured.goodputAt4500 >= TARGETS.goodputAt4500,
  goodputAt17500: measured.goodputAt17500 >= TARGETS.goodputAt17500,
  goodputAt35000: measured.goodputAt35000 >= TARGETS.goodputAt35000,
  storedP99MsAt17500: measured.storedP99MsAt17500 >= 0 && measured.storedP99MsAt17500 < TARGETS.storedP99MsAt17500,
  liveP99MsAt17500: measured.liveP99MsAt17500 >= 0 && measured.liveP99MsAt17500 < TARGETS.liveP99MsAt17500,
  ceilingRatioAt35000: measured.ceilingRatioAt35000 >= TARGETS.ceilingRatioAt35000,
};
const resultsDir = join(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'osc.json'), `${JSON.stringify({ date: new Date().toISOString(), setup: { seconds: SECONDS, perImu: PER_IMU, addresses: ADDRESSES }, rows, measured, targets: TARGETS, met }, null, 2)}\n`);
log(`measured: ${JSON.stringify(measured)}`);
log(`targets met: ${JSON.stringify(met)}`);
process.exit(0);
