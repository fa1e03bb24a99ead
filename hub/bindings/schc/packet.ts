// Hand-rolled: IPv6/UDP/ICMPv6/CoAP packets <-> SCHC field values (RFC 8200 header, RFC 768 + RFC 8200 §8.1 checksum,
// RFC 4443, RFC 7252 §3 message format), the two ends of SCHC compression and decompression.
import { DecodeError } from '../../errors.ts';
import { BitWriter, type Value, EMPTY, hexOf, intOf, valueOfBytes, valueOfInt, wholeBytes } from './bits.ts';
import { formatIpv6, type Layer } from './fields.ts';
import { type CompressionRule, type Direction, SchcRuleError } from './rules.ts';

export const slot = (key: string, fp = 1): string => `${key}#${fp}`;

/** dev/app field names resolved to src/dst: uplinks go device -> application (RFC 8724 §10.7). */
export function resolveKey(key: string, direction: Direction): string {
  const m = /^(ipv6|udp)\.(dev|app)(Address|Prefix|Iid|Port)$/.exec(key);
  if (!m) return key;
  const src = (m[2] === 'dev') === (direction === 'up');
  return `${m[1]}.${src ? 'src' : 'dst'}${m[3]}`;
}

const layersOf = new WeakMap<CompressionRule, Set<Layer>>();
export function ruleLayers(rule: CompressionRule): Set<Layer> {
  let layers = layersOf.get(rule);
  if (!layers) layersOf.set(rule, (layers = new Set(rule.fields.map((f) => f.spec.layer))));
  return layers;
}

/** Raw (syntactic, microschc-style) CoAP option fields: rebuilt in rule order rather than from option numbers. */
const RAW_COAP = new Set(['coap.optionDelta', 'coap.optionLength', 'coap.optionDeltaExtended', 'coap.optionLengthExtended', 'coap.optionValue', 'coap.payloadMarker']);
export const isRawCoap = (key: string): boolean => RAW_COAP.has(key);

export interface CoapOption {
  number: number;
  value: Uint8Array;
}

export interface ParsedPacket {
  /** Every field value by slot (`key#fp`), in src/dst terms, whole and split views of addresses both present. */
  fields: Map<string, Value>;
  options: CoapOption[];
  payloadMarker: boolean;
  payload: Uint8Array;
}

const byteError = (message: string, offset: number, field: string): DecodeError =>
  new DecodeError(message, { offset, field, unit: 'byte' }, 'schc-bad-packet');

/** The 0-, 1- or 2-byte extension a CoAP option nibble announces (RFC 7252 §3.1); nibble 15 is reserved. */
function optionExtension(bytes: Uint8Array, pos: number, nibble: number, start: number, field: string): Value {
  if (nibble === 15) throw byteError('CoAP option nibble 15 is reserved', start, field);
  const n = nibble === 13 ? 1 : nibble === 14 ? 2 : 0;
  if (bytes.length < pos + n) throw byteError('CoAP option truncated', bytes.length, field);
  return valueOfBytes(bytes.slice(pos, pos + n));
}

