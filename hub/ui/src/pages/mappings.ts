// Mappings pages: the list of mapfiles with the Things using each; an editor with live preview, errors at line/column, save.
import { api, ApiError, describe, enc, getJson, token } from '../api.ts';
import { clear, field, h, time } from '../dom.ts';
import { createEditor, type Editor } from '../editor.ts';
import { go } from '../nav.ts';

interface MappingInfo {
  name: string;
  format: string;
  mediaType: string;
  updatedAt: string;
}

/** Drafts are scratch mapfiles the editor previews unsaved text with (the preview API maps a stored mapfile). */
export const DRAFT_SUFFIX = '.ui-draft';
export const draftName = (name: string) => `${name.slice(0, 128 - DRAFT_SUFFIX.length)}${DRAFT_SUFFIX}`;

/** Things by the mapfile their TD names in hub:mapping (a name or a /mappings/{name} URL). */
async function usersByMapping(): Promise<Map<string, Array<{ id: string; title?: string }>>> {
  const out = new Map<string, Array<{ id: string; title?: string }>>();
  const tds = await getJson<Array<{ id?: string; title?: string; 'hub:mapping'?: unknown }>>(`/search/jsonpath?query=${enc("$[?@['hub:mapping']]")}`);
  for (const td of tds) {
    if (typeof td.id !== 'string' || typeof td['hub:mapping'] !== 'string') continue;
    const name = td['hub:mapping'].replace(/^.*\/mappings\//, '');
    out.set(name, [...(out.get(name) ?? []), { id: td.id, title: td.title }]);
  }
  return out;
}

export async function mappingsPage(main: HTMLElement): Promise<void> {
  const [list, users] = await Promise.all([getJson<{ mappings: MappingInfo[] }>('/mappings'), usersByMapping().catch(() => new Map())]);
  const nameInput = h('input', { name: 'name', pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,127}', required: true, size: 30 });
  const formatSel = h('select', {}, h('option', { value: 'turtle' }, 'RML (Turtle)'), h('option', { value: 'yarrrml' }, 'YARRRML'));
  clear(
    main,
    h('h1', {}, 'Mappings'),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ['Name', 'Format', 'Updated', 'Used by'].map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        {},
        list.mappings
          .filter((m) => !m.name.endsWith(DRAFT_SUFFIX))
          .map((m) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `/ui/mappings/${enc(m.name)}` }, m.name)),
              h('td', {}, m.format),
              h('td', {}, time(m.updatedAt)),
              h('td', {}, (users.get(m.name) ?? []).flatMap((t: { id: string; title?: string }, i: number) => [i ? ', ' : '', h('a', { href: `/ui/things/${enc(t.id)}` }, t.title ?? t.id)])),
            ),
          ),
      ),
    ),
    h(
      'form',
      {
        class: 'row',
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          go(`/ui/mappings/${enc(nameInput.value)}?format=${formatSel.value}`);
        },
      },
      field('New mapfile name', nameInput),
      field('Format', formatSel),
      h('button', { type: 'submit' }, 'New mapfile'),
    ),
  );
}

function defaultSample(name: string, thingId: string): string {
  const meta = { thingId, protocol: /lorawan/.test(name) ? 'lorawan' : 'http', receivedAt: new Date().toISOString(), messageId: 'preview-1' };
  const payload = /lorawan/.test(name)
    ? { decoded: { temperature: 21.5, humidity: 40 }, sequence: 1, radio: [{ gatewayId: 'gtw1', rssi: -60, snr: 7 }] }
    : { value: 1 };
  return JSON.stringify({ meta, payload }, null, 2);
}

const STARTER_TURTLE = `@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
@prefix sosa: <http://www.w3.org/ns/sosa/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<#Value> a rml:TriplesMap ;
  rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$" ] ;
  rml:subjectMap [ rml:template "things/{$.meta.thingId}/observations/{$.meta.messageId}/value" ; rml:class sosa:Observation ] ;
  rml:predicateObjectMap
    [ rml:predicate sosa:hasSimpleResult ; rml:objectMap [ rml:reference "$.payload.value" ; rml:datatype xsd:double ] ] ,
    [ rml:predicate sosa:resultTime ; rml:objectMap [ rml:reference "$.meta.observedAt" ; rml:datatype xsd:dateTime ] ] .
`;

