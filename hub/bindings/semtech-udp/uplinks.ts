// LoRaWAN uplinks heard by packet forwarders: one frame heard by several gateways is deduplicated in a short window,
// then the device is found by DevAddr, its MIC and FCnt checked with the session keys from the secret store, the
// FRMPayload decrypted, and a DeviceFrame handed to the uplink pipeline.
import { createHash } from 'node:crypto';
import { HubError, OverloadedError } from '../../errors.ts';
import { FCntError, MicError, openDataUplink, type OpenedUplink, type SessionKeys } from '../lorawan/uplink.ts';
import { parsePhyPayload, type DataFrame, type JoinRequestFrame } from '../lorawan/phy-payload.ts';
import type { SessionState } from '../lorawan/session-state.ts';
import { canonicalKey, type DeviceFrame, type KeyType, type RadioReception, type SecretLookup, type UplinkOrigin, type UplinkSink } from '../types.ts';
import type { RxPacket } from './protocol.ts';

/** A device a DevAddr resolves to (a DeviceEntry of the pipeline's device index fits). */
export interface DevAddrDevice {
  thingId?: string;
  keyType?: KeyType;
  deviceKey?: string;
  deviceDefinitions: Readonly<Record<string, unknown>>;
}

/** Devices using a DevAddr (several when DevAddrs are shared: the MIC tells them apart). */
export type ResolveDevAddr = (devAddr: string) => DevAddrDevice | readonly DevAddrDevice[] | undefined;

export interface LorawanUplinksOptions {
  uplinks: UplinkSink;
  secrets: SecretLookup;
  resolveDevAddr?: ResolveDevAddr;
  sessions: SessionState;
  /** How long copies of a frame from other gateways are awaited after the first (acks are never delayed by it). */
  dedupWindowMs?: number;
  /** Frames waiting in the window at most; more are refused (counted) rather than queued. */
  maxPending?: number;
  /** Class A downlinks and OTAA joins (hub/bindings/semtech-udp/downlink.ts); without them join-requests are only counted. */
  classA?: ClassAHooks;
}

/** A checked uplink as the class A downlink side needs it: where to answer, with which session. */
export interface RxContext {
  thingId: string;
  adapterId: string;
  devAddr: number;
  devAddrHex: string;
  /** The session id FCnt state is kept under (uplink and downlink). */
  sessionId: string;
  keys: SessionKeys;
  fCnt: number;
  /** A Confirmed Data Up (the answer must carry ACK). */
  confirmed: boolean;
  /** The uplink's ACK bit (the device confirms the last confirmed downlink). */
  ack: boolean;
  receptions: RadioReception[];
  receivedAt: number;
  deviceDefinitions: Readonly<Record<string, unknown>>;
}

/** What the packet forwarder's downlink side hooks into the uplink path. */
export interface ClassAHooks {
  /** OTAA session keys of a device, when its current session has this DevAddr (else the TD's ABP keys are used). */
  sessionKeys?(device: DevAddrDevice, devAddrHex: string): SessionKeys | undefined;
  /** Before the uplink enters the pipeline: ACK evidence, and the receive window the queue's send() will use. */
  uplink?(ctx: RxContext): void;
  /** Right after the pipeline took the uplink (its synchronous part ran): e.g. an empty ACK when nothing was sent. */
  afterUplink?(ctx: RxContext): void;
  /** A deduplicated join-request; rejects with a HubError when it is refused. */
  joinRequest?(frame: JoinRequestFrame, receptions: RadioReception[], origin: UplinkOrigin): Promise<void>;
}

interface Pending {
  frame: DataFrame | JoinRequestFrame;
  origin: UplinkOrigin;
  receptions: Map<string, RadioReception>;
  timer: NodeJS.Timeout;
}

const COUNTERS = [
  'rxpk', 'crcBad', 'malformed', 'joinRequests', 'notUplink', 'duplicatesMerged', 'pendingOverflow', 'unknownDevice',
  'keysMissing', 'micFailed', 'fcntReplay', 'fcntStale', 'accepted', 'stored', 'duplicate', 'unmapped', 'rejected',
  'joinAccepted', 'joinRefused', 'devNonceReplay',
] as const;
export type UplinkCounter = (typeof COUNTERS)[number];

export class LorawanUplinks {
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counts = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<UplinkCounter, number>;
  private readonly windowMs: number;
  private readonly maxPending: number;

  constructor(private readonly options: LorawanUplinksOptions) {
    this.windowMs = options.dedupWindowMs ?? 200;
    this.maxPending = options.maxPending ?? 10_000;
  }

