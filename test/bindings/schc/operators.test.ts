// SCHC matching operators and compression/decompression actions (RFC 8724 §7.3-7.5, RFC 8824): residue layout at bit
// level, round trips through compress/decompress, computed lengths and checksum, CoAP option rebuilding.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BitReader } from '../../../hub/bindings/schc/bits.ts';
import { schcCodec } from '../../../hub/bindings/schc/codec.ts';
import { parseRules } from '../../../hub/bindings/schc/rules.ts';
import { compress, decompress } from '../../../hub/bindings/schc/schc.ts';
import { echoRequest, leshanPacketHex, microschcComputeRule, openschcRule5, packet } from './fixtures.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bits = (b: Uint8Array, from: number, n: number) => {
  const r = new BitReader(b);
  r.pos = from;
  return r.readInt(n, 'test');
};

/** An uplink the openschc rule 5 describes: dev 2001:db8::1 (prefix index 0), app 2001:0420:... no: fe80::2 (index 1). */
const uplink = (over: { query?: string; path?: string[]; payload?: string } = {}) =>
  packet({
    tc: 1,
    flowLabel: 144470,
    hopLimit: 255,
    src: '2001:db8::1',
    dst: 'fe80::2',
    srcPort: 0x1637,
    dstPort: 0x163a,
    coap: {
      type: 0,
      code: 0x02,
      mid: 0x1234,
      token: 'abcd',
      options: [...(over.path ?? ['foo', 'toto', 'x', 'yy']).map((s) => [11, s] as [number, string]), [15, over.query ?? 'k=42']],
      payload: over.payload ?? '{"t":21.5}',
    },
  });

