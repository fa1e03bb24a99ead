// W3C LDP 1.0 test suite (its 71 AUTOMATED non-paging cases, ../shared/conformance/ldp) as HTTP tests against one
// listening hub: a basic, a direct and an indirect container, an LDP-RS and an LDP-NR. One hub for all cases keeps the
// folder fast; the case modules are grouped as the suite's classes are.
import { afterAll, beforeAll } from 'vitest';
import { setup, type Ctx } from './ldp-client.ts';
import { commonResourceCases } from './common-resource.cases.ts';
import { rdfSourceCases } from './rdf-source.cases.ts';
import { commonContainerCases } from './common-container.cases.ts';
import { containerKindCases } from './container-kinds.cases.ts';
import { nonRdfSourceCases } from './non-rdf-source.cases.ts';

let ctx: Ctx | undefined;
beforeAll(async () => {
  ctx = await setup();
});
afterAll(async () => ctx?.hub.stop());

const get = (): Ctx => {
  if (!ctx) throw new Error('the conformance hub did not start');
  return ctx;
};
commonResourceCases(get);
rdfSourceCases(get);
commonContainerCases(get);
containerKindCases(get);
nonRdfSourceCases(get);
