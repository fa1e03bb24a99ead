// Hand-rolled: parses and validates openschc-style SCHC rule JSON (RFC 8724 §7, RFC 8824) into typed rules.
import { DecodeError } from '../../errors.ts';
import { type Value, valueOfBytes, valueOfInt } from './bits.ts';
import { type FieldSpec, fieldSpec, parseIpv6 } from './fields.ts';

/** A rule the TD gives is malformed: names the rule and the field (FID or key) at fault. 422 `schc-invalid-rule`. */
export class SchcRuleError extends DecodeError {
  override name = 'SchcRuleError';
  constructor(message: string, rule: string, field?: string) {
    super(`SCHC rule ${rule}: ${message}`, { field, extensions: { rule } }, 'schc-invalid-rule');
  }
}

/** Field length: fixed bits, variable with its size sent in units of 1 or 8 bits (RFC 8724 §7.4.2), or CoAP TKL bytes. */
export type FieldLength = { kind: 'fixed'; bits: number } | { kind: 'var'; unit: 1 | 8 } | { kind: 'tkl' };
export type Direction = 'up' | 'down';
export type MatchingOperator = 'equal' | 'ignore' | 'msb' | 'match-mapping';
export type Action = 'not-sent' | 'value-sent' | 'mapping-sent' | 'lsb' | 'compute-length' | 'compute-checksum' | 'dev-iid' | 'app-iid';

export interface FieldDescriptor {
  readonly fid: string;
  readonly spec: FieldSpec;
  readonly fl: FieldLength;
  /** Position among repeated fields, 1-based (FP). */
  readonly fp: number;
  readonly di: 'bi' | Direction;
  readonly tv?: Value;
  readonly tvList?: readonly Value[];
  readonly mo: MatchingOperator;
  /** MSB(x): how many leading bits the TV fixes. */
  readonly msb: number;
  readonly cda: Action;
  /** Bits of a mapping-sent index. */
  readonly indexBits: number;
}

interface RuleBase {
  readonly ruleId: number;
  readonly ruleIdLength: number;
  /** `${ruleId}/${ruleIdLength}`, as errors name it. */
  readonly label: string;
}
export interface CompressionRule extends RuleBase {
  readonly kind: 'compression';
  readonly fields: readonly FieldDescriptor[];
}
export interface NoCompressionRule extends RuleBase {
  readonly kind: 'no-compression';
}
/** Recognised so a fragment gets a precise error; reassembly (RFC 8724 §8) is not implemented. */
export interface FragmentationRule extends RuleBase {
  readonly kind: 'fragmentation';
  readonly mode: string;
}
export type Rule = CompressionRule | NoCompressionRule | FragmentationRule;

export const MAX_RULES = 256;
const MAX_FIELDS = 256;
const MAX_MAPPING = 4096;
const MAX_TV_CHARS = 2048;
/** Bounds over a whole rule set (a TD is at most 1 MB; real sets have tens of rules of tens of fields). */
const MAX_TOTAL_FIELDS = 4096;
const MAX_TOTAL_MAPPING = 16384;
const UTF8 = new TextEncoder();

const MOS: Record<string, MatchingOperator> = { equal: 'equal', ignore: 'ignore', msb: 'msb', matchmapping: 'match-mapping' };
const CDAS: Record<string, Action> = {
  notsent: 'not-sent',
  valuesent: 'value-sent',
  mappingsent: 'mapping-sent',
  lsb: 'lsb',
  computelength: 'compute-length',
  computelen: 'compute-length',
  computechecksum: 'compute-checksum',
  computecksum: 'compute-checksum',
  deviid: 'dev-iid',
  appiid: 'app-iid',
};
const squash = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (o: Record<string, unknown>, ...names: string[]): unknown => {
  for (const n of names) if (Object.hasOwn(o, n)) return o[n];
  return undefined;
};
const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;

/** Rules parseRules made (so compress/decompress take them as they are, and re-validate anything else). */
const PARSED = new WeakSet<object>();
export const isParsedRule = (r: unknown): r is Rule => typeof r === 'object' && r !== null && PARSED.has(r);

/**
 * Parses a device's rule set: an array of rules, or an openschc context `{ "SoR": [...] }` / `{ "rules": [...] }`.
 * Throws SchcRuleError naming the rule and field; RuleIDs must not be prefixes of one another (RFC 8724 §7.1).
 */
