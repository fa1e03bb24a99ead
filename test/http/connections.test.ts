// Issue 8 defect 4: 1,100 event streams from one client do not make the hub unreachable: per-client and total caps on
// streams (429/503 with Retry-After) and connections, shared by /events and the Things' SSE routes.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { TestHub } from '../helpers/hub.ts';
import { DEVICE_ID, deviceTd, waitFor } from '../things/fixtures.ts';
import { head, listeningHub, parseResponse, rawExchange } from './raw-http.ts';

interface Held {
  socket: Socket;
  status: () => number;
  text: () => string;
}

/** Opens a socket, sends `request`, and keeps it open; `status()` is the answer's status so far (0: none yet). */
function hold(port: number, request: string, localAddress?: string): Promise<Held> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => socket.write(request));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    const held = { socket, status: () => parseResponse(text).status, text: () => text };
    socket.once('connect', () => resolve(held));
    socket.once('close', () => resolve(held));
  });
}

describe('connection and event stream caps', () => {
  let hub: TestHub;
  let port: number;
  listeningHub((h, p) => ((hub = h), (port = p)));

  it('1,100 /events connections from one client: 16 streams, the rest refused; /health and other clients still answered', async () => {
    const request = head('GET', '/events', { host: `127.0.0.1:${port}`, accept: 'text/event-stream' });
    const flood: Held[] = [];
    // In waves of 100 so that the client side's own connect queue is not the bottleneck being measured.
    for (let wave = 0; wave < 11; wave++) flood.push(...(await Promise.all(Array.from({ length: 100 }, () => hold(port, request)))));
    await waitFor(() => (flood.every((h) => h.status() !== 0 || h.socket.destroyed) ? true : undefined), 20_000, 'every flood connection answered or closed');

    const streams = flood.filter((h) => h.status() === 200);
    const refused = flood.filter((h) => h.status() === 429);
    const dropped = flood.filter((h) => h.status() === 0);
    console.log(`1,100 /events from one client: ${streams.length} streams, ${refused.length} × 429, ${dropped.length} connections dropped`);
    expect(streams.length).toBe(16); // maxEventStreamsPerClient
    expect(streams.length + refused.length + dropped.length).toBe(1100);
    expect(refused.length).toBeGreaterThan(0);
    const problem = refused[0]!.text();
    expect(parseResponse(problem).headers['retry-after']).toMatch(/^\d+$/);
    expect(parseResponse(problem).headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(parseResponse(problem).body)).toMatchObject({ status: 429, code: 'too-many-streams' });

    // Another client (another loopback address) is served: /health, a read, and its own event stream.
    const t0 = performance.now();
    const health = await rawExchange(port, head('GET', '/health', { host: `127.0.0.1:${port}`, connection: 'close' }), { localAddress: '127.0.0.2' });
    expect(health.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(5000);
    const things = await rawExchange(port, head('GET', '/things', { host: `127.0.0.1:${port}`, connection: 'close' }), { localAddress: '127.0.0.2' });
    expect(things.status).toBe(200);
    const other = await rawExchange(port, request, { localAddress: '127.0.0.2', untilResponse: true });
    expect(other.status).toBe(200);
    // The flooding client itself can still ask for /health: its refused connections were closed.
    expect((await rawExchange(port, head('GET', '/health', { host: `127.0.0.1:${port}`, connection: 'close' }))).status).toBe(200);

    for (const h of flood) h.socket.destroy();
    // Slots come back when streams end.
    await new Promise((r) => setTimeout(r, 300));
    const again = await rawExchange(port, request, { untilResponse: true });
    expect(again.status).toBe(200);
  });

  it("the Things' observation and event streams count against the same per-client quota", async () => {
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.hasThing(DEVICE_ID) ? true : undefined), 5000, 'the Thing to be exposed');
    const path = `/wot/${encodeURIComponent(DEVICE_ID)}`;
    const open = (url: string) => hold(port, head('GET', url, { host: `127.0.0.1:${port}`, accept: 'text/event-stream' }));
    const held: Held[] = [];
    for (let i = 0; i < 8; i++) held.push(await open(`${path}/properties/temperature/observable`));
    for (let i = 0; i < 8; i++) held.push(await open(`${path}/events/uplink`));
    await waitFor(() => (held.every((h) => h.status() !== 0) ? true : undefined), 10_000, 'streams answered');
    expect(held.map((h) => h.status())).toEqual(Array(16).fill(200));
    for (const url of ['/events', `${path}/properties/humidity/observable`, `${path}/events/temperature`]) {
      const res = await rawExchange(port, head('GET', url, { host: `127.0.0.1:${port}`, accept: 'text/event-stream' }), { untilResponse: true });
      expect(res.status).toBe(429);
    }
    for (const h of held) h.socket.destroy();
  });

  it('connections beyond maxConnectionsPerClient are dropped; other clients connect', async () => {
    const idle: Socket[] = [];
    const opened = await Promise.all(
      Array.from(
        { length: 300 },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect({ host: '127.0.0.1', port });
            s.on('error', () => {});
            s.once('connect', () => resolve(s));
            s.once('close', () => resolve(s));
          }),
      ),
    );
    idle.push(...opened);
    // The client sees 'connect' once the kernel completed the handshake; the hub drops the excess when it accepts them.
    const countAlive = () => idle.filter((s) => !s.destroyed).length;
    await waitFor(() => (countAlive() <= 256 ? true : undefined), 15_000, 'the excess connections to be dropped').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const alive = countAlive();
    expect(alive).toBeLessThanOrEqual(256); // maxConnectionsPerClient
    expect(alive).toBeGreaterThan(200);
    const other = await rawExchange(port, head('GET', '/health', { host: `127.0.0.1:${port}`, connection: 'close' }), { localAddress: '127.0.0.3' });
    expect(other.status).toBe(200);
    for (const s of idle) s.destroy();
  });
});

describe('total caps', () => {
  let hub: TestHub;
  let port: number;
  listeningHub((h, p) => ((hub = h), (port = p)), { maxEventStreams: 3, maxConnections: 20 });

  it('maxEventStreams: beyond it 503 overloaded with Retry-After, whichever client asks', async () => {
    const request = head('GET', '/events', { host: `127.0.0.1:${port}` });
    const held = [await hold(port, request, '127.0.0.4'), await hold(port, request, '127.0.0.5'), await hold(port, request, '127.0.0.6')];
    await waitFor(() => (held.every((h) => h.status() === 200) ? true : undefined), 5000, 'three streams');
    const res = await rawExchange(port, request, { localAddress: '127.0.0.7' });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 503, code: 'overloaded' });
    for (const h of held) h.socket.destroy();
  });

  it('maxConnections: connections beyond it are dropped', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 30 }, (_, i) => hold(port, '', `127.0.1.${i + 1}`)),
    );
    const countAlive = () => sockets.filter((h) => !h.socket.destroyed).length;
    await waitFor(() => (countAlive() <= 20 ? true : undefined), 15_000, 'the excess connections to be dropped').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const alive = countAlive();
    expect(alive).toBeLessThanOrEqual(20);
    expect(alive).toBeGreaterThanOrEqual(15);
    for (const h of sockets) h.socket.destroy();
  });
});
