import { describe, expect, it } from 'vitest';
import { inputProperties } from '../../hub/virtual/publish.ts';
import { prng } from '../../hub/simulators/sensor.ts';

/** The definition inputProperties implements by index search. */
const OBSERVATION = /^(.*\/things\/[^/]+)\/observations\/[^/]+\/([^/]+)$/;
function reference(members: readonly string[]): string[] {
  const out = new Set<string>();
  for (const m of members) {
    const x = OBSERVATION.exec(m);
    if (x) out.add(`${x[1]}/properties/${x[2]}`);
  }
  return [...out];
}

describe('inputProperties', () => {
  it('maps observation IRIs to their properties, once each', () => {
    const b = 'http://h/things/urn%3Aa';
    expect(inputProperties([`${b}/observations/m1/temp`, `${b}/observations/m2/temp`, `${b}/observations/m2/rh`, 'http://h/other'])).toEqual([`${b}/properties/temp`, `${b}/properties/rh`]);
  });

  it('agrees with the regular expression on 40,000 random paths built from its own pieces', () => {
    const rnd = prng(9);
    const pieces = ['/things/', '/observations/', '/', 'a', 'things', 'observations', 'x/y', '', '//', 'http://h'];
    const cases: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const n = 1 + Math.floor(rnd() * 9);
      for (let k = 0; k < n; k++) s += pieces[Math.floor(rnd() * pieces.length)];
      cases.push(s);
      // and one shaped like an observation IRI, each part drawn from the pieces (so about a third match)
      const part = () => (rnd() < 0.6 ? 'a' : pieces[Math.floor(rnd() * pieces.length)]!);
      cases.push(`${part()}/things/${part()}/observations/${part()}/${part()}`);
    }
    for (const c of cases) expect(inputProperties([c]), c).toEqual(reference([c]));
    expect(cases.filter((c) => OBSERVATION.test(c)).length).toBeGreaterThan(5000);
    expect(inputProperties(cases)).toEqual(reference(cases));
  });
});
