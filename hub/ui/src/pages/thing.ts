// A Thing's page: its TD (rendered and raw), live property values and events (SSE), adapters, actions, property writes,
// charts, edit/delete.
import { api, ApiError, describe, enc, getJson, streamEvents } from '../api.ts';
import { ago, clear, h, time } from '../dom.ts';
import { chartSection } from '../chart.ts';
import { locatePointer } from '../json-pointer.ts';
import { go } from '../nav.ts';
import { writeTarget } from '../../../directory/writable-properties.ts';
import { actionForm, propertyForm, type Affordance } from './affordance-forms.ts';
import { commandTable, format, type Command } from './command.ts';

type Td = {
  id: string;
  title?: string;
  description?: string;
  '@type'?: string | string[];
  properties?: Record<string, Affordance>;
  actions?: Record<string, Affordance>;
  events?: Record<string, Affordance>;
  links?: Array<{ href: string; rel?: string; type?: string }>;
  'hub:ioAdapterDefinitions'?: Array<{ uuid?: string; deviceDefinitions?: Record<string, unknown> }>;
  'hub:mapping'?: string;
  [k: string]: unknown;
};

/** At most this many SSE streams per page: browsers allow 6 HTTP/1.1 connections per origin, the hub 16 per client. */
const MAX_EVENT_STREAMS = 2;

export function latestQuery(id: string): string {
  return `# Latest observations of ${id}
PREFIX sosa: <http://www.w3.org/ns/sosa/>
SELECT ?property ?result ?time WHERE {
  GRAPH ?g {
    ?observation a sosa:Observation ; sosa:resultTime ?time .
    OPTIONAL { ?observation sosa:observedProperty ?property }
    OPTIONAL { ?observation sosa:hasSimpleResult ?result }
  }
  FILTER(CONTAINS(STR(?g), ${JSON.stringify(`/graphs/observations/${encodeURIComponent(id)}/`)}))
}
ORDER BY DESC(?time)
LIMIT 100
`;
}

