// The outbox in-process: two real hubs on loopback; bound policies (drop-oldest, refuse-newest), order upstream, pruning, minute aggregates, torn-tail recovery, config.
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser, Store } from 'n3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../hub/config.ts';
import { OutboxLog } from '../../hub/outbox/log.ts';
import { prepareBatch } from '../../hub/outbox/prune.ts';
import { Outbox, upstreamEndpoint } from '../../hub/outbox/index.ts';
import { baseUrlOf, freePort, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');
const SOSA = 'http://www.w3.org/ns/sosa/';
const NGSI = 'https://uri.etsi.org/ngsi-ld/';
const HUB = 'https://w3id.org/wot-hub#';
const ID = 'urn:dev:outbox:1';
const T0 = Date.parse('2026-06-01T08:00:00Z');
const MAPFILE = readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8');

// Two hubs start per test (store workers, Oxigraph): seconds each on a loaded 2-core machine.
vi.setConfig({ testTimeout: 90_000 });

const hubs: TestHub[] = [];
afterEach(async () => {
  await Promise.allSettled(hubs.splice(0).map((h) => h.stop()));
});

async function edgeHub(upPort: number, outbox: Record<string, unknown>): Promise<TestHub> {
  const edge = await startTestHub({ upstreamUrl: `http://127.0.0.1:${upPort}/`, upstreamToken: TEST_ADMIN_TOKEN, outbox: { maxBackoffMs: 300, ...outbox } }, { listen: true });
  hubs.push(edge);
  const put = await edge.app.inject({ method: 'PUT', url: '/mappings/lorawan-uplink', headers: { authorization: edge.bearer, 'content-type': 'text/turtle' }, payload: MAPFILE });
  expect(put.statusCode).toBe(201);
  edge.mapping.things.attach(ID, 'lorawan-uplink');
  return edge;
}

/**
 * The upstream hub of the file, on its own port; records, in arrival order, the temperature values each Graph Store POST
 * carries. linkDown() really stops its listener (connections closed), linkUp() listens again on the same port.
 */
let upstream: { hub: TestHub; port: number; arrivals: number[]; linkDown(): Promise<void>; linkUp(): Promise<void> };
beforeAll(async () => {
  const hub = await startTestHub({}, { listen: true });
  const port = Number(new URL(baseUrlOf(hub)).port);
  const arrivals: number[] = [];
  const post = hub.store.postGraph.bind(hub.store);
  hub.store.postGraph = async (graph, ntriples) => {
    const quads = new Parser({ format: 'N-Triples' }).parse(ntriples);
    const temperature = new Set(quads.filter((q) => q.predicate.value === `${SOSA}observedProperty` && q.object.value.endsWith('/properties/temperature')).map((q) => q.subject.value));
    for (const q of quads) if (q.predicate.value === `${SOSA}hasSimpleResult` && temperature.has(q.subject.value)) arrivals.push(Number(q.object.value));
    return post(graph, ntriples);
  };
  const server = hub.app.server;
  upstream = {
    hub,
    port,
    arrivals,
    linkDown: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    linkUp: () => new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => (server.off('error', reject), resolve()))),
  };
}, 120_000);
afterAll(async () => {
  if (upstream && !upstream.hub.app.server.listening) await upstream.linkUp().catch(() => {});
  await upstream?.hub.stop();
}, 120_000);
beforeEach(() => {
  upstream.arrivals.length = 0;
});

const ingest = (edge: TestHub, i: number) =>
  edge.app.inject({
    method: 'POST',
    url: `/ingest/${encodeURIComponent(ID)}`,
    headers: { authorization: edge.bearer },
    payload: { meta: { messageId: `m${i}`, observedAt: new Date(T0 + i * 1000).toISOString() }, payload: { decoded: { temperature: i, humidity: 40 + i } } },
  });

