// LoRaWAN 1.0.x data uplinks with their session keys: MIC check, 32-bit FCnt, FRMPayload decryption; and the encoder that
// builds a valid uplink for tests and simulators. Pure functions (the caller keeps the last FCnt per session).
import { DecodeError, HubError } from '../../errors.ts';
import { cryptFrmPayload, dataMic, micEquals } from './crypto.ts';
import { reconstructFCnt, MAX_FCNT_GAP } from './fcnt.ts';
import { parsePhyPayload, parseUplinkMacCommands, type DataFrame, type MacCommand } from './phy-payload.ts';

export interface SessionKeys {
  nwkSKey: Uint8Array;
  appSKey: Uint8Array;
}

/** A frame whose MIC does not verify under the device's NwkSKey (a forgery, corruption, or the wrong keys). */
export class MicError extends HubError {
  override name = 'MicError';
  constructor(devAddr: string) {
    super(422, 'lorawan-mic', `the MIC of a frame from DevAddr ${devAddr} does not verify`);
  }
}

/** A frame whose FCnt was seen before or lies behind/too far ahead of the session's counter. */
export class FCntError extends HubError {
  override name = 'FCntError';
  constructor(devAddr: string, readonly reason: 'replay' | 'stale', fCnt: number, last: number) {
    super(409, `lorawan-fcnt-${reason}`, `FCnt ${fCnt} from DevAddr ${devAddr} is ${reason === 'replay' ? 'a replay' : 'stale'} (last accepted ${last})`, {
      extensions: { fCnt, lastFCnt: last },
    });
  }
}

export interface OpenedUplink {
  frame: DataFrame;
  /** Full 32-bit FCnt. */
  fCnt: number;
  /** Decrypted FRMPayload (application payload, or MAC commands when fPort is 0). */
  payload: Buffer;
  /** MAC commands from FOpts or an FPort-0 payload. */
  macCommands: MacCommand[];
}

export interface OpenOptions {
  /** The session's last accepted 32-bit FCnt (undefined: the first frame of the session). */
  lastFCnt?: number;
  maxFCntGap?: number;
  /** Without state, upper 16-bit halves 1..n tried when the MIC fails with 0 (default 16; 0 = none). */
  firstFrameRollovers?: number;
}

/** Checks an already parsed data uplink: counter, MIC under the 32-bit counter, then decrypts. Throws typed errors. */
export function openDataUplink(frame: DataFrame, keys: SessionKeys, options: OpenOptions = {}): OpenedUplink {
  if (!frame.uplink) throw new DecodeError(`${frame.mType} is not an uplink`, { offset: 0, field: 'MHDR.MType' }, 'lorawan-not-uplink');
  const verdict = reconstructFCnt(frame.fCnt16, options.lastFCnt, options.maxFCntGap ?? MAX_FCNT_GAP);
  // The MIC is checked first: an unauthenticated frame must not be able to tell a replay from a forgery.
  let fCnt = verdict.fCnt;
  if (!micEquals(dataMic(keys.nwkSKey, 0, frame.devAddr, fCnt, frame.micInput), frame.mic)) {
    // The first frame of a session the hub has no state for (a device registered mid-life) may be past a 16-bit
    // rollover: try the next few upper halves, a bounded number of CMACs for sessions without state only.
    const tries = options.lastFCnt === undefined ? (options.firstFrameRollovers ?? 16) : 0;
    let found = false;
    for (let k = 1; k <= tries && !found; k++) {
      const candidate = k * 0x10000 + frame.fCnt16;
      if (micEquals(dataMic(keys.nwkSKey, 0, frame.devAddr, candidate, frame.micInput), frame.mic)) {
        fCnt = candidate;
        found = true;
      }
    }
    if (!found) throw new MicError(frame.devAddrHex);
  }
  if (!verdict.ok) throw new FCntError(frame.devAddrHex, verdict.reason, fCnt, options.lastFCnt!);
  const key = frame.fPort === 0 ? keys.nwkSKey : keys.appSKey;
  const payload = cryptFrmPayload(key, 0, frame.devAddr, fCnt, frame.frmPayload);
  const macCommands = parseUplinkMacCommands(frame.fPort === 0 ? payload : frame.fOpts).commands;
  return { frame, fCnt, payload, macCommands };
}

/** Parses, checks and decrypts a PHYPayload that must be a data uplink. */
export function openUplink(phy: Uint8Array, keys: SessionKeys, options: OpenOptions = {}): OpenedUplink {
  const frame = parsePhyPayload(phy);
  if (frame.kind !== 'data') throw new DecodeError(`${frame.mType} is not a data uplink`, { offset: 0, field: 'MHDR.MType' }, 'lorawan-not-uplink');
  return openDataUplink(frame, keys, options);
}

export interface UplinkSpec {
  /** 8 hex digits, most significant first (as TDs and network servers write it), or a number. */
  devAddr: string | number;
  /** Full 32-bit FCnt; the wire carries its low 16 bits. */
  fCnt: number;
  fPort?: number;
  payload?: Uint8Array;
  confirmed?: boolean;
  adr?: boolean;
  adrAckReq?: boolean;
  ack?: boolean;
  fOpts?: Uint8Array;
  keys: SessionKeys;
}

/** Builds a valid LoRaWAN 1.0.x data uplink PHYPayload (encrypted FRMPayload, correct MIC): for tests and simulators. */
export function encodeUplink(spec: UplinkSpec): Buffer {
  const devAddr = typeof spec.devAddr === 'number' ? spec.devAddr >>> 0 : Number.parseInt(spec.devAddr.replace(/[-:\s]/g, ''), 16) >>> 0;
  const fOpts = spec.fOpts ?? new Uint8Array(0);
  if (fOpts.length > 15) throw new RangeError('FOpts is at most 15 bytes');
  const payload = spec.payload ?? new Uint8Array(0);
  const hasPort = spec.fPort !== undefined;
  if (!hasPort && payload.length > 0) throw new RangeError('a payload needs an FPort');
  const head = Buffer.alloc(8);
  head[0] = spec.confirmed ? 0x80 : 0x40;
  head.writeUInt32LE(devAddr, 1);
  head[5] = (spec.adr ? 0x80 : 0) | (spec.adrAckReq ? 0x40 : 0) | (spec.ack ? 0x20 : 0) | fOpts.length;
  head.writeUInt16LE(spec.fCnt & 0xffff, 6);
  const key = spec.fPort === 0 ? spec.keys.nwkSKey : spec.keys.appSKey;
  const body = hasPort ? Buffer.concat([Buffer.from([spec.fPort! & 0xff]), cryptFrmPayload(key, 0, devAddr, spec.fCnt, payload)]) : Buffer.alloc(0);
  const msg = Buffer.concat([head, fOpts, body]);
  return Buffer.concat([msg, dataMic(spec.keys.nwkSKey, 0, devAddr, spec.fCnt, msg)]);
}
