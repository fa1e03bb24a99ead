// ChirpStack v4 integration events (HTTP integration `?event=<type>`, MQTT `application/{id}/device/{devEui}/event/<type>`)
// in protobuf JSON (api/proto/integration/integration.proto): lowerCamelCase names, bytes base64, enums as names,
// defaults omitted by releases before v4.1 (so an absent fCnt is 0 and an absent confirmed is false).
import { canonicalKey, type DeviceFrame, type NetworkServerCodec, type RadioReception } from '../types.ts';
import {
  base64Bytes,
  compact,
  fail,
  iriSafe,
  isObject,
  optArray,
  optBoolean,
  optInstant,
  optLocation,
  optNumber,
  optObject,
  optScalarText,
  optString,
  UINT32_MAX,
  type Json,
} from '../tts/fields.ts';
import { dedupeReceptions } from '../tts/codec.ts';
import type { NetworkEvent, NetworkEventKind } from '../tts/network-event.ts';

/** Event types of the integration (events.md); `integration` was removed in v4.15 but older servers still send it. */
export const CHIRPSTACK_EVENTS: Record<string, NetworkEventKind | 'uplink'> = {
  up: 'uplink',
  join: 'join',
  ack: 'downlink',
  txack: 'downlink',
  log: 'log',
  status: 'status',
  location: 'location',
  integration: 'integration',
};

function eui(value: unknown, field: string, hexDigits: number): string | undefined {
  const s = optString(value, field, 64);
  if (s === undefined || s === '') return undefined;
  const key = canonicalKey('devEui', s);
  if (!new RegExp(`^[0-9A-F]{${hexDigits}}$`).test(key)) fail(field, `${field} must be ${hexDigits} hex digits`);
  return key;
}

interface DeviceInfo {
  devEui: string;
  deviceName?: string;
  applicationId?: string;
  applicationName?: string;
  tenantId?: string;
  deviceProfileId?: string;
  deviceProfileName?: string;
  tags?: Record<string, unknown>;
}

function deviceInfo(value: unknown): DeviceInfo {
  const o = optObject(value, 'deviceInfo');
  if (!o) fail('deviceInfo', 'The event has no deviceInfo');
  const devEui = eui(o.devEui, 'deviceInfo.devEui', 16);
  if (!devEui) fail('deviceInfo.devEui', 'deviceInfo.devEui is required');
  return compact({
    devEui,
    deviceName: optString(o.deviceName, 'deviceInfo.deviceName', 256),
    applicationId: optString(o.applicationId, 'deviceInfo.applicationId', 64),
    applicationName: optString(o.applicationName, 'deviceInfo.applicationName', 256),
    tenantId: optString(o.tenantId, 'deviceInfo.tenantId', 64),
    deviceProfileId: optString(o.deviceProfileId, 'deviceInfo.deviceProfileId', 64),
    deviceProfileName: optString(o.deviceProfileName, 'deviceInfo.deviceProfileName', 256),
    tags: optObject(o.tags, 'deviceInfo.tags'),
  });
}

/** The lora (or fsk) modulation of a txInfo: bandwidth, spreading factor, code rate. */
function modulation(value: unknown, field: string): Record<string, unknown> {
  const m = optObject(value, field) ?? {};
  const lora = optObject(m.lora, `${field}.lora`);
  if (lora) {
    return compact({
      modulation: 'lora',
      bandwidth: optNumber(lora.bandwidth, `${field}.lora.bandwidth`, { integer: true, min: 0 }),
      spreadingFactor: optNumber(lora.spreadingFactor, `${field}.lora.spreadingFactor`, { integer: true, min: 5, max: 12 }),
      codeRate: optScalarText(lora.codeRate, `${field}.lora.codeRate`, 32),
      polarizationInversion: optBoolean(lora.polarizationInversion, `${field}.lora.polarizationInversion`),
    });
  }
  const fsk = optObject(m.fsk, `${field}.fsk`);
  if (fsk) return compact({ modulation: 'fsk', datarate: optNumber(fsk.datarate, `${field}.fsk.datarate`, { integer: true, min: 0 }) });
  const lrFhss = optObject(m.lrFhss, `${field}.lrFhss`);
  if (lrFhss) return { modulation: 'lr-fhss' };
  return {};
}

