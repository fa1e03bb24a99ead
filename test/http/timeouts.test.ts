// Issue 8 defect 4: slow uploads and slow headers are cut off by the request/headers timeouts (408 problem+json), idle
// keep-alive connections are closed, and Server-Sent Event streams outlive the request timeout.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrlOf, startTestHub, type TestHub } from '../helpers/hub.ts';
import { DEVICE_ID, deviceTd, waitFor } from '../things/fixtures.ts';
import { head, parseResponse, rawExchange } from './raw-http.ts';

const REQUEST_TIMEOUT_MS = 2000;

interface Slow {
  status: number;
  closedMs: number;
  sent: number;
}

/** An upload that declares 9 MiB and trickles `bytes` every `everyMs` until the server closes (or `waitMs`). */
function slowUpload(port: number, token: string, bytes: number, everyMs: number, waitMs: number): Promise<Slow> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let text = '';
    let sent = 0;
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(head('PUT', '/graph-store?default', { host: `127.0.0.1:${port}`, authorization: token, 'content-type': 'text/turtle', 'content-length': 9437184 }));
    });
    const tick = setInterval(() => {
      if (!socket.writable) return;
      socket.write(Buffer.alloc(bytes, 0x23)); // '#': a Turtle comment, never complete
      sent += bytes;
    }, everyMs);
    let done = false;
    const finish = (closedMs: number) => {
      if (done) return;
      done = true;
      clearInterval(tick);
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: parseResponse(text).status, closedMs, sent });
    };
    const timer = setTimeout(() => finish(Infinity), waitMs);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => finish(performance.now() - t0));
    socket.on('error', () => finish(performance.now() - t0));
  });
}

describe('request, headers and keep-alive timeouts', () => {
  let hub: TestHub;
  let port: number;
  beforeAll(async () => {
    hub = await startTestHub({ requestTimeoutMs: REQUEST_TIMEOUT_MS, headersTimeoutMs: 1000, keepAliveTimeoutMs: 500 }, { listen: true });
    port = Number(new URL(baseUrlOf(hub)).port);
  });
  afterAll(() => hub?.stop());

  it('30 slow authenticated uploads (a few bytes per second) are closed after the request timeout; RSS stays flat', async () => {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    const uploads = await Promise.all(Array.from({ length: 30 }, () => slowUpload(port, hub.bearer, 4, 500, 20_000)));
    const rss1 = process.memoryUsage().rss;
    const worst = Math.max(...uploads.map((u) => u.closedMs));
    console.log(`30 slow uploads: closed after ${Math.round(Math.min(...uploads.map((u) => u.closedMs)))}-${Math.round(worst)} ms (requestTimeoutMs ${REQUEST_TIMEOUT_MS}); RSS ${Math.round(rss0 / 2 ** 20)} -> ${Math.round(rss1 / 2 ** 20)} MiB`);
    expect(worst).toBeLessThan(12_000); // timeout 2 s + the 0.5 s sweep, generous for a loaded machine
    for (const u of uploads) {
      expect(u.closedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 200);
      expect(u.status).toBe(408);
    }
    expect(rss1 - rss0).toBeLessThan(64 * 2 ** 20);
    // The hub is still there.
    expect((await fetch(`${baseUrlOf(hub)}/health`)).status).toBe(200);
  });

  it('a 408 is problem+json with code request-timeout', async () => {
    const res = await rawExchange(port, head('POST', '/ingest/urn:x', { host: `127.0.0.1:${port}`, authorization: hub.bearer, 'content-type': 'application/json', 'content-length': 100 }) + '{"a":', {
      waitMs: 12_000,
    });
    expect(res.status).toBe(408);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(JSON.parse(res.body)).toMatchObject({ status: 408, code: 'request-timeout' });
    expect(res.closed).toBe(true);
  });

  it('headers that never end are cut off by the headers timeout', async () => {
    const t0 = performance.now();
    const closed = await new Promise<number>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`));
      const tick = setInterval(() => socket.writable && socket.write('X'), 200);
      const timer = setTimeout(() => done(Infinity), 15_000);
      const done = (ms: number) => {
        clearInterval(tick);
        clearTimeout(timer);
        socket.destroy();
        resolve(ms);
      };
      socket.on('close', () => done(performance.now() - t0));
      socket.on('error', () => done(performance.now() - t0));
    });
    expect(closed).toBeLessThan(8000); // headersTimeoutMs 1 s + sweep
  });

  it('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const res = await rawExchange(port, head('GET', '/health', { host: `127.0.0.1:${port}` }), { waitMs: 10_000 });
    expect(res.status).toBe(200);
    expect(res.closed).toBe(true);
    expect(res.closeMs).toBeLessThan(5000); // 0.5 s keep-alive; fastify's default was 72 s
  });

  it('an event stream outlives the request timeout', async () => {
    const res = await rawExchange(port, head('GET', '/events', { host: `127.0.0.1:${port}`, accept: 'text/event-stream' }), {
      waitMs: REQUEST_TIMEOUT_MS * 2 + 1000,
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.closed).toBe(false);
  });
});

describe('idle timeout', () => {
  // idleTimeoutMs 1 s is raised to queryTimeoutMs + 5 s = 6 s; event streams then send a heartbeat every 2 s.
  let hub: TestHub;
  let port: number;
  beforeAll(async () => {
    hub = await startTestHub({ idleTimeoutMs: 1000, queryTimeoutMs: 1000 }, { listen: true });
    port = Number(new URL(baseUrlOf(hub)).port);
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.hasThing(DEVICE_ID) ? true : undefined), 5000, 'the Thing to be exposed');
  });
  afterAll(() => hub?.stop());

  it('closes a connection that went silent mid-request; quiet event streams live on by their heartbeats', async () => {
    const path = `/wot/${encodeURIComponent(DEVICE_ID)}`;
    const sse = (url: string) => rawExchange(port, head('GET', url, { host: `127.0.0.1:${port}` }), { waitMs: 9000 });
    const [stalled, events, observe] = await Promise.all([
      rawExchange(port, head('POST', '/ingest/urn:x', { host: `127.0.0.1:${port}`, authorization: hub.bearer, 'content-type': 'application/json', 'content-length': 100 }) + '{"a"', {
        waitMs: 15_000,
      }),
      sse('/events'),
      sse(`${path}/properties/temperature/observable`),
    ]);
    expect(stalled.closed).toBe(true);
    expect(stalled.closeMs).toBeGreaterThan(5000);
    expect(stalled.closeMs).toBeLessThan(14_000);
    for (const stream of [events, observe]) {
      expect(stream.status).toBe(200);
      expect(stream.closed).toBe(false); // still open after 9 s, past the 6 s idle timeout
      expect(stream.body.split(': heartbeat').length - 1).toBeGreaterThanOrEqual(2);
    }
  });
});
