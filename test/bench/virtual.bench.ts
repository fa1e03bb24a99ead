// `npm run bench virtual`: 1,000 virtual sensors (window per Thing, filter, average) over a 10,000 messages/s stream of
// live values: deploy time, samples/s sustained, dropped, input -> stored output latency, CPU, heap per sensor.
// Other parts (rules, the robot loop) are BenchSections in `SECTIONS`; results go to test/bench/results/virtual.json.
// Arguments: sensors=1000 rate=10000 seconds=10 loopSeconds=5 loopHz=100,400 loopStores=default,oneEngine sections=virtualSensors,rules,robot-loop (default all;
// a partial run still writes virtual.json, with only those sections' targets).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import type { VirtualOutput } from '../../hub/virtual/service.ts';
import type { BenchSection, BenchSectionResult } from './virtual-section.ts';
import { robotLoopSection, rulesSection } from './virtual-rules.ts';

const args = Object.fromEntries(process.argv.slice(2).filter((a) => a.includes('=')).map((a) => a.split('=', 2) as [string, string]));

const pct = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10 : NaN);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? Math.round(s[s.length - 1]! * 10) / 10 : NaN };
};

export const virtualSensorsSection: BenchSection = {
  name: 'virtualSensors',
  async run(hub: TestHub, a: Record<string, string>): Promise<BenchSectionResult> {
    const SENSORS = Number(a.sensors ?? 1000);
    const RATE = Number(a.rate ?? 10_000);
    const SECONDS = Number(a.seconds ?? 10);
    const ids = Array.from({ length: SENSORS }, (_, i) => `urn:bench:thing:${i}`);
    const tdOf = (id: string) => ({ '@context': 'https://www.w3.org/2022/wot/td/v1.1', id, title: id, securityDefinitions: { nosec_sc: { scheme: 'nosec' } }, security: ['nosec_sc'], properties: { value: { type: 'number', readOnly: true, forms: [{ href: `http://example.org/${i(id)}` }] } } });
    const i = (id: string) => id.slice(id.lastIndexOf(':') + 1);
    for (const id of ids) await hub.directory.put(id, tdOf(id) as never);
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const d0 = performance.now();
    for (const id of ids) {
      await hub.virtual.put(`avg-${i(id)}`, {
        inputs: { v: { thing: id, property: 'value' } },
        operators: [
          { id: 'ok', op: 'filter', from: 'v', where: 'value > -100 and value < 100' },
          { id: 'w', op: 'window', from: 'ok', size: 60, aggregates: ['avg', 'max', 'p95'], emitEvery: 1 },
        ],
        outputs: { average: { from: 'w', select: 'avg' }, p95: { from: 'w', select: 'p95' } },
      });
    }
    const deployMs = performance.now() - d0;
    global.gc?.();
    const heapPerSensor = (process.memoryUsage().heapUsed - heap0) / SENSORS;

    const latencies: number[] = [];
    const onOutput = (o: VirtualOutput) => latencies.push(Date.now() - o.time);
    hub.virtual.on('output', onOutput);
    const sensors = ids.map((id) => hub.virtual.sensor(`avg-${i(id)}`)!);
    const before = sensors.reduce((s, x) => s + x.counters.samples, 0);
    const cpu0 = process.cpuUsage();
    const rss0 = process.memoryUsage().rss;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const t0 = performance.now();
    const total = RATE * SECONDS;
    let sent = 0;
    let lagMax = 0;
    // 10 ms ticks: each sends what the schedule owes (RATE/100 per tick), round robin over the Things.
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
        lagMax = Math.max(lagMax, due - sent);
        const now = Date.now();
        const iso = new Date(now).toISOString();
        for (; sent < due; sent++) {
          const id = ids[sent % SENSORS]!;
          hub.liveState.publish({ meta: { thingId: id, protocol: 'bench', receivedAt: iso, observedAt: iso, messageId: `b${sent}` }, payload: { value: 20 + 10 * Math.sin(sent / 1000) } });
        }
        if (sent >= total) {
          clearInterval(tick);
          resolve();
        }
      }, 10);
    });
    const sendMs = performance.now() - t0;
    await hub.virtual.settled();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const rss = process.memoryUsage().rss;
    loop.disable();
    // How long a datagram, a rule or an fsync completion could wait behind the sensors' work.
    const eventLoopDelayMs = { p50: Math.round(loop.percentile(50) / 1e4) / 100, p99: Math.round(loop.percentile(99) / 1e4) / 100, max: Math.round(loop.max / 1e4) / 100 };
    hub.virtual.off('output', onOutput);
    const processed = sensors.reduce((s, x) => s + x.counters.samples, 0) - before;
    const dropped = sensors.reduce((s, x) => s + x.counters.dropped, 0);
    const errors = sensors.reduce((s, x) => s + x.counters.errors, 0);
    const published = sensors.reduce((s, x) => s + x.counters.published, 0);
    const lastError = sensors.find((x) => x.counters.lastError)?.counters.lastError;
    if (lastError) console.log(`an operator failed: ${lastError}`);
    const latency = pct(latencies);
    const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10;
    const results = {
      sensors: SENSORS, rate: RATE, seconds: SECONDS, messages: total,
      deploy: { ms: Math.round(deployMs), perSensorMs: Math.round((deployMs / SENSORS) * 10) / 10 },
      sent: { ms: Math.round(sendMs), perSecond: Math.round((total / sendMs) * 1000), maxBacklog: lagMax },
      processedPerSecond: Math.round((processed / wallMs) * 1000), processed, dropped, errors,
      outputs: { published, stored: latencies.length, perSecond: Math.round((latencies.length / wallMs) * 1000) },
      inputToStoredOutputMs: latency,
      cpuPercentOfOneCore: cpuPercent,
      eventLoopDelayMs,
      heapBytesPerSensor: Math.round(heapPerSensor),
      rssGrowthMB: Math.round((rss - rss0) / 1e5) / 10,
    };
    const targets = {
      sustains: `${RATE} messages/s through ${SENSORS} sensors with none dropped`,
      latency: 'p99 input -> stored output < 500 ms',
      cpu: 'under 100 % of one core (the hub process, store worker included)',
      memory: 'under 100 kB heap per deployed sensor',
    };
    const met = {
      sustains: processed === total && dropped === 0 && results.sent.perSecond >= RATE * 0.95,
      latency: latency.p99 < 500,
      cpu: cpuPercent < 100,
      memory: heapPerSensor < 100_000,
    };
    console.log(`${SENSORS} sensors deployed in ${results.deploy.ms} ms (${results.deploy.perSensorMs} ms each), ${results.heapBytesPerSensor} B heap per sensor`);
    console.log(`${total} messages at ${results.sent.perSecond}/s: processed ${processed} (${results.processedPerSecond}/s), dropped ${dropped}, errors ${errors}; ${published} outputs (${results.outputs.perSecond}/s stored)`);
    console.log(`input -> stored output ${JSON.stringify(latency)} ms; CPU ${cpuPercent} % of one core; event loop delay ${JSON.stringify(eventLoopDelayMs)} ms; RSS +${results.rssGrowthMB} MB`);
    for (const id of ids) await hub.virtual.delete(`avg-${i(id)}`);
    return { results, targets, met };
  },
};

