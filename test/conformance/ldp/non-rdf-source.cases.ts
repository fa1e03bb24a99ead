// LDP conformance, NonRDFSourceTest (8 AUTOMATED cases): LDP-NRs created by POST of a PNG, their bytes, ETag, type link
// and describedby LDP-RS, deleted together (LDP 1.0 §4.4, §5.2.3.12, §5.2.5.2).
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasLink, LDP, links, PNG, VALID_ETAG, type LdpClient, type Subjects } from './ldp-client.ts';
import type { Ctx } from './ldp-client.ts';
import type { TestHub } from '../../helpers/hub.ts';

let hub: TestHub;
let c: LdpClient;
let s: Subjects;

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function postPng(slug = 'non-rdf-source') {
  const r = await c.req('POST', s.basic, { 'content-type': 'image/png', slug }, PNG);
  const location = r.headers.get('location')!;
  const describedBy = links(r, s.basic).find((l) => l.rel === 'describedby');
  return { r, location, describedBy };
}

/** Registers the cases; `ctx` gives the hub and subjects set up once by ldp-conformance.test.ts. */
export function nonRdfSourceCases(ctx: () => Ctx): void {
  beforeAll(() => ({ hub, c, s } = ctx()));

  describe('NonRDFSourceTest', () => {
    it('testPostNonRDFSource [MAY]', async () => {
      const { r, location } = await postPng('test');
      expect(r.status).toBe(201);
      expect(location).toBeTruthy();
      expect((await c.req('DELETE', location)).status).toBeLessThan(300);
    });

    it('testPostResourceAndGetFromContainer [MAY]', async () => {
      const { location } = await postPng();
      const { res, quads } = await c.turtle(s.basic);
      expect(res.status).toBe(200);
      expect(quads.some((q) => q.subject.value === s.basic && q.predicate.value === `${LDP}contains` && q.object.value === location)).toBe(true);
    });

    it('testPostResourceGetBinary [MAY]', async () => {
      const { location } = await postPng();
      const r = await c.req('GET', location, { accept: 'image/png' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('image/png');
      expect(r.headers.get('etag')).toMatch(VALID_ETAG);
      expect(md5(r.bytes)).toBe(md5(PNG));
    });

    it('testPostResourceGetMetadataAndBinary [MAY]', async () => {
      const { location, describedBy } = await postPng();
      expect(describedBy?.anchor).toBe(location);
      const meta = await c.turtle(describedBy!.target);
      expect(meta.res.status).toBe(200);
      expect(meta.res.headers.get('content-type')).toMatch(/^text\/turtle/);
      expect(meta.res.headers.get('etag')).toMatch(VALID_ETAG);
      const bin = await c.req('GET', location, { accept: 'image/png' });
      expect(bin.status).toBe(200);
      expect(bin.headers.get('etag')).toMatch(VALID_ETAG);
      expect(md5(bin.bytes)).toBe(md5(PNG));
    });

    it('testPostResourceAndCheckLink [MAY]', async () => {
      const { location } = await postPng();
      const r = await c.req('GET', location);
      expect(r.status).toBeLessThan(300);
      expect(r.headers.get('etag')).toMatch(VALID_ETAG);
      expect(hasLink(r, location, `${LDP}NonRDFSource`, 'type')).toBe(true);
    });

    it('testPostResourceAndCheckAssociatedResource [MAY]', async () => {
      const { location, describedBy } = await postPng();
      expect(describedBy).toBeDefined();
      const r = await c.req('GET', location);
      expect(hasLink(r, location, describedBy!.target, 'describedby')).toBe(true);
      const meta = await c.turtle(describedBy!.target);
      expect(meta.res.status).toBeLessThan(300);
      expect(meta.res.headers.get('etag')).toMatch(VALID_ETAG);
    });

    it('testDeleteNonRDFSourceDeletesAssociatedResource [MUST]', async () => {
      const { location, describedBy } = await postPng();
      expect((await c.req('GET', describedBy!.target, { accept: 'text/turtle' })).status).toBeLessThan(300);
      expect((await c.req('DELETE', location)).status).toBeLessThan(300);
      expect([404, 410]).toContain((await c.req('GET', describedBy!.target, { accept: 'text/turtle' })).status);
    });

    it('testOptionsHasSameLinkHeader [MUST]', async () => {
      const { location, describedBy } = await postPng();
      const r = await c.req('OPTIONS', location);
      expect(r.status).toBeLessThan(300);
      expect(links(r, location).find((l) => l.rel === 'describedby')).toEqual(describedBy);
    });
  });
}
