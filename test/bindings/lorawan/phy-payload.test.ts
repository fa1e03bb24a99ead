// LoRaWAN PHYPayload parsing, MIC, decryption, joins and FCnt tracking against ../shared/vectors/lorawan.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../hub/errors.ts';
import {
  aesCmac,
  dataMic,
  decryptJoinAccept,
  deriveSessionKeys,
  encodeUplink,
  FCntError,
  joinRequestMic,
  MicError,
  openUplink,
  parsePhyPayload,
  parseUplinkMacCommands,
  reconstructFCnt,
  type DataFrame,
} from '../../../hub/bindings/lorawan/index.ts';

interface Vector {
  source: string;
  input: Record<string, unknown>;
  expected: Record<string, unknown>;
}
const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/lorawan.json', import.meta.url), 'utf8')) as Vector[];
const hex = (s: unknown) => Buffer.from(String(s), 'hex');
const lc = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('lorawan.json vectors', () => {
  const dataVectors = vectors.filter((v) => typeof v.input.phyPayloadHex === 'string' && v.input.NwkSKey);
  it.each(dataVectors.map((v) => [v.source, v] as const))('%s', (_name, v) => {
    const phy = hex(v.input.phyPayloadHex);
    if (typeof v.input.phyPayloadBase64 === 'string') expect(lc(Buffer.from(v.input.phyPayloadBase64, 'base64'))).toBe(lc(phy));
    const frame = parsePhyPayload(phy) as DataFrame;
    expect(frame.kind).toBe('data');
    const e = v.expected;
    if (e.MType) expect(frame.mType).toBe(e.MType);
    if (e.MHDR) expect(frame.mhdr.toString(16).padStart(2, '0')).toBe(e.MHDR);
    if (e.DevAddr) expect(frame.devAddrHex).toBe(String(e.DevAddr).toUpperCase());
    if (e.DevAddrWireLE) expect(lc(phy.subarray(1, 5))).toBe(e.DevAddrWireLE);
    if (e.FCtrl) expect(phy[5]!.toString(16).padStart(2, '0')).toBe(e.FCtrl);
    if (e.ADR !== undefined) expect(frame.fCtrl.adr).toBe(e.ADR);
    if (e.ADRACKReq !== undefined) expect(frame.fCtrl.adrAckReq).toBe(e.ADRACKReq);
    if (e.FCnt !== undefined) expect(frame.fCnt16).toBe(e.FCnt);
    if (e.FOpts !== undefined) expect(lc(frame.fOpts)).toBe(e.FOpts);
    if (e.FPort !== undefined) expect(frame.fPort).toBe(e.FPort);
    if (e.FRMPayloadEncrypted !== undefined) expect(lc(frame.frmPayload)).toBe(e.FRMPayloadEncrypted);
    if (e.FRMPayload !== undefined) expect(lc(frame.frmPayload)).toBe(e.FRMPayload);
    if (e.MIC) expect(lc(frame.mic)).toBe(e.MIC);
    const keys = { nwkSKey: hex(v.input.NwkSKey), appSKey: hex(v.input.AppSKey ?? v.input.NwkSKey) };
    const calculated = dataMic(keys.nwkSKey, 0, frame.devAddr, frame.fCnt16, frame.micInput);
    if (e.calculatedMIC) expect(lc(calculated)).toBe(e.calculatedMIC);
    if (e.micValid === false) {
      expect(() => openUplink(phy, keys)).toThrow(MicError);
      return;
    }
    const opened = openUplink(phy, keys);
    expect(opened.fCnt).toBe(frame.fCnt16);
    if (e.plaintextHex) expect(lc(opened.payload)).toBe(e.plaintextHex);
    if (e.plaintextUtf8) expect(opened.payload.toString('utf8')).toBe(e.plaintextUtf8);
    if (e.FOptsDecoded) {
      const [want] = e.FOptsDecoded as Array<{ battery: number; margin: number }>;
      expect(opened.macCommands).toEqual([{ cid: 6, name: 'DevStatusAns', battery: want!.battery, margin: want!.margin }]);
    }
    // The encoder rebuilds the same bytes from the decoded parts.
    if (frame.fPort !== undefined && v.input.AppSKey) {
      const rebuilt = encodeUplink({
        devAddr: frame.devAddrHex,
        fCnt: opened.fCnt,
        fPort: frame.fPort,
        payload: opened.payload,
        confirmed: frame.confirmed,
        adr: frame.fCtrl.adr,
        adrAckReq: frame.fCtrl.adrAckReq,
        fOpts: frame.fOpts,
        keys,
      });
      expect(lc(rebuilt)).toBe(lc(phy));
    }
  });

  it('join request: EUIs, DevNonce and MIC', () => {
    const v = vectors.find((x) => x.expected.MType === 'Join Request')!;
    const phy = hex(v.input.phyPayloadHex);
    const f = parsePhyPayload(phy);
    expect(f.kind).toBe('join-request');
    if (f.kind !== 'join-request') return;
    expect(f.joinEui).toBe(String(v.expected.AppEUI).toUpperCase());
    expect(f.devEui).toBe(String(v.expected.DevEUI).toUpperCase());
    expect(f.devNonce).toBe(String(v.expected.DevNonce).toUpperCase());
    expect(lc(f.mic)).toBe(v.expected.MIC);
    expect(lc(joinRequestMic(hex(v.input.AppKey), f.micInput))).toBe(v.expected.MIC);
  });

  it.each(vectors.filter((v) => v.expected.decryptedPHYPayloadHex).map((v) => [v.source, v] as const))('join accept %s', (_n, v) => {
    const phy = hex(v.input.phyPayloadHex);
    expect(parsePhyPayload(phy).kind).toBe('join-accept');
    const plain = decryptJoinAccept(hex(v.input.AppKey), phy);
    expect(lc(plain)).toBe(v.expected.decryptedPHYPayloadHex);
    expect(lc(aesCmac(hex(v.input.AppKey), plain.subarray(0, plain.length - 4)).subarray(0, 4))).toBe(v.expected.MICAfterDecryption);
    expect(Buffer.from(plain.subarray(7, 11)).reverse().toString('hex')).toBe(v.expected.DevAddr);
  });

  it('session keys 1.0', () => {
    const v = vectors.find((x) => x.expected.NwkSKey && !x.input.phyPayloadHex)!;
    const le = (s: unknown) => hex(s).reverse();
    const keys = deriveSessionKeys(hex(v.input.AppKey), le(v.input.AppNonce), le(v.input.NetID), le(v.input.DevNonce));
    expect(lc(keys.nwkSKey)).toBe(v.expected.NwkSKey);
    expect(lc(keys.appSKey)).toBe(v.expected.AppSKey);
  });

  it('proprietary and rejoin frames are recognised', () => {
    const v = vectors.find((x) => x.input.phyPayloadHexList)!;
    const types = (v.input.phyPayloadHexList as string[]).map((h) => parsePhyPayload(hex(h)).mType);
    expect(types).toEqual(v.expected.MTypes);
  });
});

