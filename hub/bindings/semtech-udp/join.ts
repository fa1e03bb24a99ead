// OTAA on the hub's own packet-forwarder path (LoRaWAN 1.0.x join server): join-request checks (device, JoinEUI, AppKey
// from the secret store, MIC, DevNonce replay), DevAddr allocation, join-accept, session keys; and the durable network
// state behind it and behind class A downlinks (sessions, used DevNonces, AppNonce, FCnt down reservations), one JSON
// file <dataDir>/lorawan/network.json, mode 0600, written atomically (temp, fsync, rename) before a frame relies on it.
import { createHash, randomInt } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, HubError } from '../../errors.ts';
import { deriveSessionKeys } from '../lorawan/crypto.ts';
import { encodeJoinAccept, eu868CfList, joinRequestMicValid, type JoinAcceptFields } from '../lorawan/join.ts';
import type { JoinRequestFrame } from '../lorawan/phy-payload.ts';
import type { SessionKeys } from '../lorawan/uplink.ts';
import { canonicalKey, type DeviceEntry, type KeyType, type SecretLookup } from '../types.ts';

/** A joined device's session (keys in hex: the file is 0600 in a 0700 directory, never served or logged). */
export interface OtaaSession {
  devEui: string;
  thingId: string;
  /** 8 upper-case hex digits. */
  devAddr: string;
  nwkSKey: string;
  appSKey: string;
  netId: number;
  appNonce: number;
  devNonce: string;
  rxDelay: number;
  rx1DrOffset: number;
  joinedAt: string;
}

interface StateFile {
  version: 1;
  appNonce: number;
  sessions: Record<string, OtaaSession>;
  devNonces: Record<string, string[]>;
  /** Reserved FCnt-down high-water mark per session: after a restart counting resumes there, never below. */
  fCntDown: Record<string, number>;
}

const FILE = 'network.json';
/** FCnt-down values reserved per write: one fsync covers this many downlinks of a session. */
const FCNT_BLOCK = 64;
const MAX_NONCES_PER_DEVICE = 1024;
const MAX_ENTRIES = 100_000;

/** The durable state (memory only when `dir` is undefined). */
export class NetworkState {
  private data: StateFile = { version: 1, appNonce: 0, sessions: {}, devNonces: {}, fCntDown: {} };
  private readonly byDevAddr = new Map<string, string>();
  private readonly nextDown = new Map<string, number>();
  private readonly durableDown = new Map<string, number>();
  /** Reserved marks found in the file at start: a session's counting resumes there. */
  private readonly resumeAt = new Map<string, number>();
  private readonly file?: string;
  private writing: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;
  readonly counters = { writes: 0, writeErrors: 0 };