/** Splits a packet into field values for the layers a rule names (IPv6, then UDP, then CoAP; whatever follows is payload). */
export function parsePacket(bytes: Uint8Array, layers: Set<Layer>): ParsedPacket {
  const fields = new Map<string, Value>();
  let pos = 0;
  if (layers.has('ipv6')) {
    if (bytes.length < 40) throw byteError('IPv6 header truncated', bytes.length, 'ipv6');
    fields.set(slot('ipv6.version'), valueOfInt(bytes[0]! >> 4, 4));
    fields.set(slot('ipv6.trafficClass'), valueOfInt(((bytes[0]! & 0x0f) << 4) | (bytes[1]! >> 4), 8));
    fields.set(slot('ipv6.flowLabel'), valueOfInt(((bytes[1]! & 0x0f) << 16) | (bytes[2]! << 8) | bytes[3]!, 20));
    fields.set(slot('ipv6.payloadLength'), valueOfBytes(bytes.slice(4, 6)));
    fields.set(slot('ipv6.nextHeader'), valueOfBytes(bytes.slice(6, 7)));
    fields.set(slot('ipv6.hopLimit'), valueOfBytes(bytes.slice(7, 8)));
    for (const [who, at] of [['src', 8], ['dst', 24]] as const) {
      fields.set(slot(`ipv6.${who}Address`), valueOfBytes(bytes.slice(at, at + 16)));
      fields.set(slot(`ipv6.${who}Prefix`), valueOfBytes(bytes.slice(at, at + 8)));
      fields.set(slot(`ipv6.${who}Iid`), valueOfBytes(bytes.slice(at + 8, at + 16)));
    }
    pos = 40;
  }
  if (layers.has('udp')) {
    if (bytes.length < pos + 8) throw byteError('UDP header truncated', bytes.length, 'udp');
    fields.set(slot('udp.srcPort'), valueOfBytes(bytes.slice(pos, pos + 2)));
    fields.set(slot('udp.dstPort'), valueOfBytes(bytes.slice(pos + 2, pos + 4)));
    fields.set(slot('udp.length'), valueOfBytes(bytes.slice(pos + 4, pos + 6)));
    fields.set(slot('udp.checksum'), valueOfBytes(bytes.slice(pos + 6, pos + 8)));
    pos += 8;
  }
  if (layers.has('icmpv6')) {
    if (bytes.length < pos + 8) throw byteError('ICMPv6 header truncated', bytes.length, 'icmpv6');
    fields.set(slot('icmpv6.type'), valueOfBytes(bytes.slice(pos, pos + 1)));
    fields.set(slot('icmpv6.code'), valueOfBytes(bytes.slice(pos + 1, pos + 2)));
    fields.set(slot('icmpv6.checksum'), valueOfBytes(bytes.slice(pos + 2, pos + 4)));
    fields.set(slot('icmpv6.identifier'), valueOfBytes(bytes.slice(pos + 4, pos + 6)));
    fields.set(slot('icmpv6.sequence'), valueOfBytes(bytes.slice(pos + 6, pos + 8)));
    pos += 8;
  }
  const options: CoapOption[] = [];
  let payloadMarker = false;
  if (layers.has('coap')) {
    if (bytes.length < pos + 4) throw byteError('CoAP header truncated', bytes.length, 'coap');
    const b0 = bytes[pos]!;
    const tkl = b0 & 0x0f;
    fields.set(slot('coap.version'), valueOfInt(b0 >> 6, 2));
    fields.set(slot('coap.type'), valueOfInt((b0 >> 4) & 3, 2));
    fields.set(slot('coap.tokenLength'), valueOfInt(tkl, 4));
    fields.set(slot('coap.code'), valueOfBytes(bytes.slice(pos + 1, pos + 2)));
    fields.set(slot('coap.messageId'), valueOfBytes(bytes.slice(pos + 2, pos + 4)));
    pos += 4;
    if (tkl > 8) throw byteError(`CoAP token length ${tkl} is reserved`, pos - 4, 'coap.tokenLength');
    if (bytes.length < pos + tkl) throw byteError('CoAP token truncated', bytes.length, 'coap.token');
    fields.set(slot('coap.token'), valueOfBytes(bytes.slice(pos, pos + tkl)));
    pos += tkl;
    let number = 0;
    const seen = new Map<number, number>();
    while (pos < bytes.length) {
      const start = pos;
      const head = bytes[pos++]!;
      if (head === 0xff) {
        payloadMarker = true;
        if (pos === bytes.length) throw byteError('CoAP payload marker without payload', start, 'coap.payloadMarker');
        fields.set(slot('coap.payloadMarker'), valueOfInt(0xff, 8));
        break;
      }
      const i = options.length + 1;
      const dExt = optionExtension(bytes, pos, head >> 4, start, 'coap.optionDelta');
      pos += dExt.len / 8;
      const lExt = optionExtension(bytes, pos, head & 0x0f, start, 'coap.optionLength');
      pos += lExt.len / 8;
      const delta = (head >> 4) === 13 ? 13 + intOf(dExt) : (head >> 4) === 14 ? 269 + intOf(dExt) : head >> 4;
      const length = (head & 15) === 13 ? 13 + intOf(lExt) : (head & 15) === 14 ? 269 + intOf(lExt) : head & 15;
      if (bytes.length < pos + length) throw byteError('CoAP option value truncated', bytes.length, 'coap.optionValue');
      number += delta;
      if (number > 65535) throw byteError('CoAP option number above 65535', start, 'coap.optionDelta');
      const value = bytes.slice(pos, pos + length);
      pos += length;
      options.push({ number, value });
      const k = (seen.get(number) ?? 0) + 1;
      seen.set(number, k);
      fields.set(slot(`coap.option.${number}`, k), valueOfBytes(value));
      fields.set(slot('coap.optionDelta', i), valueOfInt(head >> 4, 4));
      fields.set(slot('coap.optionLength', i), valueOfInt(head & 15, 4));
      fields.set(slot('coap.optionDeltaExtended', i), dExt);
      fields.set(slot('coap.optionLengthExtended', i), lExt);
      fields.set(slot('coap.optionValue', i), valueOfBytes(value));
    }
  }
  return { fields, options, payloadMarker, payload: bytes.slice(pos) };
}

