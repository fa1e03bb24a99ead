// OSC downlink (issue 12): WoT actions of an OSC Thing (NGIMU settings and commands) -> OSC messages sent from the hub's OSC socket; DELIVERED on the device's echo.
//
// The NGIMU answers every settings write and command with a message to the same address (NGIMU-Software-Public
// NgimuApi/Settings/CommunicationProcess.cs waits for the address to come back; Settings.xml and Command/Command.cs list
// the addresses). A command is SENT when its datagrams left the socket, DELIVERED when every address it wrote was echoed
// by the device, FAILED (retry policy) when no echo came within the ack timeout. Encoding is osc-min's.
import { toBuffer, type OscArgInput } from 'osc-min';
import { DecodeError, HubError, ServiceUnavailableError } from '../../errors.ts';
import type { CommandRecord, CommandStatus, DownlinkAdapter, DownlinkRoute, SendReceipt } from '../../downlink/types.ts';
import type { RunningTransport } from '../types.ts';
import type { OscMessage, OscValue } from './packet.ts';

/** NGIMU send rates (Settings.xml "Send Rates", float Hz; 0 = off): action input member -> OSC address. */
export const NGIMU_RATE_ADDRESSES: Readonly<Record<string, string>> = {
  sensors: '/rate/sensors',
  magnitudes: '/rate/magnitudes',
  quaternion: '/rate/quaternion',
  matrix: '/rate/matrix',
  euler: '/rate/euler',
  linear: '/rate/linear',
  earth: '/rate/earth',
  altitude: '/rate/altitude',
  temperature: '/rate/temperature',
  humidity: '/rate/humidity',
  battery: '/rate/battery',
  analogue: '/rate/analogue',
  rssi: '/rate/rssi',
};

/** NGIMU commands without arguments (Command/Command.cs): action name -> OSC address. */
export const NGIMU_COMMAND_ADDRESSES: Readonly<Record<string, string>> = {
  identify: '/identify',
  reset: '/reset',
  ahrsInitialise: '/ahrs/initialise',
  ahrsZero: '/ahrs/zero',
  mute: '/mute',
  unmute: '/unmute',
};

/** Highest send rate accepted (Hz); the NGIMU samples at up to 400 Hz, its rate settings are floats. */
export const MAX_RATE_HZ = 1000;

/** One outgoing OSC message: address and typed arguments (osc-min's input form). */
export interface OscOut {
  address: string;
  args: Array<{ type: 'float'; value: number } | { type: 'string'; value: string }>;
}

/**
 * The OSC messages of one action: `setSendRates` {sensors, quaternion, ... Hz} -> one `/rate/<x> f` per member given,
 * `setName` {name} -> `/name s`, `identify` / `reset` / `ahrsInitialise` / `ahrsZero` / `mute` / `unmute` -> the bare
 * command. Throws DecodeError (`osc-action`) for an action or input it cannot carry.
 */
export function encodeOscAction(action: string, input: unknown): OscOut[] {
  const obj = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  if (action === 'setSendRates') {
    const out: OscOut[] = [];
    for (const [k, v] of Object.entries(obj)) {
      const address = Object.hasOwn(NGIMU_RATE_ADDRESSES, k) ? NGIMU_RATE_ADDRESSES[k] : undefined;
      if (!address) throw new DecodeError(`'${k.slice(0, 32)}' is no NGIMU send rate (${Object.keys(NGIMU_RATE_ADDRESSES).join(', ')})`, { field: k.slice(0, 32) }, 'osc-action');
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_RATE_HZ) throw new DecodeError(`${k} must be a number of Hz in 0..${MAX_RATE_HZ}`, { field: k }, 'osc-action');
      out.push({ address, args: [{ type: 'float', value: v }] });
    }
    if (!out.length) throw new DecodeError('setSendRates needs at least one rate', { field: 'input' }, 'osc-action');
    return out;
  }
  if (action === 'setName') {
    const name = obj.name;
    if (typeof name !== 'string' || name.length < 1 || name.length > 63 || /[\u0000-\u001f]/.test(name)) throw new DecodeError('name must be 1-63 printable characters', { field: 'name' }, 'osc-action');
    return [{ address: '/name', args: [{ type: 'string', value: name }] }];
  }
  const command = Object.hasOwn(NGIMU_COMMAND_ADDRESSES, action) ? NGIMU_COMMAND_ADDRESSES[action] : undefined;
  if (command) return [{ address: command, args: [] }];
  throw new DecodeError(`Action '${action.slice(0, 64)}' has no OSC message`, { field: 'action' }, 'osc-action');
}

