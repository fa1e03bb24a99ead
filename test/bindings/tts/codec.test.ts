// The Things Stack v3 codec against every TTS vector of network_servers.json and network_server_json.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../hub/errors.ts';
import { decodeTtsMessage, ttsCodec } from '../../../hub/bindings/tts/codec.ts';
import { optInstant } from '../../../hub/bindings/tts/fields.ts';
import type { DeviceFrame } from '../../../hub/bindings/types.ts';

const VECTORS = '/work/shared/vectors';
type Vector = { id?: string; kind: string; input: unknown; expected: Record<string, any> };
const ns: Vector[] = JSON.parse(readFileSync(`${VECTORS}/network_servers.json`, 'utf8'));
const nsJson: Vector[] = JSON.parse(readFileSync(`${VECTORS}/network_server_json.json`, 'utf8'));
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const upper = (s: string) => s.replace(/[-:]/g, '').toUpperCase();

function expectThrowsDecode(fn: () => unknown, field?: string): DecodeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    if (field !== undefined) expect((e as DecodeError).field).toBe(field);
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

const uplinks = ns.filter((v) => v.kind === 'tts-v3-uplink');

describe('TTS uplink vectors (network_servers.json)', () => {
  it('has the uplink vectors', () => expect(uplinks.length).toBe(10));

  it.each(uplinks.map((v) => [v.id!, v] as const))('%s', (_id, v) => {
    const e = v.expected;
    // Field-masked and fragment bodies carry no end_device_ids: the DevEUI comes from the webhook path.
    const context = e.device ? {} : { devEui: '70B3D57ED0000001' };
    const frame: DeviceFrame = ttsCodec.decodeUplink(v.input, 1_000, context);
    expect(frame.protocol).toBe('lorawan');
    if (e.device?.dev_eui) {
      expect(frame.keyType).toBe('devEui');
      expect(frame.deviceKey).toBe(upper(e.device.dev_eui));
    } else if (e.device) {
      expect(frame.keyType).toBe('ttsDeviceId');
      expect(frame.deviceKey).toBe(`${e.device.application_id}/${e.device.device_id}`);
    } else {
      expect(frame.deviceKey).toBe('70B3D57ED0000001');
    }
    if (e.device) {
      expect(frame.network?.deviceId).toBe(e.device.device_id);
      expect(frame.network?.applicationId).toBe(e.device.application_id);
      if (e.device.dev_addr) expect(frame.network?.devAddr).toBe(e.device.dev_addr);
      if (e.device.join_eui) expect(frame.network?.joinEui).toBe(e.device.join_eui);
    }
    expect(frame.fPort).toBe(e.frame.f_port);
    expect(frame.sequence).toBe(e.frame.f_cnt);
    expect(frame.network?.confirmed).toBe(e.frame.confirmed);
    expect(hex(frame.bytes)).toBe(e.payload.hex);
    if (e.decoded_payload) expect(frame.decoded).toEqual(e.decoded_payload);
    else expect(frame.decoded).toBeUndefined();

    const gateways: Array<Record<string, any>> = e.gateways ?? [];
    expect(frame.radio).toHaveLength(gateways.length);
    gateways.forEach((g, i) => {
      const r = frame.radio![i]!;
      expect(r.gatewayId).toBe(g.eui ? upper(g.eui) : g.gateway_id);
      expect(r.gatewayName).toBe(g.gateway_id);
      expect(r.rssi).toBe(g.rssi ?? 0);
      expect(r.snr).toBe(g.snr ?? 0);
      if (g.channel_rssi !== undefined) expect(r.channelRssi).toBe(g.channel_rssi);
      if (g.time) expect(r.time).toBe(g.time);
      if (g.timestamp !== undefined) expect(r.timestamp).toBe(g.timestamp);
      if (g.channel_index !== undefined) expect(r.channel).toBe(g.channel_index);
      if (e.radio?.frequency_hz) expect(r.frequency).toBe(e.radio.frequency_hz);
    });
    if (e.radio) {
      expect(frame.network?.spreadingFactor).toBe(e.radio.spreading_factor);
      expect(frame.network?.bandwidth).toBe(e.radio.bandwidth_hz);
      expect(frame.network?.frequency).toBe(e.radio.frequency_hz);
      if (e.radio.coding_rate) expect(frame.network?.codingRate).toBe(e.radio.coding_rate);
    }
    // observedAt: the NS time; the zero Timestamp of old serializers is unset, then the AS time (top-level received_at).
    const ns = e.ns_received_at && e.ns_received_at !== '0001-01-01T00:00:00Z' ? e.ns_received_at : e.received_at;
    expect(frame.observedAt).toBe(ns);
    if (e.received_at) expect(frame.network?.applicationServerReceivedAt).toBe(e.received_at);
    if (e.consumed_airtime) expect(frame.network?.consumedAirtime).toBe(e.consumed_airtime);
    if (e.simulated) expect(frame.network?.simulated).toBe(true);
    if (e.last_battery_percentage) expect(frame.network?.batteryPercentage).toBe(e.last_battery_percentage.value);
    expect(frame.messageId).toMatch(/^[A-Za-z0-9._~-]{1,200}$/);
    if (ns) expect(frame.messageId).toBe(`${e.frame.f_cnt}-${optInstant(ns, 'x')!.ms}`);
  });

  it('reads the user location of the registry into frame.location', () => {
    const frame = ttsCodec.decodeUplink(uplinks.find((v) => v.id === 'tts-uplink-dataformats')!.input, 0);
    expect(frame.location).toEqual({ latitude: 37.97155556731436, longitude: 23.72678801175413, altitude: 10, source: 'SOURCE_REGISTRY' });
  });

  it('gives a redelivered uplink the same messageId and a later one another', () => {
    const input = uplinks.find((v) => v.id === 'tts-uplink-starterkit-webhook')!.input as any;
    const a = ttsCodec.decodeUplink(input, 1);
    const b = ttsCodec.decodeUplink(structuredClone(input), 999_999);
    expect(b.messageId).toBe(a.messageId);
    const next = structuredClone(input);
    next.uplink_message.f_cnt = 15;
    next.uplink_message.received_at = '2025-04-16T11:54:13.787893298Z'; // same millisecond is still another message
    expect(ttsCodec.decodeUplink(next, 1).messageId).not.toBe(a.messageId);
  });
});

