// The URScript downlink adapter (push, continuous interface): a ur-robot action becomes one URScript line on a TCP connection to the robot; its reports make the command ACCEPTED / DELIVERED / FAILED.
import { channel as diagnosticsChannel } from 'node:diagnostics_channel';
import { connect, type Socket } from 'node:net';
import { isIP } from 'node:net';
import { HubError, ServiceUnavailableError } from '../../errors.ts';
import type { CommandRecord, CommandStatus, DownlinkAdapter, DownlinkRoute, SendReceipt } from '../../downlink/types.ts';
import type { LiveState } from '../../routing/live-state.ts';
import { commandOf, MAX_LINE, toUrScript } from './script.ts';

/**
 * Node's diagnostics_channel `wot-hub:urscript:line`: a URScript line was handed to a robot's socket, with the time on
 * the monotonic clock (process.hrtime.bigint()). Published only while something subscribes (see OSC_DATAGRAM_CHANNEL).
 */
export const URSCRIPT_LINE_CHANNEL = diagnosticsChannel('wot-hub:urscript:line');
export interface UrscriptLineEvent {
  at: bigint;
  thingId: string;
  robot: string;
  line: string;
}

/** The key type of a robot interface in its TD (deviceDefinitions `keyType: "urscript"`, `deviceKey: "host:port"`). */
export const URSCRIPT_KEY = 'urscript';

export interface UrscriptAdapterOptions {
  /** Applies a report to a command (DownlinkService.evidence). */
  evidence(command: CommandRecord, status: CommandStatus, evidence: string): Promise<void>;
  /** Robot state reports become the robot Thing's live values (joints, pose, moving). */
  live?: LiveState;
  /** Hosts the hub may connect to; default loopback only (a TD must not make the hub open connections anywhere). */
  allowHost?: (host: string) => boolean;
  /** Commands waiting for their report per robot; beyond it the oldest is FAILED (the robot stopped reporting). */
  maxPending?: number;
  connectTimeoutMs?: number;
  onError?: (e: unknown, context: string) => void;
}

const LOOPBACK = (h: string) => h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));

