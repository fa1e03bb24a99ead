// A simulated UR-style six-joint robot: URScript lines over TCP (port 30002 like a UR's secondary interface), JSON-line reports (ack, done, superseded, error, state). `node --import tsx hub/simulators/robot.ts [host] [port]`.
import { createServer, type Server, type Socket } from 'node:net';
import { MAX_LINE, parseUrScript, type UrCommand } from '../bindings/urscript/script.ts';

/**
 * The report protocol (one JSON object per line, the simulator's own, not UR's binary RobotState packets):
 * - `{"type":"ack","seq":n,"command":"movej"}`: line n of this connection parsed and started;
 * - `{"type":"error","seq":n,"message":"..."}`: line n refused (malformed, out of range, unreachable pose);
 * - `{"type":"done","seq":n,"q":[6]}`: the motion of line n reached its target;
 * - `{"type":"superseded","seq":n,"by":m}`: line m (of any connection) replaced the motion of line n before it ended;
 * - `{"type":"state","time":ms,"q":[6],"pose":[6],"moving":bool}` at stateHz to every connection.
 * Lines are counted from 1 per connection; blank lines and `#` comments are not counted.
 */
export interface RobotOptions {
  host?: string;
  /** 30002 by default; 0 = ephemeral (tests). */
  port?: number;
  /** State reports per second to every connection (UR's secondary interface: 10 Hz). 0 = none. */
  stateHz?: number;
  /** Most connections at a time. */
  maxClients?: number;
  /** Initial joint angles (rad). */
  q?: number[];
  /** Told of every accepted line (benchmarks: when the command arrived, by process.hrtime). */
  onCommand?: (command: UrCommand, line: string, at: bigint) => void;
}

export interface RunningRobot {
  readonly port: number;
  readonly stats: { lines: number; accepted: number; refused: number; done: number; superseded: number; connections: number };
  /** The latest accepted lines, oldest first (bounded at 1,000). */
  readonly received: Array<{ line: string; command: UrCommand; at: number }>;
  joints(): number[];
  pose(): number[];
  moving(): boolean;
  stop(): Promise<void>;
}

// A simplified UR5 kinematic model: base yaw, a two-link planar arm (shoulder, elbow) with UR5's link lengths above a
// base of height D1; the wrist joints carry the tool orientation (rx, ry, rz) directly. Enough to turn movel poses into
// joint motion and joint states into poses consistently; not UR's real kinematics.
const D1 = 0.089;
const A2 = 0.425;
const A3 = 0.392;

export function forward(q: readonly number[]): number[] {
  const [q0, q1, q2, q3, q4, q5] = q as [number, number, number, number, number, number];
  const r = A2 * Math.cos(q1) + A3 * Math.cos(q1 + q2);
  const z = D1 + A2 * Math.sin(q1) + A3 * Math.sin(q1 + q2);
  return [r * Math.cos(q0), r * Math.sin(q0), z, q3, q4, q5];
}

/** Joint angles of a pose (elbow up), or undefined when it is out of reach. */
export function inverse(pose: readonly number[]): number[] | undefined {
  const [x, y, z, rx, ry, rz] = pose as [number, number, number, number, number, number];
  const r = Math.hypot(x, y);
  const h = z - D1;
  const d2 = r * r + h * h;
  const c2 = (d2 - A2 * A2 - A3 * A3) / (2 * A2 * A3);
  if (c2 < -1 || c2 > 1) return undefined;
  const q2 = -Math.acos(c2);
  const q1 = Math.atan2(h, r) - Math.atan2(A3 * Math.sin(q2), A2 + A3 * Math.cos(q2));
  return [Math.atan2(y, x), q1, q2, rx, ry, rz];
}

interface Motion { from: number[]; to: number[]; start: number; duration: number; seq: number; client: Client; timer: NodeJS.Timeout }
interface Client { socket: Socket; seq: number; buf: string }

/** Time of a trapezoidal move over distance d with top speed v and acceleration a (a triangle when it is short). */
function moveTime(d: number, v: number, a: number): number {
  return d > (v * v) / a ? d / v + v / a : 2 * Math.sqrt(d / a);
}

