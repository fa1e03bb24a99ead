// The hub's content as LDP: Things (TD graphs), observations per Thing (paged, rel="next"), saved SPARQL queries
// (LDP-NRs with describedby), mapfiles (delegating to the mapping registry); all read-only except mapfiles.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { observationGraph, thingGraph } from '../../hub/store/graphs.ts';
import { LDP, Ldp, sameGraph } from './helpers.ts';
import n3 from 'n3';
import type { Quad } from '@rdfjs/types';

let ldp: Ldp;
const ID = 'urn:dev:ldp-lamp';
const SOSA = 'http://www.w3.org/ns/sosa/';
const ROOT = resolve(import.meta.dirname, '../..');

const populate = async () => {
  await ldp.hub.directory.put(ID, {
    '@context': 'https://www.w3.org/2022/wot/td/v1.1',
    id: ID,
    title: 'LDP lamp',
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: { status: { type: 'string', forms: [{ href: 'https://lamp.example/status' }] } },
  });
  // 25 observations over two days.
  const lines: string[] = [];
  for (let i = 0; i < 25; i++) {
    const t = new Date(Date.UTC(2026, 0, 1 + (i % 2), 12, i));
    const o = `${ldp.base}/things/lamp/obs/${i}`;
    lines.push(`<${o}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <${SOSA}Observation> <${observationGraph(ldp.base, ID, t)}> .`);
    lines.push(`<${o}> <${SOSA}hasSimpleResult> "${i}"^^<http://www.w3.org/2001/XMLSchema#integer> <${observationGraph(ldp.base, ID, t)}> .`);
  }
  await ldp.hub.store.insert(lines.join('\n'));
};

const contains = (q: Quad[], c: string) => q.filter((x) => x.subject.value === c && x.predicate.value === `${LDP}contains`).map((x) => x.object.value);

