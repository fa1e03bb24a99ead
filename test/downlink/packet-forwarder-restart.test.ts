// OTAA sessions and FCnt down across a hub restart (same data directory): the joined device's uplinks still decode with
// the stored session keys, and the next downlink's FCnt continues above every counter used before (never repeated).
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway, type OtaaDevice, type RunningGateway } from '../../hub/simulators/packet-forwarder.ts';
import { baseUrlOf, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');
const ID = 'urn:dev:eui:otaa-restart';

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms = 8000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('packet-forwarder OTAA session and FCnt down survive a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hub-pf-restart-'));
  let hub: TestHub | undefined;
  let gw: RunningGateway | undefined;
  const otaa: OtaaDevice = { devEui: '70B3D57ED000C300', devAddr: '', name: 'otaa-r', joinEui: '70B3D57ED0000001', appKey: Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex') };
  afterAll(async () => {
    await gw?.stop();
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const downlinkVia = async (h: TestHub, hex: string) => {
    const res = await fetch(`${baseUrlOf(h)}/wot/${encodeURIComponent(ID)}/actions/downlink`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ payloadHex: hex, fport: 4, confirmed: false }) });
    expect(res.status).toBe(201);
    const before = gw!.downlinks.length;
    gw!.uplink(otaa.devEui);
    return until(() => gw!.downlinks.slice(before).find((d) => d.kind === 'data' && d.payloadHex === hex), 8000, `downlink ${hex}`);
  };
  const temperature = (h: TestHub) =>
    until(async () => {
      const res = await h.app.inject({ url: `/wot/${encodeURIComponent(ID)}/properties/temperature`, headers: { authorization: h.bearer } });
      return res.statusCode === 200 ? res.json() : undefined;
    }, 8000, 'temperature');

  it('joins, restarts, decodes the joined device and counts FCnt down on', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    hub = await startTestHub({ packetForwarderPort: port }, { listen: true, dataDir });
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-cayenne', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/lorawan-cayenne.ttl'), 'utf8') });
    expect(put.statusCode, put.body).toBe(201);
    const placeholders = { TITLE: 'OTAA', DEV_EUI: otaa.devEui, DEV_ADDR: '', FPORT: 2, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-cayenne', PAYLOAD_CODEC: 'cayenne-lpp' };
    expect((await hub.app.inject({ method: 'POST', url: '/thing-models/lorawan-sensor/instantiate?register=true', headers: { authorization: hub.bearer }, payload: { id: ID, placeholders } })).statusCode).toBe(201);
    const url = `/things/${encodeURIComponent(ID)}`;
    const td = (await hub.app.inject({ url, headers: { authorization: hub.bearer } })).json();
    Object.assign(td['hub:ioAdapterDefinitions'][0].deviceDefinitions, { appKey: 'secret:otaa-r', appEui: otaa.joinEui });
    expect((await hub.app.inject({ method: 'PUT', url, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td })).statusCode).toBeLessThan(300);
    await hub.secrets.put('otaa-r', otaa.appKey);
    await until(() => hub!.things.hasThing(ID), 10_000, 'Thing');

    gw = await startGateway({ host: '127.0.0.1', port, gatewayEui: 'AA555A000000C001', devices: [], otaa: [otaa], rate: 0 });
    await until(() => gw!.stats.pullAcks > 0, 5000, 'PULL_ACK');
    gw.join(otaa.devEui);
    await until(() => gw!.session(otaa.devEui), 8000, 'join-accept');
    const devAddr = gw.session(otaa.devEui)!.devAddr;
    const first = await downlinkVia(hub, '11');
    expect(first.fCnt).toBe(0);

    await hub.stop();
    hub = await startTestHub({ packetForwarderPort: port }, { listen: true, dataDir });
    await until(() => hub!.things.hasThing(ID), 10_000, 'Thing after restart');
    const pulls = gw.stats.pullAcks;
    gw.pull();
    await until(() => gw!.stats.pullAcks > pulls, 5000, 'PULL_ACK after restart');

    gw.uplink(otaa.devEui);
    expect(typeof (await temperature(hub))).toBe('number');
    const second = await downlinkVia(hub, '22');
    expect(second.fCnt).toBeGreaterThan(first.fCnt!);
    expect(gw.session(otaa.devEui)!.devAddr).toBe(devAddr); // no re-join was needed
  }, 90_000);
});
