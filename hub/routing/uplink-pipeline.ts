// The uplink pipeline (UplinkSink): frame -> Thing by device key -> last seen -> payload codecs -> envelope -> router.
import { randomUUID } from 'node:crypto';
import { DecodeError, HubError, ServiceUnavailableError } from '../errors.ts';
import { payloadCodec as registeredCodec } from '../bindings/codecs.ts';
import type { AcceptResult, DeviceEntry, DeviceFrame, PayloadCodec, UplinkOrigin, UplinkSink } from '../bindings/types.ts';
import { applyPropertyNames, type DeviceIndex } from './device-index.ts';
import type { LiveState, MessageEnvelope } from './live-state.ts';
import type { Rejections } from './rejections.ts';
import type { IngestResult, UplinkRouter } from './uplink-router.ts';
import type { UplinkAdapters } from './adapters.ts';
import type { OtherNetworkEvent } from '../bindings/tts/network-event.ts';

export interface UplinkPipelineDeps {
  index: DeviceIndex;
  router: UplinkRouter;
  live: LiveState;
  rejections: Rejections;
  adapters: UplinkAdapters;
  /** Codec by name (default: the registry of hub/bindings/codecs.ts). */
  codec?: (name: string) => PayloadCodec;
  /** How many recent (thing, interface, messageId) triples are remembered to drop redeliveries (default 65,536). */
  dedupWindow?: number;
}

/** What the downlink queues (hub/downlink/service.ts) hear from the pipeline. */
export interface DownlinkHooks {
  onUplink(entry: DeviceEntry, origin: UplinkOrigin): void;
  networkEvent(binding: string, event: OtherNetworkEvent): void;
}

/** When a Thing was last heard, and on which interface (adapter id): downlinks go to the last active one. */
export interface LastActive {
  /** Adapter id of the interface of the latest uplink. */
  interface: string;
  /** ISO 8601 time the hub received it. */
  at: string;
  /** The latest uplink per interface (ISO 8601). */
  byInterface: Record<string, string>;
}

/** A device's messageId as DeviceFrame states it: IRI-safe, bounded. */
const MESSAGE_ID = /^[A-Za-z0-9._~-]{1,200}$/;

export class UnknownDeviceError extends HubError {
  override name = 'UnknownDeviceError';
  constructor(keyType: string, deviceKey: string) {
    super(404, 'unknown-device', `No Thing claims ${keyType} '${deviceKey}'`, { extensions: { keyType, deviceKey } });
  }
}

/**
 * Routes device frames from every transport. Never throws: every failure is an AcceptResult `rejected` with a typed
 * HubError, counted per binding and code (Rejections) and on the binding's adapter Thing. Resolves `stored` only once
 * the store's insert resolved (the durable log), so a transport may acknowledge then and not before.
 */
export class UplinkPipeline implements UplinkSink {
  private readonly seen = new Map<string, true>();
  private readonly inflight = new Map<string, Promise<AcceptResult>>();
  private readonly active = new Map<string, Map<string, number>>();
  private readonly codec: (name: string) => PayloadCodec;
  private readonly window: number;
  /** The downlink queues (hub/downlink): told of every uplink (uplink_triggered sends) and of network-server events. */
  downlinks?: DownlinkHooks;

  constructor(private readonly deps: UplinkPipelineDeps) {
    this.codec = deps.codec ?? registeredCodec;
    this.window = deps.dedupWindow ?? 65_536;
  }

  async accept(frame: DeviceFrame, origin: UplinkOrigin): Promise<AcceptResult> {
    try {
      this.deps.adapters.of(origin.binding).received += 1;
      if (this.deps.adapters.paused(origin.binding)) throw new ServiceUnavailableError(`The ${origin.binding} adapter is paused`, {}, 'adapter-paused');
      const entry = this.resolve(frame);
      const key = `${entry.thingId}\u0000${entry.adapterId}\u0000${frame.messageId}`;
      if (this.seen.has(key)) return this.duplicate(entry.thingId, origin);
      const earlier = this.inflight.get(key);
      if (earlier) {
        // The same message twice at once (e.g. relayed by two network servers): the second waits for the first.
        const first = await earlier;
        if (first.status !== 'rejected') return this.duplicate(entry.thingId, origin);
      }
      const running = this.route(frame, origin, entry, key);
      this.inflight.set(key, running);
      try {
        return await running;
      } finally {
        if (this.inflight.get(key) === running) this.inflight.delete(key);
      }
    } catch (e) {
      const error = asHubError(e);
      this.deps.rejections.record(error, origin, frameContext(frame));
      return { status: 'rejected', error };
    }
  }

