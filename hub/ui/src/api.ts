// The web UI's client of the hub's own HTTP API: the bearer token (sessionStorage), problem+json errors, SSE over fetch.
const TOKEN_KEY = 'wot-hub.token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
  for (const l of tokenListeners) l();
}

const tokenListeners = new Set<() => void>();
export function onTokenChange(listener: () => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

/** An RFC 9457 problem (the hub's errors), with the hub's extensions (code, position, line/column, validationErrors). */
export interface Problem {
  status: number;
  code?: string;
  title?: string;
  detail?: string;
  position?: { line: number; column: number };
  line?: number;
  column?: number;
  term?: string;
  validationErrors?: Array<{ field: string; description: string }>;
  [k: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
  }
}

/** fetch() on the hub's origin with the token when there is one; throws ApiError for a non-2xx answer. */
export async function api(path: string, init: RequestInit & { auth?: boolean } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const t = token();
  if (t && init.auth !== false) headers.set('authorization', `Bearer ${t}`);
  const res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  if (!res.ok) throw new ApiError(await problemOf(res));
  return res;
}

export async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  try {
    const p = JSON.parse(text) as Problem;
    if (p && typeof p === 'object') return { ...p, status: res.status };
  } catch {
    /* not JSON */
  }
  return { status: res.status, title: res.statusText, detail: text.slice(0, 500) };
}

export async function getJson<T = unknown>(path: string, accept = 'application/json'): Promise<T> {
  return (await api(path, { headers: { accept } })).json() as Promise<T>;
}

/** A human sentence for an error (problem detail, with its code). */
export function describe(e: unknown): string {
  if (e instanceof ApiError) {
    const p = e.problem;
    const hint = p.status === 401 ? ' (sign in with a token)' : p.status === 403 ? ' (the token lacks the scope)' : '';
    return `${p.status}${p.code ? ` ${p.code}` : ''}: ${p.detail || p.title || ''}${hint}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * Reads a text/event-stream with fetch (EventSource cannot send the Authorization header): calls onEvent per event's
 * data; reconnects after a drop (with backoff) until the signal aborts. At most `maxBytes` of one event are buffered.
 */
export function streamEvents(path: string, onEvent: (data: string) => void, signal: AbortSignal, onState?: (state: string) => void, maxBytes = 1 << 20): void {
  let delay = 500;
  const run = async () => {
    while (!signal.aborted) {
      try {
        const res = await api(path, { headers: { accept: 'text/event-stream' }, signal });
        onState?.('live');
        delay = 500;
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          if (buf.length > maxBytes) buf = buf.slice(-maxBytes);
          const { events, rest } = takeEvents(buf);
          buf = rest;
          for (const data of events) onEvent(data);
        }
      } catch (e) {
        if (signal.aborted) return;
        onState?.(`reconnecting (${describe(e)})`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  };
  void run();
}

/**
 * Splits complete events off an SSE buffer (WHATWG HTML §9.2.6: lines end in CRLF, LF or CR; a blank line ends an
 * event; `data:` lines join with LF, one leading space dropped; comments and other fields ignored). Returns each
 * event's data (events without data are skipped) and the incomplete rest.
 */
export function takeEvents(buffer: string): { events: string[]; rest: string } {
  const events: string[] = [];
  let data: string[] = [];
  let start = 0;
  let eventStart = 0;
  // A CR at the very end may be the first half of a CRLF: it stays in the rest.
  for (const m of buffer.matchAll(/\r\n|\r(?!$)|\n/g)) {
    const line = buffer.slice(start, m.index);
    start = m.index + m[0].length;
    if (line === '') {
      if (data.length) events.push(data.join('\n'));
      data = [];
      eventStart = start;
    } else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
    else if (line === 'data') data.push('');
  }
  // An unfinished event is read again, whole, once its blank line arrives.
  return { events, rest: buffer.slice(eventStart) };
}

export const enc = encodeURIComponent;
