// OSC packets (../shared/vectors/osc.json, liblo and npm osc captures), every argument type, nested bundles and
// timetags, address patterns, the NGIMU naming, and typed errors for truncated, oversized and malformed packets.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { toBuffer } from 'osc-min';
import { describe, expect, it } from 'vitest';
import { argNames, namingOf, NGIMU_MESSAGES, oscFrame } from '../../../hub/bindings/osc/codec.ts';
import { decodeOscPacket, msToTimetag, timetagToIso, timetagToMs, type OscMessage } from '../../../hub/bindings/osc/packet.ts';
import { compileOscPattern, matchOscPattern } from '../../../hub/bindings/osc/pattern.ts';
import { DecodeError } from '../../../hub/errors.ts';

interface Vector { source: string; input: { hex?: string; cases?: Array<[string, string]> }; expected: Record<string, unknown> }
const VECTORS = JSON.parse(readFileSync(new URL('../../../../shared/vectors/osc.json', import.meta.url), 'utf8')) as Vector[];
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const bufOf = (packet: Parameters<typeof toBuffer>[0]) => {
  const v = toBuffer(packet);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
};
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return (e as DecodeError).code;
  }
  throw new Error('did not throw');
};

describe('OSC vectors (shared/vectors/osc.json)', () => {
  const packets = VECTORS.filter((v) => v.input.hex);
  it.each(packets.map((v, i) => [i, v.source.slice(0, 60), v] as const))('vector %i: %s', (_i, _s, v) => {
    const msgs = decodeOscPacket(bytes(v.input.hex!));
    const e = v.expected;
    if (e.bundle) {
      expect(msgs.map((m) => m.timetag)).toEqual((e.elements as unknown[]).map(() => e.timetag));
      const elements = e.elements as Array<{ address: string; args: number[] }>;
      expect(msgs.map((m) => m.address)).toEqual(elements.map((x) => x.address));
      msgs.forEach((m, k) => m.args.forEach((a, j) => expect(a as number).toBeCloseTo(elements[k]!.args[j]!, 5)));
      return;
    }
    expect(msgs).toHaveLength(1);
    const m = msgs[0]!;
    expect(m.address).toBe(e.address);
    if (e.typeTags) expect(`,${m.types}`).toBe(e.typeTags);
    if (Array.isArray(e.args)) {
      (e.args as Array<{ type: string; value?: unknown; valueHex?: string }>).forEach((want, j) => {
        if (want.type === 'b') expect(m.args[j]).toBe(want.valueHex);
        else if (want.type === 't') expect(m.args[j]).toBe('immediately');
        else if (typeof want.value === 'number') expect(m.args[j] as number).toBeCloseTo(want.value, 6);
        else expect(m.args[j]).toEqual(want.value);
      });
    } else {
      // NGIMU messages: the named form of the codec
      const named = argNames(namingOf({ oscSchema: 'ngimu' }), m.address);
      const frame = oscFrame(m, { keyType: 'oscSource', deviceKey: '127.0.0.1' }, named, { receivedAt: 0, seq: 1 });
      const args = (frame.decoded as { args: Record<string, unknown> }).args;
      const want = e.args as Record<string, number | string>;
      // the vectors name /battery's fields by their C# names; the hub's names are the TM's properties
      const ours = Object.values(args);
      Object.values(want).forEach((w, j) => (typeof w === 'number' ? expect(ours[j] as number).toBeCloseTo(w, 5) : expect(ours[j]).toBe(w)));
    }
  });

  it('address patterns: every case of the pattern vector', () => {
    const v = VECTORS.find((x) => x.input.cases)!;
    expect(v.input.cases!.map(([p, a]) => matchOscPattern(p, a))).toEqual(v.expected.matches);
  });
});

