// GPS for vehicles: NMEA 0183 RMC/GGA sentences (nmea-simple, checksums required) and a bounded track that gives the
// fix nearest a poll time, so each OBD frame carries the vehicle's location.
import { parseNmeaSentence, type GGAPacket, type RMCPacket } from 'nmea-simple';
import { DecodeError } from '../../errors.ts';

export interface GpsFix {
  latitude: number;
  longitude: number;
  altitude?: number;
  /** ISO 8601 UTC time the receiver stated (RMC date + time; GGA time of day on the latest RMC date). */
  time?: string;
  speedKmh?: number;
  satellites?: number;
  /** When the hub received the sentence (epoch ms): the clock OBD readings are aligned on. */
  receivedAt: number;
}

const MAX_SENTENCE = 120; // NMEA 0183 allows 82 characters; some receivers exceed it slightly (long lat/lon decimals)

/** The XOR checksum of the characters between `$` and `*`. */
export function nmeaChecksum(body: string): number {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x;
}

export type NmeaSentence =
  | { type: 'RMC'; valid: boolean; datetime: string; latitude: number; longitude: number; speedKmh: number; track: number }
  | { type: 'GGA'; timeOfDayMs: number; latitude: number; longitude: number; fixQuality: number; satellites: number; altitude: number }
  | { type: 'other'; sentenceId: string };

const FIX_TYPES = ['none', 'fix', 'delta', 'pps', 'rtk', 'frtk', 'estimated', 'manual', 'simulation'];

/** Parses one NMEA sentence; throws DecodeError (bad framing, checksum, fields). Pure: GGA keeps its time of day only. */
export function parseNmea(line: string): NmeaSentence {
  const s = line.trim();
  if (s.length > MAX_SENTENCE) throw new DecodeError(`NMEA sentence longer than ${MAX_SENTENCE}`, { offset: MAX_SENTENCE, field: 'sentence' }, 'nmea-too-long');
  const m = /^\$([^*$]+)\*([0-9A-Fa-f]{2})$/.exec(s);
  if (!m) throw new DecodeError('Not an NMEA sentence with a checksum ($...*HH)', { offset: 0, field: 'sentence' }, 'nmea-framing');
  if (nmeaChecksum(m[1]!) !== parseInt(m[2]!, 16)) throw new DecodeError('NMEA checksum mismatch', { offset: s.length - 2, field: 'checksum' }, 'nmea-checksum');
  const id = m[1]!.slice(2, 5);
  if (id !== 'RMC' && id !== 'GGA') return { type: 'other', sentenceId: m[1]!.split(',')[0]! };
  let p;
  try {
    p = parseNmeaSentence(s);
  } catch (e) {
    throw new DecodeError(`NMEA ${id} fields: ${(e as Error).message.slice(0, 80)}`, { offset: 0, field: id, cause: e }, 'nmea-fields');
  }
  if (p.sentenceId === 'RMC') {
    const r = p as RMCPacket;
    if (!(r.datetime instanceof Date) || Number.isNaN(r.datetime.getTime())) throw new DecodeError('RMC without a valid date/time', { field: 'datetime' }, 'nmea-fields');
    if (!Number.isFinite(r.latitude) || !Number.isFinite(r.longitude)) throw new DecodeError('RMC without a position', { field: 'latitude' }, 'nmea-fields');
    checkPosition(r.latitude, r.longitude);
    return { type: 'RMC', valid: r.status === 'valid', datetime: r.datetime.toISOString(), latitude: r.latitude, longitude: r.longitude, speedKmh: r.speedKnots * 1.852, track: r.trackTrue };
  }
  const g = p as GGAPacket;
  if (!(g.time instanceof Date) || Number.isNaN(g.time.getTime())) throw new DecodeError('GGA without a valid time', { field: 'time' }, 'nmea-fields');
  if (!Number.isFinite(g.latitude) || !Number.isFinite(g.longitude)) throw new DecodeError('GGA without a position', { field: 'latitude' }, 'nmea-fields');
  checkPosition(g.latitude, g.longitude);
  const t = g.time;
  return {
    type: 'GGA',
    timeOfDayMs: ((t.getUTCHours() * 60 + t.getUTCMinutes()) * 60 + t.getUTCSeconds()) * 1000 + t.getUTCMilliseconds(),
    latitude: g.latitude,
    longitude: g.longitude,
    fixQuality: Math.max(0, FIX_TYPES.indexOf(g.fixType)),
    satellites: g.satellitesInView,
    altitude: g.altitudeMeters,
  };
}