export async function startRobot(options: RobotOptions = {}): Promise<RunningRobot> {
  const clients = new Set<Client>();
  const stats = { lines: 0, accepted: 0, refused: 0, done: 0, superseded: 0, connections: 0 };
  const received: RunningRobot['received'] = [];
  let q = options.q ? [...options.q] : [0, -Math.PI / 2, Math.PI / 2, 0, Math.PI / 2, 0];
  let motion: Motion | undefined;
  const maxClients = options.maxClients ?? 8;

  const send = (c: Client, obj: unknown) => {
    if (!c.socket.destroyed && c.socket.writableLength < 1 << 20) c.socket.write(`${JSON.stringify(obj)}\n`);
  };
  const now = () => performance.now();
  const current = (): number[] => {
    if (!motion) return q;
    const k = motion.duration <= 0 ? 1 : Math.min(1, (now() - motion.start) / motion.duration);
    return motion.from.map((f, i) => f + (motion!.to[i]! - f) * k);
  };
  const round = (xs: number[]) => xs.map((x) => Math.round(x * 1e6) / 1e6);

  const start = (c: Client, seq: number, cmd: UrCommand) => {
    const from = current();
    if (motion) {
      clearTimeout(motion.timer);
      stats.superseded += 1;
      send(motion.client, { type: 'superseded', seq: motion.seq, by: seq });
      motion = undefined;
    }
    q = from;
    let to: number[];
    let duration: number;
    if (cmd.kind === 'stopj') {
      to = from;
      duration = 0;
    } else if (cmd.kind === 'movel') {
      const target = inverse(cmd.pose);
      if (!target) {
        stats.refused += 1;
        send(c, { type: 'error', seq, message: `pose p[${cmd.pose.join(',')}] is out of reach` });
        return;
      }
      to = target;
      const a = forward(from);
      duration = moveTime(Math.hypot(cmd.pose[0]! - a[0]!, cmd.pose[1]! - a[1]!, cmd.pose[2]! - a[2]!), cmd.v, cmd.a) * 1000;
    } else {
      to = cmd.q;
      duration = cmd.kind === 'servoj' ? cmd.t * 1000 : moveTime(Math.max(...to.map((t, i) => Math.abs(t - from[i]!))), cmd.v, cmd.a) * 1000;
    }
    stats.accepted += 1;
    send(c, { type: 'ack', seq, command: cmd.kind });
    const m: Motion = { from, to, start: now(), duration, seq, client: c, timer: undefined as unknown as NodeJS.Timeout };
    m.timer = setTimeout(() => {
      if (motion !== m) return;
      q = to;
      motion = undefined;
      stats.done += 1;
      send(c, { type: 'done', seq, q: round(q) });
    }, duration);
    motion = m;
  };

  const onLine = (c: Client, raw: string) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const seq = ++c.seq;
    stats.lines += 1;
    let cmd: UrCommand;
    try {
      cmd = parseUrScript(line);
    } catch (e) {
      stats.refused += 1;
      send(c, { type: 'error', seq, message: (e as Error).message.slice(0, 200) });
      return;
    }
    options.onCommand?.(cmd, line, process.hrtime.bigint());
    received.push({ line, command: cmd, at: Date.now() });
    if (received.length > 1000) received.shift();
    start(c, seq, cmd);
  };

  const server: Server = createServer((socket) => {
    if (clients.size >= maxClients) {
      socket.end(`${JSON.stringify({ type: 'error', seq: 0, message: 'too many connections' })}\n`);
      return;
    }
    stats.connections += 1;
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    const c: Client = { socket, seq: 0, buf: '' };
    clients.add(c);
    socket.on('data', (chunk: string) => {
      c.buf += chunk;
      let nl: number;
      while ((nl = c.buf.indexOf('\n')) >= 0) {
        const line = c.buf.slice(0, nl);
        c.buf = c.buf.slice(nl + 1);
        onLine(c, line.length > MAX_LINE ? line.slice(0, MAX_LINE + 1) : line);
      }
      // A line with no end in sight: refused and dropped, so a peer cannot grow the buffer.
      if (c.buf.length > MAX_LINE) {
        c.buf = '';
        stats.refused += 1;
        send(c, { type: 'error', seq: ++c.seq, message: `line longer than ${MAX_LINE} characters` });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => clients.delete(c));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 30002, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const hz = options.stateHz ?? 10;
  const ticker = hz > 0 ? setInterval(() => {
    const joints = current();
    const state = { type: 'state', time: Date.now(), q: round(joints), pose: round(forward(joints)), moving: motion !== undefined };
    for (const c of clients) send(c, state);
  }, 1000 / hz) : undefined;
  ticker?.unref();

  return {
    port,
    stats,
    received,
    joints: () => round(current()),
    pose: () => round(forward(current())),
    moving: () => motion !== undefined,
    async stop() {
      if (ticker) clearInterval(ticker);
      if (motion) clearTimeout(motion.timer);
      for (const c of clients) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const robot = await startRobot({ host: process.argv[2] ?? '127.0.0.1', port: Number(process.argv[3] ?? 30002) });
  console.log(`UR-style robot simulator on ${process.argv[2] ?? '127.0.0.1'}:${robot.port} (URScript lines in, JSON-line reports out)`);
  const quit = () => void robot.stop().then(() => process.exit(0));
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
}