  stats(): Record<string, number> {
    return { ...this.counts, pending: this.pending.size };
  }

  private reject(counter: UplinkCounter, error: HubError, origin: UplinkOrigin): void {
    this.counts[counter]++;
    this.options.uplinks.reject(error, origin);
  }

  /** One rxpk entry of a PUSH_DATA. */
  receive(packet: RxPacket, origin: UplinkOrigin): void {
    this.counts.rxpk++;
    if (packet.crc === 'bad') {
      this.counts.crcBad++;
      return;
    }
    let frame;
    try {
      frame = parsePhyPayload(packet.phy);
    } catch (e) {
      return this.reject('malformed', e as HubError, origin);
    }
    if (frame.kind === 'join-request') {
      this.counts.joinRequests++;
      if (!this.options.classA?.joinRequest) return; // no join server: counted only
    } else if (frame.kind !== 'data' || !frame.uplink) {
      this.counts.notUplink++;
      return;
    }
    // The same radio frame from several gateways is byte-identical (MIC included).
    const key = packet.phy.toString('base64');
    const seen = this.pending.get(key);
    if (seen) {
      this.counts.duplicatesMerged++;
      const prev = seen.receptions.get(packet.reception.gatewayId);
      if (!prev || (packet.reception.rssi ?? -Infinity) > (prev.rssi ?? -Infinity)) seen.receptions.set(packet.reception.gatewayId, packet.reception);
      return;
    }
    if (this.pending.size >= this.maxPending) {
      return this.reject('pendingOverflow', new OverloadedError('too many LoRaWAN frames waiting for deduplication'), origin);
    }
    const timer = setTimeout(() => this.finish(key), this.windowMs);
    this.pending.set(key, { frame, origin, receptions: new Map([[packet.reception.gatewayId, packet.reception]]), timer });
  }

  private finish(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    const job = this.process(p).finally(() => this.inFlight.delete(job));
    this.inFlight.add(job);
  }

  private keysOf(device: DevAddrDevice, devAddrHex: string): SessionKeys | undefined {
    const otaa = this.options.classA?.sessionKeys?.(device, devAddrHex);
    if (otaa) return otaa;
    const dd = device.deviceDefinitions;
    const nwk = typeof dd.nwkSKey === 'string' ? this.options.secrets.secret(dd.nwkSKey) : undefined;
    const app = typeof dd.appSKey === 'string' ? this.options.secrets.secret(dd.appSKey) : undefined;
    if (!nwk || nwk.length !== 16 || !app || app.length !== 16) return undefined;
    return { nwkSKey: nwk, appSKey: app };
  }

  private async processJoin(p: Pending & { frame: JoinRequestFrame }): Promise<void> {
    try {
      await this.options.classA!.joinRequest!(p.frame, [...p.receptions.values()], p.origin);
      this.counts.joinAccepted++;
    } catch (e) {
      const error = e instanceof HubError ? e : new HubError(500, 'join-failed', (e as Error)?.message ?? String(e));
      if (error.code === 'lorawan-devnonce-replay') this.counts.devNonceReplay++;
      this.reject('joinRefused', error, p.origin);
    }
  }

