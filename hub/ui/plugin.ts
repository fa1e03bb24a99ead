// The web UI's routes: `/` -> /ui/, the app shell for every page path (with a strict nonce CSP), the built assets.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { HubDeps } from '../http/deps.ts';
import { ServiceUnavailableError } from '../errors.ts';
import { DIST_DIR, ensureUiBuild, type UiBuild } from './build.ts';

/** The page paths the shell answers (shareable links: the app routes in the browser). */
export const UI_PAGES = ['/ui/', '/ui/things', '/ui/things/*', '/ui/sparql', '/ui/mappings', '/ui/mappings/*'] as const;

/**
 * The UI's Content-Security-Policy: scripts and styles only from the hub's origin (no inline script, no eval);
 * CodeMirror's generated styles go in <style> elements that carry this response's nonce; fetches only to the origin.
 */
export function uiCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The HTML shell every page path answers with; the app (one module script) renders the page from the URL. */
export function shellHtml(build: Pick<UiBuild, 'dir' | 'script' | 'style'>, nonce: string): string {
  const base = `/ui/assets/${relative(DIST_DIR, build.dir).split(sep).join('/')}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csp-nonce" content="${escapeAttr(nonce)}">
<title>wot-hub</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${escapeAttr(`${base}/${build.style}`)}">
<script type="module" src="${escapeAttr(`${base}/${build.script}`)}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><nav aria-label="Main"><a href="/ui/" class="brand">wot-hub</a>
<a href="/ui/things" data-nav="things">Things</a><a href="/ui/sparql" data-nav="sparql">SPARQL</a><a href="/ui/mappings" data-nav="mappings">Mappings</a></nav>
<div id="signin"></div></header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p>The hub's UI needs JavaScript; every page has an API equivalent (see README).</p></noscript>
</body>
</html>
`;
}

export async function uiPlugin(app: FastifyInstance, _deps: Pick<HubDeps, 'config'>): Promise<void> {
  // Built on the first page request when missing or stale (then reused from disk: a hub that serves no page, such as
  // most tests', never builds); a failed build (esbuild, a dev dependency, missing) is a 503 and is tried again later.
  let built: Promise<UiBuild> | undefined;
  const build = async (): Promise<UiBuild> => {
    built ??= ensureUiBuild().catch((e) => {
      built = undefined;
      app.log.warn({ err: e }, 'the web UI could not be built; /ui/ answers 503 ui-unavailable');
      throw new ServiceUnavailableError('The web UI could not be built (is esbuild, a dev dependency, installed?)', { headers: { 'retry-after': '30' } }, 'ui-unavailable');
    });
    return built;
  };

  const shell = async (_request: unknown, reply: FastifyReply) => {
    const ui = await build();
    const nonce = randomBytes(16).toString('base64');
    return reply
      .header('content-security-policy', uiCsp(nonce))
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(shellHtml(ui, nonce));
  };
  const redirect = async (_request: unknown, reply: FastifyReply) => reply.redirect('/ui/', 302);

  app.get('/', redirect);
  app.get('/ui', redirect);
  for (const path of UI_PAGES) app.get(path, shell);

  mkdirSync(DIST_DIR, { recursive: true });
  // Content-hashed names under a per-build directory: cached for a year; current.json and anything else stays hidden.
  await app.register(fastifyStatic, {
    root: DIST_DIR,
    prefix: '/ui/assets/',
    decorateReply: false,
    index: false,
    list: false,
    dotfiles: 'deny',
    allowedPath: (path) => /^\/[\w.-]+\/app-[\w-]+\.(js|css)(\.map)?$/.test(path),
    setHeaders: (reply) => {
      (reply as unknown as FastifyReply).header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
}
