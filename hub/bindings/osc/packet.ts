// OSC 1.0/1.1 packets -> flat messages with their bundle's timetag: osc-min decodes each message; the bundle walk is ours.
//
// Why the bundle walk is not osc-min's: osc-min 2.1.2 recurses into nested bundles without a depth bound, accepts element
// sizes that are not multiples of 4 and sizes past the end (it throws a plain Error then), and hands back timetags as
// arrays. Here: bounded depth and element count, every size checked against the bytes left, a DecodeError naming the
// offset for each failure, and values made JSON-safe (bigint, blob, timetag, color, midi) so a message can become a
// DeviceFrame. Pure: no clock, no I/O. (osc-min's encoder writes a color 'r' as 16 bytes, its decoder reads the 4 of the
// spec: only decoding is used here.)
import { fromBuffer, type OscArgOutputOrArray, type OscMessageOutput } from 'osc-min';
import { DecodeError } from '../../errors.ts';

/** An NTP timetag: seconds since 1900 and a 2^-32 fraction (OSC 1.0 "OSC Time Tags"). */
export type Timetag = readonly [seconds: number, fraction: number];

/** One OSC value as JSON: numbers, strings, booleans, null; blobs as hex; timetags as ISO strings; arrays nested. */
export type OscValue = number | string | boolean | null | OscValue[] | { [key: string]: OscValue };

export interface OscMessage {
  address: string;
  /** The type tag string without its comma ('' when the message has none). */
  types: string;
  args: OscValue[];
  /** Timetag of the innermost bundle holding the message; undefined for a bare message. */
  timetag?: Timetag;
  /** Position in the packet (0-based, depth-first): distinguishes messages with one timetag. */
  index: number;
}

export interface OscLimits {
  /** Largest datagram accepted (UDP over IPv4 carries at most 65,507 bytes). */
  maxBytes: number;
  /** Bundles inside bundles, counting the outer one. */
  maxDepth: number;
  /** Messages in one packet. */
  maxMessages: number;
}

export const OSC_LIMITS: OscLimits = { maxBytes: 65_507, maxDepth: 8, maxMessages: 1024 };

/** NTP seconds at the Unix epoch. */
const NTP_UNIX = 2_208_988_800;
const BUNDLE_TAG = [0x23, 0x62, 0x75, 0x6e, 0x64, 0x6c, 0x65, 0x00]; // "#bundle\0"

/** OSC "immediately" (0x0000000000000001): no time of its own; the arrival time stands in. */
export const isImmediate = (t: Timetag): boolean => t[0] === 0 && t[1] <= 1;

/** A timetag as epoch milliseconds (fraction rounded to the microsecond's millisecond). */
export const timetagToMs = (t: Timetag): number => (t[0] - NTP_UNIX) * 1000 + (t[1] * 1000) / 4_294_967_296;

/** Epoch milliseconds (fractional allowed) as a timetag. */
export function msToTimetag(ms: number): Timetag {
  const s = Math.floor(ms / 1000);
  return [s + NTP_UNIX, Math.min(4_294_967_295, Math.round(((ms - s * 1000) / 1000) * 4_294_967_296))];
}

