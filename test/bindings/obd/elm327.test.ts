// ELM327 reply parsing beyond the vectors: headers and spaces either way, 29-bit ids, echo, prompt, line-numbered
// multi-frame, statuses never parsed as data, typed errors naming offset/field; the MQTT gateway decoder.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../hub/errors.ts';
import { parseElmReply } from '../../../hub/bindings/obd/elm327.ts';
import { decodeDtcs, decodeMode01, decodeVin, supportedPids } from '../../../hub/bindings/obd/pids.ts';
import { decodeObdGatewayMessage } from '../../../hub/bindings/obd/gateway.ts';
import { parseNmea } from '../../../hub/bindings/obd/gps.ts';
import { nmeaFix } from '../../../hub/simulators/vehicle.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const speedOf = (text: string, headers?: boolean) => parseElmReply(text, { headers }).messages.map((m) => [m.ecu, decodeMode01(m.data)]);

describe('parseElmReply', () => {
  it('reads one reading in every header/space form', () => {
    const want = { pid: 0x0d, name: 'speed', value: 50, unit: 'km/h' };
    expect(speedOf('7E8 03 41 0D 32\r\r>')).toEqual([['7E8', want]]);
    expect(speedOf('7E803410D32\r\r>')).toEqual([['7E8', want]]);
    expect(speedOf('41 0D 32\r\r>')).toEqual([[undefined, want]]);
    expect(speedOf('410D32\r\r>', false)).toEqual([[undefined, want]]);
    expect(speedOf('18 DA F1 10 03 41 0D 32\r\r>')).toEqual([['18DAF110', want]]);
    expect(speedOf('18DAF11003410D32\r\r>', true)).toEqual([['18DAF110', want]]);
    // A full 8-byte CAN frame with its padding kept (CAF0-like output).
    expect(speedOf('7E8 03 41 0D 32 AA AA AA AA', true)).toEqual([['7E8', want]]);
  });

  it('drops the echo and the prompt, surfaces SEARCHING... as a status', () => {
    const r = parseElmReply('010D\rSEARCHING...\r7E8 03 41 0D 32\r7E9 03 41 0D 32\r\r>', { request: '010D', headers: true });
    expect(r.messages.map((m) => m.ecu)).toEqual(['7E8', '7E9']);
    expect(r.statuses.map((s) => s.kind)).toEqual(['searching']);
  });

  it('assembles ISO-TP per ECU even when two ECUs interleave', () => {
    const vin = [...'1D4GP00R55B123456'].map((c) => c.charCodeAt(0).toString(16).toUpperCase());
    const bytes = ['49', '02', '01', ...vin];
    const lines = (ecu: string) => [`${ecu} 10 14 ${bytes.slice(0, 6).join(' ')}`, `${ecu} 21 ${bytes.slice(6, 13).join(' ')}`, `${ecu} 22 ${bytes.slice(13, 20).join(' ')}`];
    const [a, b] = [lines('7E8'), lines('7EA')];
    const r = parseElmReply([a[0], b[0], a[1], b[1], a[2], b[2]].join('\r'), { headers: true });
    expect(r.messages.map((m) => [m.ecu, decodeVin(m.data)])).toEqual([['7E8', '1D4GP00R55B123456'], ['7EA', '1D4GP00R55B123456']]);
    // Without spaces, line-numbered.
    const packed = parseElmReply(`014\r0:${bytes.slice(0, 6).join('')}\r1:${bytes.slice(6, 13).join('')}\r2:${bytes.slice(13).join('')}\r\r>`);
    expect(decodeVin(packed.messages[0]!.data)).toBe('1D4GP00R55B123456');
  });

  it('refuses a consecutive frame out of order and a missing one', () => {
    const r = parseElmReply('7E8 10 14 49 02 01 31 44 34\r7E8 22 33 42 32 38 52 38 41', { headers: true });
    expect(r.messages).toHaveLength(0);
    expect(r.invalid[0]!.reason).toMatch(/expected 1/);
    const short = parseElmReply('014\r0: 49 02 01 31 44 34\r1: 47 50 30 30 52 35 35');
    expect(short.messages).toHaveLength(0);
    expect(short.invalid[0]!.reason).toMatch(/13 of 20/);
  });

  it('never takes a status string for data', () => {
    for (const s of ['NO DATA', '?', 'SEARCHING...', 'UNABLE TO CONNECT', 'CAN ERROR', 'BUS INIT: ...ERROR', 'BUS INIT:ERROR', 'STOPPED', 'BUFFER FULL', 'BUS BUSY', 'FB ERROR', 'DATA ERROR', '<RX ERROR', 'LV RESET', 'ACT ALERT', 'ELM327 v1.5', '12.8V', 'OK']) {
      const r = parseElmReply(`${s}\r\r>`);
      expect(r.messages, s).toHaveLength(0);
      expect(r.statuses.map((x) => x.text), s).toEqual([s.toUpperCase()]);
      expect(r.statuses[0]!.kind, s).not.toBe('other');
    }
    expect(parseElmReply('x'.repeat(20_000)).statuses[0]!.kind).toBe('buffer-full');
  });

  it('decodes a bitmap, DTCs with and without a count byte', () => {
    expect(supportedPids(0, Uint8Array.from([0xbe, 0x1f, 0xa8, 0x13]))).toEqual([1, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17, 19, 21, 28, 31, 32]);
    expect(decodeMode01(Uint8Array.from([0x41, 0x00, 0x80, 0, 0, 1]))).toEqual({ pid: 0, supported: [1, 32] });
    expect(decodeDtcs(Uint8Array.from([0x43, 0x01, 0x01, 0x33]))).toEqual({ mode: 3, dtcs: ['P0133'] });
    expect(decodeDtcs(Uint8Array.from([0x43, 0x01, 0x33, 0x00, 0x00, 0x00, 0x00]))).toEqual({ mode: 3, dtcs: ['P0133'] });
    expect(decodeDtcs(Uint8Array.from([0x47, 0x00]))).toEqual({ mode: 7, dtcs: [] });
  });

  it('throws DecodeError naming the offset and field', () => {
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        return { code: (e as DecodeError).code, offset: (e as DecodeError).offset, field: (e as DecodeError).field };
      }
      throw new Error('no error');
    };
    expect(err(() => decodeMode01(Uint8Array.from([0x41, 0x0c, 0x14])))).toEqual({ code: 'obd-truncated', offset: 3, field: 'rpm' });
    expect(err(() => decodeMode01(Uint8Array.from([0x7f, 0x01, 0x12])))).toEqual({ code: 'obd-wrong-mode', offset: 0, field: 'mode' });
    expect(err(() => decodeMode01(Uint8Array.from([0x41, 0x99, 0x12])))).toEqual({ code: 'obd-unknown-pid', offset: 1, field: 'pid' });
    expect(err(() => decodeDtcs(Uint8Array.from([0x43, 0x03, 0x01, 0x33])))).toEqual({ code: 'obd-truncated', offset: 1, field: 'dtcCount' });
    expect(err(() => decodeVin(Uint8Array.from([0x49, 0x02, 0x01, 0x31])))).toEqual({ code: 'obd-truncated', offset: 4, field: 'vin' });
    expect(err(() => parseNmea('$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6B'))).toMatchObject({ code: 'nmea-checksum', field: 'checksum' });
    expect(err(() => parseNmea('$GPRMC,123519,A,4807.038,N'))).toMatchObject({ code: 'nmea-framing' });
  });
});

