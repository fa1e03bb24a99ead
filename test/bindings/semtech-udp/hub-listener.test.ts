// The hub's own packet-forwarder listener (packetForwarderPort, no test-supplied resolver) finds ABP devices by DevAddr
// through the uplink pipeline's device index: the simulated gateway's frames end as observations and live values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleet } from '../../../hub/simulators/formats.ts';
import { simulatedKeys, startGateway, type AbpDevice, type RunningGateway } from '../../../hub/simulators/packet-forwarder.ts';
import { startTestHub, type TestHub } from '../../helpers/hub.ts';
import { freeUdpPort } from '../../helpers/udp.ts';

const ROOT = join(import.meta.dirname, '../../..');

describe('packet forwarder inside the hub (simulated gateway, ABP devices)', () => {
  let hub: TestHub;
  let gw: RunningGateway | undefined;
  const devices: AbpDevice[] = fleet(2, 0x70b3d57ed0009000n).map((d) => ({ ...d, keys: simulatedKeys(d.devEui) }));
  const id = (d: AbpDevice) => `urn:dev:eui:${d.devEui.toLowerCase()}`;

  beforeAll(async () => {
    hub = await startTestHub({ packetForwarderPort: await freeUdpPort() }, { listen: true });
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-cayenne', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/lorawan-cayenne.ttl'), 'utf8') });
    expect(put.statusCode, put.body).toBe(201);
    for (const d of devices) {
      const reg = await hub.app.inject({
        method: 'POST', url: '/thing-models/lorawan-sensor/instantiate?register=true', headers: { authorization: hub.bearer },
        payload: { id: id(d), placeholders: { TITLE: d.name, DEV_EUI: d.devEui, DEV_ADDR: d.devAddr, FPORT: 2, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-cayenne', PAYLOAD_CODEC: 'cayenne-lpp' } },
      });
      expect(reg.statusCode, reg.body).toBe(201);
      const url = `/things/${encodeURIComponent(id(d))}`;
      const td = (await hub.app.inject({ url, headers: { authorization: hub.bearer } })).json();
      Object.assign(td['hub:ioAdapterDefinitions'][0].deviceDefinitions, { nwkSKey: `secret:${d.name}-nwk`, appSKey: `secret:${d.name}-app` });
      expect((await hub.app.inject({ method: 'PUT', url, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td })).statusCode).toBeLessThan(300);
      await hub.secrets.put(`${d.name}-nwk`, d.keys.nwkSKey);
      await hub.secrets.put(`${d.name}-app`, d.keys.appSKey);
    }
  });
  afterAll(async () => {
    await gw?.stop();
    await hub?.stop();
  });

  it('stores the frames of both devices and shows their temperature', async () => {
    gw = await startGateway({ host: '127.0.0.1', port: hub.config.packetForwarderPort, gatewayEui: 'AA555A0000000901', devices, rate: 10 });
    const live = async (d: AbpDevice) => {
      const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(id(d))}/properties/temperature`, headers: { authorization: hub.bearer } });
      return res.statusCode === 200 ? res.json() : undefined;
    };
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      if ((await live(devices[0]!)) !== undefined && (await live(devices[1]!)) !== undefined) break;
    }
    for (const d of devices) expect(typeof (await live(d))).toBe('number');
    expect(gw.stats.pushAcks).toBeGreaterThan(0);
    // A live value comes first (it is published once mapped); the store acknowledges the insert a group commit later.
    const stored = () => (hub.routing.adapters.get('semtech-udp')?.counters() ?? hub.routing.adapters.get('lorawan')?.counters())?.stored ?? 0;
    for (const end = Date.now() + 5000; stored() < 2 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    expect(stored()).toBeGreaterThanOrEqual(2);
    const q = `PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT (COUNT(?o) AS ?n) WHERE { GRAPH ?g { ?o sosa:observedProperty <${hub.config.baseUrl}/things/${encodeURIComponent(id(devices[0]!))}/properties/temperature> } }`;
    let n = 0;
    for (const end = Date.now() + 5000; n === 0 && Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      const res = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent(q)}`, headers: { accept: 'application/sparql-results+json', authorization: hub.bearer } });
      n = Number(res.json().results.bindings[0].n.value);
    }
    expect(n).toBeGreaterThan(0);
  });
});
