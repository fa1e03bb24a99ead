// PATCH of LDP-RSs: Solid N3 Patch (where/inserts/deletes) and SPARQL Update scoped to the resource; failures change nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { DCT, EX, LDP, Ldp, sameGraph, turtle, userGraph } from './helpers.ts';

let ldp: Ldp;

const N3 = { 'content-type': 'text/n3' };
const SU = { 'content-type': 'application/sparql-update' };
const PREFIX = `@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix ex: <${EX}>. @prefix dct: <${DCT}>.`;

async function fresh(ttl = `<> a <${EX}Bug> ; <${DCT}title> "first" ; <${EX}count> 1 .`): Promise<string> {
  return ldp.post('/ldp/', ttl);
}

/** Registers the cases on the hub that ldp.test.ts starts once. */
export function patchCases(hub: () => Ldp): void {
  beforeAll(() => {
    ldp = hub();
  });

  describe('N3 Patch (text/n3)', () => {
    it('deletes and inserts with variables bound by solid:where', async () => {
      const r = await fresh();
      const patch = `${PREFIX} _:p a solid:InsertDeletePatch;
        solid:where { <> dct:title ?t; ex:count ?n };
        solid:deletes { <> dct:title ?t };
        solid:inserts { <> dct:title "second"; ex:previous ?t; ex:related <other> }.`;
      const res = await ldp.req('PATCH', r, N3, patch);
      expect(res.status).toBe(204);
      const { quads } = await ldp.get(r);
      const expected = turtle(`<> a <${EX}Bug> ; <${DCT}title> "second" ; <${EX}count> 1 ; <${EX}previous> "first" ; <${EX}related> <other> .`, r);
      expect(sameGraph(userGraph(quads), expected)).toBe(true);
    });

    it('answers 409 and changes nothing when solid:where matches nothing or more than once', async () => {
      const r = await fresh(`<> <${EX}tag> "a", "b" .`);
      const before = await ldp.etag(r);
      const none = await ldp.req('PATCH', r, N3, `${PREFIX} _:p a solid:InsertDeletePatch; solid:where { <> ex:missing ?x }; solid:inserts { <> ex:y ?x }.`);
      expect(none.status).toBe(409);
      expect(JSON.parse(none.body).code).toBe('patch-conflict');
      const two = await ldp.req('PATCH', r, N3, `${PREFIX} _:p a solid:InsertDeletePatch; solid:where { <> ex:tag ?x }; solid:inserts { <> ex:y ?x }.`);
      expect(two.status).toBe(409);
      expect(await ldp.etag(r)).toBe(before);
    });

    it('answers 409 when a triple to delete is not there', async () => {
      const r = await fresh();
      const res = await ldp.req('PATCH', r, N3, `${PREFIX} _:p a solid:InsertDeletePatch; solid:deletes { <> dct:title "nope" }.`);
      expect(res.status).toBe(409);
    });

    it('answers 422 for a document without exactly one patch, and 400 for bad N3', async () => {
      const r = await fresh();
      expect((await ldp.req('PATCH', r, N3, `${PREFIX} <> dct:title "x".`)).status).toBe(422);
      expect((await ldp.req('PATCH', r, N3, `${PREFIX} _:p a solid:InsertDeletePatch; solid:inserts { <> ex:a ?unbound }.`)).status).toBe(422);
      const bad = await ldp.req('PATCH', r, N3, `${PREFIX} _:p a solid:InsertDeletePatch; solid:inserts { <> ex:a `);
      expect(bad.status).toBe(400);
      expect(bad.headers['content-type']).toMatch(/problem\+json/);
    });

    it('cannot add or remove containment triples (409 with constrainedBy)', async () => {
      const c = await ldp.post('/ldp/', '', { link: `<${LDP}BasicContainer>; rel="type"` });
      const m = await ldp.post(c, `<> a <${EX}Bug> .`);
      const add = await ldp.req('PATCH', c, N3, `${PREFIX} _:p a solid:InsertDeletePatch; solid:inserts { <> <${LDP}contains> <x> }.`);
      expect(add.status).toBe(409);
      expect(String(add.headers.link)).toContain(`rel="${LDP}constrainedBy"`);
      const remove = await ldp.req('PATCH', c, N3, `${PREFIX} _:p a solid:InsertDeletePatch; solid:deletes { <> <${LDP}contains> <${m}> }.`);
      expect(remove.status).toBe(409);
    });

    it('honours If-Match: 412 on a stale ETag, 204 on the current one', async () => {
      const r = await fresh();
      const patch = `${PREFIX} _:p a solid:InsertDeletePatch; solid:inserts { <> ex:n 2 }.`;
      expect((await ldp.req('PATCH', r, { ...N3, 'if-match': '"stale"' }, patch)).status).toBe(412);
      expect((await ldp.req('PATCH', r, { ...N3, 'if-match': await ldp.etag(r) }, patch)).status).toBe(204);
    });
  });

  describe('SPARQL Update (application/sparql-update)', () => {
    it('applies INSERT/DELETE WHERE to the resource, relative IRIs against the request URI', async () => {
      const r = await fresh();
      const update = `PREFIX dct: <${DCT}> DELETE { <> dct:title ?t } INSERT { <> dct:title "via sparql" ; dct:relation <rel> } WHERE { <> dct:title ?t }`;
      expect((await ldp.req('PATCH', r, SU, update)).status).toBe(204);
      const { quads } = await ldp.get(r);
      const expected = turtle(`<> a <${EX}Bug> ; <${DCT}title> "via sparql" ; <${EX}count> 1 ; <${DCT}relation> <rel> .`, r);
      expect(sameGraph(userGraph(quads), expected)).toBe(true);
    });

    it('is scoped to the resource: GRAPH, WITH, USING, SERVICE and graph management are refused (422), nothing changes', async () => {
      const r = await fresh();
      const other = await fresh(`<> <${DCT}title> "untouched" .`);
      const before = await ldp.etag(other);
      const mine = await ldp.etag(r);
      for (const update of [
        `INSERT DATA { GRAPH <${other}> { <${other}> <${DCT}title> "hijacked" } }`,
        `DELETE WHERE { GRAPH <${other}> { ?s ?p ?o } }`,
        `WITH <${other}> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }`,
        `DELETE { <> <${DCT}title> ?t } USING <${other}> WHERE { ?s <${DCT}title> ?t }`,
        `INSERT { <> <${DCT}title> ?t } WHERE { GRAPH ?g { ?s <${DCT}title> ?t } }`,
        `INSERT { <> <${DCT}title> ?t } WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s <${DCT}title> ?t } }`,
        `DROP GRAPH <${other}>`,
        `LOAD <http://127.0.0.1:9/x.ttl>`,
        `CLEAR ALL`,
      ]) {
        const res = await ldp.req('PATCH', r, SU, update);
        expect(res.status, update).toBe(422);
      }
      expect(await ldp.etag(other)).toBe(before);
      expect(await ldp.etag(r)).toBe(mine);
      // The scratch graphs of patches never stay behind.
      expect(await ldp.hub.store.ask(`ASK { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), "/graphs/ldp-patch/")) }`)).toBe(false);
    });

    it('answers 400 for a syntax error and 415 for an unknown patch type; LDP-NRs take no PATCH (405)', async () => {
      const r = await fresh();
      expect((await ldp.req('PATCH', r, SU, 'INSERT DATA { <a> <b> ')).status).toBe(400);
      expect((await ldp.req('PATCH', r, { 'content-type': 'application/json-patch+json' }, '[]')).status).toBe(415);
      const nr = await ldp.req('POST', '/ldp/', { 'content-type': 'text/plain' }, 'hello');
      const res = await ldp.req('PATCH', String(nr.headers.location), SU, 'INSERT DATA { <a> <b> <c> }');
      expect(res.status).toBe(405);
      expect(String(res.headers.allow)).not.toContain('PATCH');
    });
  });
}
