// Hand-rolled LoRaWAN PHYPayload framing (LoRaWAN 1.0.x §4, 1.1 rejoin): MHDR, FHDR (DevAddr, FCtrl, FCnt, FOpts), FPort,
// FRMPayload, MIC; join request/accept, rejoin and proprietary frames recognised. Pure; no library covers this in node.
import { DecodeError } from '../../errors.ts';

export type MType =
  | 'Join Request'
  | 'Join Accept'
  | 'Unconfirmed Data Up'
  | 'Unconfirmed Data Down'
  | 'Confirmed Data Up'
  | 'Confirmed Data Down'
  | 'Rejoin Request'
  | 'Proprietary';

const MTYPES: readonly MType[] = [
  'Join Request',
  'Join Accept',
  'Unconfirmed Data Up',
  'Unconfirmed Data Down',
  'Confirmed Data Up',
  'Confirmed Data Down',
  'Rejoin Request',
  'Proprietary',
];

/** The largest PHYPayload any LoRaWAN region allows (EU868 DR7: 230-byte MACPayload + MHDR + MIC = 235; bound with margin). */
export const MAX_PHY_PAYLOAD = 256;

export interface DataFrame {
  kind: 'data';
  mType: MType;
  mhdr: number;
  major: number;
  uplink: boolean;
  confirmed: boolean;
  /** DevAddr as a number (wire is little-endian) and as 8 upper-case hex digits, most significant first. */
  devAddr: number;
  devAddrHex: string;
  fCtrl: { adr: boolean; adrAckReq: boolean; ack: boolean; /** uplink: Class B; downlink: FPending */ classBOrFPending: boolean; fOptsLen: number };
  /** The 16-bit FCnt on the wire; the 32-bit value is reconstructed from the session state (fcnt.ts). */
  fCnt16: number;
  fOpts: Uint8Array;
  fPort?: number;
  /** Still encrypted. */
  frmPayload: Uint8Array;
  mic: Uint8Array;
  /** MHDR..FRMPayload: what the MIC covers. */
  micInput: Uint8Array;
}

export interface JoinRequestFrame {
  kind: 'join-request';
  mType: 'Join Request';
  mhdr: number;
  /** Big-endian hex (wire is little-endian). */
  joinEui: string;
  devEui: string;
  devNonce: string;
  mic: Uint8Array;
  micInput: Uint8Array;
}

export interface OtherFrame {
  kind: 'join-accept' | 'rejoin-request' | 'proprietary';
  mType: MType;
  mhdr: number;
  /** Everything after MHDR (encrypted for a join-accept). */
  payload: Uint8Array;
}

export type PhyFrame = DataFrame | JoinRequestFrame | OtherFrame;

/** Hex of bytes in reverse order (LoRaWAN puts EUIs, DevAddr and nonces on the wire least significant byte first). */
export function reversedHex(b: Uint8Array): string {
  return Buffer.from(b).reverse().toString('hex').toUpperCase();
}

/** Parses one PHYPayload. Throws DecodeError naming the field and byte offset where it is short or inconsistent. */
export function parsePhyPayload(phy: Uint8Array): PhyFrame {
  if (phy.length < 1) throw new DecodeError('empty PHYPayload', { offset: 0, field: 'MHDR' }, 'lorawan-truncated');
  if (phy.length > MAX_PHY_PAYLOAD) throw new DecodeError(`PHYPayload of ${phy.length} bytes exceeds ${MAX_PHY_PAYLOAD}`, { offset: MAX_PHY_PAYLOAD, field: 'PHYPayload' }, 'lorawan-too-large');
  const mhdr = phy[0]!;
  const mTypeIndex = mhdr >> 5;
  const mType = MTYPES[mTypeIndex]!;
  const major = mhdr & 0x03;
  if (mType !== 'Proprietary' && major !== 0) {
    throw new DecodeError(`unknown LoRaWAN major version ${major}`, { offset: 0, field: 'MHDR.Major' }, 'lorawan-unsupported');
  }
  switch (mTypeIndex) {
    case 0: {
      if (phy.length !== 23) throw new DecodeError(`a join-request is 23 bytes, got ${phy.length}`, { offset: Math.min(phy.length, 23), field: 'JoinRequest' }, 'lorawan-truncated');
      return {
        kind: 'join-request',
        mType: 'Join Request',
        mhdr,
        joinEui: reversedHex(phy.subarray(1, 9)),
        devEui: reversedHex(phy.subarray(9, 17)),
        devNonce: reversedHex(phy.subarray(17, 19)),
        mic: phy.subarray(19, 23),
        micInput: phy.subarray(0, 19),
      };
    }
    case 1:
      if (phy.length !== 17 && phy.length !== 33) throw new DecodeError(`a join-accept is 17 or 33 bytes, got ${phy.length}`, { offset: phy.length, field: 'JoinAccept' }, 'lorawan-truncated');
      return { kind: 'join-accept', mType, mhdr, payload: phy.subarray(1) };
    case 6: {
      // Rejoin-request (1.1 §6.2.4.4): type 0/2 is 19 bytes, type 1 is 24.
      const type = phy[1];
      const want = type === 1 ? 24 : 19;
      if (phy.length !== want) throw new DecodeError(`a rejoin-request of type ${type ?? '?'} is ${want} bytes, got ${phy.length}`, { offset: phy.length, field: 'RejoinRequest' }, 'lorawan-truncated');
      return { kind: 'rejoin-request', mType, mhdr, payload: phy.subarray(1) };
    }
    case 7:
      return { kind: 'proprietary', mType, mhdr, payload: phy.subarray(1) };
    default:
      return parseData(phy, mType, mhdr, major);
  }
}

