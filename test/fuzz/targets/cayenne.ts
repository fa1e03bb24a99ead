// Fuzz target: Cayenne LPP uplink payloads (decodeLpp).
import { readFileSync } from 'node:fs';
import { decodeLpp, LPP_TYPES } from '../../../hub/bindings/cayenne/lpp.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

export const cayenneTarget: FuzzTarget = {
  name: 'cayenne-lpp',
  description: 'LPP bytes -> decodeLpp (channel/type/value records, every IPSO and extended type)',
  seeds() {
    const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/cayenne_lpp.json', import.meta.url), 'utf8')) as Array<{ input: { hex?: string } }>;
    return vectors.filter((v) => v.input.hex).map((v) => Buffer.from(v.input.hex!, 'hex'));
  },
  tokens: [...LPP_TYPES.keys()].map((t) => String.fromCharCode(t)),
  generate(rng) {
    const out: number[] = [];
    const types = [...LPP_TYPES.entries()];
    for (let n = rng.int(8); n > 0; n--) {
      const [id, t] = types[rng.int(types.length)]!;
      out.push(rng.int(256), id);
      for (let i = 0; i < t.size; i++) out.push(rng.int(256));
    }
    return Uint8Array.from(out);
  },
  run(input) {
    const fields = decodeLpp(input);
    if (Object.keys(fields).length * 3 > input.length) throw new OracleError('more fields than the bytes can hold');
  },
};
