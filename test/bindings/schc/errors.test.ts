// SCHC bad input: malformed rules are SchcRuleError naming rule and field; truncated residues, unknown RuleIDs, bad
// indexes and wrong lengths are DecodeError with a bit offset; nothing else is ever thrown.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schcCodec } from '../../../hub/bindings/schc/codec.ts';
import { parseRules, SchcRuleError } from '../../../hub/bindings/schc/rules.ts';
import { compress, decompress } from '../../../hub/bindings/schc/schc.ts';
import { DecodeError } from '../../../hub/errors.ts';
import { openschcRule5 } from './fixtures.ts';
import { vectorRule } from './vector-rule.ts';

const example = JSON.parse(readFileSync(new URL('../../../../shared/vectors/schc.json', import.meta.url), 'utf8'))[0];
const schcPacket = Buffer.from(`${example.input.schcPacketHex}0`, 'hex');

function thrown(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('did not throw');
}

const field = (over: object) => ({ RuleID: 1, RuleIDLength: 4, Compression: [{ FID: 'COAP.VER', TV: 1, MO: 'equal', CDA: 'not-sent', ...over }] });

describe('rule validation', () => {
  it.each([
    ['not an array', { RuleID: 1 }, '(set)', undefined],
    ['RuleIDLength missing', [{ RuleID: 1, Compression: [] }], '#0', 'RuleIDLength'],
    ['RuleID too wide', [{ RuleID: 4, RuleIDLength: 2, Compression: [] }], '#0', 'RuleID'],
    ['two kinds', [{ RuleID: 1, RuleIDLength: 2, Compression: [], NoCompression: [] }], '1/2', undefined],
    ['unknown FID', [field({ FID: 'IPV7.VER' })], '1/4', 'IPV7.VER'],
    ['FL differs from the header field', [field({ FL: 3 })], '1/4', 'COAP.VER'],
    ['FL function unknown', [field({ FID: 'COAP.Uri-Path', FL: 'len' })], '1/4', 'COAP.Uri-Path'],
    ['tkl on another field', [field({ FID: 'COAP.Uri-Path', FL: 'tkl' })], '1/4', 'COAP.Uri-Path'],
    ['equal without TV', [field({ TV: null })], '1/4', 'COAP.VER'],
    ['TV too wide', [field({ TV: 4 })], '1/4', 'COAP.VER'],
    ['MO unknown', [field({ MO: 'like' })], '1/4', 'COAP.VER'],
    ['MSB without its length', [field({ MO: 'MSB', CDA: 'LSB' })], '1/4', 'COAP.VER'],
    ['MSB longer than FL', [field({ MO: 'MSB(3)', CDA: 'LSB' })], '1/4', 'COAP.VER'],
    ['LSB without MSB', [field({ CDA: 'LSB' })], '1/4', 'COAP.VER'],
    ['mapping-sent without match-mapping', [field({ CDA: 'mapping-sent' })], '1/4', 'COAP.VER'],
    ['match-mapping without a list', [field({ MO: 'match-mapping', CDA: 'mapping-sent' })], '1/4', 'COAP.VER'],
    ['CDAa too small for the list', [field({ MO: 'match-mapping', CDA: 'mapping-sent', TV: [0, 1, 2], CDAa: 1 })], '1/4', 'COAP.VER'],
    ['compute-length on CoAP', [field({ CDA: 'compute-length' })], '1/4', 'COAP.VER'],
    ['compute-checksum on a length', [field({ FID: 'UDP.LEN', TV: 0, CDA: 'compute-checksum' })], '1/4', 'UDP.LEN'],
    ['DevIID on a port', [field({ FID: 'UDP.DEV_PORT', TV: 1, CDA: 'DevIID' })], '1/4', 'UDP.DEV_PORT'],
    ['CDA unknown', [field({ CDA: 'zip' })], '1/4', 'COAP.VER'],
    ['IPv6 TV not an address', [field({ FID: 'IPV6.DEV_PREFIX', TV: '2001:zz::' })], '1/4', 'IPV6.DEV_PREFIX'],
    ['same field twice at one FP', [{ RuleID: 1, RuleIDLength: 4, Compression: [{ FID: 'COAP.Uri-Path', FP: 1, MO: 'ignore', CDA: 'value-sent' }, { FID: 'COAP.Uri-Path', FP: 1, MO: 'ignore', CDA: 'value-sent' }] }], '1/4', 'COAP.Uri-Path'],
    ['RuleIDs that are prefixes of one another', [{ RuleID: 1, RuleIDLength: 1, NoCompression: [] }, { RuleID: 2, RuleIDLength: 2, NoCompression: [] }], '2/2', 'RuleID'],
    ['UDP and ICMPv6 in one rule', [{ RuleID: 1, RuleIDLength: 4, Compression: [{ FID: 'UDP.LEN', MO: 'ignore', CDA: 'value-sent' }, { FID: 'ICMPV6.TYPE', MO: 'ignore', CDA: 'value-sent' }] }], '1/4', 'ICMPV6'],
    ['CoAP over IPv6 without UDP', [{ RuleID: 1, RuleIDLength: 4, Compression: [{ FID: 'IPV6.VER', TV: 6, MO: 'equal', CDA: 'not-sent' }, { FID: 'COAP.VER', TV: 1, MO: 'equal', CDA: 'not-sent' }] }], '1/4', 'UDP'],
    ['compute-checksum without IPv6', [{ RuleID: 1, RuleIDLength: 4, Compression: [{ FID: 'UDP.CKSUM', MO: 'ignore', CDA: 'compute-checksum' }] }], '1/4', 'IPV6'],
    ['fragmentation mode unknown', [{ RuleID: 1, RuleIDLength: 3, Fragmentation: { FRMode: 'Sometimes' } }], '1/3', 'FRMode'],
  ])('%s', (_name, rules, rule, fieldName) => {
    const e = thrown(() => parseRules(rules));
    expect(e).toBeInstanceOf(SchcRuleError);
    expect(e.code).toBe('schc-invalid-rule');
    expect(e.status).toBe(422);
    expect(e.extensions.rule).toBe(rule);
    expect(e.field).toBe(fieldName);
  });
});

