// Hand-rolled Semtech UDP packet-forwarder protocol (PROTOCOL.TXT v1.3 / sx1302_hal PROTOCOL.md v1.6, versions 1 and 2):
// datagram headers, PUSH_ACK/PULL_ACK, and the rxpk/stat/txpk_ack JSON read into typed receptions. Pure.
import { DecodeError } from '../../errors.ts';
import type { RadioReception } from '../types.ts';

export const PACKET_TYPES = ['PUSH_DATA', 'PUSH_ACK', 'PULL_DATA', 'PULL_RESP', 'PULL_ACK', 'TX_ACK'] as const;
export type PacketType = (typeof PACKET_TYPES)[number];

/** Datagrams larger than this are refused before parsing (a full rxpk batch of 255-byte frames stays far below). */
export const MAX_DATAGRAM_BYTES = 32 * 1024;
/** rxpk entries read from one PUSH_DATA. */
export const MAX_RXPK = 64;

export interface Datagram {
  version: 1 | 2;
  /** The two opaque token bytes, echoed in the acknowledgement. */
  token: Uint8Array;
  type: PacketType;
  /** 16 upper-case hex digits (PUSH_DATA, PULL_DATA, TX_ACK). */
  gatewayEui?: string;
  /** Parsed JSON body (PUSH_DATA, PULL_RESP, TX_ACK), when present. */
  json?: Record<string, unknown>;
}

const withEui = new Set<PacketType>(['PUSH_DATA', 'PULL_DATA', 'TX_ACK']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses one datagram's header and JSON. Throws DecodeError (code semtech-*) naming the byte offset. */
export function parseDatagram(buf: Uint8Array): Datagram {
  if (buf.length > MAX_DATAGRAM_BYTES) throw new DecodeError(`datagram of ${buf.length} bytes exceeds ${MAX_DATAGRAM_BYTES}`, { offset: MAX_DATAGRAM_BYTES }, 'semtech-too-large');
  if (buf.length < 4) throw new DecodeError('a packet-forwarder datagram has at least 4 bytes', { offset: buf.length, field: 'header' }, 'semtech-truncated');
  const version = buf[0]!;
  if (version !== 1 && version !== 2) throw new DecodeError(`unknown protocol version ${version}`, { offset: 0, field: 'version' }, 'semtech-version');
  const type = PACKET_TYPES[buf[3]!];
  if (!type) throw new DecodeError(`unknown packet identifier ${buf[3]}`, { offset: 3, field: 'identifier' }, 'semtech-type');
  const d: Datagram = { version, token: buf.subarray(1, 3), type };
  let bodyAt = 4;
  if (withEui.has(type)) {
    if (buf.length < 12) throw new DecodeError(`${type} needs a gateway EUI (12-byte header)`, { offset: buf.length, field: 'gatewayEui' }, 'semtech-truncated');
    d.gatewayEui = Buffer.from(buf.subarray(4, 12)).toString('hex').toUpperCase();
    bodyAt = 12;
  }
  let body = buf.subarray(bodyAt);
  // Kerlink iBTS appends one 0x00 to an empty TX_ACK; NUL-terminated JSON bodies are seen too.
  while (body.length > 0 && body[body.length - 1] === 0) body = body.subarray(0, body.length - 1);
  if (body.length > 0 && type !== 'PUSH_ACK' && type !== 'PULL_ACK' && type !== 'PULL_DATA') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(body));
    } catch (e) {
      const m = /position (\d+)/.exec(String((e as Error).message));
      throw new DecodeError(`${type} JSON does not parse`, { offset: bodyAt + (m ? Number(m[1]) : 0), field: 'json' }, 'semtech-json');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DecodeError(`${type} JSON must be an object`, { offset: bodyAt, field: 'json' }, 'semtech-json');
    d.json = parsed as Record<string, unknown>;
  }
  return d;
}

