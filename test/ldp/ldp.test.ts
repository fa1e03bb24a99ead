// LDP server behaviour beyond the W3C suite, on one hub: PATCH (N3 Patch, SPARQL Update), membership of direct and
// indirect containers, content negotiation, and the hub's content as containers.
import { afterAll, beforeAll } from 'vitest';
import { ldpHub, type Ldp } from './helpers.ts';
import { patchCases } from './patch.cases.ts';
import { containerCases } from './containers.cases.ts';
import { hubContentCases } from './hub-content.cases.ts';

let ldp: Ldp | undefined;
beforeAll(async () => {
  ldp = await ldpHub();
});
afterAll(async () => ldp?.hub.stop());

const get = (): Ldp => {
  if (!ldp) throw new Error('the LDP hub did not start');
  return ldp;
};
patchCases(get);
containerCases(get);
hubContentCases(get);
