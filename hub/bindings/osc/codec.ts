// OSC messages -> DeviceFrames: argument names per address (the NGIMU's message set, or a TD's oscRoutes patterns),
// the bundle's timetag as the observation time, and message ids from timetag + position + address. Pure.
import { DecodeError } from '../../errors.ts';
import type { DeviceFrame } from '../types.ts';
import { isImmediate, timetagToIso, type OscMessage, type OscValue, type Timetag } from './packet.ts';
import { compileOscPattern, type CompiledPattern } from './pattern.ts';

/**
 * The x-io NGIMU's OSC messages (NGIMU user manual "Sending data"; NGIMU-Software-Public NgimuApi/Data/*.cs) and the
 * names their arguments get, in order. Units: deg/s, g, uT, hPa, deg, m, degC, %, V, mA, min, dBm.
 */
export const NGIMU_MESSAGES: Readonly<Record<string, readonly string[]>> = {
  '/sensors': ['gyroscopeX', 'gyroscopeY', 'gyroscopeZ', 'accelerometerX', 'accelerometerY', 'accelerometerZ', 'magnetometerX', 'magnetometerY', 'magnetometerZ', 'barometer'],
  '/magnitudes': ['gyroscopeMagnitude', 'accelerometerMagnitude', 'magnetometerMagnitude'],
  '/quaternion': ['quaternionW', 'quaternionX', 'quaternionY', 'quaternionZ'],
  '/matrix': ['matrixXX', 'matrixXY', 'matrixXZ', 'matrixYX', 'matrixYY', 'matrixYZ', 'matrixZX', 'matrixZY', 'matrixZZ'],
  '/euler': ['roll', 'pitch', 'yaw'],
  '/linear': ['linearAccelerationX', 'linearAccelerationY', 'linearAccelerationZ'],
  '/earth': ['earthAccelerationX', 'earthAccelerationY', 'earthAccelerationZ'],
  '/altitude': ['altitude'],
  '/temperature': ['temperatureImu', 'temperatureEnvironment'],
  '/humidity': ['humidity'],
  '/battery': ['batteryPercentage', 'batteryTimeToEmpty', 'batteryVoltage', 'batteryCurrent', 'chargerState'],
  '/rssi': ['rssiPower', 'rssiPercentage'],
  '/button': ['button'],
  '/ping': ['ipAddress', 'deviceName', 'serialNumber'],
  '/serialnumber': ['serialNumber'],
};

/**
 * The NGIMU's argument types per address (NgimuApi/Data/*.cs accept exactly these): floats, except the strings named.
 * A message that differs is refused (`osc-arguments`), so the mapfile never sees a missing or mistyped value.
 */
export function ngimuSignature(address: string): string | undefined {
  const names = NGIMU_MESSAGES[address];
  if (!names) return undefined;
  if (address === '/battery') return 'ffffs';
  if (address === '/ping') return 'sss';
  if (address === '/serialnumber') return 's';
  if (address === '/button') return undefined; // its argument differs between firmware versions
  return 'f'.repeat(names.length);
}

/** Throws DecodeError `osc-arguments` when a message the schema names does not have the NGIMU's types. */
export function checkSignature(naming: OscNaming, address: string, types: string): void {
  if (naming.schema !== NGIMU_MESSAGES || naming.routes.some((r) => r.pattern.matches(address))) return;
  const want = ngimuSignature(address);
  // ints and doubles stand in for floats (another sender's choice), strings must be strings
  if (want !== undefined && (types.length !== want.length || [...types].some((t, i) => (want[i] === 's' ? t !== 's' : t !== 'f' && t !== 'd' && t !== 'i')))) {
    throw new DecodeError(`NGIMU ${address} carries ,${want}, not ,${types}`, { field: address }, 'osc-arguments');
  }
}

/** One route of a TD's `oscRoutes`: messages whose address the pattern matches get these argument names. */
export interface OscRoute {
  pattern: CompiledPattern;
  args?: readonly string[];
}

