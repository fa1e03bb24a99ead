// Hand-rolled SAE J1979 decoding: mode 01 PIDs (formulas, units), supported-PID bitmaps, mode 03/07 DTCs, mode 09 VIN.
//
// Pure functions of a message's service bytes (ObdMessage.data, response mode first: 41, 43, 47, 49). Formulas are
// those of SAE J1979 as python-OBD (obd/decoders.py) and the ELM327 emulator implement them; vectors in
// ../shared/vectors/obd2.json.
import { DecodeError } from '../../errors.ts';

export interface PidDef {
  pid: number;
  /** Property name in decoded frames and the vehicle TD (camelCase). */
  name: string;
  /** Unit symbol (UCUM-like, as the vectors name them). */
  unit: string;
  bytes: number;
  decode(d: Uint8Array): number;
}

const u16 = (d: Uint8Array): number => d[0]! * 256 + d[1]!;
const pct = (d: Uint8Array): number => (d[0]! * 100) / 255;
const temp = (d: Uint8Array): number => d[0]! - 40;

/** Mode 01 PIDs the hub decodes. */
export const PIDS: ReadonlyMap<number, PidDef> = new Map(
  (
    [
      [0x04, 'engineLoad', '%', 1, pct],
      [0x05, 'coolantTemperature', 'degC', 1, temp],
      [0x0b, 'intakeManifoldPressure', 'kPa', 1, (d) => d[0]!],
      [0x0c, 'rpm', 'rpm', 2, (d) => u16(d) / 4],
      [0x0d, 'speed', 'km/h', 1, (d) => d[0]!],
      [0x0e, 'timingAdvance', 'deg', 1, (d) => d[0]! / 2 - 64],
      [0x0f, 'intakeTemperature', 'degC', 1, temp],
      [0x10, 'maf', 'g/s', 2, (d) => u16(d) / 100],
      [0x11, 'throttlePosition', '%', 1, pct],
      [0x1f, 'runTime', 's', 2, u16],
      [0x21, 'distanceWithMil', 'km', 2, u16],
      [0x2f, 'fuelLevel', '%', 1, pct],
      [0x31, 'distanceSinceCodesCleared', 'km', 2, u16],
      [0x33, 'barometricPressure', 'kPa', 1, (d) => d[0]!],
      [0x42, 'controlModuleVoltage', 'V', 2, (d) => u16(d) / 1000],
      [0x46, 'ambientTemperature', 'degC', 1, temp],
      [0x5c, 'oilTemperature', 'degC', 1, temp],
      [0x5e, 'fuelRate', 'L/h', 2, (d) => u16(d) / 20],
    ] as Array<[number, string, string, number, (d: Uint8Array) => number]>
  ).map(([pid, name, unit, bytes, decode]) => [pid, { pid, name, unit, bytes, decode }]),
);

/** PIDs whose reply is a bitmap of the next 32 supported PIDs. */
export const BITMAP_PIDS = [0x00, 0x20, 0x40, 0x60, 0x80, 0xa0, 0xc0];

export type Mode01Result =
  | { pid: number; name: string; value: number; unit: string }
  | { pid: number; supported: number[] };

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** Decodes a mode 01 reply (`41 PP A B ...`). Throws DecodeError naming the offset and field. */
export function decodeMode01(data: Uint8Array): Mode01Result {
  if (data.length < 2) throw new DecodeError('Mode 01 reply shorter than 2 bytes', { offset: data.length, field: 'pid', unit: 'byte' }, 'obd-truncated');
  if (data[0] !== 0x41) throw new DecodeError(`Not a mode 01 reply (0x${hex2(data[0]!)})`, { offset: 0, field: 'mode', unit: 'byte' }, 'obd-wrong-mode');
  const pid = data[1]!;
  const args = data.subarray(2);
  if (BITMAP_PIDS.includes(pid)) {
    if (args.length < 4) throw new DecodeError(`PID ${hex2(pid)} bitmap has ${args.length} of 4 bytes`, { offset: data.length, field: `pid${hex2(pid)}`, unit: 'byte' }, 'obd-truncated');
    return { pid, supported: supportedPids(pid, args) };
  }
  const def = PIDS.get(pid);
  if (!def) throw new DecodeError(`PID ${hex2(pid)} is not decoded by the hub`, { offset: 1, field: 'pid', unit: 'byte' }, 'obd-unknown-pid');
  if (args.length < def.bytes) throw new DecodeError(`PID ${hex2(pid)} (${def.name}) has ${args.length} of ${def.bytes} data bytes`, { offset: data.length, field: def.name, unit: 'byte' }, 'obd-truncated');
  return { pid, name: def.name, value: def.decode(args), unit: def.unit };
}

