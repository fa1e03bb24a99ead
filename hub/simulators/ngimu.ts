// A simulated x-io NGIMU streaming OSC over UDP: each message in its own bundle stamped with its sample time, the
// high-rate messages (/sensors /quaternion /euler /linear /earth) at 100-400 Hz, the slow ones at 10 Hz or 1 Hz, and a
// /ping reply (ip, name, serial) on its receive port; settings (/rate/<x> f, /name s) and commands (/identify, /reset,
// /ahrs/zero, ...) it receives are applied and echoed to the sender, as an NGIMU does.
// `node --import tsx hub/simulators/ngimu.ts [host] [port] [rateHz]`.
import { createSocket, type Socket } from 'node:dgram';
import { fromBuffer, toBuffer } from 'osc-min';
import { msToTimetag } from '../bindings/osc/packet.ts';

export interface NgimuOptions {
  host?: string;
  /** Where it sends (the hub's oscPort). */
  port: number;
  /** Samples per second of each high-rate message (100-400 on a real NGIMU). */
  rateHz?: number;
  serialNumber?: string;
  name?: string;
  /** Local port it sends from and answers /ping on (an NGIMU's receive port, 9000); 0 = ephemeral. */
  localPort?: number;
  /** Which high-rate messages to send (default all five). */
  messages?: HighRate[];
  /** Also the 10 Hz (/altitude /temperature /humidity) and 1 Hz (/battery /rssi) messages. Default true. */
  slow?: boolean;
  /** Stop after this many messages (tests, benchmarks). */
  limit?: number;
  /** Start of the simulated motion (ms since the epoch); default now. */
  startAt?: number;
  onError?: (e: Error) => void;
}

export type HighRate = '/sensors' | '/quaternion' | '/euler' | '/linear' | '/earth';
const HIGH_RATE: HighRate[] = ['/sensors', '/quaternion', '/euler', '/linear', '/earth'];
/** Addresses the simulator has samples for (a rate set for another one is kept and echoed, not streamed). */
const STREAMED = new Set([...HIGH_RATE, '/altitude', '/temperature', '/humidity', '/battery', '/rssi']);

export interface NgimuStats { sent: number; acked: number; failed: number }

export interface RunningNgimu {
  readonly stats: NgimuStats;
  readonly localPort: number;
  /** Send rates now (Hz per address, /rate/<x> settings applied). */
  rates(): Record<string, number>;
  /** Settings and commands received (address, arguments, sender), the latest 1,000. */
  readonly received: Array<{ address: string; args: unknown[]; from: string }>;
  /** Echo settings and commands (default true; false plays a device that takes them silently or is gone). */
  echo: boolean;
  /** Resolves once `limit` messages were sent. */
  done: Promise<void>;
  stop(): Promise<void>;
}

const f = (value: number) => ({ type: 'float' as const, value });
const DEG = Math.PI / 180;
type Arg = { type: 'float'; value: number } | { type: 'string'; value: string };

/**
 * The device's state at time t (seconds from the start): a slow yaw rotation with a rocking roll and pitch, the
 * quaternion and Euler angles consistent, gravity in the accelerometer, a magnetic field of ~48 uT.
 */
