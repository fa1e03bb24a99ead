// Test rules and packets: openschc's comp-rule-100.json RuleID 5, microschc's compute rule and its captured Leshan packet,
// and an independent IPv6/UDP/CoAP packet writer (its own checksum code) to build packets the rules compress.

/** openschc/openschc@9ba7d65 examples/configs/comp-rule-100.json, first rule, verbatim. */
export const openschcRule5 = {
  RuleID: 5,
  RuleIDLength: 3,
  Compression: [
    { FID: 'IPV6.VER', TV: 6, MO: 'equal', CDA: 'not-sent' },
    { FID: 'IPV6.TC', TV: 1, MO: 'equal', CDA: 'not-sent' },
    { FID: 'IPV6.FL', TV: 144470, MO: 'ignore', CDA: 'not-sent' },
    { FID: 'IPV6.LEN', MO: 'ignore', CDA: 'compute-length' },
    { FID: 'IPV6.NXT', TV: 17, MO: 'ignore', CDA: 'value-sent' },
    { FID: 'IPV6.HOP_LMT', TV: 255, MO: 'ignore', CDA: 'not-sent' },
    { FID: 'IPV6.DEV_PREFIX', TV: ['2001:db8::/64', 'fe80::/64', '2001:0420:c0dc:1002::/64'], MO: 'match-mapping', CDA: 'mapping-sent', SB: 1 },
    { FID: 'IPV6.DEV_IID', TV: '::1', MO: 'equal', CDA: 'DEVIID' },
    { FID: 'IPV6.APP_PREFIX', TV: ['2001:db8:1::/64', 'fe80::/64', '2404:6800:4004:818::/64'], MO: 'match-mapping', CDA: 'mapping-sent', SB: 2 },
    { FID: 'IPV6.APP_IID', TV: 2, MO: 'equal', CDA: 'not-sent' },
    { FID: 'UDP.DEV_PORT', TV: 5680, MO: 'MSB', 'MO.VAL': 12, CDA: 'LSB' },
    { FID: 'UDP.APP_PORT', TV: 5680, MO: 'MSB', 'MO.VAL': 12, CDA: 'LSB' },
    { FID: 'UDP.LEN', TV: 0, MO: 'ignore', CDA: 'compute-length' },
    { FID: 'UDP.CKSUM', TV: 0, MO: 'ignore', CDA: 'compute-checksum' },
    { FID: 'COAP.VER', TV: 1, MO: 'equal', CDA: 'not-sent' },
    { FID: 'COAP.TYPE', MO: 'ignore', CDA: 'value-sent' },
    { FID: 'COAP.TKL', MO: 'ignore', CDA: 'value-sent' },
    { FID: 'COAP.CODE', MO: 'ignore', CDA: 'value-sent' },
    { FID: 'COAP.MID', MO: 'ignore', CDA: 'value-sent' },
    { FID: 'COAP.TOKEN', MO: 'ignore', CDA: 'value-sent' },
    { FID: 'COAP.Uri-Path', FL: 'var', FP: 1, DI: 'UP', TV: 'foo', MO: 'equal', CDA: 'not-sent' },
    { FID: 'COAP.Uri-Path', FL: 'var', FP: 2, DI: 'UP', TV: ['bar', 'toto'], MO: 'match-mapping', CDA: 'mapping-sent' },
    { FID: 'COAP.Uri-Path', FL: 'var', FP: 3, DI: 'UP', MO: 'ignore', CDA: 'value-sent' },
    { FID: 'COAP.Uri-Path', FL: 'var', FP: 4, DI: 'UP', MO: 'ignore', CDA: 'value-sent' },
    { FID: 'COAP.Uri-Query', FL: 'var', FP: 1, DI: 'UP', TV: 'k=', MO: 'MSB', 'MO.VAL': 16, CDA: 'LSB' },
    { FID: 'COAP.Content-Format', DI: 'DW', TV: 30, MO: 'equal', CDA: 'not-sent' },
  ],
};

/**
 * quentinlampin/microschc@97c1de1 tests/decompressor/test_decompressor.py::test_decompression_compute: a packet captured
 * from Leshan (CoAP NON 2.05, Observe + Content-Format 11542 TLV) and its rule, with compute-length/compute-checksum.
 */
export const leshanPacketHex =
  '6004bc560020114020010db8000a0000000000000000000320010db8000a00000000000000000020' +
  'e4c1163300207804' +
  '52455415b72e6122622d16ffe8164408404759999999999a';
