// The MQTT form of OBD-II: an in-vehicle gateway publishes one poll cycle's ELM327 reply lines and NMEA lines on
// `obd/{vin}/up`; this pure decoder turns one such message into a DeviceFrame (the MQTT binding calls it).
import { DecodeError } from '../../errors.ts';
import { canonicalKey, type DeviceFrame } from '../types.ts';
import { parseElmReply } from './elm327.ts';
import { GpsTrack } from './gps.ts';
import { decodeDtcs, decodeMode01 } from './pids.ts';

export const OBD_TOPIC = /^obd\/([A-HJ-NPR-Z0-9]{17})\/up$/;
const MAX_MESSAGE = 16_384;

/** The VIN of an `obd/{vin}/up` topic, or undefined for other topics. */
export function vinOfTopic(topic: string): string | undefined {
  return OBD_TOPIC.exec(topic)?.[1];
}

/**
 * Decodes a gateway message: text lines, each an ELM327 reply line (headers and spaces either way; `>` prompts and
 * echoes tolerated) or an NMEA sentence (`$GPRMC`, `$GPGGA`, checksums checked). Mode 01 replies become named values,
 * mode 03/07 replies `dtcs`, the last valid fix the frame's location. observedAt is the RMC time when there is one,
 * else the hub's receive time; messageId is VIN + that time in ms, so a redelivered message is the same message.
 * Throws DecodeError when the message carries no reading at all.
 */
export function decodeObdGatewayMessage(topic: string, payload: Uint8Array | string, receivedAt: number): DeviceFrame {
  const vin = vinOfTopic(topic);
  if (!vin) throw new DecodeError(`Topic '${topic.slice(0, 80)}' is not obd/{vin}/up`, { field: 'topic' }, 'obd-topic');
  const text = typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1');
  if (text.length > MAX_MESSAGE) throw new DecodeError(`OBD gateway message longer than ${MAX_MESSAGE}`, { offset: MAX_MESSAGE, field: 'payload' }, 'obd-too-long');
  const lines = text.split(/[\r\n]+/);
  const track = new GpsTrack({ maxAgeMs: Infinity });
  let gpsError: DecodeError | undefined;
  let rmcTime: string | undefined;
  const elm: string[] = [];
  for (const l of lines) {
    if (l.trimStart().startsWith('$')) {
      gpsError = track.push(l, receivedAt) ?? gpsError;
      if (/^\$..RMC/.test(l.trim())) rmcTime = track.at(receivedAt)?.time ?? rmcTime;
    } else elm.push(l);
  }
  const reply = parseElmReply(elm.join('\r'));
  const decoded: Record<string, unknown> = {};
  let firstError: DecodeError | undefined;
  const dtcs = new Set<string>();
  for (const m of reply.messages) {
    try {
      if (m.data[0] === 0x41) {
        const r = decodeMode01(m.data);
        if ('value' in r && decoded[r.name] === undefined) decoded[r.name] = Math.round(r.value * 10_000) / 10_000;
      } else if (m.data[0] === 0x43 || m.data[0] === 0x47) {
        for (const d of decodeDtcs(m.data).dtcs) dtcs.add(d);
        decoded.dtcs = [];
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      firstError ??= e;
    }
  }
  if (decoded.dtcs) {
    decoded.dtcs = [...dtcs].sort();
    decoded.dtcCount = dtcs.size;
  }
  const fix = track.at(receivedAt);
  if (Object.keys(decoded).length === 0 && !fix) {
    throw firstError ?? gpsError ?? new DecodeError(`No OBD reading in the message (${reply.statuses.map((s) => s.text).slice(0, 3).join(', ') || 'empty'})`, { field: 'payload' }, 'obd-no-data');
  }
  const at = rmcTime && Number.isFinite(Date.parse(rmcTime)) ? Date.parse(rmcTime) : receivedAt;
  const frame: DeviceFrame = {
    protocol: 'obd',
    keyType: 'vin',
    deviceKey: canonicalKey('vin', vin),
    messageId: `${vin}-${at}`,
    observedAt: new Date(at).toISOString(),
    decoded,
  };
  if (fix) {
    frame.location = { latitude: fix.latitude, longitude: fix.longitude, source: 'gps' };
    if (fix.altitude !== undefined) frame.location.altitude = fix.altitude;
    if (fix.speedKmh !== undefined) decoded.gps = { speedKmh: Math.round(fix.speedKmh * 10_000) / 10_000, ...(fix.time ? { time: fix.time } : {}) };
  }
  return frame;
}
