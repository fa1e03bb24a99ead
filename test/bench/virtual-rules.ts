// Parts of `npm run bench virtual` for rules and the robot loop: OSC datagram -> rule -> downlink queue -> URScript line at the robot (p50/p99/max at 100 and 400 Hz), and 1,000 rules over a 10,000 messages/s stream (runs/s, coalesced, latency, CPU, memory).
import { fork, type ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mouseRule } from '../../hub/rules/mouse.ts';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { validateConfig } from '../../hub/config.ts';
import type { PeerMessage, PeerRun } from './robot-peer.ts';
import type { BenchSection } from './virtual-section.ts';
import { freeUdpPort } from '../helpers/udp.ts';
import type { OscDatagramEvent } from '../../hub/bindings/osc/listener.ts';
import type { UrscriptLineEvent } from '../../hub/bindings/urscript/adapter.ts';

const ROOT = join(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};
const stats = (xs: number[]) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: xs.length ? Math.round(Math.max(...xs) * 100) / 100 : Number.NaN });

/**
 * Linux scheduler figures of this process's threads (/proc/self/task/<tid>/schedstat: ns on a CPU, ns runnable but
 * waiting for one): the main thread (tid = pid) apart, the others summed. Undefined where /proc has no schedstat.
 */
function schedStat(): { main: { run: number; wait: number }; others: { run: number; wait: number } } | undefined {
  try {
    const out = { main: { run: 0, wait: 0 }, others: { run: 0, wait: 0 } };
    for (const tid of readdirSync('/proc/self/task')) {
      let fields: number[];
      try {
        fields = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
      } catch {
        continue; // the thread ended meanwhile
      }
      const into = Number(tid) === process.pid ? out.main : out.others;
      into.run += fields[0]!;
      into.wait += fields[1]!;
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Datagram -> robot command latency: /euler datagrams whose yaw encodes a sequence number, read back from the movel
 * pose. The mouse and the robot run in their own process (test/bench/robot-peer.ts), as they are other machines: the
 * figure is the hub's, not the hub's plus its peers' turns on one event loop.
 */
export const robotLoopSection: BenchSection = {
  name: 'robot-loop',
  async run(_hub, args) {
    const seconds = Number(args.loopSeconds ?? 5);
    // The hub's own store defaults (two live engines and a standby), not the test hub's lean store; and,
    // for comparison, one engine (replicas 1, no standby), what a robot cell's edge box may choose.
    const defaults = validateConfig({ dataDir: '/nonexistent', adminToken: TEST_ADMIN_TOKEN }).store;
    const stores: Record<string, Record<string, unknown>> = {
      default: { replicas: defaults.replicas, standby: defaults.standby, workerNice: defaults.workerNice },
      oneEngine: { replicas: 1, standby: 0, workerNice: defaults.workerNice },
    };
    const names = String(args.loopStores ?? 'default,oneEngine').split(',').filter((n) => n in stores);
    const results: Record<string, unknown> = {};
    for (const name of names) {
      console.log(`store ${name}: ${JSON.stringify(stores[name])}`);
      results[name] = await robotLoop(seconds, stores[name]!, String(args.loopHz ?? '100,400').split(',').map(Number));
    }
    const at = (store: string, hz: number) => (results[store] as Record<string, { p99: number; commandsAtRobot: number }> | undefined)?.[`${hz}Hz`];
    const met = (store: string, hz: number) => {
      const r = at(store, hz);
      return r !== undefined && r.commandsAtRobot > 0 && r.p99 < 10;
    };
    return {
      results,
      targets: { p99at100Hz: 'p99 input datagram -> robot command < 10 ms at 100 Hz (default store)', p99at400Hz: 'p99 input datagram -> robot command < 10 ms at 400 Hz (default store)', oneEngine400Hz: 'the same at 400 Hz with one store engine' },
      met: { p99at100Hz: met('default', 100), p99at400Hz: met('default', 400), ...(names.includes('oneEngine') ? { oneEngine400Hz: met('oneEngine', 400) } : {}) },
    };
  },
};

/** One hub with this store configuration: each rate (100 Hz then 400 Hz by default) for `seconds`; figures per rate. */
async function robotLoop(seconds: number, store: Record<string, unknown>, rates: number[]): Promise<Record<string, unknown>> {
  const peer: ChildProcess = fork(join(import.meta.dirname, 'robot-peer.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (type: PeerMessage['type']) =>
    new Promise<PeerMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`robot peer: no '${type}' within 120 s`)), 120_000);
      const on = (m: PeerMessage) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        peer.off('message', on);
        resolve(m);
      };
      peer.on('message', on);
    });
  let hub: TestHub | undefined;
  const results: Record<string, unknown> = {};
  try {
    const robot = (await next('robot')) as Extract<PeerMessage, { type: 'robot' }>;
    hub = await startTestHub({ oscPort: await freeUdpPort(), logLevel: 'silent', store }, { listen: true });
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/ngimu-osc', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/ngimu-osc.ttl'), 'utf8') });
    if (put.statusCode !== 201) throw new Error(put.body);
    const reg = async (model: string, id: string, placeholders: Record<string, unknown>) => {
      const r = await hub!.app.inject({ method: 'POST', url: `/thing-models/${model}/instantiate?register=true`, headers: { authorization: hub!.bearer }, payload: { id, placeholders } });
      if (r.statusCode !== 201) throw new Error(r.body);
    };
    await reg('ngimu-imu', 'urn:bench:imu', { TITLE: 'NGIMU', ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: '127.0.0.1', SEND_PORT: 9000, MAPPING: 'ngimu-osc' });
    await reg('bno055-orientation', 'urn:bench:bno', { TITLE: 'BNO055', ADAPTER_ID: 'urn:wot-hub:adapter:mqtt', MAC: '00112233BEEF', MAPPING: 'ngimu-osc' });
    await reg('ur-robot', 'urn:bench:robot', { TITLE: 'UR5', ADAPTER_ID: 'urn:wot-hub:adapter:urscript', ROBOT_ADDRESS: `127.0.0.1:${robot.port}`, DOMAIN: 'default' });
    const rr = await hub.app.inject({ method: 'PUT', url: '/rules/mouse', headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: mouseRule({ imu: 'urn:bench:imu', bno: 'urn:bench:bno', robot: 'urn:bench:robot' }) });
    if (rr.statusCode !== 201) throw new Error(rr.body);
    for (const hz of rates) {
      const cpu0 = process.cpuUsage();
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      // The hub's side of each datagram, on the clock the peer stamps with: when its listener got it, when the line left.
      const rx: bigint[] = [];
      const tx: bigint[] = [];
      const onDatagram = (m: unknown) => void rx.push((m as OscDatagramEvent).at);
      const onLine = (m: unknown) => void tx.push((m as UrscriptLineEvent).at);
      subscribe('wot-hub:osc:datagram', onDatagram);
      subscribe('wot-hub:urscript:line', onLine);
      const sched0 = schedStat();
      peer.send({ type: 'run', hz, seconds, oscPort: hub.config.oscPort } satisfies PeerRun);
      const done = (await next('done')) as Extract<PeerMessage, { type: 'done' }>;
      unsubscribe('wot-hub:osc:datagram', onDatagram);
      unsubscribe('wot-hub:urscript:line', onLine);
      const sched1 = schedStat();
      const segments = latencySegments(done, rx, tx);
      const wallMs = performance.now() - t0;
      const ms = (ns: number) => Math.round(ns / 1e6);
      const threads = sched0 && sched1 ? {
        mainThread: { cpuMs: ms(sched1.main.run - sched0.main.run), runnableWaitingMs: ms(sched1.main.wait - sched0.main.wait), wallMs: Math.round(wallMs) },
        otherThreads: { cpuMs: ms(sched1.others.run - sched0.others.run), runnableWaitingMs: ms(sched1.others.wait - sched0.others.wait) },
      } : undefined;
      const cpu = process.cpuUsage(cpu0);
      const hubCpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100);
      const eventLoopPercent = Math.round(performance.eventLoopUtilization(elu0).utilization * 100);
      const l = done.latenciesMs;
      // The first datagram of a run also pays for the code paths' first use (JIT): shown apart, and kept in p99/max.
      results[`${hz}Hz`] = { sent: done.sent, commandsAtRobot: l.length, lateSends: done.lateSends, hubCpuPercentOfOneCore: hubCpuPercent, eventLoopPercent, firstMs: Math.round((l[0] ?? Number.NaN) * 100) / 100, ...stats(l), segments, threads };
      console.log(`${hz} Hz: ${done.sent} datagrams (${done.lateSends} sent > 2 ms late), ${l.length} movel at the robot (the rest coalesced / superseded, latest wins); datagram -> robot ${JSON.stringify(stats(l))} ms, the first ${Math.round((l[0] ?? Number.NaN) * 10) / 10} ms; hub process CPU ${hubCpuPercent} % of one core, its event loop busy ${eventLoopPercent} %`);
      if (segments) console.log(`  of which: datagram waiting for the hub's listener ${JSON.stringify(segments.toHubListener)} ms, the hub's work (decode, map, rule, queue, line) ${JSON.stringify(segments.inHub)} ms, line to the robot's parser ${JSON.stringify(segments.toRobot)} ms`);
      if (threads) console.log(`  hub main thread: ${threads.mainThread.cpuMs} ms on a CPU and ${threads.mainThread.runnableWaitingMs} ms runnable but waiting for one, in ${threads.mainThread.wallMs} ms; its other threads (store engines, GC, I/O): ${threads.otherThreads.cpuMs} ms on a CPU, ${threads.otherThreads.runnableWaitingMs} ms waiting`);
    }
    results.rule = hub.rules.get('mouse').status;
  } finally {
    await hub?.stop();
    if (peer.connected) peer.send({ type: 'stop' });
    await new Promise<void>((r) => {
      if (peer.exitCode !== null) return r();
      const t = setTimeout(() => (peer.kill('SIGKILL'), r()), 5000);
      peer.once('exit', () => (clearTimeout(t), r()));
    });
  }
  return results;
}

