// Hand-rolled (no maintained JS library parses ELM327 output): an ELM327 reply (text up to the `>` prompt) -> ECU messages.
//
// Pure: no I/O, no clock. Handles headers on (ATH1: CAN 11-bit `7E8 03 41 0D 32`, 29-bit `18 DA F1 10 03 41 0D 32`) and
// off, spaces on and off (ATS0 `7E803410D32`), several ECUs answering one request (grouped by CAN id), ISO-TP
// multi-frame replies (first frame `10 LL`, consecutive frames `21`, `22` ... per ECU; with headers off the ELM's
// `014` / `0:` / `1:` line-numbered form), the echo of the request (ATE1) and status strings (NO DATA, ?, SEARCHING...,
// CAN ERROR, BUS INIT: ...ERROR, voltages ...), which are surfaced as typed statuses and never parsed as data.

/** One ECU's complete message: service bytes from the response mode on (e.g. `41 0D 32`). */
export interface ObdMessage {
  /** CAN id of the answering ECU in hex (`7E8`, `18DAF110`) when headers are on; undefined with headers off. */
  ecu?: string;
  data: Uint8Array;
}

export type ElmStatusKind =
  | 'no-data'
  | 'unknown-command'
  | 'searching'
  | 'unable-to-connect'
  | 'can-error'
  | 'bus-init-error'
  | 'bus-init'
  | 'bus-busy'
  | 'bus-error'
  | 'data-error'
  | 'stopped'
  | 'buffer-full'
  | 'fb-error'
  | 'lv-reset'
  | 'act-alert'
  | 'rx-error'
  | 'ok'
  | 'version'
  | 'voltage'
  | 'other';

export interface ElmStatus {
  kind: ElmStatusKind;
  text: string;
}

/** A hex line that is not a valid frame (bad PCI, length mismatch, missing consecutive frame): skipped, with why. */
export interface InvalidFrame {
  line: string;
  reason: string;
}

export interface ElmReply {
  messages: ObdMessage[];
  statuses: ElmStatus[];
  invalid: InvalidFrame[];
}

export interface ParseOptions {
  /** Whether the adapter sends headers (ATH1); 'auto' (default) recognises 11-bit and 29-bit CAN ids by shape. */
  headers?: boolean | 'auto';
  /** The request that was sent, so its echo (ATE1) is dropped. */
  request?: string;
}

/** Replies longer than this are not ELM327 replies (the ELM's own buffer holds 512 bytes). */
export const MAX_REPLY_CHARS = 16_384;
const MAX_LINES = 512;
/** ISO-TP messages are at most 4095 bytes (12-bit length). */
const MAX_MESSAGE = 4095;

const STATUS: Array<[RegExp, ElmStatusKind]> = [
  [/^NO ?DATA$/, 'no-data'],
  [/^\?$/, 'unknown-command'],
  [/^SEARCHING\.*$/, 'searching'],
  [/^UNABLE TO CONNECT$/, 'unable-to-connect'],
  [/^CAN ERROR$/, 'can-error'],
  [/^BUS INIT:.*ERROR$/, 'bus-init-error'],
  [/^BUS INIT:/, 'bus-init'],
  [/^BUS BUSY$/, 'bus-busy'],
  [/^BUS ERROR$/, 'bus-error'],
  [/^<?DATA ERROR>?/, 'data-error'],
  [/^STOPPED$/, 'stopped'],
  [/^BUFFER FULL$/, 'buffer-full'],
  [/^FB ERROR$/, 'fb-error'],
  [/^LV RESET$/, 'lv-reset'],
  [/^ACT ALERT$/, 'act-alert'],
  [/^<RX ERROR/, 'rx-error'],
  [/^OK$/, 'ok'],
  [/^ELM32[0-9]/, 'version'],
  [/^[0-9]{1,2}(\.[0-9])?V$/, 'voltage'],
];

/** The status a non-data line states (`NO DATA`, `12.8V` ...); 'other' for any text that is not a hex frame. */
export function statusOf(line: string): ElmStatus {
  const text = line.trim().toUpperCase();
  for (const [re, kind] of STATUS) if (re.test(text)) return { kind, text };
  return { kind: 'other', text };
}

const HEX_SPACED = /^[0-9A-F]{1,8}( [0-9A-F]{2})*$/;
const HEX_PACKED = /^[0-9A-F]+$/;
const NUMBERED = /^([0-9A-F]):\s?((?:[0-9A-F]{2}\s?)*)$/;

