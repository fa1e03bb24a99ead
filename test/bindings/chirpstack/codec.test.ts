// The ChirpStack v4 codec against every ChirpStack vector of network_servers.json and network_server_json.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../hub/errors.ts';
import { chirpstackCodec, decodeChirpstackEvent } from '../../../hub/bindings/chirpstack/codec.ts';

const VECTORS = '/work/shared/vectors';
type Vector = { id?: string; kind: string; input: any; expected: Record<string, any> };
const ns: Vector[] = JSON.parse(readFileSync(`${VECTORS}/network_servers.json`, 'utf8'));
const nsJson: Vector[] = JSON.parse(readFileSync(`${VECTORS}/network_server_json.json`, 'utf8'));
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const byId = (id: string) => ns.find((v) => v.id === id)!;

function decodeErrorOf(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

function expectDevice(details: Record<string, unknown>, device: Record<string, any>) {
  expect(details.deviceName).toBe(device.device_name);
  expect(details.applicationId).toBe(device.application_id);
}

describe('ChirpStack up vectors', () => {
  it('chirpstack-up-docs (defaults omitted: fCnt, adr, confirmed read as zero)', () => {
    const v = byId('chirpstack-up-docs');
    const e = v.expected;
    const f = chirpstackCodec.decodeUplink(v.input, 0);
    expect(f).toMatchObject({ protocol: 'lorawan', keyType: 'devEui', deviceKey: e.device.dev_eui.toUpperCase(), sequence: e.frame.f_cnt, fPort: e.frame.f_port, observedAt: e.time });
    expect(hex(f.bytes)).toBe(e.payload.hex);
    expect(f.network).toMatchObject({
      deduplicationId: e.deduplication_id, devAddr: e.dev_addr.toUpperCase(), dataRate: e.frame.dr, confirmed: e.frame.confirmed, adr: e.frame.adr,
      deviceName: e.device.device_name, applicationId: e.device.application_id, tenantId: e.device.tenant_id, tags: e.device.tags,
      frequency: e.radio.frequency_hz, modulation: e.radio.modulation, bandwidth: e.radio.bandwidth_hz, spreadingFactor: e.radio.spreading_factor, codeRate: e.radio.code_rate,
    });
    expect(f.radio).toHaveLength(1);
    const g = e.gateways[0];
    expect(f.radio![0]).toMatchObject({ gatewayId: g.gateway_id.toUpperCase(), uplinkId: g.uplink_id, rssi: g.rssi, snr: g.snr, channel: 0, frequency: e.radio.frequency_hz, region: g.metadata.region_common_name });
    expect(f.decoded).toBeUndefined();
    expect(f.messageId).toMatch(/^0-\d+$/);
  });

  it.each(nsJson.filter((v) => v.kind === 'chirpstack-v4-up').map((v, i) => [i, v] as const))('network_server_json up #%i', (_i, v) => {
    const e = v.expected;
    const f = chirpstackCodec.decodeUplink(v.input, 0);
    expect(f.deviceKey).toBe(e.devEui.toUpperCase());
    expect(f.network?.devAddr).toBe(e.devAddr.toUpperCase());
    expect(f.sequence).toBe(e.fCnt);
    expect(f.fPort).toBe(e.fPort);
    expect(f.network?.dataRate).toBe(e.dr);
    if (e.adr !== undefined) expect(f.network?.adr).toBe(e.adr);
    if (e.confirmed !== undefined) expect(f.network?.confirmed).toBe(e.confirmed);
    expect(hex(f.bytes)).toBe(e.payloadHex);
    expect(f.network?.frequency).toBe(e.frequencyHz);
    expect(f.network?.spreadingFactor).toBe(e.spreadingFactor);
    expect(f.radio!.map((r) => ({ id: r.gatewayId.toLowerCase(), rssi: r.rssi, snr: r.snr, ...(e.gateways[0].channel !== undefined ? { channel: r.channel } : {}) }))).toEqual(e.gateways);
    if (e.time) expect(f.observedAt).toBe(e.time);
  });

  it('reads v4.1+ bodies that emit defaults, numbers as strings (proto3 JSON), the decoded object and gateway locations', () => {
    const input = structuredClone(byId('chirpstack-up-docs').input);
    Object.assign(input, { fCnt: '42', adr: false, confirmed: true, object: { temperature: 21.5 } });
    input.rxInfo.push({ ...input.rxInfo[0], gatewayId: 'aa555a0000000101', rssi: -90, location: { latitude: 51.5, longitude: 4.4, altitude: 3 } });
    input.rxInfo.push({ ...input.rxInfo[0] }); // the same gateway twice (two bridges): counted once
    const f = chirpstackCodec.decodeUplink(input, 0);
    expect(f.sequence).toBe(42);
    expect(f.network?.confirmed).toBe(true);
    expect(f.decoded).toEqual({ temperature: 21.5 });
    expect(f.radio).toHaveLength(2);
    expect(f.radio![0]!.relayed).toBe(1);
    expect(f.radio![1]).toMatchObject({ gatewayId: 'AA555A0000000101', rssi: -90, location: { latitude: 51.5, longitude: 4.4, altitude: 3 } });
  });

  it('gives the same uplink the same messageId however often it is posted', () => {
    const v = byId('chirpstack-up-docs');
    expect(chirpstackCodec.decodeUplink(v.input, 1).messageId).toBe(chirpstackCodec.decodeUplink(v.input, 2).messageId);
  });
});

describe('ChirpStack other events', () => {
  it('join: reports the DevAddr of the new session', () => {
    const v = byId('chirpstack-join-docs');
    const ev = decodeChirpstackEvent('join', v.input, 0);
    expect(ev).toMatchObject({ kind: 'join', event: 'join', device: { keyType: 'devEui', deviceKey: '0101010101010101' }, time: v.expected.time });
    if (ev.kind === 'uplink') return;
    expect(ev.details).toMatchObject({ devAddr: v.expected.dev_addr.toUpperCase(), deduplicationId: v.expected.deduplication_id });
    expectDevice(ev.details, v.expected.device);
  });

  it('ack', () => {
    const v = byId('chirpstack-ack-docs');
    const ev = decodeChirpstackEvent('ack', v.input, 0);
    if (ev.kind === 'uplink') throw new Error('not an ack');
    expect(ev).toMatchObject({ kind: 'downlink', event: 'ack', time: v.expected.time });
    expect(ev.details).toMatchObject({ queueItemId: v.expected.queue_item_id, acknowledged: v.expected.acknowledged, fCntDown: v.expected.f_cnt_down, deduplicationId: v.expected.deduplication_id });
  });

  it('txack', () => {
    const v = byId('chirpstack-txack-docs');
    const ev = decodeChirpstackEvent('txack', v.input, 0);
    if (ev.kind === 'uplink') throw new Error('not a txack');
    const t = v.expected.tx;
    expect(ev.details).toMatchObject({
      downlinkId: v.expected.downlink_id, queueItemId: v.expected.queue_item_id, fCntDown: v.expected.f_cnt_down, gatewayId: v.expected.gateway_id.toUpperCase(),
      frequency: t.frequency_hz, power: t.power_dbm, bandwidth: t.bandwidth_hz, spreadingFactor: t.spreading_factor, codeRate: t.code_rate, polarizationInversion: t.polarization_inversion,
    });
  });

  it('log', () => {
    const v = byId('chirpstack-log-docs');
    const ev = decodeChirpstackEvent('log', v.input, 0);
    if (ev.kind === 'uplink') throw new Error('not a log');
    expect(ev.kind).toBe('log');
    expect(ev.details).toMatchObject({ level: v.expected.level, code: v.expected.code, description: v.expected.description, context: v.expected.context });
  });

  it('status (absent booleans read false)', () => {
    const v = byId('chirpstack-status-docs');
    const ev = decodeChirpstackEvent('status', v.input, 0);
    if (ev.kind === 'uplink') throw new Error('not a status');
    expect(ev.kind).toBe('status');
    expect(ev.details).toMatchObject({ margin: v.expected.margin_db, batteryLevel: v.expected.battery_level_percent, externalPowerSource: v.expected.external_power_source, batteryLevelUnavailable: v.expected.battery_level_unavailable });
  });

  it('location', () => {
    const v = byId('chirpstack-location-docs');
    const ev = decodeChirpstackEvent('location', v.input, 0);
    if (ev.kind === 'uplink') throw new Error('not a location');
    expect(ev.details).toMatchObject({ latitude: v.expected.latitude, longitude: v.expected.longitude, altitude: v.expected.altitude });
  });

  it('integration (legacy, <= v4.14): the object passes through', () => {
    const v = byId('chirpstack-integration-docs');
    const ev = decodeChirpstackEvent('integration', v.input, 0);
    if (ev.kind === 'uplink') throw new Error('not an integration event');
    expect(ev.device).toEqual({ keyType: 'devEui', deviceKey: v.expected.device.dev_eui.toUpperCase() });
    expect(ev.details).toMatchObject({ integrationName: v.expected.integration_name, eventType: v.expected.event_type, object: v.input.object });
  });

  it('a downlink command (what the hub would publish) is not an event: refused for its missing deviceInfo', () => {
    const v = byId('chirpstack-command-down-docs');
    const e = decodeErrorOf(() => decodeChirpstackEvent(undefined, v.input, 0));
    expect(e.field).toBe('deviceInfo');
  });
});

describe('ChirpStack bad input', () => {
  const good = () => structuredClone(byId('chirpstack-up-docs').input);
  const cases: Array<[string, (m: any) => unknown, string]> = [
    ['no deviceInfo', (m) => delete m.deviceInfo, 'deviceInfo'],
    ['no devEui', (m) => delete m.deviceInfo.devEui, 'deviceInfo.devEui'],
    ['devEui not hex', (m) => (m.deviceInfo.devEui = 'zz01010101010101'), 'deviceInfo.devEui'],
    ['fCnt a float', (m) => (m.fCnt = 1.5), 'fCnt'],
    ['fCnt a word', (m) => (m.fCnt = 'ten'), 'fCnt'],
    ['data not base64', (m) => (m.data = 'q g'), 'data'],
    ['object a string', (m) => (m.object = 'x'), 'object'],
    ['rxInfo an object', (m) => (m.rxInfo = {}), 'rxInfo'],
    ['gateway without id', (m) => delete m.rxInfo[0].gatewayId, 'rxInfo[0].gatewayId'],
    ['rssi a string', (m) => (m.rxInfo[0].rssi = 'strong'), 'rxInfo[0].rssi'],
    ['time malformed', (m) => (m.time = 'yesterday'), 'time'],
  ];
  it.each(cases)('%s -> DecodeError naming the field', (_name, mutate, field) => {
    const m = good();
    mutate(m);
    expect(decodeErrorOf(() => chirpstackCodec.decodeUplink(m, 0)).field).toBe(field);
  });

  it('refuses an unknown event type and a body without one that is not an uplink', () => {
    expect(decodeErrorOf(() => decodeChirpstackEvent('upp', good(), 0)).code).toBe('unknown-event');
    expect(decodeErrorOf(() => decodeChirpstackEvent('__proto__', good(), 0)).code).toBe('unknown-event');
    expect(decodeErrorOf(() => decodeChirpstackEvent(undefined, { deviceInfo: {} }, 0)).field).toBe('event');
    expect(decodeErrorOf(() => decodeChirpstackEvent('up', [], 0)).field).toBe('(body)');
  });
});
