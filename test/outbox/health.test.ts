// GET /health carries the outbox's link (idle, then down while the upstream is unreachable), next to the store.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startTestHub, type TestHub } from '../helpers/hub.ts';

const ID = 'urn:dev:outbox:health';
const MAPFILE = readFileSync(new URL('../../mappings/lorawan-uplink.ttl', import.meta.url), 'utf8');

let hub: TestHub;
let noHub: TestHub;
beforeAll(async () => {
  // A port nothing listens on: every forward fails at once (connection refused).
  const closed = await freePort();
  hub = await startTestHub({ upstreamUrl: `http://127.0.0.1:${closed}`, upstreamToken: 'upstream-token-0123456789abcdef', outbox: { maxBackoffMs: 300 } }, { listen: true });
  noHub = await startTestHub();
  const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-uplink', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: MAPFILE });
  expect(put.statusCode).toBe(201);
  hub.mapping.things.attach(ID, 'lorawan-uplink');
}, 90_000);
afterAll(async () => {
  await hub?.stop();
  await noHub?.stop();
});

it('shows the outbox link and queue on /health, and nothing of it without an upstream', async () => {
  const first = (await hub.app.inject({ url: '/health' })).json();
  expect(first.status).toBe('ok');
  expect(first.outbox).toMatchObject({ queuedEntries: 0, oldestAgeMs: 0 });
  expect(['idle', 'down']).toContain(first.outbox.link);
  expect((await noHub.app.inject({ url: '/health' })).json()).not.toHaveProperty('outbox');
  // One observation queued for the unreachable upstream: the link goes down and the entry stays queued.
  const r = await hub.app.inject({
    method: 'POST',
    url: `/ingest/${encodeURIComponent(ID)}`,
    headers: { authorization: hub.bearer },
    payload: { meta: { messageId: 'm1', observedAt: '2026-12-02T08:00:00Z' }, payload: { decoded: { temperature: 21.5 } } },
  });
  expect(r.statusCode).toBe(200);
  await expect.poll(async () => (await hub.app.inject({ url: '/health' })).json().outbox.link, { timeout: 10_000 }).toBe('down');
  const down = (await hub.app.inject({ url: '/health' })).json().outbox;
  expect(down.queuedEntries).toBe(1);
  expect(down.lastError).toMatch(/\S/);
});