export function ngimuSample(address: string, t: number): Arg[] {
  const roll = 10 * Math.sin(2 * Math.PI * 0.2 * t);
  const pitch = 5 * Math.sin(2 * Math.PI * 0.13 * t);
  const yaw = ((30 * t) % 360) - 180;
  const [cr, sr, cp, sp, cy, sy] = [Math.cos((roll * DEG) / 2), Math.sin((roll * DEG) / 2), Math.cos((pitch * DEG) / 2), Math.sin((pitch * DEG) / 2), Math.cos((yaw * DEG) / 2), Math.sin((yaw * DEG) / 2)];
  const linear = [0.05 * Math.sin(2 * Math.PI * 1.1 * t), 0.03 * Math.cos(2 * Math.PI * 0.7 * t), 0.01 * Math.sin(2 * Math.PI * 2.3 * t)];
  switch (address) {
    case '/sensors':
      return [
        f(2 * Math.PI * 0.2 * 10 * Math.cos(2 * Math.PI * 0.2 * t)), f(2 * Math.PI * 0.13 * 5 * Math.cos(2 * Math.PI * 0.13 * t)), f(30),
        f(-Math.sin(pitch * DEG) + linear[0]!), f(Math.sin(roll * DEG) * Math.cos(pitch * DEG) + linear[1]!), f(Math.cos(roll * DEG) * Math.cos(pitch * DEG) + linear[2]!),
        f(22 * Math.cos(yaw * DEG)), f(-22 * Math.sin(yaw * DEG)), f(-43), f(1013.25 - 0.01 * Math.sin(t / 10)),
      ];
    case '/quaternion':
      return [f(cr * cp * cy + sr * sp * sy), f(sr * cp * cy - cr * sp * sy), f(cr * sp * cy + sr * cp * sy), f(cr * cp * sy - sr * sp * cy)];
    case '/euler':
      return [f(roll), f(pitch), f(yaw)];
    case '/linear':
      return linear.map(f);
    case '/earth':
      return [f(linear[0]! * Math.cos(yaw * DEG)), f(linear[0]! * Math.sin(yaw * DEG)), f(linear[2]!)];
    case '/altitude':
      return [f(112 + 0.08 * Math.sin(t / 10))];
    case '/temperature':
      return [f(31.5 + 0.01 * t), f(24 + 0.005 * t)];
    case '/humidity':
      return [f(41 + Math.sin(t / 60))];
    case '/battery':
      return [f(Math.max(0, 97 - t / 600)), f(Math.max(0, 480 - t / 60)), f(4.05 - t / 36_000), f(-142), { type: 'string' as const, value: 'Not connected' }];
    case '/rssi':
      return [f(-52), f(78)];
    default:
      return [];
  }
}