async function values(hub: TestHub, property: string, edge: TestHub): Promise<number[]> {
  const sensor = `${edge.config.baseUrl}/things/${encodeURIComponent(ID)}`;
  const rows = await hub.store.select(
    `SELECT ?v WHERE { GRAPH ?g { ?o <${SOSA}madeBySensor> <${sensor}> ; <${SOSA}observedProperty> <${sensor}/properties/${property}> ; <${SOSA}hasSimpleResult> ?v } } ORDER BY ?v`,
  );
  return rows.map((r) => Number(r.v!.value));
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met in ${timeoutMs} ms`);
}

describe('bound policies', () => {
  it('drop-oldest: a tiny bound keeps the newest 5 of 8, counts 3 dropped, then forwards those 5 in order', async () => {
    await upstream.linkDown();
    const edge = await edgeHub(upstream.port, { maxEntries: 5, whenFull: 'drop-oldest' });
    for (let i = 0; i < 8; i++) expect((await ingest(edge, i)).statusCode).toBe(200);
    const st = edge.outbox!.status();
    expect(st).toMatchObject({ queuedEntries: 5, whenFull: 'drop-oldest', maxEntries: 5 });
    expect(st.counters).toMatchObject({ enqueued: 8, dropped: 3, forwarded: 0 });
    // Locally every message is stored: the bound is the outbox's only.
    expect(await values(edge, 'temperature', edge)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await until(() => edge.outbox!.status().link === 'down');
    await upstream.linkUp();
    const { hub: up, arrivals } = upstream;
    await until(() => edge.outbox!.status().queuedEntries === 0);
    expect(await values(up, 'temperature', edge)).toEqual([3, 4, 5, 6, 7]);
    expect(arrivals).toEqual([3, 4, 5, 6, 7]);
    expect(edge.outbox!.status().counters).toMatchObject({ forwarded: 5, dropped: 3 });
  });

  it('refuse-newest: beyond the bound a message gets 503 outbox-full and is not stored locally either', async () => {
    await upstream.linkDown();
    const edge = await edgeHub(upstream.port, { maxEntries: 3, whenFull: 'refuse-newest' });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await ingest(edge, i));
    expect(statuses.map((r) => r.statusCode)).toEqual([200, 200, 200, 503, 503]);
    expect(statuses[3]!.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(statuses[3]!.json().type).toMatch(/outbox-full$/);
    expect(edge.outbox!.status().counters).toMatchObject({ enqueued: 3, refused: 2, dropped: 0 });
    expect(await values(edge, 'temperature', edge)).toEqual([0, 1, 2]);
    await upstream.linkUp();
    const up = upstream.hub;
    await until(() => edge.outbox!.status().queuedEntries === 0);
    // Room again: the refused message, sent again, is taken and forwarded.
    expect((await ingest(edge, 3)).statusCode).toBe(200);
    await until(async () => (await values(up, 'temperature', edge)).length === 4);
    expect(await values(up, 'temperature', edge)).toEqual([0, 1, 2, 3]);
  });

  it('forwards in order with small batches, and GET /outbox reports the status', async () => {
    const { hub: up, arrivals, port } = upstream;
    const edge = await edgeHub(port, { batchEntries: 3 });
    // Posted one after another while the forwarder runs: batches of 3 go out as the messages come in.
    for (let i = 0; i < 30; i++) expect((await ingest(edge, i)).statusCode).toBe(200);
    await until(() => edge.outbox!.status().queuedEntries === 0 && arrivals.length === 30);
    expect(arrivals).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const res = await edge.app.inject({ url: '/outbox', headers: { authorization: edge.bearer } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ upstream: `http://127.0.0.1:${port}/graph-store`, link: 'up', queuedEntries: 0, counters: { forwarded: 30 } });
    expect(res.json().counters.requests).toBeGreaterThanOrEqual(10);
    expect(await values(up, 'temperature', edge)).toHaveLength(30);
  });
});

describe('an upstream that refuses entries', () => {
  it('413 from the upstream: the batch is halved down to one entry, which is skipped and counted, so the queue never jams', async () => {
    const port = await freePort();
    // A real hub whose RDF write limit (1 KiB) is below one message (~4.7 kB of N-Triples).
    const up = await startTestHub({ httpPort: port, bodyLimit: 1024 }, { listen: true });
    hubs.push(up);
    const edge = await edgeHub(port, { batchEntries: 4 });
    for (let i = 0; i < 6; i++) expect((await ingest(edge, i)).statusCode).toBe(200);
    await until(() => edge.outbox!.status().queuedEntries === 0);
    const st = edge.outbox!.status();
    expect(st.counters).toMatchObject({ rejectedUpstream: 6, forwarded: 0 });
    expect(st.lastError).toBe('HTTP 413 from the upstream');
    expect(await values(up, 'temperature', edge)).toEqual([]);
  });
});

