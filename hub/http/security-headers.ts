// Security headers on every response (nosniff, a strict CSP for API responses, Referrer-Policy), and the headers that
// keep uploaded active content (HTML, SVG, XML, scripts) from running in the hub's origin.
import type { FastifyInstance } from 'fastify';

/**
 * Headers every hub response carries. The hub serves data, not pages, so the Content-Security-Policy allows nothing
 * (CSP Level 3 `default-src 'none'`) and no framing (`frame-ancestors 'none'`); `nosniff` makes browsers honour the
 * declared media type (Fetch §3.5.x, "X-Content-Type-Options"), `no-referrer` keeps IRIs with tokens or ids out of
 * other sites' logs. The UI (/ui/, a later issue) will relax the CSP for its own routes.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

/** The CSP of an uploaded document that could run script: its own opaque origin (CSP `sandbox`), nothing loaded. */
export const SANDBOX_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'";

/**
 * Media types a browser renders inline without running anything: an LDP-NR of one of these is served as is; any other
 * uploaded type (text/html, application/xhtml+xml, image/svg+xml, application/javascript, text/xml, PDF, ...) is served
 * sandboxed and as an attachment, so that a stored document cannot script the hub's origin (stored XSS).
 */
const PASSIVE_TYPES = new Set([
  'text/plain',
  'text/csv',
  'text/turtle',
  'application/json',
  'application/ld+json',
  'application/n-triples',
  'application/n-quads',
  'application/sparql-query',
  'application/octet-stream',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
]);

/** Headers for serving stored bytes of `mediaType`: none extra for passive types, sandbox + attachment otherwise. */
export function storedContentHeaders(mediaType: string): Record<string, string> {
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  if (PASSIVE_TYPES.has(type) || type.startsWith('audio/') || type.startsWith('video/')) return {};
  return { 'content-security-policy': SANDBOX_CSP, 'content-disposition': 'attachment' };
}

/** Adds SECURITY_HEADERS to every reply sent through fastify; a header a route already set (e.g. a sandbox CSP) stays. */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    return payload;
  });
}