export function parseRules(input: unknown): Rule[] {
  const list = Array.isArray(input) ? input : isRecord(input) ? get(input, 'SoR', 'sor', 'rules', 'Rules') : undefined;
  if (!Array.isArray(list)) throw new SchcRuleError('schcRules must be an array of rules (or { "SoR": [...] })', '(set)');
  if (list.length > MAX_RULES) throw new SchcRuleError(`more than ${MAX_RULES} rules`, '(set)');
  let fields = 0;
  let mapping = 0;
  for (const r of list) {
    const c = isRecord(r) ? get(r, 'Compression', 'compression') : undefined;
    if (!Array.isArray(c)) continue;
    fields += c.length;
    for (const f of c) if (isRecord(f) && Array.isArray(f.TV)) mapping += f.TV.length;
  }
  if (fields > MAX_TOTAL_FIELDS) throw new SchcRuleError(`more than ${MAX_TOTAL_FIELDS} field descriptors in the rule set`, '(set)');
  if (mapping > MAX_TOTAL_MAPPING) throw new SchcRuleError(`more than ${MAX_TOTAL_MAPPING} target values in the rule set's mappings`, '(set)');
  const rules = list.map((r, i) => parseRule(r, i));
  for (const r of rules) PARSED.add(r);
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; j++) {
      const [a, b] = rules[i]!.ruleIdLength <= rules[j]!.ruleIdLength ? [rules[i]!, rules[j]!] : [rules[j]!, rules[i]!];
      if (Math.floor(b.ruleId / 2 ** (b.ruleIdLength - a.ruleIdLength)) === a.ruleId) {
        throw new SchcRuleError(`RuleID overlaps rule ${a.label} (one is a prefix of the other)`, b.label, 'RuleID');
      }
    }
  }
  return rules;
}

function parseRule(raw: unknown, index: number): Rule {
  if (!isRecord(raw)) throw new SchcRuleError('a rule must be an object', `#${index}`);
  const ruleId = get(raw, 'RuleID', 'ruleID', 'ruleId', 'RuleIDValue');
  const ruleIdLength = get(raw, 'RuleIDLength', 'ruleIDLength', 'ruleIdLength', 'ruleLength');
  if (!isUint(ruleIdLength, 32) || ruleIdLength < 1) throw new SchcRuleError('RuleIDLength must be an integer 1..32', `#${index}`, 'RuleIDLength');
  if (!isUint(ruleId, 2 ** ruleIdLength - 1)) throw new SchcRuleError(`RuleID must be an integer that fits ${ruleIdLength} bits`, `#${index}`, 'RuleID');
  const label = `${ruleId}/${ruleIdLength}`;
  const base = { ruleId, ruleIdLength, label };
  const compression = get(raw, 'Compression', 'compression');
  const fragmentation = get(raw, 'Fragmentation', 'fragmentation');
  const noCompression = get(raw, 'NoCompression', 'noCompression', 'no-compression');
  const kinds = [compression, fragmentation, noCompression].filter((k) => k !== undefined).length;
  if (kinds !== 1) throw new SchcRuleError('needs exactly one of Compression, NoCompression, Fragmentation', label);
  if (noCompression !== undefined) return { kind: 'no-compression', ...base };
  if (fragmentation !== undefined) {
    const mode = isRecord(fragmentation) ? get(fragmentation, 'FRMode', 'mode') : undefined;
    if (typeof mode !== 'string' || !['noack', 'ackalways', 'ackonerror'].includes(squash(mode))) {
      throw new SchcRuleError('Fragmentation.FRMode must be NoAck, AckAlways or AckOnError', label, 'FRMode');
    }
    return { kind: 'fragmentation', ...base, mode };
  }
  if (!Array.isArray(compression)) throw new SchcRuleError('Compression must be an array of field descriptors', label, 'Compression');
  if (compression.length > MAX_FIELDS) throw new SchcRuleError(`more than ${MAX_FIELDS} field descriptors`, label, 'Compression');
  const fields = numberRepeats(compression.map((f) => parseField(f, label)), label);
  const layers = new Set(fields.map((f) => f.spec.layer));
  if (layers.has('udp') && layers.has('icmpv6')) throw new SchcRuleError('a rule describes UDP or ICMPv6, not both', label, 'ICMPV6');
  if (layers.has('icmpv6') && layers.has('coap')) throw new SchcRuleError('CoAP runs over UDP, not ICMPv6', label, 'COAP');
  if (layers.has('ipv6') && layers.has('coap') && !layers.has('udp')) throw new SchcRuleError('CoAP over IPv6 needs the UDP fields', label, 'UDP');
  if ((layers.has('udp') || layers.has('icmpv6')) && !layers.has('ipv6') && fields.some((f) => f.cda === 'compute-checksum')) {
    throw new SchcRuleError('compute-checksum needs the IPv6 fields (pseudo-header)', label, 'IPV6');
  }
  return { kind: 'compression', ...base, fields };
}