/** xsd:dateTime of a timetag, with microseconds (an NGIMU stamps at up to 400 Hz: milliseconds would collide). */
export function timetagToIso(t: Timetag): string {
  const ms = timetagToMs(t);
  const whole = Math.floor(ms);
  const micros = Math.floor((ms - whole) * 1000);
  const iso = new Date(whole).toISOString(); // ...T12:00:00.123Z
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

/**
 * Decodes one datagram: a message, or a bundle (nested bundles flattened, each message with its innermost bundle's
 * timetag). Throws DecodeError (`osc-truncated`, `osc-oversized`, `osc-malformed`) naming the byte offset.
 */
export function decodeOscPacket(bytes: Uint8Array, limits: OscLimits = OSC_LIMITS): OscMessage[] {
  if (bytes.length > limits.maxBytes) throw new DecodeError(`OSC packet of ${bytes.length} bytes exceeds ${limits.maxBytes}`, { offset: 0, field: 'packet' }, 'osc-oversized');
  if (bytes.length === 0) throw new DecodeError('Empty datagram', { offset: 0, field: 'packet' }, 'osc-truncated');
  if (bytes.length % 4 !== 0) throw new DecodeError(`OSC packet size ${bytes.length} is not a multiple of 4`, { offset: bytes.length, field: 'packet' }, 'osc-truncated');
  const out: OscMessage[] = [];
  walk(bytes, 0, bytes.length, undefined, 1, limits, out);
  return out;
}

function isBundle(bytes: Uint8Array, at: number, end: number): boolean {
  if (end - at < 8) return false;
  for (let i = 0; i < 8; i++) if (bytes[at + i] !== BUNDLE_TAG[i]) return false;
  return true;
}

function walk(bytes: Uint8Array, at: number, end: number, timetag: Timetag | undefined, depth: number, limits: OscLimits, out: OscMessage[]): void {
  if (bytes[at] === 0x23 /* # */) {
    if (!isBundle(bytes, at, end)) throw new DecodeError("A packet starting with '#' must be a '#bundle'", { offset: at, field: 'bundle' }, 'osc-malformed');
    if (depth > limits.maxDepth) throw new DecodeError(`Bundles nested deeper than ${limits.maxDepth}`, { offset: at, field: 'bundle' }, 'osc-malformed');
    if (end - at < 16) throw new DecodeError('Bundle without a complete timetag', { offset: at + 8, field: 'timetag' }, 'osc-truncated');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tt: Timetag = [view.getUint32(at + 8, false), view.getUint32(at + 12, false)];
    let p = at + 16;
    while (p < end) {
      if (end - p < 4) throw new DecodeError('Bundle element without a complete size', { offset: p, field: 'size' }, 'osc-truncated');
      const size = view.getInt32(p, false);
      if (size <= 0 || size % 4 !== 0) throw new DecodeError(`Bundle element size ${size} is not a positive multiple of 4`, { offset: p, field: 'size' }, 'osc-malformed');
      if (size > end - p - 4) throw new DecodeError(`Bundle element of ${size} bytes runs past the packet (${end - p - 4} left)`, { offset: p, field: 'size' }, 'osc-truncated');
      walk(bytes, p + 4, p + 4 + size, tt, depth + 1, limits, out);
      p += 4 + size;
    }
    return;
  }
  if (out.length >= limits.maxMessages) throw new DecodeError(`More than ${limits.maxMessages} messages in one packet`, { offset: at, field: 'bundle' }, 'osc-oversized');
  const msg = decodeMessage(bytes.subarray(at, end), at) as OscMessage;
  if (timetag) msg.timetag = timetag;
  msg.index = out.length;
  out.push(msg);
}

const utf8 = new TextDecoder();
const truncated = (what: string, offset: number) => new DecodeError(`OSC message: ${what} runs past the end`, { offset, field: what }, 'osc-truncated');

/** The end of the NUL-terminated, zero-padded OSC-string at `at` (the next 4-byte boundary), checking the padding. */
function stringEnd(b: Uint8Array, at: number, end: number, what: string): { nul: number; next: number } {
  let nul = at;
  while (nul < end && b[nul] !== 0) nul++;
  if (nul >= end) throw truncated(what, at);
  const next = (nul + 4) & ~3;
  if (next > end) throw truncated(what, at);
  for (let i = nul + 1; i < next; i++) if (b[i] !== 0) throw new DecodeError(`OSC message: corrupt padding after ${what}`, { offset: i, field: what }, 'osc-malformed');
  return { nul, next };
}

/**
 * The fast path for messages whose arguments are only i f d s T F N I (every NGIMU message; liblo's common case):
 * osc-min takes 10-25 us per message (a TextDecoder and DataViews per string and argument), this about 1 us, which is
 * the difference between 35,000 messages/s and a saturated event loop. Anything else (h t b c m r S, arrays) returns
 * undefined and goes to osc-min; test/bindings/osc and the fuzz target check both paths agree.
 */
export function decodeMessageFast(b: Uint8Array, start: number, end: number): Omit<OscMessage, 'index' | 'timetag'> | undefined {
  const a = stringEnd(b, start, end, 'address');
  let address = '';
  for (let i = start; i < a.nul; i++) {
    const c = b[i]!;
    if (c < 0x21 || c > 0x7e) throw new DecodeError('An OSC address is printable ASCII without spaces', { offset: i, field: 'address' }, 'osc-malformed');
    address += String.fromCharCode(c);
  }
  if (a.next === end) return { address, types: '', args: [] };
  if (b[a.next] !== 0x2c /* , */) throw new DecodeError('OSC type tags must begin with a comma', { offset: a.next, field: 'types' }, 'osc-malformed');
  const t = stringEnd(b, a.next, end, 'types');
  let types = '';
  for (let i = a.next + 1; i < t.nul; i++) {
    const c = b[i]!;
    // i f d s T F N I
    if (c !== 0x69 && c !== 0x66 && c !== 0x64 && c !== 0x73 && c !== 0x54 && c !== 0x46 && c !== 0x4e && c !== 0x49) return undefined;
    types += String.fromCharCode(c);
  }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const args: OscValue[] = [];
  let p = t.next;
  for (let k = 0; k < types.length; k++) {
    switch (types.charCodeAt(k)) {
      case 0x69: // i
        if (p + 4 > end) throw truncated('argument', p);
        args.push(view.getInt32(p, false));
        p += 4;
        break;
      case 0x66: {
        // f
        if (p + 4 > end) throw truncated('argument', p);
        const v = view.getFloat32(p, false);
        args.push(Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'INF' : '-INF');
        p += 4;
        break;
      }
      case 0x64: {
        // d
        if (p + 8 > end) throw truncated('argument', p);
        const v = view.getFloat64(p, false);
        args.push(Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'INF' : '-INF');
        p += 8;
        break;
      }
      case 0x73: {
        // s
        const s = stringEnd(b, p, end, 'argument');
        args.push(utf8.decode(b.subarray(p, s.nul)));
        p = s.next;
        break;
      }
      case 0x54: // T
        args.push(true);
        break;
      case 0x46: // F
        args.push(false);
        break;
      case 0x4e: // N
        args.push(null);
        break;
      default: // I: Infinitum / Impulse
        args.push(true);
    }
  }
  return { address, types, args };
}

function decodeMessage(slice: Uint8Array, offset: number): Omit<OscMessage, 'index' | 'timetag'> {
  if (slice[0] !== 0x2f /* / */) throw new DecodeError("An OSC address must start with '/'", { offset, field: 'address' }, 'osc-malformed');
  let fast;
  try {
    fast = decodeMessageFast(slice, 0, slice.length);
  } catch (e) {
    const err = e as DecodeError;
    throw new DecodeError(err.message, { offset: offset + (err.offset ?? 0), field: err.field }, err.code);
  }
  if (fast) {
    if (fast.address.length > 255) throw new DecodeError('An OSC address has at most 255 characters', { offset, field: 'address' }, 'osc-malformed');
    return fast;
  }
  return decodeMessageOscMin(slice, offset);
}

/** osc-min for every other type tag (64-bit integers, timetags, blobs, chars, MIDI, colors, symbols, arrays). */
export function decodeMessageOscMin(slice: Uint8Array, offset: number): Omit<OscMessage, 'index' | 'timetag'> {
  if (slice[0] !== 0x2f /* / */) throw new DecodeError("An OSC address must start with '/'", { offset, field: 'address' }, 'osc-malformed');
  let decoded;
  try {
    decoded = fromBuffer(slice);
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    // osc-min reads floats and doubles without a bounds check: a short message is a RangeError of DataView there.
    const truncated = e instanceof RangeError || /enough|padding|null character/i.test(message);
    throw new DecodeError(`OSC message: ${message}`, { offset, field: 'message', cause: e }, truncated ? 'osc-truncated' : 'osc-malformed');
  }
  if (decoded.oscType !== 'message') throw new DecodeError('Expected an OSC message', { offset, field: 'message' }, 'osc-malformed');
  const m = decoded as OscMessageOutput;
  if (!/^\/[\x21-\x7e]*$/.test(m.address) || m.address.length > 255) {
    throw new DecodeError('An OSC address is printable ASCII without spaces, at most 255 characters', { offset, field: 'address' }, 'osc-malformed');
  }
  if (arrayDepth(m.args) > MAX_ARRAY_DEPTH) {
    throw new DecodeError(`OSC arrays nest at most ${MAX_ARRAY_DEPTH} deep`, { offset, field: 'args' }, 'osc-malformed');
  }
  return { address: m.address, types: typeTags(m.args), args: m.args.map(jsonValue) };
}

/** Deepest `[...]` nesting the hub converts (typeTags and jsonValue recurse; a datagram of `[[[[...` overflowed the stack). */
const MAX_ARRAY_DEPTH = 32;

/** Nesting depth of array arguments, without recursion. */
function arrayDepth(args: OscArgOutputOrArray[]): number {
  let deepest = 0;
  const stack: Array<[OscArgOutputOrArray[], number]> = [[args, 0]];
  while (stack.length > 0) {
    const [list, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_ARRAY_DEPTH) return deepest;
    for (const a of list) if (a.type === 'array') stack.push([a.value, depth + 1]);
  }
  return deepest;
}

const TAG: Record<string, string> = {
  string: 's', symbol: 'S', integer: 'i', bigint: 'h', timetag: 't', float: 'f', double: 'd', blob: 'b', midi: 'm',
  color: 'r', true: 'T', false: 'F', null: 'N', bang: 'I', character: 'c',
};

function typeTags(args: OscArgOutputOrArray[]): string {
  let s = '';
  for (const a of args) s += a.type === 'array' ? `[${typeTags(a.value)}]` : TAG[a.type] ?? '?';
  return s;
}

const hex = (v: DataView): string => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');

/** OSC argument -> JSON: 64-bit integers beyond 2^53 as decimal strings, blobs as hex, timetags as xsd:dateTime. */
export function jsonValue(a: OscArgOutputOrArray): OscValue {
  switch (a.type) {
    case 'array':
      return a.value.map(jsonValue);
    case 'bigint':
      return a.value >= BigInt(Number.MIN_SAFE_INTEGER) && a.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a.value) : a.value.toString();
    case 'blob':
      return hex(a.value);
    case 'timetag':
      return isImmediate(a.value) ? 'immediately' : timetagToIso(a.value);
    case 'color':
      return { red: a.value.red, green: a.value.green, blue: a.value.blue, alpha: a.value.alpha };
    case 'midi':
      return [...a.value];
    case 'bang':
      return true; // OSC 1.0 Infinitum / OSC 1.1 Impulse: an event without a value
    case 'float':
    case 'double':
      // NaN and infinities are valid float32/64 bits but not JSON numbers (an NGIMU sends +Inf as time-to-empty while
      // charging): their xsd:double lexical forms, so a mapfile writes a valid literal.
      return Number.isFinite(a.value) ? a.value : Number.isNaN(a.value) ? 'NaN' : a.value > 0 ? 'INF' : '-INF';
    default:
      return a.value;
  }
}