/** nmea-simple reads `4807 00 00.038` as 4807 degrees (found by the obd fuzz target): positions off the globe are refused. */
function checkPosition(latitude: number, longitude: number): void {
  if (Math.abs(latitude) > 90) throw new DecodeError(`Latitude ${latitude.toFixed(3)} is off the globe`, { field: 'latitude' }, 'nmea-fields');
  if (Math.abs(longitude) > 180) throw new DecodeError(`Longitude ${longitude.toFixed(3)} is off the globe`, { field: 'longitude' }, 'nmea-fields');
}

export interface GpsTrackOptions {
  /** Fixes kept (default 64). */
  capacity?: number;
  /** A fix further than this from the poll time (hub clock) is not used (default 3 s). */
  maxAgeMs?: number;
}

/**
 * The latest fixes of one vehicle, by the hub's receive time. RMC brings date, speed and validity; GGA altitude and
 * satellites; a GGA with the same time of day as the last RMC completes that fix. A warning (status V) RMC or a GGA
 * without a fix is not a location.
 */
export class GpsTrack {
  private readonly fixes: GpsFix[] = [];
  private readonly capacity: number;
  private readonly maxAgeMs: number;
  private lastDate?: string;
  counters = { sentences: 0, fixes: 0, invalid: 0, noFix: 0 };

  constructor(options: GpsTrackOptions = {}) {
    this.capacity = options.capacity ?? 64;
    this.maxAgeMs = options.maxAgeMs ?? 3000;
  }

  /** Takes one line; returns the DecodeError of a bad one (counted) instead of throwing. */
  push(line: string, receivedAt: number): DecodeError | undefined {
    this.counters.sentences += 1;
    let s: NmeaSentence;
    try {
      s = parseNmea(line);
    } catch (e) {
      this.counters.invalid += 1;
      return e instanceof DecodeError ? e : new DecodeError('NMEA sentence failed', { cause: e });
    }
    if (s.type === 'RMC') {
      if (!s.valid) return void (this.counters.noFix += 1);
      this.lastDate = s.datetime.slice(0, 10);
      this.add({ latitude: s.latitude, longitude: s.longitude, time: s.datetime, speedKmh: s.speedKmh, receivedAt });
    } else if (s.type === 'GGA') {
      if (s.fixQuality === 0) return void (this.counters.noFix += 1);
      const time = this.lastDate ? new Date(Date.parse(`${this.lastDate}T00:00:00Z`) + s.timeOfDayMs).toISOString() : undefined;
      const last = this.fixes[this.fixes.length - 1];
      if (last && time && last.time === time) Object.assign(last, { altitude: s.altitude, satellites: s.satellites, latitude: s.latitude, longitude: s.longitude });
      else this.add({ latitude: s.latitude, longitude: s.longitude, altitude: s.altitude, satellites: s.satellites, time, receivedAt });
    }
    return undefined;
  }

  /** The fix received nearest `at` (hub clock), if one is within maxAgeMs. */
  at(at: number): GpsFix | undefined {
    let best: GpsFix | undefined;
    for (const f of this.fixes) if (!best || Math.abs(f.receivedAt - at) < Math.abs(best.receivedAt - at)) best = f;
    return best && Math.abs(best.receivedAt - at) <= this.maxAgeMs ? best : undefined;
  }

  private add(fix: GpsFix): void {
    this.counters.fixes += 1;
    this.fixes.push(fix);
    if (this.fixes.length > this.capacity) this.fixes.shift();
  }
}
