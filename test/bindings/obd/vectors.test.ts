// Every OBD-II / NMEA vector of ../shared/vectors/obd2.json through the binding's codecs (reply parser, PIDs, DTCs, VIN, GPS).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseElmReply } from '../../../hub/bindings/obd/elm327.ts';
import { parseNmea, GpsTrack } from '../../../hub/bindings/obd/gps.ts';
import { decodeDtcs, decodeMode01, decodeVin, dtcsOf } from '../../../hub/bindings/obd/pids.ts';

interface Vector {
  source: string;
  input: { elm327Line?: string; elm327Lines?: string[]; elm327LinesInvalid?: string[]; mode03DataHex?: string; nmea?: string | string[] };
  expected: Record<string, unknown>;
}
const VECTORS: Vector[] = JSON.parse(readFileSync(join(import.meta.dirname, '../../../../shared/vectors/obd2.json'), 'utf8'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const label = (v: Vector, i: number): string => `${i}: ${JSON.stringify(v.input).slice(0, 70)}`;

describe('obd2.json vectors', () => {
  it('are all covered (each kind below has its case)', () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(24);
  });

  it.each(VECTORS.map((v, i) => [label(v, i), v] as const))('%s', (_name, v) => {
    const e = v.expected;
    if (v.input.elm327Line !== undefined) {
      const reply = parseElmReply(`${v.input.elm327Line}\r\r>`);
      expect(reply.messages).toHaveLength(1);
      const r = decodeMode01(reply.messages[0]!.data);
      expect(r).toHaveProperty('value');
      if (!('value' in r)) return;
      expect(r.value).toBeCloseTo(e.value as number, 4);
      expect(r.unit).toBe(e.unit);
      expect(String(e.name)).toContain(`0x${r.pid.toString(16).toUpperCase().padStart(2, '0')}`);
    } else if (v.input.elm327LinesInvalid) {
      const reply = parseElmReply(v.input.elm327LinesInvalid.join('\r'));
      expect(reply.messages).toHaveLength(e.messages as number);
      expect(reply.invalid).toHaveLength(v.input.elm327LinesInvalid.length);
    } else if (v.input.elm327Lines) {
      const reply = parseElmReply(`${v.input.elm327Lines.join('\r')}\r\r>`);
      if (e.messages !== undefined) {
        expect(reply.messages).toHaveLength(e.messages as number);
        expect(reply.messages.map((m) => m.ecu)).toEqual((e.ecusTxId as string[]).map((s) => s.slice(0, 3)));
        for (const m of reply.messages) expect(hex(m.data)).toBe(String(e.dataEach).replace(/ /g, ''));
      } else if (e.messageDataHex !== undefined) {
        expect(reply.messages.map((m) => hex(m.data))).toEqual([e.messageDataHex]);
        expect(decodeDtcs(reply.messages[0]!.data)).toEqual({ mode: 3, dtcs: ['P0001', 'P0203', 'P0405', 'P0607'] });
      } else if (e.vin !== undefined) {
        expect(reply.messages).toHaveLength(1);
        expect(decodeVin(reply.messages[0]!.data)).toBe(e.vin);
      } else if (e.dataMessages !== undefined) {
        expect(reply.messages).toHaveLength(0);
        expect(reply.invalid).toHaveLength(0);
        expect(reply.statuses.map((s) => s.kind)).toEqual(['no-data', 'unknown-command', 'searching', 'unable-to-connect', 'can-error', 'bus-init-error', 'stopped', 'other']);
      } else throw new Error('vector kind not handled');
    } else if (v.input.mode03DataHex !== undefined) {
      expect(dtcsOf(Buffer.from(v.input.mode03DataHex, 'hex'))).toEqual(e.dtcs);
    } else if (typeof v.input.nmea === 'string') {
      const s = parseNmea(v.input.nmea);
      expect(s.type).toBe('RMC');
      if (s.type !== 'RMC') return;
      expect(s.valid).toBe(true);
      expect(s.datetime).toBe(e.datetime);
      expect(s.latitude).toBeCloseTo(e.latitude as number, 6);
      expect(s.longitude).toBeCloseTo(e.longitude as number, 9);
      expect(s.speedKmh).toBeCloseTo(e.speedKmh as number, 4);
      expect(s.track).toBe(e.trackTrue);
    } else if (Array.isArray(v.input.nmea)) {
      const [rmcLine, ggaLine] = v.input.nmea;
      const rmc = parseNmea(rmcLine!);
      const gga = parseNmea(ggaLine!);
      const want = e as { rmc: Record<string, number | string>; gga: Record<string, number | string> };
      expect(rmc).toMatchObject({ type: 'RMC', datetime: want.rmc.datetime });
      if (rmc.type !== 'RMC' || gga.type !== 'GGA') throw new Error('sentence types');
      expect(rmc.latitude).toBeCloseTo(want.rmc.latitude as number, 9);
      expect(rmc.longitude).toBeCloseTo(want.rmc.longitude as number, 9);
      expect(rmc.speedKmh).toBeCloseTo((want.rmc.speedKnots as number) * 1.852, 9);
      expect(gga.latitude).toBeCloseTo(want.gga.latitude as number, 9);
      expect(gga.longitude).toBeCloseTo(want.gga.longitude as number, 9);
      expect([gga.fixQuality, gga.satellites, gga.altitude]).toEqual([want.gga.fixQuality, want.gga.satellites, want.gga.altitudeM]);
      // GGA's time of day lands on the RMC's date in a track.
      const track = new GpsTrack();
      track.push(rmcLine!, 1000);
      track.push(ggaLine!, 1100);
      expect(track.at(1100)).toMatchObject({ time: '2022-12-01T11:25:25.500Z', altitude: 57.4034, satellites: 17 });
    } else throw new Error('vector kind not handled');
  });
});
