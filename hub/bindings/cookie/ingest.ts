// Cookie ingest: one serial or JSON message from a gateway -> codec -> shadows -> ctx.uplinks (the uplink pipeline), counted.
import { DecodeError, HubError, PayloadTooLargeError, ServiceUnavailableError } from '../../errors.ts';
import { parseJsonBody } from '../../http/body.ts';
import { BoundedLog } from '../mqtt/ingest.ts';
import type { TransportContext, UplinkOrigin } from '../types.ts';
import { COOKIE_TYPES, decodeJson, decodeSerial, MAX_FRAME_BYTES, type AnyCookieMessage, type TypeDef } from './codec.ts';
import { CookieShadows, GATEWAY_UPDATE_MS } from './shadows.ts';
import type { CookieDownlinkHooks, CookiePath } from './downlink.ts';

export interface CookieCounters {
  messages: number;
  frames: number;
  stored: number;
  duplicate: number;
  unmapped: number;
  /** Refused for what they hold (decode error, unknown device, wrong gateway, ...). */
  rejected: number;
  /** The pipeline answered >= 500 (store overloaded or failing). */
  notAcked: number;
}

/** `ack`: done with the message (stored or refused for what it holds); `retry`: the store could not take it. */
export type CookieDelivery = 'ack' | 'retry';

/** Decodes Cookie messages and hands their frames to the pipeline; shared by the TCP listener and the MQTT topics. */
export class CookieIngest {
  readonly counters: CookieCounters = { messages: 0, frames: 0, stored: 0, duplicate: 0, unmapped: 0, rejected: 0, notAcked: 0 };
  readonly rejectedByCode = new Map<string, number>();
  readonly shadows = new CookieShadows();
  /** The downlink side (hub/bindings/cookie/downlink.ts), set at hub start: learns paths, sees ack/err first. */
  downlink?: CookieDownlinkHooks;
  private readonly bounded: BoundedLog;

  constructor(
    private readonly ctx: Pick<TransportContext, 'uplinks' | 'log'>,
    private readonly types: Readonly<Record<string, TypeDef>> = COOKIE_TYPES,
  ) {
    this.bounded = new BoundedLog(ctx.log);
  }

  /**
   * One serial message (no NUL) or JSON message; `gateway` is who carried it (MQTT topic, TCP gateway), if known;
   * `path` the way back to its sender (the TCP connection; MQTT: the gateway's down topic).
   */
  async handle(form: 'serial' | 'json', payload: Uint8Array | string, origin: UplinkOrigin, gateway?: string, path?: CookiePath): Promise<{ delivery: CookieDelivery; message?: AnyCookieMessage }> {
    this.counters.messages += 1;
    // A node's err to a configuration message carries text, not the type's values: the downlink side takes it.
    if (this.downlink && form === 'serial' && this.downlink.reply(payload) === 'consumed') return { delivery: 'ack' };
    let message: AnyCookieMessage;
    try {
      if (payload.length > MAX_FRAME_BYTES * (form === 'json' ? 4 : 1)) throw new PayloadTooLargeError(`A Cookie message over ${MAX_FRAME_BYTES * (form === 'json' ? 4 : 1)} bytes`, { extensions: { field: 'message' } });
      message = form === 'serial' ? decodeSerial(payload, this.types) : decodeJson(parseJsonBody(typeof payload === 'string' ? Buffer.from(payload) : payload, 'Cookie JSON message'), this.types);
      if (message.type === 'gateway-map' && gateway !== undefined && message.device !== gateway) {
        throw new DecodeError(`A gateway-map from '${message.device}' through gateway '${gateway}'`, { field: 'device' }, 'cookie-gateway-mismatch');
      }
    } catch (e) {
      this.rejected(e instanceof HubError ? e : new DecodeError('The Cookie codec failed on this message', { cause: e }, 'codec-failed'), origin);
      return { delivery: 'ack' };
    }
    const via = gateway ?? (message.type === 'gateway-map' ? message.device : undefined);
    this.downlink?.heard(message.device, path ?? (origin.topic !== undefined && gateway !== undefined ? { kind: 'mqtt', gateway } : undefined), via);
    const frames = this.shadows.framesOf(message, { gateway: gateway ?? (message.type === 'gateway-map' ? message.device : undefined), receivedAt: origin.receivedAt });
    let delivery: CookieDelivery = 'ack';
    for (const frame of frames) {
      this.counters.frames += 1;
      let result;
      try {
        result = await this.ctx.uplinks.accept(frame, origin);
      } catch (e) {
        result = { status: 'rejected' as const, error: new ServiceUnavailableError('The uplink pipeline failed', { cause: e }) };
      }
      if (result.status === 'rejected') {
        if (result.error.status >= 500) {
          this.counters.notAcked += 1;
          delivery = 'retry';
        } else this.count(result.error.code);
        continue;
      }
      this.counters[result.status] += 1;
      if (message.type === 'gateway-map') this.shadows.announced(message.device);
    }
    for (const g of this.shadows.dirtyGateways()) this.scheduleFlush(g, origin);
    return { delivery, message };
  }

  private readonly flushTimers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  /** A gateway's Thing gets one more update GATEWAY_UPDATE_MS after a burst of its devices' messages. */
  private scheduleFlush(gateway: string, via: UplinkOrigin): void {
    if (this.closed || this.flushTimers.has(gateway)) return;
    const t = setTimeout(() => {
      this.flushTimers.delete(gateway);
      const frame = this.shadows.flushGateway(gateway, Date.now());
      if (!frame || this.closed) return;
      this.counters.frames += 1;
      void this.ctx.uplinks.accept(frame, { ...via, receivedAt: Date.now() }).then(
        (r) => {
          if (r.status === 'rejected') this.count(r.error.code);
          else this.counters[r.status] += 1;
        },
        () => {},
      );
    }, GATEWAY_UPDATE_MS);
    t.unref();
    this.flushTimers.set(gateway, t);
  }

  /** Stops the pending gateway updates (the transport stops). */
  close(): void {
    this.closed = true;
    for (const t of this.flushTimers.values()) clearTimeout(t);
    this.flushTimers.clear();
  }

  /** A message refused before it became a frame (bad framing, oversized, flood): counted and handed to the pipeline's rejections. */
  rejected(error: HubError, origin: UplinkOrigin): void {
    this.count(error.code);
    try {
      this.ctx.uplinks.reject(error, origin);
    } catch {
      // counting never stops a transport
    }
    this.bounded.warn(`cookie-${error.code}`, { code: error.code, remote: origin.remote, topic: origin.topic, err: error.message }, 'cookie: message refused');
  }

  private count(code: string): void {
    this.counters.rejected += 1;
    if (this.rejectedByCode.has(code) || this.rejectedByCode.size < 64) this.rejectedByCode.set(code, (this.rejectedByCode.get(code) ?? 0) + 1);
  }

  stats(): Record<string, number> {
    const out: Record<string, number> = { ...this.counters };
    for (const [code, n] of this.rejectedByCode) out[`rejected:${code}`] = n;
    return out;
  }
}