/** The PIDs a bitmap reply of `base` (00, 20, 40 ...) marks supported: bit 31 (MSB of A) is base+1. */
export function supportedPids(base: number, bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if (bitmap[i >> 3]! & (0x80 >> (i & 7))) out.push(base + 1 + i);
  return out;
}

/** One two-byte DTC as `P0104`: bits 15-14 the system (P C B U), 13-12 the first digit, then three hex nibbles. */
export function dtcOf(hi: number, lo: number): string {
  return `${'PCBU'[hi >> 6]}${(hi >> 4) & 3}${(hi & 0x0f).toString(16)}${hex2(lo)}`.toUpperCase();
}

/** DTCs from raw code bytes (pairs; 0000 is padding). */
export function dtcsOf(bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) if (bytes[i] !== 0 || bytes[i + 1] !== 0) out.push(dtcOf(bytes[i]!, bytes[i + 1]!));
  return out;
}

/**
 * Decodes a mode 03 (stored) or 07 (pending) reply. On CAN the mode byte is followed by a DTC count, so the reply has
 * an even length (mode + count + pairs); legacy protocols send pairs only (odd length with the mode byte).
 */
export function decodeDtcs(data: Uint8Array): { mode: 3 | 7; dtcs: string[] } {
  const mode = data[0];
  if (mode !== 0x43 && mode !== 0x47) throw new DecodeError(`Not a mode 03/07 reply (0x${hex2(mode ?? 0)})`, { offset: 0, field: 'mode', unit: 'byte' }, 'obd-wrong-mode');
  const can = data.length % 2 === 0;
  const codes = data.subarray(can ? 2 : 1);
  if (can && codes.length / 2 < data[1]!) {
    throw new DecodeError(`DTC count ${data[1]} with ${codes.length / 2} codes`, { offset: 1, field: 'dtcCount', unit: 'byte' }, 'obd-truncated');
  }
  return { mode: mode === 0x43 ? 3 : 7, dtcs: dtcsOf(can ? codes.subarray(0, data[1]! * 2) : codes) };
}

const VIN = /^[A-HJ-NPR-Z0-9]{17}$/;

/** Decodes a mode 09 PID 02 reply (`49 02 01` + 17 ASCII characters) into the VIN. */
export function decodeVin(data: Uint8Array): string {
  if (data[0] !== 0x49 || data[1] !== 0x02) throw new DecodeError('Not a mode 09 PID 02 (VIN) reply', { offset: 0, field: 'mode', unit: 'byte' }, 'obd-wrong-mode');
  if (data.length < 19) throw new DecodeError(`VIN reply has ${data.length} of 20 bytes`, { offset: data.length, field: 'vin', unit: 'byte' }, 'obd-truncated');
  // CAN: 49 02 <count> + 17 characters; some ECUs pad the front with NULs: the VIN is the last 17 bytes.
  const chars = data.subarray(data.length - 17);
  const vin = String.fromCharCode(...chars);
  if (!VIN.test(vin)) throw new DecodeError('VIN is not 17 characters of [A-HJ-NPR-Z0-9]', { offset: data.length - 17, field: 'vin', unit: 'byte' }, 'obd-bad-vin');
  return vin;
}

/** Mode 01 request for a PID (`010D`). */
export const mode01Request = (pid: number): string => `01${hex2(pid)}`;

/** Parses a schedule entry's PID (`"0D"`, `"0x0d"`, `13`, or a property name such as `"speed"`). */
export function pidOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff) return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  const m = /^(?:0x|01)?([0-9a-fA-F]{2})$/.exec(s);
  if (m) return parseInt(m[1]!, 16);
  for (const def of PIDS.values()) if (def.name === s) return def.pid;
  return undefined;
}