describe('decodeObdGatewayMessage (obd/{vin}/up)', () => {
  const VIN = '1D4GP00R55B123456';
  it('turns reply and NMEA lines into one frame with a location and the RMC time', () => {
    const at = new Date('2026-03-01T10:00:00.000Z');
    const text = `>010D\r7E8 03 41 0D 32\r\r>010C\r7E8 04 41 0C 14 5F\r>03\r7E8 04 43 01 01 33\rNO DATA\r${nmeaFix(at, { latitude: 48.1, longitude: 11.5, speed: 50 })}`;
    const f = decodeObdGatewayMessage(`obd/${VIN}/up`, Buffer.from(text), Date.parse('2026-03-01T10:00:00.300Z'));
    expect(f).toMatchObject({ protocol: 'obd', keyType: 'vin', deviceKey: VIN, messageId: `${VIN}-${at.getTime()}`, observedAt: at.toISOString() });
    expect(f.decoded).toMatchObject({ speed: 50, rpm: 1303.75, dtcs: ['P0133'], dtcCount: 1 });
    expect(f.location!.latitude).toBeCloseTo(48.1, 5);
    expect(f.location!.longitude).toBeCloseTo(11.5, 5);
  });
  it('refuses status-only messages, bad topics and bad checksums with typed errors', () => {
    expect(() => decodeObdGatewayMessage(`obd/${VIN}/up`, 'NO DATA\r\r>', 0)).toThrow(DecodeError);
    expect(() => decodeObdGatewayMessage('obd/short/up', '41 0D 32', 0)).toThrow(/not obd/);
    expect(() => decodeObdGatewayMessage(`obd/${VIN}/up`, '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6B', 0)).toThrow(/checksum/);
  });
});

describe('fuzz findings (test/fuzz/repro/obd), kept as regression inputs', () => {
  const repro = (name: string) => readFileSync(new URL(`../../fuzz/repro/obd/${name}`, import.meta.url), 'latin1');
  it('a header-less line longer than an ISO-TP message is an invalid frame, not a message', () => {
    const r = parseElmReply(repro('regression-long-headerless-line.bin'), { headers: false });
    expect(r.messages.every((m) => m.data.length <= 4095)).toBe(true);
    expect(parseElmReply(`41${'00'.repeat(5000)}`, { headers: false })).toMatchObject({ messages: [], invalid: [{ reason: 'line of 5001 bytes' }] });
  });
  it('a numbered message of 0 bytes is invalid', () => {
    expect(parseElmReply('000\r\n0: 41 0D 32\r\n', { headers: false })).toMatchObject({ messages: [], invalid: [{ reason: 'numbered message of 0 bytes' }] });
    for (const headers of [true, false, 'auto'] as const) expect(parseElmReply(repro('regression-numbered-zero.bin'), { headers }).messages.every((m) => m.data.length > 0)).toBe(true);
  });
  it('NMEA positions off the globe (nmea-simple reads "4807 00 00.038" as 4807 degrees) are refused', () => {
    for (const name of ['regression-nmea-latitude-4807.bin', 'regression-nmea-longitude-11348.bin']) {
      for (const line of repro(name).split(/[\r\n]+/).filter((l) => l.startsWith('$'))) {
        try {
          const s = parseNmea(line);
          if (s.type !== 'other') expect(Math.abs(s.latitude) <= 90 && Math.abs(s.longitude) <= 180, line).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }
    }
    expect(() => parseNmea('$GPRMC,123519,A,4807 00 00.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A')).toThrow(/off the globe/);
  });
});