/** The datagram of one message (osc-min's encoder). */
export function oscDatagram(m: OscOut): Buffer {
  const v = toBuffer({ address: m.address, args: m.args as OscArgInput[] });
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * Whether a received message is the echo of a sent one: 'same' (address and values; floats compared as float32),
 * 'address' (the address only: the device applied another value, e.g. a rate it clamped), undefined otherwise. Pure.
 */
export function echoOf(sent: OscOut, got: Pick<OscMessage, 'address' | 'args'>): 'same' | 'address' | undefined {
  if (got.address !== sent.address) return undefined;
  if (got.args.length !== sent.args.length) return 'address';
  for (let i = 0; i < sent.args.length; i++) {
    const s = sent.args[i]!;
    const g: OscValue = got.args[i]!;
    if (s.type === 'float' ? typeof g !== 'number' || Math.fround(g) !== Math.fround(s.value) : g !== s.value) return 'address';
  }
  return 'same';
}

/** `host:port` (IPv4, `[IPv6]` or a host name) -> parts, or undefined. */
export function parseHostPort(s: unknown): { host: string; port: number } | undefined {
  if (typeof s !== 'string' || s.length > 300) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]{1,253})):([0-9]{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2]!, port };
}

/** What the adapter needs of the OSC listener (hub/bindings/osc/listener.ts). */
export interface OscSocket {
  send(datagram: Buffer, host: string, port: number): Promise<void>;
  /** The ip:port the device (its Thing's oscSource key) was last heard from. */
  remoteOf(deviceKey: string): string | undefined;
  hooks: { onMessage?: (deviceKey: string, remote: string, message: OscMessage) => void };
}

/** The service side the adapter reports to (DownlinkService). */
export interface EvidenceSink {
  evidence(r: CommandRecord, status: CommandStatus, evidence: string, retryable?: boolean): Promise<void>;
  commands(thingId?: string): CommandRecord[];
}

export interface OscDownlinkOptions {
  /** Wait for the echo before a try is FAILED (retry policy); deviceDefinitions `ackTimeoutSeconds` overrides it. */
  ackTimeoutMs?: number;
  /** Commands waiting for their echo at most (beyond: send refuses, 503 osc-busy, and the queue retries). */
  maxPending?: number;
}

interface Pending {
  record: CommandRecord;
  deviceKey: string;
  target: string;
  messages: OscOut[];
  /** Per message: the echo seen (its text for the evidence), or undefined. */
  echoed: Array<string | undefined>;
  timer?: NodeJS.Timeout;
}

export interface OscDownlink {
  adapter: DownlinkAdapter;
  /** Plugs into the running transports (hub start): the OSC listener's socket and its message hook. */
  attach(transports: readonly RunningTransport[], ctx?: unknown): void;
  detach(): void;
  /** Echo hook (the listener calls it per message): true when it was an echo of a pending command. */
  onMessage(deviceKey: string, remote: string, message: OscMessage): boolean;
  readonly counters: { sent: number; echoes: number; timeouts: number; unmatched: number };
}

const describe = (m: Pick<OscMessage, 'address' | 'args'>): string => `${m.address}${m.args.length ? ` ${m.args.map((a) => JSON.stringify(a)).join(' ').slice(0, 120)}` : ''}`;
const describeOut = (m: OscOut): string => describe({ address: m.address, args: m.args.map((a) => a.value) });

/** The device's address: deviceDefinitions `oscTarget` (host:port), else where it was last heard (port: `oscReceivePort` if set), else an ip:port device key. */
export function oscTargetOf(route: DownlinkRoute, heard: string | undefined): { host: string; port: number } | undefined {
  const dd = route.deviceDefinitions;
  const fixed = parseHostPort(dd.oscTarget);
  if (fixed) return fixed;
  const nd = (typeof dd.networkDefinitions === 'object' && dd.networkDefinitions !== null ? dd.networkDefinitions : {}) as Record<string, unknown>;
  const rp = Number(dd.oscReceivePort ?? nd.receivePort);
  const from = parseHostPort(heard) ?? parseHostPort(route.deviceKey);
  if (!from) return undefined;
  return Number.isInteger(rp) && rp >= 1 && rp <= 65535 ? { host: from.host, port: rp } : from;
}