describe('TTS uplink vectors (network_server_json.json)', () => {
  const [docs, pb] = nsJson.filter((v) => v.kind === 'tts-v3-uplink');
  it('decodes the data-formats example', () => {
    const f = ttsCodec.decodeUplink(docs!.input, 0);
    const e = docs!.expected;
    expect(f.deviceKey).toBe(e.devEui);
    expect(f.network?.devAddr).toBe(e.devAddr);
    expect(f.sequence).toBe(e.fCnt);
    // expected.fPort is null (the example omits f_port); under TTS's omission rule an absent f_port reads 0.
    expect(e.fPort).toBeNull();
    expect(f.fPort).toBe(0);
    expect(hex(f.bytes)).toBe(e.payloadHex);
    expect(f.decoded).toEqual(e.decoded);
    expect(f.radio!.map((r) => ({ id: r.gatewayName, eui: r.gatewayId, rssi: r.rssi, snr: r.snr }))).toEqual(e.gateways);
    expect(f.network?.frequency).toBe(e.frequencyHz);
    expect(f.network?.spreadingFactor).toBe(e.spreadingFactor);
    expect(f.network?.applicationServerReceivedAt).toBe(e.receivedAt);
  });

  it('counts a reception relayed by Packet Broker once (the gateway heard it once)', () => {
    const f = ttsCodec.decodeUplink(pb!.input, 0);
    const e = pb!.expected;
    expect(f.deviceKey).toBe(e.devEui);
    expect(f.sequence).toBe(e.fCnt);
    expect(f.fPort).toBe(e.fPort);
    expect(hex(f.bytes)).toBe(e.payloadHex);
    expect(f.network?.frequency).toBe(e.frequencyHz);
    // Both rx_metadata entries are the reception of gateway 6A7E111A10000000 (the second via Packet Broker, naming it
    // as forwarder_gateway_eui): one reception, the direct one kept, the relay counted.
    expect(e.gateways).toHaveLength(2);
    expect(f.radio).toHaveLength(1);
    expect(f.radio![0]).toMatchObject({ gatewayId: e.gateways[0].eui, gatewayName: e.gateways[0].id, rssi: -24, snr: 12, relayed: 1 });
    expect(f.radio![0]!.viaPacketBroker).toBeUndefined();
  });

  it('keeps a reception heard only through Packet Broker, named by the forwarding gateway', () => {
    const input = structuredClone(pb!.input) as any;
    input.uplink_message.rx_metadata.shift();
    const f = ttsCodec.decodeUplink(input, 0);
    expect(f.radio).toEqual([expect.objectContaining({ gatewayId: '6A7E111A10000000', gatewayName: 'eui-6a7e111a10000000', viaPacketBroker: true, forwarderNetId: '000013' })]);
  });
});