/** How a Thing's messages are named: deviceDefinitions `oscSchema` ("ngimu") and `oscRoutes` ([{pattern, args}]). */
export interface OscNaming {
  schema?: Readonly<Record<string, readonly string[]>>;
  routes: OscRoute[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const namingCache = new WeakMap<object, OscNaming>();

/**
 * The naming of a Thing's deviceDefinitions (compiled once per TD object). Throws DecodeError (`osc-pattern`) for a
 * malformed route, so a bad TD is a counted rejection of its messages, not a crash.
 */
export function namingOf(device: Readonly<Record<string, unknown>>): OscNaming {
  const cached = namingCache.get(device);
  if (cached) return cached;
  const schema = device.oscSchema === 'ngimu' ? NGIMU_MESSAGES : undefined;
  const routes: OscRoute[] = [];
  const raw = device.oscRoutes;
  if (raw !== undefined) {
    if (!Array.isArray(raw) || raw.length > 256) throw new DecodeError('oscRoutes must be an array of at most 256 {pattern, args}', { field: 'oscRoutes' }, 'osc-pattern');
    for (const r of raw) {
      const route = r as { pattern?: unknown; args?: unknown };
      if (typeof route?.pattern !== 'string') throw new DecodeError('An oscRoutes entry needs a pattern', { field: 'oscRoutes' }, 'osc-pattern');
      const args = route.args;
      if (args !== undefined && (!Array.isArray(args) || args.length > 64 || !args.every((a) => typeof a === 'string' && NAME.test(a)))) {
        throw new DecodeError('oscRoutes args are at most 64 names ([A-Za-z_][A-Za-z0-9_]*)', { field: 'oscRoutes' }, 'osc-pattern');
      }
      routes.push({ pattern: compileOscPattern(route.pattern), args: args as string[] | undefined });
    }
  }
  const naming = { schema, routes };
  namingCache.set(device, naming);
  return naming;
}

/** Argument names for an address: the first matching route, else the schema; undefined when neither names it. */
export function argNames(naming: OscNaming, address: string): readonly string[] | undefined {
  for (const r of naming.routes) if (r.pattern.matches(address)) return r.args;
  return naming.schema?.[address];
}

/** `args` named when names are known (extra arguments keep their position under `_<i>`), else the positional list. */
export function namedArgs(names: readonly string[] | undefined, args: OscValue[]): OscValue[] | Record<string, OscValue> {
  if (!names) return args;
  const out: Record<string, OscValue> = {};
  for (let i = 0; i < args.length; i++) out[i < names.length ? names[i]! : `_${i}`] = args[i]!;
  return out;
}

const slug = (address: string): string => address.replace(/[^A-Za-z0-9._~-]/g, '.').slice(0, 120);
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * The frame of one message. messageId: the timetag (16 hex digits), the message's position in its packet and its
 * address, so messages of one bundle, and bundles of different addresses stamped alike, stay distinct; a bare message
 * (or a timetag "immediately") has no time of its own, so `r<receivedAt>.<arrival>` (the listener's counter) stands in.
 */
export function oscFrame(
  msg: OscMessage,
  key: { keyType: string; deviceKey: string },
  names: readonly string[] | undefined,
  arrival: { receivedAt: number; seq: number },
): DeviceFrame {
  const timed = msg.timetag && !isImmediate(msg.timetag) ? (msg.timetag as Timetag) : undefined;
  const id = timed ? `${hex8(timed[0])}${hex8(timed[1])}-${msg.index}` : `r${arrival.receivedAt}.${arrival.seq}`;
  const frame: DeviceFrame = {
    protocol: 'osc',
    keyType: key.keyType,
    deviceKey: key.deviceKey,
    messageId: `${id}${slug(msg.address)}`,
    decoded: { address: msg.address, types: msg.types, args: namedArgs(names, msg.args) },
  };
  if (timed) frame.observedAt = timetagToIso(timed);
  return frame;
}
