// Semtech packet-forwarder datagrams against the semtech-* vectors of ../shared/vectors/network_servers.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ackFor, parseDatagram, parseDatr, readRxpk, readStat, readTxAck } from '../../../hub/bindings/semtech-udp/protocol.ts';
import { DecodeError } from '../../../hub/errors.ts';

interface Vector { id: string; kind: string; input: Record<string, unknown>; expected: Record<string, unknown> }
const all = JSON.parse(readFileSync(new URL('../../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Vector[];
const semtech = all.filter((v) => v.kind.startsWith('semtech'));
const datagramOf = (v: Vector) => Buffer.from(String(v.input.datagram_hex ?? v.input.datagram_hex_constructed), 'hex');

describe('network_servers.json semtech vectors', () => {
  it('covers them all', () => expect(semtech.length).toBeGreaterThanOrEqual(38));

  it.each(semtech.filter((v) => v.kind !== 'semtech-invalid').map((v) => [v.id, v] as const))('%s', (_id, v) => {
    const d = parseDatagram(datagramOf(v));
    const e = v.expected;
    expect(d.type).toBe(e.packet_type);
    if (e.protocol_version !== undefined) expect(d.version).toBe(e.protocol_version);
    expect(Buffer.from(d.token).toString('hex')).toBe(e.token_hex);
    if (e.gateway_eui) expect(d.gatewayEui).toBe(String(e.gateway_eui).toUpperCase());
    if (e.json_part === null || e.json_part === '\u0000') expect(d.json).toBeUndefined();
    if (v.input.json) expect(d.json).toEqual(v.input.json);
    else if (e.json) expect(d.json).toEqual(e.json);
    const reply = e.server_reply as { datagram_hex: string } | undefined;
    if (reply) expect(ackFor(d)!.toString('hex')).toBe(reply.datagram_hex);
    else if (d.type === 'PUSH_DATA') expect(ackFor(d)!.toString('hex')).toBe(`0${d.version}${Buffer.from(d.token).toString('hex')}01`);
    else expect(ackFor(d)).toBeUndefined();

    if (Array.isArray(e.rxpk)) {
      const { packets, errors } = readRxpk(d.json!, d.gatewayEui!);
      const want = e.rxpk as Array<Record<string, unknown>>;
      expect(packets.length + errors.length).toBe(want.length);
      let k = 0;
      for (const w of want) {
        if (w.data_hex === null) continue; // invalid base64 in the spec's example: reported, not decoded
        const p = packets[k++]!;
        expect(p.phy.toString('hex')).toBe(w.data_hex);
        expect(p.crc).toBe(w.crc);
        expect(p.reception.frequency).toBe(w.freq_hz);
        if (w.rssi !== undefined) expect(p.reception.rssi).toBe(w.rssi);
        if (w.lsnr !== undefined) expect(p.reception.snr).toBe(w.lsnr);
        if (w.tmst !== undefined) expect(p.reception.tmst).toBe(w.tmst);
        const datr = w.datr as Record<string, unknown>;
        if (datr.modulation === 'LORA') expect(p.dataRate).toEqual({ modulation: 'LORA', spreadingFactor: datr.spreading_factor, bandwidthKHz: datr.bandwidth_khz });
        if (datr.modulation === 'FSK') expect(p.dataRate).toEqual({ modulation: 'FSK', bitRate: datr.bitrate_bps });
        if (datr.modulation === 'LR-FHSS') expect(p.dataRate).toEqual({ modulation: 'LRFHSS', modulationType: datr.modulation_type, ocwKHz: datr.ocw_khz });
      }
      expect(errors.every((x) => x.code === 'semtech-base64')).toBe(true);
      expect(errors.length).toBe(want.filter((w) => w.data_hex === null).length);
    }
    if (e.stat) {
      const st = readStat(d.json!)!;
      const s = e.stat as Record<string, number>;
      expect(st.location).toEqual({ latitude: s.lati, longitude: s.long, altitude: s.alti });
      expect(st.metrics.rxnb).toBe(s.rxnb);
      const tts = e.tts_asserts as { time?: string } | undefined;
      if (tts?.time) expect(st.time).toBe(new Date(tts.time).toISOString());
    }
    if (d.type === 'TX_ACK') {
      const outcome = readTxAck(d.json);
      const text = String(e.outcome);
      expect(outcome.accepted).toBe(!text.startsWith('rejected'));
      if (!outcome.accepted) expect(text).toContain(outcome.error!);
    }
  });

  it.each(semtech.filter((v) => v.kind === 'semtech-invalid').map((v) => [v.id, v] as const))('invalid %s', (_id, v) => {
    expect(() => parseDatagram(datagramOf(v))).toThrow(DecodeError);
  });
});

describe('rxpk details', () => {
  it('Kerlink rsig: the strongest antenna gives rssi, snr and channel', () => {
    const v = all.find((x) => x.id === 'semtech-pushdata-rxpk-multiantenna-tts-fixture')!;
    const { packets } = readRxpk(v.input.json as Record<string, unknown>, '0102030405060708');
    expect(packets[0]!.reception).toMatchObject({ rssi: -93, snr: 14, channel: 23, time: '2017-07-04T13:51:17.997Z' });
  });
  it('CRC status, size mismatch, missing data', () => {
    const { packets, errors } = readRxpk({
      rxpk: [
        { stat: -1, data: 'QAQDAgE=', size: 5 },
        { stat: 0, data: 'QAQDAgE=' },
        { stat: 1, data: 'QAQDAgE=', size: 6 },
        { stat: 1 },
        'x',
      ],
    }, 'GW');
    expect(packets.map((p) => p.crc)).toEqual(['bad', 'none']);
    expect(errors.map((e) => e.code)).toEqual(['semtech-size', 'semtech-json', 'semtech-json']);
  });
  it('datr forms', () => {
    expect(parseDatr('SF12BW500', 'LORA')).toEqual({ modulation: 'LORA', spreadingFactor: 12, bandwidthKHz: 500 });
    expect(parseDatr(50000, 'FSK')).toEqual({ modulation: 'FSK', bitRate: 50000 });
    expect(parseDatr('nonsense', 'LORA')).toBeUndefined();
  });
  it('malformed headers and JSON', () => {
    expect(() => parseDatagram(Buffer.from('0200000001020304', 'hex'))).toThrow(/gateway EUI/);
    expect(() => parseDatagram(Buffer.from('0200000701020304', 'hex'))).toThrow(/identifier/);
    expect(() => parseDatagram(Buffer.concat([Buffer.from('020000000102030405060708', 'hex'), Buffer.from('{"rxpk":')]))).toThrow(DecodeError);
    expect(() => parseDatagram(Buffer.concat([Buffer.from('020000000102030405060708', 'hex'), Buffer.from('[1]')]))).toThrow(/object/);
    expect(() => parseDatagram(Buffer.alloc(40000, 2))).toThrow(/exceeds/);
  });
});
