// A vehicle's ELM327 session settings, read from its TD (deviceDefinitions of the `vin` interface): address, schedule.
import { BadRequestError } from '../../errors.ts';
import type { DeviceEntry } from '../types.ts';
import { pidOf } from './pids.ts';

export interface PollGroup {
  pids: number[];
  intervalMs: number;
}

export interface VehicleConfig {
  thingId: string;
  vin: string;
  host: string;
  port: number;
  /** ATH1 (CAN ids in replies, several ECUs told apart) or ATH0. Default true. */
  headers: boolean;
  /** ATS1 or ATS0 (no spaces: fewer bytes over a slow link). Default false. */
  spaces: boolean;
  /** NMEA over TCP from the same vehicle (a second port of the adapter or a GPS gateway); absent: no locations. */
  gps?: { host: string; port: number };
  schedule: PollGroup[];
  /** How often mode 03 (stored DTCs) is read; 0 = never. */
  dtcIntervalMs: number;
  /** One request's reply deadline. */
  timeoutMs: number;
}

/** Polled when a TD names no schedule: the obd-vehicle model's properties, once a second. */
export const DEFAULT_SCHEDULE: PollGroup[] = [{ pids: [0x0d, 0x0c, 0x05, 0x04, 0x2f], intervalMs: 1000 }];
const MIN_INTERVAL = 100;
const MAX_PIDS = 64;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const portOf = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536 ? v : undefined);
const hostOf = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 253 && !/[\s/]/.test(v) ? v : undefined);
const msOf = (v: unknown, dflt: number, min: number): number => (typeof v === 'number' && Number.isFinite(v) ? Math.max(min, Math.min(v, 86_400_000)) : dflt);

/**
 * The session settings of a `vin` interface whose deviceDefinitions name an adapter
 * (`elm327: {host, port, headers?, spaces?, gps?: {host, port}, timeoutMs?}`, `pollSchedule: [{pids, intervalMs}]`,
 * `dtcIntervalMs`). Undefined when the interface names no ELM327 (e.g. an MQTT gateway vehicle); BadRequestError when
 * it names one badly.
 */
export function vehicleConfigOf(entry: DeviceEntry): VehicleConfig | undefined {
  if (entry.keyType !== 'vin') return undefined;
  const dd = entry.deviceDefinitions;
  const elm = dd.elm327;
  if (elm === undefined) return undefined;
  if (!isObject(elm)) throw new BadRequestError('deviceDefinitions.elm327 is not an object', {}, 'obd-config');
  const host = hostOf(elm.host);
  const port = portOf(elm.port);
  if (!host || !port) throw new BadRequestError('deviceDefinitions.elm327 needs host and port', {}, 'obd-config');
  let gps: VehicleConfig['gps'];
  if (elm.gps !== undefined) {
    const g = isObject(elm.gps) ? elm.gps : {};
    const gh = hostOf(g.host) ?? host;
    const gp = portOf(g.port);
    if (!gp) throw new BadRequestError('deviceDefinitions.elm327.gps needs a port', {}, 'obd-config');
    gps = { host: gh, port: gp };
  }
  let schedule = DEFAULT_SCHEDULE;
  if (dd.pollSchedule !== undefined) {
    if (!Array.isArray(dd.pollSchedule)) throw new BadRequestError('deviceDefinitions.pollSchedule is not an array', {}, 'obd-config');
    schedule = [];
    let count = 0;
    for (const g of dd.pollSchedule.slice(0, 16)) {
      if (!isObject(g) || !Array.isArray(g.pids)) throw new BadRequestError('pollSchedule entries are {pids, intervalMs}', {}, 'obd-config');
      const pids = g.pids.map(pidOf);
      if (pids.some((p) => p === undefined)) throw new BadRequestError('pollSchedule names an unknown PID', {}, 'obd-config');
      count += pids.length;
      schedule.push({ pids: pids as number[], intervalMs: msOf(g.intervalMs, 1000, MIN_INTERVAL) });
    }
    if (count > MAX_PIDS) throw new BadRequestError(`pollSchedule names more than ${MAX_PIDS} PIDs`, {}, 'obd-config');
  }
  return {
    thingId: entry.thingId,
    vin: entry.deviceKey,
    host,
    port,
    headers: elm.headers !== false,
    spaces: elm.spaces === true,
    gps,
    schedule,
    dtcIntervalMs: dd.dtcIntervalMs === 0 ? 0 : msOf(dd.dtcIntervalMs, 10_000, MIN_INTERVAL),
    timeoutMs: msOf(elm.timeoutMs, 3000, 200),
  };
}
