// Cookie codec: COOKIE.md's examples, typed errors naming field and offset, and seeded round-trip properties (JSON -> serial -> JSON).
import { describe, expect, it } from 'vitest';
import {
  COOKIE_TYPES,
  decodeJson,
  decodeSerial,
  encodeSerial,
  fromVector,
  toVector,
  typeFromExample,
  type AnyCookieMessage,
  type FieldDef,
  type TypeDef,
} from '../../../hub/bindings/cookie/codec.ts';
import { DecodeError } from '../../../hub/errors.ts';
import { prng } from '../../../hub/simulators/sensor.ts';

// COOKIE.md: "JSON form of the same message" and the types table (bt-detection §4.4 Listing 3, radar-count Listing 4).
const BT_JSON = { device: 'madrid-1', sensor: 2, type: 'bt-detection', action: 'data', seq: 7, payload: { time: '2024-05-01T08:00:00Z', mac: '00:1A:7D:DA:71:13', diac: '9E8B33', rssi: -67 } };
const BT_SERIAL = 'madrid-1:2:bt-detection:data:7#2024-05-01T08\\:00\\:00Z:00\\:1A\\:7D\\:DA\\:71\\:13:9E8B33:-67';
const RADAR_JSON = { device: 'madrid-1', sensor: 3, type: 'radar-count', action: 'data', seq: 8, payload: { timestamp: 1714550460, count: 3, velocities: [52.5, -48, 61.25] } };
const RADAR_SERIAL = 'madrid-1:3:radar-count:data:8#1714550460:3:{52.5:-48:61.25}';

function decodeErrorOf(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('no error thrown');
}

