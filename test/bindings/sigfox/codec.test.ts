// The Sigfox callback codec against every Sigfox vector of network_servers.json and network_server_json.json, plus the
// lenient forms a user template produces.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../hub/errors.ts';
import { decodeSigfoxCallback, parseSigfoxDownlinkResponse, sigfoxCodec, sigfoxDownlinkResponse } from '../../../hub/bindings/sigfox/codec.ts';

const VECTORS = '/work/shared/vectors';
type Vector = { id?: string; kind: string; input: any; expected: Record<string, any>; input_text_verbatim?: string };
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

describe('Sigfox uplink callbacks (network_server_json.json)', () => {
  it.each(nsJson.filter((v) => v.kind === 'sigfox-callback').map((v, i) => [i, v] as const))('callback #%i', (_i, v) => {
    const e = v.expected;
    const f = sigfoxCodec.decodeUplink(v.input, 0);
    expect(f).toMatchObject({ protocol: 'sigfox', keyType: 'sigfoxId', deviceKey: e.device, sequence: e.seqNumber, observedAt: e.timeIso });
    expect(hex(f.bytes)).toBe(e.payloadHex);
    expect(f.radio).toEqual([{ gatewayId: e.station, rssi: e.rssi, snr: e.snr }]);
    if (e.ack !== undefined) expect(f.network?.ack).toBe(e.ack);
    expect(f.messageId).toBe(`${e.seqNumber}-${Date.parse(e.timeIso) / 1000}`);
  });
});

describe('Sigfox vectors (network_servers.json)', () => {
  it('sigfox-uplink-bcx17-hono-invalid: the text as printed is not JSON; repaired, every quoted value is coerced', () => {
    const v = byId('sigfox-uplink-bcx17-hono-invalid');
    expect(v.expected.valid_json).toBe(false);
    expect(() => JSON.parse(v.input_text_verbatim!)).toThrow(SyntaxError);
    const repaired = JSON.parse(v.input_text_verbatim!.replace('\u201d', '"').replace('""', '"'));
    const r = v.expected.if_repaired;
    const f = sigfoxCodec.decodeUplink(repaired, 0);
    expect(f).toMatchObject({ deviceKey: r.device, sequence: r.seqNumber, observedAt: new Date(r.time_epoch_s * 1000).toISOString() });
    expect(hex(f.bytes)).toBe(r.data_hex);
    expect(f.network?.duplicate).toBe(r.duplicate);
    expect(f.radio).toEqual([{ gatewayId: r.station, rssi: r.rssi, snr: r.snr, avgSnr: r.avgSnr }]);
    expect(f.location).toEqual({ latitude: r.lat, longitude: r.lng, source: 'sigfox-network' });
  });

  it('sigfox-downlink-node-data: a BIDIR-style body without time or sequence still decodes (id from the transport clock)', () => {
    const v = byId('sigfox-downlink-node-data');
    const f = sigfoxCodec.decodeUplink(v.input, 1234);
    expect(f.deviceKey).toBe(v.expected.device);
    expect(hex(f.bytes)).toBe(v.expected.uplink_data_hex);
    expect(f.bytes!.length).toBe(v.expected.uplink_bytes);
    expect(f.messageId).toBe('s-r-1234');
  });

  it('sigfox-downlink-node-empty: a body naming only the device is an empty event (answered 204)', () => {
    const v = byId('sigfox-downlink-node-empty');
    expect(decodeSigfoxCallback(v.input, 0)).toEqual({ kind: 'other', event: 'empty', device: { keyType: 'sigfoxId', deviceKey: 'FAF7E' }, details: {} });
    expect(v.expected.response.http_status).toBe(204);
  });

  it.each(ns.filter((v) => v.kind === 'sigfox-bidir-response' && v.expected.valid_shape).map((v) => [v.id!, v] as const))('BIDIR answer %s has the keyed shape', (_id, v) => {
    const parsed = parseSigfoxDownlinkResponse(v.input);
    for (const [device, d] of Object.entries<any>(v.expected.downlinks)) {
      expect(hex(parsed[device])).toBe(d.downlink_hex.toLowerCase());
      expect(parsed[device]!.length).toBe(d.bytes);
    }
    expect(Object.keys(parsed)).toEqual(Object.keys(v.expected.downlinks));
  });

  it('sigfox-downlink-node-readme-stale-response: the flat form is refused', () => {
    const v = byId('sigfox-downlink-node-readme-stale-response');
    expect(v.expected.valid_shape).toBe(false);
    decodeErrorOf(() => parseSigfoxDownlinkResponse(v.input));
  });

  it('writes the keyed BIDIR answer (8 bytes exactly)', () => {
    expect(sigfoxDownlinkResponse({ FAF7E: Uint8Array.from([0x70, 0x11, 0x7f, 0x61, 0xa5, 0xce, 0xec, 0x67]) })).toEqual({ FAF7E: { downlinkData: '70117f61a5ceec67' } });
    decodeErrorOf(() => sigfoxDownlinkResponse({ FAF7E: new Uint8Array(9) }));
  });
});

