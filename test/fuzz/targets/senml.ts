// Fuzz targets: SenML packs (RFC 8428) in JSON and CBOR, decoded and resolved.
import { readFileSync } from 'node:fs';
import { Encoder } from 'cbor-x';
import { decodeSenmlCbor, decodeSenmlJson } from '../../../hub/bindings/senml/codecs.ts';
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
  run(input) {
    check(decodeSenmlJson(input));
  },
};

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
  run(input) {
    check(decodeSenmlCbor(input));
  },
};