/**
 * FP for repeated fields: a descriptor without FP that repeats a field (e.g. microschc's positional option fields)
 * takes the next position; two descriptors with one explicit (field, FP) for one direction are an error.
 */
function numberRepeats(fields: Array<FieldDescriptor & { fpExplicit: boolean }>, label: string): FieldDescriptor[] {
  // Per field and direction: the positions taken and the highest one (so numbering is linear, not a search).
  const taken = new Map<string, { up: Set<number>; down: Set<number>; max: number }>();
  return fields.map(({ fpExplicit, ...f }) => {
    let t = taken.get(f.spec.key);
    if (!t) taken.set(f.spec.key, (t = { up: new Set(), down: new Set(), max: 0 }));
    const dirs = f.di === 'bi' ? [t.up, t.down] : [f.di === 'up' ? t.up : t.down];
    let fp = f.fp;
    if (dirs.some((d) => d.has(fp))) {
      if (fpExplicit) throw new SchcRuleError(`${f.fid} at FP ${fp} is described twice`, label, f.fid);
      fp = t.max + 1;
    }
    for (const d of dirs) d.add(fp);
    t.max = Math.max(t.max, fp);
    return { ...f, fp };
  });
}

function parseLength(raw: unknown, spec: FieldSpec, label: string, fid: string): FieldLength {
  if (raw === undefined || raw === null) {
    if (spec.bits !== undefined) return { kind: 'fixed', bits: spec.bits };
    if (spec.key === 'coap.token') return { kind: 'tkl' };
    if (spec.key.endsWith('Extended')) return { kind: 'var', unit: 1 };
    return { kind: 'var', unit: 8 };
  }
  if (typeof raw === 'number') {
    if (!isUint(raw, 65535) || raw === 0) throw new SchcRuleError('FL must be a positive integer of bits', label, fid);
    if (spec.bits !== undefined && raw !== spec.bits) throw new SchcRuleError(`FL is ${raw}, the field has ${spec.bits} bits`, label, fid);
    if (spec.option !== undefined && raw % 8 !== 0) throw new SchcRuleError('FL of a CoAP option must be whole bytes', label, fid);
    return { kind: 'fixed', bits: raw };
  }
  if (typeof raw === 'string') {
    const s = squash(raw);
    if (spec.bits !== undefined) throw new SchcRuleError(`FL '${raw}' on a fixed ${spec.bits}-bit field`, label, fid);
    if (s === 'tkl' || s === 'tokenlength') {
      if (spec.key !== 'coap.token') throw new SchcRuleError("FL 'tkl' applies to the CoAP token only", label, fid);
      return { kind: 'tkl' };
    }
    // openschc: "var" sends the length in bytes; microschc VAR_BITS sends it in bits.
    if (s === 'var' || s === 'varbytes') return { kind: 'var', unit: 8 };
    if (s === 'varbits') return { kind: 'var', unit: 1 };
  }
  throw new SchcRuleError('FL must be a number of bits or var, var-bits, var-bytes, tkl', label, fid);
}

