// Simulated road link for the Cookie binding: two Cookie nodes (BT scanner + Doppler radar each, one gateway each) and cars
// passing both with known travel times and DIAC classes; sends over TCP (NUL-framed serial) or MQTT. Ground truth in `plan.cars`.
// The nodes answer the hub's configuration messages (bt-config, radar-config `set`) with ack, or err for values their
// firmware refuses (NODE_LIMITS), on the path they came by (the gateway's TCP stream, or cookie/{gw}/up for cookie/{gw}/down).
import { connect, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { decodeSerial, encodeSerial, escapeAtom, type AnyCookieMessage, type CookieMessage } from '../bindings/cookie/codec.ts';
import { prng } from './sensor.ts';

export interface RoadOptions {
  /** Cars passing origin then destination. */
  cars?: number;
  /** Phones, headsets and other non-vehicle devices seen at one node only (the travel-time filter drops them). */
  pedestrians?: number;
  /** Link length, metres. */
  lengthM?: number;
  /** Simulated start (epoch ms) and mean gap between cars (s). */
  startMs?: number;
  meanGapS?: number;
  /** Radar counting period, s. */
  radarPeriodS?: number;
  seed?: number;
  /** Cookie device ids of the two nodes and their gateways. */
  origin?: string;
  destination?: string;
}

export interface SimulatedCar {
  mac: string;
  /** Bluetooth class of device (hex): hands-free kit 0x200408 or car audio 0x240420. */
  diac: string;
  speedKmh: number;
  /** When the car passes the origin node and the destination node (epoch ms). */
  atOriginMs: number;
  atDestinationMs: number;
  /** Ground truth travel time, s (atDestination - atOrigin). */
  travelTimeS: number;
}

export interface RoadPlan {
  origin: { device: string; gateway: string };
  destination: { device: string; gateway: string };
  lengthM: number;
  cars: SimulatedCar[];
  /** Every message in send order (gateway maps and device status first, then by simulated time). */
  messages: Array<{ gateway: string; at: number; message: AnyCookieMessage }>;
}

const hex = (n: number, digits: number): string => n.toString(16).toUpperCase().padStart(digits, '0');
const macOf = (r: () => number): string => Array.from({ length: 6 }, () => hex(Math.floor(r() * 256), 2)).join(':');

/** The deterministic plan of a run: cars, their ground truth and the messages both nodes send. */
export function planRoad(o: RoadOptions = {}): RoadPlan {
  const r = prng(o.seed ?? 14);
  const lengthM = o.lengthM ?? 1200;
  const startMs = o.startMs ?? Date.UTC(2026, 0, 15, 8, 0, 0);
  const period = (o.radarPeriodS ?? 60) * 1000;
  const origin = { device: o.origin ?? 'road-a', gateway: `gw-${o.origin ?? 'road-a'}` };
  const destination = { device: o.destination ?? 'road-b', gateway: `gw-${o.destination ?? 'road-b'}` };
  const cars: SimulatedCar[] = [];
  let t = startMs;
  for (let i = 0; i < (o.cars ?? 20); i++) {
    t += Math.round((0.2 + r() * 1.6) * (o.meanGapS ?? 20) * 1000);
    const speedKmh = Math.round((40 + r() * 40) * 10) / 10;
    const travelMs = Math.round((lengthM / (speedKmh / 3.6)) * 1000);
    cars.push({ mac: macOf(r), diac: r() < 0.7 ? '200408' : '240420', speedKmh, atOriginMs: t, atDestinationMs: t + travelMs, travelTimeS: travelMs / 1000 });
  }
  const seq = new Map<string, number>();
  const next = (device: string): number => {
    const n = seq.get(device) ?? 0;
    seq.set(device, n + 1);
    return n;
  };
  const msg = (device: string, sensor: number, type: string, payload: Record<string, unknown>): CookieMessage => ({ device, sensor, type, action: 'data', seq: next(`${device}/${sensor}`), payload });
  const timed: Array<{ gateway: string; at: number; message: AnyCookieMessage }> = [];
  for (const node of [origin, destination]) {
    timed.push({ gateway: node.gateway, at: startMs - 2, message: msg(node.gateway, 1, 'gateway-map', { interfaces: [{ name: 'uart0', devices: [node.device] }] }) });
    timed.push({ gateway: node.gateway, at: startMs - 1, message: msg(node.device, 1, 'device-status', { battery: Math.round(70 + r() * 30), firmware: 'cookie-2.1.0', sensors: [1, 2, 3] }) });
  }
  // BT: one to three inquiries hear a car around its pass; RSSI strongest at the pass.
  const detect = (node: { device: string; gateway: string }, at: number, mac: string, diac: string): void => {
    const n = 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) {
      const when = at + (k - Math.floor(n / 2)) * 1500 + Math.round(r() * 200);
      timed.push({ gateway: node.gateway, at: when, message: msg(node.device, 2, 'bt-detection', { time: new Date(when).toISOString(), mac, diac, rssi: -55 - Math.round(r() * 30) - Math.abs(k - Math.floor(n / 2)) * 6 }) });
    }
  };
  for (const c of cars) {
    detect(origin, c.atOriginMs, c.mac, c.diac);
    detect(destination, c.atDestinationMs, c.mac, c.diac);
  }
  for (let i = 0; i < (o.pedestrians ?? 5); i++) {
    const node = i % 2 === 0 ? origin : destination;
    detect(node, startMs + Math.round(r() * (t - startMs)), macOf(r), r() < 0.5 ? '5A020C' : '240404');
  }
  // Radar: per period the cars that passed, with their speeds (positive: approaching the node, the link's direction).
  const end = Math.max(t, ...cars.map((c) => c.atDestinationMs)) + period;
  for (const [node, at] of [[origin, (c: SimulatedCar) => c.atOriginMs], [destination, (c: SimulatedCar) => c.atDestinationMs]] as const) {
    for (let p = startMs; p < end; p += period) {
      const passing = cars.filter((c) => at(c) >= p && at(c) < p + period);
      timed.push({ gateway: node.gateway, at: p + period, message: msg(node.device, 3, 'radar-count', { timestamp: (p + period) / 1000, count: passing.length, velocities: passing.slice(0, 10).map((c) => c.speedKmh) }) });
    }
  }
  timed.sort((a, b) => a.at - b.at);
  return { origin, destination, lengthM, cars, messages: timed };
}