describe('openschc RuleID 5 (comp-rule-100.json)', () => {
  const rules = parseRules([openschcRule5]);

  it('lays the residues out in rule order, bit by bit', () => {
    const p = uplink();
    const c = compress(p, rules);
    const b = c.bytes;
    let at = 0;
    const next = (n: number) => {
      const v = bits(b, at, n);
      at += n;
      return v;
    };
    expect(next(3)).toBe(5); // RuleID 101
    expect(next(8)).toBe(17); // IPV6.NXT value-sent
    expect(next(2)).toBe(0); // DEV_PREFIX index of 2001:db8::/64 (3 entries: 2 bits)
    expect(next(2)).toBe(1); // APP_PREFIX index of fe80::/64
    expect(next(4)).toBe(7); // DEV_PORT LSB: 0x1637 - MSB(12) of 5680
    expect(next(4)).toBe(0xa); // APP_PORT LSB
    expect(next(2)).toBe(0); // COAP.TYPE CON
    expect(next(4)).toBe(2); // COAP.TKL
    expect(next(8)).toBe(2); // COAP.CODE 0.02 POST
    expect(next(16)).toBe(0x1234); // COAP.MID
    expect(next(16)).toBe(0xabcd); // COAP.TOKEN, FL tkl: no length prefix
    expect(next(1)).toBe(1); // Uri-Path FP 2: index of 'toto' (2 entries: 1 bit)
    expect(next(4)).toBe(1); // Uri-Path FP 3: length 1 byte (var: bytes)
    expect(next(8)).toBe('x'.charCodeAt(0));
    expect(next(4)).toBe(2); // Uri-Path FP 4
    expect(next(16)).toBe(0x7979);
    expect(next(4)).toBe(2); // Uri-Query LSB after MSB(16) 'k=': 2 bytes '42'
    expect(next(16)).toBe(0x3432);
    expect(c.bitLength - at).toBe(8 * '{"t":21.5}'.length); // then the payload, no marker
    expect(hex(decompress(c.bytes, rules))).toBe(hex(p));
  });

  it('compute-length and compute-checksum rebuild what the sender wrote', () => {
    const p = uplink({ payload: 'x'.repeat(101) });
    const out = decompress(compress(p, rules).bytes, rules);
    expect(Buffer.from(out).readUInt16BE(4)).toBe(p.length - 40);
    expect(Buffer.from(out).readUInt16BE(44)).toBe(p.length - 40);
    expect(Buffer.from(out).readUInt16BE(46)).toBe(p.readUInt16BE(46));
  });

  it('an equal or MSB mismatch means the rule does not match (then no rule: schc-no-rule)', () => {
    expect(() => compress(uplink({ path: ['bar', 'toto', 'x', 'y'] }), rules)).toThrow(expect.objectContaining({ code: 'schc-no-rule' }));
    expect(() => compress(uplink({ query: 'q=1' }), rules)).toThrow(expect.objectContaining({ code: 'schc-no-rule' }));
    // An option the rule does not describe (a fifth Uri-Path) is not covered either.
    expect(() => compress(uplink({ path: ['foo', 'bar', 'a', 'b', 'c'] }), rules)).toThrow(expect.objectContaining({ code: 'schc-no-rule' }));
  });

  it('falls back to the NoCompression rule, which carries the whole packet', () => {
    const set = parseRules([openschcRule5, { RuleID: 0, RuleIDLength: 3, NoCompression: [] }]);
    const p = uplink({ query: 'q=1' });
    const c = compress(p, set);
    expect(c.rule.kind).toBe('no-compression');
    expect(c.bitLength).toBe(3 + 8 * p.length);
    expect(hex(decompress(c.bytes, set))).toBe(hex(p));
  });

  it('downlink: DI Dw descriptors apply, dev/app are dst/src, Content-Format comes from its TV', () => {
    const down = packet({ tc: 1, flowLabel: 144470, hopLimit: 255, src: 'fe80::2', dst: '2001:db8::1', srcPort: 0x1631, dstPort: 0x1632,
      coap: { type: 2, code: 0x45, mid: 7, token: '', options: [[12, 30]], payload: 'ok' } });
    const c = compress(down, rules, { direction: 'down' });
    expect(bits(c.bytes, 11, 2)).toBe(0); // DEV_PREFIX from dst
    expect(bits(c.bytes, 13, 2)).toBe(1); // APP_PREFIX from src
    expect(hex(decompress(c.bytes, rules, undefined, { direction: 'down' }))).toBe(hex(down));
    // The same bits read as an uplink give another packet (dev/app swapped, Content-Format not rebuilt, Uri-Path needed).
    expect(() => decompress(c.bytes, rules)).toThrow();
  });

  it('DevIID takes the IID the hub knows for the device (else the equal TV)', () => {
    const p = uplink();
    const c = compress(p, rules);
    const iid = Uint8Array.from(Buffer.from('0200000000000042', 'hex'));
    const out = Buffer.from(decompress(c.bytes, rules, undefined, { devIid: iid }));
    expect(out.subarray(16, 24).toString('hex')).toBe('0200000000000042');
    expect(out.subarray(8, 16).toString('hex')).toBe('20010db800000000');
    const viaCodec = schcCodec.decode(c.bytes, { device: { schcRules: [openschcRule5], schcDevIid: '02:00:00:00:00:00:00:42' } }) as { fields: any; bytes: Uint8Array };
    expect(viaCodec.fields.ipv6.src).toBe('2001:db8::200:0:0:42');
    expect(viaCodec.fields.coap.uriPath).toBe('/foo/toto/x/yy');
    expect(viaCodec.fields.coap.uriQuery).toEqual(['k=42']);
    expect(viaCodec.fields.coap.code).toBe('0.02');
    expect(Buffer.from(viaCodec.bytes).toString()).toBe('{"t":21.5}');
  });
});

describe('AppIID', () => {
  it('takes the application IID the hub is given, and without one (and no equal TV) refuses', () => {
    const rule = { ...openschcRule5, Compression: openschcRule5.Compression.map((f) => (f.FID === 'IPV6.APP_IID' ? { FID: 'IPV6.APP_IID', MO: 'ignore', CDA: 'AppIID' } : f)) };
    const p = uplink();
    const appIid = Uint8Array.from(p.subarray(32, 40));
    const c = compress(p, [rule], { appIid });
    expect(hex(decompress(c.bytes, [rule], undefined, { appIid }))).toBe(hex(p));
    const viaCodec = schcCodec.decode(c.bytes, { device: { schcRules: [rule], schcAppIid: hex(appIid) } }) as { fields: any };
    expect(viaCodec.fields.ipv6.dst).toBe('fe80::2');
    expect(() => decompress(c.bytes, [rule])).toThrow(expect.objectContaining({ code: 'schc-no-iid', field: 'IPV6.APP_IID' }));
    // A packet whose IID is not the one given does not match the rule.
    expect(() => compress(p, [rule], { appIid: new Uint8Array(8) })).toThrow(expect.objectContaining({ code: 'schc-no-rule' }));
  });
});

