// Cookie shadows: decoded messages -> DeviceFrames for the sensor, device and gateway Things (device-key scheme, gateway map, counts).
//
// Device keys (keyType `cookieDevice`): a device's control sensor (Sensor_ID 1) is the device id itself (`madrid-1`),
// any other sensor `device/sensor` (`madrid-1/2`), so each sensor shadow is its own Thing. A gateway is a Cookie element
// too: its control sensor sends `gateway-map` messages (which interface carries which devices); device messages that
// come through it carry that interface in payload.network, and its Thing gets the devices heard as live values.
import { asXsdDateTime } from '../../routing/uplink-pipeline.ts';
import type { DeviceFrame } from '../types.ts';
import type { AnyCookieMessage, CookieMessage } from './codec.ts';

export const COOKIE_KEY_TYPE = 'cookieDevice';

/** The device key of a sensor shadow. */
export const cookieKey = (device: string, sensor: number): string => (sensor === 1 ? device : `${device}/${sensor}`);

/**
 * Whether a Bluetooth class of device (24 bits, hex) is a car's hands-free kit or car audio: major class Audio/Video
 * (0x04, bits 8-12), minor class Hands-free (0x02) or Car audio (0x08) (bits 2-7), as the paper keeps only vehicles.
 */
export function isVehicleClass(diac: unknown): boolean | undefined {
  if (typeof diac !== 'string' || !/^(0x)?[0-9A-Fa-f]{1,6}$/.test(diac)) return undefined;
  const cod = parseInt(diac.replace(/^0x/, ''), 16);
  const major = (cod >> 8) & 0x1f;
  const minor = (cod >> 2) & 0x3f;
  return major === 0x04 && (minor === 0x02 || minor === 0x08);
}

/** A payload time (ISO text or epoch seconds) as xsd:dateTime, or undefined. */
export function timeOf(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < 1e11) return new Date(Math.round(v * 1000)).toISOString();
  return asXsdDateTime(v);
}

interface GatewayState {
  interfaces: Map<string, string>; // device -> interface
  map?: Record<string, string[]>;
  heard: Map<string, { at: number; messages: number }>;
  lastFrameAt: number;
  announced: boolean;
  /** Devices were heard since the gateway's Thing was last updated. */
  dirty: boolean;
}

const MAX_GATEWAYS = 1024;
const MAX_DEVICES_PER_GATEWAY = 1024;
const MAX_COUNTERS = 65_536;
/** A gateway's Thing is updated at most this often by the devices it carries (a new device at once). */
export const GATEWAY_UPDATE_MS = 1000;

/** The per-hub state of the Cookie shadows (one per transport: the MQTT ingest and the TCP listener share one). */
export class CookieShadows {
  private readonly gateways = new Map<string, GatewayState>();
  private readonly detections = new Map<string, number>();

  /**
   * The frames of one message as received through `gateway` (a composite yields one per group; a gateway's Thing
   * an extra frame about the devices it carries, when its map has been accepted). Pure but for the counters.
   */
  framesOf(m: AnyCookieMessage, via: { gateway?: string; receivedAt: number }): DeviceFrame[] {
    const single: CookieMessage[] =
      m.sensor === '*' ? m.payload.map((g) => ({ device: m.device, sensor: g.sensor, type: g.type, action: m.action, seq: m.seq, payload: g.payload })) : [m];
    const gw = via.gateway !== undefined ? this.gateway(via.gateway) : undefined;
    const out: DeviceFrame[] = [];
    single.forEach((s, i) => out.push(this.frame(s, via.gateway, gw, m.sensor === '*' ? i : undefined)));
    if (gw && via.gateway !== m.device) {
      const h = gw.heard.get(m.device);
      const isNew = !h;
      if (h) h.messages += 1;
      else if (gw.heard.size < MAX_DEVICES_PER_GATEWAY) gw.heard.set(m.device, { at: via.receivedAt, messages: 1 });
      const entry = gw.heard.get(m.device);
      if (entry) entry.at = via.receivedAt;
      if (gw.announced && (isNew || via.receivedAt - gw.lastFrameAt >= GATEWAY_UPDATE_MS)) {
        gw.lastFrameAt = via.receivedAt;
        gw.dirty = false;
        out.push(this.gatewayFrame(via.gateway!, gw, via.receivedAt));
      } else if (gw.announced) gw.dirty = true;
    }
    return out;
  }