function reception(value: unknown, field: string, frequency: number | undefined): RadioReception {
  if (!isObject(value)) fail(field, `${field} must be a JSON object`);
  const gatewayId = eui(value.gatewayId, `${field}.gatewayId`, 16);
  if (!gatewayId) fail(`${field}.gatewayId`, `${field}.gatewayId is required`);
  const time = optInstant(value.gwTime, `${field}.gwTime`) ?? optInstant(value.time, `${field}.time`) ?? optInstant(value.nsTime, `${field}.nsTime`);
  const metadata = optObject(value.metadata, `${field}.metadata`);
  return compact({
    gatewayId,
    uplinkId: optNumber(value.uplinkId, `${field}.uplinkId`, { integer: true, min: 0, max: UINT32_MAX }),
    rssi: optNumber(value.rssi, `${field}.rssi`, { integer: true }) ?? 0,
    snr: optNumber(value.snr, `${field}.snr`) ?? 0,
    channel: optNumber(value.channel, `${field}.channel`, { integer: true, min: 0, max: 255 }) ?? 0,
    rfChain: optNumber(value.rfChain, `${field}.rfChain`, { integer: true, min: 0, max: 255 }),
    frequency,
    time: time?.text,
    location: optLocation(value.location, `${field}.location`),
    crcStatus: optScalarText(value.crcStatus, `${field}.crcStatus`, 32),
    region: metadata ? optString(metadata.region_common_name ?? metadata.region_name, `${field}.metadata.region_common_name`, 64) : undefined,
  });
}

function decodeUp(o: Json, device: DeviceInfo, receivedAt: number): DeviceFrame {
  const fCnt = optNumber(o.fCnt, 'fCnt', { integer: true, min: 0, max: UINT32_MAX }) ?? 0;
  const fPort = optNumber(o.fPort, 'fPort', { integer: true, min: 0, max: 255 }) ?? 0;
  const bytes = base64Bytes(o.data, 'data');
  const decoded = optObject(o.object, 'object');
  const tx = optObject(o.txInfo, 'txInfo') ?? {};
  const frequency = optNumber(tx.frequency, 'txInfo.frequency', { integer: true, min: 0 });
  const rx = optArray(o.rxInfo, 'rxInfo') ?? [];
  const radio = dedupeReceptions(rx.map((r, i) => reception(r, `rxInfo[${i}]`, frequency)));
  const time = optInstant(o.time, 'time');
  const deduplicationId = optString(o.deduplicationId, 'deduplicationId', 64);
  // Stable over redeliveries (HTTP retries, MQTT and HTTP both configured): fCnt + the server's time, else the
  // deduplication id (one per uplink); the transport's clock only as the last resort.
  const messageId = time ? iriSafe(fCnt, time.ms) : deduplicationId ? iriSafe(fCnt, deduplicationId) : iriSafe(fCnt, 'r', receivedAt);
  return compact({
    protocol: 'lorawan',
    keyType: 'devEui',
    deviceKey: device.devEui,
    sequence: fCnt,
    observedAt: time?.text,
    messageId,
    fPort,
    bytes,
    decoded,
    radio,
    network: compact({
      networkServer: 'chirpstack',
      deduplicationId,
      devEui: device.devEui,
      devAddr: eui(o.devAddr, 'devAddr', 8),
      deviceName: device.deviceName,
      applicationId: device.applicationId,
      applicationName: device.applicationName,
      tenantId: device.tenantId,
      deviceProfileName: device.deviceProfileName,
      tags: device.tags,
      confirmed: optBoolean(o.confirmed, 'confirmed') ?? false,
      adr: optBoolean(o.adr, 'adr') ?? false,
      dataRate: optNumber(o.dr, 'dr', { integer: true, min: 0, max: 15 }) ?? 0,
      frequency,
      ...modulation(tx.modulation, 'txInfo.modulation'),
      regionConfigId: optString(o.regionConfigId, 'regionConfigId', 64),
    }),
  });
}