describe('TTS other message types', () => {
  const byId = (id: string) => ns.find((v) => v.id === id)!;

  it.each(ns.filter((v) => v.kind === 'tts-v3-join').map((v) => [v.id!, v] as const))('join %s', (_id, v) => {
    const ev = decodeTtsMessage(v.input, 0);
    expect(ev.kind).toBe('join');
    if (ev.kind === 'uplink') return;
    expect(ev.event).toBe('join_accept');
    expect(ev.details.sessionKeyId).toBe(v.expected.session_key_id);
    expect(ev.details.deviceId).toBe(v.expected.device.device_id);
    if (v.expected.ns_received_at) expect(ev.details.receivedAt).toBe(v.expected.ns_received_at);
    if (v.expected.device.dev_eui) expect(ev.device).toEqual({ keyType: 'devEui', deviceKey: v.expected.device.dev_eui });
    if (v.expected.received_at) expect(ev.time).toBe(v.expected.received_at);
    expect(() => ttsCodec.decodeUplink(v.input, 0)).toThrow(DecodeError);
  });

  it.each(ns.filter((v) => /tts-v3-down-(ack|queued|failed)/.test(v.kind)).map((v) => [v.id!, v] as const))('downlink event %s', (_id, v) => {
    const ev = decodeTtsMessage(v.input, 0);
    expect(ev.kind).toBe('downlink');
    if (ev.kind === 'uplink') return;
    expect(ev.event).toBe(v.expected.event);
    const d = (v.expected.event === 'downlink_failed' ? ev.details.downlink : ev.details) as Record<string, any>;
    const x = v.expected.downlink;
    expect({ fPort: d.fPort, fCnt: d.fCnt, confirmed: d.confirmed, priority: d.priority, hex: hex(d.bytes), ids: d.correlationIds }).toEqual({
      fPort: x.f_port, fCnt: x.f_cnt, confirmed: x.confirmed, priority: x.priority, hex: x.hex, ids: x.downlink_correlation_ids,
    });
    if (x.session_key_id) expect(d.sessionKeyId).toBe(x.session_key_id);
    if (v.expected.error) {
      const { namespace, name, message_format, correlation_id, code } = v.expected.error;
      expect(ev.details.error).toEqual({ namespace, name, message: message_format, correlationId: correlation_id, code });
    }
  });

  it('location_solved', () => {
    const v = byId('tts-location-solved-loracloud-fragment');
    const ev = decodeTtsMessage(v.input, 0);
    expect(ev).toMatchObject({ kind: 'location', event: 'location_solved' });
    if (ev.kind === 'uplink') return;
    expect(ev.details).toEqual({ service: v.expected.service, latitude: v.expected.latitude, longitude: v.expected.longitude, accuracy: v.expected.accuracy_m, source: v.expected.source });
  });

  it.each(ns.filter((v) => /tts-v3-down-(push|replace)/.test(v.kind)).map((v) => [v.id!, v] as const))(
    'a downlink request body %s is not an ApplicationUp (refused, naming the missing member)',
    (_id, v) => {
      expectThrowsDecode(() => decodeTtsMessage(v.input, 0), 'uplink_message');
    },
  );
});