describe('AES-CMAC', () => {
  // RFC 4493 §4 examples.
  const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
  const m = hex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710');
  it.each([
    [0, 'bb1d6929e95937287fa37d129b756746'],
    [16, '070a16b46b4d4144f79bdd9dd04a287c'],
    [40, 'dfa66747de9ae63030ca32611497c827'],
    [64, '51f0bebf7e3b9d92fc49741779363cfe'],
  ])('length %d', (len, tag) => {
    expect(lc(aesCmac(key, m.subarray(0, len)))).toBe(tag);
  });
});

describe('truncated and malformed frames', () => {
  const keys = { nwkSKey: hex('44024241ed4ce9a68c6a8bc055233fd3'), appSKey: hex('ec925802ae430ca77fd3dd73cb2cc588') };
  const good = hex('40F17DBE4900020001954378762B11FF0D');
  it('every truncation is a DecodeError naming the offset, or a MIC failure', () => {
    for (let n = 0; n < good.length; n++) {
      try {
        openUplink(good.subarray(0, n), keys);
        expect.unreachable(`length ${n} accepted`);
      } catch (e) {
        expect(e instanceof DecodeError || e instanceof MicError, String(e)).toBe(true);
        if (e instanceof DecodeError) expect(typeof e.offset).toBe('number');
      }
    }
  });
  it('FOptsLen past the end, FPort 0 with FOpts, unknown major', () => {
    expect(() => parsePhyPayload(hex('400403020105000001aabbccdd'))).toThrow(/FOptsLen/);
    expect(() => parsePhyPayload(hex('4004030201010000060000aabbccdd'))).toThrow(/FPort 0/);
    expect(() => parsePhyPayload(hex('41f17dbe4900020001954378762b11ff0d'))).toThrow(/major/);
  });
  it('MAC commands cut short throw; unknown CIDs stop the scan', () => {
    expect(() => parseUplinkMacCommands(hex('06ff'))).toThrow(DecodeError);
    expect(parseUplinkMacCommands(hex('0203ff0b'))).toEqual({ commands: [{ cid: 2, name: 'LinkCheckReq' }, { cid: 3, name: 'LinkADRAns', status: 255 }], unknownAt: 3 });
  });
});

