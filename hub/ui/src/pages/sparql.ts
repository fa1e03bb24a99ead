// SPARQL page: CodeMirror editor (highlighting, prefix completion), saved queries, results (table, raw, chart), downloads.
import uPlot from 'uplot';
import { api, ApiError, describe, enc, token } from '../api.ts';
import { clear, field, h } from '../dom.ts';
import { createEditor } from '../editor.ts';
import { isUpdate } from '../sparql-text.ts';
import { downloadLink, isDateTime, isNumeric, resultsTable, toCsv, type SelectResults } from '../results.ts';

const DEFAULT = `PREFIX sosa: <http://www.w3.org/ns/sosa/>
SELECT ?observation ?property ?result ?time WHERE {
  GRAPH ?g { ?observation a sosa:Observation ; sosa:resultTime ?time .
    OPTIONAL { ?observation sosa:observedProperty ?property }
    OPTIONAL { ?observation sosa:hasSimpleResult ?result } }
}
ORDER BY DESC(?time)
LIMIT 100
`;

async function savedQueries(): Promise<string[]> {
  const res = await api('/ldp/queries/', { headers: { accept: 'application/n-triples' } });
  const text = await res.text();
  const names = [...text.matchAll(/<http:\/\/www\.w3\.org\/ns\/ldp#contains>\s+<([^>]+)>/g)].map((m) => m[1]!.replace(/^.*\/ldp\/queries\//, ''));
  return [...new Set(names)].sort();
}

export async function sparqlPage(main: HTMLElement, url: URL): Promise<void> {
  const host = h('div', { class: 'cm-host' });
  const status = h('div', { role: 'status', id: 'sparql-status' });
  const out = h('div', { id: 'sparql-results' });
  const savedSel = h('select', {}, h('option', { value: '' }, '— saved queries of sparql/ —'));
  const union = h('input', { type: 'checkbox' });
  const runButton = h('button', { type: 'submit' }, 'Run');
  const editor = createEditor(host, { language: 'sparql', doc: url.searchParams.get('query') ?? DEFAULT, label: 'SPARQL query', onRun: () => void run(), onChange: () => editor.mark([]) });
  savedQueries().then(
    (names) => savedSel.append(...names.map((n) => h('option', { value: n }, n))),
    () => savedSel.append(h('option', { disabled: true }, '(saved queries unavailable)')),
  );
  savedSel.addEventListener('change', async () => {
    if (!savedSel.value) return;
    try {
      const res = await api(`/ldp/queries/${enc(savedSel.value)}`, { headers: { accept: 'application/sparql-query, text/plain' } });
      editor.setText(await res.text());
    } catch (e) {
      status.textContent = describe(e);
    }
  });

  async function run(): Promise<void> {
    const text = editor.text();
    const update = isUpdate(text);
    editor.mark([]);
    clear(out);
    if (update && !token()) {
      status.replaceChildren(h('p', { class: 'error', role: 'alert' }, 'An update needs a token with the write scope: sign in first.'));
      return;
    }
    status.textContent = update ? 'Updating…' : 'Running…';
    const t0 = performance.now();
    const params = new URLSearchParams({ [update ? 'update' : 'query']: text });
    if (union.checked && !update) params.set('union-default-graph', 'true');
    try {
      const res = await api('/sparql', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/sparql-results+json, text/turtle;q=0.9' },
        body: params,
      });
      const ms = Math.round(performance.now() - t0);
      const type = res.headers.get('content-type') ?? '';
      const body = await res.text();
      history.replaceState(null, '', `/ui/sparql?query=${enc(text)}`);
      if (update) return void (status.textContent = `Update done in ${ms} ms.`);
      if (!type.includes('json')) {
        status.textContent = `Graph result in ${ms} ms (${type.split(';')[0]}).`;
        clear(out, downloadLink('Download', 'result.ttl', type, () => body), h('pre', { class: 'raw' }, body));
        return;
      }
      const data = JSON.parse(body) as SelectResults & { boolean?: boolean };
      if (typeof data.boolean === 'boolean') return void (status.textContent = `ASK: ${data.boolean} (${ms} ms)`);
      status.textContent = `${data.results.bindings.length} results in ${ms} ms.`;
      const table = h('div');
      const raw = h('pre', { class: 'raw', hidden: true }, JSON.stringify(data, null, 2));
      const chartBox = h('div', { class: 'plot', hidden: true });
      const view = h('div', { role: 'group', 'aria-label': 'Result view', class: 'row' });
      const show = (which: 'table' | 'raw' | 'chart') => {
        table.hidden = which !== 'table';
        raw.hidden = which !== 'raw';
        chartBox.hidden = which !== 'chart';
        for (const b of view.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.view === which));
        if (which === 'chart' && !chartBox.firstChild) drawChart(chartBox, data);
      };
      view.append(h('button', { type: 'button', 'data-view': 'table', onclick: () => show('table') }, 'Table'), h('button', { type: 'button', 'data-view': 'raw', onclick: () => show('raw') }, 'Raw'));
      if (seriesColumns(data)) view.append(h('button', { type: 'button', 'data-view': 'chart', onclick: () => show('chart') }, 'Chart'));
      view.append(
        downloadLink('Download CSV', 'results.csv', 'text/csv', () => toCsv(data)),
        downloadLink('Download JSON', 'results.json', 'application/sparql-results+json', () => JSON.stringify(data)),
      );
      resultsTable(table, data, { thingLink: (iri) => (/^urn:/.test(iri) ? `/ui/things/${enc(iri)}` : undefined) });
      clear(out, view, table, raw, chartBox);
      show('table');
    } catch (e) {
      status.replaceChildren(h('p', { class: 'error', role: 'alert' }, describe(e)));
      if (e instanceof ApiError) {
        const p = e.problem;
        const pos = p.position ?? (p.line !== undefined ? { line: p.line, column: p.column ?? 1 } : undefined);
        if (pos) status.append(h('p', { class: 'muted' }, `at line ${pos.line}, column ${pos.column}`));
        editor.mark([{ line: pos?.line, column: pos?.column, message: describe(e) }]);
      }
    }
  }

  const form = h(
    'form',
    {
      class: 'sparql',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void run();
      },
    },
    h('div', { class: 'row' }, field('Saved query', savedSel), h('label', { class: 'check' }, union, ' union default graph')),
    host,
    h('div', { class: 'row' }, runButton, h('small', { class: 'muted' }, 'Ctrl/⌘-Enter runs; Ctrl-Space completes prefixes and terms of the hub\'s vocabularies; updates need the write token.')),
  );
  clear(main, h('h1', {}, 'SPARQL'), form, status, out);
  if (url.searchParams.get('run') === '1') void run();
}