describe('pruning', () => {
  it('properties: only the chosen property travels (SOSA and NGSI-LD), the rest stays local', async () => {
    const up = upstream.hub;
    const edge = await edgeHub(upstream.port, { properties: ['temperature'] });
    for (let i = 0; i < 4; i++) await ingest(edge, i);
    await until(() => edge.outbox!.status().queuedEntries === 0);
    expect(await values(up, 'temperature', edge)).toEqual([0, 1, 2, 3]);
    expect(await values(up, 'humidity', edge)).toEqual([]);
    expect(await values(edge, 'humidity', edge)).toEqual([40, 41, 42, 43]);
    const ngsi = await up.store.select(
      `SELECT ?p (COUNT(?n) AS ?c) WHERE { GRAPH ?g { ?e ?p ?n . ?n a <${NGSI}Property> } FILTER(STRSTARTS(STR(?g), "${edge.config.baseUrl}/")) } GROUP BY ?p`,
    );
    expect(ngsi.map((r) => [r.p!.value, Number(r.c!.value)])).toEqual([[`${NGSI}default-context/temperature`, 4]]);
    expect(edge.outbox!.status().counters.prunedObservations).toBe(4);
  });

  it('minute aggregates: count, mean, min, max and unit per sensor, property and minute', async () => {
    const edge = await edgeHub(await freePort(), {});
    // 90 messages a second apart from 08:00:00: minutes 08:00 (60) and 08:01 (30).
    for (let i = 0; i < 90; i++) await ingest(edge, i);
    const log = edge.outbox!.log;
    const entries = await log.read(log.window(0, 1000, Infinity));
    expect(entries).toHaveLength(90);
    const out = prepareBatch(entries, { aggregate: 'minute', skolemBase: edge.config.baseUrl });
    expect(out.aggregates).toBe(4);
    const store = new Store();
    for (const nt of out.graphs.values()) store.addQuads(new Parser({ format: 'N-Triples' }).parse(nt));
    // No single observation travels, only the aggregates.
    const observations = store.getSubjects(`http://www.w3.org/1999/02/22-rdf-syntax-ns#type`, `${SOSA}Observation`, null).map((s) => s.value);
    expect(observations).toHaveLength(4);
    const one = (s: string, p: string) => store.getObjects(s, p, null)[0]?.value;
    const rows = observations.map((o) => ({
      property: one(o, `${SOSA}observedProperty`)!.split('/').pop(),
      count: Number(one(o, `${HUB}count`)),
      mean: Number(one(o, `${SOSA}hasSimpleResult`)),
      min: Number(one(o, `${HUB}minimum`)),
      max: Number(one(o, `${HUB}maximum`)),
      unit: one(o, 'http://qudt.org/schema/qudt/unit'),
      begin: one(one(one(o, `${SOSA}phenomenonTime`)!, 'http://www.w3.org/2006/time#hasBeginning')!, 'http://www.w3.org/2006/time#inXSDDateTimeStamp'),
    }));
    rows.sort((a, b) => `${a.property}${a.begin}`.localeCompare(`${b.property}${b.begin}`));
    expect(rows).toEqual([
      { property: 'humidity', count: 60, mean: 69.5, min: 40, max: 99, unit: 'http://qudt.org/vocab/unit/PERCENT', begin: '2026-06-01T08:00:00.000Z' },
      { property: 'humidity', count: 30, mean: 114.5, min: 100, max: 129, unit: 'http://qudt.org/vocab/unit/PERCENT', begin: '2026-06-01T08:01:00.000Z' },
      { property: 'temperature', count: 60, mean: 29.5, min: 0, max: 59, unit: 'http://qudt.org/vocab/unit/DEG_C', begin: '2026-06-01T08:00:00.000Z' },
      { property: 'temperature', count: 30, mean: 74.5, min: 60, max: 89, unit: 'http://qudt.org/vocab/unit/DEG_C', begin: '2026-06-01T08:01:00.000Z' },
    ]);
    // Deterministic: the same batch gives the same triples (a resend is harmless).
    const again = prepareBatch(entries, { aggregate: 'minute', skolemBase: edge.config.baseUrl });
    expect([...again.graphs.values()]).toEqual([...out.graphs.values()]);
    // Far fewer triples than the raw messages.
    expect(out.triples).toBeLessThan(prepareBatch(entries, { aggregate: 'none', skolemBase: edge.config.baseUrl }).triples / 20);

    // Forwarded in minute mode: only closed minutes go (entries appended two minutes ago), as the 4 aggregates.
    const dir = mkdtempSync(join(tmpdir(), 'outbox-minute-'));
    const outbox = new Outbox({
      dataDir: dir, endpoint: `http://127.0.0.1:${upstream.port}/graph-store`, token: TEST_ADMIN_TOKEN, baseUrl: edge.config.baseUrl, maxEntries: 1000, maxBytes: 1 << 24,
      whenFull: 'drop-oldest', batchEntries: 500, batchBytes: 1 << 24, minBackoffMs: 100, maxBackoffMs: 300, requestTimeoutMs: 15_000, aggregate: 'minute',
    });
    try {
      await outbox.open();
      for (const e of entries.slice(0, -1)) await outbox.log.append(e.graph, e.nquads, Date.now() - 120_000);
      await outbox.log.append(entries[89]!.graph, entries[89]!.nquads, Date.now()); // this minute: held back
      outbox.start();
      await until(() => outbox.status().queuedEntries === 1);
      const sensor = `${edge.config.baseUrl}/things/${encodeURIComponent(ID)}`;
      const agg = await upstream.hub.store.select(
        `SELECT ?p ?n ?mean WHERE { GRAPH ?g { ?a a <${HUB}MinuteAggregate> ; <${SOSA}madeBySensor> <${sensor}> ; <${SOSA}observedProperty> ?p ; <${HUB}count> ?n ; <${SOSA}hasSimpleResult> ?mean } } ORDER BY ?p ?n`,
      );
      // The last message (08:01:29) is held back with the open minute: 60 + 29 per property.
      expect(agg.map((r) => [r.p!.value.split('/').pop(), Number(r.n!.value), Number(r.mean!.value)])).toEqual([
        ['humidity', 29, 114], ['humidity', 60, 69.5],
        ['temperature', 29, 74], ['temperature', 60, 29.5],
      ]);
      expect(outbox.status().counters).toMatchObject({ forwarded: 89, aggregates: 4 });
      expect(await values(upstream.hub, 'temperature', edge)).toEqual([29.5, 74]);
    } finally {
      await outbox.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skolemises blank nodes deterministically', () => {
    const entries = [{ seq: 0, at: 0, graph: 'http://e/g', nquads: '_:mabc_b1 <http://x/p> "1" .\n<http://x/s> <http://x/q> _:mabc_b1 .\n' }];
    const a = prepareBatch(entries, { aggregate: 'none', skolemBase: 'http://edge' });
    expect(a.graphs.get('http://e/g')).toBe(prepareBatch(entries, { aggregate: 'none', skolemBase: 'http://edge' }).graphs.get('http://e/g'));
    expect(a.graphs.get('http://e/g')).toContain('<http://edge/.well-known/genid/mabc_b1> <http://x/p> "1" .');
    expect(a.graphs.get('http://e/g')).not.toContain('_:');
  });

  it('leaves out, counted, an entry an upstream N-Triples parser would refuse (fuzz finding: a relative IRI passed the line scanner)', () => {
    const good = { seq: 1, at: 0, graph: 'http://e/g', nquads: '<http://x/s> <http://x/p> "ok"@en-GB .\n' };
    for (const bad of ['<a> <b> <c> .\n', '<http://x/s> <http://x/p> "\\q" .\n', '<http://x/s> <http://x/p> "1"^^<int> .\n', '<http://x/s> <http://x/p> "x"@- .\n']) {
      const out = prepareBatch([{ seq: 0, at: 0, graph: 'http://e/g', nquads: bad }, good], { aggregate: 'none', skolemBase: 'http://edge' });
      expect(out.unreadable, bad).toBe(1);
      expect(out.graphs.get('http://e/g')).toBe('<http://x/s> <http://x/p> "ok"@en-GB .\n');
    }
  });
});

describe('the outbox log', () => {
  it('recovers after a torn tail: complete entries kept, the torn record cut, appends continue, the cursor holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-log-'));
    try {
      const log = new OutboxLog(dir);
      await log.open();
      for (let i = 0; i < 5; i++) await log.append('http://g', `<http://s/${i}> <http://p> "${i}" .\n`, 1000 + i);
      await log.advance(2, { forwarded: 2 });
      await log.close();
      const seg = readdirSync(join(dir, 'outbox')).find((n) => n.endsWith('.log'))!;
      appendFileSync(join(dir, 'outbox', seg), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 5])); // a record cut short
      const again = new OutboxLog(dir);
      const cut: unknown[] = [];
      again.onRecovered = (info) => cut.push(info);
      await again.open();
      expect(cut).toHaveLength(1);
      expect(again.length).toBe(3);
      expect(again.cursor).toMatchObject({ next: 2, forwarded: 2 });
      await again.append(null, '<http://s/5> <http://p> "5" .\n');
      const entries = await again.read(again.window(0, 100, Infinity));
      expect(entries.map((e) => e.seq)).toEqual([2, 3, 4, 5]);
      expect(entries[0]).toMatchObject({ graph: 'http://g', at: 1002, nquads: '<http://s/2> <http://p> "2" .\n' });
      expect(entries[3]!.graph).toBeNull();
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the outbox log across segments', () => {
  it('rotates at 4 MiB, deletes segments once every entry in them is done, and reopens with the rest in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-seg-'));
    try {
      const log = new OutboxLog(dir);
      await log.open();
      const filler = 'x'.repeat(4000);
      // 3,000 entries of ~4 kB: about 12 MB, three segments.
      for (let i = 0; i < 3000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, k) => log.append(null, `<http://s/${i + k}> <http://p> "${filler}" .\n`)));
      const segments = () => readdirSync(join(dir, 'outbox')).filter((n) => n.endsWith('.log'));
      expect(segments().length).toBeGreaterThanOrEqual(3);
      expect(log.length).toBe(3000);
      await log.advance(2500, { forwarded: 2500 });
      expect(segments().length).toBeLessThan(3);
      await log.close();
      const again = new OutboxLog(dir);
      await again.open();
      expect(again.length).toBe(500);
      const entries = await again.read(again.window(0, 10_000, Infinity));
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 500 }, (_, k) => 2500 + k));
      expect(entries[0]!.nquads).toContain('<http://s/2500>');
      await again.append(null, '<http://s/3000> <http://p> "y" .\n');
      expect((await again.read(again.window(3000, 1, Infinity)))[0]!.seq).toBe(3000);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config', () => {
  it('reads the upstream and outbox keys from env and flags; the token is a secret; the endpoint is <url>/graph-store', () => {
    const cfg = loadConfig({
      env: { HUB_UPSTREAM_URL: 'https://cloud.example/hub', HUB_UPSTREAM_TOKEN: 'up-secret', HUB_OUTBOX_MAX_ENTRIES: '10', HUB_OUTBOX_PROPERTIES: '["speed","rpm"]' },
      argv: ['--outbox-when-full', 'refuse-newest', '--outbox-aggregate', 'minute', '--outbox-max-backoff-ms', '5000'],
    });
    expect(cfg.upstreamUrl).toBe('https://cloud.example/hub');
    expect(cfg.outbox).toMatchObject({ maxEntries: 10, whenFull: 'refuse-newest', aggregate: 'minute', maxBackoffMs: 5000, properties: ['speed', 'rpm'], batchEntries: 200 });
    expect(loadConfig({}).outbox).toMatchObject({ whenFull: 'drop-oldest', aggregate: 'none', maxEntries: 1_000_000 });
    expect(loadConfig({}).upstreamUrl).toBeUndefined();
    let err: Error | undefined;
    try {
      loadConfig({ env: { HUB_UPSTREAM_URL: 'ftp://cloud.example', HUB_UPSTREAM_TOKEN: 'do-not-print-me' }, argv: ['--outbox-when-full', 'block'] });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(/\/upstreamUrl/);
    expect(err?.message).toMatch(/\/outbox\/whenFull/);
    expect(err?.message).not.toContain('do-not-print-me');
    expect(upstreamEndpoint('https://cloud.example/hub/')).toBe('https://cloud.example/hub/graph-store');
    expect(upstreamEndpoint('https://cloud.example/graph-store')).toBe('https://cloud.example/graph-store');
    expect(upstreamEndpoint('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/graph-store');
  });
});
