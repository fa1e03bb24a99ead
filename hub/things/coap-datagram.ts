// RFC 7252 §3 message-format check of one CoAP datagram, before node-coap sees it: what the server must do with it.
//
// node-coap 1.5 (under node-wot's CoapServer) parses leniently (token lengths 9-15, truncated options and a payload
// marker with no payload pass) and answers what it cannot parse with 5.00 and the parser's message, and answers pings
// and Resets as requests (4.04). This module decides instead, by the RFC; it is pure and never throws (fuzzed).

/** Message types (RFC 7252 §3, T field). */
export const CON = 0;
export const NON = 1;
export const ACK = 2;
export const RST = 3;

export interface CoapOption {
  number: number;
  value: Buffer;
}

/** A datagram that passed the §3 format check. */
export interface CoapMessage {
  type: number;
  /** Code class (0 request/empty, 2-5 response) and detail. */
  codeClass: number;
  codeDetail: number;
  messageId: number;
  token: Buffer;
  options: CoapOption[];
  payload: Buffer;
}

/**
 * What to do with a datagram:
 * - `ignore`: send nothing (§3 unknown version or no complete header, §4.3 a Non-confirmable message that is rejected,
 *   §4.2 an ACK or RST that matches nothing we can act on);
 * - `reset`: answer with a Reset carrying the message ID (§4.2: a Confirmable message with a format error, a reserved
 *   code class or a response code; §4.3 CoAP ping: an Empty Confirmable message);
 * - `cancel`: a Reset: never answered; it cancels the observe relation whose notification it rejects (RFC 7641 §3.6);
 * - `ack`: an Empty ACK (acknowledges a Confirmable notification);
 * - `reply`: a well-formed request refused with a response code (4.00, 4.02, 4.05, 5.05) and a short diagnostic payload
 *   (§5.5.2) that carries no internals;
 * - `request`: a well-formed request for the router.
 */
export type DatagramVerdict =
  | { action: 'ignore'; reason: string }
  | { action: 'reset'; messageId: number; reason: string }
  | { action: 'cancel'; messageId: number }
  | { action: 'ack'; messageId: number }
  | { action: 'reply'; message: CoapMessage; code: string; reason: string }
  | { action: 'request'; message: CoapMessage };

/**
 * Options the hub understands (RFC 7252 §5.10, RFC 7641 Observe, RFC 7959 Block1/2 and Size2, RFC 7967 No-Response)
 * with their value length bounds (§5.4.3: a value outside them is treated like an unrecognised option).
 */
const KNOWN_OPTIONS = new Map<number, [number, number]>([
  [1, [0, 8]], // If-Match
  [3, [1, 255]], // Uri-Host
  [4, [1, 8]], // ETag
  [5, [0, 0]], // If-None-Match
  [6, [0, 3]], // Observe
  [7, [0, 2]], // Uri-Port
  [8, [0, 255]], // Location-Path
  [11, [0, 255]], // Uri-Path
  [12, [0, 2]], // Content-Format
  [14, [0, 4]], // Max-Age
  [15, [0, 255]], // Uri-Query
  [17, [0, 2]], // Accept
  [20, [0, 255]], // Location-Query
  [23, [0, 3]], // Block2
  [27, [0, 3]], // Block1
  [28, [0, 4]], // Size2
  [35, [1, 1034]], // Proxy-Uri
  [39, [1, 255]], // Proxy-Scheme
  [60, [0, 4]], // Size1
  [258, [0, 1]], // No-Response
]);
/** String-valued options (§3.2 "string": UTF-8). */
const STRING_OPTIONS = new Set([3, 8, 11, 15, 20, 35, 39]);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Most options the gate reads from one datagram (a Thing id of many path segments stays far below it). */
export const MAX_OPTIONS = 256;
const isCritical = (n: number) => (n & 1) === 1; // §5.4.6: odd numbers are critical