describe('rule set bounds', () => {
  it('more than 4096 field descriptors or 16384 mapping values in a set are refused before parsing', () => {
    const many = Array.from({ length: 17 }, (_, i) => ({ RuleID: i, RuleIDLength: 8, Compression: Array.from({ length: 256 }, () => ({ FID: 'COAP.Uri-Path', MO: 'ignore', CDA: 'value-sent' })) }));
    expect(thrown(() => parseRules(many)).extensions.rule).toBe('(set)');
    const wide = [{ RuleID: 1, RuleIDLength: 8, Compression: Array.from({ length: 5 }, () => ({ FID: 'COAP.Uri-Path', MO: 'match-mapping', CDA: 'mapping-sent', TV: Array(4000).fill('a') })) }];
    expect(thrown(() => parseRules(wide)).message).toMatch(/16384/);
  });

  it('repeated fields without FP take the next positions; 256 of them parse in linear time', () => {
    const rule = { RuleID: 1, RuleIDLength: 8, Compression: Array.from({ length: 256 }, () => ({ FID: 'COAP.Uri-Path', MO: 'ignore', CDA: 'value-sent' })) };
    const [r] = parseRules([rule]);
    if (r?.kind !== 'compression') throw new Error('not compression');
    expect(r.fields.map((f) => f.fp)).toEqual(Array.from({ length: 256 }, (_, i) => i + 1));
  });
});

