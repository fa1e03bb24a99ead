// One MQTT message -> topic dispatch -> network-server codec -> the uplink pipeline; says whether it may be acknowledged.
import { DecodeError, HubError, PayloadTooLargeError, ServiceUnavailableError } from '../../errors.ts';
import { parseJsonBody } from '../../http/body.ts';
import { canonicalKey, type BindingName, type DeviceFrame, type NetworkServerCodec, type TransportContext, type UplinkOrigin } from '../types.ts';
import type { NetworkEvent } from '../tts/network-event.ts';
import { cookieIngestOf } from '../cookie/index.ts';
import { decodeGenericUplink } from './generic.ts';
import { decodeObdGatewayMessage } from '../obd/gateway.ts';
import { routeTopic, type TopicRoute } from './topics.ts';

/** Network-server events that are evidence for downlink command states (hub/downlink/events.ts). */
const DOWNLINK_EVENTS = new Set(['tts:down/queued', 'tts:down/sent', 'tts:down/ack', 'tts:down/nack', 'tts:down/failed', 'chirpstack:txack', 'chirpstack:ack', 'chirpstack:log']);

/** The pipeline's optional hand-over of network events to the downlink queues (hub/routing/uplink-pipeline.ts). */
interface NetworkEventSink {
  networkEvent(binding: string, event: import('../tts/network-event.ts').OtherNetworkEvent): void;
}

/** Largest MQTT payload the hub decodes (the embedded broker refuses larger packets outright). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** `ack`: acknowledge (stored, duplicate, unmapped, refused for what it holds, or not a device topic). `retry`: do not. */
export type Delivery = 'ack' | 'retry';

/**
 * The network-server codecs the topics dispatch to; a missing one makes its uplinks counted `noCodec` and dropped. The
 * optional event decoders name the device of a join or status event in the report.
 */
export interface MqttCodecs {
  tts?: NetworkServerCodec & { decodeMessage?(body: unknown, receivedAt: number): NetworkEvent };
  chirpstack?: NetworkServerCodec & { decodeEvent?(event: string, body: unknown, receivedAt: number): NetworkEvent };
}

export interface IngestCounters {
  /** Messages on device topics (any event). */
  received: number;
  qos0: number;
  stored: number;
  duplicate: number;
  unmapped: number;
  /** Refused for what they hold (4xx: bad JSON, decode error, unknown device, ...): acknowledged and dropped. */
  rejected: number;
  /** Not acknowledged because the pipeline answered >= 500 (store overloaded or failing): the sender retries. */
  notAcked: number;
  /** Network-server events other than uplinks (join, status, down/ack, ...): counted, not stored. */
  events: number;
  noCodec: number;
  /** Messages on topics that are not device topics (plain pub/sub on the embedded broker). */
  otherTopics: number;
}

/** Logs at most `burst` lines per window per kind, then one line saying how many were left out. */
export class BoundedLog {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();
  constructor(
    private readonly log: TransportContext['log'],
    private readonly burst = 10,
    private readonly windowMs = 10_000,
  ) {}

  warn(kind: string, obj: object, msg: string): void {
    this.emit('warn', kind, obj, msg);
  }

  info(kind: string, obj: object, msg: string): void {
    this.emit('info', kind, obj, msg);
  }

  private emit(level: 'warn' | 'info', kind: string, obj: object, msg: string): void {
    const now = Date.now();
    let w = this.windows.get(kind);
    if (!w || now - w.start >= this.windowMs) {
      if (w && w.suppressed > 0) this.log[level]({ kind, suppressed: w.suppressed }, `mqtt: ${w.suppressed} more '${kind}' lines left out`);
      if (this.windows.size > 256) this.windows.clear();
      w = { start: now, count: 0, suppressed: 0 };
      this.windows.set(kind, w);
    }
    if (w.count < this.burst) {
      w.count += 1;
      this.log[level](obj, msg);
    } else {
      w.suppressed += 1;
    }
  }
}

