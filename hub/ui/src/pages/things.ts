// Things page: the directory's list (paged) and search by title, type, JSONPath or SPARQL; registering from a Thing Model.
import { api, describe, enc, getJson, ApiError } from '../api.ts';
import { clear, field, h } from '../dom.ts';
import { resultsTable, type SelectResults } from '../results.ts';

type Td = Record<string, unknown> & { id?: string; title?: string; '@type'?: unknown; description?: string };
const PAGE = 20;
const MODES = { title: 'Title', type: 'Type (@type)', jsonpath: 'JSONPath', sparql: 'SPARQL' } as const;
type Mode = keyof typeof MODES;

/** I-Regexp (RFC 9485) for a case-insensitive literal substring: metacharacters escaped, letters as [xX]. */
export function literalPattern(text: string): string {
  let out = '';
  for (const c of text) {
    if ('\\()*+-.?[]{}|^'.includes(c)) out += `\\${c}`;
    else if (c === '$') out += '[$]';
    else if (c.toLowerCase() !== c.toUpperCase()) out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
    else out += c;
  }
  return out;
}

/** A JSONPath single-quoted string literal. */
const jsonPathString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function thingHref(id: string): string {
  return `/ui/things/${enc(id)}`;
}

function types(td: Td): string {
  const t = td['@type'];
  return Array.isArray(t) ? t.join(', ') : typeof t === 'string' ? t : '';
}

