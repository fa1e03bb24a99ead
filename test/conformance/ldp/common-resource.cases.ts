// LDP conformance, CommonResourceTest (13 AUTOMATED cases) against basic, direct and indirect containers, an LDP-RS
// and an LDP-NR: ETags, Link rel=type, GET/HEAD/OPTIONS, Allow, Accept-Patch, If-Match rules (LDP 1.0 §4.2).
import { beforeAll, describe, expect, it } from 'vitest';
import { allow, hasLink, LDP, TURTLE, VALID_ETAG, type LdpClient, type Subjects } from './ldp-client.ts';
import type { Ctx } from './ldp-client.ts';
import type { TestHub } from '../../helpers/hub.ts';

let hub: TestHub;
let c: LdpClient;
let s: Subjects;

const SUBJECTS = ['basic', 'direct', 'indirect', 'rs', 'nr'] as const;

/** Registers the cases; `ctx` gives the hub and subjects set up once by ldp-conformance.test.ts. */
export function commonResourceCases(ctx: () => Ctx): void {
  beforeAll(() => ({ hub, c, s } = ctx()));

  describe.each(SUBJECTS)('CommonResourceTest on %s', (kind) => {
    const url = () => s[kind];
    const isNr = kind === 'nr';
    const accept = () => (isNr ? 'image/png' : TURTLE);
    const body = async () => {
      const r = await c.req('GET', url(), { accept: accept() });
      return { r, etag: r.headers.get('etag')!, ct: isNr ? 'image/png' : TURTLE };
    };

    it('testETagHeadersGet [MUST]', async () => {
      const r = await c.req('GET', url());
      expect(r.status).toBeLessThan(300);
      expect(r.headers.get('etag')).toMatch(VALID_ETAG);
    });

    it('testETagHeadersHead [MUST]', async () => {
      const r = await c.req('HEAD', url());
      expect(r.status).toBeLessThan(300);
      expect(r.headers.get('etag')).toMatch(VALID_ETAG);
    });

    it('testLdpLinkHeader [MUST]', async () => {
      const r = await c.req('GET', url());
      expect(hasLink(r, url(), `${LDP}Resource`, 'type')).toBe(true);
    });

    it('testGetResource [MUST]', async () => {
      expect(allow(await c.req('OPTIONS', url()))).toContain('GET');
      expect((await c.req('GET', url())).status).toBeLessThan(300);
    });

    it('testGetResponseHeaders [MUST]', async () => {
      const methods = allow(await c.req('OPTIONS', url()));
      const r = await c.req('GET', url());
      expect(r.headers.get('allow')).toBeTruthy();
      if (methods.includes('PATCH')) expect(r.headers.get('accept-patch')).toBeTruthy();
      if (methods.includes('POST')) expect(r.headers.get('accept-post')).toBeTruthy();
    });

    it('testPutRequiresIfMatch [SHOULD]', async () => {
      const { r, ct } = await body();
      expect(r.headers.get('etag')).toMatch(VALID_ETAG);
      const put = await c.req('PUT', url(), { 'content-type': ct }, r.bytes);
      expect(put.status).toBeGreaterThanOrEqual(300);
    });

    it('testConditionFailedStatusCode [MUST]', async () => {
      const { r, ct } = await body();
      const put = await c.req('PUT', url(), { 'content-type': ct, 'if-match': `"These aren't the ETags you're looking for."` }, r.bytes);
      expect(put.status).toBe(412);
    });

    it('testPreconditionRequiredStatusCode [MUST]', async () => {
      const { r, etag, ct } = await body();
      const ok = await c.req('PUT', url(), { 'content-type': ct, 'if-match': etag }, r.bytes);
      expect(ok.status).toBeLessThan(300);
      const again = await body();
      const missing = await c.req('PUT', url(), { 'content-type': ct }, again.r.bytes);
      expect(missing.status).toBe(428);
    });

    it('testPutBadETag [MUST]', async () => {
      const { r, ct } = await body();
      const put = await c.req('PUT', url(), { 'content-type': ct, 'if-match': `"This is not the ETag you're looking for"` }, r.bytes);
      expect(put.status).toBe(412);
    });

    it('testHead [MUST]', async () => {
      expect(allow(await c.req('OPTIONS', url()))).toContain('HEAD');
      const r = await c.req('HEAD', url());
      expect(r.status).toBeLessThan(300);
      expect(r.bytes.length).toBe(0);
    });

    it('testAcceptPatchHeader [MUST]', async () => {
      const r = await c.req('OPTIONS', url());
      expect(r.status).toBeLessThan(300);
      if (allow(r).includes('PATCH')) expect(r.headers.get('accept-patch')).toBeTruthy();
      else expect(isNr).toBe(true); // LDP-NRs take PUT, not PATCH: the case does not apply to them
    });

    it('testOptions [MUST]', async () => {
      expect((await c.req('OPTIONS', url())).status).toBeLessThan(300);
    });

    it('testOptionsAllowHeader [MUST]', async () => {
      const r = await c.req('OPTIONS', url());
      expect(r.status).toBeLessThan(300);
      expect(r.headers.get('allow')).toBeTruthy();
    });
  });
}
