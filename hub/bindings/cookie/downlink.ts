// Cookie downlink (issue 12): configuration actions -> serial `set` messages on the node's connection (gateway TCP stream or MQTT cookie/{gw}/down); ack/err matcher, hand-rolled (COOKIE.md).
//
// The hub's convention (the paper names the actions, not the replies): the hub writes
// `device:sensor:<type>-config:set:seq#values` (the type's values in definition order); the node answers on the same
// path with `device:sensor:<type>-config:ack:seq#values applied` (the type's body: it also updates the Thing) or
// `device:sensor:<type>-config:err:seq#<error text>` (one escaped atom). A command is SENT when its line was written,
// DELIVERED on the matching ack (device, sensor, type and seq), FAILED on the err (its text the evidence), FAILED with
// the retry policy when neither came within the ack timeout.
import { DecodeError, HubError, ServiceUnavailableError } from '../../errors.ts';
import type { CommandRecord, CommandStatus, DownlinkAdapter, DownlinkRoute, SendReceipt } from '../../downlink/types.ts';
import type { PublisherSlot } from '../../downlink/adapters.ts';
import type { RunningTransport, TransportContext } from '../types.ts';
import { COOKIE_TYPES, DEVICE_ID, decodeSerial, encodeSerial, MAX_FRAME_BYTES, type CookieMessage, type TypeDef } from './codec.ts';
import { cookieIngestOf } from './index.ts';
import { COOKIE_KEY_TYPE } from './shadows.ts';

/** The MQTT topic a gateway receives the hub's messages on (serial form, no NUL): a stable interface. */
export const cookieDownTopic = (gateway: string): string => `cookie/${gateway}/down`;

/** How the hub reaches a device: the TCP connection its messages came on, or its gateway's MQTT topics. */
export type CookiePath =
  | { kind: 'tcp'; remote: string; write(line: string): boolean; closed(): boolean }
  | { kind: 'mqtt'; gateway: string };

/** A node's answer to a configuration message. */
export interface CookieReply {
  action: 'ack' | 'err';
  device: string;
  sensor: number;
  type: string;
  seq: number;
  /** ack: the values the node applied (when its body reads as the type's). */
  payload?: Record<string, unknown>;
  /** err: the node's error text (at most 512 characters). */
  error?: string;
}

/** What CookieIngest calls (hub/bindings/cookie/ingest.ts): every decoded message's path, and ack/err first. */
export interface CookieDownlinkHooks {
  /** 'consumed': an err (its body is text, not the type's values) handled here; 'pass': ingest as usual. */
  reply(payload: Uint8Array | string): 'consumed' | 'pass';
  heard(device: string, path: CookiePath | undefined, gateway: string | undefined): void;
}

const TEXT: TypeDef = { fields: [{ name: 'text', kind: 'string' }] };
/** Every type with one text value: how an err body (or an ack whose body is not the type's) is read. */
const TEXT_TYPES: Readonly<Record<string, TypeDef>> = Object.fromEntries(Object.keys(COOKIE_TYPES).map((t) => [t, TEXT]));

/**
 * An ack or err line (serial form, NUL optional) -> CookieReply; undefined for any other message or an unreadable
 * one. Pure, bounded (the codec's limits), never throws.
 */
export function parseCookieReply(payload: Uint8Array | string): CookieReply | undefined {
  if (payload.length > MAX_FRAME_BYTES) return undefined;
  const head = typeof payload === 'string' ? payload.slice(0, 200) : Buffer.from(payload.subarray(0, 200)).toString('latin1');
  const hash = head.indexOf('#');
  const action = (hash < 0 ? head : head.slice(0, hash)).split(':')[3];
  if (action !== 'ack' && action !== 'err') return undefined;
  const read = (types: Readonly<Record<string, TypeDef>>): CookieMessage | undefined => {
    try {
      const m = decodeSerial(payload, types);
      return m.sensor === '*' ? undefined : m;
    } catch {
      return undefined;
    }
  };
  if (action === 'ack') {
    const m = read(COOKIE_TYPES);
    if (m) return { action, device: m.device, sensor: m.sensor, type: m.type, seq: m.seq, payload: m.payload };
  }
  const t = read(TEXT_TYPES);
  if (!t) return undefined;
  const text = typeof t.payload.text === 'string' ? t.payload.text.slice(0, 512) : undefined;
  return { action, device: t.device, sensor: t.sensor, type: t.type, seq: t.seq, ...(action === 'err' ? { error: text ?? '' } : {}) };
}

/** Device id and sensor of a Thing's key (`device` = sensor 1, `device/sensor`), or undefined. */
export function cookieAddress(route: Pick<DownlinkRoute, 'deviceKey' | 'deviceDefinitions'>): { device: string; sensor: number } | undefined {
  const m = /^([^/]+)(?:\/([0-9]{1,5}))?$/.exec(route.deviceKey);
  if (!m || !DEVICE_ID.test(m[1]!)) return undefined;
  const nd = route.deviceDefinitions.networkDefinitions as Record<string, unknown> | undefined;
  const sensor = m[2] !== undefined ? Number(m[2]) : typeof nd?.sensorId === 'number' ? nd.sensorId : 1;
  return Number.isInteger(sensor) && sensor >= 1 && sensor <= 0xffff ? { device: m[1]!, sensor } : undefined;
}

