// Hand-rolled LoRaWAN 1.0.x data downlinks (no maintained npm library is installed; lora-packet is not a dependency):
// the network side builds Unconfirmed/Confirmed Data Down frames (FRMPayload encrypted, MIC with Dir = 1), and the device
// side opens them (simulators, tests). Pure; the caller keeps the downlink counter per session.
import { DecodeError } from '../../errors.ts';
import { cryptFrmPayload, dataMic, micEquals } from './crypto.ts';
import { parsePhyPayload, type DataFrame } from './phy-payload.ts';
import type { SessionKeys } from './uplink.ts';

export interface DownlinkSpec {
  /** 8 hex digits, most significant first, or a number. */
  devAddr: string | number;
  /** Full 32-bit FCnt down; the wire carries its low 16 bits. */
  fCnt: number;
  /** Absent: no FPort and no FRMPayload (an empty frame that only carries FCtrl bits, e.g. an ACK). */
  fPort?: number;
  payload?: Uint8Array;
  confirmed?: boolean;
  /** Acknowledges the device's confirmed uplink. */
  ack?: boolean;
  /** FPending: the network has more to send; the device should uplink soon. */
  fPending?: boolean;
  adr?: boolean;
  /** MAC commands in FOpts (plain text in LoRaWAN 1.0.x), at most 15 bytes. */
  fOpts?: Uint8Array;
  keys: SessionKeys;
}

const devAddrNumber = (a: string | number): number => (typeof a === 'number' ? a >>> 0 : Number.parseInt(a.replace(/[-:\s]/g, ''), 16) >>> 0);

/** Builds a LoRaWAN 1.0.x data downlink PHYPayload: FRMPayload encrypted with AppSKey (NwkSKey on FPort 0), MIC with NwkSKey. */
export function encodeDownlink(spec: DownlinkSpec): Buffer {
  const devAddr = devAddrNumber(spec.devAddr);
  const fOpts = spec.fOpts ?? new Uint8Array(0);
  if (fOpts.length > 15) throw new RangeError('FOpts is at most 15 bytes');
  const payload = spec.payload ?? new Uint8Array(0);
  const hasPort = spec.fPort !== undefined;
  if (!hasPort && payload.length > 0) throw new RangeError('a payload needs an FPort');
  if (hasPort && (!Number.isInteger(spec.fPort) || spec.fPort! < 0 || spec.fPort! > 255)) throw new RangeError('FPort is 0..255');
  if (spec.fPort === 0 && fOpts.length > 0) throw new RangeError('FPort 0 with FOpts: MAC commands cannot be in both');
  if (!Number.isInteger(spec.fCnt) || spec.fCnt < 0 || spec.fCnt > 0xffffffff) throw new RangeError('FCnt is a 32-bit counter');
  const head = Buffer.alloc(8);
  head[0] = spec.confirmed ? 0xa0 : 0x60; // MType 101 / 011, Major 0
  head.writeUInt32LE(devAddr, 1);
  head[5] = (spec.adr ? 0x80 : 0) | (spec.ack ? 0x20 : 0) | (spec.fPending ? 0x10 : 0) | fOpts.length;
  head.writeUInt16LE(spec.fCnt & 0xffff, 6);
  const key = spec.fPort === 0 ? spec.keys.nwkSKey : spec.keys.appSKey;
  const body = hasPort ? Buffer.concat([Buffer.from([spec.fPort!]), cryptFrmPayload(key, 1, devAddr, spec.fCnt, payload)]) : Buffer.alloc(0);
  const msg = Buffer.concat([head, fOpts, body]);
  return Buffer.concat([msg, dataMic(spec.keys.nwkSKey, 1, devAddr, spec.fCnt, msg)]);
}

export interface OpenedDownlink {
  frame: DataFrame;
  /** The 32-bit FCnt the MIC verified under. */
  fCnt: number;
  /** Decrypted FRMPayload. */
  payload: Buffer;
}

/**
 * The device side: checks and decrypts a data downlink. `lastFCnt` is the last downlink counter the device accepted;
 * the 32-bit counter is the next one whose low half matches (one rollover ahead at most). Throws DecodeError.
 */
export function openDownlink(phy: Uint8Array, keys: SessionKeys, lastFCnt?: number): OpenedDownlink {
  const frame = parsePhyPayload(phy);
  if (frame.kind !== 'data' || frame.uplink) throw new DecodeError('not a data downlink', { offset: 0, field: 'MHDR.MType' }, 'lorawan-not-downlink');
  const base = lastFCnt === undefined ? 0 : lastFCnt - (lastFCnt % 0x10000);
  const candidates = [base + frame.fCnt16, base + 0x10000 + frame.fCnt16];
  const fCnt = candidates.find((c) => c <= 0xffffffff && micEquals(dataMic(keys.nwkSKey, 1, frame.devAddr, c, frame.micInput), frame.mic));
  if (fCnt === undefined) throw new DecodeError(`the MIC of a downlink to ${frame.devAddrHex} does not verify`, { offset: phy.length - 4, field: 'MIC' }, 'lorawan-mic');
  if (lastFCnt !== undefined && fCnt <= lastFCnt) throw new DecodeError(`downlink FCnt ${fCnt} is not after ${lastFCnt}`, { offset: 6, field: 'FCnt' }, 'lorawan-fcnt-replay');
  const key = frame.fPort === 0 ? keys.nwkSKey : keys.appSKey;
  return { frame, fCnt, payload: cryptFrmPayload(key, 1, frame.devAddr, fCnt, frame.frmPayload) };
}

/** EU868 data rates (RP002-1.0.x §2.2.3): DR -> LoRa SF/BW, the inverse, and the largest FRMPayload (N, FOpts empty). */
const EU868_DR: ReadonlyArray<{ datr: string; maxPayload: number }> = [
  { datr: 'SF12BW125', maxPayload: 51 },
  { datr: 'SF11BW125', maxPayload: 51 },
  { datr: 'SF10BW125', maxPayload: 51 },
  { datr: 'SF9BW125', maxPayload: 115 },
  { datr: 'SF8BW125', maxPayload: 222 },
  { datr: 'SF7BW125', maxPayload: 222 },
  { datr: 'SF7BW250', maxPayload: 222 },
];

/** The EU868 data rate index of a LoRa `datr` ("SF9BW125" -> 3); undefined for other rates (FSK, LR-FHSS, other bands). */
export function eu868DataRate(datr: unknown): number | undefined {
  const i = EU868_DR.findIndex((d) => d.datr === datr);
  return i < 0 ? undefined : i;
}

/** RX1 on EU868: the uplink's frequency, data rate = uplink DR - RX1DROffset (not below DR0); its datr and payload limit. */
export function eu868Rx1(uplinkDatr: unknown, rx1DrOffset = 0): { dr: number; datr: string; maxPayload: number } | undefined {
  const up = eu868DataRate(uplinkDatr);
  if (up === undefined) return undefined;
  const dr = Math.max(0, Math.min(5, up) - Math.max(0, Math.min(5, rx1DrOffset)));
  return { dr, ...EU868_DR[dr]! };
}
