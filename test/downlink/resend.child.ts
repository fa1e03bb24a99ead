// Child process of resend.test.ts: DownlinkServices with the real TTS and ChirpStack adapters publishing to mosquitto.
//
// node --import tsx test/downlink/resend.child.ts <mqttPort> <dataDir> <submit|resume>
// Three services (own data directories under dataDir): tts-fail (downlink.inDoubt fail), tts-replace (inDoubt
// replace) and chirpstack, each with one continuous device. `submit` submits one command to each and prints their ids;
// with HUB_TEST_CRASH_AFTER_DOWNLINK_SEND=hold no SENT is written after the publish, and the child SIGKILLs itself
// once it has seen the three downlinks come back from the broker. `resume` opens the same logs, waits for the in-doubt
// tries to be resolved, applies a late TTS down/sent event to the tts-fail command and prints every command as JSON.
import { join } from 'node:path';
import mqtt from 'mqtt';
import { chirpstackAdapter, ttsAdapter, type PublisherSlot } from '../../hub/downlink/adapters.ts';
import { DownlinkService, type DownlinkRoutes } from '../../hub/downlink/service.ts';
import type { DownlinkRoute } from '../../hub/downlink/types.ts';

const [port, dataDir, mode] = process.argv.slice(2) as [string, string, 'submit' | 'resume'];
export const CASES = [
  { name: 'tts-fail', ns: 'tts', inDoubt: 'fail', eui: '70B3D57ED00000E1' },
  { name: 'tts-replace', ns: 'tts', inDoubt: 'replace', eui: '70B3D57ED00000E2' },
  { name: 'chirpstack', ns: 'chirpstack', inDoubt: 'fail', eui: '70B3D57ED00000E3' },
] as const;

const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 10_000 });
const slot: PublisherSlot = { publish: async (topic, payload) => void (await client.publishAsync(topic, payload, { qos: 0 })) };
const seen: string[] = [];
client.on('message', (topic) => seen.push(topic));
await client.subscribeAsync(['v3/+/devices/+/down/+', 'application/+/device/+/command/down']);

const services = [];
for (const c of CASES) {
  const id = `urn:dev:lorawan:${c.eui}`;
  const route: DownlinkRoute = {
    thingId: id,
    adapterId: `${id}#radio`,
    keyType: 'devEui',
    deviceKey: c.eui,
    interfaceType: 'continuous',
    deviceDefinitions: { networkServer: c.ns, applicationId: 'app-resend', deviceId: c.name, fPort: 7 },
    codecs: [],
  };
  const routes: DownlinkRoutes = { entriesOf: (t) => (t === id ? [route] : []), lastActive: () => undefined, lookup: () => undefined };
  const service = new DownlinkService(join(dataDir, c.name), routes, { inDoubt: c.inDoubt, retryDelayMs: 0 });
  service.registerAdapter(c.ns === 'tts' ? ttsAdapter(slot) : chirpstackAdapter(slot));
  await service.open();
  services.push({ c, id, service });
}

if (mode === 'submit') {
  const ids: string[] = [];
  for (const { id, service } of services) ids.push((await service.submit(id, 'setInterval', { seconds: 900 })).id);
  process.stdout.write(`${JSON.stringify(ids)}\n`);
  const end = Date.now() + 60_000;
  while (seen.length < CASES.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  process.kill(process.pid, 'SIGKILL'); // between the publish and its SENT record
} else {
  const end = Date.now() + 30_000;
  // resolved: FAILED (tts-fail) or SENT again (tts-replace at once, chirpstack by its continuous schedule)
  while (services.some(({ id, service }) => service.list(id)[0]?.status === 'QUEUED') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 300));
  const failed = services[0]!;
  const r = failed.service.list(failed.id)[0]!;
  failed.service.networkEvent('tts', { kind: 'downlink', event: 'downlink_sent', details: { correlationIds: [`wot-hub:cmd:${r.id.slice(9)}`] } });
  await new Promise((r) => setTimeout(r, 100));
  process.stdout.write(`${JSON.stringify(Object.fromEntries(services.map(({ c, id, service }) => [c.name, { commands: service.list(id), stats: service.stats() }])))}\n`);
  for (const { service } of services) await service.close();
  await client.endAsync();
}
