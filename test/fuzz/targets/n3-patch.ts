// Fuzz target: LDP PATCH with N3 Patch (Solid Protocol §5.3.1) applied through applyPatch on an in-process store.
import { readFileSync, existsSync } from 'node:fs';
import n3 from 'n3';
import type { Quad } from '@rdfjs/types';
import { SparqlSyntaxError } from '../../../hub/errors.ts';
import { applyPatch } from '../../../hub/ldp/patch.ts';
import { MemoryQuadStore } from '../../../hub/store/memory-quad-store.ts';
import { enc, ROOT } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';
import { storeFailure } from './sparql.ts';

const BASE = 'http://127.0.0.1:8080';
const RESOURCE = `${BASE}/ldp/r1`;
const EX = 'http://example.org/ns#';
const DCT = 'http://purl.org/dc/terms/';
const PREFIX = `@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix ex: <${EX}>. @prefix dct: <${DCT}>.`;

let store: MemoryQuadStore;
let state: Quad[];

/** The N3 Patch documents of the LDP tests (test/ldp/patch.cases.ts), with their prefixes filled in. */
function patchSeeds(): Uint8Array[] {
  const out = new Set<string>([
    `${PREFIX} _:p a solid:InsertDeletePatch; solid:where { <> dct:title ?t }; solid:deletes { <> dct:title ?t }; solid:inserts { <> dct:title "second"; ex:previous ?t }.`,
    `${PREFIX} _:p a solid:InsertDeletePatch; solid:inserts { <> ex:tag "x"@en, 1, 2.5, true, <other> }.`,
    `${PREFIX} _:p a solid:InsertDeletePatch; solid:deletes { <> ex:count 1 }.`,
    `${PREFIX} _:p a solid:Patch; solid:where { ?s ex:count ?n }; solid:inserts { ?s ex:seen ?n }.`,
  ]);
  const cases = `${ROOT}test/ldp/patch.cases.ts`;
  if (existsSync(cases)) {
    for (const m of readFileSync(cases, 'utf8').matchAll(/`([^`]*solid:[^`]*)`/g)) {
      out.add(m[1]!.replace(/\$\{PREFIX\}/g, PREFIX).replace(/\$\{EX\}/g, EX).replace(/\$\{DCT\}/g, DCT).replace(/\$\{[^}]*\}/g, 'x'));
    }
  }
  return [...out].map(enc);
}

export const n3PatchTarget: FuzzTarget = {
  name: 'n3-patch',
  description: 'N3 Patch text -> parseN3Patch -> where/deletes/inserts as SPARQL on a scratch graph (applyPatch on a MemoryQuadStore)',
  tokens: ['solid:InsertDeletePatch', 'solid:where', 'solid:inserts', 'solid:deletes', 'solid:Patch', 'a', '{', '}', '?x', '?t', '_:b', '<>',
    '<#a>', '"x"', '"""x"""', '"x"@en', '"1"^^<http://www.w3.org/2001/XMLSchema#integer>', '=>', '<=', '@forAll', '@forSome', '=', '(', ')',
    '[', ']', '!', '^', ';', ',', '.', 'dct:title', 'ex:count', '\\u003E', '\\U0000003e', '"\\u0000"', '@prefix'],
  seeds: patchSeeds,
  async setup() {
    store = new MemoryQuadStore();
    await store.open();
    state = new n3.Parser({ baseIRI: RESOURCE }).parse(`<> a <${EX}Bug> ; <${DCT}title> "first" ; <${EX}count> 1 ; <${EX}tag> "a", "b"@en .`) as Quad[];
  },
  async run(input) {
    try {
      await applyPatch(store, BASE, state, 'text/n3', text(input), RESOURCE);
    } catch (e) {
      // The patch was accepted as N3: if the SPARQL the hub built from it does not parse, the hub built it wrong.
      if (e instanceof SparqlSyntaxError) throw new OracleError(`applyPatch built SPARQL the engine refuses: ${e.message.slice(0, 200)}`);
      throw storeFailure(e, () => (store = new MemoryQuadStore()));
    }
  },
};
