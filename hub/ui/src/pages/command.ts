// Queuing a command from a form (invokeaction, writeproperty), following its status resource until a final state, and a
// Thing's command history.
import { api, ApiError, describe, getJson, token } from '../api.ts';
import { clear, h, time } from '../dom.ts';
import { clearErrors, markErrors, markInvalid, type FormPart } from '../form.ts';

const ACT_SIGN_IN = 'Actions and property writes need a token with the act scope: sign in first.';
const TERMINAL = new Set(['delivered', 'failed', 'expired', 'cancelled', 'canceled', 'completed', 'rejected']);

/** A command's status resource (TD 1.1 queryaction), as the hub answers it and lists it in a Thing's command history. */
export interface Command {
  id?: string;
  action?: string;
  status?: string;
  input?: unknown;
  history?: Array<{ status: string; at: string; evidence?: unknown }>;
  [k: string]: unknown;
}

/** A value as text: '—' when absent, a string as it is, anything else as JSON. */
export function format(v: unknown): string {
  if (v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * The submit of a form that queues a command: invokeaction (POST) and writeproperty (PUT) both answer 201 + Location of
 * the command's status resource (TD 1.1 queryaction), followed here until a final state. First the browser's check of the
 * schema's constraints and the act token; a problem is shown in `state` (role=alert), its validationErrors on their
 * fields (`prefixes`: pointers the hub puts before the form's own, see markErrors).
 */
export function submitCommand(
  form: HTMLFormElement,
  part: FormPart | undefined,
  state: HTMLElement,
  request: { method: 'POST' | 'PUT'; path: string; prefixes: string[] },
  signal: AbortSignal,
  changed: () => void,
  sent?: () => void,
): void {
  markInvalid(form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    if (!form.reportValidity()) return;
    if (!token()) {
      state.replaceChildren(h('p', { class: 'error', role: 'alert' }, ACT_SIGN_IN));
      return;
    }
    let input: unknown;
    try {
      input = part?.value();
    } catch (e) {
      state.textContent = (e as Error).message;
      return;
    }
    try {
      const res = await api(request.path, {
        method: request.method,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: input === undefined ? '' : JSON.stringify(input),
      });
      const location = res.headers.get('location');
      const text = await res.text();
      let body: Command | undefined;
      try {
        body = text ? (JSON.parse(text) as Command) : undefined;
      } catch {
        body = undefined;
      }
      if (location) void followCommand(location, state, signal, changed, body);
      else drawCommand(state, body ?? { status: res.status === 204 ? 'done' : `HTTP ${res.status}` }, undefined, changed);
      sent?.();
      changed();
    } catch (e) {
      state.replaceChildren(h('p', { class: 'error', role: 'alert' }, describe(e)));
      if (e instanceof ApiError) markErrors(part, e.problem.validationErrors ?? [], state, request.prefixes);
    }
  });
}

function drawCommand(box: HTMLElement, c: Command, location: string | undefined, changed: () => void): void {
  const history = c.history ?? [];
  const done = TERMINAL.has(String(c.status).toLowerCase());
  clear(
    box,
    h('p', {}, 'Command ', h('code', {}, String(c.id ?? location ?? '')), ': ', h('strong', { class: 'status', 'data-status': String(c.status ?? '') }, String(c.status ?? 'sent'))),
    history.length ? h('ol', { class: 'history' }, history.map((s) => h('li', {}, h('strong', {}, s.status), ` ${time(s.at)}`, s.evidence ? h('small', { class: 'muted' }, ` ${format(s.evidence)}`) : null))) : null,
    location && !done
      ? h('button', {
          type: 'button',
          onclick: async () => {
            try {
              await api(location, { method: 'DELETE' });
              changed();
            } catch (e) {
              box.append(h('p', { class: 'error' }, describe(e)));
            }
          },
        }, 'Cancel command')
      : null,
  );
}

/** Polls the command's status resource (1 s, then slower) until a terminal state, the page closes, or 10 minutes pass. */
async function followCommand(location: string, box: HTMLElement, signal: AbortSignal, changed: () => void, first?: Command): Promise<void> {
  if (first) drawCommand(box, first, location, changed);
  const until = Date.now() + 600_000;
  let delay = 500;
  let last = '';
  while (!signal.aborted && Date.now() < until) {
    try {
      const c = await getJson<Command>(location);
      const key = JSON.stringify(c);
      if (key !== last) {
        last = key;
        drawCommand(box, c, location, changed);
        changed();
      }
      if (TERMINAL.has(String(c.status).toLowerCase())) return;
    } catch (e) {
      box.append(h('p', { class: 'error' }, describe(e)));
      return;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 1.5, 5000);
  }
}

/** A Thing's command history (its last 50 commands, newest first) as a table: each one's id, action, status and since when. */
export function commandTable(items: Command[]): HTMLElement {
  if (!items.length) return h('p', { class: 'muted' }, 'No commands yet.');
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ['Command', 'Action', 'Status', 'Since'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, items.slice(-50).reverse().map((c) => h('tr', {}, h('td', { class: 'mono' }, String(c.id ?? '')), h('td', {}, String(c.action ?? '')), h('td', {}, String(c.status ?? '')), h('td', {}, time(c.history?.[c.history.length - 1]?.at))))),
  );
}
