// Class A downlinks and OTAA join-accepts on the hub's own packet-forwarder path: a `push` DownlinkAdapter that the queue
// calls right after a device's uplink (one command per receive window), which sends a PULL_RESP (RX1: tmst + RX1 delay,
// EU868 frequency / data rate of the uplink, ipol) to the gateway that heard it best; TX_ACK -> ACCEPTED / FAILED, the
// device's next uplink's ACK bit -> DELIVERED (confirmed downlinks). LoRaWAN 1.0.x, EU868 RX1 only (no RX2, no class B/C).
import { randomBytes } from 'node:crypto';
import { BadRequestError, HubError, ServiceUnavailableError } from '../../errors.ts';
import { encodeLorawan } from '../../downlink/payload.ts';
import type { CommandRecord, CommandStatus, DownlinkAdapter, DownlinkRoute, SendReceipt } from '../../downlink/types.ts';
import { encodeDownlink, eu868Rx1 } from '../lorawan/downlink.ts';
import type { JoinRequestFrame } from '../lorawan/phy-payload.ts';
import type { DeviceEntry, KeyType, RadioReception, SecretLookup, UplinkOrigin } from '../types.ts';
import { NetworkState, OtaaJoinServer, sessionIdOf } from './join.ts';
import type { ClassAHooks, DevAddrDevice, RxContext } from './uplinks.ts';

/** What the queue offers this adapter (DownlinkService fits). */
export interface EvidenceSink {
  evidence(r: CommandRecord, status: CommandStatus, evidence: string, retryable?: boolean): Promise<void>;
  list(thingId: string): CommandRecord[];
}

/** The running listener's side this adapter sends through (listener.ts PacketForwarder fits). */
export interface PullRespPort {
  /** Where a gateway's PULL_DATA came from (undefined: it never pulled, PULL_RESP cannot reach it). */
  pullAddress(gatewayEui: string): { address: string; port: number; version: 1 | 2 } | undefined;
  /** Resolves once the datagram is written to the socket (true) or could not be (false). */
  sendPullRespAsync(gatewayEui: string, token: Uint8Array, txpk: Record<string, unknown>): Promise<boolean>;
}

export interface PacketForwarderDownlinkOptions {
  service: EvidenceSink;
  secrets: SecretLookup;
  lookup: (keyType: KeyType, deviceKey: string) => DeviceEntry | undefined;
  /** <dataDir>/lorawan (network.json); undefined keeps the state in memory (unit tests). */
  dir?: string;
  netId?: number;
  /** Transmit power (dBm, EU868 default 14) unless deviceDefinitions.txPower says otherwise. */
  txPower?: number;
  /** How long before the receive window opens a PULL_RESP must be sent at the latest (ms, default 100). */
  windowMarginMs?: number;
  now?: () => number;
  onError?: (e: unknown, context: string) => void;
}

interface Window extends RxContext {
  claimed: boolean;
}

interface InFlight {
  kind: 'data' | 'join' | 'ack';
  record?: CommandRecord;
  thingKey?: string;
  at: number;
}

const MAX_WINDOWS = 20_000;
const MAX_IN_FLIGHT = 20_000;
const IN_FLIGHT_MS = 30_000;
const thingKey = (thingId: string, adapterId: string): string => `${thingId}\u0000${adapterId}`;
const intIn = (v: unknown, min: number, max: number, dflt: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : dflt);
const isPacketForwarderDevice = (dd: Readonly<Record<string, unknown>>): boolean => {
  const ns = typeof dd.networkServer === 'string' ? dd.networkServer.toLowerCase() : undefined;
  if (ns) return ns === 'semtech-udp' || ns === 'packet-forwarder' || ns === 'hub';
  return typeof dd.appKey === 'string' || typeof dd.nwkSKey === 'string';
};