/**
 * The datagram -> robot latency in three parts, per movel: peer send -> the hub's OSC listener (the datagram waits in
 * the socket for the hub's event loop), listener -> the URScript line handed to the socket (the hub's own work), socket
 * -> the robot's parser. Undefined unless every datagram reached the listener and every line the robot, in order.
 */
function latencySegments(done: Extract<PeerMessage, { type: 'done' }>, rx: bigint[], tx: bigint[]) {
  if (rx.length !== done.sentNs.length || tx.length !== done.arrivals.length) return undefined;
  const toHub: number[] = [];
  const inHub: number[] = [];
  const toRobot: number[] = [];
  for (const [j, [k, atNs]] of done.arrivals.entries()) {
    const sent = BigInt(done.sentNs[k]!);
    toHub.push(Number(rx[k]! - sent) / 1e6);
    inHub.push(Number(tx[j]! - rx[k]!) / 1e6);
    toRobot.push(Number(BigInt(atNs) - tx[j]!) / 1e6);
  }
  return { toHubListener: stats(toHub), inHub: stats(inHub), toRobot: stats(toRobot) };
}

/** 1,000 rules (one per Thing) over 10,000 messages/s (10 per Thing per second): each run writes an output. */
export const rulesSection: BenchSection = {
  name: 'rules',
  async run(hub, args) {
    const RULES = Number(args.rules ?? 1000);
    const RATE = Number(args.ruleRate ?? 10_000);
    const SECONDS = Number(args.ruleSeconds ?? 5);
    const ids = Array.from({ length: RULES }, (_, i) => `urn:bench:rules:t${i}`);
    const t0 = performance.now();
    for (const id of ids) {
      await hub.directory.put(id, { '@context': 'https://www.w3.org/2022/wot/td/v1.1', id, title: id, 'hub:domain': 'bench', securityDefinitions: { n: { scheme: 'nosec' } }, security: 'n', properties: { v: { type: 'number', forms: [{ href: 'x' }] } } });
    }
    globalThis.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    for (const [i, id] of ids.entries()) {
      await hub.rules.put(`r${i}`, { domain: 'bench', things: { t: id }, triggers: [{ thing: 't', property: 'v' }], condition: 'value >= 0', accumulator: { update: 'state + 1', max: 1e9 }, actions: [{ write: 'sent', value: 'message.sent' }] });
    }
    const deployMs = Math.round(performance.now() - t0);
    globalThis.gc?.();
    const heapPerRule = (process.memoryUsage().heapUsed - heap0) / RULES;
    const lat: number[] = [];
    const unsub = ids.map((_, i) => hub.liveState.subscribe(`urn:wot-hub:rule:r${i}`, (m) => {
      const sent = (m.payload.outputs as { sent?: number } | undefined)?.sent;
      if (typeof sent === 'number') lat.push(performance.now() - sent);
    }));
    const cpu0 = process.cpuUsage();
    const rss0 = process.memoryUsage().rss;
    const start = performance.now();
    const total = RATE * SECONDS;
    let k = 0;
    // 1 ms slices: RATE/1000 messages each, round-robin over the Things.
    while (k < total) {
      const due = start + (k / RATE) * 1000;
      if (performance.now() < due) {
        await sleep(1);
        continue;
      }
      const id = ids[k % RULES]!;
      hub.liveState.publish({ meta: { thingId: id, protocol: 'bench', receivedAt: new Date().toISOString() }, payload: { v: k, sent: performance.now() } });
      k += 1;
      if (k % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    const sendMs = performance.now() - start;
    await sleep(1000);
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - start;
    for (const u of unsub) u();
    let runs = 0;
    let coalesced = 0;
    let failures = 0;
    for (let i = 0; i < RULES; i++) {
      const s = hub.rules.get(`r${i}`).status;
      runs += s.runs;
      coalesced += s.coalesced;
      failures += s.failures;
    }
    const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100);
    const results = { rules: RULES, deployMs, messages: total, sentPerSecond: Math.round(total / (sendMs / 1000)), runs, runsPerSecond: Math.round(runs / (wall / 1000)), coalesced, failures, triggerToOutputMs: stats(lat), cpuPercentOfOneCore: cpuPercent, heapBytesPerRule: Math.round(heapPerRule), rssGrowthMB: Math.round((process.memoryUsage().rss - rss0) / 1e5) / 10 };
    console.log(`${RULES} rules deployed in ${deployMs} ms; ${total} messages at ${results.sentPerSecond}/s: ${runs} runs, ${coalesced} coalesced, ${failures} failures; trigger -> output ${JSON.stringify(results.triggerToOutputMs)} ms; CPU ${cpuPercent} % of one core; ${results.heapBytesPerRule} B heap per rule`);
    for (let i = 0; i < RULES; i++) await hub.rules.remove(`r${i}`);
    for (const id of ids) await hub.directory.delete(id);
    return {
      results,
      targets: { sustains: `${RATE} messages/s over ${RULES} rules, every message run or coalesced, no failures`, latency: 'p99 trigger -> output < 100 ms', cpu: 'under 100 % of one core' },
      met: { sustains: failures === 0 && runs + coalesced >= total * 0.99 && results.sentPerSecond >= RATE * 0.95, latency: lat.length > 0 && results.triggerToOutputMs.p99 < 100, cpu: cpuPercent < 100 },
    };
  },
};