/** Why a decoded frame is not the device the topic names. */
function checkTopicDevice(route: TopicRoute, body: unknown, frame: DeviceFrame): void {
  if (route.kind === 'tts') {
    const ids = (body as { end_device_ids?: { device_id?: unknown } }).end_device_ids;
    if (ids && typeof ids.device_id === 'string' && ids.device_id !== route.deviceId) {
      throw new DecodeError(`end_device_ids.device_id '${ids.device_id.slice(0, 64)}' is not the topic's device '${route.deviceId}'`, {
        field: 'end_device_ids.device_id',
      });
    }
  } else if (route.kind === 'chirpstack' && frame.keyType === 'devEui' && frame.deviceKey !== canonicalKey('devEui', route.devEui)) {
    // ChirpStack itself requires the body's DevEUI to be the topic's (integration/mod.rs).
    throw new DecodeError(`deviceInfo.devEui ${frame.deviceKey} is not the topic's DevEUI ${route.devEui}`, { field: 'deviceInfo.devEui' });
  }
}

/**
 * Turns MQTT messages into frames for ctx.uplinks. Shared by the embedded broker and the external subscriber, which
 * acknowledge a QoS 1 message only when handle() resolves `ack`.
 */
export class MqttIngest {
  readonly counters: IngestCounters = {
    received: 0,
    qos0: 0,
    stored: 0,
    duplicate: 0,
    unmapped: 0,
    rejected: 0,
    notAcked: 0,
    events: 0,
    noCodec: 0,
    otherTopics: 0,
  };
  readonly eventCounts = new Map<string, number>();
  private readonly bounded: BoundedLog;

  constructor(
    private readonly ctx: Pick<TransportContext, 'uplinks' | 'log'>,
    private readonly codecs: MqttCodecs,
  ) {
    this.bounded = new BoundedLog(ctx.log);
  }

  /** Whether a topic is one of the device topics (the broker lets other topics through as plain pub/sub). */
  isDeviceTopic(topic: string): boolean {
    return routeTopic(topic).kind !== 'other';
  }

  /** Handles one message; never throws. */
  async handle(topic: string, payload: Uint8Array, qos: number, remote?: string): Promise<Delivery> {
    const route = routeTopic(topic);
    if (route.kind === 'other') {
      this.counters.otherTopics += 1;
      return 'ack';
    }
    this.counters.received += 1;
    if (qos === 0) this.counters.qos0 += 1;
    const binding: BindingName = route.kind === 'tts' ? 'tts' : route.kind === 'chirpstack' ? 'chirpstack' : route.kind === 'obd' ? 'obd' : 'mqtt-json';
    const origin: UplinkOrigin = { binding, transport: 'mqtt', receivedAt: Date.now(), topic };
    if (remote) origin.remote = remote;
    if (route.kind === 'cookie') {
      origin.binding = 'cookie';
      return (await cookieIngestOf(this.ctx).handle(route.form === 'up' ? 'serial' : 'json', payload, origin, route.gatewayId)).delivery;
    }

    let frame: DeviceFrame | undefined;
    try {
      frame = this.decode(route, payload, origin);
    } catch (e) {
      const error = e instanceof HubError ? e : new DecodeError('The codec failed on this message', { cause: e }, 'codec-failed');
      this.counters.rejected += 1;
      this.reject(error, origin);
      return 'ack';
    }
    if (!frame) return 'ack';
    return this.accept(frame, origin);
  }