describe('microschc compute rule on a captured Leshan packet', () => {
  const captured = Buffer.from(leshanPacketHex, 'hex');

  it('is the 72-byte capture with UDP checksum 0x7804', () => {
    expect(captured.length).toBe(72);
    expect(captured.readUInt16BE(46)).toBe(0x7804);
  });

  it('compresses (no lengths, no checksum sent) and decompresses to the capture byte for byte', () => {
    const c = compress(captured, [microschcComputeRule]);
    // RuleID 2 + src LSB 8 + dst index 2 + TKL 4 + code 8 + MID 16 + token (4-bit size 15 -> 12 bits + 16 bits) + 2 x (length 4 + value size 4 + value) + payload
    expect(c.bitLength).toBe(2 + 8 + 2 + 4 + 8 + 16 + 12 + 16 + (4 + 4 + 8) + (4 + 4 + 16) + 12 * 8);
    expect(hex(decompress(c.bytes, [microschcComputeRule]))).toBe(leshanPacketHex);
  });

  it('a residue bit flipped in the payload changes the recomputed checksum', () => {
    const c = compress(captured, [microschcComputeRule]);
    const bad = Uint8Array.from(c.bytes);
    bad[bad.length - 2]! ^= 0x10;
    const out = Buffer.from(decompress(bad, [microschcComputeRule]));
    expect(out.readUInt16BE(46)).not.toBe(0x7804);
    expect(out.readUInt16BE(4)).toBe(32);
  });
});

describe('variable lengths, LSB on non-byte fields, CoAP options', () => {
  // CoAP-only rules (RFC 8824 also compresses CoAP on its own): the decompressed packet is the CoAP message.
  const coapOnly = (extra: object[]) => ({
    RuleID: 1,
    RuleIDLength: 1,
    Compression: [
      { FID: 'COAP.VER', TV: 1, MO: 'equal', CDA: 'not-sent' },
      { FID: 'COAP.TYPE', TV: 1, MO: 'equal', CDA: 'not-sent' },
      { FID: 'COAP.TKL', TV: 0, MO: 'equal', CDA: 'not-sent' },
      { FID: 'COAP.CODE', TV: 0x45, MO: 'equal', CDA: 'not-sent' },
      { FID: 'COAP.MID', TV: 0x1200, MO: 'MSB(8)', CDA: 'LSB' },
      ...extra,
    ],
  });
  const msg = (options: Array<[number, string | number]>, payload = '') => {
    const head = Buffer.from([0x50, 0x45, 0x12, 0x34]);
    const p = packet({ src: '::', dst: '::', srcPort: 0, dstPort: 0, coap: { type: 1, code: 0x45, mid: 0x1234, token: '', options, payload } });
    return Buffer.concat([head, p.subarray(48 + 4)]);
  };

  it.each([
    [14, 4],
    [15, 12],
    [254, 12],
    [255, 28],
    [300, 28],
  ])('a %i-byte value-sent option has a %i-bit size prefix (RFC 8724 §7.4.2)', (n, prefix) => {
    const rule = coapOnly([{ FID: 'COAP.Uri-Path', FL: 'var', MO: 'ignore', CDA: 'value-sent' }]);
    const m = msg([[11, 'p'.repeat(n)]]);
    const c = compress(m, [rule]);
    expect(c.bitLength).toBe(1 + 8 + prefix + 8 * n);
    expect(hex(decompress(c.bytes, [rule]))).toBe(hex(m));
  });

  it('options are rebuilt sorted by number with extended deltas (Size1 60, No-Response 258), uint TVs minimal', () => {
    const rule = coapOnly([
      { FID: 'COAP.No-Response', TV: 26, MO: 'equal', CDA: 'not-sent' },
      { FID: 'COAP.Content-Format', TV: [0, 110, 112], MO: 'match-mapping', CDA: 'mapping-sent' },
      { FID: 'COAP.Size1', FL: 16, MO: 'ignore', CDA: 'value-sent' },
      { FID: 'COAP.Option.2048', FL: 'var-bits', MO: 'ignore', CDA: 'value-sent' },
    ]);
    const m = msg([[12, 110], [60, 'ab'], [258, 26], [2048, 'zz']], 'hi');
    const c = compress(m, [rule]);
    expect(c.bitLength).toBe(1 + 8 + 2 + 16 + (12 + 16) + 16);
    expect(hex(decompress(c.bytes, [rule]))).toBe(hex(m));
  });

  it('ignore + not-sent rebuilds the TV (lossy by design), MSB(x) + LSB on a 20-bit field', () => {
    const rule = {
      RuleID: 0,
      RuleIDLength: 1,
      Compression: [
        { FID: 'IPV6.VER', TV: 6, MO: 'equal', CDA: 'not-sent' },
        { FID: 'IPV6.TC', TV: 0, MO: 'ignore', CDA: 'not-sent' },
        { FID: 'IPV6.FL', TV: 0xabc00, MO: 'MSB(12)', CDA: 'LSB' },
        { FID: 'IPV6.LEN', MO: 'ignore', CDA: 'compute-length' },
        { FID: 'IPV6.NXT', TV: 17, MO: 'equal', CDA: 'not-sent' },
        { FID: 'IPV6.HOP_LMT', MO: 'ignore', CDA: 'value-sent' },
        { FID: 'IPV6.DEV_PREFIX', FL: 64, TV: 'fe80::', MO: 'equal', CDA: 'not-sent' },
        { FID: 'IPV6.DEV_IID', TV: '0x0000000000000000', MO: 'MSB(56)', CDA: 'LSB' },
        { FID: 'IPV6.APP_ADDR', MO: 'ignore', CDA: 'value-sent' },
        { FID: 'UDP.DEV_PORT', TV: 5683, MO: 'equal', CDA: 'not-sent' },
        { FID: 'UDP.APP_PORT', MO: 'ignore', CDA: 'value-sent' },
        { FID: 'UDP.LEN', MO: 'ignore', CDA: 'compute-length' },
        { FID: 'UDP.CKSUM', MO: 'ignore', CDA: 'compute-checksum' },
      ],
    };
    const p = packet({ tc: 0x2e, flowLabel: 0xabc5d, hopLimit: 9, src: 'fe80::7', dst: '2001:db8::99', srcPort: 5683, dstPort: 40000, data: Buffer.from('raw') });
    const c = compress(p, [rule]);
    expect(c.bitLength).toBe(1 + 8 + 8 + 8 + 128 + 16 + 24);
    expect(bits(c.bytes, 1, 8)).toBe(0x5d);
    const out = Buffer.from(decompress(c.bytes, [rule]));
    expect(out[0]! >> 4).toBe(6);
    expect(((out[0]! & 15) << 4) | (out[1]! >> 4)).toBe(0); // TC 0x2e not sent: the TV comes back
    expect(hex(out.subarray(2))).toBe(hex(p.subarray(2)));
  });
});

