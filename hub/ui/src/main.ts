// The web UI's entry: sign-in (bearer token in sessionStorage), client-side routing over the shell's page paths.
import './style.css';
import 'uplot/dist/uPlot.min.css';
import { ApiError, describe, onTokenChange, setToken, token, api } from './api.ts';
import { clear, h } from './dom.ts';
import { go } from './nav.ts';

/** A page renders into `main` and returns a cleanup (closing its streams) run before the next page. */
export type Page = (main: HTMLElement, url: URL) => Promise<(() => void) | void> | (() => void) | void;

let cleanup: (() => void) | void;
let generation = 0;

/** Each page is its own chunk (loaded on first use): the Things list needs neither CodeMirror nor uPlot. */
function route(url: URL): { page: Page; nav: string } {
  const p = url.pathname;
  let m: RegExpExecArray | null;
  if ((m = /^\/ui\/things\/(.+)$/.exec(p))) {
    const id = decodeURIComponent(m[1]!);
    return { page: async (main, u) => (await import('./pages/thing.ts')).thingPage(main, u, id), nav: 'things' };
  }
  if (p === '/ui/sparql') return { page: async (main, u) => (await import('./pages/sparql.ts')).sparqlPage(main, u), nav: 'sparql' };
  if ((m = /^\/ui\/mappings\/([^/]+)$/.exec(p))) {
    const name = decodeURIComponent(m[1]!);
    return { page: async (main, u) => (await import('./pages/mappings.ts')).mappingPage(main, u, name), nav: 'mappings' };
  }
  if (p === '/ui/mappings') return { page: async (main) => (await import('./pages/mappings.ts')).mappingsPage(main), nav: 'mappings' };
  return { page: async (main, u) => (await import('./pages/things.ts')).thingsPage(main, u), nav: 'things' };
}

async function render(): Promise<void> {
  const url = new URL(location.href);
  const { page, nav } = route(url);
  const mine = ++generation;
  try {
    cleanup?.();
  } catch {
    /* a page's cleanup never stops navigation */
  }
  cleanup = undefined;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const main = document.getElementById('main')!;
  clear(main);
  try {
    const done = await page(main, url);
    if (mine !== generation) done?.();
    else cleanup = done;
  } catch (e) {
    if (mine === generation) clear(main, h('p', { class: 'error', role: 'alert' }, describe(e)));
  }
}

addEventListener('hub:navigate', () => void render().then(() => document.getElementById('main')?.focus({ preventScroll: true })));

function signIn(): void {
  const box = document.getElementById('signin')!;
  const draw = () => {
    if (token()) {
      clear(box, h('span', { class: 'muted', id: 'signed-in' }, 'Signed in'), ' ', h('button', { type: 'button', onclick: () => setToken(null) }, 'Sign out'));
      return;
    }
    const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', placeholder: 'bearer token', size: 24 });
    const status = h('span', { class: 'muted', role: 'status' });
    const form = h(
      'form',
      {
        class: 'signin',
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          const t = input.value.trim();
          if (!t) return;
          // A token the hub does not know is a 401 on any read: check it before keeping it.
          try {
            await api('/mappings', { headers: { authorization: `Bearer ${t}` }, auth: false });
            setToken(t);
          } catch (e) {
            // 403: a valid token without the read scope (e.g. act only) is still a sign-in.
            if (e instanceof ApiError && e.problem.status === 403) setToken(t);
            else status.textContent = describe(e);
          }
        },
      },
      h('label', { for: 'token' }, 'Token'),
      input,
      h('button', { type: 'submit' }, 'Sign in'),
      status,
    );
    clear(box, form);
  };
  draw();
  onTokenChange(() => {
    draw();
    void render();
  });
}

document.addEventListener('click', (ev) => {
  const a = (ev.target as Element | null)?.closest?.('a');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const href = a.getAttribute('href');
  if (!href || a.target || a.hasAttribute('download')) return;
  const url = new URL(href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui/')) return;
  ev.preventDefault();
  go(url.pathname + url.search + url.hash);
});
addEventListener('popstate', () => void render());

signIn();
void render();
