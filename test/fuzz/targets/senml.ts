// Fuzz targets: SenML packs (RFC 8428) in JSON and CBOR, decoded and resolved.
import { readFileSync } from 'node:fs';
import { Encoder } from 'cbor-x';
import { decodeSenmlCbor, decodeSenmlJson } from '../../../hub/bindings/senml/codecs.ts';
import { decodeLwm2mJson, decodeLwm2mTlv } from '../../../hub/bindings/senml/lwm2m.ts';
import type { Rng } from '../prng.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;
const vectors = () =>
  JSON.parse(readFileSync(new URL('../../../../shared/vectors/lwm2m_senml.json', import.meta.url), 'utf8')) as Array<{ input: Record<string, unknown> }>;

function check(records: Array<{ n: string }>): void {
  for (const r of records) if (!NAME.test(r.n)) throw new OracleError(`resolved name ${JSON.stringify(r.n)} is not a SenML name`);
}

export const senmlJsonTarget: FuzzTarget = {
  name: 'senml-json',
  description: 'SenML JSON bytes -> decodeSenmlJson (parse, base-field resolution, type checks)',
  seeds: () => vectors().filter((v) => Array.isArray(v.input.json)).map((v) => Buffer.from(JSON.stringify(v.input.json))),
  tokens: ['"bn"', '"bt"', '"bu"', '"bv"', '"bs"', '"bver"', '"n"', '"v"', '"vs"', '"vb"', '"vd"', '"s"', '"t"', '"u"', '"x_"', '1e308', '-0', 'true', 'null'],
  generate: (rng) => Buffer.from(JSON.stringify(randomPack(rng))),
  generateRatio: 0.4,
  run(input) {
    check(decodeSenmlJson(input));
  },
};

/** A pack of records drawn from SenML's fields, mostly valid, sometimes not. */
function randomPack(rng: Rng): Array<Record<string, unknown>> {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
  const value = (): unknown => pick([rng.int(1000) / 10, -rng.int(100), 'x', true, false, null, 'aGkgCg', 1e308, []]);
  return Array.from({ length: 1 + rng.int(6) }, () => {
    const r: Record<string, unknown> = {};
    for (const k of ['bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut', 'x_']) {
      if (!rng.chance(0.25)) continue;
      r[k] = k === 'bn' ? pick(['urn:dev:ow:1:', 'a/', '', ' ', 'x']) : k === 'n' ? pick(['temp', 'v', '', '-x', 'a b']) : k === 'u' || k === 'bu' ? pick(['Cel', 'V', 3]) : value();
    }
    return r;
  });
}

const cbor = new Encoder({ useRecords: false, useTag259ForMaps: false } as ConstructorParameters<typeof Encoder>[0]);

export const senmlCborTarget: FuzzTarget = {
  name: 'senml-cbor',
  description: 'SenML CBOR bytes -> decodeSenmlCbor (cbor-x decode, integer labels, resolution)',
  seeds() {
    const out: Uint8Array[] = vectors().filter((v) => v.input.contentType === 'application/senml+cbor').map((v) => Buffer.from(String(v.input.hex), 'hex'));
    const labels: Record<string, number> = { bn: -2, bt: -3, bu: -4, bv: -5, n: 0, u: 1, v: 2, vs: 3, vb: 4, t: 6, vd: 8 };
    for (const v of vectors().filter((x) => Array.isArray(x.input.json))) {
      out.push(cbor.encode((v.input.json as Array<Record<string, unknown>>).map((r) => new Map(Object.entries(r).map(([k, x]) => [labels[k] ?? k, x])))));
    }
    return out;
  },
  tokens: ['\x81', '\xa1', '\x21', '\x22', '\xf9', '\xfb', '\xd9\x01\x03', '\x9f', '\xbf', '\xff', '\x60', '\x40'],
  generate: (rng) => cbor.encode(randomPack(rng).map((r) => new Map(Object.entries(r).map(([k, v]) => [CBOR_KEYS[k] ?? k, k === 'vd' && typeof v === 'string' ? Buffer.from(v, 'base64url') : v])))),
  generateRatio: 0.4,
  run(input) {
    check(decodeSenmlCbor(input));
  },
};

const CBOR_KEYS: Record<string, number> = { bver: -1, bn: -2, bt: -3, bu: -4, bv: -5, bs: -6, n: 0, u: 1, v: 2, vs: 3, vb: 4, s: 5, t: 6, ut: 7, vd: 8 };

export const lwm2mTarget: FuzzTarget = {
  name: 'lwm2m',
  description: 'LwM2M 1.0 payloads: TLV (decodeLwm2mTlv) or, for inputs starting with "{", OMA JSON (decodeLwm2mJson)',
  seeds: () => [
    Buffer.from('08000be4164441f80000e1164563', 'hex'),
    Buffer.from('e116da01a6157d410005410107', 'hex'),
    Buffer.from('{"bn":"/3303/0","e":[{"n":"5700","v":31},{"n":"5701","sv":"c"}]}'),
  ],
  tokens: ['\x08', '\xe4', '\xe1', '\xa6', '\x41', '\xf0', '\x16\x44', '"sv"', '"bv"', '"e"'],
  run(input) {
    if (input[0] === 0x7b) decodeLwm2mJson(input);
    else decodeLwm2mTlv(input);
  },
};