/** A time column (xsd:dateTime in every row) and the numeric columns, when the result is a time series. */
function seriesColumns(data: SelectResults): { time: string; values: string[] } | undefined {
  const rows = data.results.bindings;
  if (rows.length < 2) return undefined;
  const time = data.head.vars.find((v) => rows.every((r) => isDateTime(r[v])));
  const values = data.head.vars.filter((v) => v !== time && rows.every((r) => !r[v] || isNumeric(r[v])) && rows.some((r) => r[v]));
  return time && values.length ? { time, values } : undefined;
}

function drawChart(box: HTMLElement, data: SelectResults): void {
  const cols = seriesColumns(data)!;
  const rows = data.results.bindings.map((r) => ({ t: Date.parse(r[cols.time]!.value) / 1000, r })).sort((a, b) => a.t - b.t);
  const series = [rows.map((x) => x.t), ...cols.values.map((v) => rows.map((x) => (x.r[v] ? Number(x.r[v]!.value) : null)))];
  const colours = ['#1f6feb', '#c8508a', '#2da44e', '#bf8700', '#8250df'];
  new uPlot(
    { width: 880, height: 280, scales: { x: { time: true } }, series: [{}, ...cols.values.map((v, i) => ({ label: v, stroke: colours[i % colours.length] }))] },
    series as uPlot.AlignedData,
    box,
  );
}