describe('bad packets', () => {
  it('every truncation of the worked example inside its residues is schc-truncated at a bit offset', () => {
    for (let n = 2; n < 180; n++) {
      const e = thrown(() => decompress(schcPacket, [vectorRule], undefined, { bitLength: n }));
      expect(e.code).toBe('schc-truncated');
      expect(e.extensions.unit).toBe('bit');
      expect(e.offset).toBeLessThanOrEqual(n);
      expect(e.offset).toBeGreaterThanOrEqual(2);
    }
    // Cut at byte boundaries too (what a short LoRaWAN frame gives).
    for (let n = 1; n < 23; n++) expect(thrown(() => decompress(schcPacket.subarray(0, n), [vectorRule])).code).toBe('schc-truncated');
  });

  it('the offset names the residue that ran out: the token after its length prefix', () => {
    const e = thrown(() => decompress(schcPacket, [vectorRule], undefined, { bitLength: 120 }));
    expect(e.field).toBe('CoAP.token');
    expect(e.offset).toBe(100); // 88 + 12-bit size prefix
  });

  it('an unknown RuleID (prefix or FPort) is schc-unknown-rule at bit 0', () => {
    const e = thrown(() => decompress(Uint8Array.of(0x40, 0), [vectorRule]));
    expect([e.code, e.offset, e.field]).toEqual(['schc-unknown-rule', 0, 'RuleID']);
    expect(thrown(() => decompress(schcPacket, [vectorRule], 9)).code).toBe('schc-unknown-rule');
    expect(thrown(() => decompress(new Uint8Array(0), [vectorRule])).code).toBe('schc-unknown-rule');
  });

  it('a mapping index beyond the list is schc-bad-mapping-index at the index', () => {
    // RuleID 101, NXT 8 bits, then DEV_PREFIX index 3 of 3 entries.
    const e = thrown(() => decompress(Uint8Array.of(0b10100010, 0b00111000, 0, 0, 0, 0, 0, 0, 0, 0), [openschcRule5]));
    expect([e.code, e.offset, e.field]).toEqual(['schc-bad-mapping-index', 11, 'IPV6.DEV_PREFIX']);
  });

  it('a length that does not fit the field is a DecodeError: an option of 3 bits, a var size past the end', () => {
    const rule = { RuleID: 0, RuleIDLength: 1, Compression: [
      { FID: 'COAP.VER', TV: 1, MO: 'equal', CDA: 'not-sent' }, { FID: 'COAP.TYPE', TV: 0, MO: 'equal', CDA: 'not-sent' },
      { FID: 'COAP.TKL', TV: 0, MO: 'equal', CDA: 'not-sent' }, { FID: 'COAP.CODE', TV: 1, MO: 'equal', CDA: 'not-sent' },
      { FID: 'COAP.MID', TV: 1, MO: 'equal', CDA: 'not-sent' }, { FID: 'COAP.Uri-Path', FL: 'var-bits', MO: 'ignore', CDA: 'value-sent' } ] };
    // size 3 bits, then 3 bits of value
    expect(thrown(() => decompress(Uint8Array.of(0b00011101, 0), [rule])).code).toBe('schc-bad-length');
    // size 0b1111 + 0xff + 0xffff bits: far more than the packet
    const e = thrown(() => decompress(Uint8Array.of(0b01111111, 0xff, 0xff, 0xff, 0x80), [rule]));
    expect([e.code, e.offset]).toEqual(['schc-truncated', 29]);
  });

  it('a fragmentation rule is recognised and refused (reassembly is not implemented)', () => {
    const rules = [vectorRule, { RuleID: 1, RuleIDLength: 3, Fragmentation: { FRMode: 'AckOnError', FRModeProfile: { dtagSize: 2 } } }];
    expect(thrown(() => decompress(Uint8Array.of(0b00100000, 1, 2), rules)).code).toBe('schc-fragmentation-unsupported');
  });

  it('DevIID without an IID or an equal TV is schc-no-iid', () => {
    const rule = { ...openschcRule5, Compression: openschcRule5.Compression.map((f) => (f.FID === 'IPV6.DEV_IID' ? { FID: 'IPV6.DEV_IID', MO: 'ignore', CDA: 'DEVIID' } : f)) };
    const bytes = compress(Buffer.from(decompress(compressUplink(), [openschcRule5])), [rule]).bytes;
    expect(thrown(() => decompress(bytes, [rule])).code).toBe('schc-no-iid');
  });

  it('the codec: no rules, bad IID config, fport mode without an FPort are rule errors; packets over 4 KiB refused', () => {
    expect(thrown(() => schcCodec.decode(schcPacket, { device: {} })).code).toBe('schc-invalid-rule');
    expect(thrown(() => schcCodec.decode(schcPacket, { device: { schcRules: [vectorRule], schcDevIid: 'xyz' } })).field).toBe('schcDevIid');
    expect(thrown(() => schcCodec.decode(schcPacket, { device: { schcRules: [vectorRule], schcRuleIdFrom: 'fport' } })).field).toBe('schcRuleIdFrom');
    expect(thrown(() => schcCodec.decode(new Uint8Array(5000), { device: { schcRules: [vectorRule] } })).code).toBe('schc-too-large');
    // fPort given and no schcRuleIdFrom: the FPort is the RuleID (RFC 9011), so FPort 2 names no rule here.
    expect(thrown(() => schcCodec.decode(schcPacket, { fPort: 2, device: { schcRules: [vectorRule] } })).code).toBe('schc-unknown-rule');
  });
});

function compressUplink(): Uint8Array {
  // A minimal uplink rule 5 accepts (built by decompressing hand-written residues).
  const w: number[] = [];
  const bits: string[] = [];
  const put = (v: number, n: number) => bits.push(v.toString(2).padStart(n, '0'));
  put(5, 3); put(17, 8); put(0, 2); put(0, 2); put(1, 4); put(2, 4); put(1, 2); put(0, 4); put(0x45, 8); put(1, 16);
  put(0, 1); put(0, 4); put(0, 4); put(0, 4);
  const s = bits.join('');
  for (let i = 0; i < s.length; i += 8) w.push(parseInt(s.slice(i, i + 8).padEnd(8, '0'), 2));
  return Uint8Array.from(w);
}