  reject(error: HubError, origin: UplinkOrigin): void {
    try {
      this.deps.adapters.of(origin.binding).received += 1;
      this.deps.rejections.record(error, origin);
    } catch {
      // counting must never throw into a transport
    }
  }

  /**
   * A `{meta, payload}` envelope that already names its Thing (POST /ingest): the router, with the same redelivery
   * check as frames (by meta.messageId) and the http adapter's counters. Rejections are counted, not thrown.
   */
  async ingestEnvelope(message: MessageEnvelope, origin: UplinkOrigin): Promise<IngestResult | { status: 'duplicate' }> {
    const counters = this.deps.adapters.of(origin.binding);
    counters.received += 1;
    if (this.deps.adapters.paused(origin.binding)) {
      const error = new ServiceUnavailableError(`The ${origin.binding} adapter is paused`, {}, 'adapter-paused');
      this.deps.rejections.record(error, origin);
      return { status: 'failed', error };
    }
    const key = `${message.meta.thingId}\u0000${message.meta.interface ?? origin.binding}\u0000${message.meta.messageId}`;
    if (this.seen.has(key) || this.inflight.has(key)) {
      counters.duplicate += 1;
      return { status: 'duplicate' };
    }
    this.touch(message.meta.thingId, message.meta.interface ?? origin.binding, origin.receivedAt);
    const result = await this.deps.router.ingest(message);
    this.count(result, key, counters, origin);
    return result;
  }

  /** A network server's downlink event (TTS down/*, ChirpStack ack/txack/log, Sigfox acknowledge) for the downlink queues. */
  networkEvent(binding: string, event: OtherNetworkEvent): void {
    try {
      this.downlinks?.networkEvent(binding, event);
    } catch {
      // counting and state changes must never throw into a transport
    }
  }

  /** The interface that owns a device key (the device index), for transports that find devices themselves (the packet forwarder, by DevAddr). */
  lookup(keyType: DeviceEntry['keyType'], deviceKey: string): DeviceEntry | undefined {
    return this.deps.index.lookup(keyType, deviceKey);
  }

  /** The interface a Thing was last heard on, and when; undefined when it never was since the hub started. */
  lastActive(thingId: string): LastActive | undefined {
    const byInterface = this.active.get(thingId);
    if (!byInterface?.size) return undefined;
    let latest: [string, number] | undefined;
    for (const [id, at] of byInterface) if (!latest || at >= latest[1]) latest = [id, at];
    return {
      interface: latest![0],
      at: new Date(latest![1]).toISOString(),
      byInterface: Object.fromEntries([...byInterface].map(([id, at]) => [id, new Date(at).toISOString()])),
    };
  }

  private resolve(frame: DeviceFrame): DeviceEntry {
    if (typeof frame !== 'object' || frame === null) throw new DecodeError('The frame is not an object', { field: 'frame' }, 'invalid-frame');
    if (typeof frame.keyType !== 'string' || typeof frame.deviceKey !== 'string' || frame.deviceKey === '') {
      throw new DecodeError('The frame names no device key', { field: 'deviceKey' }, 'invalid-frame');
    }
    if (typeof frame.messageId !== 'string' || !MESSAGE_ID.test(frame.messageId)) {
      throw new DecodeError('The frame has no IRI-safe messageId ([A-Za-z0-9._~-], at most 200)', { field: 'messageId' }, 'invalid-frame');
    }
    const entry = this.deps.index.lookup(frame.keyType, frame.deviceKey);
    if (!entry) throw new UnknownDeviceError(frame.keyType, frame.deviceKey);
    return entry;
  }

  private async route(frame: DeviceFrame, origin: UplinkOrigin, entry: DeviceEntry, key: string): Promise<AcceptResult> {
    const counters = this.deps.adapters.of(origin.binding);
    // Heard is heard: last-seen moves even when the payload then fails to decode (class A downlinks follow an uplink).
    this.touch(entry.thingId, entry.adapterId, origin.receivedAt);
    try {
      this.downlinks?.onUplink(entry, origin);
    } catch {
      // a downlink failure never stops an uplink
    }
    const decoded = applyPropertyNames(this.decode(frame, entry), entry.deviceDefinitions);
    counters.decoded += 1;
    const envelope = envelopeOf(frame, origin, entry, decoded);
    const result = await this.deps.router.ingest(envelope, decoded);
    this.count(result, key, counters, origin, frame);
    if (result.status === 'stored') return { status: 'stored', thingId: entry.thingId, quads: result.quads };
    if (result.status === 'unmapped') return { status: 'unmapped', thingId: entry.thingId };
    return { status: 'rejected', error: result.error };
  }