/** Reads an extended option delta or length (§3.1); undefined when the datagram ends inside it. */
function extended(nibble: number, buf: Uint8Array, at: number): [number, number] | undefined {
  if (nibble < 13) return [nibble, at];
  if (nibble === 13) return at + 1 <= buf.length ? [buf[at]! + 13, at + 1] : undefined;
  return at + 2 <= buf.length ? [((buf[at]! << 8) | buf[at + 1]!) + 269, at + 2] : undefined;
}

/** RFC 7252 §3 (and §4.2, §4.3, §5.4.1, §5.4.3, §5.7.2) applied to one datagram. Pure; never throws. */
export function inspectDatagram(bytes: Uint8Array): DatagramVerdict {
  if (bytes.length < 4) return { action: 'ignore', reason: 'shorter than the 4-byte CoAP header' };
  const version = bytes[0]! >> 6;
  if (version !== 1) return { action: 'ignore', reason: `unknown version ${version}` };
  const type = (bytes[0]! >> 4) & 0x03;
  const tkl = bytes[0]! & 0x0f;
  const codeClass = bytes[1]! >> 5;
  const codeDetail = bytes[1]! & 0x1f;
  const messageId = (bytes[2]! << 8) | bytes[3]!;
  // §4.2: a Confirmable message we cannot process is rejected with a Reset; §4.3: a Non-confirmable one is ignored.
  // ACK and RST never elicit a message.
  const reject = (reason: string): DatagramVerdict => (type === CON ? { action: 'reset', messageId, reason } : { action: 'ignore', reason });

  if (tkl > 8) return reject(`token length ${tkl} is reserved (RFC 7252 §3)`);
  if (codeClass === 0 && codeDetail === 0) {
    // §4.1 Empty message: no token, nothing after the Message ID.
    if (tkl !== 0 || bytes.length !== 4) return reject('an Empty message has no token, options or payload');
    if (type === CON) return { action: 'reset', messageId, reason: 'CoAP ping (§4.3)' };
    if (type === RST) return { action: 'cancel', messageId };
    if (type === ACK) return { action: 'ack', messageId };
    return { action: 'ignore', reason: 'Empty Non-confirmable message' };
  }
  if (bytes.length < 4 + tkl) return reject('the datagram ends inside the token');
  const token = Buffer.from(bytes.subarray(4, 4 + tkl));
  const options: CoapOption[] = [];
  let payload = Buffer.alloc(0);
  let at = 4 + tkl;
  let number = 0;
  while (at < bytes.length) {
    const byte = bytes[at]!;
    if (byte === 0xff) {
      if (at + 1 >= bytes.length) return reject('a payload marker followed by no payload (§3)');
      payload = Buffer.from(bytes.subarray(at + 1));
      break;
    }
    const dn = byte >> 4;
    const ln = byte & 0x0f;
    if (dn === 15) return reject('option delta 15 is reserved (§3.1)');
    if (ln === 15) return reject('option length 15 is reserved (§3.1)');
    const d = extended(dn, bytes, at + 1);
    if (!d) return reject('the datagram ends inside an option delta');
    const l = extended(ln, bytes, d[1]);
    if (!l) return reject('the datagram ends inside an option length');
    number += d[0];
    if (number > 0xffff) return reject('option number above 65535');
    if (l[1] + l[0] > bytes.length) return reject('the datagram ends inside an option value');
    // Each option is an allocation: 64 KiB of 0x20 bytes (delta 2, empty value) made 32,000 of them, ~30-50 ms of CPU
    // (found by the fuzz run). Real requests carry a few Uri-Path/Uri-Query options.
    if (options.length >= MAX_OPTIONS) return reject(`more than ${MAX_OPTIONS} options`);
    options.push({ number, value: Buffer.from(bytes.subarray(l[1], l[1] + l[0])) });
    at = l[1] + l[0];
  }
  const message: CoapMessage = { type, codeClass, codeDetail, messageId, token, options, payload };

  if (type === ACK || type === RST) return { action: 'ignore', reason: 'an ACK or RST with a code: the hub sends no requests' };
  if (codeClass !== 0) return reject(codeClass === 1 || codeClass >= 6 ? `reserved code class ${codeClass}` : 'a response, and the hub sends no requests');
  return checkRequest(message, reject);
}

