// LDP conformance, CommonContainerTest (23 AUTOMATED cases) against a basic, a direct and an indirect container:
// POST (201, Location, Slug, interaction models, Turtle/JSON-LD), containment, Prefer, URI non-reuse (LDP 1.0 §5.2).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DCT, EX, has, hasLink, LDP, parseTurtle, prefer, RDF_TYPE, TURTLE, allow, type LdpClient, type Subjects } from './ldp-client.ts';
import type { Ctx } from './ldp-client.ts';
import type { TestHub } from '../../helpers/hub.ts';

let hub: TestHub;
let c: LdpClient;
let s: Subjects;

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';

const DEFAULTISH = `<> a <${EX}Bug> ; <${DCT}title> "Another bug to test." .`;
/** Registers the cases; `ctx` gives the hub and subjects set up once by ldp-conformance.test.ts. */
export function commonContainerCases(ctx: () => Ctx): void {
  beforeAll(() => ({ hub, c, s } = ctx()));

  describe.each(['basic', 'direct', 'indirect'] as const)('CommonContainerTest on %s', (kind) => {
    const url = () => s[kind];
    const contains = async (member: string, headers: Record<string, string> = { prefer: prefer('include', 'PreferContainment') }) =>
      has((await c.turtle(url(), headers)).quads, url(), `${LDP}contains`, member);

    it('testPutToCreate [MAY]', async () => {
      const target = `${url()}${randomUUID()}`;
      const put = await c.req('PUT', target, { 'content-type': TURTLE }, `<> <${DCT}title> "Created by PUT" .`);
      expect(put.status).toBe(201);
      expect((await c.req('DELETE', target)).status).toBeLessThan(300);
    });

    it('testRelativeUriResolutionPost [MUST]', async () => {
      const loc = await c.post(url(), `<> <${DCT}relation> <relatedResource> ; <${DCT}title> "relative" .`);
      const { res, quads } = await c.turtle(loc);
      expect(res.status).toBeLessThan(300);
      expect(has(quads, loc, `${DCT}relation`, new URL('relatedResource', loc).href)).toBe(true);
    });

    it('testNoRdfBagSeqOrList [SHOULD]', async () => {
      const { quads } = await c.turtle(url());
      for (const t of ['Bag', 'Seq', 'List']) expect(has(quads, null, RDF_TYPE, `${RDF}${t}`)).toBe(false);
    });

    it('testPreferContainmentTriples [SHOULD]', async () => {
      const member = await c.post(url());
      const inc = await c.turtle(url(), { prefer: prefer('include', 'PreferContainment') });
      expect(has(inc.quads, url(), `${LDP}contains`, member)).toBe(true);
      const min = await c.turtle(url(), { prefer: prefer('include', 'PreferMinimalContainer') });
      expect(has(min.quads, url(), `${LDP}contains`, null)).toBe(false);
      const omit = await c.turtle(url(), { prefer: prefer('omit', 'PreferContainment') });
      expect(has(omit.quads, url(), `${LDP}contains`, null)).toBe(false);
      for (const r of [inc.res, min.res, omit.res]) {
        const applied = r.headers.get('preference-applied');
        if (applied) expect(applied).toContain('return=representation');
      }
    });

    it('testPostResponseStatusAndLocation [MUST]', async () => {
      const r = await c.req('POST', url(), { 'content-type': TURTLE }, `<> a <${EX}Bug> .`);
      expect(r.status).toBe(201);
      expect(r.headers.get('location')).toBeTruthy();
      expect((await c.req('DELETE', r.headers.get('location')!)).status).toBeLessThan(300);
    });

    it('testPostContainer [MUST]', async () => {
      const member = await c.post(url());
      expect(await contains(member)).toBe(true);
    });

    it('testRequestedInteractionModelCreateNotAllowed [MUST]', async () => {
      const asResource = await c.post(url(), `<> a <${LDP}BasicContainer> ; <${DCT}title> "claims to be a container" .`, {
        link: `<${LDP}Resource>; rel="type"`,
      });
      const r = await c.req('POST', asResource, { 'content-type': TURTLE }, `<> a <${EX}Bug> .`);
      expect(r.status).not.toBe(201);
    });

    it('testRequestedInteractionModelHeaders [MUST]', async () => {
      const asResource = await c.post(url(), `<> a <${LDP}BasicContainer> .`, { link: `<${LDP}Resource>; rel="type"` });
      const r = await c.req('OPTIONS', asResource);
      expect(r.status).toBeLessThan(300);
      for (const t of ['BasicContainer', 'DirectContainer', 'IndirectContainer']) expect(hasLink(r, asResource, `${LDP}${t}`, 'type')).toBe(false);
    });

    it('testAcceptTurtle [MUST]', async () => {
      const r = await c.req('POST', url(), { 'content-type': TURTLE }, `<> <${DCT}title> "turtle" .`);
      expect(r.status).toBe(201);
      await c.req('DELETE', r.headers.get('location')!);
    });

    it('testContentTypeHeader [SHOULD]', async () => {
      const r = await c.req('POST', url(), { 'content-type': 'text/this-is-not-turtle' }, `<> <${DCT}title> "not turtle" .`);
      if (r.status === 415) return;
      expect(r.status).toBe(201);
      const loc = r.headers.get('location')!;
      const got = await c.req('GET', loc);
      expect(got.status).toBeLessThan(300);
      expect(got.headers.get('content-type')).not.toMatch(/^text\/turtle/);
      expect(hasLink(got, loc, `${LDP}RDFSource`, 'type')).toBe(false);
    });

    it('testNullRelativeUriPost [MUST]', async () => {
      const body = `<> a <${EX}Bug> ; <${DCT}title> "null relative" .`;
      const loc = await c.post(url(), body);
      const { quads } = await c.turtle(loc);
      const expected = parseTurtle(body, loc);
      expect(expected.some((e) => quads.some((q) => q.equals(e)))).toBe(true);
    });

    it('testPostNoSlug [SHOULD]', async () => {
      const r = await c.req('POST', url(), { 'content-type': TURTLE }, `<> a <${EX}Bug> .`);
      expect(r.status).toBe(201);
      expect(r.headers.get('location')).toBeTruthy();
    });

    it('testCreateWithoutConstraints [SHOULD]', async () => {
      const r = await c.req('POST', url(), { 'content-type': TURTLE }, `<> <${DCT}title> "Created by the LDP test suite" .`);
      expect(r.status).toBe(201);
    });

    it('testRestrictUriReUseSlug [SHOULD]', async () => {
      const loc1 = await c.post(url(), DEFAULTISH, { slug: 'uritest' });
      expect((await c.req('DELETE', loc1)).status).toBeLessThan(300);
      const loc2 = await c.post(url(), DEFAULTISH, { slug: 'uritest' });
      expect(loc2).not.toBe(loc1);
    });

    it('testRestrictUriReUseNoSlug [SHOULD]', async () => {
      const loc1 = await c.post(url(), DEFAULTISH);
      expect((await c.req('DELETE', loc1)).status).toBeLessThan(300);
      const loc2 = await c.post(url(), DEFAULTISH);
      expect(loc2).not.toBe(loc1);
      expect((await c.req('GET', loc1)).status).toBe(410);
    });

    it('testAcceptPostResponseHeader [MUST]', async () => {
      const r = await c.req('OPTIONS', url());
      expect(r.status).toBeLessThan(300);
      expect(allow(r)).toContain('POST');
      expect(r.headers.get('accept-post')).toContain('text/turtle');
    });

    it('testRejectPutModifyingContainmentTriples [SHOULD]', async () => {
      const { res } = await c.turtle(url());
      const body = `${res.text}\n<${url()}> <${LDP}contains> <${url()}#${Date.now()}> .\n`;
      const put = await c.req('PUT', url(), { 'content-type': TURTLE, 'if-match': res.headers.get('etag')! }, body);
      expect(put.status).toBe(409);
    });

    it('testRestrictPutReUseUri [SHOULD]', async () => {
      const target = `${url()}${randomUUID()}`;
      expect((await c.req('PUT', target, { 'content-type': TURTLE }, `<> <${DCT}title> "put" .`)).status).toBe(201);
      expect((await c.req('DELETE', target)).status).toBeLessThan(300);
      const again = await c.req('PUT', target, { 'content-type': TURTLE }, `<> <${DCT}title> "put again" .`);
      expect(again.status).toBeGreaterThanOrEqual(300);
    });

    it('testDeleteRemovesContainmentTriple [MUST]', async () => {
      const member = await c.post(url());
      expect(await contains(member)).toBe(true);
      expect((await c.req('DELETE', member)).status).toBeLessThan(300);
      expect(await contains(member)).toBe(false);
    });

    it('testPatchMethod [SHOULD]', async () => {
      expect(allow(await c.req('OPTIONS', url()))).toContain('PATCH');
    });

    it('testRdfTypeLdpContainer [MAY]', async () => {
      expect(has((await c.turtle(url())).quads, url(), RDF_TYPE, `${LDP}Container`)).toBe(true);
    });

    it('testServerHonorsSlug [MAY]', async () => {
      const slug = Array.from({ length: 6 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
      const loc = await c.post(url(), DEFAULTISH, { slug });
      expect(loc.toLowerCase()).toContain(slug);
    });

    it('testPostJsonLd [MUST]', async () => {
      const doc = { '@id': '', '@type': [`${EX}Bug`], [`${DCT}title`]: 'Another bug to test.', [`${EX}severity`]: 'High' };
      const r = await c.req('POST', url(), { 'content-type': 'application/ld+json' }, JSON.stringify(doc));
      expect(r.status).toBe(201);
      const loc = r.headers.get('location')!;
      const { res, quads } = await c.turtle(loc);
      expect(res.status).toBeLessThan(300);
      expect(has(quads, loc, RDF_TYPE, `${EX}Bug`)).toBe(true);
      expect(hasLink(res, loc, `${LDP}NonRDFSource`, 'type')).toBe(false);
    });
  });
}
