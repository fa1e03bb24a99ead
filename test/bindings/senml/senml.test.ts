// SenML JSON and CBOR codecs (RFC 8428) against ../shared/vectors/lwm2m_senml.json, resolution rules and bad input.
import { readFileSync } from 'node:fs';
import { Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeSenmlCbor, decodeSenmlJson, senmlCborCodec, senmlJsonCodec } from '../../../hub/bindings/senml/codecs.ts';
import { DecodeError } from '../../../hub/errors.ts';

interface Vector { source: string; input: Record<string, unknown>; expected: Record<string, unknown> }
const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/lwm2m_senml.json', import.meta.url), 'utf8')) as Vector[];
// Plain CBOR maps, as SenML encoders write them (cbor-x would tag Maps 259 by default).
const cborEncoder = new Encoder({ useRecords: false, useTag259ForMaps: false } as ConstructorParameters<typeof Encoder>[0]);
const encode = (x: unknown) => cborEncoder.encode(x);
const json = (x: unknown) => Buffer.from(JSON.stringify(x));

describe('lwm2m_senml.json SenML vectors', () => {
  const jsonVectors = vectors.filter((v) => Array.isArray(v.input.json) && Array.isArray(v.expected.resolved));
  it.each(jsonVectors.map((v) => [v.source, v] as const))('JSON %s', (_n, v) => {
    const expected = (v.expected.resolved as Array<Record<string, unknown>>).map((r) => {
      if (r.vdBytesHex === undefined) return r;
      const { vdBytesHex, vdUtf8, ...rest } = r;
      expect(Buffer.from(String(vdBytesHex), 'hex').toString('utf8')).toBe(vdUtf8);
      return { ...rest, vd: Buffer.from(String(vdBytesHex), 'hex').toString('base64url') };
    });
    expect(decodeSenmlJson(json(v.input.json))).toEqual(expected);
    // The same pack in CBOR resolves the same (vd as a byte string there).
    const labels: Record<string, number> = { bn: -2, bt: -3, bu: -4, bv: -5, n: 0, u: 1, v: 2, vs: 3, vb: 4, t: 6, vd: 8 };
    const asCbor = (v.input.json as Array<Record<string, unknown>>).map((r) =>
      new Map(Object.entries(r).map(([k, x]) => [labels[k]!, k === 'vd' ? Buffer.from(String(x), 'base64url') : x])),
    );
    expect(decodeSenmlCbor(encode(asCbor))).toEqual(expected);
    expect(encode(asCbor)[1]).not.toBe(0xd9);
    // Tagged maps (259) resolve the same.
    expect(decodeSenmlCbor(new Encoder({ useRecords: false }).encode(asCbor))).toEqual(expected);
  });

  it('CBOR pack of RFC 8428 §6 (integer labels, a half-float)', () => {
    const v = vectors.find((x) => x.input.contentType === 'application/senml+cbor')!;
    const records = decodeSenmlCbor(Buffer.from(String(v.input.hex), 'hex'));
    const raw = v.expected.decodedIntegerKeyed as Array<Record<string, unknown>>;
    const bn = String(raw[0]!['-2']);
    const bt = Number(raw[0]!['-3']);
    expect(records).toEqual(
      raw.map((r, i) => ({
        n: bn + String(r['0']),
        u: i === 0 ? 'V' : 'A',
        v: r['2'],
        t: bt + Number(r['6'] ?? 0),
      })),
    );
    expect(records[4]!.v).toBe(1.5);
    const fields = senmlCborCodec.decode(Buffer.from(String(v.input.hex), 'hex'), { device: {} }) as { values: Record<string, unknown> };
    expect(fields.values).toEqual({ [`${bn}voltage`]: 120.1, [`${bn}current`]: 1.7 });
  });
});

