// Edge to cloud over loopback with real processes: the upstream hub stopped for 30 s and restarted, then the edge hub killed -9 with a full outbox.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/hub.ts';
import { ADMIN, auth, killAll, select, startHubProcess, type HubProcess } from './processes.ts';

const ROOT = join(import.meta.dirname, '../..');
const SOSA = 'http://www.w3.org/ns/sosa/';
const ID = 'urn:dev:vehicle:outbox-1';
const T0 = Date.parse('2026-06-01T08:00:00Z');

let upDir: string;
let edgeDir: string;
let upPort: number;
let edgePort: number;
let upstream: HubProcess;
let edge: HubProcess;
let sent = 0;

const edgeEnv = () => ({ HUB_UPSTREAM_URL: `http://127.0.0.1:${upPort}`, HUB_UPSTREAM_TOKEN: ADMIN, HUB_OUTBOX_MAX_BACKOFF_MS: '2000' });

async function ingest(i: number): Promise<void> {
  const res = await fetch(`${edge.url}/ingest/${encodeURIComponent(ID)}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ meta: { messageId: `m${i}`, observedAt: new Date(T0 + i * 1000).toISOString() }, payload: { decoded: { temperature: i, humidity: 40 + (i % 10) } } }),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status, await res.text()).toBe(200);
}

const sensor = () => `http://127.0.0.1:${edgePort}/things/${encodeURIComponent(ID)}`;

/** Upstream figures of the edge Thing's temperature observations. */
async function upstreamFigures(): Promise<{ observations: number; results: number; distinct: number; min: number; max: number; sum: number }> {
  const [b] = await select(
    upstream.url,
    `SELECT (COUNT(DISTINCT ?o) AS ?obs) (COUNT(?v) AS ?results) (COUNT(DISTINCT ?v) AS ?distinct) (MIN(?v) AS ?min) (MAX(?v) AS ?max) (SUM(?v) AS ?sum)
     WHERE { GRAPH ?g { ?o <${SOSA}madeBySensor> <${sensor()}> ; <${SOSA}observedProperty> <${sensor()}/properties/temperature> ; <${SOSA}hasSimpleResult> ?v } }`,
  );
  const n = (k: string) => Number(b?.[k]?.value ?? 0);
  return { observations: n('obs'), results: n('results'), distinct: n('distinct'), min: n('min'), max: n('max'), sum: n('sum') };
}

async function waitForUpstream(count: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = -1;
  while (Date.now() < end) {
    last = (await upstreamFigures()).observations;
    if (last >= count) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`upstream has ${last} of ${count} observations after ${timeoutMs} ms`);
}

async function outbox(): Promise<Record<string, any>> {
  const res = await fetch(`${edge.url}/outbox`, { headers: auth, signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return res.json();
}

/**
 * The outbox once the edge has the upstream's answer to what it sent. The upstream's store makes a batch visible to
 * SPARQL before its log sync acknowledges it, so an upstream query can see a batch whose response the edge has not
 * yet read (CI: 124 entries still queued right after the upstream showed all of them).
 */
async function settledOutbox(timeoutMs = 20_000): Promise<Record<string, any>> {
  const end = Date.now() + timeoutMs;
  let o = await outbox();
  while (o.queuedEntries !== 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    o = await outbox();
  }
  return o;
}

function expectExactlyOnce(f: Awaited<ReturnType<typeof upstreamFigures>>, n: number): void {
  // n observations, one result each, the values 0..n-1 each once.
  expect(f).toEqual({ observations: n, results: n, distinct: n, min: 0, max: n - 1, sum: (n * (n - 1)) / 2 });
}

beforeAll(async () => {
  upDir = mkdtempSync(join(tmpdir(), 'outbox-up-'));
  edgeDir = mkdtempSync(join(tmpdir(), 'outbox-edge-'));
  upPort = await freePort();
  edgePort = await freePort();
  [upstream, edge] = await Promise.all([startHubProcess(upDir, upPort), startHubProcess(edgeDir, edgePort, edgeEnv())]);
  const put = await fetch(`${edge.url}/mappings/lorawan-uplink`, { method: 'PUT', headers: { ...auth, 'content-type': 'text/turtle' }, body: readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8') });
  expect(put.status).toBe(201);
  const td = { '@context': 'https://www.w3.org/2022/wot/td/v1.1', id: ID, title: 'Vehicle', securityDefinitions: { nosec_sc: { scheme: 'nosec' } }, security: 'nosec_sc', mapping: 'lorawan-uplink' };
  const reg = await fetch(`${edge.url}/things/${encodeURIComponent(ID)}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/td+json' }, body: JSON.stringify(td) });
  expect(reg.status, await reg.text()).toBeLessThan(300);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([edge?.stop(), upstream?.stop()]);
  killAll();
  for (const d of [upDir, edgeDir]) if (d) rmSync(d, { recursive: true, force: true });
}, 120_000);

describe('edge hub -> upstream hub through the durable outbox', () => {
  it('forwards while the link is up, buffers through a 30 s stop of the upstream, then delivers every observation once', async () => {
    for (; sent < 20; sent++) await ingest(sent);
    await waitForUpstream(20, 20_000);
    expectExactlyOnce(await upstreamFigures(), 20);
    // The upstream has stored all 20; wait until the edge has its answer too, or entries of a batch whose response the
    // stop cuts off stay queued (and are resent, harmlessly) and the count below is off by that batch.
    expect((await settledOutbox()).queuedEntries).toBe(0);

    await upstream.stop();
    const outageEnd = Date.now() + 30_000;
    let during: Record<string, any> | undefined;
    while (Date.now() < outageEnd) {
      await ingest(sent++);
      await new Promise((r) => setTimeout(r, 250));
      if (!during && sent > 40) during = await outbox();
    }
    const down = await outbox();
    expect(down.link).toBe('down');
    // Everything ingested since the stop is queued (at least one message per 250 ms + its round trip).
    expect(down.queuedEntries).toBe(sent - 20);
    expect(sent - 20).toBeGreaterThan(20);
    expect(down.oldestAgeMs).toBeGreaterThan(25_000);
    expect(down.lastError).toMatch(/network|ECONNREFUSED/);
    expect(down.counters.failedRequests).toBeGreaterThan(3);
    // Backoff is bounded by maxBackoffMs (2 s here) and jittered into [b/2, b].
    expect(down.backoffMs).toBeGreaterThanOrEqual(1000);
    expect(down.backoffMs).toBeLessThanOrEqual(2000);
    expect(during!.queuedEntries).toBeGreaterThan(0);

    upstream = await startHubProcess(upDir, upPort);
    for (let k = 0; k < 10; k++) await ingest(sent++);
    await waitForUpstream(sent, 60_000);
    expectExactlyOnce(await upstreamFigures(), sent);
    const after = await settledOutbox();
    expect(after).toMatchObject({ link: 'up', queuedEntries: 0, queuedBytes: 0, oldestAgeMs: 0 });
    expect(after.counters).toMatchObject({ enqueued: sent, forwarded: sent, dropped: 0, refused: 0 });
    expect(Date.parse(after.lastSuccessAt)).toBeGreaterThan(Date.parse(down.lastErrorAt));
  }, 300_000);

  it('kill -9 of the edge hub with a non-empty outbox: after a restart the rest arrives, nothing twice', async () => {
    const before = sent;
    await upstream.stop();
    for (let k = 0; k < 40; k++) await ingest(sent++);
    const queued = await outbox();
    expect(queued.queuedEntries).toBe(40);
    await edge.kill9();
    upstream = await startHubProcess(upDir, upPort);
    expectExactlyOnce(await upstreamFigures(), before);
    edge = await startHubProcess(edgeDir, edgePort, edgeEnv());
    await waitForUpstream(sent, 60_000);
    expectExactlyOnce(await upstreamFigures(), sent);
    const after = await settledOutbox();
    expect(after.queuedEntries).toBe(0);
    // forwarded is persisted with the cursor: the count survives the kill.
    expect(after.counters.forwarded).toBe(sent);
  }, 300_000);
});