/** FPort, confirmed flag and bytes of a command for this path: no network server's formatter here, so bytes are required. */
export function encodePayloadForRoute(action: string, input: unknown, route: Pick<DownlinkRoute, 'deviceDefinitions' | 'codecs'>): { fPort: number; confirmed: boolean; bytes: Uint8Array } {
  // The LoRaWAN sensor Thing Model's downlink action names its members payloadHex / fport.
  const i = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
  const normalized = i && typeof i.payloadHex === 'string' && i.hex === undefined ? { ...i, hex: i.payloadHex, ...(i.fport !== undefined && i.fPort === undefined ? { fPort: i.fport } : {}) } : input;
  const enc = encodeLorawan(action, normalized, route);
  if (!enc.bytes) {
    throw new BadRequestError('a downlink through the packet forwarder needs bytes (input.hex, input.base64, input.bytes, or values the device codec encodes)', { extensions: { field: 'hex' } }, 'bad-downlink-payload');
  }
  return { fPort: enc.fPort, confirmed: enc.confirmed, bytes: enc.bytes };
}

export class PacketForwarderDownlinks implements DownlinkAdapter, ClassAHooks {
  readonly binding = 'semtech-udp';
  readonly mode = 'push' as const;
  readonly state: NetworkState;
  readonly joins: OtaaJoinServer;
  readonly counters = {
    windows: 0, sent: 0, ackOnly: 0, joinAccepts: 0, txAck: 0, txAckErrors: 0, txAckUnmatched: 0, delivered: 0, notAcked: 0,
    windowMissed: 0, noWindow: 0, noGateway: 0,
  };
  /** Uplink (first datagram) -> PULL_RESP written, ms, the latest 1,000 (figures, tests). */
  readonly latencies: number[] = [];
  private port?: PullRespPort;
  private readonly windows = new Map<string, Window>();
  private readonly inFlight = new Map<string, InFlight>();
  /** The session of each device's latest uplink (FCnt-down reservations ahead of a send). */
  private readonly sessionOf = new Map<string, string>();
  private readonly awaitingAck = new Map<string, { record: CommandRecord; afterFCnt: number; fCntDown: number }>();
  private readonly now: () => number;

  constructor(private readonly options: PacketForwarderDownlinkOptions) {
    this.now = options.now ?? Date.now;
    this.state = new NetworkState(options.dir, (e) => options.onError?.(e, 'LoRaWAN network state not written'));
    this.joins = new OtaaJoinServer({ state: this.state, secrets: options.secrets, lookup: options.lookup, netId: options.netId });
  }

  /** The listener attaches itself when it runs (and detaches on stop). */
  attach(port: PullRespPort | undefined): void {
    this.port = port;
  }

  async close(): Promise<void> {
    await this.state.close();
  }

  stats(): Record<string, number> {
    return { ...this.counters, ...this.joins.counters, openWindows: this.windows.size, inFlight: this.inFlight.size, awaitingAck: this.awaitingAck.size };
  }

  /** Joined devices' DevAddrs (composed with the TD index by the listener). */
  joinedDevice(devAddrHex: string): DeviceEntry | undefined {
    return this.joins.deviceOfDevAddr(devAddrHex);
  }

  // ---- DownlinkAdapter ----

  serves(route: DownlinkRoute): boolean {
    return route.lastUplink ? route.lastUplink.binding === 'semtech-udp' : isPacketForwarderDevice(route.deviceDefinitions);
  }

  /** Class A: only inside an open receive window, one downlink per window; the rest waits QUEUED for the next uplink. */
  ready(route: DownlinkRoute): boolean {
    const w = this.windows.get(thingKey(route.thingId, route.adapterId));
    return w !== undefined && !w.claimed && this.port !== undefined;
  }

  /** At submit time: what cannot be put on the air is a 400 now, not a FAILED later. */
  validate(action: string, input: unknown, route: DownlinkRoute): void {
    encodePayloadForRoute(action, input, route);
    // The device's session is known from its last uplink: reserve its FCnt down ahead of the next window.
    const session = this.sessionOf.get(thingKey(route.thingId, route.adapterId));
    if (session) this.state.prepareFCntDown(session);
  }

