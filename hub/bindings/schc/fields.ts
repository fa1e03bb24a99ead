// Hand-rolled: the SCHC field catalogue (IPv6 RFC 8724 §10, UDP, ICMPv6, CoAP RFC 8824): FIDs as openschc and microschc spell
// them, their standard lengths, and IPv6 address text <-> bits.

/** CoAP option numbers by name (RFC 7252 §12.2, 7641 Observe, 7959 Block, 7967 No-Response, 8613 OSCORE). */
export const COAP_OPTIONS: Readonly<Record<string, number>> = {
  'If-Match': 1,
  'Uri-Host': 3,
  ETag: 4,
  'If-None-Match': 5,
  Observe: 6,
  'Uri-Port': 7,
  'Location-Path': 8,
  OSCORE: 9,
  'Uri-Path': 11,
  'Content-Format': 12,
  'Max-Age': 14,
  'Uri-Query': 15,
  'Hop-Limit': 16,
  Accept: 17,
  'Location-Query': 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  'Proxy-Uri': 35,
  'Proxy-Scheme': 39,
  Size1: 60,
  'No-Response': 258,
};

export type Layer = 'ipv6' | 'udp' | 'icmpv6' | 'coap';

/** A header field, by canonical key. `bits` is its wire width when fixed; absent: variable (token, option values). */
export interface FieldSpec {
  readonly key: string;
  readonly layer: Layer;
  readonly bits?: number;
  /** How a string TV is read: IPv6 address text (whole, prefix = first 64 bits, IID = last 64 bits) or bytes. */
  readonly text?: 'address' | 'prefix' | 'iid';
  /** CoAP option number for coap.option.<n> keys. */
  readonly option?: number;
}

const SPECS: FieldSpec[] = [
  { key: 'ipv6.version', layer: 'ipv6', bits: 4 },
  { key: 'ipv6.trafficClass', layer: 'ipv6', bits: 8 },
  { key: 'ipv6.flowLabel', layer: 'ipv6', bits: 20 },
  { key: 'ipv6.payloadLength', layer: 'ipv6', bits: 16 },
  { key: 'ipv6.nextHeader', layer: 'ipv6', bits: 8 },
  { key: 'ipv6.hopLimit', layer: 'ipv6', bits: 8 },
  // Addresses either whole or as prefix + IID; dev/app name them by role and are resolved to src/dst by direction.
  ...['src', 'dst', 'dev', 'app'].flatMap((who): FieldSpec[] => [
    { key: `ipv6.${who}Address`, layer: 'ipv6', bits: 128, text: 'address' },
    { key: `ipv6.${who}Prefix`, layer: 'ipv6', bits: 64, text: 'prefix' },
    { key: `ipv6.${who}Iid`, layer: 'ipv6', bits: 64, text: 'iid' },
  ]),
  { key: 'udp.srcPort', layer: 'udp', bits: 16 },
  { key: 'udp.dstPort', layer: 'udp', bits: 16 },
  { key: 'udp.devPort', layer: 'udp', bits: 16 },
  { key: 'udp.appPort', layer: 'udp', bits: 16 },
  { key: 'udp.length', layer: 'udp', bits: 16 },
  { key: 'udp.checksum', layer: 'udp', bits: 16 },
  // ICMPv6 (RFC 4443): type, code, checksum, then the 32-bit message body head (identifier + sequence for echo).
  { key: 'icmpv6.type', layer: 'icmpv6', bits: 8 },
  { key: 'icmpv6.code', layer: 'icmpv6', bits: 8 },
  { key: 'icmpv6.checksum', layer: 'icmpv6', bits: 16 },
  { key: 'icmpv6.identifier', layer: 'icmpv6', bits: 16 },
  { key: 'icmpv6.sequence', layer: 'icmpv6', bits: 16 },
  { key: 'coap.version', layer: 'coap', bits: 2 },
  { key: 'coap.type', layer: 'coap', bits: 2 },
  { key: 'coap.tokenLength', layer: 'coap', bits: 4 },
  { key: 'coap.code', layer: 'coap', bits: 8 },
  { key: 'coap.messageId', layer: 'coap', bits: 16 },
  { key: 'coap.token', layer: 'coap' },
  // Syntactic option fields (microschc): the option's delta and length nibbles, their extensions and the value.
  { key: 'coap.optionDelta', layer: 'coap', bits: 4 },
  { key: 'coap.optionLength', layer: 'coap', bits: 4 },
  { key: 'coap.optionDeltaExtended', layer: 'coap' },
  { key: 'coap.optionLengthExtended', layer: 'coap' },
  { key: 'coap.optionValue', layer: 'coap' },
  { key: 'coap.payloadMarker', layer: 'coap', bits: 8 },
];

const BY_KEY = new Map(SPECS.map((s) => [s.key, s]));