/** A target value: a number (in FL bits), `0x` hex, IPv6 text for address fields, else UTF-8 text (openschc). */
function parseTarget(raw: unknown, spec: FieldSpec, fl: FieldLength, label: string, fid: string): Value {
  const fixed = fl.kind === 'fixed' ? fl.bits : undefined;
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw) || raw < 0) throw new SchcRuleError('TV must be a non-negative integer', label, fid);
    if (fixed !== undefined) {
      if (fixed < 53 && raw >= 2 ** fixed) throw new SchcRuleError(`TV ${raw} does not fit ${fixed} bits`, label, fid);
      return valueOfInt(raw, fixed);
    }
    // Variable-length integers (CoAP uint options) take their minimal byte length: 0 is empty (RFC 7252 §3.2).
    let bytes = 0;
    for (let v = raw; v > 0; v = Math.floor(v / 256)) bytes++;
    return valueOfInt(raw, bytes * 8);
  }
  if (typeof raw !== 'string') throw new SchcRuleError('TV must be a number or a string', label, fid);
  if (raw.length > MAX_TV_CHARS) throw new SchcRuleError('TV is too long', label, fid);
  let bytes: Uint8Array;
  if (spec.text && !/^0x/i.test(raw)) {
    const addr = parseIpv6(raw);
    if (!addr) throw new SchcRuleError(`TV '${raw}' is not an IPv6 address`, label, fid);
    bytes = spec.text === 'prefix' ? addr.subarray(0, 8) : spec.text === 'iid' ? addr.subarray(8) : addr;
  } else if (/^0x/i.test(raw)) {
    const hex = raw.slice(2);
    if (!/^[0-9a-fA-F]*$/.test(hex)) throw new SchcRuleError(`TV '${raw}' is not hex`, label, fid);
    if (fixed !== undefined) {
      const n = BigInt(raw);
      if (n >> BigInt(fixed) !== 0n) throw new SchcRuleError(`TV ${raw} does not fit ${fixed} bits`, label, fid);
      return valueOfInt(n, fixed);
    }
    if (hex.length % 2) throw new SchcRuleError(`TV '${raw}' is not whole bytes`, label, fid);
    bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  } else {
    bytes = UTF8.encode(raw);
  }
  if (fixed !== undefined && bytes.length * 8 !== fixed) throw new SchcRuleError(`TV has ${bytes.length * 8} bits, FL is ${fixed}`, label, fid);
  return valueOfBytes(bytes);
}