  /** The frame of an uplink; undefined for events that are counted only. Throws HubError for bad input. */
  private decode(route: Exclude<TopicRoute, { kind: 'other' | 'cookie' }>, payload: Uint8Array, origin: UplinkOrigin): DeviceFrame | undefined {
    if (route.kind === 'tts' || route.kind === 'chirpstack') {
      if (route.event !== 'up') {
        this.countEvent(route, payload, origin);
        return undefined;
      }
      const codec = route.kind === 'tts' ? this.codecs.tts : this.codecs.chirpstack;
      if (!codec) {
        this.counters.noCodec += 1;
        this.bounded.warn('no-codec', { binding: origin.binding, topic: origin.topic }, `mqtt: no ${origin.binding} codec is installed; uplink dropped`);
        return undefined;
      }
      if (payload.length > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(`The MQTT payload is over ${MAX_PAYLOAD_BYTES} bytes`);
      const body = parseJsonBody(payload, 'MQTT message');
      const frame = codec.decodeUplink(body, origin.receivedAt);
      checkTopicDevice(route, body, frame);
      return frame;
    }
    if (payload.length > MAX_PAYLOAD_BYTES) throw new PayloadTooLargeError(`The MQTT payload is over ${MAX_PAYLOAD_BYTES} bytes`);
    // obd/{vin}/up: text lines, not JSON (the decoder caps the message at 16 KiB).
    if (route.kind === 'obd') return decodeObdGatewayMessage(origin.topic ?? '', payload, origin.receivedAt);
    const body = parseJsonBody(payload, 'MQTT message');
    return route.kind === 'device'
      ? decodeGenericUplink({ keyType: route.keyType, key: route.key }, body, payload)
      : decodeGenericUplink({ thingId: route.thingId }, body, payload);
  }

  /** Counts a non-uplink event; a join or a device status is reported (bounded log) with the device it names. */
  private countEvent(route: { kind: 'tts' | 'chirpstack'; event: string }, payload: Uint8Array, origin: UplinkOrigin): void {
    this.counters.events += 1;
    const name = `${route.kind}:${route.event}`;
    if (this.eventCounts.has(name) || this.eventCounts.size < 64) this.eventCounts.set(name, (this.eventCounts.get(name) ?? 0) + 1);
    if (DOWNLINK_EVENTS.has(name)) return this.downlinkEvent(route, payload, origin);
    if (route.event !== 'join' && route.event !== 'status') return;
    let device: unknown;
    let details: unknown;
    try {
      if (payload.length <= MAX_PAYLOAD_BYTES) {
        const body = parseJsonBody(payload, 'MQTT message');
        const event =
          route.kind === 'tts' ? this.codecs.tts?.decodeMessage?.(body, origin.receivedAt) : this.codecs.chirpstack?.decodeEvent?.(route.event, body, origin.receivedAt);
        if (event && event.kind !== 'uplink') ({ device, details } = event);
      }
    } catch {
      // a malformed event is still counted; the report just names no device
    }
    this.bounded.info(`event-${route.event}`, { binding: origin.binding, topic: origin.topic, event: route.event, device, details }, `mqtt: ${origin.binding} ${route.event} event`);
  }

  /** A downlink event goes, decoded, to the downlink queues (through the pipeline); a malformed one is counted only. */
  private downlinkEvent(route: { kind: 'tts' | 'chirpstack'; event: string }, payload: Uint8Array, origin: UplinkOrigin): void {
    const sink = this.ctx.uplinks as Partial<NetworkEventSink>;
    if (!sink.networkEvent || payload.length > MAX_PAYLOAD_BYTES) return;
    try {
      const body = parseJsonBody(payload, 'MQTT message');
      const event =
        route.kind === 'tts' ? this.codecs.tts?.decodeMessage?.(body, origin.receivedAt) : this.codecs.chirpstack?.decodeEvent?.(route.event, body, origin.receivedAt);
      if (event && event.kind !== 'uplink') sink.networkEvent(origin.binding, event);
    } catch (e) {
      this.bounded.warn('downlink-event', { binding: origin.binding, topic: origin.topic, err: (e as Error)?.message }, 'mqtt: malformed downlink event ignored');
    }
  }

  private async accept(frame: DeviceFrame, origin: UplinkOrigin): Promise<Delivery> {
    let result;
    try {
      result = await this.ctx.uplinks.accept(frame, origin);
    } catch (e) {
      // accept() never throws by contract; if it does, the message is not known to be stored: do not acknowledge.
      result = { status: 'rejected' as const, error: new ServiceUnavailableError('The uplink pipeline failed', { cause: e }) };
    }
    switch (result.status) {
      case 'stored':
        this.counters.stored += 1;
        return 'ack';
      case 'duplicate':
        this.counters.duplicate += 1;
        return 'ack';
      case 'unmapped':
        this.counters.unmapped += 1;
        return 'ack';
      case 'rejected':
        if (result.error.status < 500) {
          this.counters.rejected += 1;
          return 'ack';
        }
        this.counters.notAcked += 1;
        this.bounded.warn('not-acked', { topic: origin.topic, code: result.error.code }, 'mqtt: uplink not acknowledged (the pipeline is overloaded or failing); the sender will retry');
        return 'retry';
    }
  }

  private reject(error: HubError, origin: UplinkOrigin): void {
    try {
      this.ctx.uplinks.reject(error, origin);
    } catch {
      // counting must never stop a transport
    }
  }

  stats(): Record<string, number> {
    const out: Record<string, number> = { ...this.counters };
    for (const [name, n] of this.eventCounts) out[`event:${name}`] = n;
    return out;
  }
}