interface Frame {
  ecu?: string;
  bytes: number[];
  line: string;
}

/**
 * Parses the text of one reply (what came before the `>` prompt; the prompt itself, CR/LF and NULs are tolerated).
 * Never throws: invalid frames are listed in `invalid`, status lines in `statuses`.
 */
export function parseElmReply(text: string, options: ParseOptions = {}): ElmReply {
  const out: ElmReply = { messages: [], statuses: [], invalid: [] };
  const body = text.length > MAX_REPLY_CHARS ? text.slice(0, MAX_REPLY_CHARS) : text;
  if (text.length > MAX_REPLY_CHARS) out.statuses.push({ kind: 'buffer-full', text: 'reply truncated' });
  const echo = options.request?.replace(/\s/g, '').toUpperCase();
  const lines = body.replace(/\0/g, '').split(/[\r\n]+/).map((l) => l.replace(/>/g, '').trim()).filter((l) => l !== '').slice(0, MAX_LINES);
  const frames: Frame[] = [];
  // Headers off, CAN: `014` then `0: ...` `1: ...` (one numbered message; a second ECU would start with its own count).
  let numbered: { total: number; parts: Map<number, number[]>; line: string } | undefined;
  const flushNumbered = (): void => {
    if (!numbered) return;
    const bytes: number[] = [];
    for (let i = 0; i < 16 && bytes.length < numbered.total; i++) {
      const part = numbered.parts.get(i);
      if (!part) break;
      bytes.push(...part);
    }
    if (numbered.total === 0) out.invalid.push({ line: numbered.line, reason: 'numbered message of 0 bytes' });
    else if (bytes.length < numbered.total) out.invalid.push({ line: numbered.line, reason: `numbered message has ${bytes.length} of ${numbered.total} bytes` });
    else out.messages.push({ data: Uint8Array.from(bytes.slice(0, numbered.total)) });
    numbered = undefined;
  };
  for (const raw of lines) {
    const line = raw.toUpperCase();
    if (echo && line.replace(/\s/g, '') === echo) continue;
    const num = NUMBERED.exec(line);
    if (num && options.headers !== true) {
      if (!numbered) {
        out.invalid.push({ line: raw, reason: 'numbered line without a byte count line' });
        continue;
      }
      numbered.parts.set(parseInt(num[1]!, 16), hexBytes(num[2]!.replace(/\s/g, '')));
      continue;
    }
    if (options.headers !== true && /^[0-9A-F]{3}$/.test(line)) {
      flushNumbered();
      numbered = { total: parseInt(line, 16), parts: new Map(), line: raw };
      continue;
    }
    const spaced = line.includes(' ');
    if (!(spaced ? HEX_SPACED.test(line) : HEX_PACKED.test(line) && line.length >= 2)) {
      out.statuses.push(statusOf(raw));
      continue;
    }
    const frame = splitHeader(line, spaced, options.headers ?? 'auto');
    if (!frame) out.invalid.push({ line: raw, reason: 'not whole bytes' });
    else frames.push({ ...frame, line: raw });
  }
  flushNumbered();
  assemble(frames, out);
  return out;
}

