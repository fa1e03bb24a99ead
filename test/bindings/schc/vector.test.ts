// SCHC against ../shared/vectors/schc.json: the microschc worked example decompresses and compresses byte for byte, and
// the schc payload codec hands on its CoAP payload (a SenML pack) with the headers as fields.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schcCodec } from '../../../hub/bindings/schc/codec.ts';
import { parseRules } from '../../../hub/bindings/schc/rules.ts';
import { compress, decompress, decompressDetailed } from '../../../hub/bindings/schc/schc.ts';
import { vectorRule } from './vector-rule.ts';

const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/schc.json', import.meta.url), 'utf8'));
const example = vectors[0];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
// 828 bits: the hex string has 207 digits; the last byte's low 4 bits are padding (zero).
const schcPacket = Buffer.from(`${example.input.schcPacketHex}0`, 'hex');
const expected = example.expected.decompressedPacketHex as string;

describe('schc.json worked example (microschc test_decompress)', () => {
  it('decompresses byte for byte (144 bytes)', () => {
    const out = decompress(schcPacket, [vectorRule]);
    expect(out.length).toBe(example.expected.decompressedLengthBytes);
    expect(hex(out)).toBe(expected);
  });

  it('reads the residues at bit level: the payload starts at bit 180 and is 648 bits', () => {
    const r = decompressDetailed(schcPacket, [vectorRule]);
    expect(r.payloadOffset).toBe(180);
    expect(r.rule.ruleId).toBe(3);
    expect(example.input.schcPacketLengthBits - r.payloadOffset).toBe(example.expected.residues.payloadBits);
  });

  it('compresses the packet back to the same 828 bits', () => {
    const c = compress(Buffer.from(expected, 'hex'), [vectorRule]);
    expect(c.bitLength).toBe(example.input.schcPacketLengthBits);
    expect(hex(c.bytes)).toBe(hex(schcPacket));
  });

  it('works with the RuleID in the LoRaWAN FPort (RFC 9011) instead of the packet', () => {
    const rule = { ...vectorRule, RuleID: 3, RuleIDLength: 8 };
    const c = compress(Buffer.from(expected, 'hex'), [rule], { ruleIdInFPort: true });
    expect(c.bitLength).toBe(828 - 2);
    expect(hex(decompress(c.bytes, [rule], 3))).toBe(expected);
  });

  it('the schc codec returns the CoAP payload and the headers', () => {
    const device = { schcRules: [vectorRule], schcRuleIdFrom: 'prefix' };
    const out = schcCodec.decode(schcPacket, { fPort: 2, device }) as { bytes: Uint8Array; fields: Record<string, any> };
    const d = example.expected.decodedPacket;
    expect(Buffer.from(out.bytes).toString('utf8')).toBe(d.payloadUtf8);
    expect(out.fields.ruleId).toBe(3);
    expect(out.fields.ipv6).toMatchObject({ src: d.ipv6.src, dst: d.ipv6.dst, nextHeader: 17, hopLimit: 64, flowLabel: 0x0ef2d });
    expect(out.fields.udp).toEqual({ srcPort: 53504, dstPort: 5683, length: 104, checksum: 0x5c21 });
    expect(out.fields.coap).toMatchObject({ version: 1, type: 'ACK', code: '2.05', messageId: 0x22f6, token: d.coap.token, contentFormat: 110 });
    expect(out.fields.coap.options).toEqual([{ number: 12, value: '6e' }]);
    // LwM2M SenML (Leshan): the bytes handed on are the pack itself (its names start with '/', see the report).
    expect(JSON.parse(Buffer.from(out.bytes).toString('utf8'))).toEqual([{ bn: '/6/', n: '0/0', v: 54 }, { n: '0/1', v: 48 }, { n: '0/5', v: 1666263339 }]);
  });

  it('parses the openschc rule format reference (RuleID 5 excerpt) and the fragmentation rule', () => {
    const [ref] = vectors[1].input && [vectors[1].input.openschcRuleExample];
    const frag = vectors[1].expected.fragmentationRuleExample;
    const rules = parseRules([ref, frag]);
    expect(rules.map((r) => [r.kind, r.ruleId, r.ruleIdLength])).toEqual([['compression', 5, 3], ['fragmentation', 1, 3]]);
    const c = rules[0]!;
    if (c.kind !== 'compression') throw new Error('not a compression rule');
    const path = c.fields.find((f) => f.fid === 'COAP.Uri-Path')!;
    expect(path).toMatchObject({ fp: 2, di: 'up', mo: 'match-mapping', cda: 'mapping-sent', indexBits: 1, fl: { kind: 'var', unit: 8 } });
    expect(c.fields.find((f) => f.fid === 'UDP.DEV_PORT')).toMatchObject({ mo: 'msb', msb: 12, cda: 'lsb' });
    expect(c.fields.find((f) => f.fid === 'IPV6.DEV_PREFIX')!.tvList!.length).toBe(3);
  });
});