/** FID spelling -> canonical key, compared without case and punctuation ("IPV6.HOP_LMT" = "ipv6hoplmt"). */
const ALIASES = new Map<string, string>();
const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');
function alias(key: string, ...names: string[]): void {
  for (const n of [key, ...names]) ALIASES.set(norm(n), key);
}
alias('ipv6.version', 'IPV6.VER', 'IPv6:Version');
alias('ipv6.trafficClass', 'IPV6.TC', 'IPv6:Traffic Class');
alias('ipv6.flowLabel', 'IPV6.FL', 'IPv6:Flow Label');
alias('ipv6.payloadLength', 'IPV6.LEN', 'IPv6:Payload Length');
alias('ipv6.nextHeader', 'IPV6.NXT', 'IPv6:Next Header');
alias('ipv6.hopLimit', 'IPV6.HOP_LMT', 'IPv6:Hop Limit');
alias('ipv6.srcAddress', 'IPv6:Source Address', 'IPV6.SRC_ADDR', 'ipv6.src');
alias('ipv6.dstAddress', 'IPv6:Destination Address', 'IPV6.DST_ADDR', 'ipv6.dst');
alias('ipv6.devAddress', 'IPV6.DEV_ADDR');
alias('ipv6.appAddress', 'IPV6.APP_ADDR');
for (const who of ['src', 'dst', 'dev', 'app']) {
  alias(`ipv6.${who}Prefix`, `IPV6.${who}_PREFIX`);
  alias(`ipv6.${who}Iid`, `IPV6.${who}_IID`);
}
alias('udp.srcPort', 'UDP:Source Port', 'UDP.SRC_PORT');
alias('udp.dstPort', 'UDP:Destination Port', 'UDP.DST_PORT');
alias('udp.devPort', 'UDP.DEV_PORT');
alias('udp.appPort', 'UDP.APP_PORT');
alias('udp.length', 'UDP.LEN', 'UDP:Length');
alias('udp.checksum', 'UDP.CKSUM', 'UDP:Checksum');
alias('icmpv6.type', 'ICMPV6.TYPE');
alias('icmpv6.code', 'ICMPV6.CODE');
alias('icmpv6.checksum', 'ICMPV6.CKSUM');
alias('icmpv6.identifier', 'ICMPV6.IDENT');
alias('icmpv6.sequence', 'ICMPV6.SEQNO', 'ICMPV6.SEQNB');
alias('coap.version', 'COAP.VER', 'CoAP:Version');
alias('coap.type', 'COAP.TYPE', 'CoAP:Type');
alias('coap.tokenLength', 'COAP.TKL', 'CoAP:Token Length');
alias('coap.code', 'COAP.CODE', 'CoAP:Code');
alias('coap.messageId', 'COAP.MID', 'CoAP:Message ID');
alias('coap.token', 'COAP.TOKEN', 'CoAP:Token');
alias('coap.optionDelta', 'CoAP:Option Delta');
alias('coap.optionLength', 'CoAP:Option Length');
alias('coap.optionDeltaExtended', 'CoAP:Option Delta Extended');
alias('coap.optionLengthExtended', 'CoAP:Option Length Extended');
alias('coap.optionValue', 'CoAP:Option Value');
alias('coap.payloadMarker', 'CoAP:Payload Marker', 'COAP.PAYLOAD_MARKER');

/** The field a FID names, or undefined (the rule parser reports it). `COAP.<Option-Name>` and `COAP.Option.<n>` name options. */
export function fieldSpec(fid: string): FieldSpec | undefined {
  const n = norm(fid);
  const key = ALIASES.get(n);
  if (key) return BY_KEY.get(key);
  const named = OPTION_ALIASES.get(n);
  if (named !== undefined) return optionSpec(named);
  const m = /^coap(?:option|opt)?(\d{1,5})$/.exec(n);
  if (m && Number(m[1]) <= 65535) return optionSpec(Number(m[1]));
  return undefined;
}

/** `COAP.Uri-Path`, `CoAP:Option Uri-Path`, `COAP.OPT.Uri-Path` -> 11. */
const OPTION_ALIASES = new Map<string, number>();
for (const [name, num] of Object.entries(COAP_OPTIONS)) {
  for (const prefix of ['coap', 'coapoption', 'coapopt']) OPTION_ALIASES.set(prefix + norm(name), num);
}

const OPTION_SPECS = new Map<number, FieldSpec>();
export function optionSpec(option: number): FieldSpec {
  let spec = OPTION_SPECS.get(option);
  if (!spec) OPTION_SPECS.set(option, (spec = { key: `coap.option.${option}`, layer: 'coap', option }));
  return spec;
}

/** The option name of a number, for decoded fields (`Uri-Path` -> `uriPath`). */
export function optionName(option: number): string | undefined {
  for (const [name, num] of Object.entries(COAP_OPTIONS)) if (num === option) return name;
  return undefined;
}

/** IPv6 address text (RFC 4291 §2.2, no embedded IPv4; an optional `/len` suffix is ignored) -> 16 bytes, or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const t = text.trim().replace(/\/\d{1,3}$/, '');
  if (t.length > 45 || !/^[0-9a-fA-F:]+$/.test(t)) return undefined;
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = all[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  return out;
}

/** 16 bytes -> RFC 5952 text (lower case, the longest run of two or more zero groups as `::`). */
export function formatIpv6(bytes: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