describe('FCnt', () => {
  it('reconstructs 32 bits across the 16-bit rollover', () => {
    expect(reconstructFCnt(5, undefined)).toEqual({ ok: true, fCnt: 5 });
    expect(reconstructFCnt(6, 5)).toEqual({ ok: true, fCnt: 6 });
    expect(reconstructFCnt(2, 0xfffe)).toEqual({ ok: true, fCnt: 0x10002 });
    expect(reconstructFCnt(0x0003, 0x2fff0)).toEqual({ ok: true, fCnt: 0x30003 });
    expect(reconstructFCnt(5, 5)).toMatchObject({ ok: false, reason: 'replay' });
    expect(reconstructFCnt(4, 5)).toMatchObject({ ok: false, reason: 'stale' });
    expect(reconstructFCnt(5 + 16385, 5)).toMatchObject({ ok: false, reason: 'stale' });
    expect(reconstructFCnt(5 + 16384, 5)).toEqual({ ok: true, fCnt: 16389 });
  });

  it('openUplink uses the 32-bit counter in MIC and decryption, and rejects replays', () => {
    const keys = { nwkSKey: hex('02020202020202020202020202020202'), appSKey: hex('01010101010101010101010101010101') };
    const phy = encodeUplink({ devAddr: '01020304', fCnt: 0x10001, fPort: 2, payload: Buffer.from('hi'), keys });
    expect(phy.readUInt16LE(6)).toBe(1);
    const opened = openUplink(phy, keys, { lastFCnt: 0xfff0 });
    expect(opened.fCnt).toBe(0x10001);
    expect(opened.payload.toString()).toBe('hi');
    expect(() => openUplink(phy, keys, { lastFCnt: 0x10001 })).toThrow(FCntError);
    // Without the upper half the MIC does not verify (the counter is part of B0)...
    expect(() => openUplink(phy, keys, { firstFrameRollovers: 0 })).toThrow(MicError);
    // ...but without session state the next upper halves are tried.
    expect(openUplink(phy, keys).fCnt).toBe(0x10001);
    const far = encodeUplink({ devAddr: '01020304', fCnt: 0x200001, fPort: 2, payload: Buffer.from('hi'), keys });
    expect(() => openUplink(far, keys)).toThrow(MicError);
    try {
      openUplink(phy, keys, { lastFCnt: 0x10001 });
    } catch (e) {
      expect((e as FCntError).code).toBe('lorawan-fcnt-replay');
    }
  });
});