  constructor(dir?: string, private readonly onError: (e: unknown) => void = () => {}) {
    if (!dir) return;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    this.file = join(dir, FILE);
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
      chmodSync(this.file, 0o600);
    } catch {
      return;
    }
    try {
      const d = JSON.parse(text) as Partial<StateFile>;
      this.data.appNonce = Number.isInteger(d.appNonce) ? d.appNonce! : 0;
      for (const [eui, s] of Object.entries(d.sessions ?? {})) if (s && typeof s.devAddr === 'string' && typeof s.nwkSKey === 'string') this.data.sessions[eui] = s;
      for (const [eui, n] of Object.entries(d.devNonces ?? {})) if (Array.isArray(n)) this.data.devNonces[eui] = n.filter((x) => typeof x === 'string').slice(-MAX_NONCES_PER_DEVICE);
      for (const [id, v] of Object.entries(d.fCntDown ?? {})) if (Number.isInteger(v) && v >= 0) {
        this.data.fCntDown[id] = v;
        this.durableDown.set(id, v);
        this.resumeAt.set(id, v);
      }
    } catch (e) {
      // Keys may be in it: never quote the text. Start empty rather than not at all; the next write replaces it.
      this.onError(new Error(`${this.file} is not valid JSON; OTAA sessions and FCnt-down reservations start empty`));
      void e;
    }
    for (const s of Object.values(this.data.sessions)) this.byDevAddr.set(s.devAddr, s.devEui);
  }

  session(devEui: string): OtaaSession | undefined {
    return this.data.sessions[devEui];
  }

  sessionByDevAddr(devAddr: string): OtaaSession | undefined {
    const eui = this.byDevAddr.get(devAddr);
    return eui ? this.data.sessions[eui] : undefined;
  }

  /** Records a DevNonce; false when the device used it before (a replayed join-request). */
  useDevNonce(devEui: string, devNonce: string): boolean {
    const list = (this.data.devNonces[devEui] ??= []);
    if (list.includes(devNonce)) return false;
    list.push(devNonce);
    if (list.length > MAX_NONCES_PER_DEVICE) list.shift();
    return true;
  }

  nextAppNonce(): number {
    this.data.appNonce = (this.data.appNonce + 1) & 0xffffff;
    return this.data.appNonce;
  }

  putSession(s: OtaaSession): void {
    const old = this.data.sessions[s.devEui];
    if (old) this.byDevAddr.delete(old.devAddr);
    delete this.data.sessions[s.devEui];
    this.data.sessions[s.devEui] = s;
    this.byDevAddr.set(s.devAddr, s.devEui);
    const euis = Object.keys(this.data.sessions);
    if (euis.length > MAX_ENTRIES) {
      const drop = this.data.sessions[euis[0]!]!;
      this.byDevAddr.delete(drop.devAddr);
      delete this.data.sessions[euis[0]!];
    }
  }

  /**
   * The next FCnt down of a session. Values are reserved ahead in blocks written to the file in the background; a value
   * is only handed out once a reservation above it is durable (waiting for the write when usage overtakes it), so a
   * counter is never reused after a crash. Throws when the reservation cannot be written.
   */
  async nextFCntDown(sessionId: string): Promise<number> {
    const n = this.nextDown.get(sessionId) ?? this.resumeAt.get(sessionId) ?? 0;
    this.nextDown.set(sessionId, n + 1);
    this.reserveAhead(sessionId, n);
    if (this.file && n >= (this.durableDown.get(sessionId) ?? 0)) await this.persist();
    if (this.file && n >= (this.durableDown.get(sessionId) ?? 0)) throw new HubError(503, 'lorawan-state-unwritten', 'the FCnt-down reservation could not be written');
    return n;
  }

  /** On every uplink of a session: starts the next reservation early, so that its downlink does not wait for the disk. */
  prepareFCntDown(sessionId: string): void {
    const n = this.nextDown.get(sessionId) ?? this.resumeAt.get(sessionId) ?? 0;
    if (this.reserveAhead(sessionId, n)) void this.persist();
  }

  /** Raises the reserved mark when fewer than half a block is left above `n`; true when it changed. */
  private reserveAhead(sessionId: string, n: number): boolean {
    const reserved = this.data.fCntDown[sessionId] ?? 0;
    if (n + FCNT_BLOCK / 2 < reserved) return false;
    delete this.data.fCntDown[sessionId];
    this.data.fCntDown[sessionId] = Math.max(reserved, n) + FCNT_BLOCK;
    const ids = Object.keys(this.data.fCntDown);
    if (ids.length > MAX_ENTRIES) delete this.data.fCntDown[ids[0]!];
    return true;
  }

  /** Resolves once the state as it is now is on disk (writes are serialised; callers arriving meanwhile share the next one). */
  persist(): Promise<void> {
    if (!this.file) return Promise.resolve();
    if (this.queued) return this.queued;
    const next = this.writing.then(() => {
      this.queued = undefined;
      return this.write();
    });
    this.queued = next;
    this.writing = next;
    return next;
  }

  private async write(): Promise<void> {
    const snapshot = JSON.stringify(this.data);
    const down = { ...this.data.fCntDown };
    const tmp = `${this.file}.tmp`;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(snapshot);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file!);
      this.counters.writes += 1;
      for (const [id, v] of Object.entries(down)) this.durableDown.set(id, v);
    } catch (e) {
      this.counters.writeErrors += 1;
      this.onError(e);
    }
  }

  async close(): Promise<void> {
    await this.writing;
  }
}