const microschcField = (FID: string, FL: number | string, DI: string, TV: unknown, MO: string, CDA: string) => ({ FID, FL, DI, TV, MO, CDA });
export const microschcComputeRule = {
  RuleID: 3,
  RuleIDLength: 2,
  Compression: [
    microschcField('IPv6:Version', 4, 'Bi', 6, 'equal', 'not-sent'),
    microschcField('IPv6:Traffic Class', 8, 'Bi', 0, 'equal', 'not-sent'),
    microschcField('IPv6:Flow Label', 20, 'Up', 0x4bc56, 'equal', 'not-sent'),
    microschcField('IPv6:Payload Length', 16, 'Bi', null, 'ignore', 'compute-length'),
    microschcField('IPv6:Next Header', 8, 'Bi', 17, 'equal', 'not-sent'),
    microschcField('IPv6:Hop Limit', 8, 'Bi', 64, 'equal', 'not-sent'),
    { FID: 'IPv6:Source Address', FL: 128, DI: 'Up', TV: '2001:db8:a::', MO: 'MSB(120)', CDA: 'LSB' },
    { FID: 'IPv6:Destination Address', FL: 128, DI: 'Bi', TV: ['2001:db8:a::20'], MO: 'match-mapping', CDA: 'mapping-sent', CDAa: 2 },
    microschcField('UDP:Source Port', 16, 'Up', 0xe4c1, 'equal', 'not-sent'),
    microschcField('UDP:Destination Port', 16, 'Up', 0x1633, 'equal', 'not-sent'),
    microschcField('UDP:Length', 16, 'Bi', null, 'ignore', 'compute-length'),
    microschcField('UDP:Checksum', 16, 'Bi', null, 'ignore', 'compute-checksum'),
    microschcField('CoAP:Version', 2, 'Bi', 1, 'equal', 'not-sent'),
    microschcField('CoAP:Type', 2, 'Bi', 1, 'equal', 'not-sent'),
    microschcField('CoAP:Token Length', 4, 'Bi', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Code', 8, 'Bi', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Message ID', 16, 'Bi', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Token', 'var-bits', 'Bi', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Option Delta', 4, 'Up', 6, 'equal', 'not-sent'),
    microschcField('CoAP:Option Length', 4, 'Up', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Option Value', 'var-bytes', 'Up', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Option Delta', 4, 'Up', 6, 'equal', 'not-sent'),
    microschcField('CoAP:Option Length', 4, 'Up', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Option Value', 'var-bytes', 'Up', null, 'ignore', 'value-sent'),
    microschcField('CoAP:Payload Marker', 8, 'Up', 0xff, 'equal', 'not-sent'),
  ],
};

export interface TestPacket {
  tc?: number;
  flowLabel?: number;
  hopLimit?: number;
  nextHeader?: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  coap?: { type: number; code: number; mid: number; token: string; options: Array<[number, string | Uint8Array | number]>; payload?: string | Uint8Array };
  /** Raw UDP payload when there is no CoAP message. */
  data?: Uint8Array;
}

function addr(text: string): Buffer {
  // Only the forms the tests use: full groups or one '::'.
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
}

const asBytes = (v: string | Uint8Array | number): Buffer => {
  if (typeof v === 'number') {
    const out: number[] = [];
    for (let x = v; x > 0; x = Math.floor(x / 256)) out.unshift(x & 0xff);
    return Buffer.from(out);
  }
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
};

/** RFC 7252 §3 message bytes. */
export function coapBytes(c: NonNullable<TestPacket['coap']>): Buffer {
  const token = Buffer.from(c.token, 'hex');
  const parts: Buffer[] = [Buffer.from([0x40 | (c.type << 4) | token.length, c.code, c.mid >> 8, c.mid & 0xff]), token];
  let last = 0;
  const ext = (n: number): [number, number[]] => (n < 13 ? [n, []] : n < 269 ? [13, [n - 13]] : [14, [(n - 269) >> 8, (n - 269) & 0xff]]);
  for (const [num, v] of [...c.options].sort((a, b) => a[0] - b[0])) {
    const value = asBytes(v);
    const [d, de] = ext(num - last);
    const [l, le] = ext(value.length);
    parts.push(Buffer.from([(d << 4) | l, ...de, ...le]), value);
    last = num;
  }
  const payload = c.payload === undefined ? Buffer.alloc(0) : asBytes(c.payload);
  if (payload.length) parts.push(Buffer.from([0xff]), payload);
  return Buffer.concat(parts);
}

/** An IPv6 + UDP (+ CoAP) packet with correct lengths and checksum. */
export function packet(p: TestPacket): Buffer {
  const body = p.coap ? coapBytes(p.coap) : Buffer.from(p.data ?? []);
  const udp = Buffer.alloc(8 + body.length);
  udp.writeUInt16BE(p.srcPort, 0);
  udp.writeUInt16BE(p.dstPort, 2);
  udp.writeUInt16BE(udp.length, 4);
  body.copy(udp, 8);
  const src = addr(p.src);
  const dst = addr(p.dst);
  const pseudo = Buffer.concat([src, dst, Buffer.from([0, 0, udp.length >> 8, udp.length & 0xff, 0, 0, 0, 17]), udp, Buffer.alloc(udp.length % 2)]);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += pseudo.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  udp.writeUInt16BE(~sum & 0xffff || 0xffff, 6);
  const h = Buffer.alloc(40);
  const tc = p.tc ?? 0;
  const fl = p.flowLabel ?? 0;
  h.writeUInt32BE(((6 << 28) | (tc << 20) | fl) >>> 0, 0);
  h.writeUInt16BE(udp.length, 4);
  h[6] = p.nextHeader ?? 17;
  h[7] = p.hopLimit ?? 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, udp]);
}

/** An IPv6 + ICMPv6 echo request (RFC 4443 §4.1) with its checksum. */
export function echoRequest(p: { src: string; dst: string; hopLimit?: number; identifier: number; sequence: number; data: Uint8Array }): Buffer {
  const m = Buffer.alloc(8 + p.data.length);
  m[0] = 128;
  m.writeUInt16BE(p.identifier, 4);
  m.writeUInt16BE(p.sequence, 6);
  Buffer.from(p.data).copy(m, 8);
  const src = addr(p.src);
  const dst = addr(p.dst);
  const pseudo = Buffer.concat([src, dst, Buffer.from([0, 0, m.length >> 8, m.length & 0xff, 0, 0, 0, 58]), m, Buffer.alloc(m.length % 2)]);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += pseudo.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  m.writeUInt16BE(~sum & 0xffff, 2);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(6 << 28, 0);
  h.writeUInt16BE(m.length, 4);
  h[6] = 58;
  h[7] = p.hopLimit ?? 255;
  src.copy(h, 8);
  dst.copy(h, 24);
  return Buffer.concat([h, m]);
}