describe('Sigfox lenient template forms', () => {
  it('reads "null" strings, unfilled placeholders and blanks as absent', () => {
    const f = sigfoxCodec.decodeUplink({ device: ' b445a9 ', time: '1596721546', data: 'C6099764', seqNumber: '7', snr: 'null', rssi: '{rssi}', station: '', avgSnr: 'null' }, 0);
    expect(f).toMatchObject({ deviceKey: 'B445A9', sequence: 7, observedAt: '2020-08-06T13:45:46.000Z', radio: [] });
    expect(hex(f.bytes)).toBe('c6099764');
  });

  it('reads BIDIR flags: ack=true asks for a downlink (flagged for the actions issue)', () => {
    const e = decodeSigfoxCallback({ device: '1234', time: 1600674364, data: '00', seqNumber: 3, ack: 'true', longPolling: 'false' }, 0);
    expect(e.kind).toBe('uplink');
    if (e.kind !== 'uplink') return;
    expect(e.event).toBe('bidir');
    expect(e.frame.network).toMatchObject({ ack: true, downlinkRequested: true, longPolling: false });
  });

  it('reads DATA ADVANCED: duplicates (array or JSON text) and computedLocation; one reception per station', () => {
    const body = {
      device: '1A2B3C', time: 1600674364, data: 'ce20', seqNumber: 50, station: '93CF', rssi: '-128.00', snr: '6.00', lqi: 'GOOD', linkQuality: 2,
      duplicates: JSON.stringify([{ bsId: '93CF', rssi: -128, snr: 6, nbRep: 3 }, { bsId: '37FF', rssi: -131.5, snr: 9.1, nbRep: 2 }]),
      computedLocation: { lat: 43.56, lng: 1.47, radius: 1200, source: 2, status: 1 },
    };
    const f = sigfoxCodec.decodeUplink(body, 0);
    expect(f.radio).toEqual([
      { gatewayId: '93CF', rssi: -128, snr: 6, relayed: 1 },
      { gatewayId: '37FF', rssi: -131.5, snr: 9.1, repetitions: 2 },
    ]);
    expect(f.location).toEqual({ latitude: 43.56, longitude: 1.47, accuracy: 1200, source: '2' });
    expect(f.network).toMatchObject({ lqi: 'GOOD', linkQuality: 2 });
  });

  it('reads parallel station/rssi/snr lists', () => {
    const f = sigfoxCodec.decodeUplink({ device: 'AB', time: 1, data: '', seqNumber: 0, station: ['0DF1', '0DF2'], rssi: ['-120', '-125'], snr: [10, 12] }, 0);
    expect(f.radio).toEqual([{ gatewayId: '0DF1', rssi: -120, snr: 10 }, { gatewayId: '0DF2', rssi: -125, snr: 12 }]);
  });

  it('reads a duplicate callback (same message via another station) to the same messageId', () => {
    const a = sigfoxCodec.decodeUplink({ device: 'AB', time: 1600674364, data: '01', seqNumber: 9, station: '0001', duplicate: false }, 0);
    const b = sigfoxCodec.decodeUplink({ device: 'AB', time: '1600674364', data: '01', seqNumber: '9', station: '0002', duplicate: 'true' }, 5);
    expect(b.messageId).toBe(a.messageId);
    expect(b.network?.duplicate).toBe(true);
  });

  it('decodes acknowledge, status and error callbacks as events', () => {
    expect(decodeSigfoxCallback({ device: 'AB', time: 1, infoCode: '0', infoMessage: 'ACKED', downlinkAck: 'true', downlinkOverusage: 'false' }, 0)).toMatchObject({
      kind: 'downlink', event: 'acknowledge', details: { infoCode: 0, infoMessage: 'ACKED', downlinkAck: true, downlinkOverusage: false },
    });
    expect(decodeSigfoxCallback({ device: 'AB', time: 1, temp: '21.5', batt: '3.1' }, 0)).toMatchObject({ kind: 'status', details: { temperature: 21.5, battery: 3.1 } });
    expect(decodeSigfoxCallback({ device: 'AB', time: 1, info: 'No callback', severity: 'ERROR' }, 0)).toMatchObject({ kind: 'log', event: 'error' });
  });
});

describe('Sigfox bad input', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['no device', { time: 1, data: '00', seqNumber: 1 }, 'device'],
    ['odd hex', { device: 'AB', time: 1, data: 'abc', seqNumber: 1 }, 'data'],
    ['non-hex data', { device: 'AB', time: 1, data: 'zz', seqNumber: 1 }, 'data'],
    ['13 bytes', { device: 'AB', time: 1, data: '00'.repeat(13), seqNumber: 1 }, 'data'],
    ['seqNumber a word', { device: 'AB', time: 1, data: '00', seqNumber: 'one' }, 'seqNumber'],
    ['negative seqNumber', { device: 'AB', time: 1, data: '00', seqNumber: -1 }, 'seqNumber'],
    ['time a word', { device: 'AB', time: 'noon', data: '00', seqNumber: 1 }, 'time'],
    ['rssi a word', { device: 'AB', time: 1, data: '00', seqNumber: 1, station: '0001', rssi: 'weak' }, 'rssi'],
    ['ack not boolean', { device: 'AB', time: 1, data: '00', seqNumber: 1, ack: 'maybe' }, 'ack'],
    ['device with spaces', { device: 'A B', time: 1, data: '00', seqNumber: 1 }, 'device'],
    ['duplicates not a list', { device: 'AB', time: 1, data: '00', seqNumber: 1, duplicates: '{"bsId":"1"}' }, 'duplicates'],
    ['duplicates bad JSON text', { device: 'AB', time: 1, data: '00', seqNumber: 1, duplicates: '[{' }, 'duplicates'],
    ['latitude out of range', { device: 'AB', time: 1, data: '00', seqNumber: 1, lat: '91', lng: '0' }, 'lat'],
  ];
  it.each(cases)('%s -> DecodeError naming the field', (_name, body, field) => {
    expect(decodeErrorOf(() => sigfoxCodec.decodeUplink(body, 0)).field).toBe(field);
  });

  it('refuses non-objects and non-uplink callbacks as uplinks', () => {
    for (const body of [null, 3, 'x', []]) decodeErrorOf(() => sigfoxCodec.decodeUplink(body, 0));
    expect(decodeErrorOf(() => sigfoxCodec.decodeUplink({ device: 'AB' }, 0)).code).toBe('not-an-uplink');
  });
});