export interface JoinServerOptions {
  state: NetworkState;
  secrets: SecretLookup;
  /** The device index (the pipeline's): the Thing interface that claims a DevEUI / DevAddr. */
  lookup: (keyType: KeyType, deviceKey: string) => DeviceEntry | undefined;
  /** NetID of the hub's network (default 0x000000, an experimental / private NetID, type 0: DevAddr 0x00000000-0x01FFFFFF). */
  netId?: number;
}

export interface JoinResult {
  phy: Buffer;
  session: OtaaSession;
  device: DeviceEntry;
  /** JOIN_ACCEPT_DELAY1 in seconds (5 unless deviceDefinitions.joinAcceptDelay says otherwise). */
  acceptDelay: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const intIn = (v: unknown, min: number, max: number, dflt: number): number => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : dflt);
const leHex = (value: number, bytes: number): Buffer => {
  const b = Buffer.alloc(bytes);
  b.writeUIntLE(value, 0, bytes);
  return b;
};

/** The session id uplinks and downlinks share (DevAddr, Thing, a digest of the NwkSKey: a new session counts anew). */
export function sessionIdOf(devAddrHex: string, thingId: string, nwkSKey: Uint8Array): string {
  return `${devAddrHex}/${thingId}/${createHash('sha256').update(nwkSKey).digest('hex').slice(0, 8)}`;
}

/** The LoRaWAN 1.0.x join procedure against the TDs' deviceDefinitions (devEui, joinEui/appEui, appKey as `secret:<name>`). */
export class OtaaJoinServer {
  readonly netId: number;
  readonly counters = { joinAccepted: 0, unknownDevice: 0, joinEuiMismatch: 0, keysMissing: 0, micFailed: 0, devNonceReplay: 0 };

  constructor(private readonly options: JoinServerOptions) {
    this.netId = (options.netId ?? 0) & 0xffffff;
  }

  /** The Thing interface a joined DevAddr belongs to now (undefined when no current session has it). */
  deviceOfDevAddr(devAddrHex: string): DeviceEntry | undefined {
    const s = this.options.state.sessionByDevAddr(devAddrHex);
    const entry = s ? this.options.lookup('devEui', s.devEui) : undefined;
    return entry && entry.thingId === s!.thingId ? entry : undefined;
  }

  /** The session keys of a device when its current OTAA session has this DevAddr. */
  sessionKeys(device: { keyType?: KeyType; deviceKey?: string; deviceDefinitions: Readonly<Record<string, unknown>> }, devAddrHex: string): SessionKeys | undefined {
    const eui = str(device.deviceDefinitions.devEui) ?? (device.keyType === 'devEui' ? device.deviceKey : undefined);
    const s = eui ? this.options.state.session(canonicalKey('devEui', eui)) : undefined;
    if (!s || s.devAddr !== devAddrHex) return undefined;
    return { nwkSKey: Buffer.from(s.nwkSKey, 'hex'), appSKey: Buffer.from(s.appSKey, 'hex') };
  }

