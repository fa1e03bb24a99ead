// Sigfox backend callbacks (DATA/UPLINK, DATA/BIDIR, DATA ADVANCED, SERVICE/ACKNOWLEDGE, SERVICE/STATUS, ERROR) ->
// DeviceFrame or another event, read leniently: a callback body is a user template (support.sigfox.com docs/uplink),
// so values may be quoted ("18.53"), absent ones written "null" or left as an unfilled "{placeholder}", and names vary.
import { canonicalKey, type DeviceFrame, type NetworkServerCodec, type RadioReception } from '../types.ts';
import { compact, fail, hexBytes, iriSafe, isObject, optInstant, type Json } from '../tts/fields.ts';
import { dedupeReceptions } from '../tts/codec.ts';
import type { NetworkEvent, OtherNetworkEvent } from '../tts/network-event.ts';

/** Sigfox uplink payloads are at most 12 bytes; downlinks exactly 8 (docs/uplink, docs/bidir). */
export const SIGFOX_MAX_UPLINK_BYTES = 12;
export const SIGFOX_DOWNLINK_BYTES = 8;
/** Sequence numbers are 12 bits on the radio (0..4095); the backend reports them as integers. */
const MAX_SEQUENCE = 0xffff_ffff;

/** Names a template may give a variable, first match wins (OS2iot's templates say `sigfoxId` or `deviceId`). */
const NAMES = {
  device: ['device', 'deviceId', 'sigfoxId', 'device_id', 'id'],
  time: ['time', 'timestamp'],
  seqNumber: ['seqNumber', 'seq', 'sequenceNumber', 'seqnumber'],
  data: ['data', 'payload'],
} as const;

/** A value as the template delivered it: trimmed text, with "", "null", "undefined" and "{name}" meaning absent. */
function raw(value: unknown): unknown {
  if (typeof value !== 'string') return value === null ? undefined : value;
  const s = value.trim();
  if (s === '' || /^(null|undefined|none|n\/a)$/i.test(s) || /^\{[A-Za-z_.]+\}$/.test(s)) return undefined;
  return s;
}

function pick(o: Json, names: readonly string[]): { value: unknown; field: string } {
  for (const n of names) if (Object.hasOwn(o, n) && raw(o[n]) !== undefined) return { value: raw(o[n]), field: n };
  return { value: undefined, field: names[0]! };
}

