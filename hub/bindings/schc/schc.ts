// Hand-rolled SCHC compression and decompression (RFC 8724 §7, RFC 8824 for CoAP; RuleID in the LoRaWAN FPort per
// RFC 9011 §5.1, or as the packet's leading bits). Pure functions of (packet, rules): no I/O, no clock.
import { DecodeError } from '../../errors.ts';
import { BitReader, BitWriter, type Value, concatBits, intOf, msbEqual, sliceBits, valuesEqual, valueOfBytes } from './bits.ts';
import { buildPacket, type Decompressed, isRawCoap, parsePacket, type ParsedPacket, resolveKey, ruleLayers, slot } from './packet.ts';
import { applies, type CompressionRule, type Direction, type FieldDescriptor, isParsedRule, parseRules, type Rule, SchcRuleError } from './rules.ts';

/** Largest SCHC packet decompressed (LoRaWAN carries at most 242 bytes; fragments are reassembled before). */
export const MAX_SCHC_PACKET = 4096;

export interface SchcOptions {
  /** Uplink (device -> application, the default) or downlink; picks DI Up/Dw descriptors and dev/app = src/dst. */
  direction?: Direction;
  /** The device's and application's IPv6 IIDs (8 bytes) for the DevIID/AppIID actions. */
  devIid?: Uint8Array;
  appIid?: Uint8Array;
  /** Bits of the packet that are meaningful (default: all its bytes; padding then floors the payload to bytes). */
  bitLength?: number;
}

export interface DecompressResult {
  rule: Rule;
  /** The rebuilt packet (IPv6 + UDP + CoAP, as far as the rule goes). */
  packet: Uint8Array;
  /** Bits the residues took after the RuleID, and where the payload started (bit offset in the SCHC packet). */
  payloadOffset: number;
}

const toRules = (rules: readonly Rule[] | unknown): readonly Rule[] =>
  Array.isArray(rules) && rules.length > 0 && rules.every(isParsedRule) ? (rules as Rule[]) : parseRules(rules);

/** The rule a packet names: by the RuleID hint (the FPort) or by its leading bits. Unknown: DecodeError at bit 0. */
function selectRule(rules: readonly Rule[], reader: BitReader, hint: number | undefined): Rule {
  if (hint !== undefined) {
    const same = rules.filter((r) => r.ruleId === hint);
    const rule = same.find((r) => r.ruleIdLength === 8) ?? same[0];
    if (!rule) throw new DecodeError(`No SCHC rule has RuleID ${hint} (FPort)`, { offset: 0, field: 'RuleID', unit: 'bit' }, 'schc-unknown-rule');
    return rule;
  }
  for (const r of rules) {
    if (r.ruleIdLength > reader.remaining) continue;
    const save = reader.pos;
    const id = reader.readInt(r.ruleIdLength, 'RuleID');
    if (id === r.ruleId) return r;
    reader.pos = save;
  }
  throw new DecodeError('No SCHC rule matches the packet\'s RuleID', { offset: 0, field: 'RuleID', unit: 'bit' }, 'schc-unknown-rule');
}

/** DevIID/AppIID (RFC 8724 §7.5.8): the IID the hub knows for the device/application, else the rule's `equal` TV. */
function iid(option: Uint8Array | undefined, f: FieldDescriptor, at: number): Value {
  if (option?.length === 8) return valueOfBytes(option);
  if (f.mo === 'equal' && f.tv) return f.tv;
  const which = f.cda === 'dev-iid' ? 'Dev' : 'App';
  throw new DecodeError(`${f.fid}: ${which}IID needs the IID (deviceDefinitions.schc${which}Iid)`, { offset: at, field: f.fid, unit: 'bit' }, 'schc-no-iid');
}

/** Reads one descriptor's residue (RFC 8724 §7.5) and returns the field value it rebuilds (undefined: computed later). */
/** The residue's size in bits: FL, or the size prefix of a variable-length field (read), or the CoAP TKL in bytes. */
function sizeOf(f: FieldDescriptor, r: BitReader, values: Map<string, Value>, label: string): number {
  if (f.fl.kind === 'fixed') return f.fl.bits;
  if (f.fl.kind === 'var') return r.readVarLength(f.fid) * f.fl.unit;
  const tkl = values.get(TKL_SLOT);
  if (!tkl) throw new SchcRuleError('FL tkl needs COAP.TKL decompressed before the token', label, f.fid);
  return intOf(tkl) * 8;
}
const TKL_SLOT = slot('coap.tokenLength');