describe('TTS bad input', () => {
  const good = () => structuredClone(uplinks.find((v) => v.id === 'tts-uplink-starterkit-webhook')!.input) as any;
  const cases: Array<[string, (m: any) => unknown, string]> = [
    ['f_cnt as an object', (m) => (m.uplink_message.f_cnt = {}), 'uplink_message.f_cnt'],
    ['negative f_cnt', (m) => (m.uplink_message.f_cnt = -1), 'uplink_message.f_cnt'],
    ['f_cnt beyond 32 bits', (m) => (m.uplink_message.f_cnt = 2 ** 32), 'uplink_message.f_cnt'],
    ['f_port 256', (m) => (m.uplink_message.f_port = 256), 'uplink_message.f_port'],
    ['frm_payload not base64', (m) => (m.uplink_message.frm_payload = 'sQ!A'), 'uplink_message.frm_payload'],
    ['frm_payload a number', (m) => (m.uplink_message.frm_payload = 12), 'uplink_message.frm_payload'],
    ['decoded_payload an array', (m) => (m.uplink_message.decoded_payload = [1]), 'uplink_message.decoded_payload'],
    ['rx_metadata an object', (m) => (m.uplink_message.rx_metadata = {}), 'uplink_message.rx_metadata'],
    ['rssi a string', (m) => (m.uplink_message.rx_metadata[0].rssi = 'loud'), 'uplink_message.rx_metadata[0].rssi'],
    ['gateway without ids', (m) => (m.uplink_message.rx_metadata[0].gateway_ids = {}), 'uplink_message.rx_metadata[0].gateway_ids'],
    ['frequency not a number', (m) => (m.uplink_message.settings.frequency = '868.1 MHz'), 'uplink_message.settings.frequency'],
    ['a malformed time', (m) => (m.uplink_message.received_at = '2025-13-16T11:54:13Z'), 'uplink_message.received_at'],
    ['a DevEUI of 15 digits', (m) => (m.end_device_ids.dev_eui = '70B3D52DD600035'), 'end_device_ids.dev_eui'],
    ['no device at all', (m) => delete m.end_device_ids, 'end_device_ids.dev_eui'],
    ['two event members', (m) => (m.join_accept = {}), 'join_accept'],
    // Found by the fuzzer (seed 1): a null member was taken for an absent one and then read.
    ['uplink_message null', (m) => (m.uplink_message = null), 'uplink_message'],
    ['too many receptions', (m) => (m.uplink_message.rx_metadata = Array(300).fill(m.uplink_message.rx_metadata[0])), 'uplink_message.rx_metadata'],
  ];
  it.each(cases)('%s -> DecodeError naming the field', (_name, mutate, field) => {
    const m = good();
    mutate(m);
    const e = expectThrowsDecode(() => ttsCodec.decodeUplink(m, 0), field);
    expect(e.status).toBe(422);
  });

  it('refuses non-objects', () => {
    for (const body of [null, 1, 'x', [], true]) expectThrowsDecode(() => ttsCodec.decodeUplink(body, 0));
  });

  it('refuses a DevEUI in the path that differs from the body', () => {
    expectThrowsDecode(() => ttsCodec.decodeUplink(good(), 0, { devEui: '0000000000000001' }), 'end_device_ids.dev_eui');
  });

  it('unwraps a Storage Integration API line ({"result": ...})', () => {
    const f = ttsCodec.decodeUplink({ result: good() }, 0);
    expect(f.deviceKey).toBe('70B3D52DD600035A');
  });
});