describe('the forms of COOKIE.md', () => {
  it('bt-detection: JSON <-> serial (escaped colons in time and MAC) <-> vector', () => {
    expect(encodeSerial(decodeJson(BT_JSON))).toBe(BT_SERIAL);
    expect(decodeSerial(BT_SERIAL)).toEqual(BT_JSON);
    expect(decodeSerial(Buffer.from(`${BT_SERIAL}\u0000`))).toEqual(BT_JSON); // the stream's NUL is not part of it
    expect(toVector('bt-detection', BT_JSON.payload)).toEqual(['2024-05-01T08:00:00Z', '00:1A:7D:DA:71:13', '9E8B33', '-67']);
    expect(fromVector('bt-detection', ['2024-05-01T08:00:00Z', '00:1A:7D:DA:71:13', '9E8B33', '-67'])).toEqual(BT_JSON.payload);
  });

  it('radar-count: nested velocity vector, epoch-seconds time stays a number', () => {
    expect(encodeSerial(decodeJson(RADAR_JSON))).toBe(RADAR_SERIAL);
    expect(decodeSerial(RADAR_SERIAL)).toEqual(RADAR_JSON);
    expect(toVector('radar-count', RADAR_JSON.payload)).toEqual(['1714550460', '3', ['52.5', '-48', '61.25']]);
  });

  it('a missing value is an empty string in the vector and an empty atom in the serial form', () => {
    const m = { device: 'madrid-1', sensor: 2, type: 'bt-detection', action: 'data' as const, seq: 9, payload: { mac: 'AA:BB', rssi: -80 } };
    expect(toVector('bt-detection', m.payload)).toEqual(['', 'AA:BB', '', '-80']);
    expect(encodeSerial(m)).toBe('madrid-1:2:bt-detection:data:9#:AA\\:BB::-80');
    expect(decodeSerial('madrid-1:2:bt-detection:data:9#:AA\\:BB::-80')).toEqual(m);
    expect(decodeSerial('madrid-1:2:bt-detection:get:10#')).toEqual({ ...m, action: 'get', seq: 10, payload: {} });
    // null and "" in the JSON form are absent values too
    expect(decodeJson({ ...m, payload: { time: null, mac: 'AA:BB', diac: '', rssi: -80 } })).toEqual(m);
  });

  it('weighted-travel-time (Listing 5), configs and device status keep their JSON types', () => {
    const wtt = { device: 'link-1', sensor: 4, type: 'weighted-travel-time', action: 'data' as const, seq: 1, payload: { minute: 480, link: 'A-B', interval: 300, travelTime: 71.5, ci: 4.2, vehicles: 17 } };
    expect(encodeSerial(wtt)).toBe('link-1:4:weighted-travel-time:data:1#480:A-B:300:71.5:4.2:17');
    expect(decodeSerial(encodeSerial(wtt))).toEqual(wtt);
    const cfg = { device: 'madrid-1', sensor: 3, type: 'radar-config', action: 'set' as const, seq: 2, payload: { vehicleDirection: 'approaching', noiseThreshold: 12, ledNotification: false } };
    expect(encodeSerial(cfg)).toBe('madrid-1:3:radar-config:set:2#approaching:12:false');
    expect(decodeSerial(encodeSerial(cfg))).toEqual(cfg);
    const status = decodeSerial('madrid-1:1:device-status:data:3#87.5:v1.2:{1:2:3}');
    expect(status).toMatchObject({ sensor: 1, payload: { battery: 87.5, firmware: 'v1.2', sensors: [1, 2, 3] } });
  });

  it('a composite message multiplexes several sensors of one device', () => {
    const serial = 'madrid-1:*:composite:data:9#{2:bt-detection:1714550460:AA\\:BB:200408:-70}:{3:radar-count:1714550460:1:{55}}:{1:device-status:87.5}';
    const m = decodeSerial(serial);
    expect(m).toEqual({
      device: 'madrid-1', sensor: '*', type: 'composite', action: 'data', seq: 9,
      payload: [
        { sensor: 2, type: 'bt-detection', payload: { time: 1714550460, mac: 'AA:BB', diac: '200408', rssi: -70 } },
        { sensor: 3, type: 'radar-count', payload: { timestamp: 1714550460, count: 1, velocities: [55] } },
        { sensor: 1, type: 'device-status', payload: { battery: 87.5 } },
      ],
    });
    expect(encodeSerial(m)).toBe(serial);
    expect(decodeJson(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it('escapes every special character, NUL as \\0', () => {
    const m = { device: 'd', sensor: 3, type: 'radar-config', action: 'set' as const, seq: 0, payload: { vehicleDirection: 'a:b{c}#d\\e\u0000f' } };
    const s = encodeSerial(m);
    expect(s).toBe('d:3:radar-config:set:0#a\\:b\\{c\\}\\#d\\\\e\\0f');
    expect(s).not.toContain('\u0000');
    expect(decodeSerial(s)).toEqual(m);
  });

  it('a type is defined by its example JSON message (key order fixes the positions)', () => {
    const def = typeFromExample({ zone: 'north', level: 3, ratio: 0.5, on: true, samples: [[1.5, 2.5]], meta: { unit: 'dB', n: 2 } });
    const types = { ...COOKIE_TYPES, noise: def };
    const m = { device: 'n1', sensor: 5, type: 'noise', action: 'data' as const, seq: 1, payload: { zone: 'north', level: 4, ratio: 0.25, on: false, samples: [[1, 2], [], [3.5]], meta: { n: 7 } } };
    expect(encodeSerial(m, types)).toBe('n1:5:noise:data:1#north:4:0.25:false:{{1:2}:{}:{3.5}}:{:7}');
    expect(decodeSerial(encodeSerial(m, types), types)).toEqual(m);
  });
});

describe('typed errors name the field and the offset', () => {
  it.each([
    ['no body: truncated', 'madrid-1:2:bt-detection:data:7', 'cookie-truncated', 'header', 30],
    ['open group at the end', 'madrid-1:3:radar-count:data:1#1:2:{1:2', 'cookie-truncated', 'body', 34],
    ['escape at the end', 'madrid-1:3:radar-config:set:1#abc\\', 'cookie-truncated', 'body', 33],
    ['unknown escape', 'madrid-1:3:radar-config:set:1#a\\qb', 'cookie-bad-escape', 'body', 31],
    ['wrong type: count', 'madrid-1:3:radar-count:data:1#1:abc', 'cookie-wrong-type', 'payload.count', 32],
    ['wrong type: a group where a value goes', 'madrid-1:2:bt-detection:data:1#{1}', 'cookie-wrong-type', 'payload.time', 31],
    ['wrong type: a value where a vector goes', 'madrid-1:3:radar-count:data:1#1:2:55', 'cookie-wrong-type', 'payload.velocities', 34],
    ['too many values', 'madrid-1:2:bt-detection:data:1#a:b:c:1:e', 'cookie-too-many-values', 'payload', 39],
    ['too many velocities', `madrid-1:3:radar-count:data:1#1:2:{${Array(11).fill(1).join(':')}}`, 'cookie-too-many-items', 'payload.velocities', 34],
    ['unknown type', 'madrid-1:4:fog:data:1#', 'cookie-unknown-type', 'type', 11],
    ['bad action', 'madrid-1:2:bt-detection:push:1#', 'cookie-bad-header', 'action', 24],
    ['bad seq', 'madrid-1:2:bt-detection:data:-1#', 'cookie-bad-header', 'seq', 29],
    ['bad device id', 'madrid 1:2:bt-detection:data:1#', 'cookie-bad-header', 'device', 0],
    ['sensor 0', 'madrid-1:0:bt-detection:data:1#', 'cookie-bad-header', 'sensor', 9],
    ['header fields', 'madrid-1:2:data:1#', 'cookie-bad-header', 'header', 0],
    ['stray }', 'madrid-1:3:radar-count:data:1#1:2}', 'cookie-syntax', 'body', 33],
    ['a value after a group', 'madrid-1:3:radar-count:data:1#1:2:{1}x', 'cookie-syntax', 'body', 37],
    ['composite with a plain item', 'madrid-1:*:composite:data:1#{2:bt-detection}:x', 'cookie-syntax', 'body', 45],
    ['composite sensor not *', 'madrid-1:2:composite:data:1#', 'cookie-bad-header', 'sensor', 9],
  ])('%s', (_name, input, code, field, offset) => {
    const e = decodeErrorOf(() => decodeSerial(input));
    expect([e.code, e.field, e.offset]).toEqual([code, field, offset]);
    expect(e.status).toBe(422);
  });

  it('bytes that are not UTF-8, and frames over the bound', () => {
    expect(decodeErrorOf(() => decodeSerial(Uint8Array.from([0x61, 0xff, 0x23]))).code).toBe('cookie-not-text');
    expect(decodeErrorOf(() => decodeSerial(Buffer.alloc(9000, 0x61))).code).toBe('cookie-too-long');
    expect(decodeErrorOf(() => decodeSerial(`d:1:device-status:data:1#${'{'.repeat(20)}`)).code).toBe('cookie-too-deep');
  });

  it('the JSON form is checked against the type as strictly as the serial form', () => {
    expect(decodeErrorOf(() => decodeJson({ ...RADAR_JSON, payload: { count: 'three' } })).field).toBe('payload.count');
    expect(decodeErrorOf(() => decodeJson({ ...RADAR_JSON, payload: { count: 1.5 } })).code).toBe('cookie-wrong-type');
    expect(decodeErrorOf(() => decodeJson({ ...RADAR_JSON, payload: { speed: 1 } })).code).toBe('cookie-unknown-field');
    expect(decodeErrorOf(() => decodeJson({ ...RADAR_JSON, sensor: 0 })).field).toBe('sensor');
    expect(decodeErrorOf(() => decodeJson({ ...RADAR_JSON, extra: 1 })).code).toBe('cookie-unknown-field');
    expect(decodeErrorOf(() => decodeJson([1])).code).toBe('cookie-wrong-type');
    expect(decodeErrorOf(() => encodeSerial({ ...RADAR_JSON, payload: { count: Infinity } } as AnyCookieMessage)).field).toBe('payload.count');
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Properties: random messages of every type (and of random example-defined types with nested vectors and objects).

const ALPHABET = ['a', 'Z', '0', '9', ':', '{', '}', '#', '\\', '\u0000', ' ', '-', '.', 'é', '€', '😀', '\n', '0'];

function randomValue(r: () => number, def: FieldDef, depth = 0): unknown {
  switch (def.kind) {
    case 'string': {
      const n = 1 + Math.floor(r() * 8);
      return Array.from({ length: n }, () => ALPHABET[Math.floor(r() * ALPHABET.length)]).join('');
    }
    case 'number':
      return [0, -1, 3.25, 1e21, -1.5e-7, Math.round((r() - 0.5) * 1e6) / 1000][Math.floor(r() * 6)];
    case 'integer':
      return Math.floor((r() - 0.5) * 2 ** 40);
    case 'boolean':
      return r() < 0.5;
    case 'time':
      return r() < 0.5 ? new Date(Math.floor(r() * 2e12)).toISOString() : Math.floor(r() * 2e9);
    case 'vector':
      return Array.from({ length: Math.floor(r() * Math.min(def.maxItems ?? 4, 4)) }, () => randomValue(r, def.items, depth + 1));
    case 'object':
      return randomPayload(r, def.fields, depth + 1);
  }
}

function randomPayload(r: () => number, fields: FieldDef[], depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (r() < 0.8) out[f.name] = randomValue(r, f, depth);
  return out;
}

function randomDef(r: () => number, depth = 0): FieldDef[] {
  const kinds = ['string', 'number', 'integer', 'boolean', 'time', 'vector', 'object'] as const;
  return Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => {
    const kind = kinds[Math.floor(r() * (depth >= 2 ? 5 : 7))]!;
    const name = `f${i}`;
    if (kind === 'vector') return { name, kind, items: randomDef(r, depth + 1)[0]! } as FieldDef;
    if (kind === 'object') return { name, kind, fields: randomDef(r, depth + 1) } as FieldDef;
    return { name, kind } as FieldDef;
  });
}

describe('round trips (seeded, 2,000 messages)', () => {
  it('JSON -> serial -> JSON is the identity for every type, with escapes, absent values and nested vectors', () => {
    const r = prng(11);
    const types: Record<string, TypeDef> = { ...COOKIE_TYPES };
    for (let i = 0; i < 20; i++) types[`random-${i}`] = { fields: randomDef(r) };
    const names = Object.keys(types);
    let composites = 0;
    for (let i = 0; i < 2000; i++) {
      let m: AnyCookieMessage;
      const header = { device: `dev-${i % 7}`, action: (['data', 'get', 'set', 'ack', 'err'] as const)[i % 5], seq: Math.floor(r() * 2 ** 32) };
      if (i % 10 === 9) {
        composites += 1;
        const groups = Array.from({ length: Math.floor(r() * 4) }, () => {
          const type = names[Math.floor(r() * names.length)]!;
          return { sensor: 1 + Math.floor(r() * 5), type, payload: randomPayload(r, types[type]!.fields) };
        });
        m = { ...header, sensor: '*', type: 'composite', payload: groups };
      } else {
        const type = names[Math.floor(r() * names.length)]!;
        m = { ...header, sensor: 1 + Math.floor(r() * 100), type, payload: randomPayload(r, types[type]!.fields) };
      }
      const json = JSON.parse(JSON.stringify(m)) as AnyCookieMessage;
      const serial = encodeSerial(json, types);
      expect(serial).not.toContain('\u0000');
      expect(decodeSerial(serial, types), serial).toEqual(m);
      expect(decodeSerial(Buffer.from(serial, 'utf8'), types)).toEqual(m);
      expect(decodeJson(json, types)).toEqual(m);
      if (m.sensor !== '*') expect(fromVector(m.type, JSON.parse(JSON.stringify(toVector(m.type, m.payload, types))), types)).toEqual(m.payload);
    }
    expect(composites).toBe(200);
  });
});