describe('openschc comp-rule-100.json as a whole (compression, ICMPv6, fragmentation and NoCompression rules)', () => {
  // A verbatim copy of openschc/openschc@9ba7d65 examples/configs/comp-rule-100.json.
  const file = JSON.parse(readFileSync(new URL('./openschc-comp-rule-100.json', import.meta.url), 'utf8'));
  const rules = parseRules(file);

  it('parses all seven rules', () => {
    expect(rules.map((r) => `${r.kind}:${r.label}`)).toEqual([
      'compression:5/3', 'compression:6/3', 'fragmentation:1/3', 'fragmentation:2/3', 'fragmentation:3/3', 'fragmentation:4/3', 'no-compression:8/8',
    ]);
  });

  it('RuleID 6 compresses an ICMPv6 echo request to identifier + sequence and rebuilds it with its checksum', () => {
    const ping = echoRequest({ src: '2001:db8::79', dst: '2404:6800:4004:818::7d4', identifier: 0x4242, sequence: 7, data: Buffer.from('ping payload') });
    const c = compress(ping, rules);
    expect(c.rule.label).toBe('6/3');
    expect(c.bitLength).toBe(3 + 2 + 2 + 16 + 16 + 8 * 12);
    expect(bits(c.bytes, 7, 16)).toBe(0x4242);
    expect(hex(decompress(c.bytes, rules))).toBe(hex(ping));
    const out = schcCodec.decode(c.bytes, { device: { schcRules: file } }) as { bytes: Uint8Array; fields: any };
    expect(out.fields.icmpv6).toEqual({ type: 128, code: 0, identifier: 0x4242, sequence: 7 });
    expect(Buffer.from(out.bytes).toString()).toBe('ping payload');
  });

  it('a packet no compression rule matches goes out under NoCompression (RuleID 8, 8 bits)', () => {
    const other = echoRequest({ src: '2001:db8::80', dst: '2404:6800:4004:818::7d4', identifier: 1, sequence: 1, data: new Uint8Array(0) });
    const c = compress(other, rules);
    expect(c.rule.kind).toBe('no-compression');
    expect(hex(decompress(c.bytes, rules))).toBe(hex(other));
    const out = schcCodec.decode(c.bytes, { device: { schcRules: file } }) as { fields: any };
    expect(out.fields.icmpv6).toMatchObject({ type: 128, identifier: 1 });
  });
});