  async send(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt> {
    const key = thingKey(route.thingId, route.adapterId);
    const w = this.windows.get(key);
    if (!w || w.claimed) {
      this.counters.noWindow += 1;
      throw new ServiceUnavailableError('no open class A receive window: the command waits for the next uplink through a packet forwarder', {}, 'no-rx-window');
    }
    w.claimed = true;
    this.windows.delete(key);
    const enc = encodePayloadForRoute(command.action, command.input, route);
    const rxDelay = this.rxDelayOf(w);
    const { reception, rx } = this.rx1(w, intIn(this.joinedSession(w)?.rx1DrOffset ?? w.deviceDefinitions.rx1DrOffset, 0, 5, 0));
    if (enc.bytes.length > rx.maxPayload) throw new BadRequestError(`${enc.bytes.length} bytes do not fit RX1 at ${rx.datr} (at most ${rx.maxPayload})`, {}, 'bad-downlink-payload');
    this.checkWindow(w, rxDelay * 1000);
    const fCnt = await this.state.nextFCntDown(w.sessionId);
    const fPending = this.options.service.list(route.thingId).some((c) => c.status === 'QUEUED' && c.id !== command.id && c.interface === route.adapterId);
    const phy = encodeDownlink({ devAddr: w.devAddr, fCnt, fPort: enc.fPort, payload: enc.bytes, confirmed: enc.confirmed, ack: w.confirmed, fPending, keys: w.keys });
    const token = this.token(reception.gatewayId, { kind: 'data', record: command, thingKey: key, at: this.now() });
    const txpk = this.txpk(reception, rx.datr, rxDelay, phy, w.deviceDefinitions);
    this.checkWindow(w, rxDelay * 1000);
    if (enc.confirmed) this.awaitingAck.set(key, { record: command, afterFCnt: w.fCnt, fCntDown: fCnt });
    const written = await this.port!.sendPullRespAsync(reception.gatewayId, token, txpk);
    if (!written) {
      this.inFlight.delete(`${reception.gatewayId}/${Buffer.from(token).toString('hex')}`);
      this.awaitingAck.delete(key);
      throw new ServiceUnavailableError(`the PULL_RESP to gateway ${reception.gatewayId} could not be written`, {}, 'pull-resp-unsent');
    }
    const latency = this.now() - w.receivedAt;
    this.latency(latency);
    this.counters.sent += 1;
    const to = this.port!.pullAddress(reception.gatewayId);
    return {
      evidence: `PULL_RESP to gateway ${reception.gatewayId}${to ? ` (${to.address}:${to.port})` : ''}, token ${Buffer.from(token).toString('hex')}: ${enc.confirmed ? 'confirmed' : 'unconfirmed'} data down FCnt ${fCnt}, FPort ${enc.fPort}, ${enc.bytes.length} bytes, RX1 tmst ${txpk.tmst} (${txpk.freq} MHz ${rx.datr}), written ${latency} ms after the uplink`,
    };
  }

  // ---- ClassAHooks (the uplink path) ----

  sessionKeys(device: DevAddrDevice, devAddrHex: string) {
    return this.joins.sessionKeys(device, devAddrHex);
  }

  uplink(ctx: RxContext): void {
    const key = thingKey(ctx.thingId, ctx.adapterId);
    const waiting = this.awaitingAck.get(key);
    if (waiting && ctx.fCnt > waiting.afterFCnt) {
      this.awaitingAck.delete(key);
      if (ctx.ack) {
        this.counters.delivered += 1;
        this.apply(waiting.record, 'DELIVERED', `ACK bit in the device's uplink FCnt ${ctx.fCnt} (confirmed data down FCnt ${waiting.fCntDown})`);
      } else {
        this.counters.notAcked += 1;
        this.apply(waiting.record, 'FAILED', `the device's next uplink (FCnt ${ctx.fCnt}) has no ACK for confirmed data down FCnt ${waiting.fCntDown}`, true);
      }
    }
    this.windows.delete(key);
    this.windows.set(key, { ...ctx, claimed: false });
    this.sessionOf.delete(key);
    this.sessionOf.set(key, ctx.sessionId);
    if (this.sessionOf.size > MAX_WINDOWS) this.sessionOf.delete(this.sessionOf.keys().next().value!);
    // A downlink is coming: its FCnt reservation goes to disk now, not in the receive window.
    if (this.options.service.list(ctx.thingId).some((c) => c.status === 'QUEUED' && c.interface === ctx.adapterId)) this.state.prepareFCntDown(ctx.sessionId);
    this.counters.windows += 1;
    if (this.windows.size > MAX_WINDOWS) this.windows.delete(this.windows.keys().next().value!);
  }

  /** A confirmed uplink the queue sent nothing for still needs its ACK: an empty data down with the ACK bit. */
  afterUplink(ctx: RxContext): void {
    const key = thingKey(ctx.thingId, ctx.adapterId);
    const w = this.windows.get(key);
    if (!ctx.confirmed || !w || w.claimed || w.receivedAt !== ctx.receivedAt) return;
    // A command the queue is taking for this window (its send comes after the queue's own intent record) carries the ACK.
    const now = this.now();
    if (this.options.service.list(ctx.thingId).some((c) => c.interface === ctx.adapterId && c.status === 'QUEUED' && (c.retryAt ?? 0) <= now && Date.parse(c.expiresAt) > now)) return;
    w.claimed = true;
    this.windows.delete(key);
    void this.sendAckOnly(w).catch((e) => this.options.onError?.(e, 'LoRaWAN ACK downlink not sent'));
  }

  async joinRequest(frame: JoinRequestFrame, receptions: RadioReception[], origin: UplinkOrigin): Promise<void> {
    const reception = this.bestGateway(receptions);
    if (!reception) {
      this.counters.noGateway += 1;
      throw new ServiceUnavailableError(`no gateway that heard the join-request of ${frame.devEui} has sent PULL_DATA`, {}, 'no-gateway-pull');
    }
    const rx = eu868Rx1(reception.dataRate, 0);
    if (!rx) throw new HubError(422, 'unsupported-data-rate', `join-request at ${String(reception.dataRate)}: only EU868 LoRa data rates are answered`);
    const result = await this.joins.join(frame);
    const delayMs = result.acceptDelay * 1000;
    if (this.now() - origin.receivedAt > delayMs - (this.options.windowMarginMs ?? 100)) {
      this.counters.windowMissed += 1;
      throw new ServiceUnavailableError('the join-accept window passed before the accept was ready', {}, 'rx-window-missed');
    }
    const token = this.token(reception.gatewayId, { kind: 'join', at: this.now() });
    const txpk = this.txpk(reception, rx.datr, result.acceptDelay, result.phy, result.device.deviceDefinitions);
    if (!(await this.port!.sendPullRespAsync(reception.gatewayId, token, txpk))) {
      throw new ServiceUnavailableError(`the join-accept PULL_RESP to gateway ${reception.gatewayId} could not be written`, {}, 'pull-resp-unsent');
    }
    this.latency(this.now() - origin.receivedAt);
    this.counters.joinAccepts += 1;
  }

  /** A gateway's TX_ACK (token echoed): the network's verdict on a PULL_RESP. */
  txAck(gatewayEui: string, token: Uint8Array, outcome: { accepted: boolean; error?: string; warning?: string }): void {
    this.counters.txAck += 1;
    const id = `${gatewayEui}/${Buffer.from(token).toString('hex')}`;
    const f = this.inFlight.get(id);
    if (!f) {
      this.counters.txAckUnmatched += 1;
      return;
    }
    this.inFlight.delete(id);
    if (!outcome.accepted) this.counters.txAckErrors += 1;
    if (!f.record) return;
    const what = `TX_ACK from gateway ${gatewayEui}, token ${Buffer.from(token).toString('hex')}`;
    if (outcome.accepted) {
      this.apply(f.record, 'ACCEPTED', `${what}: ${outcome.warning ? `warning ${outcome.warning}` : 'error NONE'}`);
    } else {
      const waiting = f.thingKey ? this.awaitingAck.get(f.thingKey) : undefined;
      if (waiting?.record === f.record) this.awaitingAck.delete(f.thingKey!);
      this.apply(f.record, 'FAILED', `${what}: error ${outcome.error ?? 'unknown'}`, true);
    }
  }

  // ---- internals ----

  private apply(record: CommandRecord, status: CommandStatus, evidence: string, retryable = false): void {
    this.options.service.evidence(record, status, evidence, retryable).catch((e) => this.options.onError?.(e, 'downlink evidence not applied'));
  }

  private async sendAckOnly(w: Window): Promise<void> {
    const rxDelay = this.rxDelayOf(w);
    const { reception, rx } = this.rx1(w, intIn(this.joinedSession(w)?.rx1DrOffset ?? w.deviceDefinitions.rx1DrOffset, 0, 5, 0));
    const fCnt = await this.state.nextFCntDown(w.sessionId);
    this.checkWindow(w, rxDelay * 1000);
    const phy = encodeDownlink({ devAddr: w.devAddr, fCnt, ack: true, keys: w.keys });
    const token = this.token(reception.gatewayId, { kind: 'ack', at: this.now() });
    if (await this.port!.sendPullRespAsync(reception.gatewayId, token, this.txpk(reception, rx.datr, rxDelay, phy, w.deviceDefinitions))) this.counters.ackOnly += 1;
  }

  private joinedSession(w: Window) {
    const s = this.joins ? this.state.sessionByDevAddr(w.devAddrHex) : undefined;
    return s && sessionIdOf(w.devAddrHex, w.thingId, w.keys.nwkSKey) === w.sessionId ? s : undefined;
  }

  /** RX1 delay in seconds: the joined session's RxDelay, else deviceDefinitions rxDelay / rx1Delay, else 1. */
  private rxDelayOf(w: Window): number {
    return intIn(this.joinedSession(w)?.rxDelay ?? w.deviceDefinitions.rxDelay ?? w.deviceDefinitions.rx1Delay, 1, 15, 1);
  }

  private checkWindow(w: Window, delayMs: number): void {
    if (this.now() - w.receivedAt > delayMs - (this.options.windowMarginMs ?? 100)) {
      this.counters.windowMissed += 1;
      throw new ServiceUnavailableError(`the RX1 window (${delayMs} ms after the uplink) passed before the downlink was ready`, {}, 'rx-window-missed');
    }
  }

  private rx1(w: Window, rx1DrOffset: number) {
    if (!this.port) throw new ServiceUnavailableError('the packet forwarder listener is not running (packetForwarderPort)', {}, 'no-packet-forwarder');
    const reception = this.bestGateway(w.receptions);
    if (!reception) {
      this.counters.noGateway += 1;
      throw new ServiceUnavailableError('no gateway that heard the uplink has sent PULL_DATA (a PULL_RESP cannot reach it)', {}, 'no-gateway-pull');
    }
    const rx = eu868Rx1(reception.dataRate, rx1DrOffset);
    if (!rx) throw new HubError(422, 'unsupported-data-rate', `uplink at ${String(reception.dataRate)}: only EU868 LoRa data rates are answered`);
    return { reception, rx };
  }

  /** The strongest reception (RSSI, then SNR) from a gateway that pulled and stated a tmst. */
  private bestGateway(receptions: readonly RadioReception[]): (RadioReception & { tmst: number }) | undefined {
    const ok = receptions.filter((r): r is RadioReception & { tmst: number } => typeof r.tmst === 'number' && this.port?.pullAddress(r.gatewayId) !== undefined);
    ok.sort((a, b) => (b.rssi ?? -999) - (a.rssi ?? -999) || (b.snr ?? -99) - (a.snr ?? -99));
    return ok[0];
  }

  private txpk(reception: RadioReception & { tmst: number }, datr: string, delayS: number, phy: Buffer, dd: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return {
      imme: false,
      tmst: (reception.tmst + delayS * 1_000_000) >>> 0,
      freq: (reception.frequency ?? 868_100_000) / 1e6,
      rfch: 0,
      powe: intIn(dd.txPower, 0, 30, this.options.txPower ?? 14),
      modu: 'LORA',
      datr,
      codr: typeof reception.codingRate === 'string' ? reception.codingRate : '4/5',
      ipol: true,
      ncrc: true,
      size: phy.length,
      data: phy.toString('base64'),
    };
  }

  private token(gatewayEui: string, f: InFlight): Uint8Array {
    const now = this.now();
    for (const [id, x] of this.inFlight) {
      if (now - x.at < IN_FLIGHT_MS && this.inFlight.size < MAX_IN_FLIGHT) break;
      this.inFlight.delete(id);
    }
    for (;;) {
      const token = randomBytes(2);
      const id = `${gatewayEui}/${token.toString('hex')}`;
      if (this.inFlight.has(id)) continue;
      this.inFlight.set(id, f);
      return token;
    }
  }

  private latency(ms: number): void {
    this.latencies.push(ms);
    if (this.latencies.length > 1000) this.latencies.shift();
  }
}
