// The device-key index: TD forms (hub TM, FLINT), codec chains, O(1) lookups, conflicts, and following the directory.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceIndex, entriesOfTd } from '../../hub/routing/device-index.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const FLINT_TD = '/work/shared/examples/flint/td_head/8000.json';

const td = (devEui: string, extra: Record<string, unknown> = {}) => ({
  'hub:ioAdapterDefinitions': [{ uuid: 'urn:wot-hub:adapter:lorawan', deviceDefinitions: { keyType: 'devEui', deviceKey: devEui, ...extra } }],
});

describe('entriesOfTd', () => {
  it('reads the hub TM form, a devAddr beside the devEui, and the payload codec', () => {
    const entries = entriesOfTd('t1', td('70-b3-d5-7e-d0-00-00-01', { devAddr: '260b1234', payloadCodec: 'cayenne-lpp', interfaceType: 'beacon' }));
    expect(entries.map((e) => [e.keyType, e.deviceKey])).toEqual([['devEui', '70B3D57ED0000001'], ['devAddr', '260B1234']]);
    expect(entries[0]).toMatchObject({ thingId: 't1', adapterId: 'urn:wot-hub:adapter:lorawan', interfaceType: 'beacon', codecs: ['cayenne-lpp'] });
    expect(entriesOfTd('t1', td('01', { payloadCodec: ['schc', 'senml-json'] }))[0]!.codecs).toEqual(['schc', 'senml-json']);
    expect(entriesOfTd('t1', td('01', { payloadCodec: 'network-server' }))[0]!.codecs).toEqual([]);
    // An unset devAddr (an OTAA device) is no claim.
    expect(entriesOfTd('t1', td('01', { devAddr: '' }))).toHaveLength(1);
  });

  it('reads FLINT TDs (unprefixed members, deviceDefinitions.mac, downlinkType)', () => {
    const flint = JSON.parse(readFileSync(FLINT_TD, 'utf8'));
    const [entry, ...rest] = entriesOfTd(flint.id, flint);
    expect(rest).toHaveLength(0);
    expect(entry).toMatchObject({ keyType: 'mac', deviceKey: '0000000000008000', adapterId: 'urn:uuid:4c960148-31ac-4de7-bada-918a99bdc29f', interfaceType: 'continuous', codecs: [] });
  });

  it('takes codecs from the uplink chain of adapterScheme (urn:wot-hub:codec:<name>) before payloadCodec', () => {
    const t = {
      ...td('01', { payloadCodec: 'cayenne-lpp' }),
      'hub:adapterScheme': [
        [['urn:wot-hub:adapter:mapping'], ['urn:wot-hub:adapter:lorawan']],
        [['urn:wot-hub:adapter:lorawan'], ['urn:wot-hub:codec:schc'], ['urn:wot-hub:codec:senml-json', 'urn:x:other'], ['urn:wot-hub:adapter:mapping']],
      ],
    };
    expect(entriesOfTd('t', t)[0]!.codecs).toEqual(['schc', 'senml-json']);
  });

  it('skips and counts malformed members without throwing', () => {
    const skipped = { count: 0 };
    const bad = {
      ioAdapterDefinitions: [null, 7, { uuid: 5, deviceDefinitions: {} }, { uuid: 'u', deviceDefinitions: 'x' }, { uuid: 'u', deviceDefinitions: { keyType: 'devEui', deviceKey: { a: 1 } } },
        { uuid: 'u', deviceDefinitions: { keyType: 'devEui', deviceKey: 'A'.repeat(300) } }, { uuid: 'ok', deviceDefinitions: { keyType: 'devEui', deviceKey: '02' } }],
    };
    expect(entriesOfTd('t', bad, skipped).map((e) => e.adapterId)).toEqual(['ok']);
    expect(skipped.count).toBe(6);
    expect(entriesOfTd('t', { ioAdapterDefinitions: 'nope' }, skipped)).toEqual([]);
    expect(skipped.count).toBe(7);
  });
});