/**
 * The configuration type of an action: an action named after a `*-config` type is that type; `configure` is the
 * `*-config` type of the Thing's sensor (bt-config on 2, radar-config on 3) or deviceDefinitions `cookieConfigType`.
 */
export function configTypeOf(action: string, sensor: number, dd: Readonly<Record<string, unknown>> = {}): string | undefined {
  const isConfig = (t: unknown): t is string => typeof t === 'string' && t.endsWith('-config') && Object.hasOwn(COOKIE_TYPES, t);
  if (isConfig(action)) return action;
  if (action !== 'configure') return undefined;
  if (isConfig(dd.cookieConfigType)) return dd.cookieConfigType;
  return Object.keys(COOKIE_TYPES).find((t) => isConfig(t) && COOKIE_TYPES[t]!.sensor === sensor);
}

/** The serial `set` line of a command (no NUL). Throws DecodeError (`cookie-action` or the codec's) when it has none. */
export function encodeCookieConfig(action: string, input: unknown, route: Pick<DownlinkRoute, 'deviceKey' | 'deviceDefinitions'>, seq: number): { line: string; device: string; sensor: number; type: string } {
  const at = cookieAddress(route);
  if (!at) throw new DecodeError(`'${route.deviceKey.slice(0, 64)}' is no Cookie device key`, { field: 'deviceKey' }, 'cookie-action');
  const type = configTypeOf(action, at.sensor, route.deviceDefinitions);
  if (!type) throw new DecodeError(`Action '${action.slice(0, 64)}' of sensor ${at.sensor} has no Cookie configuration type`, { field: 'action' }, 'cookie-action');
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !Object.keys(input).length) throw new DecodeError('The configuration needs at least one value', { field: 'input' }, 'cookie-action');
  const line = encodeSerial({ device: at.device, sensor: at.sensor, type, action: 'set', seq, payload: input as Record<string, unknown> });
  return { line, ...at, type };
}

/** The service side the adapter reports to (DownlinkService). */
export interface EvidenceSink {
  evidence(r: CommandRecord, status: CommandStatus, evidence: string, retryable?: boolean): Promise<void>;
  commands(thingId?: string): CommandRecord[];
}

export interface CookieDownlinkOptions {
  /** Wait for ack/err before a try is FAILED (retry policy); deviceDefinitions `ackTimeoutSeconds` overrides it. */
  ackTimeoutMs?: number;
  /** Commands waiting for their answer at most (beyond: send refuses, 503 cookie-busy). */
  maxPending?: number;
  /** Devices whose path is remembered (least recently heard forgotten first). */
  maxDevices?: number;
}

export interface CookieDownlink {
  adapter: DownlinkAdapter;
  hooks: CookieDownlinkHooks;
  /** Plugs into the hub's CookieIngest (shared by the TCP listener and the MQTT topics) at start. */
  attach(transports: readonly RunningTransport[], ctx: Pick<TransportContext, 'uplinks' | 'log'>): Promise<void>;
  detach(): void;
  readonly counters: { sent: number; acks: number; errs: number; timeouts: number; unmatched: number };
}

interface Pending {
  record: CommandRecord;
  key: string;
  line: string;
  timer?: NodeJS.Timeout;
}

