// Persistence across a hub restart (exact JSON round-trip, RDF graphs restored) and registration expiry with a fake clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Directory, type DirectoryEvent } from '../../hub/directory/directory.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';
import { thingGraph } from '../../hub/store/graphs.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { putTd, sampleTd, thingUrl } from './fixtures.ts';

const dirs: string[] = [];
const hubs: TestHub[] = [];
afterEach(async () => {
  for (const h of hubs.splice(0)) await h.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hub-dir-'));
  dirs.push(d);
  return d;
}

describe('persistence', () => {
  it('TDs survive a restart and round-trip exactly (key order, numbers, unicode), with their RDF graph', async () => {
    const dataDir = tempDir();
    const td = { ...sampleTd('urn:p:1'), zeta: 1.5e-7, 'ünïcode': '✓', description: 'line\nbreak', alpha: [3, 2, 1] };
    const first = await startTestHub({}, { dataDir });
    hubs.push(first);
    expect((await putTd(first, 'urn:p:1', td)).statusCode).toBe(201);
    const anon = await first.app.inject({ method: 'POST', url: '/things', headers: { authorization: first.bearer, 'content-type': 'application/td+json' }, payload: JSON.stringify(sampleTd(undefined, 'Anon')) });
    const before = (await first.app.inject({ url: thingUrl('urn:p:1') })).json();
    await first.stop();
    hubs.pop();

    const second = await startTestHub({}, { dataDir });
    hubs.push(second);
    const after = (await second.app.inject({ url: thingUrl('urn:p:1') })).json();
    const { registration: r1, ...a } = after;
    const { registration: r0, ...b } = before;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(r1.created).toBe(r0.created);
    expect(r1.modified).toBe(r0.modified);
    expect(await second.store.hasGraph(thingGraph(second.config.baseUrl, 'urn:p:1'))).toBe(true);
    expect((await second.app.inject({ url: anon.headers.location as string })).json().title).toBe('Anon');
    const search = await second.app.inject({ url: `/search/sparql?query=${encodeURIComponent('ASK { <urn:p:1> ?p ?o }')}` });
    expect(search.json().boolean).toBe(true);
  });

  it('a deleted TD stays deleted after a restart', async () => {
    const dataDir = tempDir();
    const first = await startTestHub({}, { dataDir });
    hubs.push(first);
    await putTd(first, 'urn:p:gone', sampleTd('urn:p:gone'));
    await first.app.inject({ method: 'DELETE', url: thingUrl('urn:p:gone'), headers: { authorization: first.bearer } });
    await first.stop();
    hubs.pop();
    const second = await startTestHub({}, { dataDir });
    hubs.push(second);
    expect((await second.app.inject({ url: thingUrl('urn:p:gone') })).statusCode).toBe(404);
  });
});

describe('registration expiry (tdd-registrationinfo-expiry-purge tdd-absolute-time)', () => {
  it('a TD with ttl expires: invisible at once, purged from the store, thing_deleted emitted', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const store = new MemoryQuadStore();
    const directory = new Directory({ store, baseUrl: 'http://h', clock: () => now });
    await directory.open();
    const deleted: DirectoryEvent[] = [];
    directory.on('thing_deleted', (e) => deleted.push(e));
    try {
      const { td } = await directory.put('urn:e:1', { ...sampleTd('urn:e:1'), registration: { ttl: 60 } });
      expect(td.registration).toEqual({ created: '2026-01-01T00:00:00.000Z', modified: '2026-01-01T00:00:00.000Z', expires: '2026-01-01T00:01:00.000Z', ttl: 60 });
      await directory.put('urn:e:2', { ...sampleTd('urn:e:2'), registration: { expires: '2026-01-01T00:00:30+00:00' } });
      await directory.put('urn:e:3', sampleTd('urn:e:3'));
      now = new Date('2026-01-01T00:00:45Z');
      expect(await directory.get('urn:e:2')).toBeUndefined();
      expect(await directory.get('urn:e:1')).toBeDefined();
      now = new Date('2026-01-01T00:02:00Z');
      expect((await directory.list()).items.map((t) => t.id)).toEqual(['urn:e:3']);
      expect(await directory.purgeExpired()).toBe(0);
      expect(deleted.map((e) => e.id).sort()).toEqual(['urn:e:1', 'urn:e:2']);
      expect(await store.hasGraph(thingGraph('http://h', 'urn:e:1'))).toBe(false);
      expect(directory.size).toBe(1);
    } finally {
      await directory.close();
    }
  });

  it('expired TDs are purged on open', async () => {
    const dataDir = tempDir();
    let now = new Date('2026-01-01T00:00:00Z');
    const store = new MemoryQuadStore();
    const d1 = new Directory({ store, baseUrl: 'http://h', clock: () => now, dataDir });
    await d1.open();
    await d1.put('urn:e:x', { ...sampleTd('urn:e:x'), registration: { ttl: 10 } });
    await d1.close();
    now = new Date('2026-01-01T01:00:00Z');
    const d2 = new Directory({ store: new MemoryQuadStore(), baseUrl: 'http://h', clock: () => now, dataDir });
    await d2.open();
    expect(d2.size).toBe(0);
    await d2.close();
  });
});
