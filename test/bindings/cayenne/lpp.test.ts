// Cayenne LPP codec against ../shared/vectors/cayenne_lpp.json, every type, and truncated/unknown input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cayenneLppCodec, decodeLpp, encodeLppDownlink, LPP_TYPES } from '../../../hub/bindings/cayenne/lpp.ts';
import { DecodeError } from '../../../hub/errors.ts';

interface Vector { source: string; input: { hex?: string; decoded?: Record<string, unknown> }; expected: Record<string, unknown> }
const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/cayenne_lpp.json', import.meta.url), 'utf8')) as Vector[];

describe('cayenne_lpp.json', () => {
  it.each(vectors.filter((v) => v.input.hex).map((v) => [v.source, v] as const))('%s', (_n, v) => {
    expect(cayenneLppCodec.decode(Buffer.from(v.input.hex!, 'hex'), { device: {} })).toEqual(v.expected);
  });
  it.each(vectors.filter((v) => v.input.decoded).map((v) => [v.source, v] as const))('downlink %s', (_n, v) => {
    expect(Buffer.from(encodeLppDownlink(v.input.decoded!)).toString('hex')).toBe(v.expected.hex);
    expect([...encodeLppDownlink(v.input.decoded!)]).toEqual(v.expected.frmPayloadBytes);
  });
});

describe('extended types', () => {
  it('decodes each with its scale and sign', () => {
    const hex = [
      '01640000012c', // generic 300
      '02740190', // voltage 4.00
      '037503e8', // current 1.000
      '047600000064', // frequency 100
      '057832', // percentage 50
      '0679ff9c', // altitude -100
      '077d01f4', // concentration 500
      '08800064', // power 100
      '0982000003e8', // distance 1.000
      '0a8300002710', // energy 10.000
      '0b84010e', // direction 270
      '0c855f5e1000', // unix time 1600000000
      '0d87ff8000', // colour
      '0e8e01', // switch
    ].join('');
    expect(decodeLpp(Buffer.from(hex, 'hex'))).toEqual({
      generic_sensor_1: 300,
      voltage_2: 4,
      current_3: 1,
      frequency_4: 100,
      percentage_5: 50,
      altitude_6: -100,
      concentration_7: 500,
      power_8: 100,
      distance_9: 1,
      energy_10: 10,
      direction_11: 270,
      unix_time_12: 1600000000,
      colour_13: { r: 255, g: 128, b: 0 },
      switch_14: 1,
    });
  });
  it('negative GPS coordinates (southern and western hemispheres)', () => {
    // -33.8688, -151.2093 -> 3 bytes two's complement
    const lat = (-338688 + 0x1000000).toString(16).padStart(6, '0');
    const lon = (-1512093 + 0x1000000).toString(16).padStart(6, '0');
    expect(decodeLpp(Buffer.from(`0188${lat}${lon}000000`, 'hex'))).toEqual({ gps_1: { latitude: -33.8688, longitude: -151.2093, altitude: 0 } });
  });
  it('the type table has the 26 known types', () => {
    expect(LPP_TYPES.size).toBe(26);
  });
});

describe('bad input', () => {
  it('truncated at every length is a DecodeError with an offset', () => {
    const good = Buffer.from('0100ff0201640302154a0403eab6056501f40666320767ff640868630971fe58000f06820a7329ef0b8601630231fe660c8807fd8700bef500086a', 'hex');
    expect(Object.keys(decodeLpp(good))).toHaveLength(12);
    let errors = 0;
    for (let n = 1; n < good.length; n++) {
      try {
        decodeLpp(good.subarray(0, n));
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        expect((e as DecodeError).offset).toBeLessThanOrEqual(n);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(good.length - 14);
  });
  it('unknown type names the offset of the type byte', () => {
    try {
      decodeLpp(Buffer.from('0167011001ee00', 'hex'));
      expect.unreachable();
    } catch (e) {
      expect((e as DecodeError).code).toBe('cayenne-unknown-type');
      expect((e as DecodeError).offset).toBe(5);
    }
  });
  it('an empty payload decodes to no fields', () => {
    expect(decodeLpp(new Uint8Array(0))).toEqual({});
  });
});