function readField(f: FieldDescriptor, r: BitReader, values: Map<string, Value>, opts: SchcOptions, label: string): Value | undefined {
  const at = r.pos;
  switch (f.cda) {
    case 'not-sent':
      return f.tv!;
    case 'value-sent':
      return r.readValue(sizeOf(f, r, values, label), f.fid);
    case 'mapping-sent': {
      const index = r.readInt(f.indexBits, f.fid);
      const v = f.tvList![index];
      if (!v) throw new DecodeError(`${f.fid}: mapping index ${index} beyond the ${f.tvList!.length} target values`, { offset: at, field: f.fid, unit: 'bit' }, 'schc-bad-mapping-index');
      return v;
    }
    case 'lsb': {
      const msb: Value = { len: f.msb, bytes: topBits(f.tv!, f.msb) };
      let sent: number;
      if (f.fl.kind === 'var') sent = sizeOf(f, r, values, label);
      else {
        sent = sizeOf(f, r, values, label) - f.msb;
        if (sent < 0) throw new DecodeError(`${f.fid}: MSB(${f.msb}) is longer than the field`, { offset: at, field: f.fid, unit: 'bit' }, 'schc-bad-length');
      }
      return concatBits(msb, r.readValue(sent, f.fid));
    }
    case 'compute-length':
    case 'compute-checksum':
      return undefined;
    case 'dev-iid':
      return iid(opts.devIid, f, at);
    case 'app-iid':
      return iid(opts.appIid, f, at);
  }
}

/** The first n bits of a Value, right-aligned in their own bytes. */
function topBits(v: Value, n: number): Uint8Array {
  const w = new BitWriter();
  for (let i = 0; i < n; i++) {
    const p = v.bytes.length * 8 - v.len + i;
    w.writeBit((v.bytes[p >> 3]! >> (7 - (p & 7))) & 1);
  }
  return w.toValue().bytes;
}

/** Decompression with the rule and payload position, for the codec and tests. */
export function decompressDetailed(packet: Uint8Array, rules: readonly Rule[] | unknown, ruleIdHint?: number, opts: SchcOptions = {}): DecompressResult {
  if (packet.length > MAX_SCHC_PACKET) throw new DecodeError(`SCHC packet of ${packet.length} bytes exceeds ${MAX_SCHC_PACKET}`, { offset: 0, field: 'packet', unit: 'bit' }, 'schc-too-large');
  const set = toRules(rules);
  const reader = new BitReader(packet, Math.min(opts.bitLength ?? packet.length * 8, packet.length * 8));
  const rule = selectRule(set, reader, ruleIdHint);
  if (rule.kind === 'fragmentation') {
    throw new DecodeError(`SCHC rule ${rule.label} is a fragmentation rule (${rule.mode}): reassembly is not supported`, { offset: reader.pos, field: 'RuleID', unit: 'bit' }, 'schc-fragmentation-unsupported');
  }
  if (rule.kind === 'no-compression') {
    const offset = reader.pos;
    return { rule, packet: reader.readValue(Math.floor(reader.remaining / 8) * 8, 'packet').bytes, payloadOffset: offset };
  }
  const direction = opts.direction ?? 'up';
  const d: Decompressed = { values: new Map(), rawCoap: [], computed: new Set(), payload: new Uint8Array(0) };
  for (const f of rule.fields) {
    if (!applies(f, direction)) continue;
    const key = resolveKey(f.spec.key, direction);
    const v = readField(f, reader, d.values, opts, rule.label);
    if (v === undefined) d.computed.add(key);
    else {
      d.values.set(slot(key, f.fp), v);
      if (isRawCoap(key)) d.rawCoap.push(v);
    }
  }
  const payloadOffset = reader.pos;
  // The payload is whole bytes; what is left after them is padding to the L2 word (RFC 8724 §7.2).
  d.payload = reader.readValue(Math.floor(reader.remaining / 8) * 8, 'payload').bytes;
  return { rule, packet: buildPacket(rule, d), payloadOffset };
}

/**
 * Decompresses a SCHC packet into the packet it stands for (IPv6 + UDP + CoAP headers rebuilt, lengths and checksum
 * computed where the rule says so). `ruleIdHint` is the RuleID carried outside the packet (the LoRaWAN FPort); without
 * it the RuleID is the packet's leading bits. Throws DecodeError (bit offsets) or SchcRuleError.
 */
export function decompress(packet: Uint8Array, rules: readonly Rule[] | unknown, ruleIdHint?: number, opts: SchcOptions = {}): Uint8Array {
  return decompressDetailed(packet, rules, ruleIdHint, opts).packet;
}

export interface CompressResult {
  rule: Rule;
  /** The SCHC packet, padded with zero bits to whole bytes. */
  bytes: Uint8Array;
  /** Bits before padding. */
  bitLength: number;
}

