// Hand-rolled LoRaWAN 1.0.x OTAA frames (§6.2): join-request encoding (simulators) and MIC check, join-accept building
// (MIC with AppKey, then AES *decryption* as the spec says) and the device side's opening of it. Pure.
import { createDecipheriv } from 'node:crypto';
import { DecodeError } from '../../errors.ts';
import { aesCmac, decryptJoinAccept, deriveSessionKeys, joinRequestMic, micEquals } from './crypto.ts';
import type { JoinRequestFrame } from './phy-payload.ts';
import type { SessionKeys } from './uplink.ts';

const leOf = (hex: string, bytes: number): Buffer => {
  const clean = hex.replace(/[-:\s]/g, '');
  if (!new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(clean)) throw new RangeError(`expected ${bytes * 2} hex digits`);
  return Buffer.from(clean, 'hex').reverse();
};

export interface JoinRequestSpec {
  /** JoinEUI (AppEUI in 1.0), DevEUI: 16 hex digits MSB first; DevNonce: 4 hex digits MSB first. */
  joinEui: string;
  devEui: string;
  devNonce: string;
  appKey: Uint8Array;
}

/** A join-request PHYPayload: MHDR 0x00 | JoinEUI | DevEUI | DevNonce (little-endian) | MIC (for simulators and tests). */
export function encodeJoinRequest(spec: JoinRequestSpec): Buffer {
  const msg = Buffer.concat([Buffer.from([0x00]), leOf(spec.joinEui, 8), leOf(spec.devEui, 8), leOf(spec.devNonce, 2)]);
  return Buffer.concat([msg, joinRequestMic(spec.appKey, msg)]);
}

/** Whether a parsed join-request's MIC verifies under the AppKey. */
export function joinRequestMicValid(frame: JoinRequestFrame, appKey: Uint8Array): boolean {
  return micEquals(joinRequestMic(appKey, frame.micInput), frame.mic);
}

export interface JoinAcceptFields {
  /** AppNonce (JoinNonce), 3 bytes; NetID, 3 bytes; DevAddr, 4 bytes: numbers or hex MSB first. */
  appNonce: number;
  netId: number;
  devAddr: number;
  /** RX1DROffset (0..7) and RX2 data rate (0..15). */
  rx1DrOffset: number;
  rx2DataRate: number;
  /** RxDelay field (0 and 1 both mean 1 s). */
  rxDelay: number;
  /** 16 bytes: EU868 five extra channel frequencies (3 bytes each, Hz / 100, LE) and CFListType 0. */
  cfList?: Uint8Array;
}

function joinAcceptPlain(f: JoinAcceptFields): Buffer {
  if (f.cfList && f.cfList.length !== 16) throw new RangeError('a CFList is 16 bytes');
  const b = Buffer.alloc(13 + (f.cfList ? 16 : 0));
  b[0] = 0x20;
  b.writeUIntLE(f.appNonce & 0xffffff, 1, 3);
  b.writeUIntLE(f.netId & 0xffffff, 4, 3);
  b.writeUInt32LE(f.devAddr >>> 0, 7);
  b[11] = ((f.rx1DrOffset & 0x07) << 4) | (f.rx2DataRate & 0x0f);
  b[12] = f.rxDelay & 0x0f;
  if (f.cfList) b.set(f.cfList, 13);
  return b;
}

/**
 * The join-accept PHYPayload a network sends (§6.2.5): MIC = CMAC(AppKey, MHDR | fields)[0..3], then everything after
 * MHDR is AES-128 *decrypted* (ECB) with the AppKey, so that the device recovers it with an encryption.
 */
export function encodeJoinAccept(fields: JoinAcceptFields, appKey: Uint8Array): Buffer {
  const plain = joinAcceptPlain(fields);
  const mic = aesCmac(appKey, plain).subarray(0, 4);
  const d = createDecipheriv('aes-128-ecb', appKey, null);
  d.setAutoPadding(false);
  const body = Buffer.concat([d.update(Buffer.concat([plain.subarray(1), mic])), d.final()]);
  return Buffer.concat([plain.subarray(0, 1), body]);
}

export interface OpenedJoinAccept extends JoinAcceptFields {
  /** The session keys the device derives with its DevNonce. */
  keys: SessionKeys & { nwkSKey: Buffer; appSKey: Buffer };
}

/** The device side: decrypts a join-accept, checks its MIC, reads the fields and derives the session keys. Throws DecodeError. */
export function openJoinAccept(phy: Uint8Array, appKey: Uint8Array, devNonce: string): OpenedJoinAccept {
  if (phy.length !== 17 && phy.length !== 33) throw new DecodeError(`a join-accept is 17 or 33 bytes, got ${phy.length}`, { offset: phy.length, field: 'JoinAccept' }, 'lorawan-truncated');
  if (phy[0]! >> 5 !== 1) throw new DecodeError('not a join-accept', { offset: 0, field: 'MHDR.MType' }, 'lorawan-not-join-accept');
  const plain = decryptJoinAccept(appKey, phy);
  const fields = plain.subarray(0, plain.length - 4);
  if (!micEquals(aesCmac(appKey, fields).subarray(0, 4), plain.subarray(plain.length - 4))) {
    throw new DecodeError('the join-accept MIC does not verify under this AppKey', { offset: phy.length - 4, field: 'MIC' }, 'lorawan-mic');
  }
  const out: JoinAcceptFields = {
    appNonce: plain.readUIntLE(1, 3),
    netId: plain.readUIntLE(4, 3),
    devAddr: plain.readUInt32LE(7),
    rx1DrOffset: (plain[11]! >> 4) & 0x07,
    rx2DataRate: plain[11]! & 0x0f,
    rxDelay: plain[12]! & 0x0f,
    ...(plain.length === 33 ? { cfList: Buffer.from(plain.subarray(13, 29)) } : {}),
  };
  const keys = deriveSessionKeys(appKey, plain.subarray(1, 4), plain.subarray(4, 7), leOf(devNonce, 2));
  return { ...out, keys };
}

/** EU868 CFList (CFListType 0) of up to five extra channel frequencies in MHz. */
export function eu868CfList(frequenciesMHz: readonly number[]): Buffer {
  if (frequenciesMHz.length > 5) throw new RangeError('a CFList holds at most 5 frequencies');
  const b = Buffer.alloc(16);
  frequenciesMHz.forEach((f, i) => {
    const v = Math.round((f * 1e6) / 100);
    if (!Number.isFinite(v) || v <= 0 || v > 0xffffff) throw new RangeError(`frequency ${f} MHz does not fit a CFList`);
    b.writeUIntLE(v, i * 3, 3);
  });
  return b;
}
