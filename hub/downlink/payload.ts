// What a command puts on the air: FPort, confirmed flag and payload, encoded by the device's codec (Cayenne LPP) or raw.
import { encodeLppDownlink } from '../bindings/cayenne/lpp.ts';
import { BadRequestError } from '../errors.ts';
import type { DownlinkRoute } from './types.ts';

export interface EncodedDownlink {
  fPort: number;
  confirmed: boolean;
  /** Bytes, when the hub encoded them (raw hex/base64/bytes input, or the device's codec). */
  bytes?: Uint8Array;
  /** Otherwise a JSON object for the network server's downlink formatter: `{<action>: <input>}`. */
  decoded?: Record<string, unknown>;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_BYTES = 242; // largest LoRaWAN FRMPayload (DR with N = 242, EU868 SF7..)

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function intIn(v: unknown, min: number, max: number): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

/** The raw bytes an input names (`hex`, `base64` or `bytes`), undefined when it names none. Throws 400 when malformed. */
export function rawBytes(input: unknown): Uint8Array | undefined {
  if (!isRecord(input)) return undefined;
  if (typeof input.hex === 'string') {
    if (!HEX.test(input.hex)) throw new BadRequestError('input.hex is not an even number of hex digits', { extensions: { field: 'hex' } }, 'bad-downlink-payload');
    return Uint8Array.from(Buffer.from(input.hex, 'hex'));
  }
  if (typeof input.base64 === 'string') {
    if (!BASE64.test(input.base64) || input.base64.length % 4 !== 0) throw new BadRequestError('input.base64 is not padded base64', { extensions: { field: 'base64' } }, 'bad-downlink-payload');
    return Uint8Array.from(Buffer.from(input.base64, 'base64'));
  }
  if (Array.isArray(input.bytes)) {
    if (input.bytes.length > MAX_BYTES || !input.bytes.every((b) => intIn(b, 0, 255) !== undefined)) {
      throw new BadRequestError('input.bytes must be at most 242 integers 0..255', { extensions: { field: 'bytes' } }, 'bad-downlink-payload');
    }
    return Uint8Array.from(input.bytes as number[]);
  }
  return undefined;
}

/** FPorts an application may send on: 1..223 (0 carries MAC commands, 224 is the test port, 225..255 are reserved). */
const APP_FPORT = { min: 1, max: 223 } as const;
/** Names the interface's FPort may have, in order: a downlink-only one first (deviceDefinitions, then networkDefinitions). */
const FPORT_MEMBERS = ['downlinkFPort', 'fPort', 'fport'] as const;

/**
 * The FPort an interface's TD sets for its downlinks: deviceDefinitions `downlinkFPort`, `fPort` or `fport`, else the
 * same in `networkDefinitions` (FLINT's network settings, where the Thing Models put `"fport": "{{FPORT}}"`). A
 * placeholder filled with text ("2", from a form) counts as the number; an empty one is unset. A value that is set
 * but no application FPort (0, 224, "two") is a 400 bad-downlink-fport: never silently sent on another port.
 */
export function configuredFPort(dd: Readonly<Record<string, unknown>>): number | undefined {
  const nd = isRecord(dd.networkDefinitions) ? dd.networkDefinitions : {};
  for (const [where, members] of [['deviceDefinitions', dd], ['deviceDefinitions.networkDefinitions', nd]] as const) {
    for (const name of FPORT_MEMBERS) {
      const v = members[name];
      if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) continue;
      const n = typeof v === 'string' && /^\s*\d{1,3}\s*$/.test(v) ? Number(v) : v;
      const port = intIn(n, APP_FPORT.min, APP_FPORT.max);
      if (port === undefined) {
        throw new BadRequestError(`${where}.${name} is ${JSON.stringify(v)?.slice(0, 40)}, not a LoRaWAN application FPort (${APP_FPORT.min}..${APP_FPORT.max})`, { extensions: { field: `${where}.${name}` } }, 'bad-downlink-fport');
      }
      return port;
    }
  }
  return undefined;
}

/** The FPort a LoRaWAN command goes on: input.fPort (1..223), else the interface's (configuredFPort), else 1. */
export function lorawanFPort(input: unknown, dd: Readonly<Record<string, unknown>>): number {
  return (isRecord(input) ? intIn(input.fPort, APP_FPORT.min, APP_FPORT.max) : undefined) ?? configuredFPort(dd) ?? 1;
}

/**
 * Encodes a command for a LoRaWAN route. FPort: input.fPort, else the interface's own (configuredFPort: downlinkFPort /
 * fPort / fport in deviceDefinitions, then in its networkDefinitions), else 1.
 * confirmed: input.confirmed, else deviceDefinitions.confirmedDownlinks, else true (only a confirmed downlink can reach
 * DELIVERED: the device's ACK is the evidence). Payload: raw bytes, else Cayenne LPP when the device's codec is LPP, else
 * the JSON `{<action>: <input>}` for the network server's formatter. Throws 400 for what cannot be encoded.
 */
export function encodeLorawan(action: string, input: unknown, route: Pick<DownlinkRoute, 'deviceDefinitions' | 'codecs'>): EncodedDownlink {
  const dd = route.deviceDefinitions;
  const fPort = lorawanFPort(input, dd);
  const confirmed = isRecord(input) && typeof input.confirmed === 'boolean' ? input.confirmed : typeof dd.confirmedDownlinks === 'boolean' ? dd.confirmedDownlinks : true;
  const raw = rawBytes(input);
  if (raw) {
    if (raw.length > MAX_BYTES) throw new BadRequestError(`A LoRaWAN downlink holds at most ${MAX_BYTES} bytes`, {}, 'bad-downlink-payload');
    return { fPort, confirmed, bytes: raw };
  }
  if (route.codecs.includes('cayenne-lpp') && isRecord(input) && Object.keys(input).some((k) => /^value_\d+$/.test(k))) {
    const values = Object.fromEntries(Object.entries(input).filter(([k]) => /^value_\d+$/.test(k)));
    try {
      return { fPort, confirmed, bytes: encodeLppDownlink(values) };
    } catch (e) {
      throw new BadRequestError(`Cayenne LPP cannot encode this input: ${(e as Error).message}`, {}, 'bad-downlink-payload');
    }
  }
  return { fPort, confirmed, decoded: { [action]: input ?? null } };
}

/** A Sigfox downlink: exactly 8 bytes (docs/bidir), given raw; shorter raw input is refused, never padded silently. */
export function encodeSigfox(input: unknown): string {
  const raw = rawBytes(input);
  if (!raw || raw.length !== 8) throw new BadRequestError('A Sigfox downlink is exactly 8 bytes (input.hex of 16 hex digits)', { extensions: { field: 'hex' } }, 'bad-downlink-payload');
  return Buffer.from(raw).toString('hex');
}
