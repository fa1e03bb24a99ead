// The Things Stack v3 application messages (webhook bodies, MQTT `v3/.../up` payloads) -> DeviceFrame or another event.
// Format: lorawan-stack-docs integrations/data-formats (ApplicationUp); TTS omits every field whose value is "", 0 or
// false, so an absent f_cnt reads 0 and an absent confirmed reads false (data-formats/_index.md).
import { canonicalKey, type DeviceFrame, type KeyType, type NetworkServerCodec, type RadioReception } from '../types.ts';
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
  optString,
  reqObject,
  UINT32_MAX,
  type Json,
} from './fields.ts';
import { eventDetails } from './events.ts';
import type { NetworkEvent, NetworkEventKind } from './network-event.ts';

/** Context a transport adds when the body lacks it (a field-masked webhook: the device from the path `{/devEUI}`). */
export interface TtsContext {
  devEui?: string;
}

/** The one message member an ApplicationUp carries (ApplicationUp.yml), and the kind of event it is. */
const EVENTS: Record<string, NetworkEventKind | 'uplink'> = {
  uplink_message: 'uplink',
  uplink_normalized: 'service',
  join_accept: 'join',
  downlink_ack: 'downlink',
  downlink_nack: 'downlink',
  downlink_sent: 'downlink',
  downlink_failed: 'downlink',
  downlink_queued: 'downlink',
  downlink_queue_invalidated: 'downlink',
  location_solved: 'location',
  service_data: 'service',
};

interface DeviceIds {
  deviceId?: string;
  applicationId?: string;
  devEui?: string;
  joinEui?: string;
  devAddr?: string;
}

function eui(value: unknown, field: string, hexDigits: number): string | undefined {
  const s = optString(value, field, 64);
  if (s === undefined || s === '') return undefined;
  const key = canonicalKey('devEui', s);
  if (!new RegExp(`^[0-9A-F]{${hexDigits}}$`).test(key)) fail(field, `${field} must be ${hexDigits} hex digits`);
  return key;
}

function deviceIds(value: unknown): DeviceIds {
  const o = optObject(value, 'end_device_ids');
  if (!o) return {};
  const app = optObject(o.application_ids, 'end_device_ids.application_ids');
  return compact({
    deviceId: optString(o.device_id, 'end_device_ids.device_id', 256),
    applicationId: app ? optString(app.application_id, 'end_device_ids.application_ids.application_id', 256) : undefined,
    devEui: eui(o.dev_eui, 'end_device_ids.dev_eui', 16),
    joinEui: eui(o.join_eui, 'end_device_ids.join_eui', 16),
    devAddr: eui(o.dev_addr, 'end_device_ids.dev_addr', 8),
  });
}

function deviceKeyOf(ids: DeviceIds, context: TtsContext): { keyType: KeyType; deviceKey: string } | undefined {
  const fromPath = context.devEui !== undefined ? eui(context.devEui, 'devEui (path)', 16) : undefined;
  if (ids.devEui && fromPath && ids.devEui !== fromPath) fail('end_device_ids.dev_eui', `end_device_ids.dev_eui ${ids.devEui} differs from the DevEUI of the path (${fromPath})`);
  const devEui = ids.devEui ?? fromPath;
  if (devEui) return { keyType: 'devEui', deviceKey: devEui };
  // An ABP device registered without a DevEUI (LoRaWAN 1.0.x) is known by its DevAddr only.
  if (ids.devAddr) return { keyType: 'devAddr', deviceKey: ids.devAddr };
  // Bodies that name the device by its TTS ids only (formatter fixtures, Pub/Sub): `{application_id}/{device_id}`.
  if (ids.deviceId) return { keyType: 'ttsDeviceId', deviceKey: ids.applicationId ? `${ids.applicationId}/${ids.deviceId}` : ids.deviceId };
  return undefined;
}

/** Unwraps the Storage Integration API's `{"result": {...}}` line; other bodies are the ApplicationUp itself. */
function unwrap(body: unknown): Json {
  if (!isObject(body)) fail('(body)', 'A TTS message is a JSON object');
  const keys = Object.keys(body);
  if (keys.length === 1 && keys[0] === 'result' && isObject(body.result)) return body.result;
  return body;
}

function eventMember(msg: Json): string {
  const found = Object.keys(msg).filter((k) => k in EVENTS);
  if (found.length === 0) fail('uplink_message', `The message carries none of ${Object.keys(EVENTS).join(', ')}`);
  if (found.length > 1) fail(found[1]!, `The message carries more than one event member (${found.join(', ')})`);
  return found[0]!;
}

