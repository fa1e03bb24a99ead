// Notification API over a real HTTP connection: SSE at /events, type filters, ?diff=true, event ids, Last-Event-ID replay.
import { request, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrlOf, startTestHub, type TestHub } from '../helpers/hub.ts';
import { putTd, sampleTd, thingUrl } from './fixtures.ts';
import { Directory } from '../../hub/directory/directory.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';
import type { HubDeps } from '../../hub/http/deps.ts';

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** A minimal SSE client on node:http: collects events and comment lines until closed. */
class SseClient {
  events: SseEvent[] = [];
  comments: string[] = [];
  private res?: IncomingMessage;
  private buffer = '';
  private waiters: Array<() => void> = [];
  status = 0;
  contentType = '';

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        client.res = res;
        client.status = res.statusCode ?? 0;
        client.contentType = String(res.headers['content-type']);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => client.feed(chunk));
        // Resolve once the server's first comment arrives: from then on the subscription is live.
        client.until(() => client.comments.length > 0, 5000).then(() => resolve(client), reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let at: number;
    while ((at = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      const ev: SseEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else {
          const [k, ...rest] = line.split(':');
          (ev as Record<string, string>)[k!] = rest.join(':').replace(/^ /, '');
        }
      }
      if (ev.event || ev.data) this.events.push(ev);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits (bounded) until the predicate holds. */
  until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`SSE wait timed out; got ${JSON.stringify(this.events)}`)), timeoutMs);
      const check = () => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  close(): void {
    this.res?.destroy();
  }
}

let hub: TestHub;
let base: string;
beforeAll(async () => {
  hub = await startTestHub({}, { listen: true });
  base = baseUrlOf(hub);
});
afterAll(() => hub?.stop());

describe('SSE notifications', () => {
  it('tdd-notification tdd-notification-sse tdd-notification-event-types tdd-notification-data tdd-notification-data-td-id tdd-notification-event-id: create, update, delete in order with ids', async () => {
    const sse = await SseClient.open(`${base}/events`);
    try {
      expect(sse.status).toBe(200);
      expect(sse.contentType).toMatch(/^text\/event-stream/);
      await putTd(hub, 'urn:ev:1', sampleTd('urn:ev:1'));
      await putTd(hub, 'urn:ev:1', sampleTd('urn:ev:1', 'Changed'));
      await hub.app.inject({ method: 'DELETE', url: thingUrl('urn:ev:1'), headers: { authorization: hub.bearer } });
      await sse.until(() => sse.events.length >= 3);
      expect(sse.events.map((e) => e.event)).toEqual(['thing_created', 'thing_updated', 'thing_deleted']);
      for (const e of sse.events) expect(JSON.parse(e.data!)).toEqual({ id: 'urn:ev:1' });
      const ids = sse.events.map((e) => Number(e.id));
      expect(ids[1]).toBeGreaterThan(ids[0]!);
      expect(ids[2]).toBeGreaterThan(ids[1]!);
    } finally {
      sse.close();
    }
  });

  it('tdd-notification-filter-type tdd-notification-data-create-full tdd-notification-data-update-diff tdd-notification-data-update-id tdd-notification-data-delete-diff: ?diff=true per type', async () => {
    const created = await SseClient.open(`${base}/events/thing_created?diff=true`);
    const updated = await SseClient.open(`${base}/events/thing_updated?diff=true`);
    const deleted = await SseClient.open(`${base}/events/thing_deleted?diff=true`);
    try {
      await putTd(hub, 'urn:ev:2', sampleTd('urn:ev:2'));
      await hub.app.inject({ method: 'PATCH', url: thingUrl('urn:ev:2'), headers: { authorization: hub.bearer, 'content-type': 'application/merge-patch+json' }, payload: '{"title":"Patched"}' });
      await hub.app.inject({ method: 'DELETE', url: thingUrl('urn:ev:2'), headers: { authorization: hub.bearer } });
      await created.until(() => created.events.length >= 1);
      await updated.until(() => updated.events.length >= 1);
      await deleted.until(() => deleted.events.length >= 1);
      const full = JSON.parse(created.events[0]!.data!);
      expect(full).toMatchObject({ id: 'urn:ev:2', title: 'Lamp', properties: sampleTd('x').properties });
      const diff = JSON.parse(updated.events[0]!.data!);
      expect(diff.id).toBe('urn:ev:2');
      expect(diff.title).toBe('Patched');
      expect(diff.properties).toBeUndefined();
      expect(JSON.parse(deleted.events[0]!.data!)).toEqual({ id: 'urn:ev:2' });
      expect(created.events.every((e) => e.event === 'thing_created')).toBe(true);
      expect(updated.events.every((e) => e.event === 'thing_updated')).toBe(true);
    } finally {
      created.close();
      updated.close();
      deleted.close();
    }
  });

  it('tdd-notification-event-id: a client reconnecting with Last-Event-ID gets every missed event', async () => {
    const first = await SseClient.open(`${base}/events/thing_created`);
    await putTd(hub, 'urn:ev:r1', sampleTd('urn:ev:r1'));
    await first.until(() => first.events.length >= 1);
    first.close();
    const lastId = first.events[0]!.id!;
    await putTd(hub, 'urn:ev:r2', sampleTd('urn:ev:r2'));
    await putTd(hub, 'urn:ev:r3', sampleTd('urn:ev:r3'));
    const again = await SseClient.open(`${base}/events/thing_created`, { 'last-event-id': lastId });
    try {
      await again.until(() => again.events.length >= 2);
      expect(again.events.map((e) => JSON.parse(e.data!).id)).toEqual(['urn:ev:r2', 'urn:ev:r3']);
    } finally {
      again.close();
    }
  });

  it('an unknown event type is 400 and streams end when the client goes away', async () => {
    const res = await hub.app.inject({ url: '/events/thing_exploded' });
    expect(res.statusCode).toBe(400);
    const sse = await SseClient.open(`${base}/events`);
    sse.close();
    await new Promise((r) => setTimeout(r, 50));
    expect((await putTd(hub, 'urn:ev:after', sampleTd('urn:ev:after'))).statusCode).toBe(201);
  });
});

describe('heartbeat', () => {
  it('sends comment lines on idle connections', async () => {
    // The plugin's default is 15 s; drive a short heartbeat through a bare app on a bare Directory to keep this fast.
    const { default: Fastify } = await import('fastify');
    const { eventsRoutes } = await import('../../hub/directory/events-routes.ts');
    const directory = new Directory({ store: new MemoryQuadStore(), baseUrl: 'http://127.0.0.1' });
    const app = Fastify();
    const deps = { directory, auth: { require: () => async () => undefined } } as unknown as HubDeps;
    await app.register(async (child) => eventsRoutes(child, deps, { heartbeatMs: 50 }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const sse = await SseClient.open(`http://127.0.0.1:${port}/events`);
    try {
      await sse.until(() => sse.comments.filter((c) => c === 'heartbeat').length >= 2, 3000);
    } finally {
      sse.close();
      await app.close();
      await directory.close();
    }
  });
});