  /** Told that a gateway's own message (its map) was accepted by its Thing: from then on it gets device updates. */
  announced(gateway: string): void {
    const gw = this.gateways.get(gateway);
    if (gw) gw.announced = true;
  }

  /** Gateways whose Thing is behind (devices heard within the last GATEWAY_UPDATE_MS). */
  dirtyGateways(): string[] {
    return [...this.gateways].filter(([, g]) => g.dirty).map(([id]) => id);
  }

  /** The trailing update of a gateway's Thing (after a burst), or undefined when it is up to date. */
  flushGateway(id: string, now: number): DeviceFrame | undefined {
    const gw = this.gateways.get(id);
    if (!gw?.dirty) return undefined;
    gw.dirty = false;
    gw.lastFrameAt = now;
    return this.gatewayFrame(id, gw, now);
  }

  private gateway(id: string): GatewayState | undefined {
    let gw = this.gateways.get(id);
    if (!gw && this.gateways.size < MAX_GATEWAYS) {
      gw = { interfaces: new Map(), heard: new Map(), lastFrameAt: -Infinity, announced: false, dirty: false };
      this.gateways.set(id, gw);
    }
    return gw;
  }

  private frame(m: CookieMessage, gateway: string | undefined, gw: GatewayState | undefined, group: number | undefined): DeviceFrame {
    const p = m.payload;
    const observedAt = timeOf(p.time ?? p.timestamp);
    const decoded: Record<string, unknown> = { ...p, messageType: m.type, action: m.action };
    if (m.type === 'bt-detection') {
      const vehicle = isVehicleClass(p.diac);
      if (vehicle !== undefined) decoded.vehicle = vehicle;
      decoded.lastDetection = { ...p };
      if (m.action === 'data') {
        const key = `${m.device}/${m.sensor}`;
        const n = (this.detections.get(key) ?? 0) + 1;
        if (this.detections.has(key) || this.detections.size < MAX_COUNTERS) this.detections.set(key, n);
        decoded.detections = n;
      }
    }
    if (m.type === 'gateway-map' && Array.isArray(p.interfaces)) {
      const map: Record<string, string[]> = {};
      for (const i of p.interfaces as Array<{ name?: string; devices?: string[] }>) if (i.name) map[i.name] = [...(map[i.name] ?? []), ...(i.devices ?? [])];
      decoded.gatewayMap = map;
      if (gw && gateway === m.device) {
        gw.map = map;
        gw.interfaces.clear();
        for (const [name, devices] of Object.entries(map)) for (const d of devices.slice(0, MAX_DEVICES_PER_GATEWAY)) gw.interfaces.set(d, name);
      }
    }
    const network: Record<string, unknown> = { device: m.device, sensor: m.sensor, type: m.type, action: m.action, seq: m.seq };
    if (gateway !== undefined) network.gateway = gateway;
    const iface = gw?.interfaces.get(m.device);
    if (iface !== undefined) network.interface = iface;
    if (group !== undefined) network.compositeGroup = group;
    const timePart = observedAt ? `.${Date.parse(observedAt)}` : '';
    return {
      protocol: 'cookie',
      keyType: COOKIE_KEY_TYPE,
      deviceKey: cookieKey(m.device, m.sensor),
      sequence: m.seq,
      messageId: `${m.device}.${m.sensor}.${m.type}.${m.action}.${m.seq}${timePart}`.slice(0, 200),
      ...(observedAt ? { observedAt } : {}),
      decoded,
      network,
    };
  }

  private gatewayFrame(gateway: string, gw: GatewayState, receivedAt: number): DeviceFrame {
    const devices = [...gw.heard].map(([device, h]) => ({ device, interface: gw.interfaces.get(device) ?? null, lastSeen: new Date(h.at).toISOString(), messages: h.messages }));
    return {
      protocol: 'cookie',
      keyType: COOKIE_KEY_TYPE,
      deviceKey: gateway,
      messageId: `${gateway}.devices.${receivedAt}`,
      observedAt: new Date(receivedAt).toISOString(),
      decoded: { messageType: 'gateway-devices', devices, devicesHeard: devices.length, ...(gw.map ? { gatewayMap: gw.map } : {}) },
      network: { gateway, type: 'gateway-devices' },
    };
  }
}
