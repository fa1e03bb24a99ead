// The OSC UDP listener (binding `osc`): datagrams -> packets -> one DeviceFrame per message -> the uplink pipeline, with
// per-source rate bounds, a bound on messages in flight, and typed, counted rejections of bad datagrams.
import { channel as diagnosticsChannel } from 'node:diagnostics_channel';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { HubError, type DecodeError } from '../../errors.ts';
import type { DeviceEntry, KeyType, RunningTransport, TransportContext, UplinkOrigin } from '../types.ts';
import { argNames, checkSignature, namingOf, oscFrame } from './codec.ts';
import { decodeOscPacket, OSC_LIMITS, type OscMessage } from './packet.ts';

/**
 * Node's diagnostics_channel `wot-hub:osc:datagram`: a datagram reached the listener (before decoding), with its
 * arrival on the monotonic clock (process.hrtime.bigint()). Published only while something subscribes (benchmarks
 * split a closed loop's latency into waiting for the hub, the hub's own work and the way out; tracing tools).
 */
export const OSC_DATAGRAM_CHANNEL = diagnosticsChannel('wot-hub:osc:datagram');
export interface OscDatagramEvent {
  at: bigint;
  bytes: number;
  remote: string;
}

export interface OscListenerOptions {
  /** Messages per second one source (ip:port) may send; beyond it they are dropped and counted (`osc-flood`). */
  maxRatePerSource?: number;
  /** Burst above the rate a source may send at once (token bucket size). */
  burstPerSource?: number;
  /** Messages handed to the pipeline and not yet stored; beyond it new ones are dropped and counted (`osc-overloaded`). */
  maxInFlight?: number;
  /** Sources remembered (rate buckets, learned serial numbers); the least recently heard is forgotten first. */
  maxSources?: number;
  /** Device lookup (the pipeline's device-key index); default: the context's. */
  lookup?: (keyType: KeyType, key: string) => DeviceEntry | undefined;
}

export interface OscListener extends RunningTransport {
  /** Resolves when every message handed to the pipeline has settled (tests, benchmarks). */
  drain(): Promise<void>;
  /** Sends a datagram from the listener's socket (downlinks: hub/bindings/osc/downlink.ts). */
  send(datagram: Buffer, host: string, port: number): Promise<void>;
  /** The ip:port a Thing's oscSource key was last heard from (bounded like the sources). */
  remoteOf(deviceKey: string): string | undefined;
  /** Set by the downlink side: sees each accepted message (its device key and source) before the pipeline. */
  hooks: { onMessage?: (deviceKey: string, remote: string, message: OscMessage) => void };
}

interface Source {
  tokens: number;
  at: number;
  /** An NGIMU's serial number, learned from its /ping reply or /serialnumber message. */
  serial?: string;
}

/** An OSC datagram refused before it became frames (flood, overload). */
export class OscRejection extends HubError {
  override name = 'OscRejection';
  constructor(status: number, code: string, message: string, remote: string) {
    super(status, code, message, { extensions: { remote } });
  }
}

type Lookup = (keyType: KeyType, key: string) => DeviceEntry | undefined;

/** The device-key index behind the hub's uplink sink. Undefined: every message is keyed by its ip:port. */
function contextLookup(ctx: TransportContext): Lookup | undefined {
  const sink = ctx.uplinks;
  return sink.lookup ? (t, k) => sink.lookup!(t, k) : undefined;
}

/** Starts the listener on config.host:config.oscPort; undefined when the port is 0 (off). */
export async function startOsc(ctx: TransportContext, options: OscListenerOptions = {}): Promise<OscListener | undefined> {
  const port = (ctx.config as { oscPort?: number }).oscPort;
  if (!port) return undefined;
  return listenOsc(ctx, port, options);
}