function details(event: string, o: Json): Record<string, unknown> {
  switch (event) {
    case 'join':
      return compact({ devAddr: eui(o.devAddr, 'devAddr', 8), deduplicationId: optString(o.deduplicationId, 'deduplicationId', 64) });
    case 'ack':
      return compact({
        queueItemId: optString(o.queueItemId, 'queueItemId', 64),
        acknowledged: optBoolean(o.acknowledged, 'acknowledged') ?? false,
        fCntDown: optNumber(o.fCntDown, 'fCntDown', { integer: true, min: 0, max: UINT32_MAX }) ?? 0,
        deduplicationId: optString(o.deduplicationId, 'deduplicationId', 64),
      });
    case 'txack': {
      const tx = optObject(o.txInfo, 'txInfo') ?? {};
      return compact({
        downlinkId: optNumber(o.downlinkId, 'downlinkId', { integer: true, min: 0, max: UINT32_MAX }) ?? 0,
        queueItemId: optString(o.queueItemId, 'queueItemId', 64),
        fCntDown: optNumber(o.fCntDown, 'fCntDown', { integer: true, min: 0, max: UINT32_MAX }) ?? 0,
        gatewayId: eui(o.gatewayId, 'gatewayId', 16),
        frequency: optNumber(tx.frequency, 'txInfo.frequency', { integer: true, min: 0 }),
        power: optNumber(tx.power, 'txInfo.power', { integer: true }),
        ...modulation(tx.modulation, 'txInfo.modulation'),
      });
    }
    case 'log': {
      const context = optObject(o.context, 'context');
      return compact({
        level: optScalarText(o.level, 'level', 16) ?? 'INFO',
        code: optScalarText(o.code, 'code', 64) ?? 'UNKNOWN',
        description: optString(o.description, 'description', 4096),
        context,
      });
    }
    case 'status':
      return compact({
        margin: optNumber(o.margin, 'margin', { integer: true }) ?? 0,
        batteryLevel: optNumber(o.batteryLevel, 'batteryLevel', { min: 0, max: 100 }) ?? 0,
        externalPowerSource: optBoolean(o.externalPowerSource, 'externalPowerSource') ?? false,
        batteryLevelUnavailable: optBoolean(o.batteryLevelUnavailable, 'batteryLevelUnavailable') ?? false,
        deduplicationId: optString(o.deduplicationId, 'deduplicationId', 64),
      });
    case 'location':
      return compact({ ...(optLocation(o.location, 'location') ?? {}), deduplicationId: optString(o.deduplicationId, 'deduplicationId', 64) });
    case 'integration':
      return compact({
        integrationName: optString(o.integrationName, 'integrationName', 256),
        eventType: optString(o.eventType, 'eventType', 256),
        object: optObject(o.object, 'object'),
        deduplicationId: optString(o.deduplicationId, 'deduplicationId', 64),
      });
    default:
      return {};
  }
}

/**
 * Decodes one ChirpStack event of type `event` (the `?event=` of the HTTP integration or the last MQTT topic level).
 * Without a type, an event with uplink members (data, fCnt, fPort, rxInfo) is an uplink.
 */
export function decodeChirpstackEvent(event: string | undefined, body: unknown, receivedAt: number): NetworkEvent {
  if (!isObject(body)) fail('(body)', 'A ChirpStack event is a JSON object');
  const type = event ?? ('data' in body || 'fCnt' in body || 'fPort' in body || 'rxInfo' in body ? 'up' : undefined);
  if (type === undefined) fail('event', 'The event type is missing (the HTTP integration sends ?event=up|join|ack|txack|log|status|location|integration)');
  const kind = Object.hasOwn(CHIRPSTACK_EVENTS, type) ? CHIRPSTACK_EVENTS[type]! : undefined;
  if (!kind) fail('event', `Unknown ChirpStack event type '${type.slice(0, 64)}'`, 'unknown-event');
  const device = deviceInfo(body.deviceInfo);
  if (kind === 'uplink') return { kind, event: type, frame: decodeUp(body, device, receivedAt) };
  const time = optInstant(body.time, 'time');
  return compact({
    kind,
    event: type,
    device: { keyType: 'devEui', deviceKey: device.devEui },
    time: time?.text,
    details: compact({ deviceName: device.deviceName, applicationId: device.applicationId, ...details(type, body) }),
  });
}

/** ChirpStack as a NetworkServerCodec: the body of an `up` event (another event type is a DecodeError). */
export const chirpstackCodec: NetworkServerCodec & { decodeEvent: typeof decodeChirpstackEvent } = {
  name: 'chirpstack',
  decodeUplink(body, receivedAt) {
    const e = decodeChirpstackEvent('up', body, receivedAt);
    if (e.kind !== 'uplink') fail('event', 'not an uplink', 'not-an-uplink');
    return e.frame;
  },
  decodeEvent: decodeChirpstackEvent,
};
