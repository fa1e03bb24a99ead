// OBD-II benchmark (issue 11 item 5): N simulated cars (hub/simulators/vehicle.ts, ELM327 over TCP + NMEA, in a child
// process so their CPU is not the hub's) polled by one hub's OBD transport, every car on the same schedule (5 PIDs every
// `interval` ms, DTCs every 10 intervals). Per N: poll cycles stored per second against the schedule's ideal (goodput),
// ELM327 requests per second, timeouts, and latency from a cycle's start (its observation time) to the live value
// (LiveState observer) and to the store (cycle -> frame stored, from the transport's stored counter per second).
// Run: npm run bench obd [vehicles=1,10,50 seconds=10 interval=100]. Writes test/bench/results/obd.json.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const arg = (name: string, fallback: string) => process.argv.slice(2).find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1) ?? fallback;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- child mode: the simulated cars -------------------------------------------------------------------------------
if (process.argv[2] === '--cars') {
  const { startVehicleSimulator } = await import('../../hub/simulators/vehicle.ts');
  const n = Number(process.argv[3]);
  const sims: Array<Awaited<ReturnType<typeof startVehicleSimulator>>> = [];
  for (let i = 0; i < n; i++) sims.push(await startVehicleSimulator({ vin: `1D4GP00R55B${String(100000 + i)}`, gpsIntervalMs: 200 }));
  process.stdout.write(`${JSON.stringify(sims.map((s) => ({ vin: s.vin, host: s.host, port: s.port, gpsPort: s.gpsPort })))}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: Math.round((cpu.user + cpu.system) / 1000) })}\n`);
    await Promise.all(sims.map((s) => s.stop()));
    process.exit(0);
  });
} else {
  const VEHICLES = arg('vehicles', '1,10,50').split(',').map(Number);
  const SECONDS = Number(arg('seconds', '10'));
  const INTERVAL = Number(arg('interval', '100'));
  const TOKEN = 'obd-bench-admin-token-0123456789abcdef';
  const { validateConfig } = await import('../../hub/config.ts');
  const { createHub } = await import('../../hub/hub.ts');
  const { withElm327 } = await import('../../hub/simulators/vehicle.ts');
  const { freePort } = await import('../helpers/hub.ts');
  const pct = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(xs.length * p))]! : NaN);
  const rows: Array<Record<string, unknown>> = [];

  for (const n of VEHICLES) {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--cars', String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const cars = JSON.parse((await lines.next()).value as string) as Array<{ vin: string; host: string; port: number; gpsPort: number }>;
    const dataDir = mkdtempSync(join(tmpdir(), 'obd-bench-'));
    const hub = await createHub(validateConfig({ host: '127.0.0.1', httpPort: await freePort(), coapPort: 0, mqttPort: 0, packetForwarderPort: 0, oscPort: 0, dataDir, adminToken: TOKEN, logLevel: 'warn' }), { logger: false });
    await hub.start();
    const auth = { authorization: `Bearer ${TOKEN}` };
    await hub.app.inject({ method: 'PUT', url: '/mappings/obd-pid', headers: { ...auth, 'content-type': 'text/turtle' }, payload: readFileSync(join(import.meta.dirname, '../../mappings/obd-pid.ttl'), 'utf8') });
    const latencies: number[] = [];
    let measuring = false;
    for (const car of cars) {
      const id = `urn:dev:vin:${car.vin}`;
      const reg = await hub.app.inject({ method: 'POST', url: '/thing-models/obd-vehicle/instantiate?register=true', headers: auth, payload: { id, placeholders: { TITLE: car.vin, ADAPTER_ID: 'urn:wot-hub:adapter:obd', VIN: car.vin, MAPPING: 'obd-pid' } } });
      if (reg.statusCode !== 201) throw new Error(`register ${id}: ${reg.statusCode} ${reg.body}`);
      hub.liveState.subscribe(id, (m) => {
        if (measuring) latencies.push(Date.now() - Date.parse(m.meta.observedAt!));
      });
      const td = withElm327((await hub.directory.get(id)) as Record<string, unknown>, car, INTERVAL);
      // The benchmark's schedule: the five fast PIDs only (withElm327's slow group would make cycles uneven).
      (td['hub:ioAdapterDefinitions'] as Array<{ deviceDefinitions: Record<string, unknown> }>)[0]!.deviceDefinitions.pollSchedule = [{ pids: ['0D', '0C', '05', '04', '2F'], intervalMs: INTERVAL }];
      const put = await hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(id)}`, headers: { ...auth, 'content-type': 'application/td+json' }, payload: td });
      if (put.statusCode >= 300) throw new Error(`PUT ${id}: ${put.statusCode} ${put.body}`);
    }
    const obd = () => hub.transports.find((t) => t.name === 'obd')!.stats();
    // Warm-up: every session past init (ATZ, bitmaps, VIN) and polling.
    for (const end = Date.now() + 20_000; obd()['session.frames']! < n * 3 && Date.now() < end; ) await sleep(100);
    const s0 = obd();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    await sleep(SECONDS * 1000);
    measuring = false;
    const dt = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const s1 = obd();
    child.stdin!.end();
    const carsCpu = JSON.parse(((await lines.next()).value as string) ?? '{}') as { cpuMs?: number };
    await new Promise((r) => child.once('exit', r));
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
    latencies.sort((a, b) => a - b);
    const ideal = (n * 1000) / INTERVAL;
    const stored = (s1.stored! - s0.stored!) / dt;
    const row = {
      vehicles: n,
      intervalMs: INTERVAL,
      cyclesPerS: Math.round(((s1['session.frames']! - s0['session.frames']!) / dt) * 10) / 10,
      storedPerS: Math.round(stored * 10) / 10,
      idealPerS: ideal,
      goodput: Math.round((stored / ideal) * 1000) / 1000,
      requestsPerS: Math.round((s1['session.requests']! - s0['session.requests']!) / dt),
      timeouts: s1['session.timeouts']! - s0['session.timeouts']!,
      rejected: s1.rejected! - s0.rejected!,
      cycleToLiveMs: { p50: pct(latencies, 0.5), p95: pct(latencies, 0.95), p99: pct(latencies, 0.99), max: latencies.at(-1) },
      hubCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (dt * 1000)) * 1000) / 10,
      carsCpuMs: carsCpu.cpuMs,
    };
    rows.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
  const resultsDir = join(import.meta.dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'obd.json'), `${JSON.stringify({ date: new Date().toISOString(), setup: { seconds: SECONDS, intervalMs: INTERVAL, pids: ['0D', '0C', '05', '04', '2F'], dtcEveryIntervals: 10 }, rows }, null, 2)}\n`);
}