  private async process(p: Pending): Promise<void> {
    if (p.frame.kind === 'join-request') return this.processJoin(p as Pending & { frame: JoinRequestFrame });
    const { origin } = p;
    const frame = p.frame;
    const found = this.options.resolveDevAddr?.(frame.devAddrHex);
    const candidates = found === undefined ? [] : Array.isArray(found) ? (found as readonly DevAddrDevice[]) : [found as DevAddrDevice];
    if (candidates.length === 0) {
      return this.reject('unknownDevice', new HubError(404, 'unknown-device', `no device has DevAddr ${frame.devAddrHex}`), origin);
    }
    let opened: OpenedUplink | undefined;
    let device: DevAddrDevice | undefined;
    let sessionKey = '';
    let keysFound = false;
    for (const candidate of candidates) {
      const keys = this.keysOf(candidate, frame.devAddrHex);
      if (!keys) continue;
      keysFound = true;
      // A new NwkSKey (a new ABP session, a rejoin) starts a new counter: the session is named by a short key digest.
      sessionKey = `${frame.devAddrHex}/${candidate.thingId ?? ''}/${createHash('sha256').update(keys.nwkSKey).digest('hex').slice(0, 8)}`;
      try {
        const gap = candidate.deviceDefinitions.maxFCntGap;
        opened = openDataUplink(frame, keys, {
          lastFCnt: this.options.sessions.get(sessionKey),
          maxFCntGap: typeof gap === 'number' && gap > 0 ? gap : undefined,
        });
        device = candidate;
        break;
      } catch (e) {
        if (e instanceof FCntError) return this.reject(e.reason === 'replay' ? 'fcntReplay' : 'fcntStale', e, origin); // MIC verified: it is this device
        if (!(e instanceof MicError)) return this.reject('malformed', e as HubError, origin);
      }
    }
    if (!keysFound) {
      return this.reject('keysMissing', new HubError(422, 'lorawan-keys-missing', `no session keys in the secret store for DevAddr ${frame.devAddrHex}`), origin);
    }
    if (!opened || !device) return this.reject('micFailed', new MicError(frame.devAddrHex), origin);
    this.options.sessions.set(sessionKey, opened.fCnt);
    this.counts.accepted++;
    const radio = [...p.receptions.values()];
    const entry = device as DevAddrDevice & { adapterId?: string };
    const rx: RxContext | undefined = this.options.classA && device.thingId && entry.adapterId ? {
      thingId: device.thingId, adapterId: entry.adapterId, devAddr: frame.devAddr, devAddrHex: frame.devAddrHex, sessionId: sessionKey,
      keys: this.keysOf(device, frame.devAddrHex)!, fCnt: opened.fCnt, confirmed: frame.confirmed, ack: frame.fCtrl.ack,
      receptions: radio, receivedAt: origin.receivedAt, deviceDefinitions: device.deviceDefinitions,
    } : undefined;
    if (rx) this.hook(() => this.options.classA!.uplink?.(rx));
    const accepting = this.options.uplinks.accept(toDeviceFrame(opened, device, radio, origin), origin);
    if (rx) this.hook(() => this.options.classA!.afterUplink?.(rx));
    const result = await accepting;
    if (result.status === 'rejected') this.counts.rejected++;
    else this.counts[result.status]++;
  }

  /** A downlink hook never stops an uplink. */
  private hook(f: () => void): void {
    try {
      f();
    } catch {
      // counted by the downlink side
    }
  }

  /** Processes what waits in the window now and waits for frames in flight (on stop). */
  async drain(): Promise<void> {
    for (const [key, p] of [...this.pending]) {
      clearTimeout(p.timer);
      this.finish(key);
    }
    await Promise.all([...this.inFlight]);
  }
}

/** The key the pipeline finds the Thing by: the TD's DevEUI when it gives one (stable across sessions), else the DevAddr. */
function deviceKeyOf(device: DevAddrDevice, devAddrHex: string): { keyType: KeyType; deviceKey: string } {
  const devEui = device.deviceDefinitions.devEui;
  if (typeof devEui === 'string' && devEui.trim()) return { keyType: 'devEui', deviceKey: canonicalKey('devEui', devEui) };
  if (device.keyType && device.deviceKey) return { keyType: device.keyType, deviceKey: canonicalKey(device.keyType, device.deviceKey) };
  return { keyType: 'devAddr', deviceKey: devAddrHex };
}

/** The pipeline's view of a checked, decrypted uplink. */
export function toDeviceFrame(opened: OpenedUplink, device: DevAddrDevice, radio: RadioReception[], origin: UplinkOrigin): DeviceFrame {
  const { frame, fCnt } = opened;
  const times = radio.map((r) => r.time).filter((t): t is string => typeof t === 'string').sort();
  const observedAt = times[0];
  // Unique per message and stable: the 32-bit FCnt plus the earliest gateway time (else the hub's first reception),
  // so that a new ABP session restarting at FCnt 0 does not collide with the old one's observations.
  const stamp = observedAt ? Date.parse(observedAt) : origin.receivedAt;
  const out: DeviceFrame = {
    protocol: 'lorawan',
    ...deviceKeyOf(device, frame.devAddrHex),
    sequence: fCnt,
    messageId: `${fCnt}-${stamp}`,
    radio,
    network: {
      devAddr: frame.devAddrHex,
      fCnt,
      mType: frame.mType,
      confirmed: frame.confirmed,
      adr: frame.fCtrl.adr,
      ...(opened.macCommands.length ? { macCommands: opened.macCommands } : {}),
      ...(radio[0]?.dataRate !== undefined ? { dataRate: radio[0].dataRate } : {}),
      ...(radio[0]?.frequency !== undefined ? { frequency: radio[0].frequency } : {}),
    },
  };
  if (observedAt) out.observedAt = observedAt;
  if (frame.fPort !== undefined) out.fPort = frame.fPort;
  // FPort 0 carries MAC commands only (in network.macCommands); applications get FPort >= 1.
  if (frame.fPort !== undefined && frame.fPort > 0) out.bytes = new Uint8Array(opened.payload);
  return out;
}
