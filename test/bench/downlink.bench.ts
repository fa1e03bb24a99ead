// Benchmark of the downlink queues: 10,000 Things with queued commands (durable log on a temp dataDir): queue and dequeue
// rate, uplink -> SENT latency (target p99 < 200 ms, a LoRaWAN RX1 window with margin), memory per queued command.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DownlinkService } from '../../hub/downlink/service.ts';
import type { DownlinkAdapter, DownlinkRoute } from '../../hub/downlink/types.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = () => {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};

const arg = (name: string, d: number) => Number(process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? d);
const THINGS = arg('things', 10_000);
const RATE = arg('rate', 2000); // uplinks per second in the latency run

const routes: DownlinkRoute[] = Array.from({ length: THINGS }, (_, i) => ({
  thingId: `urn:dev:bench:${i}`,
  adapterId: `if-${i}`,
  keyType: 'devEui',
  deviceKey: i.toString(16).padStart(16, '0').toUpperCase(),
  interfaceType: 'uplink_triggered',
  deviceDefinitions: {},
  codecs: [],
}));
const byThing = new Map(routes.map((r) => [r.thingId, [r]]));
// Stands in for the MQTT publish (an in-process aedes publish is a few µs; the broker is not what is measured here).
const adapter: DownlinkAdapter = { binding: 'bench', mode: 'push', serves: () => true, send: async () => ({ evidence: 'bench' }) };

const dir = mkdtempSync(join(tmpdir(), 'downlink-bench-'));
const service = new DownlinkService(dir, { entriesOf: (id) => byThing.get(id) ?? [], lastActive: () => undefined, lookup: () => undefined }, { queueLimit: 64, keepFinished: THINGS * 3 });
service.registerAdapter(adapter);
await service.open();

function pct(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(2));
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

// 1. queue: one command per Thing, 256 submits in flight (each resolves after its fsync'd group)
const before = heap();
let cpu0 = process.cpuUsage();
let t0 = performance.now();
for (let i = 0; i < THINGS; i += 256) {
  await Promise.all(routes.slice(i, i + 256).map((r, j) => service.submit(r.thingId, 'setInterval', { seconds: 60 + j })));
}
const queueMs = performance.now() - t0;
const queueCpu = process.cpuUsage(cpu0);
const bytesPerCommand = Math.round((heap() - before) / THINGS);

// 2. dequeue: an uplink for every Thing at once; time until all are SENT
cpu0 = process.cpuUsage();
t0 = performance.now();
for (const r of routes) service.onUplink(r, { binding: 'bench', receivedAt: Date.now() });
while (service.counters.sent < THINGS) await new Promise((r) => setImmediate(r));
const dequeueMs = performance.now() - t0;
const dequeueCpu = process.cpuUsage(cpu0);
const cpuUs = (c: NodeJS.CpuUsage) => Math.round((c.user + c.system) / THINGS);
const burstLatency = pct(service.triggerLatencies);

// 3. latency at a steady uplink rate: queue one more command per Thing, then uplinks at RATE/s
for (let i = 0; i < THINGS; i += 256) await Promise.all(routes.slice(i, i + 256).map((r) => service.submit(r.thingId, 'setInterval', { seconds: 30 })));
service.triggerLatencies.length = 0;
const target = service.counters.sent + THINGS;
const startedAt = performance.now();
let k = 0;
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(THINGS, Math.floor(((performance.now() - startedAt) / 1000) * RATE));
    for (; k < due; k++) service.onUplink(routes[k]!, { binding: 'bench', receivedAt: Date.now() });
    if (k >= THINGS) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
while (service.counters.sent < target) await new Promise((r) => setTimeout(r, 1));
const steady = pct(service.triggerLatencies);
const logBytes = service.stats().logBytes;
await service.close();
rmSync(dir, { recursive: true, force: true });

const results = {
  date: new Date().toISOString(),
  node: process.version,
  things: THINGS,
  loadAverage: (await import('node:os')).loadavg().map((l) => Number(l.toFixed(1))),
  queue: { commands: THINGS, ms: Math.round(queueMs), perSecond: Math.round((THINGS / queueMs) * 1000), cpuMicrosPerCommand: cpuUs(queueCpu) },
  dequeue: { commands: THINGS, ms: Math.round(dequeueMs), perSecond: Math.round((THINGS / dequeueMs) * 1000), cpuMicrosPerCommand: cpuUs(dequeueCpu), uplinkToSentMs: burstLatency },
  steady: { uplinksPerSecond: RATE, uplinkToSentMs: steady },
  heapBytesPerQueuedCommand: bytesPerCommand,
  logBytes,
};
const targets = { p99UplinkToSentUnder200ms: steady.p99 < 200, burstP99Under200ms: burstLatency.p99 < 200 };
console.log(`load average ${results.loadAverage.join(' ')} on ${(await import('node:os')).cpus().length} cores`);
console.log(`queue ${THINGS} commands (fsync'd): ${results.queue.ms} ms (${results.queue.perSecond}/s, ${results.queue.cpuMicrosPerCommand} µs CPU each); ${bytesPerCommand} B heap per queued command`);
console.log(`dequeue on ${THINGS} uplinks at once: ${results.dequeue.ms} ms (${results.dequeue.perSecond}/s, ${results.dequeue.cpuMicrosPerCommand} µs CPU each), uplink -> SENT ${JSON.stringify(burstLatency)}`);
console.log(`uplink -> SENT at ${RATE} uplinks/s: ${JSON.stringify(steady)}`);
console.log(`targets met: ${JSON.stringify(targets)}`);
const out = join(import.meta.dirname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'downlink.json'), `${JSON.stringify({ ...results, targets }, null, 2)}\n`);
process.exit(0);
