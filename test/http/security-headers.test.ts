// Issue 8 defect 5: nosniff, a strict CSP and Referrer-Policy on every response; uploaded active content (HTML, SVG,
// XHTML, scripts, PDF, ...) on LDP is served sandboxed and as an attachment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrlOf, startTestHub, type TestHub } from '../helpers/hub.ts';
import { head, rawExchange } from './raw-http.ts';

const API_CSP = "default-src 'none'; frame-ancestors 'none'";

function expectSecurityHeaders(headers: Record<string, unknown>): void {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(String(headers['content-security-policy'])).toContain("default-src 'none'");
  expect(String(headers['content-security-policy'])).toContain("frame-ancestors 'none'");
}

describe('security headers', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({}, { listen: true });
  });
  afterAll(() => hub?.stop());

  it('are on successes, problems (404, 401, 415) and the directory TD', async () => {
    const responses = [
      await hub.app.inject({ url: '/health' }),
      await hub.app.inject({ url: '/no/such/route' }),
      await hub.app.inject({ method: 'PUT', url: '/graph-store?default', payload: '', headers: { 'content-type': 'text/turtle' } }),
      await hub.app.inject({ method: 'PUT', url: '/mappings/x', headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: '{}' }),
      await hub.app.inject({ url: '/.well-known/wot' }),
      await hub.app.inject({ url: '/sparql?query=ASK%7B%7D' }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 404, 401, 415, 200, 200]);
    for (const r of responses) {
      expectSecurityHeaders(r.headers);
      expect(r.headers['content-security-policy']).toBe(API_CSP);
    }
  });

  it('are on event streams, which bypass fastify replies', async () => {
    const port = Number(new URL(baseUrlOf(hub)).port);
    const res = await rawExchange(port, head('GET', '/events', { host: `127.0.0.1:${port}` }), { untilResponse: true });
    expect(res.status).toBe(200);
    expectSecurityHeaders(res.headers);
  });

  it.each([
    ['page.html', 'text/html; charset=utf-8', '<html><script>alert(document.cookie)</script></html>'],
    ['drawing.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['doc.xhtml', 'application/xhtml+xml', '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'],
    ['app.js', 'application/javascript', 'alert(1)'],
    ['old.js', 'text/javascript', 'alert(1)'],
    ['doc.pdf', 'application/pdf', '%PDF-1.4 /JavaScript (app.alert(1))'],
    // text/xml and application/xml are RDF/XML aliases on LDP (stored as RDF, never served as uploaded bytes).
  ])('an uploaded %s (%s) is served with CSP sandbox as an attachment, bytes unchanged', async (name, type, body) => {
    const put = await hub.app.inject({ method: 'PUT', url: `/ldp/${name}`, headers: { authorization: hub.bearer, 'content-type': type }, payload: body });
    expect(put.statusCode).toBe(201);
    const get = await hub.app.inject({ url: `/ldp/${name}` });
    expect(get.statusCode).toBe(200);
    expect(get.body).toBe(body);
    expect(get.headers['content-type']).toContain(type.split(';')[0]);
    expect(String(get.headers['content-security-policy']).split(';').map((d) => d.trim())).toContain('sandbox');
    expect(get.headers['content-disposition']).toBe('attachment');
    expect(get.headers['x-content-type-options']).toBe('nosniff');
    const headOnly = await hub.app.inject({ method: 'HEAD', url: `/ldp/${name}` });
    expect(headOnly.headers['content-disposition']).toBe('attachment');
  });

  it.each([
    ['notes.txt', 'text/plain'],
    ['photo.png', 'image/png'],
    ['data.json', 'application/json'],
  ])('a passive upload (%s, %s) is served inline with the API CSP', async (name, type) => {
    const put = await hub.app.inject({ method: 'PUT', url: `/ldp/${name}`, headers: { authorization: hub.bearer, 'content-type': type }, payload: '{"a":1}' });
    expect(put.statusCode).toBe(201);
    const get = await hub.app.inject({ url: `/ldp/${name}` });
    expect(get.statusCode).toBe(200);
    expect(get.headers['content-disposition']).toBeUndefined();
    expect(get.headers['content-security-policy']).toBe(API_CSP);
  });
});