describe('OSC decoding beyond the vectors', () => {
  it('decodes every OSC 1.0/1.1 argument type osc-min knows, with JSON-safe values', () => {
    const packet = bufOf({
      address: '/all',
      args: [
        { type: 'integer', value: -7 }, { type: 'float', value: 0.5 }, { type: 'string', value: 'hé' }, { type: 'blob', value: new Uint8Array([1, 2, 255]) },
        { type: 'bigint', value: 2n ** 60n }, { type: 'bigint', value: -5n }, { type: 'timetag', value: msToTimetag(Date.UTC(2024, 4, 1, 10)) as [number, number] },
        { type: 'double', value: Math.PI }, { type: 'symbol', value: 'sym' }, { type: 'character', value: 'x' },
        { type: 'midi', value: [0, 0x90, 60, 127] }, { type: 'true' }, { type: 'false' }, { type: 'null' }, { type: 'bang' },
        { type: 'array', value: [{ type: 'integer', value: 1 }, { type: 'array', value: [{ type: 'string', value: 'in' }] }] },
      ],
    });
    const [m] = decodeOscPacket(packet);
    expect(m!.types).toBe('ifsbhhtdScmTFNI[i[s]]');
    expect(m!.args).toEqual([-7, 0.5, 'hé', '0102ff', (2n ** 60n).toString(), -5, '2024-05-01T10:00:00.000000Z', Math.PI, 'sym', 'x', [0, 0x90, 60, 127], true, false, null, true, [1, ['in']]]);
    expect(JSON.parse(JSON.stringify(m!.args))).toEqual(m!.args);
  });

  it('a 32-bit RGBA color (osc-min 2.1.2 encodes one as 16 bytes, so the bytes are written here)', () => {
    const [m] = decodeOscPacket(bytes('2f6d0000' + '2c726900' + '01020304' + '00000007'));
    expect(m!.args).toEqual([{ red: 1, green: 2, blue: 3, alpha: 4 }, 7]);
  });

  it('float32 infinities and NaN become xsd:double lexical forms', () => {
    const nan = bytes('2f780000' + '2c666666' + '00000000' + '7f800000' + 'ff800000' + '7fc00000');
    expect(decodeOscPacket(nan)[0]!.args).toEqual(['INF', '-INF', 'NaN']);
  });

  it('flattens nested bundles; each message keeps its innermost timetag and its position', () => {
    const t1 = Date.UTC(2024, 4, 1, 10, 0, 0, 0);
    const packet = bufOf({
      timetag: msToTimetag(t1) as [number, number], elements: [
        { address: '/a', args: [{ type: 'integer', value: 1 }] },
        { timetag: msToTimetag(t1 + 2.5) as [number, number], elements: [{ address: '/b', args: [] }, { timetag: msToTimetag(t1 + 5) as [number, number], elements: [{ address: '/c', args: [] }] }] },
        { address: '/d', args: [] },
      ],
    });
    const msgs = decodeOscPacket(packet);
    expect(msgs.map((m) => [m.address, m.index, timetagToIso(m.timetag!)])).toEqual([
      ['/a', 0, '2024-05-01T10:00:00.000000Z'], ['/b', 1, '2024-05-01T10:00:00.002500Z'], ['/c', 2, '2024-05-01T10:00:00.005000Z'], ['/d', 3, '2024-05-01T10:00:00.000000Z'],
    ]);
    expect(timetagToMs(msgs[1]!.timetag!)).toBeCloseTo(t1 + 2.5, 3);
  });

  it('an empty bundle is no messages; a bare message has no timetag', () => {
    expect(decodeOscPacket(bufOf({ timetag: [0, 1], elements: [] }))).toEqual([]);
    expect(decodeOscPacket(bufOf({ address: '/x', args: [] }))[0]!.timetag).toBeUndefined();
  });

  it('truncated, oversized and malformed packets are typed DecodeErrors with an offset', () => {
    const euler = bytes(VECTORS[4]!.input.hex!);
    expect(codeOf(() => decodeOscPacket(new Uint8Array(0)))).toBe('osc-truncated');
    expect(codeOf(() => decodeOscPacket(euler.subarray(0, euler.length - 4)))).toBe('osc-truncated');
    expect(codeOf(() => decodeOscPacket(euler.subarray(0, 6)))).toBe('osc-truncated');
    expect(codeOf(() => decodeOscPacket(new Uint8Array(65_508)))).toBe('osc-oversized');
    expect(codeOf(() => decodeOscPacket(bytes('78797a00')))).toBe('osc-malformed'); // no '/'
    expect(codeOf(() => decodeOscPacket(bytes('2f780000' + '2c7a0000')))).toBe('osc-malformed'); // unknown type tag z
    expect(codeOf(() => decodeOscPacket(bytes('23627574')))).toBe('osc-malformed'); // '#' but not #bundle
    const bundle = bytes(VECTORS[3]!.input.hex!);
    expect(codeOf(() => decodeOscPacket(bundle.subarray(0, 12)))).toBe('osc-truncated'); // half a timetag
    const badSize = bundle.slice();
    badSize.set([0, 0, 0x10, 0], 16); // first element claims 4096 bytes
    expect(codeOf(() => decodeOscPacket(badSize))).toBe('osc-truncated');
    badSize.set([0, 0, 0, 3], 16);
    expect(codeOf(() => decodeOscPacket(badSize))).toBe('osc-malformed');
    try {
      decodeOscPacket(badSize);
    } catch (e) {
      expect((e as DecodeError).offset).toBe(16);
    }
  });

  it('nesting deeper than the bound and too many messages are refused, never a stack overflow', () => {
    let inner: Parameters<typeof toBuffer>[0] = { address: '/deep', args: [] };
    for (let i = 0; i < 40; i++) inner = { timetag: [0, 1], elements: [inner] };
    expect(codeOf(() => decodeOscPacket(bufOf(inner)))).toBe('osc-malformed');
    const many = bufOf({ timetag: [0, 1], elements: Array.from({ length: 1100 }, () => ({ address: '/m', args: [] })) });
    expect(codeOf(() => decodeOscPacket(many))).toBe('osc-oversized');
  });

  it('decodes what liblo oscsend writes for every type it can send', () => {
    const out = execFileSync('oscsend', ['-', '/liblo/all', 'ihfdsScmTFNI', '42', '-9007199254740993', '1.5', '2.25', 'hello', 'sym', 'z', '00903c7f'], { timeout: 5000 });
    const [m] = decodeOscPacket(new Uint8Array(out));
    expect(m!.address).toBe('/liblo/all');
    expect(m!.types).toBe('ihfdsScmTFNI');
    expect(m!.args).toEqual([42, '-9007199254740993', 1.5, 2.25, 'hello', 'sym', 'z', [0x00, 0x90, 0x3c, 0x7f], true, false, null, true]);
  });
});

