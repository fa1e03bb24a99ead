// Which mapfile a Thing uses: its TD's `mapping` / `hub:mapping` member, followed through directory events.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { mappingOfTd, ThingMappings } from '../../hub/mapping/thing-mappings.ts';

describe('ThingMappings', () => {
  it('reads the mapfile name from a TD in every accepted form', () => {
    expect(mappingOfTd({ 'hub:mapping': 'lorawan-uplink' })).toBe('lorawan-uplink');
    expect(mappingOfTd({ mapping: 'http://hub/mappings/obd-pid' })).toBe('obd-pid');
    expect(mappingOfTd({ 'hub:mapping': { '@id': 'http://hub/mappings/cookie' } })).toBe('cookie');
    expect(mappingOfTd({ title: 'x' })).toBeUndefined();
  });

  it('follows created, updated and deleted TDs; an attachment wins', async () => {
    const events = new EventEmitter();
    const directory = { on: (t: string, l: (e: { id: string; td?: Record<string, unknown> }) => void) => events.on(t, l), all: async () => [{ id: 'a', 'hub:mapping': 'm1' }] };
    const things = new ThingMappings();
    await things.follow(directory);
    expect(things.resolve('a')).toBe('m1');
    events.emit('thing_created', { id: 'b', td: { id: 'b', mapping: 'm2' } });
    events.emit('thing_updated', { id: 'a', td: { id: 'a', 'hub:mapping': 'm3' } });
    expect([things.resolve('a'), things.resolve('b')]).toEqual(['m3', 'm2']);
    things.attach('a', 'override');
    expect(things.resolve('a')).toBe('override');
    expect(things.detach('a')).toBe(true);
    events.emit('thing_deleted', { id: 'a' });
    expect(things.resolve('a')).toBeUndefined();
  });
});