export async function mappingPage(main: HTMLElement, url: URL, name: string): Promise<() => void> {
  let format = url.searchParams.get('format') === 'yarrrml' ? 'yarrrml' : 'turtle';
  let saved = '';
  let exists = true;
  try {
    const res = await api(`/mappings/${enc(name)}`, { headers: { accept: 'text/turtle, application/yaml' } });
    saved = await res.text();
    if (/yaml/.test(res.headers.get('content-type') ?? '')) format = 'yarrrml';
  } catch (e) {
    if (!(e instanceof ApiError && e.problem.status === 404)) throw e;
    exists = false;
    saved = format === 'turtle' ? STARTER_TURTLE : '';
  }
  const users = (await usersByMapping().catch(() => new Map<string, Array<{ id: string; title?: string }>>())).get(name) ?? [];
  const thingSel = h('select', {}, users.map((t) => h('option', { value: t.id }, t.title ? `${t.title} (${t.id})` : t.id)), h('option', { value: 'urn:dev:preview' }, 'urn:dev:preview (no Thing)'));
  const sampleKey = `wot-hub.sample.${name}`;
  const sample = h('textarea', { rows: 12, cols: 60, spellcheck: 'false', id: 'sample' });
  sample.value = sessionStorage.getItem(sampleKey) ?? defaultSample(name, thingSel.value);
  const preview = h('pre', { class: 'raw', id: 'preview', 'aria-live': 'polite' });
  const status = h('div', { role: 'status', id: 'mapping-status' });
  const host = h('div', { class: 'cm-host' });
  const mediaType = format === 'yarrrml' ? 'application/yaml' : 'text/turtle';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  let draftUsed = false;
  let editor: Editor;

  /** Maps the sample with the editor's text: the saved mapfile when unchanged, else a draft (write token) first. */
  const refresh = async () => {
    const mine = ++seq;
    const text = editor.text();
    let target = name;
    try {
      if (text !== saved || !exists) {
        if (!token()) {
          status.textContent = 'Sign in with a write token to preview unsaved changes (the preview shows the saved mapfile).';
          if (!exists) return;
        } else {
          target = draftName(name);
          draftUsed = true;
          await api(`/mappings/${enc(target)}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: text });
        }
      }
      if (mine !== seq) return;
      editor.mark([]);
      let body: string;
      try {
        body = JSON.stringify(JSON.parse(sample.value));
        sample.removeAttribute('aria-invalid');
      } catch (e) {
        sample.setAttribute('aria-invalid', 'true');
        status.textContent = `Sample message: ${(e as Error).message}`;
        return;
      }
      const res = await api(`/mappings/${enc(target)}/preview?thingId=${enc(thingSel.value)}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/turtle' }, body });
      const out = await res.text();
      if (mine !== seq) return;
      preview.textContent = out || '# (no triples)';
      status.textContent = `Preview of the ${target === name ? 'saved' : 'edited'} mapfile: ${out.split('\n').filter((l) => /\s\.\s*$/.test(l)).length} statements.`;
    } catch (e) {
      if (mine !== seq) return;
      status.replaceChildren(h('p', { class: 'error', role: 'alert' }, describe(e)));
      if (e instanceof ApiError) {
        const p = e.problem;
        const line = p.line ?? p.position?.line;
        const column = p.column ?? p.position?.column;
        if (line !== undefined) status.append(h('p', { class: 'muted', id: 'error-position' }, `line ${line}${column !== undefined ? `, column ${column}` : ''}${p.term ? `, term ${p.term}` : ''}`));
        editor.mark([{ line, column, term: typeof p.term === 'string' ? p.term : undefined, message: describe(e) }]);
      }
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 400);
  };
  editor = createEditor(host, { language: format === 'yarrrml' ? 'yaml' : 'turtle', doc: saved, label: `Mapfile ${name}`, onChange: schedule });
  sample.addEventListener('input', () => {
    sessionStorage.setItem(sampleKey, sample.value);
    schedule();
  });
  thingSel.addEventListener('change', schedule);

  const save = async () => {
    try {
      await api(`/mappings/${enc(name)}`, { method: 'PUT', headers: { 'content-type': mediaType }, body: editor.text() });
      saved = editor.text();
      exists = true;
      status.textContent = `Saved ${name}.`;
      editor.mark([]);
      void dropDraft();
    } catch (e) {
      status.replaceChildren(h('p', { class: 'error', role: 'alert' }, describe(e)));
      if (e instanceof ApiError) editor.mark([{ line: e.problem.line, column: e.problem.column, term: e.problem.term, message: describe(e) }]);
    }
  };
  const dropDraft = async () => {
    if (!draftUsed || !token()) return;
    draftUsed = false;
    await api(`/mappings/${enc(draftName(name))}`, { method: 'DELETE' }).catch(() => {});
  };

  clear(
    main,
    h('h1', {}, `Mapfile ${name}`),
    h('p', { class: 'muted' }, `${format === 'yarrrml' ? 'YARRRML' : 'RML in Turtle'} · ${exists ? 'saved' : 'new'} · used by `, users.length ? users.flatMap((t, i) => [i ? ', ' : '', h('a', { href: `/ui/things/${enc(t.id)}` }, t.title ?? t.id)]) : 'no Thing'),
    h(
      'div',
      { class: 'split' },
      h('div', {}, h('h2', {}, 'Mapfile'), host, h('div', { class: 'row' }, h('button', { type: 'button', onclick: save }, 'Save'), h('small', { class: 'muted' }, 'Saving needs the write token.'))),
      h('div', {}, h('h2', {}, 'Sample message'), field('Thing (meta.thingId)', thingSel), field('Message ({meta, payload} or a bare payload)', sample), h('h2', {}, 'Preview'), status, preview),
    ),
  );
  if (exists) void refresh();
  return () => {
    clearTimeout(timer);
    void dropDraft();
  };
}
