// Test helper: HTTP/1.1 over a bare TCP socket, for requests no HTTP client sends (a declared body never sent, huge
// request lines, slow uploads) and for watching when the server answers and closes.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { baseUrlOf, startTestHub, type TestHub } from '../helpers/hub.ts';

export interface RawResult {
  /** Status of the first response on the socket, 0 when none came. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection before the wait ended. */
  closed: boolean;
  /** Milliseconds from connect to the first response byte (or to the end of the wait). */
  firstByteMs: number;
  /** Milliseconds from connect to close (or to the end of the wait). */
  closeMs: number;
}

export interface RawOptions {
  localAddress?: string;
  /** Longest wait for the server to answer and close. */
  waitMs?: number;
  /** Resolve as soon as a whole response head arrived instead of waiting for the close. */
  untilResponse?: boolean;
}

export function parseResponse(text: string): Pick<RawResult, 'status' | 'headers' | 'body'> {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: m ? Number(m[1]) : 0, headers, body: end < 0 ? '' : text.slice(end + 4) };
}

/** Opens a socket to 127.0.0.1:port, writes `data`, and reports what came back and when the server closed. */
export function rawExchange(port: number, data: string | Buffer, options: RawOptions = {}): Promise<RawResult> {
  const waitMs = options.waitMs ?? 5000;
  return new Promise((resolve) => {
    const t0 = performance.now();
    let text = '';
    let firstByteMs = -1;
    let done = false;
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: options.localAddress }, () => socket.write(data));
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const ms = performance.now() - t0;
      socket.destroy();
      resolve({ ...parseResponse(text), closed, firstByteMs: firstByteMs < 0 ? ms : firstByteMs, closeMs: ms });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (chunk) => {
      if (firstByteMs < 0) firstByteMs = performance.now() - t0;
      text += chunk.toString('latin1');
      if (options.untilResponse && text.includes('\r\n\r\n')) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** A request head (no body) with the given headers. */
export function head(method: string, path: string, headers: Record<string, string | number>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

/**
 * A hub listening on loopback (ephemeral port) for the enclosing describe block: started before its tests with the
 * given config overrides, stopped after them; `use` receives the hub and its port.
 */
export function listeningHub(use: (hub: TestHub, port: number) => void, overrides: Record<string, unknown> = {}): void {
  let hub: TestHub | undefined;
  beforeAll(async () => {
    hub = await startTestHub(overrides, { listen: true });
    use(hub, Number(new URL(baseUrlOf(hub)).port));
  });
  afterAll(() => hub?.stop());
}