  /** The TD's payload codecs in order (a processing codec hands bytes on), else the network server's decoded payload. */
  private decode(frame: DeviceFrame, entry: DeviceEntry): Record<string, unknown> {
    if (entry.codecs.length === 0 || !(frame.bytes instanceof Uint8Array)) return isRecord(frame.decoded) ? frame.decoded : {};
    let bytes = frame.bytes;
    let fields: Record<string, unknown> = {};
    for (const name of entry.codecs) {
      const codec = this.codec(name);
      let out;
      try {
        out = codec.decode(bytes, { fPort: frame.fPort, device: entry.deviceDefinitions });
      } catch (e) {
        if (e instanceof HubError) throw e;
        throw new DecodeError(`Codec '${name}' failed: ${(e as Error)?.message ?? String(e)}`, { cause: e, field: name });
      }
      if (isRecord(out) && out.bytes instanceof Uint8Array) {
        bytes = out.bytes;
        if (isRecord(out.fields)) fields = { ...fields, ...out.fields };
        continue;
      }
      return { ...fields, ...(out as Record<string, unknown>) };
    }
    return fields;
  }

  private count(result: IngestResult, key: string, counters: ReturnType<UplinkAdapters['of']>, origin: UplinkOrigin, frame?: DeviceFrame): void {
    if (result.status === 'failed') {
      this.deps.rejections.record(result.error, origin, frame ? frameContext(frame) : {});
      return;
    }
    this.remember(key);
    if (result.status === 'stored') {
      counters.stored += 1;
      counters.quads += result.quads;
    } else counters.unmapped += 1;
  }

  private duplicate(thingId: string, origin: UplinkOrigin): AcceptResult {
    this.deps.adapters.of(origin.binding).duplicate += 1;
    return { status: 'duplicate', thingId };
  }

  /** Bounded memory of accepted messages: the oldest is forgotten first (Map keeps insertion order). */
  private remember(key: string): void {
    this.seen.set(key, true);
    if (this.seen.size > this.window) this.seen.delete(this.seen.keys().next().value!);
  }

  private touch(thingId: string, adapterId: string, receivedAt: number): void {
    let byInterface = this.active.get(thingId);
    if (!byInterface) this.active.set(thingId, (byInterface = new Map()));
    const at = Number.isFinite(receivedAt) ? receivedAt : Date.now();
    if ((byInterface.get(adapterId) ?? -Infinity) <= at) byInterface.set(adapterId, at);
    this.deps.live.setValues(thingId, { lastSeen: new Date(at).toISOString(), lastInterface: adapterId });
  }
}

/** The `{meta, payload}` message the mapfiles read (hub:CurrentMessage); absent values are left out, not null. */
export function envelopeOf(frame: DeviceFrame, origin: UplinkOrigin, entry: DeviceEntry, decoded: Record<string, unknown>): MessageEnvelope {
  const receivedAt = new Date(Number.isFinite(origin.receivedAt) ? origin.receivedAt : Date.now()).toISOString();
  const observedAt = asXsdDateTime(frame.observedAt) ?? receivedAt;
  const meta: MessageEnvelope['meta'] = {
    thingId: entry.thingId,
    protocol: frame.protocol,
    interface: entry.adapterId,
    binding: origin.binding,
    transport: origin.transport,
    receivedAt,
    keyType: entry.keyType,
    deviceKey: entry.deviceKey,
    messageId: frame.messageId,
    observedAt,
  };
  if (frame.sequence !== undefined) meta.sequence = frame.sequence;
  if (frame.fPort !== undefined) meta.fPort = frame.fPort;
  const payload: Record<string, unknown> = { decoded };
  if (frame.radio?.length) payload.radio = frame.radio;
  if (frame.location) payload.location = frame.location;
  if (frame.network) payload.network = frame.network;
  if (frame.fPort !== undefined) payload.fPort = frame.fPort;
  if (frame.sequence !== undefined) payload.sequence = frame.sequence;
  return { meta, payload };
}

const XSD_DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A time as the mapfiles write it (xsd:dateTime): kept as given when it already is one (TTS's nanoseconds survive),
 * else what Date makes of it in ISO form; undefined when it is no time at all.
 */
export function asXsdDateTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  if (XSD_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** A hub-made message id for messages that bring none (POST /ingest without meta.messageId). */
export const hubMessageId = (): string => `hub-${randomUUID()}`;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function frameContext(frame: DeviceFrame): Record<string, unknown> {
  if (!isRecord(frame)) return {};
  return { keyType: frame.keyType, deviceKey: typeof frame.deviceKey === 'string' ? frame.deviceKey.slice(0, 64) : undefined, messageId: typeof frame.messageId === 'string' ? frame.messageId.slice(0, 64) : undefined };
}

function asHubError(e: unknown): HubError {
  if (e instanceof HubError) return e;
  return new HubError(500, 'uplink-failed', 'The uplink could not be routed', { cause: e });
}