/** `host:port` or `[v6]:port` of a robot key; undefined when it is not one. */
export function robotAddress(key: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(key);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

interface Connection {
  socket: Socket;
  ready: Promise<void>;
  /** Lines sent on this connection (the robot numbers them the same way, from 1). */
  sent: number;
  pending: Map<number, CommandRecord>;
  buf: string;
  thingId: string;
  adapterId: string;
}

export class UrscriptAdapter implements DownlinkAdapter {
  readonly binding = 'urscript';
  readonly mode = 'push' as const;
  readonly counters = { lines: 0, acks: 0, done: 0, superseded: 0, errors: 0, connects: 0, connectFailures: 0, badReports: 0 };
  private readonly connections = new Map<string, Connection>();
  /** Robots kept connected (registered robot Things), by device key; `retryMs` is the next reconnect delay. */
  private readonly kept = new Map<string, { route: DownlinkRoute; retryMs: number; timer?: NodeJS.Timeout }>();
  private closed = false;
  private readonly allowHost: (host: string) => boolean;

  constructor(private readonly options: UrscriptAdapterOptions) {
    this.allowHost = options.allowHost ?? LOOPBACK;
  }

  serves(route: DownlinkRoute): boolean {
    return route.keyType === URSCRIPT_KEY;
  }

  /** On submit, before queueing: an input out of range is a 400 naming its member, not a FAILED command later. */
  validate(action: string, input: unknown): void {
    commandOf(action, input);
  }

  async send(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt> {
    // Validated before anything is sent: a bad input is FAILED with the member named, never a half-built line.
    const line = toUrScript(commandOf(command.action, command.input));
    const conn = await this.connection(route);
    const seq = ++conn.sent;
    conn.pending.set(seq, command);
    const max = this.options.maxPending ?? 256;
    if (conn.pending.size > max) {
      const [oldSeq, old] = conn.pending.entries().next().value!;
      conn.pending.delete(oldSeq);
      this.report(old, 'FAILED', `urscript: no report for line ${oldSeq} before ${max} later lines`);
    }
    conn.socket.write(`${line}\n`);
    this.counters.lines += 1;
    if (URSCRIPT_LINE_CHANNEL.hasSubscribers) URSCRIPT_LINE_CHANNEL.publish({ at: process.hrtime.bigint(), thingId: command.thingId, robot: route.deviceKey, line } satisfies UrscriptLineEvent);
    return { evidence: `urscript line ${seq} to ${route.deviceKey}: ${line}` };
  }

  /**
   * Keeps a connection open to each robot interface among a Thing's routes, from its registration on rather than from
   * its first command: a UR controller streams its state on that connection from the start (the robot Thing's live
   * joints), and the first set point of a closed loop does not wait for a TCP connect. A connection that closes or
   * cannot be made is tried again after 1 s, doubling to 30 s, while the Thing keeps the interface; routes without
   * one (the Thing deleted, `[]`) close its connections. Keys that are not host:port or not allowed are left alone
   * here (a command to them is FAILED with the reason, as before).
   */
  keep(thingId: string, routes: readonly DownlinkRoute[]): void {
    if (this.closed) return;
    const wanted = routes.filter((r) => {
      const addr = this.serves(r) ? robotAddress(r.deviceKey) : undefined;
      return addr !== undefined && this.allowHost(addr.host);
    });
    for (const [key, k] of this.kept) {
      if (k.route.thingId !== thingId || wanted.some((r) => r.deviceKey === key)) continue;
      clearTimeout(k.timer);
      this.kept.delete(key);
      this.connections.get(key)?.socket.destroy();
    }
    for (const route of wanted) {
      const k = this.kept.get(route.deviceKey);
      if (k) k.route = route;
      else {
        this.kept.set(route.deviceKey, { route, retryMs: 1000 });
        this.dial(route.deviceKey);
      }
    }
  }

  /** Robots kept connected and those of them connected now. */
  get keptRobots(): { kept: number; connected: number } {
    let connected = 0;
    for (const key of this.kept.keys()) if (this.connections.get(key)?.socket.readyState === 'open') connected++;
    return { kept: this.kept.size, connected };
  }

  /** Closes every robot connection and stops reconnecting (hub stop). */
  close(): void {
    this.closed = true;
    for (const k of this.kept.values()) clearTimeout(k.timer);
    this.kept.clear();
    for (const c of this.connections.values()) c.socket.destroy();
    this.connections.clear();
  }

  private dial(key: string): void {
    const k = this.kept.get(key);
    if (!k || this.closed) return;
    k.timer = undefined;
    // The send path's own connection (an open one is reused); a failure closes the socket, which calls redial().
    let ready: Promise<unknown>;
    try {
      ready = this.connection(k.route);
    } catch {
      this.kept.delete(key); // keep() only keeps valid, allowed addresses: not reached, never a throw from a timer
      return;
    }
    ready.then(
      () => (k.retryMs = 1000),
      () => {},
    );
  }

  /** After a kept robot's connection closed (or failed to open): the next try, with backoff. */
  private redial(key: string): void {
    const k = this.kept.get(key);
    if (!k || this.closed || k.timer) return;
    k.timer = setTimeout(() => this.dial(key), k.retryMs);
    k.timer.unref();
    k.retryMs = Math.min(k.retryMs * 2, 30_000);
  }

  private connection(route: DownlinkRoute): Promise<Connection> {
    const existing = this.connections.get(route.deviceKey);
    if (existing && !existing.socket.destroyed) return existing.ready.then(() => existing);
    const conn = this.open(route);
    return conn.ready.then(() => conn);
  }

  private open(route: DownlinkRoute): Connection {
    const addr = robotAddress(route.deviceKey);
    if (!addr) throw new HubError(422, 'urscript-bad-address', `The robot key '${route.deviceKey.slice(0, 64)}' is not host:port`);
    if (!this.allowHost(addr.host)) throw new HubError(403, 'urscript-host-not-allowed', `The hub does not connect to robots on ${addr.host} (loopback only)`);
    const socket = connect({ host: addr.host, port: addr.port });
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    const conn: Connection = { socket, sent: 0, pending: new Map(), buf: '', thingId: route.thingId, adapterId: route.adapterId, ready: Promise.resolve() };
    let up = false;
    conn.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), this.options.connectTimeoutMs ?? 3000);
      socket.once('connect', () => {
        clearTimeout(timer);
        up = true;
        this.counters.connects += 1;
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        if (!up) this.counters.connectFailures += 1;
        reject(new ServiceUnavailableError(`Robot ${route.deviceKey} unreachable: ${e.message}`, {}, 'robot-unreachable'));
      });
    });
    conn.ready.catch(() => {});
    socket.on('data', (chunk: string) => this.onData(conn, chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.connections.get(route.deviceKey) === conn) this.connections.delete(route.deviceKey);
      for (const [seq, r] of conn.pending) this.report(r, 'FAILED', `urscript: connection to ${route.deviceKey} closed before line ${seq} was reported`);
      conn.pending.clear();
      this.redial(route.deviceKey);
    });
    this.connections.set(route.deviceKey, conn);
    return conn;
  }

  private onData(conn: Connection, chunk: string): void {
    conn.buf += chunk;
    let nl: number;
    while ((nl = conn.buf.indexOf('\n')) >= 0) {
      const line = conn.buf.slice(0, nl);
      conn.buf = conn.buf.slice(nl + 1);
      this.onReport(conn, line);
    }
    if (conn.buf.length > 4 * MAX_LINE) {
      conn.buf = '';
      this.counters.badReports += 1;
    }
  }

  private onReport(conn: Connection, line: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
      if (typeof m !== 'object' || m === null) throw new Error('not an object');
    } catch {
      this.counters.badReports += 1;
      return;
    }
    const seq = typeof m.seq === 'number' ? m.seq : undefined;
    const r = seq === undefined ? undefined : conn.pending.get(seq);
    switch (m.type) {
      case 'state': {
        const q = Array.isArray(m.q) && m.q.length === 6 && m.q.every((x) => typeof x === 'number') ? m.q : undefined;
        if (!q || !this.options.live) return;
        const pose = Array.isArray(m.pose) && m.pose.length === 6 && m.pose.every((x) => typeof x === 'number') ? m.pose : undefined;
        this.options.live.publish({ meta: { thingId: conn.thingId, protocol: 'urscript', interface: conn.adapterId, receivedAt: new Date().toISOString() }, payload: { joints: q, ...(pose ? { pose } : {}), moving: m.moving === true } });
        return;
      }
      case 'ack':
        this.counters.acks += 1;
        if (r) this.report(r, 'ACCEPTED', `robot: line ${seq} parsed, motion started`);
        return;
      case 'done':
        this.counters.done += 1;
        if (r) {
          conn.pending.delete(seq!);
          this.report(r, 'DELIVERED', `robot: line ${seq} motion done${Array.isArray(m.q) ? ` at q=[${m.q.slice(0, 6).join(',')}]` : ''}`);
        }
        return;
      case 'superseded':
        this.counters.superseded += 1;
        if (r) {
          conn.pending.delete(seq!);
          // The robot executed the line and then followed a newer one (servoj streaming): delivered, and said so.
          this.report(r, 'DELIVERED', `robot: line ${seq} motion started, superseded by line ${String(m.by)} before its end`);
        }
        return;
      case 'error':
        this.counters.errors += 1;
        if (r) {
          conn.pending.delete(seq!);
          this.report(r, 'FAILED', `robot refused line ${seq}: ${String(m.message).slice(0, 200)}`);
        }
        return;
      default:
        this.counters.badReports += 1;
    }
  }

  private report(r: CommandRecord, status: CommandStatus, evidence: string): void {
    this.options.evidence(r, status, evidence).catch((e) => this.options.onError?.(e, `urscript evidence for ${r.id}`));
  }
}