describe('OSC address patterns', () => {
  it('? * [] [!] {} per part; * never crosses /', () => {
    const cases: Array<[string, string, boolean]> = [
      ['/sensors', '/sensors', true], ['/sensors', '/sensor', false], ['/s?nsors', '/sensors', true], ['/*', '/euler', true], ['/*', '/a/b', false],
      ['/*/*', '/a/b', true], ['/imu[0-9]/euler', '/imu3/euler', true], ['/imu[!0-9]/euler', '/imu3/euler', false], ['/imu[-a]', '/imu-', true],
      ['/{euler,quaternion,earth}', '/earth', true], ['/{euler,quaternion}', '/eule', false], ['/a*b*c', '/aXbYc', true], ['/a*b*c', '/aXbY', false],
      ['/*uler', '/euler', true], ['/**', '/x', true], ['/x/', '/x/', true],
    ];
    for (const [p, a, want] of cases) expect(matchOscPattern(p, a), `${p} ~ ${a}`).toBe(want);
  });

  it('malformed patterns are typed errors; the matcher stays fast on hostile input', () => {
    for (const p of ['', 'x', '/[ab', '/{a,b', '/a]b', '/{a*,b}', `/${'a'.repeat(300)}`, `/${'*a'.repeat(20)}`]) {
      expect(() => compileOscPattern(p), p).toThrow(DecodeError);
    }
    const hostile = compileOscPattern(`/${'*a'.repeat(8)}b`);
    const t0 = performance.now();
    expect(hostile.matches(`/${'a'.repeat(250)}`)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(200); // backtracking would need ~C(250,8) steps
  });
});

describe('OSC frames', () => {
  const msg = (over: Partial<OscMessage>): OscMessage => ({ address: '/euler', types: 'fff', args: [1.5, -2.25, 90], index: 0, ...over });

  it('named NGIMU arguments, the timetag as observedAt, ids that differ per address and position', () => {
    const tt = msToTimetag(Date.UTC(2024, 4, 1, 10, 0, 0, 0) + 0.25);
    const f = oscFrame(msg({ timetag: tt }), { keyType: 'oscSource', deviceKey: '10.0.0.7:9000' }, NGIMU_MESSAGES['/euler'], { receivedAt: 5, seq: 1 });
    expect(f).toMatchObject({ protocol: 'osc', keyType: 'oscSource', deviceKey: '10.0.0.7:9000', observedAt: '2024-05-01T10:00:00.000250Z', decoded: { address: '/euler', types: 'fff', args: { roll: 1.5, pitch: -2.25, yaw: 90 } } });
    expect(f.messageId).toMatch(/^[0-9a-f]{16}-0\.euler$/);
    const g = oscFrame(msg({ timetag: tt, address: '/earth', index: 0 }), { keyType: 'oscSource', deviceKey: 'k' }, undefined, { receivedAt: 5, seq: 2 });
    expect(g.messageId).not.toBe(f.messageId);
    expect((g.decoded as { args: unknown }).args).toEqual([1.5, -2.25, 90]);
  });

  it('a bare message or "immediately" takes the arrival time (no observedAt) and an arrival id', () => {
    const f = oscFrame(msg({ timetag: [0, 1] }), { keyType: 'oscSource', deviceKey: 'k' }, undefined, { receivedAt: 1714557600000, seq: 9 });
    expect(f.observedAt).toBeUndefined();
    expect(f.messageId).toBe('r1714557600000.9.euler');
  });

  it('oscRoutes name arguments by pattern before the schema; extra arguments keep their position', () => {
    const naming = namingOf({ oscSchema: 'ngimu', oscRoutes: [{ pattern: '/imu[0-9]/euler', args: ['r', 'p', 'y'] }, { pattern: '/{euler,x}', args: ['only'] }] });
    expect(argNames(naming, '/imu1/euler')).toEqual(['r', 'p', 'y']);
    const f = oscFrame(msg({}), { keyType: 'oscSource', deviceKey: 'k' }, argNames(naming, '/euler'), { receivedAt: 0, seq: 0 });
    expect((f.decoded as { args: unknown }).args).toEqual({ only: 1.5, _1: -2.25, _2: 90 });
    expect(argNames(naming, '/quaternion')).toEqual(NGIMU_MESSAGES['/quaternion']);
    expect(() => namingOf({ oscRoutes: [{ pattern: '/[' }] })).toThrow(DecodeError);
    expect(() => namingOf({ oscRoutes: [{ pattern: '/a', args: ['bad name'] }] })).toThrow(DecodeError);
  });
});

describe('NGIMU argument signatures', () => {
  it('a message the NGIMU schema names must carry the NGIMU types; routes and unknown addresses are free', async () => {
    const { checkSignature } = await import('../../../hub/bindings/osc/codec.ts');
    const ngimu = namingOf({ oscSchema: 'ngimu' });
    expect(() => checkSignature(ngimu, '/euler', 'fff')).not.toThrow();
    expect(() => checkSignature(ngimu, '/euler', 'idf')).not.toThrow(); // other numbers stand in for floats
    expect(() => checkSignature(ngimu, '/battery', 'ffffs')).not.toThrow();
    expect(codeOf(() => checkSignature(ngimu, '/euler', 'ff'))).toBe('osc-arguments');
    expect(codeOf(() => checkSignature(ngimu, '/euler', 'ffs'))).toBe('osc-arguments');
    expect(codeOf(() => checkSignature(ngimu, '/battery', 'fffff'))).toBe('osc-arguments');
    expect(() => checkSignature(ngimu, '/custom', 'sss')).not.toThrow();
    expect(() => checkSignature(namingOf({ oscSchema: 'ngimu', oscRoutes: [{ pattern: '/euler', args: ['a'] }] }), '/euler', 's')).not.toThrow();
    expect(() => checkSignature(namingOf({}), '/euler', '')).not.toThrow();
  });
});
