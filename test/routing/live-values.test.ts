// A Thing's property values follow its mapped observations: ingest a LoRaWAN uplink, read the properties it observed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveState } from '../../hub/routing/live-state.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');
const ID = 'urn:dev:lorawan:0004A30B001C0530';

describe('LiveState values', () => {
  it('prefers mapped values over payload fields over envelope fields', () => {
    const live = new LiveState();
    live.publish(
      { meta: { thingId: 't', protocol: 'x', interface: 'tts', receivedAt: '2026-01-01T00:00:00Z' }, payload: { a: 1, b: 2, lastInterface: 'payload' } },
      { b: 20 },
    );
    expect(live.property('t', 'a')).toBe(1);
    expect(live.property('t', 'b')).toBe(20);
    expect(live.property('t', 'lastSeen')).toBe('2026-01-01T00:00:00Z');
    expect(live.property('t', 'lastInterface')).toBe('payload');
    expect(live.property('t', 'toString')).toBeUndefined();
    expect(live.property('other', 'a')).toBeUndefined();
  });
});

describe('property values from mapped observations (mapfile -> SOSA -> WoT property)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
    const auth = { authorization: hub.bearer };
    const put = await hub.app.inject({
      method: 'PUT',
      url: '/mappings/lorawan-uplink',
      headers: { ...auth, 'content-type': 'text/turtle' },
      payload: readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8'),
    });
    expect(put.statusCode).toBe(201);
    const td = await hub.app.inject({
      method: 'POST',
      url: '/thing-models/lorawan-sensor/instantiate?register=true',
      headers: auth,
      payload: { id: ID, placeholders: { TITLE: 'Field sensor 1', DEV_EUI: '0004A30B001C0530', FPORT: 1, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink', DEV_ADDR: '', PAYLOAD_CODEC: 'network-server' } },
    });
    expect(td.statusCode).toBe(201);
  });
  afterAll(() => hub?.stop());

  it('reads the decoded temperature, the radio figures and lastSeen after one uplink', async () => {
    const before = await hub.app.inject({ method: 'GET', url: `/wot/${encodeURIComponent(ID)}/properties/temperature` });
    expect(before.statusCode).toBe(404);
    const { payload } = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/mapping/lorawan-uplink.tts.message.json'), 'utf8'));
    const ingest = await hub.app.inject({ method: 'POST', url: `/ingest/${encodeURIComponent(ID)}`, headers: { authorization: hub.bearer }, payload });
    expect(ingest.statusCode).toBe(200);
    expect(ingest.json()).toMatchObject({ status: 'stored', mapping: 'lorawan-uplink' });
    const read = async (name: string) => {
      const res = await hub.app.inject({ method: 'GET', url: `/wot/${encodeURIComponent(ID)}/properties/${name}` });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(200);
      return res.json();
    };
    expect(await read('temperature')).toBe(1);
    expect(await read('rssi')).toBe(-35);
    expect(await read('snr')).toBe(5);
    expect(typeof (await read('lastSeen'))).toBe('string');
  });
});