/** Binds the listener (port 0 = an ephemeral port, for tests) and returns the running transport. */
export async function listenOsc(ctx: TransportContext, port: number, options: OscListenerOptions = {}): Promise<OscListener> {
  const host = ctx.config.host;
  const rate = options.maxRatePerSource ?? 5000;
  const burst = options.burstPerSource ?? Math.max(100, rate);
  const maxInFlight = options.maxInFlight ?? 20_000;
  const maxSources = options.maxSources ?? 4096;
  const lookup = options.lookup ?? contextLookup(ctx);
  const counts = { datagrams: 0, messages: 0, invalid: 0, oversized: 0, truncated: 0, flooded: 0, overloaded: 0, stored: 0, unmapped: 0, duplicate: 0, rejected: 0, inFlight: 0, sources: 0 };
  const sources = new Map<string, Source>();
  /** Device key -> the ip:port it was last heard from (downlink targets), recency order, at most maxSources. */
  const heard = new Map<string, string>();
  const hooks: OscListener['hooks'] = {};
  const idle: Array<() => void> = [];
  let seq = 0;
  const socket: Socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });

  const source = (remote: string, now: number): Source => {
    let s = sources.get(remote);
    if (s) sources.delete(remote);
    else s = { tokens: burst, at: now };
    sources.set(remote, s); // recency order
    if (sources.size > maxSources) sources.delete(sources.keys().next().value!);
    return s;
  };

  /** The Thing interface of a source: its NGIMU serial number, then ip:port, then ip. */
  const resolve = (src: Source, address: string, remote: string): { keyType: KeyType; deviceKey: string; entry?: DeviceEntry } => {
    if (lookup) {
      for (const key of src.serial ? [src.serial, remote, address] : [remote, address]) {
        const entry = lookup('oscSource', key);
        if (entry) return { keyType: 'oscSource', deviceKey: entry.deviceKey, entry };
      }
    }
    return { keyType: 'oscSource', deviceKey: remote };
  };

  const settle = () => {
    counts.inFlight -= 1;
    if (counts.inFlight === 0) for (const f of idle.splice(0)) f();
  };

  const learn = (src: Source, m: OscMessage) => {
    // NGIMU: /ping reply (ip, name, serial) and /serialnumber (serial) name the device behind this source.
    const serial = m.address === '/ping' ? m.args[2] : m.address === '/serialnumber' ? m.args[0] : undefined;
    if (typeof serial === 'string' && /^[A-Za-z0-9._~-]{1,64}$/.test(serial)) src.serial = serial;
  };

  socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    counts.datagrams += 1;
    const remote = `${rinfo.address}:${rinfo.port}`;
    if (OSC_DATAGRAM_CHANNEL.hasSubscribers) OSC_DATAGRAM_CHANNEL.publish({ at: process.hrtime.bigint(), bytes: msg.length, remote } satisfies OscDatagramEvent);
    const receivedAt = Date.now();
    const origin: UplinkOrigin = { binding: 'osc', transport: 'udp', receivedAt, remote };
    let messages: OscMessage[];
    try {
      messages = decodeOscPacket(msg, OSC_LIMITS);
    } catch (e) {
      const err = e as DecodeError;
      if (err.code === 'osc-oversized') counts.oversized += 1;
      else if (err.code === 'osc-truncated') counts.truncated += 1;
      else counts.invalid += 1;
      ctx.uplinks.reject(err instanceof HubError ? err : new HubError(422, 'osc-malformed', 'Undecodable OSC datagram'), origin);
      return;
    }
    const src = source(remote, receivedAt);
    // Token bucket per source: `rate` messages per second, `burst` at once.
    src.tokens = Math.min(burst, src.tokens + ((receivedAt - src.at) * rate) / 1000);
    src.at = receivedAt;
    if (src.tokens < messages.length) {
      counts.flooded += messages.length;
      ctx.uplinks.reject(new OscRejection(429, 'osc-flood', `Source ${remote} sends more than ${rate} OSC messages/s`, remote), origin);
      return;
    }
    src.tokens -= messages.length;
    for (const m of messages) learn(src, m);
    const key = resolve(src, rinfo.address, remote);
    heard.delete(key.deviceKey);
    heard.set(key.deviceKey, remote);
    if (heard.size > maxSources) heard.delete(heard.keys().next().value!);
    if (hooks.onMessage) {
      for (const m of messages) {
        try {
          hooks.onMessage(key.deviceKey, remote, m);
        } catch (e) {
          ctx.log.warn({ err: e }, 'OSC downlink hook failed');
        }
      }
    }
    let naming;
    try {
      naming = key.entry ? namingOf(key.entry.deviceDefinitions) : undefined;
    } catch (e) {
      counts.invalid += 1;
      ctx.uplinks.reject(e as HubError, origin);
      return;
    }
    for (const m of messages) {
      counts.messages += 1;
      if (counts.inFlight >= maxInFlight) {
        counts.overloaded += 1;
        ctx.uplinks.reject(new OscRejection(503, 'osc-overloaded', `More than ${maxInFlight} OSC messages waiting for the store`, remote), origin);
        continue;
      }
      if (naming) {
        try {
          checkSignature(naming, m.address, m.types);
        } catch (e) {
          counts.invalid += 1;
          ctx.uplinks.reject(e as HubError, origin);
          continue;
        }
      }
      const frame = oscFrame(m, key, naming ? argNames(naming, m.address) : undefined, { receivedAt, seq: (seq = (seq + 1) % Number.MAX_SAFE_INTEGER) });
      counts.inFlight += 1;
      ctx.uplinks.accept(frame, origin).then((r) => {
        if (r.status === 'stored') counts.stored += 1;
        else if (r.status === 'unmapped') counts.unmapped += 1;
        else if (r.status === 'duplicate') counts.duplicate += 1;
        else counts.rejected += 1;
      }, () => (counts.rejected += 1)).finally(settle);
    }
  });
  socket.on('error', (err) => ctx.log.warn({ err }, 'OSC socket error'));

  await new Promise<void>((resolveBind, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolveBind();
    });
  });
  // Bursts of 400 Hz streams from several IMUs: a larger receive buffer than the OS default keeps them from being cut.
  try {
    socket.setRecvBufferSize(4 * 1024 * 1024);
  } catch {
    // the OS cap (net.core.rmem_max) applies
  }
  const bound = socket.address();
  ctx.log.info({ host: bound.address, port: bound.port }, 'OSC listening (UDP)');
  let stopped = false;
  const drain = () => (counts.inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r)));

  return {
    name: 'osc',
    address: { host: bound.address, port: bound.port },
    stats: () => ({ ...counts, sources: sources.size }),
    drain,
    hooks,
    remoteOf: (deviceKey) => heard.get(deviceKey),
    send: (datagram, to, toPort) =>
      new Promise<void>((resolveSend, reject) => {
        if (stopped) reject(new HubError(503, 'no-osc', 'The OSC listener stopped'));
        else socket.send(datagram, toPort, to, (err) => (err ? reject(err) : resolveSend()));
      }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((r) => socket.close(() => r()));
      await Promise.race([drain(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    },
  };
}