function hexBytes(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < hex.length; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** Splits a CAN id off a hex line when headers are on (or the line has the shape of one in 'auto'). */
function splitHeader(line: string, spaced: boolean, headers: boolean | 'auto'): { ecu?: string; bytes: number[] } | undefined {
  if (spaced) {
    const tokens = line.split(' ');
    const first = tokens[0]!;
    if (first.length === 3) {
      if (headers === false) return undefined;
      return { ecu: first, bytes: tokens.slice(1).map((t) => parseInt(t, 16)) };
    }
    if (first.length !== 2) return undefined;
    const is29 = tokens.length >= 5 && first === '18' && tokens[1] === 'DA';
    if (headers === true || (headers === 'auto' && is29)) {
      if (tokens.length < 5) return undefined;
      return { ecu: tokens.slice(0, 4).join(''), bytes: tokens.slice(4).map((t) => parseInt(t, 16)) };
    }
    return { bytes: tokens.map((t) => parseInt(t, 16)) };
  }
  const odd = line.length % 2 === 1;
  if (odd) {
    if (headers === false) return undefined;
    return { ecu: line.slice(0, 3), bytes: hexBytes(line.slice(3)) };
  }
  if (headers === true || (headers === 'auto' && line.startsWith('18DA') && line.length >= 12)) {
    if (line.length < 10) return undefined;
    return { ecu: line.slice(0, 8), bytes: hexBytes(line.slice(8)) };
  }
  return { bytes: hexBytes(line) };
}

/** Headered frames: ISO-TP per ECU (single, first + consecutive); header-less frames: one message per line. */
function assemble(frames: Frame[], out: ElmReply): void {
  const pending = new Map<string, { total: number; bytes: number[]; next: number; line: string }>();
  const finish = (ecu: string): void => {
    const p = pending.get(ecu);
    if (!p) return;
    pending.delete(ecu);
    if (p.bytes.length >= p.total) return void out.messages.push({ ecu, data: Uint8Array.from(p.bytes.slice(0, p.total)) });
    // A short DTC reply (mode 43/47) is whole when its DTC count's codes arrived (python-OBD's multi-line mode 03 case:
    // the first frame states more bytes than the ECU sends).
    const dtcLength = p.bytes[0] === 0x43 || p.bytes[0] === 0x47 ? 2 + 2 * (p.bytes[1] ?? 0xff) : Infinity;
    if (p.bytes.length >= dtcLength) out.messages.push({ ecu, data: Uint8Array.from(p.bytes.slice(0, dtcLength)) });
    else out.invalid.push({ line: p.line, reason: `multi-frame message from ${ecu} has ${p.bytes.length} of ${p.total} bytes` });
  };
  for (const f of frames) {
    if (f.ecu === undefined) {
      // No frame, on any protocol the ELM speaks, is longer than an ISO-TP message (found by the obd fuzz target).
      if (f.bytes.length > MAX_MESSAGE) out.invalid.push({ line: f.line.slice(0, 64), reason: `line of ${f.bytes.length} bytes` });
      else out.messages.push({ data: Uint8Array.from(f.bytes) });
      continue;
    }
    const pci = f.bytes[0];
    if (pci === undefined) {
      out.invalid.push({ line: f.line, reason: 'no PCI byte' });
      continue;
    }
    const type = pci >> 4;
    if (type === 0) {
      const len = pci & 0x0f;
      const rest = f.bytes.length - 1;
      // A single frame holds 1..7 bytes; the ELM strips CAN padding (CAF1), a full 8-byte frame may keep it.
      if (len < 1 || len > 7 || (rest !== len && rest !== 7) || rest < len) {
        out.invalid.push({ line: f.line, reason: `single frame length ${len} with ${rest} bytes` });
        continue;
      }
      finish(f.ecu);
      out.messages.push({ ecu: f.ecu, data: Uint8Array.from(f.bytes.slice(1, 1 + len)) });
    } else if (type === 1) {
      const total = ((pci & 0x0f) << 8) | (f.bytes[1] ?? 0);
      if (f.bytes.length < 3 || total < 8 || total > MAX_MESSAGE) {
        out.invalid.push({ line: f.line, reason: `first frame length ${total}` });
        continue;
      }
      finish(f.ecu);
      pending.set(f.ecu, { total, bytes: f.bytes.slice(2), next: 1, line: f.line });
    } else if (type === 2) {
      const p = pending.get(f.ecu);
      if (!p) {
        out.invalid.push({ line: f.line, reason: 'consecutive frame without a first frame' });
        continue;
      }
      if ((pci & 0x0f) !== p.next) {
        pending.delete(f.ecu);
        out.invalid.push({ line: f.line, reason: `consecutive frame ${pci & 0x0f}, expected ${p.next}` });
        continue;
      }
      p.next = (p.next + 1) & 0x0f;
      p.bytes.push(...f.bytes.slice(1));
      if (p.bytes.length >= p.total) finish(f.ecu);
    } else {
      out.invalid.push({ line: f.line, reason: `PCI type ${type}` });
    }
  }
  for (const ecu of [...pending.keys()]) finish(ecu);
  // Engine ECU first (lowest CAN id), as the brief's multi-ECU vector lists them; stable for equal ids.
  out.messages.sort((a, b) => (a.ecu === undefined || b.ecu === undefined ? 0 : a.ecu.length - b.ecu.length || (a.ecu < b.ecu ? -1 : a.ecu > b.ecu ? 1 : 0)));
}