/** The Cookie adapter (binding `cookie`, push) and its ack/err matcher; `mqtt` is the hub's publisher slot. */
export function cookieDownlink(service: EvidenceSink, mqtt: PublisherSlot, options: CookieDownlinkOptions = {}): CookieDownlink {
  const defaultTimeout = options.ackTimeoutMs ?? 10_000;
  const maxPending = options.maxPending ?? 10_000;
  const maxDevices = options.maxDevices ?? 4096;
  const paths = new Map<string, { path: CookiePath; gateway?: string }>();
  const pending = new Map<string, Pending>();
  const counters = { sent: 0, acks: 0, errs: 0, timeouts: 0, unmatched: 0 };
  let attached: { ingest: { downlink?: CookieDownlinkHooks } } | undefined;
  let seq = Math.floor(Math.random() * 0x7fff_ffff);
  const keyOf = (device: string, sensor: number, type: string, s: number): string => `${device}:${sensor}:${type}:${s}`;

  const pathOf = (route: DownlinkRoute): { path: CookiePath; gateway?: string } | undefined => {
    const at = cookieAddress(route);
    const known = at ? paths.get(at.device) : undefined;
    if (known && !(known.path.kind === 'tcp' && known.path.closed())) return known;
    const gw = route.deviceDefinitions.cookieGateway;
    if (typeof gw === 'string' && DEVICE_ID.test(gw) && mqtt.publish) return { path: { kind: 'mqtt', gateway: gw }, gateway: gw };
    if (known?.path.kind === 'mqtt') return known;
    return undefined;
  };

  /** Evidence once the queue has written SENT (an answer on loopback can come before that microtask chain ends). */
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
    binding: 'cookie',
    mode: 'push',
    // Served once the ingest is attached and the node's path is known: until then the command waits QUEUED (TTL).
    serves: (route) => route.keyType === COOKIE_KEY_TYPE && attached !== undefined && pathOf(route) !== undefined,
    async send(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt> {
      const via = pathOf(route);
      if (!via) throw new ServiceUnavailableError(`No path to Cookie device '${route.deviceKey}' (never heard, no cookieGateway)`, {}, 'cookie-no-path');
      if (pending.size >= maxPending) throw new ServiceUnavailableError(`${pending.size} Cookie commands wait for their answer`, {}, 'cookie-busy');
      seq = (seq + 1) % 0x1_0000_0000;
      const enc = encodeCookieConfig(command.action, command.input, route, seq);
      for (const p of [...pending.values()]) if (p.record === command) drop(p);
      const p: Pending = { record: command, key: keyOf(enc.device, enc.sensor, enc.type, seq), line: enc.line };
      pending.set(p.key, p);
      let evidence: string;
      try {
        if (via.path.kind === 'tcp') {
          if (via.path.closed()) throw new ServiceUnavailableError(`The connection ${via.path.remote} closed`, {}, 'cookie-no-path');
          via.path.write(`${enc.line}\u0000`);
          evidence = `serial '${enc.line.slice(0, 300)}' written on TCP ${via.path.remote}${via.gateway ? ` (gateway ${via.gateway})` : ''}`;
        } else {
          const publish = mqtt.publish;
          if (!publish) throw new ServiceUnavailableError('No MQTT transport runs (mqttPort or mqttUrl)', {}, 'no-mqtt');
          const topic = cookieDownTopic(via.path.gateway);
          await publish(topic, Buffer.from(enc.line));
          evidence = `serial '${enc.line.slice(0, 300)}' published to ${topic}`;
        }
      } catch (e) {
        drop(p);
        throw e instanceof HubError ? e : new ServiceUnavailableError(`Cookie send failed: ${(e as Error).message}`, {}, 'cookie-send-failed');
      }
      counters.sent += 1;
      const ms = timeoutOf(route);
      p.timer = setTimeout(() => {
        drop(p);
        counters.timeouts += 1;
        report(command, 'FAILED', `no ack or err for ${enc.device}:${enc.sensor}:${enc.type}:set:${seq} within ${ms} ms`, true);
      }, ms);
      p.timer.unref();
      return { evidence };
    },
  };

  function drop(p: Pending): void {
    clearTimeout(p.timer);
    if (pending.get(p.key) === p) pending.delete(p.key);
  }

  const hooks: CookieDownlinkHooks = {
    reply(payload) {
      const r = parseCookieReply(payload);
      if (!r) return 'pass';
      const p = pending.get(keyOf(r.device, r.sensor, r.type, r.seq));
      const tag = `${r.device}:${r.sensor}:${r.type}:${r.action}:${r.seq}`;
      if (!p) counters.unmatched += 1;
      else {
        drop(p);
        if (r.action === 'ack') {
          counters.acks += 1;
          const applied = r.payload && Object.keys(r.payload).length ? ` applied ${JSON.stringify(r.payload).slice(0, 300)}` : '';
          report(p.record, 'DELIVERED', `node ack ${tag}${applied}`, false);
        } else {
          counters.errs += 1;
          report(p.record, 'FAILED', `node err ${tag}: ${r.error ?? ''}`, false);
        }
      }
      // An err's body is text (the codec would refuse it as the type's values); an ack goes on to update the Thing.
      return r.action === 'err' ? 'consumed' : 'pass';
    },
    heard(device, path, gateway) {
      if (!path) return;
      paths.delete(device);
      paths.set(device, { path, ...(gateway ? { gateway } : {}) });
      if (paths.size > maxDevices) paths.delete(paths.keys().next().value!);
    },
  };

  return {
    adapter,
    hooks,
    counters,
    async attach(transports, ctx) {
      const listener = transports.find((t) => t.name === 'cookie') as (RunningTransport & { ingest?: { downlink?: CookieDownlinkHooks } }) | undefined;
      const ingest = listener?.ingest ?? cookieIngestOf(ctx);
      ingest.downlink = hooks;
      attached = { ingest };
      // Commands SENT before a restart have no answer to wait for any more: FAILED, and the retry policy sends them again.
      for (const r of service.commands()) if (r.binding === 'cookie' && (r.status === 'SENT' || r.status === 'ACCEPTED')) report(r, 'FAILED', 'no ack or err seen: the hub restarted while waiting', true);
    },
    detach() {
      if (attached?.ingest.downlink === hooks) attached.ingest.downlink = undefined;
      attached = undefined;
      for (const p of [...pending.values()]) drop(p);
      paths.clear();
    },
  };
}
