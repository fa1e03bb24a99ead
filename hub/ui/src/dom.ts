// Tiny DOM helpers for the web UI: element creation without innerHTML (text is always text), and clearing.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** `h('a', {href: '/ui/'}, 'Home')`: attributes (on* as listeners, booleans as presence), children as nodes or text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Array<Child | Child[]>): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, '').toLowerCase(), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Array<Child | Child[]>): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element, ...children: Array<Child | Child[]>): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A document-unique id for label/for and aria-describedby pairs. */
export function uid(prefix = 'f'): string {
  return `${prefix}-${++ids}`;
}

/** A labelled control: <label for=id>text</label> + the control (given the id). */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || uid();
  control.id = id;
  const out = h('div', { class: 'field' }, h('label', { for: id }, label), control);
  if (hint) {
    const hid = uid('hint');
    control.setAttribute('aria-describedby', hid);
    out.appendChild(h('small', { id: hid, class: 'muted' }, hint));
  }
  return out;
}

/** Local time with seconds from an ISO string (or '' when absent). */
export function time(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { hour12: false });
}

/** "3 s ago"-style age of an ISO time. */
export function ago(iso: unknown): string {
  if (typeof iso !== 'string') return '';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