/** PUSH_ACK (for PUSH_DATA) or PULL_ACK (for PULL_DATA): version, the same token, the identifier. */
export function ackFor(d: Datagram): Buffer | undefined {
  const id = d.type === 'PUSH_DATA' ? 1 : d.type === 'PULL_DATA' ? 4 : undefined;
  if (id === undefined) return undefined;
  return Buffer.from([d.version, d.token[0]!, d.token[1]!, id]);
}

/** A PULL_RESP carrying a txpk (for the actions issue's downlinks). */
export function pullResp(version: 1 | 2, token: Uint8Array, txpk: Record<string, unknown>): Buffer {
  return Buffer.concat([Buffer.from([version, token[0] ?? 0, token[1] ?? 0, 3]), Buffer.from(JSON.stringify({ txpk }))]);
}

export type DataRate =
  | { modulation: 'LORA'; spreadingFactor: number; bandwidthKHz: number }
  | { modulation: 'LRFHSS'; modulationType: number; ocwKHz: number }
  | { modulation: 'FSK'; bitRate: number };

/** "SF7BW125" (LoRa), a number of bit/s (FSK), "M0CW137" (LR-FHSS). */
export function parseDatr(datr: unknown, modu: unknown): DataRate | undefined {
  if (typeof datr === 'number' && Number.isFinite(datr) && datr > 0) return { modulation: 'FSK', bitRate: datr };
  if (typeof datr !== 'string') return undefined;
  const m = /^SF(\d{1,2})BW(\d{2,4})$/.exec(datr);
  if (m) return { modulation: 'LORA', spreadingFactor: Number(m[1]), bandwidthKHz: Number(m[2]) };
  const h = /^M(\d{1,2})CW(\d{2,5})$/.exec(datr);
  if (h) return { modulation: 'LRFHSS', modulationType: Number(h[1]), ocwKHz: Number(h[2]) };
  void modu;
  return undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** Strict base64 (padding optional, as gateways omit it); Node's decoder alone would accept anything. */
export function decodeBase64Strict(s: string): Buffer | undefined {
  return BASE64.test(s) ? Buffer.from(s, 'base64') : undefined;
}

export interface RxPacket {
  /** The PHYPayload. */
  phy: Buffer;
  crc: 'ok' | 'bad' | 'none';
  reception: RadioReception;
  dataRate?: DataRate;
}

function finite(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/**
 * Reads `rxpk[]` of a PUSH_DATA. An entry that cannot be read (no data, bad base64, size mismatch) is reported in
 * `errors` with its index; the others are still returned (one bad packet does not hide the rest of the batch).
 */
export function readRxpk(json: Record<string, unknown>, gatewayEui: string): { packets: RxPacket[]; errors: DecodeError[] } {
  const packets: RxPacket[] = [];
  const errors: DecodeError[] = [];
  const list = json.rxpk;
  if (list === undefined) return { packets, errors };
  if (!Array.isArray(list)) return { packets, errors: [new DecodeError('rxpk must be an array', { field: 'rxpk' }, 'semtech-json')] };
  if (list.length > MAX_RXPK) errors.push(new DecodeError(`more than ${MAX_RXPK} rxpk entries; the rest are ignored`, { field: `rxpk[${MAX_RXPK}]` }, 'semtech-too-large'));
  list.slice(0, MAX_RXPK).forEach((p: unknown, i) => {
    const field = `rxpk[${i}]`;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) return void errors.push(new DecodeError('an rxpk entry is an object', { field }, 'semtech-json'));
    const r = p as Record<string, unknown>;
    if (typeof r.data !== 'string') return void errors.push(new DecodeError('rxpk data is missing', { field: `${field}.data` }, 'semtech-json'));
    const phy = decodeBase64Strict(r.data);
    if (!phy) return void errors.push(new DecodeError('rxpk data is not base64', { field: `${field}.data` }, 'semtech-base64'));
    const size = finite(r.size);
    if (size !== undefined && size !== phy.length) return void errors.push(new DecodeError(`rxpk size ${size} but ${phy.length} bytes of data`, { field: `${field}.size` }, 'semtech-size'));
    const stat = finite(r.stat);
    const crc = stat === 1 ? 'ok' : stat === -1 ? 'bad' : 'none';
    const reception: RadioReception = { gatewayId: gatewayEui };
    // Kerlink-style rsig[] replaces the top-level signal fields: keep the strongest antenna.
    let rssi = finite(r.rssi) ?? finite(r.rssis);
    let snr = finite(r.lsnr);
    let chan = finite(r.chan);
    if (Array.isArray(r.rsig)) {
      for (const s of r.rsig.slice(0, 16) as Array<Record<string, unknown>>) {
        if (s === null || typeof s !== 'object') continue;
        const sr = finite(s.rssic) ?? finite(s.rssis) ?? finite(s.rssi);
        if (sr !== undefined && (rssi === undefined || sr > rssi)) {
          rssi = sr;
          snr = finite(s.lsnr) ?? snr;
          chan = finite(s.chan) ?? chan;
        }
      }
    }
    if (rssi !== undefined) reception.rssi = rssi;
    if (snr !== undefined) reception.snr = snr;
    if (chan !== undefined) reception.channel = chan;
    const freq = finite(r.freq);
    if (freq !== undefined) reception.frequency = Math.round(freq * 1e6);
    if (typeof r.time === 'string' && !Number.isNaN(Date.parse(r.time))) reception.time = new Date(Date.parse(r.time)).toISOString();
    const tmst = finite(r.tmst);
    if (tmst !== undefined) reception.tmst = tmst;
    const rfch = finite(r.rfch);
    if (rfch !== undefined) reception.rfch = rfch;
    if (typeof r.modu === 'string') reception.modulation = r.modu;
    if (typeof r.datr === 'string' || typeof r.datr === 'number') reception.dataRate = r.datr;
    if (typeof r.codr === 'string') reception.codingRate = r.codr;
    const dataRate = parseDatr(r.datr, r.modu);
    if (dataRate?.modulation === 'LORA') {
      reception.spreadingFactor = dataRate.spreadingFactor;
      reception.bandwidth = dataRate.bandwidthKHz * 1000;
    }
    packets.push({ phy, crc, reception, dataRate });
  });
  return { packets, errors };
}

/** "2014-01-12 08:59:28 GMT" (stat's ISO "expanded" time) or RFC 3339, as ISO 8601 UTC; undefined when unreadable. */
export function statTime(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.\d+)?\s*(?:GMT|UTC|Z)$/.exec(s.trim());
  const t = m ? Date.parse(`${m[1]}T${m[2]}Z`) : Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

export interface GatewayStatus {
  time?: string;
  location?: { latitude: number; longitude: number; altitude?: number };
  metrics: Record<string, number>;
}

/** Reads a `stat` object: location, counters and temperature; vendor keys other than numbers are ignored. */
export function readStat(json: Record<string, unknown>): GatewayStatus | undefined {
  const s = json.stat;
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return undefined;
  const st = s as Record<string, unknown>;
  const out: GatewayStatus = { metrics: {} };
  const time = statTime(st.time);
  if (time) out.time = time;
  const lat = finite(st.lati);
  const lon = finite(st.long);
  if (lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0)) {
    out.location = { latitude: lat, longitude: lon };
    const alt = finite(st.alti);
    if (alt !== undefined) out.location.altitude = alt;
  }
  for (const k of ['rxnb', 'rxok', 'rxfw', 'ackr', 'dwnb', 'txnb', 'temp', 'lpps', 'lmnw', 'lmst', 'lmok']) {
    const v = finite(st[k]);
    if (v !== undefined) out.metrics[k] = v;
  }
  return out;
}

/** TX_ACK outcome: no JSON or error NONE = accepted; `warn` = accepted with a limitation; otherwise the error. */
export function readTxAck(json: Record<string, unknown> | undefined): { accepted: boolean; error?: string; warning?: string; value?: number } {
  const a = json?.txpk_ack as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object') return { accepted: true };
  if (typeof a.warn === 'string') return { accepted: true, warning: a.warn, ...(finite(a.value) !== undefined ? { value: finite(a.value) } : {}) };
  if (typeof a.error === 'string' && a.error !== 'NONE') return { accepted: false, error: a.error };
  return { accepted: true };
}