/** One NGIMU message as its own bundle with the sample's timetag (what an NGIMU sends). */
export function ngimuBundle(address: string, sampleMs: number, t: number): Buffer {
  const v = toBuffer({ timetag: msToTimetag(sampleMs) as [number, number], elements: [{ address, args: ngimuSample(address, t) }] });
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Starts streaming; timers catch up with exact sample times, so the rate holds when the event loop is late. */
export async function startNgimu(options: NgimuOptions): Promise<RunningNgimu> {
  const host = options.host ?? '127.0.0.1';
  const rate = Math.min(1000, Math.max(1, options.rateHz ?? 100));
  const high = options.messages ?? HIGH_RATE;
  const slow = options.slow ?? true;
  const serial = options.serialNumber ?? '0040A1B2';
  const name = options.name ?? 'NGIMU';
  const stats: NgimuStats = { sent: 0, acked: 0, failed: 0 };
  const socket: Socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.localPort ?? 0, host.includes(':') ? '::1' : '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (e) => options.onError?.(e));
  const send = (buf: Buffer, port = options.port, to = host) => {
    stats.sent += 1;
    socket.send(buf, port, to, (err) => {
      if (err) {
        stats.failed += 1;
        options.onError?.(err);
      } else stats.acked += 1;
    });
  };
  const start = options.startAt ?? Date.now();
  const wall0 = Date.now();
  // Per address: send rate (Hz), samples sent since the rate was set, and when (wall and simulated time) that was.
  const schedule = new Map<string, { rate: number; n: number; wall: number; sim: number }>();
  for (const a of high) schedule.set(a, { rate, n: 0, wall: wall0, sim: start });
  if (slow) {
    for (const a of ['/altitude', '/temperature', '/humidity']) schedule.set(a, { rate: 10, n: 0, wall: wall0, sim: start });
    for (const a of ['/battery', '/rssi']) schedule.set(a, { rate: 1, n: 0, wall: wall0, sim: start });
  }
  const received: RunningNgimu['received'] = [];
  let deviceName = name;
  const reply = (address: string, args: Arg[], rinfo: { port: number; address: string }) => {
    const v = toBuffer({ address, args });
    send(Buffer.from(v.buffer, v.byteOffset, v.byteLength), rinfo.port, rinfo.address);
  };
  const COMMANDS = new Set(['/identify', '/reset', '/ahrs/initialise', '/ahrs/zero', '/mute', '/unmute', '/echo']);
  // The NGIMU answers /ping with its IP address, device name and serial number, and echoes settings and commands.
  socket.on('message', (msg, rinfo) => {
    try {
      const p = fromBuffer(msg);
      if (p.oscType !== 'message') return;
      if (p.address === '/ping') {
        reply('/ping', [{ type: 'string', value: socket.address().address }, { type: 'string', value: deviceName }, { type: 'string', value: serial }], rinfo);
        return;
      }
      const args: unknown[] = p.args.map((a) => (a as { value?: unknown; type: string }).value ?? (a as { type: string }).type);
      received.push({ address: p.address, args, from: `${rinfo.address}:${rinfo.port}` });
      if (received.length > 1000) received.shift();
      const rateOf = /^\/rate\/([a-z]+)$/.exec(p.address);
      if (rateOf) {
        const at = `/${rateOf[1]}`;
        const hz = typeof args[0] === 'number' ? Math.min(1000, Math.max(0, args[0])) : undefined;
        if (hz !== undefined) {
          const now = Date.now();
          schedule.set(at, { rate: hz, n: 0, wall: now, sim: start + (now - wall0) });
        }
        // A write is echoed with the value applied; a read (no argument) answers the current one.
        if (instance.echo) reply(p.address, [f(schedule.get(at)?.rate ?? 0)], rinfo);
      } else if (p.address === '/name') {
        if (typeof args[0] === 'string') deviceName = args[0].slice(0, 63);
        if (instance.echo) reply('/name', [{ type: 'string', value: deviceName }], rinfo);
      } else if (COMMANDS.has(p.address)) {
        if (instance.echo) reply(p.address, [], rinfo);
      }
    } catch {
      // not OSC: an NGIMU ignores it
    }
  });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let stopped = false;
  const full = () => options.limit !== undefined && stats.sent >= options.limit;
  const tick = () => {
    if (stopped) return;
    const now = Date.now();
    // Due samples of every address in time order (messages of one instant in the order configured).
    for (;;) {
      if (full()) break;
      let next: { a: string; s: { rate: number; n: number; wall: number; sim: number }; ms: number } | undefined;
      for (const [a, s] of schedule) {
        if (s.rate <= 0 || !STREAMED.has(a) || s.n >= Math.floor(((now - s.wall) * s.rate) / 1000)) continue;
        const ms = s.sim + (s.n * 1000) / s.rate;
        if (!next || ms < next.ms) next = { a, s, ms };
      }
      if (!next) break;
      send(ngimuBundle(next.a, next.ms, (next.ms - start) / 1000));
      next.s.n += 1;
    }
    if (full()) done();
  };
  const timer = setInterval(tick, 5);
  const instance: RunningNgimu = {
    stats,
    localPort: socket.address().port,
    received,
    echo: true,
    rates: () => Object.fromEntries([...schedule].map(([a, s]) => [a, s.rate])),
    done: finished,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      done();
      await new Promise<void>((r) => socket.close(() => r()));
    },
  };
  return instance;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [host = '127.0.0.1', port = '8000', rate = '100'] = process.argv.slice(2);
  const imu = await startNgimu({ host, port: Number(port), rateHz: Number(rate), onError: (e) => process.stderr.write(`ngimu: ${e.message}\n`) });
  process.stdout.write(`NGIMU simulator: ${rate} Hz per message to ${host}:${port} (from port ${imu.localPort})\n`);
  const stop = () => void imu.stop().then(() => process.exit(0));
  process.on('SIGINT', stop).on('SIGTERM', stop);
}
