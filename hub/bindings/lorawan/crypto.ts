// LoRaWAN 1.0.x cryptography on node:crypto's AES-128: AES-CMAC (RFC 4493, hand-rolled on aes-128-ecb), the data-frame
// MIC (B0 block, §4.4), FRMPayload encryption (A_i blocks, §4.3.3), join MICs, join-accept decryption and session keys (§6.2.5).
import { createCipheriv, timingSafeEqual } from 'node:crypto';

/** AES-128 of one or more whole 16-byte blocks in ECB mode (the block cipher LoRaWAN builds everything from). */
export function aesEcbEncrypt(key: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function shiftLeft1(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i]! << 1) | (i < 15 ? b[i + 1]! >> 7 : 0)) & 0xff;
  return out;
}

function subkey(l: Buffer): Buffer {
  const k = shiftLeft1(l);
  if (l[0]! & 0x80) k[15] = k[15]! ^ 0x87;
  return k;
}

/** CMAC subkeys per key: deriving them costs an AES call, and a hub sees the same few thousand keys again and again. */
const SUBKEYS = new Map<string, { k1: Buffer; k2: Buffer }>();
const MAX_SUBKEYS = 10_000;

function subkeys(key: Uint8Array): { k1: Buffer; k2: Buffer } {
  const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
  let s = SUBKEYS.get(id);
  if (!s) {
    const k1 = subkey(aesEcbEncrypt(key, Buffer.alloc(16)));
    s = { k1, k2: subkey(k1) };
    if (SUBKEYS.size >= MAX_SUBKEYS) SUBKEYS.delete(SUBKEYS.keys().next().value!);
    SUBKEYS.set(id, s);
  }
  return s;
}

/**
 * AES-CMAC (RFC 4493): node:crypto has no CMAC, so it is built here from AES-128: the last block of AES-CBC (IV 0) over
 * the message whose final block is padded and XORed with subkey K1 (complete) or K2 (padded). Returns the 16-byte tag.
 */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  if (key.length !== 16) throw new RangeError('AES-128 keys are 16 bytes');
  const { k1, k2 } = subkeys(key);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const m = Buffer.alloc(n * 16);
  m.set(message);
  const tailStart = (n - 1) * 16;
  if (!complete) m[message.length] = 0x80;
  const k = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) m[tailStart + i] = m[tailStart + i]! ^ k[i]!;
  const c = createCipheriv('aes-128-cbc', key, Buffer.alloc(16));
  c.setAutoPadding(false);
  const out = c.update(m);
  c.final();
  return out.subarray(out.length - 16);
}

/** Dir of a data frame: 0 uplink, 1 downlink. */
export type Direction = 0 | 1;

function writeDevAddrFcnt(block: Buffer, dir: Direction, devAddr: number, fCnt: number): void {
  block[5] = dir;
  block.writeUInt32LE(devAddr >>> 0, 6);
  block.writeUInt32LE(fCnt >>> 0, 10);
}

/**
 * MIC of a LoRaWAN 1.0.x data frame: the first 4 bytes of CMAC(NwkSKey, B0 | msg), msg = MHDR..FRMPayload, B0 = 0x49,
 * 4 x 0x00, Dir, DevAddr (LE), the full 32-bit FCnt (LE), 0x00, len(msg).
 */
export function dataMic(nwkSKey: Uint8Array, dir: Direction, devAddr: number, fCnt: number, msg: Uint8Array): Buffer {
  const b0 = Buffer.alloc(16);
  b0[0] = 0x49;
  writeDevAddrFcnt(b0, dir, devAddr, fCnt);
  b0[15] = msg.length & 0xff;
  return aesCmac(nwkSKey, Buffer.concat([b0, msg])).subarray(0, 4);
}

/**
 * FRMPayload encryption and decryption (the same operation, §4.3.3): XOR with AES(K, A_i), A_i = 0x01, 4 x 0x00, Dir,
 * DevAddr (LE), FCnt (LE, 32 bits), 0x00, i (i = 1..k). K is the AppSKey, or the NwkSKey for FPort 0.
 */
export function cryptFrmPayload(key: Uint8Array, dir: Direction, devAddr: number, fCnt: number, payload: Uint8Array): Buffer {
  const k = Math.ceil(payload.length / 16);
  if (k === 0) return Buffer.alloc(0);
  const a = Buffer.alloc(16 * k);
  for (let i = 0; i < k; i++) {
    const block = a.subarray(i * 16, i * 16 + 16);
    block[0] = 0x01;
    writeDevAddrFcnt(block, dir, devAddr, fCnt);
    block[15] = (i + 1) & 0xff;
  }
  const s = aesEcbEncrypt(key, a);
  const out = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i]! ^ s[i]!;
  return out;
}

/** Join-request MIC: CMAC(AppKey, MHDR | JoinEUI | DevEUI | DevNonce)[0..3] (§6.2.4). */
export function joinRequestMic(appKey: Uint8Array, msg: Uint8Array): Buffer {
  return aesCmac(appKey, msg).subarray(0, 4);
}

/**
 * Decrypts a join-accept (§6.2.5): the network *decrypts* with AES so that the device only needs AES encryption, hence
 * the device-side "decryption" is an ECB encryption of everything after MHDR (MIC included).
 */
export function decryptJoinAccept(appKey: Uint8Array, phy: Uint8Array): Buffer {
  if (phy.length !== 17 && phy.length !== 33) throw new RangeError('a join-accept is 17 or 33 bytes');
  return Buffer.concat([Buffer.from(phy.subarray(0, 1)), aesEcbEncrypt(appKey, phy.subarray(1))]);
}

/** LoRaWAN 1.0 session keys from a join (§6.2.5): AES(AppKey, 0x01|0x02 | AppNonce | NetID | DevNonce | pad16); values LE. */
export function deriveSessionKeys(appKey: Uint8Array, appNonceLE: Uint8Array, netIdLE: Uint8Array, devNonceLE: Uint8Array): { nwkSKey: Buffer; appSKey: Buffer } {
  const block = (kind: number) => {
    const b = Buffer.alloc(16);
    b[0] = kind;
    b.set(appNonceLE.subarray(0, 3), 1);
    b.set(netIdLE.subarray(0, 3), 4);
    b.set(devNonceLE.subarray(0, 2), 7);
    return aesEcbEncrypt(appKey, b);
  };
  return { nwkSKey: block(0x01), appSKey: block(0x02) };
}

/** Constant-time comparison of two MICs. */
export function micEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