describe('resolution (RFC 8428 §4.6)', () => {
  it('base value, sum, unit and time', () => {
    const r = decodeSenmlJson(json([{ bn: 'd:', bt: 1e9, bu: 'W', bv: 10, bs: 100 }, { n: 'p', v: 1, t: 5 }, { n: 'e', s: 2, u: 'J' }, { n: 'p', v: 2 }]));
    expect(r).toEqual([
      { n: 'd:p', u: 'W', v: 11, t: 1e9 + 5 },
      { n: 'd:e', u: 'J', s: 102, t: 1e9 },
      { n: 'd:p', u: 'W', v: 12, t: 1e9 },
    ]);
    expect((senmlJsonCodec.decode(json([{ n: 'a', v: 1 }, { n: 'a', v: 2 }, { n: 'b', vb: true }]), { device: {} }) as { values: unknown }).values).toEqual({ a: 2, b: true });
  });
  it('relative times stay relative (the codec has no clock); padded vd is accepted', () => {
    expect(decodeSenmlJson(json([{ n: 'x', v: 1, t: -60 }, { n: 'y', vd: 'aGkgCg==' }]))).toEqual([{ n: 'x', v: 1, t: -60 }, { n: 'y', vd: 'aGkgCg' }]);
  });
});

describe('bad input is a DecodeError', () => {
  const cases: Array<[string, unknown, string]> = [
    ['not an array', { n: 'x', v: 1 }, 'senml-invalid'],
    ['v a string', [{ n: 'x', v: '1' }], 'senml-invalid'],
    ['two values', [{ n: 'x', v: 1, vs: 'a' }], 'senml-invalid'],
    ['empty name', [{ v: 1 }], 'senml-invalid'],
    ['bad name', [{ n: ' x', v: 1 }], 'senml-invalid'],
    ['must-understand label', [{ n: 'x', v: 1, foo_: 1 }], 'senml-unsupported'],
    ['record not an object', [1], 'senml-invalid'],
    ['bad bver', [{ bver: 99, n: 'x', v: 1 }], 'senml-unsupported'],
    ['vd not base64url', [{ n: 'x', vd: '!!' }], 'senml-invalid'],
  ];
  it.each(cases)('%s', (_n, pack, code) => {
    try {
      decodeSenmlJson(json(pack));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).code).toBe(code);
    }
  });
  it('JSON syntax errors carry the offset; truncated CBOR the end', () => {
    try {
      decodeSenmlJson(Buffer.from('[{"n":"x","v":1}x'));
      expect.unreachable();
    } catch (e) {
      expect((e as DecodeError).code).toBe('senml-syntax');
      expect((e as DecodeError).offset).toBe(16);
    }
    const full = encode([{ 0: 'x', 2: 1 }]);
    try {
      decodeSenmlCbor(full.subarray(0, full.length - 1));
      expect.unreachable();
    } catch (e) {
      expect((e as DecodeError).code).toBe('senml-syntax');
      expect((e as DecodeError).offset).toBe(full.length - 1);
    }
    expect(() => decodeSenmlCbor(Buffer.from('a10102', 'hex'))).toThrow(DecodeError);
    expect(() => decodeSenmlJson(Buffer.from([0xff, 0xfe]))).toThrow(DecodeError);
  });
  it('deep nesting and oversized packs are refused, not a crash', () => {
    expect(() => decodeSenmlJson(Buffer.from('['.repeat(60000)))).toThrow(DecodeError);
    expect(() => decodeSenmlCbor(Buffer.alloc(20000, 0x81))).toThrow(DecodeError);
    expect(() => decodeSenmlJson(Buffer.alloc(70000, 0x20))).toThrow(/over/);
    expect(() => decodeSenmlJson(json(Array.from({ length: 5000 }, () => ({ n: 'a', v: 1 }))))).toThrow(DecodeError);
  });
});

describe('LwM2M 1.1 SenML names (object paths starting with "/")', () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  it('accepts /<object>/<instance>/<resource> names as LwM2M devices send them', () => {
    const records = decodeSenmlJson(enc([{ bn: '/3303/0/', n: '5700', v: 21.5 }, { n: '5701', vs: 'Cel' }]));
    expect(records.map((r) => r.n)).toEqual(['/3303/0/5700', '/3303/0/5701']);
    expect(records[0]!.v).toBe(21.5);
  });
  it('still refuses names that are neither RFC 8428 nor an LwM2M path', () => {
    for (const bad of ['/abc', '//3/0', '-x', ' 3']) {
      expect(() => decodeSenmlJson(enc([{ n: bad, v: 1 }])), bad).toThrow(DecodeError);
    }
  });
});
