// Sustained ingestion for the store benchmark: messages offered at a fixed rate for a fixed time (open loop, as devices
// send), one store.insert() per message; acked rate, 503 overloaded count, ack latency and SPARQL visibility measured.
import type { QuadStore } from '../../../hub/store/quad-store.ts';
import { observationGraph } from '../../../hub/store/graphs.ts';
import { EX, SOSA, XSD, observationTriples, sensorThingId } from './sosa-data.ts';

export interface Message {
  ntriples: string;
  graph: string;
  /** ASK that is true once the message is visible. */
  ask: string;
}

export interface IngestFigures {
  offeredPerSecond: number;
  seconds: number;
  quadsPerMessage: number;
  offered: number;
  acked: number;
  overloaded: number;
  failed: number;
  ackedPerSecond: number;
  ackP50Ms: number;
  ackP99Ms: number;
  /** Visibility after the ack of sampled messages (each polled from its ack with 1 ms between ASKs; an upper bound by that 1 ms and the ASK's own time). */
  visibilitySamples: number;
  visibleP50Ms: number | null;
  visibleP99Ms: number | null;
  /** Samples not visible within the poll bound (counted as not meeting any bound). */
  notVisible: number;
  /** Time after the last ack until the last sample was visible. */
  drainMs: number | null;
  /** Most sampled messages waiting for a polling slot at once (0: every sample was polled from its ack). */
  maxSamplesWaitingForAPoll: number;
}

/** Samples polled at once (each is its own ASK loop). */
const MAX_POLLS = 64;
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]! : null);
const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);

/** One 8-quad SOSA observation (the benchmark's message shape), live message `i`. */
export function sosaMessage(baseUrl: string, i: number, at: number): Message {
  const sensor = i % 1000;
  const t = new Date(at);
  const o = `<${EX}live/${i}>`;
  const ntriples = observationTriples(o, sensor, t, (15 + (i % 200) / 10).toFixed(1));
  const graph = observationGraph(baseUrl, sensorThingId(sensor), t);
  return { ntriples, graph, ask: `ASK { GRAPH <${graph}> { ${o} <${SOSA}madeBySensor> ?s } }` };
}

const QUDT = 'http://qudt.org/schema/qudt/';
const UNIT = 'http://qudt.org/vocab/unit/';
const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const HUB = 'https://w3id.org/wot-hub#';
const VALUES = [
  ['temperature', 'DEG_C'],
  ['humidity', 'PERCENT_RH'],
  ['battery', 'V'],
] as const;

/**
 * A LoRaWAN uplink of three values as the shipped mapfile writes it (issue 9): per value ~15 quads - the SOSA
 * observation, a QUDT QuantityValue, an NGSI-LD Property and the entity link - 45 in all. `slim`: the SOSA observation
 * with its unit only (5 quads per value, 15 per uplink); the QUDT and NGSI-LD views would be derived at query time.
 */
export function lorawanMessage(baseUrl: string, i: number, at: number, slim = false): Message {
  const device = i % 1000;
  const thing = `${baseUrl}/things/${encodeURIComponent(sensorThingId(device))}`;
  const t = new Date(at);
  const time = `"${t.toISOString()}"^^<${XSD}dateTime>`;
  let nt = '';
  let first = '';
  VALUES.forEach(([prop, unit], v) => {
    const o = `<${EX}uplink/${i}/${prop}>`;
    if (!first) first = o;
    const value = `"${(v * 10 + (i % 97) / 10).toFixed(1)}"^^<${XSD}double>`;
    nt +=
      `${o} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${SOSA}Observation> .\n` +
      `${o} <${SOSA}madeBySensor> <${thing}> .\n` +
      `${o} <${SOSA}observedProperty> <${thing}/properties/${prop}> .\n` +
      `${o} <${SOSA}resultTime> ${time} .\n` +
      `${o} <${SOSA}hasSimpleResult> ${value} .\n`;
    if (slim) return;
    const r = `<${EX}uplink/${i}/${prop}/result>`;
    const p = `<${EX}uplink/${i}/${prop}/ngsi>`;
    nt +=
      `${o} <${SOSA}phenomenonTime> ${time} .\n` +
      `${o} <${SOSA}hasFeatureOfInterest> <${EX}link/${i}> .\n` +
      `${o} <${SOSA}hasResult> ${r} .\n` +
      `${r} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${QUDT}QuantityValue> .\n` +
      `${r} <${QUDT}numericValue> ${value} .\n` +
      `${r} <${QUDT}unit> <${UNIT}${unit}> .\n` +
      `<${thing}> <${NGSI}${prop}> ${p} .\n` +
      `${p} <${NGSI}hasValue> ${value} .\n` +
      `${p} <${NGSI}observedAt> ${time} .\n` +
      `${p} <${HUB}observation> ${o} .\n`;
  });
  const graph = observationGraph(baseUrl, sensorThingId(device), t);
  return { ntriples: nt, graph, ask: `ASK { GRAPH <${graph}> { ${first} <${SOSA}madeBySensor> ?s } }` };
}