function parseField(raw: unknown, label: string): FieldDescriptor & { fpExplicit: boolean } {
  if (!isRecord(raw)) throw new SchcRuleError('a field descriptor must be an object', label);
  const fid = get(raw, 'FID', 'fid');
  if (typeof fid !== 'string' || fid.length > 100) throw new SchcRuleError('FID must be a string', label, 'FID');
  const spec = fieldSpec(fid);
  if (!spec) throw new SchcRuleError(`unknown FID '${fid}'`, label, fid);
  const fl = parseLength(get(raw, 'FL', 'fl'), spec, label, fid);
  const fpGiven = get(raw, 'FP', 'fp');
  const fpRaw = fpGiven ?? 1;
  if (!isUint(fpRaw, 1024)) throw new SchcRuleError('FP must be a non-negative integer', label, fid);
  const fp = Math.max(1, fpRaw);
  const diRaw = squash(String(get(raw, 'DI', 'di') ?? 'bi'));
  const di = diRaw === 'bi' ? 'bi' : diRaw === 'up' ? 'up' : ['dw', 'dn', 'down'].includes(diRaw) ? 'down' : undefined;
  if (!di) throw new SchcRuleError('DI must be Up, Dw or Bi', label, fid);

  const moRaw = get(raw, 'MO', 'mo');
  if (typeof moRaw !== 'string') throw new SchcRuleError('MO must be a string', label, fid);
  const msbForm = /^\s*msb\s*\(\s*(\d{1,5})\s*\)\s*$/i.exec(moRaw);
  const mo = msbForm ? 'msb' : MOS[squash(moRaw)];
  if (!mo) throw new SchcRuleError(`unknown MO '${moRaw}'`, label, fid);
  let msb = 0;
  if (mo === 'msb') {
    const arg = msbForm ? Number(msbForm[1]) : get(raw, 'MO.VAL', 'MOa', 'MO.val', 'moVal');
    if (!isUint(arg, 65535)) throw new SchcRuleError('MSB needs its bit count (MSB(x), MO.VAL or MOa)', label, fid);
    if (fl.kind === 'fixed' && arg > fl.bits) throw new SchcRuleError(`MSB(${arg}) is longer than FL ${fl.bits}`, label, fid);
    if (fl.kind === 'var' && arg % fl.unit !== 0) throw new SchcRuleError(`MSB(${arg}) is not whole units of the variable length`, label, fid);
    if (fl.kind === 'tkl' && arg % 8 !== 0) throw new SchcRuleError(`MSB(${arg}) is not whole bytes of the token`, label, fid);
    msb = arg;
  }

  const cdaRaw = get(raw, 'CDA', 'cda');
  if (typeof cdaRaw !== 'string') throw new SchcRuleError('CDA must be a string', label, fid);
  let cda = CDAS[squash(cdaRaw)];
  if (!cda && squash(cdaRaw) === 'compute') cda = spec.key.endsWith('checksum') ? 'compute-checksum' : 'compute-length';
  if (!cda) throw new SchcRuleError(`unknown CDA '${cdaRaw}'`, label, fid);

  const tvRaw = get(raw, 'TV', 'tv');
  let tv: Value | undefined;
  let tvList: Value[] | undefined;
  if (mo === 'match-mapping') {
    if (!Array.isArray(tvRaw) || tvRaw.length === 0 || tvRaw.length > MAX_MAPPING) {
      throw new SchcRuleError(`match-mapping needs a TV array of 1..${MAX_MAPPING} values`, label, fid);
    }
    tvList = tvRaw.map((t) => parseTarget(t, spec, fl, label, fid));
  } else if (tvRaw !== undefined && tvRaw !== null && !(Array.isArray(tvRaw) && tvRaw.length === 0)) {
    tv = parseTarget(tvRaw, spec, fl, label, fid);
  }
  if ((mo === 'equal' || mo === 'msb') && !tv) throw new SchcRuleError(`MO ${mo} needs a TV`, label, fid);
  if (mo === 'msb' && tv && tv.len < msb) throw new SchcRuleError(`MSB(${msb}) is longer than the TV`, label, fid);
  if (cda === 'mapping-sent' && mo !== 'match-mapping') throw new SchcRuleError('mapping-sent needs MO match-mapping', label, fid);
  if (mo === 'match-mapping' && cda !== 'mapping-sent' && cda !== 'value-sent') throw new SchcRuleError('match-mapping needs CDA mapping-sent', label, fid);
  if (cda === 'lsb' && mo !== 'msb') throw new SchcRuleError('LSB needs MO MSB(x)', label, fid);
  if (cda === 'not-sent' && !tv) throw new SchcRuleError('not-sent needs a TV', label, fid);
  if (cda === 'compute-length' && spec.key !== 'ipv6.payloadLength' && spec.key !== 'udp.length') {
    throw new SchcRuleError('compute-length applies to IPv6 payload length and UDP length', label, fid);
  }
  if (cda === 'compute-checksum' && spec.key !== 'udp.checksum' && spec.key !== 'icmpv6.checksum') {
    throw new SchcRuleError('compute-checksum applies to the UDP and ICMPv6 checksums', label, fid);
  }
  if ((cda === 'dev-iid' || cda === 'app-iid') && spec.text !== 'iid') throw new SchcRuleError(`${cdaRaw} applies to an IPv6 IID field`, label, fid);
  if (cda === 'lsb' && fl.kind === 'fixed' && fl.bits === msb) throw new SchcRuleError('LSB with MSB(FL) sends nothing: use not-sent', label, fid);

  let indexBits = 0;
  if (tvList) {
    // openschc sizes the index as the bit length of (entries - 1), at least 1 bit; CDAa overrides (microschc sets it).
    const arg = get(raw, 'CDAa', 'CDA.VAL', 'indexBits');
    if (arg !== undefined) {
      if (!isUint(arg, 16) || 2 ** arg < tvList.length) throw new SchcRuleError('CDAa (index bits) must be 0..16 and index every TV', label, fid);
      indexBits = arg;
    } else indexBits = Math.max(1, (tvList.length - 1).toString(2).length);
  }
  return { fid, spec, fl, fp, di, tv, tvList, mo, msb, cda, indexBits, fpExplicit: fpGiven !== undefined && fpGiven !== 0 };
}

/** Whether a descriptor applies to a direction (DI Bi, or DI equal to it). */
export function applies(f: FieldDescriptor, direction: Direction): boolean {
  return f.di === 'bi' || f.di === direction;
}
