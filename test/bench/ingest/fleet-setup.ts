// Registers a simulated LoRaWAN fleet in a hub: the shipped Cayenne mapfile and one Thing per device from the
// lorawan-sensor Thing Model, through the hub's own HTTP API (as a user would), returning the Thing ids.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hub } from '../../../hub/hub.ts';
import type { SimulatedDevice } from '../../../hub/simulators/formats.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

export async function registerLoRaWANFleet(hub: Hub, devices: SimulatedDevice[], token: string, mapping = 'lorawan-cayenne'): Promise<string[]> {
  const auth = { authorization: `Bearer ${token}` };
  const put = await hub.app.inject({ method: 'PUT', url: `/mappings/${mapping}`, headers: { ...auth, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings', `${mapping}.ttl`), 'utf8') });
  if (put.statusCode >= 300) throw new Error(`PUT /mappings/${mapping}: ${put.statusCode} ${put.body}`);
  const ids: string[] = [];
  for (const dev of devices) {
    const id = `urn:dev:eui:${dev.devEui.toLowerCase()}`;
    const res = await hub.app.inject({
      method: 'POST',
      url: '/thing-models/lorawan-sensor/instantiate?register=true',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: { id, placeholders: { TITLE: dev.name, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', DEV_EUI: dev.devEui, DEV_ADDR: dev.devAddr, FPORT: 2, MAPPING: mapping, PAYLOAD_CODEC: 'cayenne-lpp' } },
    });
    if (res.statusCode !== 201) throw new Error(`registering ${dev.name}: ${res.statusCode} ${res.body}`);
    ids.push(id);
  }
  return ids;
}