/** RFC 7252 §3.1 option header: delta and length nibbles with their 1- or 2-byte extensions. */
function encodeOptions(options: CoapOption[]): Uint8Array {
  const out: number[] = [];
  const nibble = (n: number): [number, number[]] => (n < 13 ? [n, []] : n < 269 ? [13, [n - 13]] : [14, [(n - 269) >> 8, (n - 269) & 0xff]]);
  let last = 0;
  for (const o of options) {
    const [d, dExt] = nibble(o.number - last);
    const [l, lExt] = nibble(o.value.length);
    out.push((d << 4) | l, ...dExt, ...lExt);
    for (const b of o.value) out.push(b);
    last = o.number;
  }
  return Uint8Array.from(out);
}

/** The UDP checksum over the IPv6 pseudo-header (RFC 8200 §8.1); 0 is sent as 0xffff (RFC 768). */
export function udpChecksum(src: Uint8Array, dst: Uint8Array, udp: Uint8Array): number {
  const c = pseudoHeaderChecksum(src, dst, udp, 17);
  return c === 0 ? 0xffff : c;
}

/** The Internet checksum of an upper-layer packet with the IPv6 pseudo-header (RFC 8200 §8.1; ICMPv6: RFC 4443 §2.3). */
export function pseudoHeaderChecksum(src: Uint8Array, dst: Uint8Array, udp: Uint8Array, nextHeader: number): number {
  let sum = 0;
  const add = (b: Uint8Array): void => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  };
  add(src);
  add(dst);
  sum += Math.floor(udp.length / 65536) + (udp.length & 0xffff) + nextHeader;
  add(udp);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

/** Field values decompression produced: by slot (src/dst terms), plus the raw CoAP option fields in rule order. */
export interface Decompressed {
  values: Map<string, Value>;
  rawCoap: Value[];
  computed: Set<string>;
  payload: Uint8Array;
}

function needField(d: Decompressed, rule: CompressionRule, key: string): Value {
  const v = d.values.get(slot(key));
  if (!v) throw new SchcRuleError(`no field descriptor rebuilds ${key} in this direction`, rule.label, key);
  return v;
}

function bytesOf(v: Value, field: string): Uint8Array {
  const b = wholeBytes(v);
  if (!b) throw new DecodeError(`${field} decompressed to ${v.len} bits, not whole bytes`, { field }, 'schc-bad-length');
  return b;
}