/** Header fields each layer must carry, so the decompressor can rebuild them. */
function covered(parsed: ParsedPacket, used: Set<string>, layers: Set<string>, raw: boolean): boolean {
  const has = (key: string, fp = 1): boolean => used.has(slot(key, fp));
  const addr = (who: string): boolean => has(`ipv6.${who}Address`) || (has(`ipv6.${who}Prefix`) && has(`ipv6.${who}Iid`));
  if (layers.has('ipv6')) {
    for (const k of ['version', 'trafficClass', 'flowLabel', 'payloadLength', 'nextHeader', 'hopLimit']) if (!has(`ipv6.${k}`)) return false;
    if (!addr('src') || !addr('dst')) return false;
  }
  if (layers.has('udp')) for (const k of ['srcPort', 'dstPort', 'length', 'checksum']) if (!has(`udp.${k}`)) return false;
  if (layers.has('icmpv6')) for (const k of ['type', 'code', 'checksum', 'identifier', 'sequence']) if (!has(`icmpv6.${k}`)) return false;
  if (layers.has('coap')) {
    for (const k of ['version', 'type', 'tokenLength', 'code', 'messageId']) if (!has(`coap.${k}`)) return false;
    if (parsed.fields.get(slot('coap.token'))!.len > 0 && !has('coap.token')) return false;
    if (raw) {
      for (let i = 1; i <= parsed.options.length; i++) {
        for (const k of ['optionDelta', 'optionLength', 'optionValue']) if (!has(`coap.${k}`, i)) return false;
        for (const k of ['optionDeltaExtended', 'optionLengthExtended']) if (parsed.fields.get(slot(`coap.${k}`, i))!.len > 0 && !has(`coap.${k}`, i)) return false;
      }
      if (parsed.payloadMarker && !has('coap.payloadMarker')) return false;
    } else {
      for (const key of parsed.fields.keys()) if (key.startsWith('coap.option.') && !used.has(key)) return false;
    }
  }
  return true;
}

/** One rule's residues for a parsed packet, or undefined when the rule does not match it (RFC 8724 §7.2). */
function tryRule(rule: CompressionRule, packet: Uint8Array, opts: SchcOptions, ruleIdInFPort: boolean): CompressResult | undefined {
  const layers = ruleLayers(rule);
  let parsed: ParsedPacket;
  try {
    parsed = parsePacket(packet, layers);
  } catch (e) {
    if (e instanceof DecodeError) return undefined;
    throw e;
  }
  const direction = opts.direction ?? 'up';
  const raw = rule.fields.some((f) => isRawCoap(f.spec.key));
  const used = new Set<string>();
  const w = new BitWriter();
  if (!ruleIdInFPort) w.writeInt(rule.ruleId, rule.ruleIdLength);
  for (const f of rule.fields) {
    if (!applies(f, direction)) continue;
    const s = slot(resolveKey(f.spec.key, direction), f.fp);
    const v = parsed.fields.get(s);
    if (!v) return undefined;
    used.add(s);
    if (f.fl.kind === 'fixed' && v.len !== f.fl.bits) return undefined;
    let index = -1;
    if (f.mo === 'equal' && !valuesEqual(v, f.tv!)) return undefined;
    if (f.mo === 'msb' && !msbEqual(v, f.tv!, f.msb)) return undefined;
    if (f.mo === 'match-mapping' && (index = f.tvList!.findIndex((t) => valuesEqual(t, v))) < 0) return undefined;
    const unit = f.fl.kind === 'var' ? f.fl.unit : 1;
    switch (f.cda) {
      case 'value-sent':
        if (f.fl.kind === 'var') {
          if (v.len % unit !== 0 || v.len / unit > 65535) return undefined;
          w.writeVarLength(v.len / unit);
        }
        w.writeValue(v);
        break;
      case 'mapping-sent':
        w.writeInt(index, f.indexBits);
        break;
      case 'lsb': {
        const rest = sliceBits(v, f.msb);
        if (f.fl.kind === 'var') {
          if (rest.len % unit !== 0) return undefined;
          w.writeVarLength(rest.len / unit);
        }
        w.writeValue(rest);
        break;
      }
      case 'dev-iid':
        if (opts.devIid && !valuesEqual(v, valueOfBytes(opts.devIid))) return undefined;
        break;
      case 'app-iid':
        if (opts.appIid && !valuesEqual(v, valueOfBytes(opts.appIid))) return undefined;
        break;
      default:
        break;
    }
  }
  if (!covered(parsed, used, layers, raw)) return undefined;
  w.writeBytes(parsed.payload);
  return { rule, bytes: w.toBytes(), bitLength: w.bitLength };
}

/**
 * Compresses a packet with the first rule that matches it (rule order), else the NoCompression rule; without either,
 * DecodeError `schc-no-rule`. `ruleIdInFPort` leaves the RuleID out of the packet (RFC 9011: the FPort carries it).
 * For simulators and tests: the hub itself only decompresses uplinks.
 */
export function compress(packet: Uint8Array, rules: readonly Rule[] | unknown, opts: SchcOptions & { ruleIdInFPort?: boolean } = {}): CompressResult {
  const set = toRules(rules);
  const inFPort = opts.ruleIdInFPort ?? false;
  for (const rule of set) {
    if (rule.kind !== 'compression') continue;
    const r = tryRule(rule, packet, opts, inFPort);
    if (r) return r;
  }
  const none = set.find((r) => r.kind === 'no-compression');
  if (!none) throw new DecodeError('No SCHC rule matches the packet and there is no NoCompression rule', { field: 'rules' }, 'schc-no-rule');
  const w = new BitWriter();
  if (!inFPort) w.writeInt(none.ruleId, none.ruleIdLength);
  w.writeBytes(packet);
  return { rule: none, bytes: w.toBytes(), bitLength: w.bitLength };
}