/** What the simulated nodes' firmware accepts (the hub's guess: a class 2 Bluetooth radio, a 0-100 radar threshold). */
export const NODE_LIMITS: Readonly<Record<string, readonly [number, number]>> = {
  inquiryWindow: [1, 60],
  inquiryTriggerInterval: [1, 3600],
  txPower: [-20, 4],
  detectionDelay: [0, 600],
  noiseThreshold: [0, 100],
};
const UNITS: Readonly<Record<string, string>> = { inquiryWindow: ' s', inquiryTriggerInterval: ' s', txPower: ' dBm', detectionDelay: ' s', noiseThreshold: '' };

/** A node's settings before the hub changes them. */
export const DEFAULT_CONFIG: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'bt-config': { inquiryWindow: 10.24, inquiryTriggerInterval: 30, txPower: 0, detectionDelay: 60 },
  'radar-config': { vehicleDirection: 'approaching', noiseThreshold: 20, ledNotification: false },
};

/**
 * A node's answer to one message from the hub (serial form, NUL optional): the ack with the settings applied, an err
 * naming the refused value, or undefined (not a configuration `set` for one of `devices`, or unreadable).
 */
export function answerConfig(line: string, devices: ReadonlySet<string>, configs: Map<string, Record<string, unknown>>): string | undefined {
  let m;
  try {
    m = decodeSerial(line);
  } catch {
    return undefined;
  }
  if (m.sensor === '*' || m.action !== 'set' || !devices.has(m.device)) return undefined;
  const head = `${m.device}:${m.sensor}:${m.type}`;
  const err = (text: string) => `${head}:err:${m.seq}#${escapeAtom(text)}`;
  const want = m.type === 'bt-config' ? 2 : m.type === 'radar-config' ? 3 : undefined;
  if (want === undefined) return err(`${m.type} is not a configuration of this node`);
  if (m.sensor !== want) return err(`sensor ${m.sensor} has no ${m.type}`);
  for (const [k, v] of Object.entries(m.payload)) {
    const lim = NODE_LIMITS[k];
    if (lim && typeof v === 'number' && (v < lim[0] || v > lim[1])) return err(`${k} ${v}${UNITS[k]} outside ${lim[0]}..${lim[1]}${UNITS[k]}`);
    if (k === 'vehicleDirection' && v !== 'approaching' && v !== 'exiting') return err(`vehicleDirection '${String(v).slice(0, 32)}' is not approaching or exiting`);
  }
  const key = `${m.device}/${m.sensor}`;
  const applied = { ...(configs.get(key) ?? DEFAULT_CONFIG[m.type]), ...m.payload };
  configs.set(key, applied);
  return encodeSerial({ device: m.device, sensor: m.sensor, type: m.type, action: 'ack', seq: m.seq, payload: applied });
}

export interface RoadRunOptions extends RoadOptions {
  transport: 'tcp' | 'mqtt';
  /** TCP: the hub's Cookie listener (HUB_COOKIE_PORT). */
  host?: string;
  port?: number;
  /** MQTT: the broker URL and a write-scope token (password). */
  mqttUrl?: string;
  token?: string;
  /** Messages per second (0 = as fast as the transport takes them). */
  rate?: number;
  /** Send the plan again after the last message, shifted in time by the plan's span (the demo). */
  loop?: boolean;
  /** Send each message when its simulated time comes (use with startMs near now); default: as fast as `rate` allows. */
  realtime?: boolean;
  onError?: (e: Error) => void;
}

