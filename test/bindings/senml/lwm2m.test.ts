// LwM2M 1.0 TLV and OMA JSON codecs against the lwm2m vectors of ../shared/vectors/lwm2m_senml.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeLwm2mJson, decodeLwm2mTlv } from '../../../hub/bindings/senml/lwm2m.ts';
import { DecodeError } from '../../../hub/errors.ts';

interface Vector { source: string; input: Record<string, unknown>; expected: Record<string, unknown> }
const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/lwm2m_senml.json', import.meta.url), 'utf8')) as Vector[];

describe('lwm2m vectors', () => {
  it('TLV', () => {
    const v = vectors.find((x) => typeof x.input.path === 'string' && typeof x.input.hex === 'string')!;
    const out = decodeLwm2mTlv(Buffer.from(String(v.input.hex), 'hex'));
    expect(out).toEqual({ ...(v.expected.decoded as object), byId: v.expected.byId });
  });
  it('OMA JSON', () => {
    const v = vectors.find((x) => typeof x.input.path === 'string' && x.input.json && !Array.isArray(x.input.json))!;
    const out = decodeLwm2mJson(Buffer.from(JSON.stringify(v.input.json)));
    expect(out).toMatchObject(v.expected.decoded as object);
  });
});

describe('TLV forms and errors', () => {
  it('resources without an instance wrapper, a multiple resource, 16-bit length', () => {
    // e1 = resource, 16-bit id, 1-byte value: 5850 onOff = true; a6 = multiple resource 5501 holding two instances.
    const onOff = Buffer.from('e116da01', 'hex');
    const multi = Buffer.from('a6157d' + '4100' + '05' + '410107', 'hex'); // 10 1 00 110: multiple, 16-bit id 5501, len 6
    expect(decodeLwm2mTlv(Buffer.concat([onOff, multi]))).toEqual({ onOff: true, counter: { 0: 5, 1: 7 }, byId: { 5850: true, 5501: { 0: 5, 1: 7 } } });
    const long = Buffer.concat([Buffer.from('f016760010', 'hex'), Buffer.from('a'.repeat(16))]); // 11 1 10 000: 16-bit length
    expect(decodeLwm2mTlv(long)).toMatchObject({ appType: 'a'.repeat(16) });
  });
  it('cut short at every length: DecodeError with an offset', () => {
    const good = Buffer.from('08000be4164441f80000e1164563', 'hex');
    for (let n = 1; n < good.length; n++) {
      try {
        decodeLwm2mTlv(good.subarray(0, n));
        expect.unreachable(`length ${n}`);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
        expect(typeof (e as DecodeError).offset).toBe('number');
      }
    }
    expect(() => decodeLwm2mTlv(Buffer.from('e3164441f800', 'hex'))).toThrow(/float/);
  });
  it('OMA JSON errors', () => {
    expect(() => decodeLwm2mJson(Buffer.from('{"e":[{"n":"x","v":1}]}'))).toThrow(DecodeError);
    expect(() => decodeLwm2mJson(Buffer.from('{"bn":"/3303/0/"'))).toThrow(DecodeError);
    expect(() => decodeLwm2mJson(Buffer.from('[]'))).toThrow(DecodeError);
  });
});