function thingList(tds: Td[]): HTMLElement {
  if (!tds.length) return h('p', { class: 'muted' }, 'No Things.');
  return h(
    'table',
    { class: 'things' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Title'), h('th', { scope: 'col' }, 'Id'), h('th', { scope: 'col' }, 'Type'))),
    h(
      'tbody',
      {},
      tds.map((td) =>
        h(
          'tr',
          {},
          h('td', {}, td.id ? h('a', { href: thingHref(td.id) }, String(td.title ?? td.id)) : String(td.title ?? '(no id)')),
          h('td', { class: 'mono' }, td.id ?? ''),
          h('td', {}, types(td)),
        ),
      ),
    ),
  );
}

function pager(url: URL, offset: number, total: number | undefined, count: number): HTMLElement {
  const link = (o: number, label: string) => {
    const u = new URL(url);
    u.searchParams.set('offset', String(Math.max(0, o)));
    return h('a', { href: u.pathname + u.search, class: 'button' }, label);
  };
  const more = total !== undefined ? offset + PAGE < total : count === PAGE;
  return h(
    'div',
    { class: 'pager' },
    offset > 0 ? link(offset - PAGE, 'Previous') : null,
    h('span', { role: 'status' }, total !== undefined ? `${total === 0 ? 0 : offset + 1}–${offset + count} of ${total}` : `${count} shown`),
    more ? link(offset + PAGE, 'Next') : null,
  );
}

export async function thingsPage(main: HTMLElement, url: URL): Promise<void> {
  const mode = (url.searchParams.get('mode') ?? 'title') as Mode;
  const q = url.searchParams.get('q') ?? '';
  const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
  const select = h('select', { name: 'mode' }, Object.entries(MODES).map(([v, label]) => h('option', { value: v, selected: v === mode }, label)));
  const input = mode === 'sparql' ? h('textarea', { name: 'q', rows: 4, cols: 70, spellcheck: 'false' }) : h('input', { name: 'q', type: 'search', size: 50 });
  input.value = q || (mode === 'sparql' ? 'PREFIX td: <https://www.w3.org/2019/wot/td#>\nSELECT ?thing ?title WHERE { ?thing td:title ?title } ORDER BY ?title' : '');
  select.addEventListener('change', () => {
    const u = new URL(url);
    u.searchParams.set('mode', select.value);
    u.searchParams.delete('q');
    u.searchParams.delete('offset');
    history.replaceState(null, '', u.pathname + u.search);
    void thingsPage(clearAndReturn(main), u);
  });
  const form = h(
    'form',
    {
      class: 'search',
      role: 'search',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const u = new URL('/ui/things', location.href);
        u.searchParams.set('mode', select.value);
        if (input.value.trim()) u.searchParams.set('q', input.value);
        history.pushState(null, '', u.pathname + u.search);
        void thingsPage(clearAndReturn(main), u);
      },
    },
    field('Search by', select),
    field(mode === 'sparql' ? 'SPARQL query over the TDs' : mode === 'jsonpath' ? 'JSONPath over the TD array' : 'Search', input),
    h('button', { type: 'submit' }, 'Search'),
  );
  const out = h('div', { id: 'things-results', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  // The list is drawn as soon as it arrives; the Thing Models section fills in beside it (no waterfall).
  const register = h('section', { 'aria-labelledby': 'register-h' }, h('h2', { id: 'register-h' }, 'Register a Thing from a Thing Model'));
  clear(main, h('h1', {}, 'Things'), form, out, register);
  void registerSection(url, register);
  try {
    if (!q) {
      const page = await getJson<{ total: number; members: Td[] }>(`/things?limit=${PAGE}&offset=${offset}&format=collection`, 'application/ld+json');
      clear(out, thingList(page.members), pager(url, offset, page.total, page.members.length));
      return;
    }
    if (mode === 'sparql') {
      const res = await api('/search/sparql', { method: 'POST', headers: { 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json, application/ld+json' }, body: q });
      const data = (await res.json()) as SelectResults | object;
      if ('head' in data && 'results' in data) {
        resultsTable(out, data as SelectResults, { thingLink: (iri) => (/^https?:/.test(iri) ? undefined : thingHref(iri)) });
      } else clear(out, h('pre', { class: 'raw' }, JSON.stringify(data, null, 2)));
      return;
    }
    const path =
      mode === 'jsonpath'
        ? q
        : mode === 'type'
          ? `$[?@['@type']==${jsonPathString(q)} || @['@type'][?@==${jsonPathString(q)}]]`
          : `$[?search(@.title, ${jsonPathString(literalPattern(q))})]`;
    const nodes = await getJson<unknown[]>(`/search/jsonpath?query=${enc(path)}`);
    const tds = nodes.filter((n): n is Td => typeof n === 'object' && n !== null && !Array.isArray(n) && typeof (n as Td).id === 'string');
    if (tds.length === nodes.length) {
      const slice = tds.slice(offset, offset + PAGE);
      clear(out, h('p', { class: 'muted mono' }, path), thingList(slice), pager(url, offset, tds.length, slice.length));
    } else clear(out, h('p', { class: 'muted mono' }, path), h('pre', { class: 'raw' }, JSON.stringify(nodes, null, 2)));
  } catch (e) {
    clear(out, h('p', { class: 'error', role: 'alert' }, describe(e)));
  }
}

function clearAndReturn(el: HTMLElement): HTMLElement {
  el.replaceChildren();
  return el;
}

/** "Register a Thing": pick a Thing Model, fill its placeholders, POST instantiate?register=true; errors on their field. */
async function registerSection(url: URL, box: HTMLElement): Promise<HTMLElement> {
  let models: Array<{ name: string; title: unknown }> = [];
  try {
    models = await getJson('/thing-models');
  } catch (e) {
    box.append(h('p', { class: 'error' }, describe(e)));
    return box;
  }
  const select = h('select', {}, h('option', { value: '' }, '— choose —'), models.map((m) => h('option', { value: m.name, selected: url.searchParams.get('model') === m.name }, `${m.name}`)));
  const form = h('form', { class: 'register', novalidate: true });
  const draw = async () => {
    clear(form);
    if (!select.value) return;
    const names = await placeholdersOf(select.value);
    const inputs = new Map<string, HTMLInputElement>();
    const idInput = h('input', { name: 'id', size: 50, placeholder: 'urn:dev:…', required: true });
    inputs.set('id', idInput);
    form.append(field('Thing id', idInput));
    for (const n of names) {
      const i = h('input', { name: n, size: 40 });
      inputs.set(n, i);
      form.append(field(n, i));
    }
    const status = h('p', { role: 'status' });
    form.append(h('button', { type: 'submit' }, 'Register'), status);
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      for (const el of form.querySelectorAll('.field-error')) el.remove();
      const placeholders: Record<string, unknown> = {};
      for (const n of names) {
        const v = inputs.get(n)!.value;
        placeholders[n] = /^-?\d+(\.\d+)?$/.test(v) && /PORT|COUNT|PERIOD|OFFSET/.test(n) ? Number(v) : v;
      }
      try {
        const res = await api(`/thing-models/${enc(select.value)}/instantiate?register=true`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: idInput.value, placeholders }),
        });
        const td = (await res.json()) as Td;
        status.replaceChildren('Registered ', h('a', { href: thingHref(td.id ?? idInput.value) }, td.id ?? idInput.value));
      } catch (e) {
        status.textContent = describe(e);
        if (e instanceof ApiError) placeErrors(e.problem.validationErrors ?? [], inputs, status);
      }
    };
  };
  select.addEventListener('change', () => void draw().catch((e) => form.replaceChildren(h('p', { class: 'error' }, describe(e)))));
  box.append(field('Thing Model', select), form);
  if (select.value) await draw().catch(() => {});
  return box;
}

/** The `{{NAME}}` placeholders of a Thing Model and of the models it extends (tm:extends links, a few levels). */
async function placeholdersOf(name: string, depth = 0): Promise<string[]> {
  const tm = await getJson<{ links?: Array<{ rel?: string; href?: string }> }>(`/thing-models/${enc(name)}`, 'application/tm+json');
  const own = [...JSON.stringify(tm).matchAll(/\{\{([A-Za-z0-9_]+)\}\}/g)].map((m) => m[1]!);
  const parents = (tm.links ?? []).filter((l) => l.rel === 'tm:extends' && l.href).map((l) => /([^/]+?)(\.tm\.jsonld)?$/.exec(l.href!)?.[1]);
  const inherited = depth < 4 ? await Promise.all(parents.filter((p): p is string => !!p).map((p) => placeholdersOf(p, depth + 1).catch(() => []))) : [];
  return [...new Set([...own, ...inherited.flat()])];
}

/** Puts each validation error next to the input its field names (`/placeholders/X`, `/id`, or a TD path), else in `rest`. */
export function placeErrors(errors: Array<{ field: string; description: string }>, inputs: Map<string, HTMLElement>, rest: HTMLElement): void {
  for (const err of errors) {
    const key = err.field.replace(/^\/(placeholders\/)?/, '').split('/')[0] ?? '';
    const input = inputs.get(key);
    const msg = h('span', { class: 'field-error', role: 'alert' }, `${err.field}: ${err.description}`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.after(msg);
    } else rest.append(h('br'), msg);
  }
}