function parseData(phy: Uint8Array, mType: MType, mhdr: number, major: number): DataFrame {
  // MHDR(1) DevAddr(4) FCtrl(1) FCnt(2) FOpts(0..15) [FPort(1) FRMPayload] MIC(4)
  if (phy.length < 12) throw new DecodeError(`a data frame is at least 12 bytes, got ${phy.length}`, { offset: phy.length, field: phy.length < 8 ? 'FHDR' : 'MIC' }, 'lorawan-truncated');
  const uplink = mType === 'Unconfirmed Data Up' || mType === 'Confirmed Data Up';
  const fctrl = phy[5]!;
  const fOptsLen = fctrl & 0x0f;
  const macEnd = phy.length - 4;
  const fOptsEnd = 8 + fOptsLen;
  if (fOptsEnd > macEnd) throw new DecodeError(`FOptsLen ${fOptsLen} runs past the MIC`, { offset: 5, field: 'FCtrl.FOptsLen' }, 'lorawan-truncated');
  const view = Buffer.from(phy.buffer, phy.byteOffset, phy.byteLength);
  const devAddr = view.readUInt32LE(1);
  let fPort: number | undefined;
  let frmPayload: Uint8Array = phy.subarray(fOptsEnd, fOptsEnd);
  if (fOptsEnd < macEnd) {
    fPort = phy[fOptsEnd]!;
    frmPayload = phy.subarray(fOptsEnd + 1, macEnd);
    if (fPort === 0 && fOptsLen > 0) {
      throw new DecodeError('FPort 0 with FOpts: MAC commands cannot be in both', { offset: fOptsEnd, field: 'FPort' }, 'lorawan-invalid');
    }
  }
  return {
    kind: 'data',
    mType,
    mhdr,
    major,
    uplink,
    confirmed: mType === 'Confirmed Data Up' || mType === 'Confirmed Data Down',
    devAddr,
    devAddrHex: devAddr.toString(16).toUpperCase().padStart(8, '0'),
    fCtrl: { adr: !!(fctrl & 0x80), adrAckReq: !!(fctrl & 0x40), ack: !!(fctrl & 0x20), classBOrFPending: !!(fctrl & 0x10), fOptsLen },
    fCnt16: view.readUInt16LE(6),
    fOpts: phy.subarray(8, fOptsEnd),
    fPort,
    frmPayload,
    mic: phy.subarray(macEnd),
    micInput: phy.subarray(0, macEnd),
  };
}

/** An uplink MAC command (LoRaWAN 1.0.x §5), as far as the hub reads them (link quality and battery). */
export interface MacCommand {
  cid: number;
  name: string;
  [field: string]: unknown;
}

/** Payload lengths of the uplink (end-device -> network) MAC commands of LoRaWAN 1.0.x. */
const UPLINK_MAC: Record<number, { name: string; length: number }> = {
  0x02: { name: 'LinkCheckReq', length: 0 },
  0x03: { name: 'LinkADRAns', length: 1 },
  0x04: { name: 'DutyCycleAns', length: 0 },
  0x05: { name: 'RXParamSetupAns', length: 1 },
  0x06: { name: 'DevStatusAns', length: 2 },
  0x07: { name: 'NewChannelAns', length: 1 },
  0x08: { name: 'RXTimingSetupAns', length: 0 },
  0x09: { name: 'TxParamSetupAns', length: 0 },
  0x0a: { name: 'DlChannelAns', length: 1 },
  0x0d: { name: 'DeviceTimeReq', length: 0 },
};

/**
 * Decodes uplink MAC commands (FOpts, or an FPort-0 FRMPayload once decrypted). Stops at the first unknown CID (its
 * length is unknown, so nothing after it can be read) and reports it; throws on a command cut short.
 */
export function parseUplinkMacCommands(bytes: Uint8Array): { commands: MacCommand[]; unknownAt?: number } {
  const commands: MacCommand[] = [];
  let i = 0;
  while (i < bytes.length) {
    const cid = bytes[i]!;
    const spec = UPLINK_MAC[cid];
    if (!spec) return { commands, unknownAt: i };
    if (i + 1 + spec.length > bytes.length) throw new DecodeError(`${spec.name} is cut short`, { offset: i, field: 'FOpts' }, 'lorawan-truncated');
    const body = bytes.subarray(i + 1, i + 1 + spec.length);
    const cmd: MacCommand = { cid, name: spec.name };
    if (cid === 0x06) {
      cmd.battery = body[0]!; // 0 external power, 1..254 level, 255 unknown
      const m = body[1]! & 0x3f;
      cmd.margin = m & 0x20 ? m - 0x40 : m; // 6-bit signed SNR margin in dB
    } else if (spec.length === 1) {
      cmd.status = body[0]!;
    }
    commands.push(cmd);
    i += 1 + spec.length;
  }
  return { commands };
}