  /** Checks a join-request and answers it: the new session is durable before the join-accept is returned. Throws HubError. */
  async join(frame: JoinRequestFrame): Promise<JoinResult> {
    const devEui = frame.devEui;
    const device = this.options.lookup('devEui', devEui);
    if (!device) {
      this.counters.unknownDevice += 1;
      throw new HubError(404, 'unknown-device', `no Thing claims DevEUI ${devEui} (join-request)`, { extensions: { keyType: 'devEui', deviceKey: devEui } });
    }
    const dd = device.deviceDefinitions;
    const joinEui = str(dd.joinEui) ?? str(dd.appEui);
    if (joinEui && canonicalKey('devEui', joinEui) !== frame.joinEui) {
      this.counters.joinEuiMismatch += 1;
      throw new HubError(422, 'lorawan-join-eui', `join-request of DevEUI ${devEui} names JoinEUI ${frame.joinEui}, the TD says ${canonicalKey('devEui', joinEui)}`);
    }
    const appKey = typeof dd.appKey === 'string' ? this.options.secrets.secret(dd.appKey) : undefined;
    if (!appKey || appKey.length !== 16) {
      this.counters.keysMissing += 1;
      throw new HubError(422, 'lorawan-keys-missing', `no 16-byte AppKey in the secret store for DevEUI ${devEui} (deviceDefinitions.appKey: "secret:<name>")`);
    }
    // The MIC first: an unauthenticated frame must not burn a DevNonce.
    if (!joinRequestMicValid(frame, appKey)) {
      this.counters.micFailed += 1;
      throw new HubError(422, 'lorawan-mic', `the MIC of a join-request from DevEUI ${devEui} does not verify under its AppKey`);
    }
    const state = this.options.state;
    if (!state.useDevNonce(devEui, frame.devNonce)) {
      this.counters.devNonceReplay += 1;
      throw new ConflictError(`DevNonce ${frame.devNonce} of DevEUI ${devEui} was used before (a replayed join-request)`, { extensions: { devNonce: frame.devNonce } }, 'lorawan-devnonce-replay');
    }
    const appNonce = state.nextAppNonce();
    const devAddr = this.allocateDevAddr(devEui);
    const rxDelay = intIn(dd.rxDelay ?? dd.rx1Delay, 1, 15, 1);
    const rx1DrOffset = intIn(dd.rx1DrOffset, 0, 5, 0);
    const fields: JoinAcceptFields = { appNonce, netId: this.netId, devAddr, rx1DrOffset, rx2DataRate: intIn(dd.rx2DataRate, 0, 7, 0), rxDelay };
    if (Array.isArray(dd.cfList) && dd.cfList.length > 0) {
      try {
        fields.cfList = eu868CfList(dd.cfList.filter((f): f is number => typeof f === 'number'));
      } catch {
        // a CFList that cannot be encoded is left out (the device keeps its default channels)
      }
    }
    const devNonceLE = Buffer.from(frame.micInput.subarray(17, 19));
    const keys = deriveSessionKeys(appKey, leHex(appNonce, 3), leHex(this.netId, 3), devNonceLE);
    const session: OtaaSession = {
      devEui,
      thingId: device.thingId,
      devAddr: devAddr.toString(16).toUpperCase().padStart(8, '0'),
      nwkSKey: keys.nwkSKey.toString('hex'),
      appSKey: keys.appSKey.toString('hex'),
      netId: this.netId,
      appNonce,
      devNonce: frame.devNonce,
      rxDelay,
      rx1DrOffset,
      joinedAt: new Date().toISOString(),
    };
    state.putSession(session);
    await state.persist();
    this.counters.joinAccepted += 1;
    return { phy: encodeJoinAccept(fields, appKey), session, device, acceptDelay: intIn(dd.joinAcceptDelay, 1, 15, 5) };
  }

  /** A random DevAddr of the NetID (type 0: 6-bit NwkID, 25-bit NwkAddr) that no session and no TD uses. */
  private allocateDevAddr(devEui: string): number {
    const nwkId = this.netId & 0x3f;
    for (let i = 0; i < 64; i++) {
      const a = ((nwkId << 25) | randomInt(1, 0x2000000)) >>> 0;
      const hex = a.toString(16).toUpperCase().padStart(8, '0');
      const other = this.options.state.sessionByDevAddr(hex);
      if ((other && other.devEui !== devEui) || this.options.lookup('devAddr', hex)) continue;
      return a;
    }
    throw new HubError(503, 'lorawan-devaddr-exhausted', 'no free DevAddr found for a join');
  }
}
