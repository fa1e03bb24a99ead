// SPARQL 1.1 JSON results as a paged, sortable table, as CSV (SPARQL 1.1 CSV results format) and as JSON downloads.
import { h, clear } from './dom.ts';

export interface RdfTerm {
  type: 'uri' | 'literal' | 'bnode' | 'typed-literal' | 'triple';
  value: string;
  datatype?: string;
  'xml:lang'?: string;
}
export interface SelectResults {
  head: { vars: string[] };
  results: { bindings: Array<Record<string, RdfTerm>> };
}
export type AskResult = { head: object; boolean: boolean };

const NUMERIC = /#(integer|decimal|double|float|long|int|short|byte|nonNegativeInteger|positiveInteger|unsignedInt|unsignedLong)$/;
export const isNumeric = (t: RdfTerm | undefined) => !!t && t.type !== 'uri' && !!t.datatype && NUMERIC.test(t.datatype);
export const isDateTime = (t: RdfTerm | undefined) => !!t && !!t.datatype && /#dateTime(Stamp)?$/.test(t.datatype);

function compare(a: RdfTerm | undefined, b: RdfTerm | undefined): number {
  if (!a || !b) return a ? -1 : b ? 1 : 0;
  if (isNumeric(a) && isNumeric(b)) return Number(a.value) - Number(b.value);
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** A cell: IRIs that are Things link to their page; others to the SPARQL editor describing them. */
function cell(t: RdfTerm | undefined, thingLink?: (iri: string) => string | undefined): Node | string {
  if (!t) return '';
  if (t.type === 'uri') {
    const href = thingLink?.(t.value);
    return href ? h('a', { href }, t.value) : h('span', { class: 'iri' }, `<${t.value}>`);
  }
  if (t.type === 'bnode') return `_:${t.value}`;
  const suffix = t['xml:lang'] ? `@${t['xml:lang']}` : '';
  return h('span', { title: t.datatype ?? '' }, `${t.value}${suffix}`);
}

/** Renders `data` into `el`: pager (pageSize rows), column headers that sort (click or keyboard), row count. */
export function resultsTable(el: HTMLElement, data: SelectResults, options: { pageSize?: number; thingLink?: (iri: string) => string | undefined; caption?: string } = {}): void {
  const size = options.pageSize ?? 50;
  const rows = data.results.bindings.slice();
  let page = 0;
  let sortVar: string | undefined;
  let descending = false;
  const draw = () => {
    const pages = Math.max(1, Math.ceil(rows.length / size));
    page = Math.min(page, pages - 1);
    const slice = rows.slice(page * size, page * size + size);
    const head = h(
      'tr',
      {},
      data.head.vars.map((v) =>
        h(
          'th',
          { scope: 'col', 'aria-sort': sortVar === v ? (descending ? 'descending' : 'ascending') : 'none' },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              onclick: () => {
                descending = sortVar === v ? !descending : false;
                sortVar = v;
                rows.sort((a, b) => (descending ? -1 : 1) * compare(a[v], b[v]));
                draw();
              },
            },
            `?${v}${sortVar === v ? (descending ? ' ▼' : ' ▲') : ''}`,
          ),
        ),
      ),
    );
    const body = slice.map((r) => h('tr', {}, data.head.vars.map((v) => h('td', {}, cell(r[v], options.thingLink)))));
    const pager = h(
      'div',
      { class: 'pager' },
      h('button', { type: 'button', disabled: page === 0, onclick: () => ((page -= 1), draw()) }, 'Previous'),
      h('span', { role: 'status' }, `${rows.length} row${rows.length === 1 ? '' : 's'}${pages > 1 ? `, page ${page + 1} of ${pages}` : ''}`),
      h('button', { type: 'button', disabled: page >= pages - 1, onclick: () => ((page += 1), draw()) }, 'Next'),
    );
    clear(el, h('div', { class: 'table-wrap' }, h('table', { class: 'results' }, options.caption ? h('caption', {}, options.caption) : null, h('thead', {}, head), h('tbody', {}, body))), pager);
  };
  draw();
}

/** SPARQL 1.1 Query Results CSV: values only, fields quoted when they hold a comma, quote or line break. */
export function toCsv(data: SelectResults): string {
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [data.head.vars.map(q).join(',')];
  for (const r of data.results.bindings) lines.push(data.head.vars.map((v) => q(r[v] ? (r[v]!.type === 'bnode' ? `_:${r[v]!.value}` : r[v]!.value) : '')).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** A download link for text (an object URL, revoked when replaced). */
export function downloadLink(label: string, filename: string, type: string, text: () => string): HTMLAnchorElement {
  const a = h('a', { href: '#', download: filename, class: 'button' }, label);
  a.addEventListener('click', () => {
    if (a.href.startsWith('blob:')) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([text()], { type }));
  });
  return a;
}
