// Direct and indirect containers: membership triples computed from members (always in sync after POST, PUT, DELETE),
// isMemberOfRelation, a membership resource other than the container; content negotiation of representations.
import { beforeAll, describe, expect, it } from 'vitest';
import { DCT, EX, LDP, Ldp, sameGraph, turtle } from './helpers.ts';
import n3 from 'n3';
import type { Quad } from '@rdfjs/types';

let ldp: Ldp;

const FOAF_TOPIC = 'http://xmlns.com/foaf/0.1/primaryTopic';
const has = (q: Quad[], s: string, p: string, o: string) => q.some((x) => x.subject.value === s && x.predicate.value === p && x.object.value === o);
const link = (m: string) => ({ link: `<${LDP}${m}>; rel="type"` });

/** Registers the cases on the hub that ldp.test.ts starts once. */
export function containerCases(hub: () => Ldp): void {
  beforeAll(() => {
    ldp = hub();
  });

  describe('membership', () => {
    it('a direct container with another membership resource puts the triples there, and removes them on delete', async () => {
      const album = await ldp.post('/ldp/', `<> a <${EX}Album> .`, { slug: 'album' });
      const dc = await ldp.post('/ldp/', `<> <${LDP}membershipResource> <${album}> ; <${LDP}hasMemberRelation> <${EX}track> .`, link('DirectContainer'));
      const t1 = await ldp.post(dc, `<> a <${EX}Track> .`);
      expect(has((await ldp.get(album)).quads, album, `${EX}track`, t1)).toBe(true);
      expect((await ldp.req('DELETE', t1)).status).toBe(204);
      expect(has((await ldp.get(album)).quads, album, `${EX}track`, t1)).toBe(false);
    });

    it('isMemberOfRelation puts the member as subject', async () => {
      const dc = await ldp.post('/ldp/', `<> <${LDP}membershipResource> <> ; <${LDP}isMemberOfRelation> <${EX}partOf> .`, link('DirectContainer'));
      const m = await ldp.post(dc, `<> <${DCT}title> "part" .`);
      const { quads } = await ldp.get(dc);
      expect(has(quads, m, `${EX}partOf`, dc)).toBe(true);
      expect(quads.some((q) => q.predicate.value === `${LDP}hasMemberRelation`)).toBe(false);
    });

    it('an indirect container uses the object of the inserted content relation, following PUT changes', async () => {
      const ic = await ldp.post(
        '/ldp/',
        `<> <${LDP}membershipResource> <> ; <${LDP}hasMemberRelation> <${EX}about> ; <${LDP}insertedContentRelation> <${FOAF_TOPIC}> .`,
        link('IndirectContainer'),
      );
      const m = await ldp.post(ic, `<> <${FOAF_TOPIC}> <#it> .`);
      expect(has((await ldp.get(ic)).quads, ic, `${EX}about`, `${m}#it`)).toBe(true);
      const etag = await ldp.etag(m);
      expect((await ldp.req('PUT', m, { 'content-type': 'text/turtle', 'if-match': etag }, `<> <${FOAF_TOPIC}> <#other> .`)).status).toBe(204);
      const after = (await ldp.get(ic)).quads;
      expect(has(after, ic, `${EX}about`, `${m}#other`)).toBe(true);
      expect(has(after, ic, `${EX}about`, `${m}#it`)).toBe(false);
      // The ETag of the container changes with its membership.
      expect(await ldp.etag(ic)).not.toBe(etag);
    });

    it('refuses a direct container with both membership relations, and PUT changing the configuration', async () => {
      const both = await ldp.req(
        'POST',
        '/ldp/',
        { 'content-type': 'text/turtle', ...link('DirectContainer') },
        `<> <${LDP}hasMemberRelation> <${EX}a> ; <${LDP}isMemberOfRelation> <${EX}b> .`,
      );
      expect(both.status).toBe(409);
      const dc = await ldp.post('/ldp/', `<> <${LDP}hasMemberRelation> <${EX}a> .`, link('DirectContainer'));
      const r = await ldp.req('PUT', dc, { 'content-type': 'text/turtle', 'if-match': await ldp.etag(dc) }, `<> <${LDP}hasMemberRelation> <${EX}b> .`);
      expect(r.status).toBe(409);
    });
  });

  describe('content negotiation', () => {
    it('serves the same graph as Turtle, N-Triples, JSON-LD and RDF/XML; 406 for anything else', async () => {
      const r = await ldp.post('/ldp/', `<> a <${EX}Bug> ; <${DCT}title> "conneg"@en ; <${EX}n> 3 .`);
      const ref = (await ldp.get(r)).quads;
      const nt = await ldp.req('GET', r, { accept: 'application/n-triples' });
      expect(nt.headers['content-type']).toMatch(/^application\/n-triples/);
      expect(sameGraph(new n3.Parser({ format: 'N-Triples' }).parse(nt.body) as Quad[], ref)).toBe(true);
      const jl = await ldp.req('GET', r, { accept: 'application/ld+json' });
      expect(jl.headers['content-type']).toMatch(/^application\/ld\+json/);
      expect(JSON.stringify(JSON.parse(jl.body))).toContain('conneg');
      const xml = await ldp.req('GET', r, { accept: 'application/rdf+xml' });
      expect(xml.headers['content-type']).toMatch(/^application\/rdf\+xml/);
      expect(xml.body).toContain('rdf:RDF');
      expect((await ldp.req('GET', r, { accept: 'text/turtle;q=0.1, application/n-triples' })).headers['content-type']).toMatch(/n-triples/);
      expect((await ldp.req('GET', r, { accept: 'image/png' })).status).toBe(406);
    });

    it('answers 304 to If-None-Match with the current ETag', async () => {
      const r = await ldp.post('/ldp/', `<> <${DCT}title> "cached" .`);
      const etag = await ldp.etag(r);
      expect((await ldp.req('GET', r, { 'if-none-match': etag })).status).toBe(304);
    });

    it('accepts RDF/XML and N-Triples bodies with relative IRIs resolved against the new resource', async () => {
      const xml = `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="${DCT}"><rdf:Description rdf:about=""><dct:title>xml</dct:title><dct:relation rdf:resource="rel"/></rdf:Description></rdf:RDF>`;
      const r = await ldp.req('POST', '/ldp/', { 'content-type': 'application/rdf+xml' }, xml);
      expect(r.status).toBe(201);
      const loc = String(r.headers.location);
      const { quads } = await ldp.get(loc);
      expect(has(quads, loc, `${DCT}relation`, new URL('rel', loc).href)).toBe(true);
      expect(sameGraph(quads.filter((q) => q.predicate.value.startsWith(DCT)), turtle(`<> <${DCT}title> "xml" ; <${DCT}relation> <rel> .`, loc))).toBe(true);
    });
  });
}