export interface IngestOptions {
  rate: number;
  seconds: number;
  /** Message `i` at time `at` (ms since epoch). */
  message(i: number, at: number): Message;
  /** Sampled messages per second whose visibility is measured. */
  samplesPerSecond?: number;
  /** A sample not visible within this long counts as not visible. */
  visibleBoundMs?: number;
  startIndex?: number;
}

/** Offers `rate` messages/s for `seconds` (ticks every 5 ms), measuring acks and visibility of samples. */
export async function sustain(store: QuadStore, o: IngestOptions): Promise<IngestFigures> {
  const samplesPerSecond = o.samplesPerSecond ?? 100;
  const every = Math.max(1, Math.round(o.rate / samplesPerSecond));
  const bound = o.visibleBoundMs ?? 30_000;
  const acks: number[] = [];
  const visible: number[] = [];
  let acked = 0;
  let overloaded = 0;
  let failed = 0;
  let offered = 0;
  let lastAck = 0;
  let quadsPerMessage = 0;
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  const wall0 = Date.now();
  const end = t0 + o.seconds * 1000;
  let notVisible = 0;
  let lastVisibleAt = 0;

  // Each sampled message is polled from its ack on, concurrently with the others (at most MAX_POLLS at once; a sample
  // past that waits for a slot, and that wait counts in its visibility). Polled one after the other, as this did
  // before, a sample waited behind every earlier sample's ASKs: at 100 samples/s with ASKs of ~1-100 ms under load the
  // queue grew and "visibility" measured the poller (2-3 s at 10k msgs/s on 3 engines, while every ASK was true the
  // first time it was asked).
  const waiting: Array<{ ask: string; ackedAt: number }> = [];
  let polling = 0;
  let maxWaiting = 0;
  const polls = new Set<Promise<void>>();
  const poll = async (s: { ask: string; ackedAt: number }): Promise<void> => {
    for (;;) {
      if (await store.ask(s.ask).catch(() => false)) {
        const now = performance.now();
        visible.push(now - s.ackedAt);
        lastVisibleAt = Math.max(lastVisibleAt, now);
        return;
      }
      if (performance.now() - s.ackedAt > bound) {
        notVisible++;
        return;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const startPoll = (s: { ask: string; ackedAt: number }): void => {
    polling++;
    const p = poll(s).finally(() => {
      polling--;
      polls.delete(p);
      const next = waiting.shift();
      if (next) startPoll(next);
    });
    polls.add(p);
  };
  const sampleAcked = (s: { ask: string; ackedAt: number }): void => {
    if (polling < MAX_POLLS) return startPoll(s);
    waiting.push(s);
    maxWaiting = Math.max(maxWaiting, waiting.length);
  };

  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - t0) / 1000) * o.rate);
    for (; offered < due; offered++) {
      const i = (o.startIndex ?? 0) + offered;
      const m = o.message(i, wall0 + offered);
      if (!quadsPerMessage) quadsPerMessage = m.ntriples.split('\n').length - 1;
      const sent = performance.now();
      // Only the ASK of a sampled message is kept for its ack: a closure over `m` kept every in-flight message's text
      // alive (~2 KB each; at 35k msgs/s offered with acks seconds behind, a 60 s run ran out of heap at 4 GB).
      const ask = offered % every === 0 ? m.ask : undefined;
      const p: Promise<void> = store.insert(m.ntriples, m.graph).then(
        () => {
          const now = performance.now();
          acked++;
          lastAck = now;
          if (acks.length < 2_000_000) acks.push(now - sent);
          if (ask !== undefined) sampleAcked({ ask, ackedAt: now });
          inFlight.delete(p);
        },
        (e: Error) => {
          if (e.name === 'OverloadedError') overloaded++;
          else failed++;
          inFlight.delete(p);
        },
      );
      inFlight.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(inFlight);
  const ackSeconds = (lastAck - t0) / 1000;
  while (polls.size) await Promise.all([...polls]);
  return {
    offeredPerSecond: o.rate,
    seconds: o.seconds,
    quadsPerMessage,
    offered,
    acked,
    overloaded,
    failed,
    ackedPerSecond: Math.round(acked / Math.max(ackSeconds, o.seconds)),
    ackP50Ms: r2(pct(acks, 0.5))!,
    ackP99Ms: r2(pct(acks, 0.99))!,
    visibilitySamples: visible.length + notVisible,
    visibleP50Ms: r2(pct(visible, 0.5)),
    visibleP99Ms: notVisible > visible.length / 100 ? null : r2(pct(visible, 0.99)),
    notVisible,
    drainMs: lastVisibleAt ? r2(lastVisibleAt - lastAck) : null,
    maxSamplesWaitingForAPoll: maxWaiting,
  };
}

export interface CapacityFigures {
  /** Highest offered rate that passed: every message acked, none refused, visibility p99 within `visibleP99Ms`. */
  maxPassingPerSecond: number | null;
  probes: Array<{ offeredPerSecond: number; pass: boolean; ackedPerSecond: number; overloaded: number; ackP99Ms: number; visibleP99Ms: number | null; backlogAtEnd: number }>;
}

/**
 * The rate the store sustains for a message shape: offered rates double from `lo` until a probe fails (or `hi`), then
 * bisect between the last pass and the first failure, `probes` probes in all. A probe passes when every message is
 * acked (no 503, no failure, acked at >= 98 % of the offered rate), sampled visibility p99 is within `visibleP99Ms` and
 * the engines' backlog at its end (`backlog()`, writes not yet applied) is at most one second of messages. The store
 * drains (`drained`) before each probe. Starting low keeps what a heavy shape leaves in the store small (45-quad
 * messages at 21,000/s for 8 s would be 7.5M quads, most of one engine's WASM memory). Fixed offered rates tell
 * whether a target is met; this tells by how much it is missed.
 */
export async function capacity(store: QuadStore, o: { message: IngestOptions['message']; lo: number; hi: number; probes: number; seconds: number; visibleP99Ms: number; startIndex: number; drained(): Promise<void>; backlog(): number }): Promise<CapacityFigures & { offered: number }> {
  let pass: number | null = null;
  let fail: number | null = null;
  let offered = 0;
  const probes: CapacityFigures['probes'] = [];
  for (let k = 0; k < o.probes; k++) {
    const rate: number = fail === null ? Math.min(o.hi, pass === null ? o.lo : pass * 2) : Math.round(((pass ?? 0) + fail) / 2);
    if (pass !== null && (rate === pass || (fail !== null && fail - pass <= Math.max(100, pass * 0.05)))) break;
    await o.drained();
    const f = await sustain(store, { rate, seconds: o.seconds, message: o.message, startIndex: o.startIndex + offered });
    offered += f.offered;
    // Acks come from the log; the engines apply behind them (a query applies what it reads first). A rate whose backlog
    // grows past a second of messages in one probe is not sustained, whatever the acks and visibility say.
    const backlogAtEnd = o.backlog();
    const ok = f.overloaded === 0 && f.failed === 0 && f.acked === f.offered && f.ackedPerSecond >= rate * 0.98 && f.visibleP99Ms !== null && f.visibleP99Ms <= o.visibleP99Ms && backlogAtEnd <= rate;
    probes.push({ offeredPerSecond: rate, pass: ok, ackedPerSecond: f.ackedPerSecond, overloaded: f.overloaded, ackP99Ms: f.ackP99Ms, visibleP99Ms: f.visibleP99Ms, backlogAtEnd });
    if (ok) {
      pass = rate;
      if (rate >= o.hi) break;
    } else fail = rate;
  }
  return { maxPassingPerSecond: pass, probes, offered };
}
