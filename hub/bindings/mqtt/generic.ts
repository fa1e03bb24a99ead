// The hub's generic JSON uplink (binding `mqtt-json`): a JSON object published by a simulator or a simple device, as a DeviceFrame.
//
// Body: any JSON object; it becomes `decoded` as a whole. Reserved members, all optional:
//   messageId  string [A-Za-z0-9._~-]{1,64}: identifies the message (a redelivery carries the same one)
//   seq        integer 0..2^53: the device's sequence number (DeviceFrame.sequence)
//   time       RFC 3339 / ISO 8601 date-time: when the device observed it (DeviceFrame.observedAt)
// messageId, when absent, is built from what the device said: `s{seq}-{timeMs}`, `s{seq}`, `t{timeMs}`, else `h` + the
// first 16 hex digits of the body's SHA-256 (the same bytes are the same message; a device that repeats identical
// bodies without seq or time should send one of them). Never from the hub's arrival time, so redelivery is harmless.
import { createHash } from 'node:crypto';
import { DecodeError } from '../../errors.ts';
import { canonicalKey, type DeviceFrame, type KeyType } from '../types.ts';

const MESSAGE_ID = /^[A-Za-z0-9._~-]{1,64}$/;

/** Who a generic message is for: a device key from `hub/devices/{keyType}/{key}/up`, or a Thing id from `hub/things/{id}/messages`. */
export type GenericTarget = { keyType: KeyType; key: string } | { thingId: string };

/**
 * The frame of a generic JSON message. `hub/things/{id}/messages` yields keyType `thingId` (routing resolves that kind
 * by the Thing's id rather than through the device-key index). Pure: no clock; throws DecodeError naming the member.
 */
export function decodeGenericUplink(target: GenericTarget, body: unknown, bytes: Uint8Array): DeviceFrame {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DecodeError('A generic uplink must be a JSON object', { field: '$' });
  }
  const msg = body as Record<string, unknown>;
  let sequence: number | undefined;
  if (msg.seq !== undefined) {
    if (typeof msg.seq !== 'number' || !Number.isSafeInteger(msg.seq) || msg.seq < 0) {
      throw new DecodeError("'seq' must be a non-negative integer", { field: 'seq' });
    }
    sequence = msg.seq;
  }
  let observedAt: string | undefined;
  let timeMs: number | undefined;
  if (msg.time !== undefined) {
    if (typeof msg.time !== 'string' || msg.time.length > 64 || !/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(msg.time) || !Number.isFinite(Date.parse(msg.time))) {
      throw new DecodeError("'time' must be an ISO 8601 date-time with a date and a time", { field: 'time' });
    }
    timeMs = Date.parse(msg.time);
    observedAt = new Date(timeMs).toISOString();
  }
  let messageId: string;
  if (msg.messageId !== undefined) {
    if (typeof msg.messageId !== 'string' || !MESSAGE_ID.test(msg.messageId)) {
      throw new DecodeError("'messageId' must be 1-64 characters of [A-Za-z0-9._~-]", { field: 'messageId' });
    }
    messageId = msg.messageId;
  } else if (sequence !== undefined) {
    messageId = timeMs !== undefined ? `s${sequence}-${timeMs}` : `s${sequence}`;
  } else if (timeMs !== undefined) {
    messageId = `t${timeMs}`;
  } else {
    messageId = `h${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;
  }
  const keyType = 'thingId' in target ? 'thingId' : target.keyType;
  const deviceKey = 'thingId' in target ? target.thingId : canonicalKey(target.keyType, target.key);
  const frame: DeviceFrame = { protocol: 'mqtt-json', keyType, deviceKey, messageId, decoded: msg };
  if (sequence !== undefined) frame.sequence = sequence;
  if (observedAt !== undefined) frame.observedAt = observedAt;
  return frame;
}
