// The Directory class contract other services use (put/create/patch/get/list/delete/events), without HTTP.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Directory, type DirectoryEvent } from '../../hub/directory/directory.ts';
import { EventLog } from '../../hub/directory/event-log.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';
import { ValidationError, NotFoundError } from '../../hub/errors.ts';
import { sampleTd } from './fixtures.ts';

let directory: Directory;
let events: Array<[string, DirectoryEvent]>;
beforeEach(async () => {
  directory = new Directory({ store: new MemoryQuadStore(), baseUrl: 'http://h' });
  await directory.open();
  events = [];
  for (const type of ['thing_created', 'thing_updated', 'thing_deleted'] as const) directory.on(type, (e) => events.push([type, e]));
});
afterEach(() => directory.close());

describe('Directory', () => {
  it('put reports created then replaced, emits created/updated with the enriched TD and a diff carrying the id', async () => {
    expect((await directory.put('urn:d:1', sampleTd('urn:d:1'))).created).toBe(true);
    expect((await directory.put('urn:d:1', sampleTd('urn:d:1', 'Other'))).created).toBe(false);
    expect(events.map(([t]) => t)).toEqual(['thing_created', 'thing_updated']);
    expect(events[0]![1].td).toMatchObject({ id: 'urn:d:1', registration: { created: expect.any(String) } });
    expect(events[1]![1].diff).toMatchObject({ id: 'urn:d:1', title: 'Other' });
  });

  it('create assigns a urn:uuid v4 and refuses a TD with an id', async () => {
    const { id, td } = await directory.create(sampleTd(undefined));
    expect(id).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(td.id).toBe(id);
    await expect(directory.create(sampleTd('urn:d:x'))).rejects.toThrow(/PUT/);
  });

  it('patch merges, validates, keeps anonymous TDs anonymous; unknown ids are NotFoundError', async () => {
    const { id } = await directory.create(sampleTd(undefined));
    await directory.patch(id, { title: 'New' });
    expect((await directory.get(id))?.title).toBe('New');
    await expect(directory.patch(id, { title: 3 })).rejects.toBeInstanceOf(ValidationError);
    await expect(directory.patch('urn:none', { title: 'x' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('list pages in code point order with a total; delete emits thing_deleted once', async () => {
    for (const id of ['urn:d:c', 'urn:d:a', 'urn:d:b']) await directory.put(id, sampleTd(id));
    const page = await directory.list({ limit: 2, offset: 1 });
    expect(page.total).toBe(3);
    expect(page.items.map((t) => t.id)).toEqual(['urn:d:b', 'urn:d:c']);
    expect(await directory.delete('urn:d:a')).toBe(true);
    expect(await directory.delete('urn:d:a')).toBe(false);
    expect(events.filter(([t]) => t === 'thing_deleted')).toHaveLength(1);
  });

  it('concurrent writes are serialised: exactly one of two racing PUTs creates', async () => {
    const results = await Promise.all([directory.put('urn:d:r', sampleTd('urn:d:r')), directory.put('urn:d:r', sampleTd('urn:d:r', 'B'))]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect((await directory.get('urn:d:r'))?.title).toBe('B');
  });
});

describe('EventLog', () => {
  it('keeps a bounded history and replays what came after an id', async () => {
    const log = new EventLog(directory, 3, 1000);
    try {
      for (let i = 0; i < 5; i++) await directory.put(`urn:l:${i}`, sampleTd(`urn:l:${i}`));
      expect(log.since(0).map((e) => e.event.id)).toEqual(['urn:l:2', 'urn:l:3', 'urn:l:4']);
      expect(log.since(1004).map((e) => e.event.id)).toEqual(['urn:l:4']);
      expect(log.since(1005)).toEqual([]);
    } finally {
      log.close();
    }
  });
});