/** One rx_metadata entry as a reception; Packet Broker relays name the forwarding gateway in `packet_broker`. */
function reception(value: unknown, field: string, frequency: number | undefined, fallbackChannel: number | undefined): RadioReception {
  if (!isObject(value)) fail(field, `${field} must be a JSON object`);
  const ids = optObject(value.gateway_ids, `${field}.gateway_ids`) ?? {};
  const gatewayName = optString(ids.gateway_id, `${field}.gateway_ids.gateway_id`, 256);
  const gatewayEui = eui(ids.eui, `${field}.gateway_ids.eui`, 16);
  const pb = optObject(value.packet_broker, `${field}.packet_broker`);
  const forwarderEui = pb ? eui(pb.forwarder_gateway_eui, `${field}.packet_broker.forwarder_gateway_eui`, 16) : undefined;
  const gatewayId = forwarderEui ?? gatewayEui ?? (pb ? optString(pb.forwarder_gateway_id, `${field}.packet_broker.forwarder_gateway_id`, 256) : undefined) ?? gatewayName;
  if (!gatewayId) fail(`${field}.gateway_ids`, `${field} names no gateway (gateway_ids.gateway_id or eui)`);
  const time = optInstant(value.time, `${field}.time`) ?? optInstant(value.received_at, `${field}.received_at`);
  const rssi = optNumber(value.rssi, `${field}.rssi`);
  const channelRssi = optNumber(value.channel_rssi, `${field}.channel_rssi`);
  return compact({
    gatewayId,
    gatewayName: pb ? (optString(pb.forwarder_gateway_id, `${field}.packet_broker.forwarder_gateway_id`, 256) ?? gatewayName) : gatewayName,
    // Absent means 0 under the omission rule; RSSI 0 dBm is a real (if unlikely) reading, so both are kept as read.
    rssi: rssi ?? channelRssi ?? 0,
    channelRssi,
    signalRssi: optNumber(value.signal_rssi, `${field}.signal_rssi`),
    snr: optNumber(value.snr, `${field}.snr`) ?? 0,
    channel: optNumber(value.channel_index, `${field}.channel_index`, { integer: true, min: 0, max: 255 }) ?? fallbackChannel ?? 0,
    frequency,
    time: time?.text,
    timestamp: optNumber(value.timestamp, `${field}.timestamp`, { integer: true, min: 0, max: UINT32_MAX }),
    location: optLocation(value.location, `${field}.location`),
    viaPacketBroker: pb ? true : undefined,
    forwarderNetId: pb ? optString(pb.forwarder_net_id, `${field}.packet_broker.forwarder_net_id`, 64) : undefined,
  });
}

/**
 * Receptions, one per gateway: a reception relayed twice (the gateway's own entry plus the Packet Broker copy naming it
 * as forwarder, or the same gateway listed twice) counts once; the direct entry is kept and `relayed` counts the copies.
 */
export function dedupeReceptions(list: RadioReception[]): RadioReception[] {
  const byGateway = new Map<string, RadioReception>();
  for (const r of list) {
    const key = r.gatewayId.toUpperCase();
    const seen = byGateway.get(key);
    if (!seen) {
      byGateway.set(key, r);
      continue;
    }
    const keep = seen.viaPacketBroker && !r.viaPacketBroker ? r : seen;
    keep.relayed = ((seen.relayed as number | undefined) ?? 0) + ((r.relayed as number | undefined) ?? 0) + 1;
    byGateway.set(key, keep);
  }
  return [...byGateway.values()];
}