export async function thingPage(main: HTMLElement, _url: URL, id: string): Promise<() => void> {
  const stop = new AbortController();
  const td = await getJson<Td>(`/things/${enc(id)}`, 'application/td+json');
  const types = Array.isArray(td['@type']) ? td['@type'] : td['@type'] ? [td['@type']] : [];
  const props = Object.entries(td.properties ?? {});
  const base = `/wot/${enc(id)}`;

  // --- properties, with live values -------------------------------------------------------------------------------
  const valueCells = new Map<string, HTMLElement>();
  const values: Record<string, unknown> = {};
  const streamState = h('span', { class: 'muted', id: 'live-state', role: 'status' }, 'not observing');
  const propTable = h(
    'table',
    { class: 'props' },
    h('caption', {}, 'Properties ', streamState),
    h('thead', {}, h('tr', {}, ['Name', 'Title', 'Type', 'Unit', 'Value'].map((c) => h('th', { scope: 'col' }, c)))),
    h(
      'tbody',
      {},
      props.map(([name, p]) => {
        // A write-only property (no readproperty) never shows a value.
        const cell = p.writeOnly === true ? h('td', { class: 'value muted', 'data-property': name }, 'write-only') : h('td', { class: 'value', 'data-property': name }, '—');
        valueCells.set(name, cell);
        return h('tr', {}, h('td', { class: 'mono' }, name), h('td', {}, p.title ?? ''), h('td', {}, String(p.type ?? '')), h('td', {}, p.unit ?? ''), cell);
      }),
    ),
  );
  const interfaces = h('div');
  const chart = chartSection(
    id,
    props.filter(([, p]) => p.type === 'number' || p.type === 'integer').map(([n]) => n),
  );
  // writeproperty (PUT) where the TD names the action that carries it (as hub/directory/writable-properties.ts decides).
  const writeForms = new Map<string, ReturnType<typeof propertyForm>>();
  for (const [name, p] of props) {
    const target = writeTarget(p);
    if (target) writeForms.set(name, propertyForm(id, name, p, target, stop.signal, () => void listCommands()));
  }
  const show = (name: string, v: unknown) => {
    const changed = JSON.stringify(values[name]) !== JSON.stringify(v);
    values[name] = v;
    if (changed) writeForms.get(name)?.show(v);
    const cell = valueCells.get(name);
    if (cell && changed) {
      cell.textContent = format(v);
      cell.classList.remove('flash');
      void cell.offsetWidth;
      cell.classList.add('flash');
    }
    if (typeof v === 'number') chart.push(name, v, Date.now() / 1000);
  };
  const readAll = async () => {
    await Promise.all(
      // A write-only property has no readproperty: its GET would only be a 404.
      props.filter(([, p]) => p.writeOnly !== true).map(async ([name]) => {
        try {
          const res = await api(`${base}/properties/${enc(name)}`, { headers: { accept: 'application/json' }, signal: stop.signal });
          const text = await res.text();
          show(name, text === '' ? undefined : JSON.parse(text));
        } catch {
          /* never received yet (or not readable): stays — */
        }
      }),
    );
    drawInterfaces();
  };
  // One stream (lastSeen changes on every message, else the first observable property) tells that a message came:
  // then every property is read again. One connection, however many properties.
  const observed = props.find(([n, p]) => n === 'lastSeen' && p.observable) ?? props.find(([, p]) => p.observable);
  if (observed) {
    streamEvents(
      `${base}/properties/${enc(observed[0])}/observable`,
      (data) => {
        try {
          show(observed[0], JSON.parse(data));
        } catch {
          show(observed[0], data);
        }
        void readAll();
      },
      stop.signal,
      (s) => (streamState.textContent = s === 'live' ? `live (observing ${observed[0]})` : s),
    );
  }

  // --- adapters and interfaces ------------------------------------------------------------------------------------
  function drawInterfaces() {
    const defs = td['hub:ioAdapterDefinitions'] ?? [];
    if (!defs.length) return clear(interfaces, h('p', { class: 'muted' }, 'No adapter definitions.'));
    clear(
      interfaces,
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ['Adapter', 'Key', 'Interface type', 'Last seen', 'Last active'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          defs.map((d) => {
            const dd = d.deviceDefinitions ?? {};
            const key = `${String(dd.keyType ?? (dd.devEui ? 'devEui' : ''))} ${String(dd.deviceKey ?? dd.devEui ?? dd.sigfoxId ?? dd.mac ?? '')}`.trim();
            const active = values.lastInterface === d.uuid;
            return h(
              'tr',
              {},
              h('td', {}, d.uuid ? h('a', { href: `/ui/things/${enc(d.uuid)}` }, d.uuid) : ''),
              h('td', { class: 'mono' }, key),
              h('td', {}, String(dd.interfaceType ?? '')),
              h('td', {}, values.lastSeen ? `${time(values.lastSeen)} (${ago(values.lastSeen)})` : 'never'),
              h('td', {}, active ? 'yes' : ''),
            );
          }),
        ),
      ),
    );
  }
  drawInterfaces();

  // --- events -----------------------------------------------------------------------------------------------------
  const eventList = h('ol', { class: 'events', 'aria-live': 'polite' });
  const eventNames = Object.keys(td.events ?? {});
  for (const name of eventNames.slice(0, MAX_EVENT_STREAMS)) {
    streamEvents(`${base}/events/${enc(name)}`, (data) => {
      eventList.prepend(h('li', {}, h('time', {}, time(new Date().toISOString())), ' ', h('strong', {}, name), ' ', h('code', {}, data)));
      while (eventList.children.length > 50) eventList.lastElementChild?.remove();
    }, stop.signal);
  }

  // --- actions ----------------------------------------------------------------------------------------------------
  const actionsBox = h('div');
  const commandsBox = h('div');
  for (const [name, a] of Object.entries(td.actions ?? {})) actionsBox.append(actionForm(id, name, a, stop.signal, () => void listCommands()));
  async function listCommands() {
    if (!Object.keys(td.actions ?? {}).length) return;
    try {
      const list = await getJson<unknown>(`${base}/commands`);
      const items = Array.isArray(list) ? list : ((list as { commands?: unknown[] }).commands ?? []);
      clear(commandsBox, h('h3', {}, 'Command history'), commandTable(items as Command[]));
    } catch (e) {
      clear(commandsBox, h('p', { class: 'muted' }, e instanceof ApiError && e.problem.status === 404 ? 'No command history on this hub.' : describe(e)));
    }
  }

  // --- Thing Model, links, raw TD and editing ---------------------------------------------------------------------
  const tmLinks = (td.links ?? []).filter((l) => l.rel === 'type' || l.rel === 'tm:extends' || /tm\+json/.test(l.type ?? ''));
  const tmBox = h('div');
  if (tmLinks.length) {
    for (const l of tmLinks) {
      const name = /\/thing-models\/([^/?#]+)/.exec(l.href)?.[1]?.replace(/\.tm\.jsonld$/, '');
      tmBox.append(h('p', {}, 'Thing Model: ', h('a', { href: l.href }, l.href)));
      if (name) {
        const pre = h('pre', { class: 'raw' });
        tmBox.append(h('details', {}, h('summary', {}, `Thing Model ${name}`), pre));
        getJson(`/thing-models/${enc(name)}`, 'application/tm+json').then((tm) => (pre.textContent = JSON.stringify(tm, null, 2)), (e) => (pre.textContent = describe(e)));
      }
    }
  } else tmBox.append(h('p', { class: 'muted' }, 'No Thing Model linked.'));

  const raw = JSON.stringify(td, null, 2);
  const editBox = h('div', { class: 'td-edit', hidden: true });
  const editStatus = h('div', { role: 'status' });
  let editor: import('../editor.ts').Editor | undefined;
  const save = async () => {
    if (!editor) return;
    let body: unknown;
    try {
      body = JSON.parse(editor.text());
    } catch (e) {
      editStatus.textContent = `Not JSON: ${(e as Error).message}`;
      return;
    }
    try {
      await api(`/things/${enc(id)}`, { method: 'PUT', headers: { 'content-type': 'application/td+json' }, body: JSON.stringify(body) });
      editStatus.textContent = 'Saved.';
      editor.mark([]);
      go(`/ui/things/${enc(id)}`, true);
    } catch (e) {
      const errors = e instanceof ApiError ? (e.problem.validationErrors ?? []) : [];
      editStatus.replaceChildren(h('p', { class: 'error' }, describe(e)), h('ul', {}, errors.map((v) => h('li', { class: 'field-error' }, h('code', {}, v.field), ` ${v.description}`))));
      const text = editor.text();
      editor.mark(errors.map((v) => ({ ...(locatePointer(text, v.field) ?? {}), message: `${v.field}: ${v.description}` })));
    }
  };
  const del = async () => {
    if (!confirm(`Delete ${id} from the directory?`)) return;
    try {
      await api(`/things/${enc(id)}`, { method: 'DELETE' });
      go('/ui/things');
    } catch (e) {
      editStatus.textContent = describe(e);
    }
  };
  const editButton = h('button', {
    type: 'button',
    onclick: async () => {
      editBox.hidden = !editBox.hidden;
      if (!editor) {
        const host = h('div', { class: 'cm-host' });
        editBox.prepend(host);
        const { createEditor } = await import('../editor.ts');
        editor = createEditor(host, { language: 'json', doc: raw, label: 'Thing Description (JSON)' });
      }
    },
  }, 'Edit TD');

  const ldp = `/ldp/observations/${enc(id)}/`;
  clear(
    main,
    h('h1', {}, td.title ?? id),
    h('p', { class: 'mono' }, id),
    types.length ? h('p', {}, 'Type: ', types.join(', ')) : null,
    td.description ? h('p', {}, td.description) : null,
    h(
      'p',
      { class: 'links' },
      h('a', { href: ldp }, 'Observations (LDP)'),
      ' · ',
      h('a', { href: `/ui/sparql?query=${enc(latestQuery(id))}` }, 'Query its observations (SPARQL)'),
      ' · ',
      h('a', { href: `/things/${enc(id)}` }, 'TD (JSON)'),
      td['hub:mapping'] ? [' · ', h('a', { href: `/ui/mappings/${enc(String(td['hub:mapping']).replace(/^.*\/mappings\//, ''))}` }, `Mapfile ${td['hub:mapping']}`)] : null,
    ),
    h(
      'section',
      { 'aria-labelledby': 'props-h' },
      h('h2', { id: 'props-h' }, 'Live values'),
      props.length ? propTable : h('p', { class: 'muted' }, 'No properties.'),
      writeForms.size ? h('div', { class: 'writes' }, h('h3', {}, 'Set'), [...writeForms.values()].map((f) => f.element)) : null,
    ),
    h('section', { 'aria-labelledby': 'if-h' }, h('h2', { id: 'if-h' }, 'Adapters and interfaces'), interfaces),
    eventNames.length ? h('section', { 'aria-labelledby': 'ev-h' }, h('h2', { id: 'ev-h' }, 'Events'), eventNames.length > MAX_EVENT_STREAMS ? h('p', { class: 'muted' }, `Showing ${MAX_EVENT_STREAMS} of ${eventNames.length} events live.`) : null, eventList) : null,
    Object.keys(td.actions ?? {}).length ? h('section', { 'aria-labelledby': 'act-h' }, h('h2', { id: 'act-h' }, 'Actions'), actionsBox, commandsBox) : null,
    chart.element,
    h('section', { 'aria-labelledby': 'tm-h' }, h('h2', { id: 'tm-h' }, 'Thing Model'), tmBox),
    h(
      'section',
      { 'aria-labelledby': 'td-h' },
      h('h2', { id: 'td-h' }, 'Thing Description'),
      h('div', { class: 'row' }, editButton, h('button', { type: 'button', onclick: del, class: 'danger' }, 'Delete')),
      editBox,
      editStatus,
      h('details', {}, h('summary', {}, 'Raw JSON'), h('pre', { class: 'raw', id: 'td-raw' }, raw)),
    ),
  );
  editBox.append(h('button', { type: 'button', onclick: save }, 'Save TD'));
  void readAll();
  void listCommands();
  return () => {
    stop.abort();
    chart.destroy();
  };
}