/** Registers the cases on the hub that ldp.test.ts starts once. */
export function hubContentCases(hub: () => Ldp): void {
  beforeAll(() => {
    ldp = hub();
  });
  beforeAll(populate);

  describe('hub content containers', () => {
    it('the root lists the hub containers', async () => {
      const members = contains((await ldp.get('/ldp/')).quads, `${ldp.base}/ldp/`);
      for (const c of ['things/', 'observations/', 'queries/', 'mappings/']) expect(members).toContain(`${ldp.base}/ldp/${c}`);
    });

    it('Things are LDP-RSs holding the triples of their TD graph; writes are 405', async () => {
      const container = `${ldp.base}/ldp/things/`;
      const member = `${container}${encodeURIComponent(ID)}`;
      expect(contains((await ldp.get(container)).quads, container)).toEqual([member]);
      const { res, quads } = await ldp.get(member);
      expect(res.status).toBe(200);
      const tdGraph = new n3.Parser({ format: 'N-Triples' }).parse((await ldp.hub.store.getGraph(thingGraph(ldp.base, ID)))!) as Quad[];
      expect(sameGraph(quads.filter((q) => q.subject.value !== member), tdGraph)).toBe(true);
      const seeAlso = quads.find((q) => q.subject.value === member && q.predicate.value.endsWith('#seeAlso'))!.object.value;
      expect((await ldp.req('GET', seeAlso)).status).toBe(200);
      const put = await ldp.req('PUT', member, { 'content-type': 'text/turtle', 'if-match': String(res.headers.etag) }, '');
      expect(put.status).toBe(405);
      expect(String(put.headers.allow)).toBe('GET, HEAD, OPTIONS');
      expect((await ldp.req('POST', container, { 'content-type': 'text/turtle' }, '')).status).toBe(405);
      expect((await ldp.req('GET', `${container}${encodeURIComponent('urn:dev:unknown')}`)).status).toBe(404);
    });

    it('observations of a Thing are paged with limit/offset and rel="next"', async () => {
      const container = `${ldp.base}/ldp/observations/${encodeURIComponent(ID)}/`;
      expect(contains((await ldp.get(`${ldp.base}/ldp/observations/`)).quads, `${ldp.base}/ldp/observations/`)).toEqual([container]);
      const seen = new Set<string>();
      let next: string | undefined = `${container}?limit=10`;
      let pages = 0;
      while (next && pages < 10) {
        const { res, quads } = await ldp.get(next);
        expect(res.status).toBe(200);
        for (const m of contains(quads, container)) seen.add(m);
        next = /<([^>]+)>; rel="next"/.exec(String(res.headers.link))?.[1];
        pages++;
      }
      expect(pages).toBe(3);
      expect(seen.size).toBe(25);
      const member = [...seen][0]!;
      const { quads } = await ldp.get(member);
      const topic = quads.find((q) => q.predicate.value === 'http://xmlns.com/foaf/0.1/primaryTopic')!.object.value;
      expect(topic).toMatch(/\/things\/lamp\/obs\/\d+$/);
      expect(quads.some((q) => q.subject.value === topic && q.predicate.value === `${SOSA}hasSimpleResult`)).toBe(true);
      expect((await ldp.req('GET', `${container}bm90LWFuLW9ic2VydmF0aW9u`)).status).toBe(404);
    });

    it('saved queries are LDP-NRs (application/sparql-query) described by an LDP-RS with their title', async () => {
      const container = `${ldp.base}/ldp/queries/`;
      const members = contains((await ldp.get(container)).quads, container);
      expect(members).toContain(`${container}latest-observations.rq`);
      const q = await ldp.req('GET', `${container}latest-observations.rq`);
      expect(q.headers['content-type']).toMatch(/^application\/sparql-query/);
      expect(q.body).toBe(readFileSync(resolve(ROOT, 'sparql/latest-observations.rq'), 'utf8'));
      const describedBy = /<([^>]+)>; rel="describedby"/.exec(String(q.headers.link))![1]!;
      const meta = await ldp.get(describedBy);
      expect(meta.quads.some((x) => x.predicate.value === 'http://purl.org/dc/terms/title' && x.object.value === 'Latest observations')).toBe(true);
      // Every saved query parses and runs against the store.
      for (const m of members) {
        const text = (await ldp.req('GET', m)).body;
        await expect(ldp.hub.store.query(text), m).resolves.toBeDefined();
      }
    });

    it('mapfiles: POST/PUT/DELETE go through the mapping registry, the same resources as /mappings/{name}', async () => {
      const ttl = readFileSync(resolve(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8');
      const container = `${ldp.base}/ldp/mappings/`;
      const created = await ldp.req('POST', container, { 'content-type': 'text/turtle', slug: 'uplink' }, ttl);
      expect(created.status).toBe(201);
      const member = String(created.headers.location);
      expect(member).toBe(`${container}uplink`);
      expect(contains((await ldp.get(container)).quads, container)).toContain(member);
      expect((await ldp.req('GET', '/mappings/uplink')).body).toBe(ttl);
      const got = await ldp.req('GET', member);
      expect(got.body).toBe(ttl);
      expect(String(got.headers.link)).toContain(`<${LDP}NonRDFSource>; rel="type"`);
      expect((await ldp.req('PUT', member, { 'content-type': 'text/turtle' }, ttl)).status).toBe(428);
      const bad = await ldp.req('PUT', member, { 'content-type': 'text/turtle', 'if-match': String(got.headers.etag) }, '@prefix : <x> . :a :b ');
      expect(bad.status).toBeGreaterThanOrEqual(400);
      expect(bad.status).toBeLessThan(500);
      expect((await ldp.req('GET', '/mappings/uplink')).body).toBe(ttl);
      expect((await ldp.req('DELETE', member)).status).toBe(204);
      expect((await ldp.req('GET', '/mappings/uplink')).status).toBe(404);
    });
  });
}