/** Request-level rules: critical options (§5.4.1), value lengths (§5.4.3), UTF-8 strings (§3.2), proxying (§5.7.2). */
function checkRequest(message: CoapMessage, reject: (reason: string) => DatagramVerdict): DatagramVerdict {
  const refuse = (code: string, reason: string): DatagramVerdict =>
    // §5.4.1: an unrecognised critical option in a Non-confirmable message rejects it (no response).
    message.type === CON || code !== '4.02' ? { action: 'reply', message, code, reason } : reject(reason);
  for (const { number, value } of message.options) {
    const bounds = KNOWN_OPTIONS.get(number);
    const usable = bounds !== undefined && value.length >= bounds[0] && value.length <= bounds[1];
    if (!usable) {
      if (isCritical(number)) return refuse('4.02', `critical option ${number} is not supported or has a bad length`);
      continue; // §5.4.1: an unrecognised elective option is ignored
    }
    if (STRING_OPTIONS.has(number)) {
      try {
        utf8.decode(value);
      } catch {
        return refuse('4.00', `option ${number} is not valid UTF-8`);
      }
    }
    if (number === 35 || number === 39) return refuse('5.05', 'this server is not a proxy');
  }
  // The hub's resources take GET and POST (and node-coap knows PUT, DELETE); FETCH, PATCH, iPATCH and unknown methods
  // are 4.05 here rather than node-coap's FETCH handling, which answers without the request's token.
  if (message.codeDetail < 1 || message.codeDetail > 4) return refuse('4.05', `method 0.${String(message.codeDetail).padStart(2, '0')} is not supported`);
  if (message.codeDetail !== 1 && message.options.some((o) => o.number === 6)) return refuse('4.00', 'Observe applies to GET only');
  return { action: 'request', message };
}

/** A Reset for `messageId` (§4.2): an Empty message of type RST. */
export function resetDatagram(messageId: number): Buffer {
  return Buffer.from([0x70, 0x00, messageId >> 8, messageId & 0xff]);
}

/**
 * A response to a refused request: piggybacked in the ACK of a Confirmable request (§5.2.1), else a Non-confirmable
 * response with `newMessageId` (§5.2.3), with the request's token and `reason` as a diagnostic payload (§5.5.2).
 */
export function replyDatagram(request: CoapMessage, code: string, reason: string, newMessageId: number): Buffer {
  const [cls, detail] = code.split('.').map(Number) as [number, number];
  const type = request.type === CON ? ACK : NON;
  const mid = request.type === CON ? request.messageId : newMessageId & 0xffff;
  const header = Buffer.from([0x40 | (type << 4) | request.token.length, (cls << 5) | detail, mid >> 8, mid & 0xff]);
  const body = Buffer.from(reason.slice(0, 200), 'utf8');
  return Buffer.concat([header, request.token, ...(body.length ? [Buffer.from([0xff]), body] : [])]);
}

/** The type, message ID and token of an outgoing datagram (to match a later Reset), or undefined if it has none. */
export function outgoingExchange(bytes: Uint8Array): { type: number; messageId: number; token: string } | undefined {
  if (bytes.length < 4 || bytes[0]! >> 6 !== 1) return undefined;
  const tkl = bytes[0]! & 0x0f;
  if (tkl > 8 || bytes.length < 4 + tkl) return undefined;
  return { type: (bytes[0]! >> 4) & 0x03, messageId: (bytes[2]! << 8) | bytes[3]!, token: Buffer.from(bytes.subarray(4, 4 + tkl)).toString('hex') };
}