function num(value: unknown, field: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const v = raw(value);
  if (v === undefined) return undefined;
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && v.length <= 64 && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) n = Number(v);
  else fail(field, `${field} must be a number`);
  if (!Number.isFinite(n)) fail(field, `${field} must be a finite number`);
  if (opts.integer && !Number.isInteger(n)) fail(field, `${field} must be an integer`);
  if (opts.min !== undefined && n < opts.min) fail(field, `${field} must be at least ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) fail(field, `${field} must be at most ${opts.max}`);
  return n;
}

function bool(value: unknown, field: string): boolean | undefined {
  const v = raw(value);
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  if (v === 0 || v === 1 || v === '0' || v === '1') return Number(v) === 1;
  fail(field, `${field} must be true or false`);
}

function text(value: unknown, field: string, max = 256): string | undefined {
  const v = raw(value);
  if (v === undefined) return undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v !== 'string') fail(field, `${field} must be a string`);
  if (v.length > max) fail(field, `${field} is longer than ${max} characters`);
  return v;
}

/** An object variable (computedLocation, duplicates) that a template may also have quoted into a JSON string. */
function structured(value: unknown, field: string): unknown {
  const v = raw(value);
  if (typeof v !== 'string') return v;
  if (v.length > 16 * 1024) fail(field, `${field} is too long`);
  try {
    return JSON.parse(v);
  } catch {
    fail(field, `${field} is neither an object nor JSON text`);
  }
}

/** The device id: hex up to 8 digits (docs/uplink), canonical upper case; other ids kept as given (then unknown). */
function deviceId(o: Json): string {
  const { value, field } = pick(o, NAMES.device);
  const id = text(value, field, 64);
  if (id === undefined) fail('device', 'The callback names no device (device, deviceId or sigfoxId)');
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(id)) fail(field, `${field} is not a Sigfox device id`);
  return canonicalKey('sigfoxId', id);
}

/**
 * The device id exactly as the callback sent it (the frame's key is canonical, upper case): the key of the BIDIR
 * answer, which Sigfox matches as it sent it. Undefined when the body names no valid device id. Never throws.
 */
export function callbackDeviceId(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const { value } = pick(body, NAMES.device);
  const id = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : undefined;
  return id !== undefined && /^[A-Za-z0-9._:-]{1,64}$/.test(id) ? id : undefined;
}

/** `time`: epoch seconds (docs/uplink); milliseconds are recognised by size, an RFC 3339 text is read too. */
function timeOf(o: Json): { iso: string; seconds: number } | undefined {
  const { value, field } = pick(o, NAMES.time);
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^\d{4}-/.test(value)) {
    const t = optInstant(value, field)!;
    return { iso: new Date(t.ms).toISOString(), seconds: Math.floor(t.ms / 1000) };
  }
  let n = num(value, field, { min: 0 })!;
  if (n > 1e11) n = n / 1000; // milliseconds
  if (n > 253402300799) fail(field, `${field} is beyond the year 9999`);
  const seconds = Math.floor(n);
  return { iso: new Date(seconds * 1000).toISOString(), seconds };
}

function asList(value: unknown): unknown[] | undefined {
  const v = raw(value);
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

/**
 * Receptions: the station/rssi/snr variables (one each, or parallel lists) and DATA ADVANCED's `duplicates` list
 * (bsId, rssi, snr, nbRep); one entry per base station.
 */
function receptions(o: Json): RadioReception[] {
  const out: RadioReception[] = [];
  const stations = asList(o.station) ?? [];
  if (stations.length > 64) fail('station', 'station lists more than 64 base stations');
  const rssis = asList(o.rssi) ?? [];
  const snrs = asList(o.snr) ?? [];
  const avgSnr = num(o.avgSnr, 'avgSnr');
  stations.forEach((s, i) => {
    const f = stations.length > 1 ? `station[${i}]` : 'station';
    const id = text(s, f, 16);
    if (id === undefined) return;
    out.push(compact({
      gatewayId: canonicalKey('sigfoxId', id),
      rssi: num(rssis[i], rssis.length > 1 ? `rssi[${i}]` : 'rssi'),
      snr: num(snrs[i], snrs.length > 1 ? `snr[${i}]` : 'snr'),
      avgSnr: i === 0 ? avgSnr : undefined,
    }));
  });
  const dups = structured(o.duplicates, 'duplicates');
  if (dups !== undefined) {
    if (!Array.isArray(dups)) fail('duplicates', 'duplicates must be a list');
    if (dups.length > 64) fail('duplicates', 'duplicates lists more than 64 base stations');
    dups.forEach((d, i) => {
      if (!isObject(d)) fail(`duplicates[${i}]`, `duplicates[${i}] must be an object`);
      const id = text(d.bsId, `duplicates[${i}].bsId`, 16);
      if (id === undefined) fail(`duplicates[${i}].bsId`, `duplicates[${i}].bsId is required`);
      out.push(compact({
        gatewayId: canonicalKey('sigfoxId', id),
        rssi: num(d.rssi, `duplicates[${i}].rssi`),
        snr: num(d.snr, `duplicates[${i}].snr`),
        repetitions: num(d.nbRep, `duplicates[${i}].nbRep`, { integer: true, min: 0, max: 3 }),
      }));
    });
  }
  return dedupeReceptions(out);
}

/** computedLocation (the Atlas location service: lat, lng, radius in m, source, status), else the station-level lat/lng. */
function location(o: Json): DeviceFrame['location'] {
  const computed = structured(o.computedLocation, 'computedLocation');
  if (computed !== undefined) {
    if (!isObject(computed)) fail('computedLocation', 'computedLocation must be an object');
    const latitude = num(computed.lat, 'computedLocation.lat', { min: -90, max: 90 });
    const longitude = num(computed.lng, 'computedLocation.lng', { min: -180, max: 180 });
    if (latitude !== undefined && longitude !== undefined) {
      return compact({ latitude, longitude, accuracy: num(computed.radius, 'computedLocation.radius', { min: 0 }), source: text(computed.source, 'computedLocation.source', 32) ?? 'sigfox-atlas' });
    }
  }
  const latitude = num(o.lat, 'lat', { min: -90, max: 90 });
  const longitude = num(o.lng, 'lng', { min: -180, max: 180 });
  if (latitude !== undefined && longitude !== undefined) return { latitude, longitude, source: 'sigfox-network' };
  return undefined;
}

function decodeUplink(o: Json, receivedAt: number): DeviceFrame {
  const key = deviceId(o);
  const time = timeOf(o);
  const seq = pick(o, NAMES.seqNumber);
  const sequence = num(seq.value, seq.field, { integer: true, min: 0, max: MAX_SEQUENCE });
  const data = pick(o, NAMES.data);
  const dataText = text(data.value, data.field, 2 * SIGFOX_MAX_UPLINK_BYTES + 2);
  const bytes = dataText === undefined ? new Uint8Array(0) : hexBytes(dataText, data.field, SIGFOX_MAX_UPLINK_BYTES);
  const ack = bool(o.ack, 'ack');
  // Sigfox retries a callback (1, 2, 4 min) and sends one per base station when duplicates are on: each copy has the
  // same seqNumber and time, so the id makes the pipeline store it once.
  const messageId = time ? iriSafe(sequence ?? 's', time.seconds) : iriSafe(sequence ?? 's', 'r', receivedAt);
  return compact({
    protocol: 'sigfox',
    keyType: 'sigfoxId',
    deviceKey: key,
    sequence,
    observedAt: time?.iso,
    messageId,
    bytes,
    radio: receptions(o),
    location: location(o),
    network: compact({
      networkServer: 'sigfox',
      deviceTypeId: text(o.deviceTypeId, 'deviceTypeId', 64),
      duplicate: bool(o.duplicate, 'duplicate'),
      // A BIDIR callback asking for a downlink (docs/bidir `ack`): answering it is the actions issue's; flagged here.
      ack,
      downlinkRequested: ack === true ? true : undefined,
      longPolling: bool(o.longPolling, 'longPolling'),
      lqi: text(o.lqi, 'lqi', 16),
      linkQuality: num(o.linkQuality, 'linkQuality', { integer: true, min: 0, max: 4 }),
      operatorName: text(o.operatorName, 'operatorName', 128),
      countryCode: num(o.countryCode, 'countryCode', { integer: true, min: 0 }),
      fixedLat: num(o.fixedLat, 'fixedLat', { min: -90, max: 90 }),
      fixedLng: num(o.fixedLng, 'fixedLng', { min: -180, max: 180 }),
    }),
  });
}

/**
 * Decodes a callback body already read into an object (JSON, a form, or GET query parameters). A DATA callback
 * (data or seqNumber present) is an uplink; SERVICE/ACKNOWLEDGE (infoCode), SERVICE/STATUS (temp, batt) and error
 * callbacks are events; a body that names only a device is an `empty` event (nothing to store).
 */
export function decodeSigfoxCallback(body: unknown, receivedAt: number): NetworkEvent {
  if (!isObject(body)) fail('(body)', 'A Sigfox callback body is a JSON object or a form');
  const o = body;
  if (pick(o, NAMES.data).value !== undefined || pick(o, NAMES.seqNumber).value !== undefined) {
    const frame = decodeUplink(o, receivedAt);
    return { kind: 'uplink', event: frame.network?.downlinkRequested ? 'bidir' : 'uplink', frame };
  }
  const device = { keyType: 'sigfoxId', deviceKey: deviceId(o) };
  const event = (e: OtherNetworkEvent): OtherNetworkEvent => compact(e);
  const time = timeOf(o)?.iso;
  if (raw(o.infoCode) !== undefined) {
    return event({
      kind: 'downlink',
      event: 'acknowledge',
      device,
      time,
      details: compact({
        infoCode: num(o.infoCode, 'infoCode', { integer: true, min: 0, max: 255 }),
        infoMessage: text(o.infoMessage, 'infoMessage', 256),
        downlinkAck: bool(o.downlinkAck, 'downlinkAck'),
        downlinkOverusage: bool(o.downlinkOverusage, 'downlinkOverusage'),
      }),
    });
  }
  if (raw(o.temp) !== undefined || raw(o.batt) !== undefined) {
    return event({ kind: 'status', event: 'status', device, time, details: compact({ temperature: num(o.temp, 'temp'), battery: num(o.batt, 'batt') }) });
  }
  if (raw(o.info) !== undefined || raw(o.severity) !== undefined) {
    return event({ kind: 'log', event: 'error', device, time, details: compact({ info: text(o.info, 'info', 1024), severity: text(o.severity, 'severity', 32) }) });
  }
  return event({ kind: 'other', event: 'empty', device, time, details: {} });
}

/** Sigfox as a NetworkServerCodec: the DATA callback of one uplink. */
export const sigfoxCodec: NetworkServerCodec & { decodeCallback: typeof decodeSigfoxCallback } = {
  name: 'sigfox',
  decodeUplink(body: unknown, receivedAt: number): DeviceFrame {
    const e = decodeSigfoxCallback(body, receivedAt);
    if (e.kind !== 'uplink') fail('data', `A Sigfox ${e.event} callback is not an uplink`, 'not-an-uplink');
    return e.frame;
  },
  decodeCallback: decodeSigfoxCallback,
};

/**
 * The BIDIR answer (docs/bidir): HTTP 200, application/json, `{"<deviceId>": {"downlinkData": "<16 hex>"}}`, one key
 * per device in batch mode. Used by the actions issue; here so that the shape lives next to the callback it answers.
 */
export function sigfoxDownlinkResponse(downlinks: Record<string, Uint8Array>): Record<string, { downlinkData: string }> {
  const out: Record<string, { downlinkData: string }> = {};
  for (const [device, bytes] of Object.entries(downlinks)) {
    if (bytes.length !== SIGFOX_DOWNLINK_BYTES) fail('downlinkData', `A Sigfox downlink is exactly ${SIGFOX_DOWNLINK_BYTES} bytes, not ${bytes.length}`);
    out[device] = { downlinkData: Buffer.from(bytes).toString('hex') };
  }
  return out;
}

/** Checks a BIDIR answer's shape (the keyed form; the flat {deviceId, downlinkData} of a stale README is refused). */
export function parseSigfoxDownlinkResponse(body: unknown): Record<string, Uint8Array> {
  if (!isObject(body)) fail('(body)', 'A BIDIR answer is a JSON object keyed by device id');
  const out: Record<string, Uint8Array> = {};
  for (const [device, entry] of Object.entries(body)) {
    if (!isObject(entry)) fail(device, `${device} must map to {"downlinkData": "<16 hex digits>"} (keyed by device id)`);
    const hex = entry.downlinkData;
    if (typeof hex !== 'string' || hex.length !== 2 * SIGFOX_DOWNLINK_BYTES) fail(`${device}.downlinkData`, `${device}.downlinkData must be 16 hex digits`);
    out[device] = hexBytes(hex, `${device}.downlinkData`, SIGFOX_DOWNLINK_BYTES);
  }
  return out;
}