/** Rebuilds the packet a rule's field values describe (RFC 8724 §7.2: the decompressor's output). */
export function buildPacket(rule: CompressionRule, d: Decompressed): Uint8Array {
  const layers = ruleLayers(rule);
  const need = (key: string): Value => needField(d, rule, key);

  let upper = d.payload;
  if (layers.has('coap')) {
    const tkl = intOf(need('coap.tokenLength'));
    const token = d.values.get(slot('coap.token')) ?? EMPTY;
    const w: number[] = [(intOf(need('coap.version')) << 6) | (intOf(need('coap.type')) << 4) | tkl, intOf(need('coap.code'))];
    const mid = intOf(need('coap.messageId'));
    w.push(mid >> 8, mid & 0xff);
    let tail: Uint8Array;
    if (d.rawCoap.length > 0) {
      // Syntactic rules carry the option bytes (and the payload marker) themselves, in rule order.
      const w = new BitWriter();
      for (const v of d.rawCoap) w.writeValue(v);
      if (w.bitLength % 8 !== 0) throw new DecodeError('CoAP option fields are not whole bytes', { field: 'coap.options' }, 'schc-bad-length');
      tail = concat(w.toBytes(), d.payload);
    } else {
      const options: CoapOption[] = [];
      for (const f of rule.fields) {
        if (f.spec.option === undefined) continue;
        const v = d.values.get(slot(f.spec.key, f.fp));
        if (v) options.push({ number: f.spec.option, value: bytesOf(v, f.fid) });
      }
      options.sort((a, b) => a.number - b.number);
      tail = concat(encodeOptions(options), d.payload.length ? concat(Uint8Array.of(0xff), d.payload) : d.payload);
    }
    upper = concat(concat(Uint8Array.from(w), bytesOf(token, 'coap.token')), tail);
  }
  const address = (who: 'src' | 'dst'): Uint8Array => {
    const whole = d.values.get(slot(`ipv6.${who}Address`));
    if (whole) return bytesOf(whole, `ipv6.${who}Address`);
    return concat(bytesOf(need(`ipv6.${who}Prefix`), `ipv6.${who}Prefix`), bytesOf(need(`ipv6.${who}Iid`), `ipv6.${who}Iid`));
  };
  const src = layers.has('ipv6') ? address('src') : undefined;
  const dst = layers.has('ipv6') ? address('dst') : undefined;
  if (layers.has('udp')) {
    const udp = new Uint8Array(8 + upper.length);
    const u16 = (at: number, v: number): void => {
      udp[at] = (v >> 8) & 0xff;
      udp[at + 1] = v & 0xff;
    };
    u16(0, intOf(need('udp.srcPort')));
    u16(2, intOf(need('udp.dstPort')));
    u16(4, d.computed.has('udp.length') ? udp.length & 0xffff : intOf(need('udp.length')));
    udp.set(upper, 8);
    if (d.computed.has('udp.checksum')) {
      if (!src || !dst) throw new SchcRuleError('compute-checksum needs the IPv6 addresses in the rule', rule.label, 'udp.checksum');
      u16(6, udpChecksum(src, dst, udp));
    } else u16(6, intOf(need('udp.checksum')));
    upper = udp;
  }
  if (layers.has('icmpv6')) {
    const m = new Uint8Array(8 + upper.length);
    m[0] = intOf(need('icmpv6.type'));
    m[1] = intOf(need('icmpv6.code'));
    const id = intOf(need('icmpv6.identifier'));
    const seq = intOf(need('icmpv6.sequence'));
    m.set([id >> 8, id & 0xff, seq >> 8, seq & 0xff], 4);
    m.set(upper, 8);
    const ck = d.computed.has('icmpv6.checksum') ? pseudoHeaderChecksum(src!, dst!, m, 58) : intOf(need('icmpv6.checksum'));
    m[2] = ck >> 8;
    m[3] = ck & 0xff;
    upper = m;
  }
  if (!layers.has('ipv6')) return upper;
  const h = new Uint8Array(40);
  const tc = intOf(need('ipv6.trafficClass'));
  const fl = intOf(need('ipv6.flowLabel'));
  h[0] = (intOf(need('ipv6.version')) << 4) | (tc >> 4);
  h[1] = ((tc & 15) << 4) | (fl >> 16);
  h[2] = (fl >> 8) & 0xff;
  h[3] = fl & 0xff;
  const plen = d.computed.has('ipv6.payloadLength') ? upper.length & 0xffff : intOf(need('ipv6.payloadLength'));
  h[4] = plen >> 8;
  h[5] = plen & 0xff;
  h[6] = intOf(need('ipv6.nextHeader'));
  h[7] = intOf(need('ipv6.hopLimit'));
  h.set(src!, 8);
  h.set(dst!, 24);
  return concat(h, upper);
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const COAP_TYPES = ['CON', 'NON', 'ACK', 'RST'];
const UTF8 = new TextDecoder();

/** A JSON-friendly summary of a parsed packet for the next codec and the mapfile (payload.schc / fields). */
export function summarize(p: ParsedPacket, layers: Set<Layer>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const f = (key: string): Value | undefined => p.fields.get(slot(key));
  if (layers.has('ipv6')) {
    out.ipv6 = {
      src: formatIpv6(f('ipv6.srcAddress')!.bytes),
      dst: formatIpv6(f('ipv6.dstAddress')!.bytes),
      nextHeader: intOf(f('ipv6.nextHeader')!),
      hopLimit: intOf(f('ipv6.hopLimit')!),
      flowLabel: intOf(f('ipv6.flowLabel')!),
    };
  }
  if (layers.has('udp')) {
    out.udp = { srcPort: intOf(f('udp.srcPort')!), dstPort: intOf(f('udp.dstPort')!), length: intOf(f('udp.length')!), checksum: intOf(f('udp.checksum')!) };
  }
  if (layers.has('icmpv6')) {
    out.icmpv6 = { type: intOf(f('icmpv6.type')!), code: intOf(f('icmpv6.code')!), identifier: intOf(f('icmpv6.identifier')!), sequence: intOf(f('icmpv6.sequence')!) };
  }
  if (layers.has('coap')) {
    const code = intOf(f('coap.code')!);
    const coap: Record<string, unknown> = {
      version: intOf(f('coap.version')!),
      type: COAP_TYPES[intOf(f('coap.type')!)],
      code: `${code >> 5}.${String(code & 31).padStart(2, '0')}`,
      messageId: intOf(f('coap.messageId')!),
      token: hexOf(f('coap.token')!.bytes),
      options: p.options.map((o) => ({ number: o.number, value: hexOf(o.value) })),
    };
    const text = (n: number): string[] => p.options.filter((o) => o.number === n).map((o) => UTF8.decode(o.value));
    const uint = (n: number): number | undefined => {
      const o = p.options.find((x) => x.number === n);
      return o && o.value.length <= 4 ? o.value.reduce((a, b) => a * 256 + b, 0) : undefined;
    };
    if (text(11).length) coap.uriPath = `/${text(11).join('/')}`;
    if (text(15).length) coap.uriQuery = text(15);
    if (text(3).length) coap.uriHost = text(3)[0];
    for (const [n, name] of [[12, 'contentFormat'], [6, 'observe'], [17, 'accept'], [14, 'maxAge'], [7, 'uriPort']] as const) {
      const v = uint(n);
      if (v !== undefined) coap[name] = v;
    }
    out.coap = coap;
  }
  return out;
}
