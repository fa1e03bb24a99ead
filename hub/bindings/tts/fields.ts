// Hand-rolled (small, no library fits): typed readers of network-server JSON fields (TTS, ChirpStack, Sigfox) that
// throw a DecodeError naming the field; shared by the three network-server codecs (a candidate for hub/bindings/).
import { DecodeError } from '../../errors.ts';

export type Json = Record<string, unknown>;

/** Most receptions (gateways, base stations) one message may list; a real frame has a handful, rarely dozens. */
export const MAX_RECEPTIONS = 256;
/** Longest base64 or hex text a codec decodes (LoRaWAN FRMPayload is at most 242 bytes; generous for other formats). */
export const MAX_PAYLOAD_TEXT = 8 * 1024;

export function fail(field: string, message: string, code?: string): never {
  throw new DecodeError(message, { field }, code);
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object member; absent (undefined) is allowed, any other non-object is a DecodeError. */
export function optObject(value: unknown, field: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) fail(field, `${field} must be a JSON object`);
  return value;
}

export function reqObject(value: unknown, field: string): Json {
  const v = optObject(value, field);
  if (!v) fail(field, `${field} is required`);
  return v;
}

export function optArray(value: unknown, field: string, max = MAX_RECEPTIONS): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) fail(field, `${field} must be a JSON array`);
  if (value.length > max) fail(field, `${field} has ${value.length} entries; at most ${max} are accepted`);
  return value;
}

export function optString(value: unknown, field: string, maxLength = 1024): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(field, `${field} must be a string`);
  if (value.length > maxLength) fail(field, `${field} is longer than ${maxLength} characters`);
  return value;
}

export function optBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') fail(field, `${field} must be true or false`);
  return value;
}

/**
 * A finite number. Protobuf JSON (proto3 JSON mapping) writes 64-bit integers as strings and accepts strings for any
 * number, so a numeric string is read too; `integer` also bounds it to [min, max].
 */
export function optNumber(value: unknown, field: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (value === undefined || value === null) return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value) && value.length <= 64) n = Number(value);
  else fail(field, `${field} must be a number`);
  if (!Number.isFinite(n)) fail(field, `${field} must be a finite number`);
  if (opts.integer && !Number.isInteger(n)) fail(field, `${field} must be an integer`);
  if (opts.min !== undefined && n < opts.min) fail(field, `${field} must be at least ${opts.min}`);
  if (opts.max !== undefined && n > opts.max) fail(field, `${field} must be at most ${opts.max}`);
  return n;
}

export const UINT32_MAX = 0xffff_ffff;

/**
 * Base64 bytes as protobuf JSON writes them: standard or URL-safe alphabet, padded or not (proto3 JSON mapping:
 * "Either standard or URL-safe base64 encoding with/without paddings are accepted").
 */
export function base64Bytes(value: unknown, field: string, maxText = MAX_PAYLOAD_TEXT): Uint8Array {
  const s = optString(value, field, maxText);
  if (s === undefined || s === '') return new Uint8Array(0);
  const unpadded = s.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9+/_-]*$/.test(unpadded) || unpadded.length % 4 === 1 || (s.length !== unpadded.length && s.length % 4 !== 0)) {
    fail(field, `${field} is not valid base64`);
  }
  const std = unpadded.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Buffer.from(std, 'base64');
  // Node ignores non-zero trailing bits; a canonical encoder never writes them, so round-trip to refuse garbage.
  if (bytes.toString('base64').replace(/=+$/, '') !== std) fail(field, `${field} is not canonical base64`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Hexadecimal bytes (Sigfox `data`): an even number of hex digits, upper or lower case. */
export function hexBytes(value: string, field: string, maxBytes: number): Uint8Array {
  const s = value.trim();
  if (!/^[0-9a-fA-F]*$/.test(s) || s.length % 2 !== 0) fail(field, `${field} must be an even number of hex digits`);
  if (s.length / 2 > maxBytes) fail(field, `${field} holds ${s.length / 2} bytes; at most ${maxBytes} are accepted`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** A timestamp as the network server wrote it (validated RFC 3339) and its epoch milliseconds. */
export interface Instant {
  text: string;
  ms: number;
}

/**
 * An RFC 3339 timestamp (RFC 3339 §5.6; TTS writes nanoseconds with `Z`, ChirpStack `+00:00`). The protobuf zero
 * timestamp `0001-01-01T00:00:00Z`, which older TTS versions emitted for unset times, reads as absent.
 */
export function optInstant(value: unknown, field: string): Instant | undefined {
  const s = optString(value, field, 64);
  if (s === undefined || s === '') return undefined;
  const m = RFC3339.exec(s);
  if (!m) fail(field, `${field} is not an RFC 3339 timestamp`);
  const [, y, mo, d, h, mi, se, frac, zone] = m;
  const year = Number(y);
  if (year <= 1) return undefined; // protobuf's zero Timestamp: unset
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(se) > 60) {
    fail(field, `${field} is not a valid date and time`);
  }
  let ms = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(se), frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) fail(field, `${field} is not a valid date`);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    const [oh, om] = zone!.slice(1).split(':').map(Number);
    if (oh! > 23 || om! > 59) fail(field, `${field} has an invalid UTC offset`);
    ms -= sign * (oh! * 60 + om!) * 60_000;
  }
  return { text: s, ms };
}

/** An identifier made IRI-safe for DeviceFrame.messageId: only [A-Za-z0-9._~-], anything else becomes '_'. */
export function iriSafe(...parts: Array<string | number>): string {
  return parts
    .map(String)
    .join('-')
    .replace(/[^A-Za-z0-9._~-]/g, '_')
    .slice(0, 200);
}

/** Copies the defined members only (so frames carry no `undefined` members for mapfiles to trip on). */
export function compact<T extends object>(o: T): T {
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k];
  return o;
}

/** A location {latitude, longitude, altitude?} with range checks, or undefined when the object has no coordinates. */
export function optLocation(
  value: unknown,
  field: string,
  names: { lat: string; lng: string; alt?: string; accuracy?: string; source?: string } = { lat: 'latitude', lng: 'longitude', alt: 'altitude', accuracy: 'accuracy', source: 'source' },
): { latitude: number; longitude: number; altitude?: number; accuracy?: number; source?: string } | undefined {
  const o = optObject(value, field);
  if (!o) return undefined;
  const latitude = optNumber(o[names.lat], `${field}.${names.lat}`, { min: -90, max: 90 });
  const longitude = optNumber(o[names.lng], `${field}.${names.lng}`, { min: -180, max: 180 });
  if (latitude === undefined && longitude === undefined) return undefined;
  // proto3 omits a zero coordinate: one present coordinate means the other is 0 (the equator or the meridian).
  return compact({
    latitude: latitude ?? 0,
    longitude: longitude ?? 0,
    altitude: names.alt ? optNumber(o[names.alt], `${field}.${names.alt}`) : undefined,
    accuracy: names.accuracy ? optNumber(o[names.accuracy], `${field}.${names.accuracy}`, { min: 0 }) : undefined,
    source: names.source ? optScalarText(o[names.source], `${field}.${names.source}`) : undefined,
  });
}

/** A string, or a number/boolean written as text (enum names, ids); objects are refused. */
export function optScalarText(value: unknown, field: string, maxLength = 256): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return optString(value, field, maxLength);
}
