// Fuzz target: LoRaWAN PHYPayloads as a packet forwarder delivers them: parse, MAC commands, MIC + FCnt + decryption.
import { readFileSync } from 'node:fs';
import { encodeUplink, openUplink, parsePhyPayload, parseUplinkMacCommands, MicError } from '../../../hub/bindings/lorawan/index.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const keys = { nwkSKey: Buffer.from('44024241ed4ce9a68c6a8bc055233fd3', 'hex'), appSKey: Buffer.from('ec925802ae430ca77fd3dd73cb2cc588', 'hex') };

export const lorawanPhyTarget: FuzzTarget = {
  name: 'lorawan-phy',
  description: 'PHYPayload -> parsePhyPayload -> FOpts MAC commands -> openUplink (MIC, 32-bit FCnt, decryption); encodeUplink round trip when the MIC verifies',
  seeds() {
    const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/lorawan.json', import.meta.url), 'utf8')) as Array<{ input: Record<string, unknown> }>;
    const out: Uint8Array[] = [];
    for (const v of vectors) {
      if (typeof v.input.phyPayloadHex === 'string') out.push(Buffer.from(v.input.phyPayloadHex, 'hex'));
      for (const h of (v.input.phyPayloadHexList as string[] | undefined) ?? []) out.push(Buffer.from(h, 'hex'));
    }
    out.push(encodeUplink({ devAddr: '26011234', fCnt: 0x12345, fPort: 2, payload: Buffer.from('0167011a', 'hex'), fOpts: Buffer.from('0206ff20', 'hex'), keys }));
    return out;
  },
  tokens: ['\x40', '\x80', '\x00', '\x20', '\xe0', '\x0f', '\x06'],
  generate(rng) {
    const payload = Buffer.alloc(rng.int(40));
    for (let i = 0; i < payload.length; i++) payload[i] = rng.int(256);
    const fOpts = Buffer.from([0x02, 0x06, rng.int(256), rng.int(64)].slice(0, rng.int(5)));
    return encodeUplink({ devAddr: rng.int(0xffffffff), fCnt: rng.int(0x20000), fPort: rng.chance(0.1) ? 0 : 1 + rng.int(223), payload, fOpts: rng.chance(0.3) ? fOpts : undefined, confirmed: rng.chance(0.5), keys });
  },
  generateRatio: 0.2,
  run(input) {
    const frame = parsePhyPayload(input);
    if (frame.kind !== 'data') return;
    parseUplinkMacCommands(frame.fOpts);
    try {
      const opened = openUplink(input, keys, { lastFCnt: frame.fCnt16 > 4 ? frame.fCnt16 - 4 : undefined });
      if (!frame.uplink) throw new OracleError('a downlink was opened as an uplink');
      const again = encodeUplink({
        devAddr: frame.devAddr, fCnt: opened.fCnt, fPort: frame.fPort, payload: opened.payload, fOpts: frame.fOpts,
        confirmed: frame.confirmed, adr: frame.fCtrl.adr, adrAckReq: frame.fCtrl.adrAckReq, ack: frame.fCtrl.ack, keys,
      });
      // Class B (FCtrl bit 4) and the MHDR's RFU bits are not written by the encoder: no comparison then.
      const a = Buffer.from(input);
      if (frame.fCtrl.classBOrFPending || (input[0]! & 0x1c) !== 0) return;
      if (!again.equals(a)) throw new OracleError('encodeUplink(openUplink(x)) != x');
    } catch (e) {
      if (e instanceof MicError) return;
      throw e;
    }
  },
};