export interface RunningRoad {
  readonly plan: RoadPlan;
  readonly stats: { sent: number; failed: number; rounds: number };
  /** Settings the nodes applied, per `device/sensor`. */
  readonly configs: Map<string, Record<string, unknown>>;
  /** Messages the hub sent the nodes (gateway, serial line), the latest 1,000. */
  readonly received: Array<{ gateway: string; line: string }>;
  /** Whether the nodes answer configuration messages (false: silent, as a node that lost power). */
  answers: boolean;
  /** Resolves when every message of one round was sent (never for loop: true until stop()). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** Starts sending the plan; one TCP connection per gateway (a serial-to-network bridge each), or one MQTT client. */
export async function startCookieRoad(o: RoadRunOptions): Promise<RunningRoad> {
  const plan = planRoad(o);
  const stats = { sent: 0, failed: 0, rounds: 0 };
  const sockets = new Map<string, Socket>();
  let client: MqttClient | undefined;
  let stopped = false;
  const configs = new Map<string, Record<string, unknown>>();
  const received: RunningRoad['received'] = [];
  const devices = new Set([plan.origin.device, plan.destination.device]);
  const control = { answers: true };
  /** A line from the hub: remembered, answered (or not) through `reply`. */
  const fromHub = (gateway: string, line: string, reply: (answer: string) => void): void => {
    received.push({ gateway, line });
    if (received.length > 1000) received.shift();
    const answer = control.answers ? answerConfig(line, devices, configs) : undefined;
    if (answer !== undefined) reply(answer);
  };
  if (o.transport === 'tcp') {
    for (const gw of [plan.origin.gateway, plan.destination.gateway]) {
      const s = connect({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
      });
      s.on('error', (e) => o.onError?.(e));
      // The hub's NUL-framed messages on the gateway's stream (bounded: a frame over 8 KiB is dropped).
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        for (let nul = buf.indexOf('\u0000'); nul >= 0; nul = buf.indexOf('\u0000')) {
          const line = buf.slice(0, nul);
          buf = buf.slice(nul + 1);
          if (line) fromHub(gw, line, (answer) => s.write(`${answer}\u0000`));
        }
        if (buf.length > 8192) buf = '';
      });
      sockets.set(gw, s);
    }
  } else {
    client = await mqtt.connectAsync(o.mqttUrl ?? 'mqtt://127.0.0.1:1883', { username: 'cookie-road', password: o.token, clientId: `cookie-road-${process.pid}-${Math.floor(Math.random() * 1e9)}`, reconnectPeriod: 1000 });
    const c = client;
    const gateways = [plan.origin.gateway, plan.destination.gateway];
    c.on('message', (topic, payload) => {
      const gw = /^cookie\/([^/]+)\/down$/.exec(topic)?.[1];
      if (gw && gateways.includes(gw) && payload.length <= 8192) {
        fromHub(gw, payload.toString('utf8').replace(/\u0000$/, ''), (answer) => void c.publishAsync(`cookie/${gw}/up`, answer, { qos: 1 }).catch((e: Error) => o.onError?.(e)));
      }
    });
    // The gateways' down topics (a token with the read scope subscribes): before the first message goes up.
    await c.subscribeAsync(gateways.map((g) => `cookie/${g}/down`), { qos: 1 });
  }
  const send = async (gateway: string, m: AnyCookieMessage): Promise<void> => {
    const line = encodeSerial(m);
    if (client) await client.publishAsync(`cookie/${gateway}/up`, line, { qos: 1 });
    else {
      const s = sockets.get(gateway)!;
      if (!s.write(`${line}\u0000`)) await new Promise((r) => s.once('drain', r));
    }
  };
  const span = plan.messages.length ? plan.messages[plan.messages.length - 1]!.at - plan.messages[0]!.at + 60_000 : 0;
  const shift = (m: AnyCookieMessage, ms: number, round: number): AnyCookieMessage => {
    if (ms === 0 || m.sensor === '*') return m;
    const p = { ...m.payload };
    if (typeof p.time === 'string') p.time = new Date(Date.parse(p.time) + ms).toISOString();
    if (typeof p.timestamp === 'number') p.timestamp += ms / 1000;
    return { ...m, seq: (m.seq + round * plan.messages.length) % 0x1_0000_0000, payload: p };
  };
  const done = (async () => {
    for (let round = 0; !stopped; round++) {
      for (const { gateway, message, at } of plan.messages) {
        if (stopped) return;
        if (o.realtime) {
          const due = at + round * span;
          while (!stopped && Date.now() < due) await new Promise((r) => setTimeout(r, Math.min(1000, due - Date.now())));
          if (stopped) return;
        }
        try {
          await send(gateway, shift(message, round * span, round));
          stats.sent += 1;
        } catch (e) {
          stats.failed += 1;
          o.onError?.(e as Error);
        }
        if (o.rate) await new Promise((r) => setTimeout(r, 1000 / o.rate!));
      }
      stats.rounds += 1;
      if (!o.loop) return;
    }
  })();
  return {
    plan,
    stats,
    configs,
    received,
    get answers() {
      return control.answers;
    },
    set answers(v: boolean) {
      control.answers = v;
    },
    done,
    async stop() {
      stopped = true;
      for (const s of sockets.values()) await new Promise<void>((r) => s.end(() => r()));
      await client?.endAsync();
    },
  };
}
