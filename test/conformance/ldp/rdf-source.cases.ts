// LDP conformance, RdfSourceTest (15 AUTOMATED cases) against basic, direct and indirect containers and an LDP-RS:
// RDF representations, conneg (Turtle default, JSON-LD), PUT replace, relative IRIs, constrainedBy (LDP 1.0 §4.2-§4.3).
import { beforeAll, describe, expect, it } from 'vitest';
import n3 from 'n3';
import { createRequire } from 'node:module';
import type { Quad } from '@rdfjs/types';
import { count, DCT, EX, has, hasLink, LDP, RDF_TYPE, TURTLE, type LdpClient, type Subjects } from './ldp-client.ts';
import type { Ctx } from './ldp-client.ts';
import type { TestHub } from '../../helpers/hub.ts';

let hub: TestHub;
let c: LdpClient;
let s: Subjects;

const { namedNode, literal, quad } = n3.DataFactory;
// jsonld ships no types: the one call used here, typed locally.
const jsonld = createRequire(import.meta.url)('jsonld') as { toRDF(doc: unknown, options: Record<string, unknown>): Promise<unknown> };
const toTurtle = (quads: Quad[]) => new n3.Writer({ format: 'text/turtle' }).quadsToString(quads);
const CONSTRAINED_BY = `${LDP}constrainedBy`;

/** Registers the cases; `ctx` gives the hub and subjects set up once by ldp-conformance.test.ts. */
export function rdfSourceCases(ctx: () => Ctx): void {
  beforeAll(() => ({ hub, c, s } = ctx()));

  describe.each(['basic', 'direct', 'indirect', 'rs'] as const)('RdfSourceTest on %s', (kind) => {
    const url = () => s[kind];
    /** The "primary topic": first subject typed ex:Bug, else the request URI (LdpTest.getPrimaryTopic). */
    const primary = (quads: Quad[]) => quads.find((q) => q.predicate.value === RDF_TYPE && q.object.value === `${EX}Bug`)?.subject.value ?? url();
    /** A PUT that changes what the server manages: a containment triple, or the interaction model of an LDP-RS. */
    const readOnlyChange = (r: string) =>
      kind === 'rs' ? quad(namedNode(r), namedNode(RDF_TYPE), namedNode(`${LDP}BasicContainer`)) : quad(namedNode(r), namedNode(`${LDP}contains`), namedNode(`${r}#timestamp-${Date.now()}`));

    async function putWith(change: (quads: Quad[]) => Quad[]) {
      const { res, quads } = await c.turtle(url());
      return c.req('PUT', url(), { 'content-type': TURTLE, 'if-match': res.headers.get('etag')! }, toTurtle(change(quads)));
    }

    it('testRelativeUriResolutionPut [MUST]', async () => {
      const { res } = await c.turtle(url());
      const body = `${res.text}\n<> <${DCT}relation> <relatedResource> .\n`;
      const put = await c.req('PUT', url(), { 'content-type': TURTLE, 'if-match': res.headers.get('etag')! }, body);
      expect(put.status).toBeLessThan(300);
      const { quads } = await c.turtle(url());
      expect(has(quads, url(), `${DCT}relation`, new URL('relatedResource', url()).href)).toBe(true);
    });

    it('testPutReplacesResource [MUST]', async () => {
      const title = `Updated title ${Date.now()}`;
      const put = await putWith((q) => [...q.filter((x) => x.predicate.value !== `${DCT}title`), quad(namedNode(url()), namedNode(`${DCT}title`), literal(title))]);
      expect(put.status).toBeLessThan(300);
      const { quads } = await c.turtle(url());
      expect(count(quads, url(), `${DCT}title`)).toBe(1);
      expect(has(quads, url(), `${DCT}title`, title)).toBe(true);
    });

    it('testPutSimpleUpdate [MUST]', async () => {
      const put = await putWith((q) => [...q.filter((x) => x.predicate.value !== `${DCT}title`), quad(namedNode(url()), namedNode(`${DCT}title`), literal('simple'))]);
      expect(put.status, 'Unable to do simple update').toBeLessThan(300);
    });

    it('testGetResource [MUST]', async () => {
      const { res, quads } = await c.turtle(url());
      expect(res.status).toBe(200);
      expect(quads.length).toBeGreaterThan(0);
    });

    it('testContainsRdfType [SHOULD]', async () => {
      const { quads } = await c.turtle(url());
      expect(has(quads, primary(quads), RDF_TYPE, null)).toBe(true);
    });

    it('testTypeRdfSource [MAY]', async () => {
      const { quads } = await c.turtle(url());
      expect(has(quads, url(), RDF_TYPE, `${LDP}RDFSource`)).toBe(true);
    });

    it('testGetResourceAcceptTurtle [MUST]', async () => {
      const { res, quads } = await c.turtle(url());
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('content-type')).toMatch(/^text\/turtle/);
      expect(quads.length).toBeGreaterThan(0);
    });

    it('testGetResourceAsTurtleNoAccept [SHOULD]', async () => {
      const res = await c.req('GET', url());
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('content-type')).toMatch(/^text\/turtle/);
    });

    it('testJsonLdRepresentation [MUST]', async () => {
      const res = await c.req('GET', url(), { accept: 'application/ld+json' });
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('content-type')).toMatch(/^application\/ld\+json/);
      const nquads = (await jsonld.toRDF(JSON.parse(res.text), { format: 'application/n-quads' })) as unknown as string;
      expect(nquads).toContain(`<${url()}> <${RDF_TYPE}> <${LDP}RDFSource>`);
    });

    it('testPublishConstraintsReadOnlyProp [MUST]', async () => {
      const put = await putWith((q) => [...q, readOnlyChange(url())]);
      expect(put.status).toBeGreaterThanOrEqual(400);
      expect(hasLink(put, url(), `${hub.config.baseUrl}/ldp-constraints`, CONSTRAINED_BY)).toBe(true);
    });

    it('testPublishConstraintsUnknownProp [MUST] (the server persists unknown properties: not rejected, suite skips)', async () => {
      const put = await putWith((q) => [...q, quad(namedNode(url()), namedNode(`${EX}comment`), literal('unknown'))]);
      expect(put.status).toBeLessThan(300);
      expect(has((await c.turtle(url())).quads, url(), `${EX}comment`, 'unknown')).toBe(true);
    });

    it('testPutReadOnlyProperties4xxStatus [MUST]', async () => {
      const put = await putWith((q) => [...q, readOnlyChange(url())]);
      expect(put.status).toBe(409);
    });

    it('test4xxErrorHasResponseBody [SHOULD]', async () => {
      const put = await putWith((q) => [...q, readOnlyChange(url())]);
      expect(put.status).toBeGreaterThanOrEqual(400);
      expect(put.text.length).toBeGreaterThan(0);
      expect(JSON.parse(put.text).triples.length).toBeGreaterThan(0);
    });

    it('testPutPropertiesNotPersisted [MUST] (unknown content is persisted, never silently dropped: suite skips)', async () => {
      const put = await putWith((q) => [...q, quad(namedNode(url()), namedNode(`${EX}comment`), literal('kept'))]);
      expect(put.status).toBeLessThan(300);
      expect(has((await c.turtle(url())).quads, url(), `${EX}comment`, 'kept')).toBe(true);
    });

    it('testResponsePropertiesNotPersisted [SHOULD] (as above: nothing is refused, so no 4xx body to check)', async () => {
      const put = await putWith((q) => [...q, quad(namedNode(url()), namedNode(`${EX}comment`), literal('kept too'))]);
      expect(put.status).toBeLessThan(300);
    });
  });
}
