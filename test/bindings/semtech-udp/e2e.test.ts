// End to end: a python3 packet forwarder pushes an ABP device's Cayenne LPP uplink (heard by two gateways) to the hub's
// UDP listener; the uplink pipeline maps it with the shipped lorawan-cayenne mapfile; SPARQL finds value and time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUplink } from '../../../hub/bindings/lorawan/uplink.ts';
import { listenPacketForwarder, type PacketForwarder } from '../../../hub/bindings/semtech-udp/listener.ts';
import { TokenAuth } from '../../../hub/http/auth.ts';
import { SecretStore } from '../../../hub/secrets/secret-store.ts';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../../helpers/hub.ts';
import { nodePeer, pushData, pythonPeer } from './peer.ts';

const ROOT = join(import.meta.dirname, '../../..');
const ID = 'urn:dev:lorawan:70B3D57ED0000042';
const DEV_ADDR = '260B0042';
const keys = { nwkSKey: Buffer.alloc(16, 0x11), appSKey: Buffer.alloc(16, 0x22) };

describe('packet forwarder -> pipeline -> store -> SPARQL', () => {
  let hub: TestHub;
  let pf: PacketForwarder;

  const sparql = async (query: string) => {
    const res = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent(query)}`, headers: { accept: 'application/sparql-results+json', authorization: hub.bearer } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().results.bindings as Array<Record<string, { value: string }>>;
  };

  beforeAll(async () => {
    hub = await startTestHub();
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-cayenne', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/lorawan-cayenne.ttl'), 'utf8') });
    expect(put.statusCode, put.body).toBe(201);
    const placeholders = { TITLE: 'ABP sensor', DEV_EUI: '70B3D57ED0000042', DEV_ADDR, FPORT: 1, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-cayenne', PAYLOAD_CODEC: 'cayenne-lpp' };
    const reg = await hub.app.inject({ method: 'POST', url: '/thing-models/lorawan-sensor/instantiate?register=true', headers: { authorization: hub.bearer }, payload: { id: ID, placeholders } });
    expect(reg.statusCode, reg.body).toBe(201);
    // The session keys: names in the TD, bytes in the secret store.
    const url = `/things/${encodeURIComponent(ID)}`;
    const td = (await hub.app.inject({ url, headers: { authorization: hub.bearer } })).json();
    Object.assign(td['hub:ioAdapterDefinitions'][0].deviceDefinitions, { nwkSKey: 'secret:abp42-nwk', appSKey: 'secret:abp42-app' });
    const upd = await hub.app.inject({ method: 'PUT', url, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td });
    expect(upd.statusCode, upd.body).toBeLessThan(300);
    const secrets = new SecretStore(hub.dataDir);
    await secrets.put('abp42-nwk', keys.nwkSKey);
    await secrets.put('abp42-app', keys.appSKey);
    const quiet = { info() {}, warn() {}, error() {} };
    pf = await listenPacketForwarder(
      { config: hub.config, uplinks: hub.uplinks, auth: new TokenAuth(hub.config, TEST_ADMIN_TOKEN), secrets, log: quiet },
      0,
      { resolveDevAddr: (a) => hub.routing.index.lookup('devAddr', a), dedupWindowMs: 100 },
    );
  });
  afterAll(async () => {
    await pf?.stop();
    await hub?.stop();
  });

  it('the value, its gateway time and the device are in SPARQL; a replay is refused', async () => {
    const phy = encodeUplink({ devAddr: DEV_ADDR, fCnt: 3, fPort: 1, payload: Buffer.from('01670110', 'hex'), keys });
    const time = '2026-03-01T10:00:00.250000Z';
    const replies = await pythonPeer(pf.address!.port, [
      pushData('0102030405060708', 1, [{ phy, rssi: -70, time }]),
      pushData('1112131415161718', 2, [{ phy, rssi: -90, time }]),
    ]);
    expect(replies).toEqual(['02010001', '02020001']);
    const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(ID)}`;
    const query = `PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT ?v ?t WHERE { GRAPH ?g {
      ?o a sosa:Observation ; sosa:madeBySensor <${thing}> ; sosa:observedProperty <${thing}/properties/temperature> ;
         sosa:hasSimpleResult ?v ; sosa:resultTime ?t } }`;
    let rows: Array<Record<string, { value: string }>> = [];
    for (const end = Date.now() + 8000; rows.length === 0 && Date.now() < end; await new Promise((r) => setTimeout(r, 100))) rows = await sparql(query);
    expect(rows.map((r) => [Number(r.v!.value), Date.parse(r.t!.value)])).toEqual([[27.2, Date.parse(time)]]);
    expect(pf.stats()).toMatchObject({ accepted: 1, stored: 1, duplicatesMerged: 1 });
    await nodePeer(pf.address!.port, [pushData('0102030405060708', 3, [{ phy, time }])]);
    for (const end = Date.now() + 3000; pf.stats().fcntReplay === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    expect(pf.stats().fcntReplay).toBe(1);
    expect(await sparql(query)).toHaveLength(1);
  });
});
