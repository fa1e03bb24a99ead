// Network-server downlink events -> the command state they are evidence for (NETWORK_SERVERS.md §3, side by side).
import type { OtherNetworkEvent } from '../bindings/tts/network-event.ts';
import type { CommandStatus } from './types.ts';

/** Correlation id the hub puts in a TTS push (`correlation_ids`); the command's uuid follows the prefix. */
export const TTS_CORRELATION_PREFIX = 'wot-hub:cmd:';

/** What one event says about one command. `uuid` names it; else `device` names the device (Sigfox acknowledge). */
export interface Evidence {
  uuid?: string;
  device?: { keyType: string; deviceKey: string };
  status: CommandStatus;
  evidence: string;
  /** FAILED only: whether the retry policy may try again. */
  retryable?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function uuidOfCorrelation(ids: unknown): string | undefined {
  if (!Array.isArray(ids)) return undefined;
  for (const id of ids) {
    if (typeof id === 'string' && id.startsWith(TTS_CORRELATION_PREFIX)) {
      const u = id.slice(TTS_CORRELATION_PREFIX.length);
      if (UUID.test(u)) return u.toLowerCase();
    }
  }
  return undefined;
}

const clip = (s: unknown, n = 200): string => (typeof s === 'string' ? s.slice(0, n) : String(s ?? '')).replace(/[\u0000-\u001f]/g, ' ');

/** Sigfox acknowledge infoCodes that trying again cannot fix (docs/acknowledge). */
const SIGFOX_FINAL = new Set([2, 6, 8]);
const SIGFOX_CODES: Record<number, string> = {
  0: 'ACKED',
  1: 'NO_ANSWER',
  2: 'INVALID_PAYLOAD',
  3: 'OVERRUN_ERROR',
  4: 'NETWORK_ERROR',
  5: 'PENDING',
  6: 'NO_DOWNLINK_CONTRACT',
  7: 'TOO_MANY_REQUESTS',
  8: 'INVALID_CONFIGURATION',
};

/**
 * The evidence in one decoded network event (hub/bindings/tts, chirpstack, sigfox codecs), or undefined when it says
 * nothing about a hub command (another application's downlink, an uplink ACK without our id, a PENDING code).
 *
 * TTS: down/queued and down/sent -> ACCEPTED (the network server took it; sent = the gateway's TxAck); down/ack ->
 * DELIVERED (the device's ACK); down/nack, down/failed -> FAILED (retryable). ChirpStack: txack -> ACCEPTED; ack with
 * acknowledged true -> DELIVERED, false (timed out) -> FAILED; log ERROR naming queue_item_id -> FAILED. Sigfox
 * acknowledge: infoCode 0 -> ACCEPTED (the station emitted it; Sigfox has no device confirmation), 1-4, 6-8 -> FAILED.
 */
export function evidenceOf(binding: string, event: OtherNetworkEvent): Evidence | undefined {
  const d = isRecord(event.details) ? event.details : {};
  if (binding === 'tts') {
    const name = event.event;
    if (name === 'downlink_failed') {
      const downlink = isRecord(d.downlink) ? d.downlink : {};
      const uuid = uuidOfCorrelation(downlink.correlationIds);
      const error = isRecord(d.error) ? d.error : {};
      return uuid ? { uuid, status: 'FAILED', evidence: `tts down/failed: ${clip(error.name ?? error.message ?? 'error')}`, retryable: true } : undefined;
    }
    const uuid = uuidOfCorrelation(d.correlationIds);
    if (!uuid) return undefined;
    switch (name) {
      case 'downlink_queued':
        return { uuid, status: 'ACCEPTED', evidence: 'tts down/queued: the network server queued the downlink' };
      case 'downlink_sent':
        return { uuid, status: 'ACCEPTED', evidence: 'tts down/sent: the gateway acknowledged it for transmission (TxAck)' };
      case 'downlink_ack':
        return { uuid, status: 'DELIVERED', evidence: 'tts down/ack: the device acknowledged the confirmed downlink' };
      case 'downlink_nack':
        return { uuid, status: 'FAILED', evidence: 'tts down/nack: the device did not acknowledge (or the network server assumes it lost)', retryable: true };
      default:
        return undefined;
    }
  }
  if (binding === 'chirpstack') {
    const name = event.event;
    if (name === 'txack' || name === 'ack') {
      const uuid = typeof d.queueItemId === 'string' && UUID.test(d.queueItemId) ? d.queueItemId.toLowerCase() : undefined;
      if (!uuid) return undefined;
      if (name === 'txack') return { uuid, status: 'ACCEPTED', evidence: `chirpstack txack: the gateway accepted it for transmission${d.gatewayId ? ` (${clip(d.gatewayId, 32)})` : ''}` };
      return d.acknowledged === true
        ? { uuid, status: 'DELIVERED', evidence: 'chirpstack ack: acknowledged by the device' }
        : { uuid, status: 'FAILED', evidence: 'chirpstack ack: not acknowledged (downlink timed out)', retryable: true };
    }
    if (name === 'log' && d.level === 'ERROR') {
      const ctx = isRecord(d.context) ? d.context : {};
      const id = ctx.queue_item_id;
      if (typeof id !== 'string' || !UUID.test(id)) return undefined;
      const code = clip(d.code, 64);
      return { uuid: id.toLowerCase(), status: 'FAILED', evidence: `chirpstack log ERROR ${code}: ${clip(d.description)}`, retryable: code !== 'DOWNLINK_PAYLOAD_SIZE' };
    }
    return undefined;
  }
  if (binding === 'sigfox' && event.event === 'acknowledge' && event.device) {
    const code = typeof d.infoCode === 'number' ? d.infoCode : undefined;
    if (code === undefined || code === 5) return undefined;
    const device = event.device;
    const name = SIGFOX_CODES[code] ?? `code ${code}`;
    if (code === 0) return { device, status: 'ACCEPTED', evidence: `sigfox acknowledge infoCode 0 ACKED: the station emitted the downlink${d.downlinkAck === true ? ' (downlinkAck true)' : ''}` };
    return { device, status: 'FAILED', evidence: `sigfox acknowledge infoCode ${code} ${name}${d.infoMessage ? `: ${clip(d.infoMessage)}` : ''}`, retryable: !SIGFOX_FINAL.has(code) };
  }
  return undefined;
}
