// 405 Method Not Allowed with an Allow header for a known path asked with a method it has no route for (not a 404).
import type { FastifyInstance } from 'fastify';
import { MethodNotAllowedError } from '../errors.ts';

interface KnownRoute {
  pattern: RegExp;
  methods: Set<string>;
}

/** A fastify route path as a RegExp over request paths: `:param` is one segment, `*` the rest. */
export function routePattern(url: string): RegExp {
  let source = '';
  for (let i = 0; i < url.length; i++) {
    const c = url[i]!;
    if (c === ':' && url[i + 1] !== ':') {
      let j = i + 1;
      while (j < url.length && /[\w$]/.test(url[j]!)) j++;
      // A parametric segment may carry a regex constraint, `:id(^\d+)`: one segment is enough to tell 405 from 404.
      if (url[j] === '(') {
        let depth = 0;
        for (; j < url.length; j++) {
          if (url[j] === '(') depth++;
          else if (url[j] === ')' && --depth === 0) break;
        }
        j++;
      }
      source += '[^/]+';
      i = j - 1;
    } else if (c === ':' && url[i + 1] === ':') {
      source += ':';
      i++;
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * RFC 9110 §15.5.6: a resource that exists but does not support the method answers 405 with `Allow` listing the methods
 * it does support (W3C WoT Discovery: `PUT /things` is 405 Allow: GET, HEAD, POST). Fastify answers such requests from
 * its 404 handler; this collects every route's methods (onRoute) and, for a request that reached the 404 handler
 * (`request.is404`), throws MethodNotAllowedError when another method of the same path has a route. Call it before
 * the plugins register their routes.
 */
export function installMethodNotAllowed(app: FastifyInstance): void {
  const routes = new Map<string, KnownRoute>();
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path;
    if (!url) return;
    let known = routes.get(url);
    if (!known) routes.set(url, (known = { pattern: routePattern(url), methods: new Set() }));
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) known.methods.add(String(m).toUpperCase());
    if (known.methods.has('GET') && route.exposeHeadRoute !== false) known.methods.add('HEAD');
  });
  app.addHook('onRequest', async (request) => {
    if (!request.is404) return;
    const path = request.url.split('?')[0]!;
    const allow = new Set<string>();
    for (const r of routes.values()) if (r.pattern.test(path)) for (const m of r.methods) allow.add(m);
    if (allow.size === 0 || allow.has(request.method)) return;
    const order = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
    const sorted = [...allow].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
    throw new MethodNotAllowedError(`${path} does not support ${request.method}; it allows ${sorted.join(', ')}`, sorted);
  });
}