describe('DeviceIndex', () => {
  it('looks keys up in any spelling, and FLINT mac keys for a devEui or Sigfox id', () => {
    const index = new DeviceIndex();
    index.put('a', td('70b3d57ed0000001'));
    index.put('flint', JSON.parse(readFileSync(FLINT_TD, 'utf8')));
    expect(index.lookup('devEui', '70:B3:D5:7E:D0:00:00:01')?.thingId).toBe('a');
    expect(index.lookup('devEui', '0000000000008000')?.thingId).toBe('flint');
    expect(index.lookup('devAddr', '70B3D57ED0000001')).toBeUndefined();
    expect(index.lookup('devEui', 'FFFF')).toBeUndefined();
  });

  it('refuses a second claim of one key (counted), and hands the key over when the owner goes', () => {
    const warnings: string[] = [];
    const index = new DeviceIndex({ log: { warn: (_o, msg) => warnings.push(msg) } });
    index.put('first', td('01'));
    index.put('second', td('01'));
    expect(index.lookup('devEui', '01')?.thingId).toBe('first');
    expect(index.counters()).toMatchObject({ conflicts: 1, keys: 1, things: 2 });
    expect(warnings.join()).toMatch(/already claimed/);
    index.put('first', td('02')); // the owner's TD moves to another key
    expect(index.lookup('devEui', '01')?.thingId).toBe('second');
    expect(index.lookup('devEui', '02')?.thingId).toBe('first');
    index.remove('second');
    expect(index.lookup('devEui', '01')).toBeUndefined();
  });

  it('answers in constant time: 50,000 keys look up as fast as 100', () => {
    const time = (n: number): number => {
      const index = new DeviceIndex();
      for (let i = 0; i < n; i++) index.put(`t${i}`, td(i.toString(16).padStart(16, '0')));
      const keys = Array.from({ length: 20_000 }, (_, i) => ((i * 7919) % n).toString(16).padStart(16, '0'));
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        const t0 = process.hrtime.bigint();
        for (const k of keys) if (!index.lookup('devEui', k)) throw new Error(`missing ${k}`);
        best = Math.min(best, Number(process.hrtime.bigint() - t0));
      }
      return best;
    };
    const small = time(100);
    const large = time(50_000);
    // A scan would be 500x slower; a Map stays within cache effects (a loaded machine: generous bound).
    expect(large / small).toBeLessThan(15);
  });
});

describe('the index follows the directory', () => {
  let hub: TestHub;
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-index-'));
  beforeAll(async () => {
    hub = await startTestHub({}, { dataDir });
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const register = (id: string, devEui: string) =>
    hub.app.inject({
      method: 'POST',
      url: '/thing-models/lorawan-sensor/instantiate?register=true',
      headers: { authorization: hub.bearer },
      payload: { id, placeholders: { TITLE: 'S', DEV_EUI: devEui, DEV_ADDR: '260B0001', FPORT: 1, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink', PAYLOAD_CODEC: 'cayenne-lpp' } },
    });

  it('on create, update (PUT, PATCH) and delete', async () => {
    const id = 'urn:dev:index-1';
    expect((await register(id, 'A1A1A1A1A1A1A1A1')).statusCode).toBe(201);
    const index = hub.routing.index;
    expect(index.lookup('devEui', 'a1a1a1a1a1a1a1a1')).toMatchObject({ thingId: id, codecs: ['cayenne-lpp'] });
    expect(index.lookup('devAddr', '260B0001')?.thingId).toBe(id);

    const td = (await hub.directory.get(id)) as Record<string, any>;
    delete td.registration;
    td['hub:ioAdapterDefinitions'][0].deviceDefinitions.deviceKey = 'B2B2B2B2B2B2B2B2';
    const put = await hub.app.inject({ method: 'PUT', url: `/things/${id}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td });
    expect(put.statusCode, put.body).toBe(204);
    expect(index.lookup('devEui', 'A1A1A1A1A1A1A1A1')).toBeUndefined();
    expect(index.lookup('devEui', 'B2B2B2B2B2B2B2B2')?.thingId).toBe(id);

    const defs = structuredClone(td['hub:ioAdapterDefinitions']);
    defs[0].deviceDefinitions.devAddr = '260B0002';
    const patch = await hub.app.inject({ method: 'PATCH', url: `/things/${id}`, headers: { authorization: hub.bearer, 'content-type': 'application/merge-patch+json' }, payload: { 'hub:ioAdapterDefinitions': defs } });
    expect(patch.statusCode, patch.body).toBe(204);
    expect(index.lookup('devAddr', '260B0001')).toBeUndefined();
    expect(index.lookup('devAddr', '260B0002')?.thingId).toBe(id);

    const del = await hub.app.inject({ method: 'DELETE', url: `/things/${id}`, headers: { authorization: hub.bearer } });
    expect(del.statusCode).toBe(204);
    expect(index.lookup('devEui', 'B2B2B2B2B2B2B2B2')).toBeUndefined();
    expect(index.entriesOf(id)).toEqual([]);
  });

  it('indexes the TDs already in the directory when a hub starts', async () => {
    const id = 'urn:dev:index-restart';
    expect((await register(id, 'C3C3C3C3C3C3C3C3')).statusCode).toBe(201);
    await hub.stop();
    hub = await startTestHub({}, { dataDir });
    expect(hub.routing.index.lookup('devEui', 'C3C3C3C3C3C3C3C3')?.thingId).toBe(id);
  });
});