/**
 * The parts of the benchmark, in order. The robot loop first: it runs its own hubs, and after the other parts this
 * process holds their 1,000 sensors' and rules' heap (~300 MB), whose collections then land in the loop's latency.
 */
const SECTIONS: BenchSection[] = [robotLoopSection, virtualSensorsSection, rulesSection];

const hub = await startTestHub({ logLevel: 'silent' });
const all: Record<string, unknown> = {};
const targets: Record<string, string> = {};
const met: Record<string, boolean> = {};
try {
  const only = args.sections?.split(',');
  for (const section of SECTIONS.filter((s) => !only || only.includes(s.name))) {
    console.log(`--- ${section.name}`);
    const r = await section.run(hub, args);
    all[section.name] = r.results;
    for (const [k, v] of Object.entries(r.targets)) targets[`${section.name}.${k}`] = v;
    for (const [k, v] of Object.entries(r.met)) met[`${section.name}.${k}`] = v;
  }
} finally {
  await hub.stop();
}
const out = join(import.meta.dirname, 'results');
mkdirSync(out, { recursive: true });
const load = loadavg().map((l) => Number(l.toFixed(1)));
writeFileSync(join(out, 'virtual.json'), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cores: cpus().length, loadAverage: load, ...all, targets, met }, null, 2)}\n`);
console.log(`load average ${load.join(' ')} on ${cpus().length} cores`);
console.log(`targets met: ${JSON.stringify(met)}`);
process.exit(0);