function decodeUplinkMessage(msg: Json, ids: DeviceIds, context: TtsContext, receivedAt: number): DeviceFrame {
  const up = reqObject(msg.uplink_message, 'uplink_message');
  const key = deviceKeyOf(ids, context);
  if (!key) fail('end_device_ids.dev_eui', 'The uplink names no device (end_device_ids.dev_eui, dev_addr or device_id, or the DevEUI in the webhook path)');
  const fCnt = optNumber(up.f_cnt, 'uplink_message.f_cnt', { integer: true, min: 0, max: UINT32_MAX }) ?? 0;
  const fPort = optNumber(up.f_port, 'uplink_message.f_port', { integer: true, min: 0, max: 255 }) ?? 0;
  const bytes = base64Bytes(up.frm_payload, 'uplink_message.frm_payload');
  const decoded = optObject(up.decoded_payload, 'uplink_message.decoded_payload');

  const settings = optObject(up.settings, 'uplink_message.settings') ?? {};
  const dataRate = optObject(settings.data_rate, 'uplink_message.settings.data_rate') ?? {};
  const lora = optObject(dataRate.lora, 'uplink_message.settings.data_rate.lora') ?? {};
  const frequency = optNumber(settings.frequency, 'uplink_message.settings.frequency', { integer: true, min: 0 });
  const fallbackChannel = optNumber(settings.gateway_channel_index, 'uplink_message.settings.gateway_channel_index', { integer: true, min: 0, max: 255 });

  const rx = optArray(up.rx_metadata, 'uplink_message.rx_metadata') ?? [];
  const radio = dedupeReceptions(rx.map((r, i) => reception(r, `uplink_message.rx_metadata[${i}]`, frequency, fallbackChannel)));

  // observedAt: the Network Server's reception time; the Application Server's (top level) when the NS time is unset.
  const nsTime = optInstant(up.received_at, 'uplink_message.received_at');
  const asTime = optInstant(msg.received_at, 'received_at');
  const settingsTime = optInstant(settings.time, 'uplink_message.settings.time');
  const observed = nsTime ?? asTime;
  const sessionKeyId = optString(up.session_key_id, 'uplink_message.session_key_id', 128);
  // Stable over redeliveries (webhook retries, the same uplink over MQTT): f_cnt + the NS time; without a time the
  // session key id + f_cnt is still unique per message; the transport's clock only as the last resort.
  const messageId = observed
    ? iriSafe(fCnt, observed.ms)
    : sessionKeyId
      ? iriSafe(fCnt, 's', Buffer.from(sessionKeyId, 'base64').toString('hex'))
      : iriSafe(fCnt, 'r', receivedAt);

  const locations = optObject(up.locations, 'uplink_message.locations');
  let location: DeviceFrame['location'];
  if (locations) {
    // A location the message carries or a service solved is preferred to the one registered by hand (`user`).
    const names = Object.keys(locations).sort((a, b) => Number(a === 'user') - Number(b === 'user'));
    for (const name of names.slice(0, 16)) {
      const loc = optLocation(locations[name], `uplink_message.locations.${name}`);
      if (loc) {
        location = { ...loc, source: loc.source ?? name };
        break;
      }
    }
  }
  const networkIds = optObject(up.network_ids, 'uplink_message.network_ids') ?? {};
  const battery = optObject(up.last_battery_percentage, 'uplink_message.last_battery_percentage');

  return compact({
    protocol: 'lorawan',
    keyType: key.keyType,
    deviceKey: key.deviceKey,
    sequence: fCnt,
    observedAt: observed?.text,
    messageId,
    fPort,
    bytes,
    decoded,
    radio,
    location,
    network: compact({
      networkServer: 'tts',
      deviceId: ids.deviceId,
      applicationId: ids.applicationId,
      devEui: ids.devEui,
      joinEui: ids.joinEui,
      devAddr: ids.devAddr,
      confirmed: optBoolean(up.confirmed, 'uplink_message.confirmed') ?? false,
      spreadingFactor: optNumber(lora.spreading_factor, 'uplink_message.settings.data_rate.lora.spreading_factor', { integer: true, min: 5, max: 12 }),
      bandwidth: optNumber(lora.bandwidth, 'uplink_message.settings.data_rate.lora.bandwidth', { integer: true, min: 0 }),
      codingRate: optString(lora.coding_rate, 'uplink_message.settings.data_rate.lora.coding_rate', 16) ?? optString(settings.coding_rate, 'uplink_message.settings.coding_rate', 16),
      dataRateIndex: optNumber(settings.data_rate_index, 'uplink_message.settings.data_rate_index', { integer: true, min: 0, max: 15 }),
      frequency,
      gatewayTime: settingsTime?.text,
      consumedAirtime: optString(up.consumed_airtime, 'uplink_message.consumed_airtime', 32),
      applicationServerReceivedAt: asTime?.text,
      netId: optString(networkIds.net_id, 'uplink_message.network_ids.net_id', 32),
      tenantId: optString(networkIds.tenant_id, 'uplink_message.network_ids.tenant_id', 256),
      clusterId: optString(networkIds.cluster_id, 'uplink_message.network_ids.cluster_id', 256),
      batteryPercentage: battery ? optNumber(battery.value, 'uplink_message.last_battery_percentage.value', { min: 0, max: 100 }) : undefined,
      simulated: optBoolean(msg.simulated, 'simulated'),
    }),
  });
}

/**
 * Decodes any ApplicationUp: an uplink_message becomes a DeviceFrame, every other member an event with its details.
 * Pure (receivedAt is the transport's clock, used only when the message states no time and no session).
 */
export function decodeTtsMessage(body: unknown, receivedAt: number, context: TtsContext = {}): NetworkEvent {
  const msg = unwrap(body);
  const member = eventMember(msg);
  const ids = deviceIds(msg.end_device_ids);
  if (member === 'uplink_message') return { kind: 'uplink', event: member, frame: decodeUplinkMessage(msg, ids, context, receivedAt) };
  let key: { keyType: KeyType; deviceKey: string } | undefined;
  try {
    key = deviceKeyOf(ids, context);
  } catch {
    key = undefined;
  }
  const time = optInstant(msg.received_at, 'received_at');
  return compact({
    kind: EVENTS[member] as NetworkEventKind,
    event: member,
    device: key,
    time: time?.text,
    details: compact({ deviceId: ids.deviceId, applicationId: ids.applicationId, devAddr: ids.devAddr, ...eventDetails(member, msg) }),
  });
}

/** TTS as a NetworkServerCodec: only uplink messages are frames; another message type is a DecodeError naming it. */
export const ttsCodec: NetworkServerCodec & {
  decodeUplink(body: unknown, receivedAt: number, context?: TtsContext): DeviceFrame;
  decodeMessage: typeof decodeTtsMessage;
} = {
  name: 'tts',
  decodeUplink(body: unknown, receivedAt: number, context: TtsContext = {}): DeviceFrame {
    const event = decodeTtsMessage(body, receivedAt, context);
    if (event.kind !== 'uplink') fail(event.event, `A TTS ${event.event} message is not an uplink`, 'not-an-uplink');
    return event.frame;
  },
  decodeMessage: decodeTtsMessage,
};

