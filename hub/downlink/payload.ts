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

/**
 * Encodes a command for a LoRaWAN route. FPort: input.fPort, else deviceDefinitions.downlinkFPort / fPort, else 1.
 * confirmed: input.confirmed, else deviceDefinitions.confirmedDownlinks, else true (only a confirmed downlink can reach
 * DELIVERED: the device's ACK is the evidence). Payload: raw bytes, else Cayenne LPP when the device's codec is LPP, else
 * the JSON `{<action>: <input>}` for the network server's formatter. Throws 400 for what cannot be encoded.
 */
export function encodeLorawan(action: string, input: unknown, route: Pick<DownlinkRoute, 'deviceDefinitions' | 'codecs'>): EncodedDownlink {
  const dd = route.deviceDefinitions;
  const fPort = (isRecord(input) ? intIn(input.fPort, 1, 223) : undefined) ?? intIn(dd.downlinkFPort, 1, 223) ?? intIn(dd.fPort, 1, 223) ?? 1;
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
