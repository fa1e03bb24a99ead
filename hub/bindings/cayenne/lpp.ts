// Hand-rolled Cayenne LPP payload codec (myDevices LPP, IPSO types, plus the ElectronicCats extended types): bytes are
// [channel, type, value...]*, values big-endian; decoded keys follow The Things Stack's formatter: `<type>_<channel>`.
import { DecodeError } from '../../errors.ts';
import type { CodecContext, PayloadCodec } from '../types.ts';

interface LppType {
  name: string;
  size: number;
  read(b: Uint8Array, at: number): unknown;
}

function uint(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[at + i]!;
  return v;
}

function int(b: Uint8Array, at: number, n: number): number {
  const u = uint(b, at, n);
  const half = 2 ** (8 * n - 1);
  return u >= half ? u - 2 * half : u;
}

/** Scaled by division (272 / 10 = 27.2, not 272 * 0.1 = 27.200000000000003). */
const scalar = (name: string, size: number, signed: boolean, divisor = 1): LppType => ({
  name,
  size,
  read: (b, at) => (signed ? int(b, at, size) : uint(b, at, size)) / divisor,
});

const xyz = (name: string, divisor: number): LppType => ({
  name,
  size: 6,
  read: (b, at) => ({ x: int(b, at, 2) / divisor, y: int(b, at + 2, 2) / divisor, z: int(b, at + 4, 2) / divisor }),
});

/** LPP type byte = IPSO object id - 3200. */
export const LPP_TYPES: ReadonlyMap<number, LppType> = new Map<number, LppType>([
  [0, scalar('digital_in', 1, false)],
  [1, scalar('digital_out', 1, false)],
  [2, scalar('analog_in', 2, true, 100)],
  [3, scalar('analog_out', 2, true, 100)],
  [100, scalar('generic_sensor', 4, false)],
  [101, scalar('luminosity', 2, false)],
  [102, scalar('presence', 1, false)],
  [103, scalar('temperature', 2, true, 10)],
  [104, scalar('relative_humidity', 1, false, 2)],
  [113, xyz('accelerometer', 1000)],
  [115, scalar('barometric_pressure', 2, false, 10)],
  [116, scalar('voltage', 2, false, 100)],
  [117, scalar('current', 2, false, 1000)],
  [118, scalar('frequency', 4, false)],
  [120, scalar('percentage', 1, false)],
  [121, scalar('altitude', 2, true)],
  [125, scalar('concentration', 2, false)],
  [128, scalar('power', 2, false)],
  [130, scalar('distance', 4, false, 1000)],
  [131, scalar('energy', 4, false, 1000)],
  [132, scalar('direction', 2, false)],
  [133, scalar('unix_time', 4, false)],
  [134, xyz('gyrometer', 100)],
  [135, { name: 'colour', size: 3, read: (b, at) => ({ r: b[at]!, g: b[at + 1]!, b: b[at + 2]! }) }],
  [136, {
    name: 'gps',
    size: 9,
    read: (b, at) => ({ latitude: int(b, at, 3) / 10000, longitude: int(b, at + 3, 3) / 10000, altitude: int(b, at + 6, 3) / 100 }),
  }],
  [142, scalar('switch', 1, false)],
]);

/**
 * Decodes an uplink LPP payload into `{ "<type>_<channel>": value }`. A channel sending the same type twice keeps the
 * last value (as TTS does). Unknown types and values cut short throw DecodeError with the byte offset.
 */
export function decodeLpp(bytes: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = 0;
  while (i < bytes.length) {
    if (i + 2 > bytes.length) throw new DecodeError('an LPP record needs a channel and a type byte', { offset: i, field: 'type' }, 'cayenne-truncated');
    const channel = bytes[i]!;
    const typeId = bytes[i + 1]!;
    const type = LPP_TYPES.get(typeId);
    if (!type) throw new DecodeError(`unknown Cayenne LPP type ${typeId} on channel ${channel}`, { offset: i + 1, field: 'type' }, 'cayenne-unknown-type');
    const at = i + 2;
    if (at + type.size > bytes.length) {
      throw new DecodeError(`${type.name} on channel ${channel} needs ${type.size} bytes, ${bytes.length - at} left`, { offset: at, field: `${type.name}_${channel}` }, 'cayenne-truncated');
    }
    out[`${type.name}_${channel}`] = type.read(bytes, at);
    i = at + type.size;
  }
  return out;
}

/**
 * Encodes a TTS-style LPP downlink: `{ "value_<channel>": number }` -> channel byte + int16 BE of value x 100 per entry
 * (downlink LPP carries no type byte). For the actions issue and simulators.
 */
export function encodeLppDownlink(decoded: Record<string, unknown>): Uint8Array {
  const out: number[] = [];
  for (const [key, value] of Object.entries(decoded)) {
    const m = /^value_(\d{1,3})$/.exec(key);
    if (!m || Number(m[1]) > 255 || typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`cannot encode ${key}`);
    const v = Math.round(value * 100);
    if (v < -32768 || v > 32767) throw new RangeError(`${key} is out of range`);
    out.push(Number(m[1]), (v >> 8) & 0xff, v & 0xff);
  }
  return Uint8Array.from(out);
}

export const cayenneLppCodec: PayloadCodec = {
  name: 'cayenne-lpp',
  decode(bytes: Uint8Array, _context: CodecContext) {
    return decodeLpp(bytes);
  },
};