const hostPort = (t: { host: string; port: number }): string => (t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`);

/** The OSC adapter (binding `osc`, push) and its echo matcher, for `service` (the hub's DownlinkService). */
export function oscDownlink(service: EvidenceSink, options: OscDownlinkOptions = {}): OscDownlink {
  const defaultTimeout = options.ackTimeoutMs ?? 10_000;
  const maxPending = options.maxPending ?? 10_000;
  const pending = new Map<string, Pending[]>(); // deviceKey -> oldest first
  let size = 0;
  let socket: OscSocket | undefined;
  const counters = { sent: 0, echoes: 0, timeouts: 0, unmatched: 0 };

  const drop = (p: Pending): void => {
    clearTimeout(p.timer);
    const list = pending.get(p.deviceKey);
    const i = list?.indexOf(p) ?? -1;
    if (i >= 0) {
      list!.splice(i, 1);
      size -= 1;
      if (!list!.length) pending.delete(p.deviceKey);
    }
  };

  /** Evidence once the queue has written SENT (an echo on loopback can come before that microtask chain ends). */
  const report = (r: CommandRecord, status: CommandStatus, evidence: string, retryable: boolean, tries = 0): void => {
    if (r.status === 'QUEUED' && tries < 50) {
      setTimeout(() => report(r, status, evidence, retryable, tries + 1), 2).unref();
      return;
    }
    void service.evidence(r, status, evidence, retryable);
  };

  const timeoutOf = (route: DownlinkRoute): number => {
    const s = Number(route.deviceDefinitions.ackTimeoutSeconds);
    return Number.isFinite(s) && s > 0 ? Math.min(600_000, Math.max(50, s * 1000)) : defaultTimeout;
  };

  const adapter: DownlinkAdapter = {
    binding: 'osc',
    mode: 'push',
    // Served once the listener runs and the device's address is known: until then the command waits QUEUED (TTL).
    serves: (route) => route.keyType === 'oscSource' && socket !== undefined && oscTargetOf(route, socket.remoteOf(route.deviceKey)) !== undefined,
    async send(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt> {
      const s = socket;
      if (!s) throw new ServiceUnavailableError('The OSC listener does not run (oscPort)', {}, 'no-osc');
      const target = oscTargetOf(route, s.remoteOf(route.deviceKey));
      if (!target) throw new ServiceUnavailableError(`No address for '${route.deviceKey}' (never heard, no oscTarget)`, {}, 'osc-no-target');
      if (size >= maxPending) throw new ServiceUnavailableError(`${size} OSC commands wait for their echo`, {}, 'osc-busy');
      const messages = encodeOscAction(command.action, command.input);
      // A retry replaces the try before it.
      for (const p of [...(pending.get(route.deviceKey) ?? [])]) if (p.record === command) drop(p);
      const p: Pending = { record: command, deviceKey: route.deviceKey, target: hostPort(target), messages, echoed: messages.map(() => undefined) };
      const list = pending.get(route.deviceKey) ?? [];
      pending.set(route.deviceKey, list);
      list.push(p);
      size += 1;
      try {
        for (const m of messages) await s.send(oscDatagram(m), target.host, target.port);
      } catch (e) {
        drop(p);
        throw e instanceof HubError ? e : new ServiceUnavailableError(`OSC send to ${p.target} failed: ${(e as Error).message}`, {}, 'osc-send-failed');
      }
      counters.sent += 1;
      const ms = timeoutOf(route);
      p.timer = setTimeout(() => {
        drop(p);
        counters.timeouts += 1;
        const missing = messages.filter((_, i) => p.echoed[i] === undefined).map((m) => m.address);
        report(command, 'FAILED', `no echo of ${missing.join(', ')} from ${p.target} within ${ms} ms`, true);
      }, ms);
      p.timer.unref();
      return { evidence: `OSC to ${p.target}: ${messages.map(describeOut).join('; ').slice(0, 400)}` };
    },
  };

  const onMessage = (deviceKey: string, remote: string, message: OscMessage): boolean => {
    // By the Thing's key, else by the address the command went to (a device heard under another key).
    let list = pending.get(deviceKey);
    if (!list?.length) for (const l of pending.values()) if (l[0]?.target === remote) list = l;
    if (!list?.length) return false;
    // The oldest command still waiting for this address; one that wrote these very values first.
    let best: { p: Pending; i: number } | undefined;
    for (const p of list) {
      for (let i = 0; i < p.messages.length; i++) {
        if (p.echoed[i] !== undefined) continue;
        const kind = echoOf(p.messages[i]!, message);
        if (kind === 'same') {
          best = { p, i };
          break;
        }
        if (kind === 'address' && !best) best = { p, i };
      }
      if (best && echoOf(best.p.messages[best.i]!, message) === 'same') break;
    }
    if (!best) {
      counters.unmatched += 1;
      return false;
    }
    counters.echoes += 1;
    const { p, i } = best;
    p.echoed[i] = describe(message);
    if (p.echoed.every((e) => e !== undefined)) {
      drop(p);
      report(p.record, 'DELIVERED', `device echoed ${p.echoed.join('; ').slice(0, 400)} from ${remote}`, false);
    }
    return true;
  };

  return {
    adapter,
    counters,
    onMessage,
    attach(transports) {
      const t = transports.find((x) => x.name === 'osc') as (RunningTransport & Partial<OscSocket>) | undefined;
      if (!t?.send || !t.hooks || !t.remoteOf) return;
      socket = t as OscSocket;
      socket.hooks.onMessage = (k, r, m) => void onMessage(k, r, m);
      // Commands SENT before a restart have no echo to wait for any more: FAILED, and the retry policy sends them again.
      for (const r of service.commands()) if (r.binding === 'osc' && (r.status === 'SENT' || r.status === 'ACCEPTED')) report(r, 'FAILED', 'no echo seen: the hub restarted while waiting', true);
    },
    detach() {
      if (socket) socket.hooks.onMessage = undefined;
      socket = undefined;
      for (const list of [...pending.values()]) for (const p of [...list]) drop(p);
    },
  };
}
