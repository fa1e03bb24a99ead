// kill -9 with commands queued: a child hub (`node --import tsx hub/main.ts`) queues three uplink_triggered commands, is
// killed with SIGKILL, restarts on the same dataDir, and the next uplink sends each of them exactly once (seen on MQTT).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');
const TOKEN = 'downlink-kill9-admin-token-0123456789';
const EUI = '70B3D57ED0000099';
const ID = `urn:dev:lorawan:${EUI}`;
const dataDir = mkdtempSync(join(tmpdir(), 'hub-downlink-kill9-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startHub(httpPort: number, mqttPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, HUB_HOST: '127.0.0.1', HUB_HTTP_PORT: String(httpPort), HUB_MQTT_PORT: String(mqttPort), HUB_COAP_PORT: '0', HUB_PACKET_FORWARDER_PORT: '0', HUB_OSC_PORT: '0', HUB_DATA_DIR: dataDir, HUB_ADMIN_TOKEN: TOKEN, HUB_LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const end = Date.now() + 60_000;
  while (!out.includes('hub: listening')) {
    if (child.exitCode !== null) throw new Error(`hub exited: ${out}`);
    if (Date.now() > end) throw new Error(`hub did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

const call = (port: number, method: string, path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });

const td = {
  '@context': 'https://www.w3.org/2022/wot/td/v1.1',
  id: ID,
  title: 'kill9 downlink',
  securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
  security: ['nosec_sc'],
  actions: { set: { input: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] }, forms: [{ href: 'https://device.invalid/a' }] } },
  ioAdapterDefinitions: [{ uuid: `${ID}#radio`, deviceDefinitions: { keyType: 'devEui', deviceKey: EUI, interfaceType: 'uplink_triggered', networkServer: 'tts', fPort: 5 } }],
};

function uplink(fCnt: number) {
  return JSON.stringify({ end_device_ids: { device_id: 'k9', application_ids: { application_id: 'app9' }, dev_eui: EUI }, received_at: new Date().toISOString(), uplink_message: { f_port: 1, f_cnt: fCnt, frm_payload: 'AQ==', received_at: new Date().toISOString() } });
}

describe('kill -9 with queued downlinks', () => {
  it('every command queued (201) before the kill is sent exactly once after the restart', async () => {
    const httpPort = await freePort();
    const mqttPort = await freePort();
    const first = await startHub(httpPort, mqttPort);
    expect((await call(httpPort, 'PUT', `/things/${encodeURIComponent(ID)}`, td)).status).toBeLessThan(300);
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await call(httpPort, 'POST', `/wot/${encodeURIComponent(ID)}/actions/set`, { n });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id.slice(9));
    }
    process.kill(first.pid!, 'SIGKILL');
    await new Promise<void>((r) => first.once('exit', () => r()));

    await startHub(httpPort, mqttPort);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'k9', password: TOKEN, reconnectPeriod: 0 });
    const seen: string[] = [];
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/down/push')) for (const d of JSON.parse(payload.toString()).downlinks) seen.push(...d.correlation_ids);
    });
    await client.subscribeAsync('v3/+/devices/+/down/push', { qos: 0 });
    // before an uplink nothing goes (uplink_triggered), and the restart itself sends nothing
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toEqual([]);
    for (const id of ids) expect(((await (await call(httpPort, 'GET', `/wot/${encodeURIComponent(ID)}/commands/${id}`)).json()) as { status: string }).status).toBe('QUEUED');
    await client.publishAsync('v3/app9/devices/k9/up', uplink(1), { qos: 1 });
    const end = Date.now() + 15_000;
    while (seen.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await client.publishAsync('v3/app9/devices/k9/up', uplink(2), { qos: 1 }); // a second uplink sends nothing again
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toEqual(ids.map((id) => `wot-hub:cmd:${id}`));
    for (const id of ids) {
      const s = (await (await call(httpPort, 'GET', `/wot/${encodeURIComponent(ID)}/commands/${id}`)).json()) as { status: string; history: Array<{ status: string }> };
      expect(s.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT']);
    }
    await client.endAsync();
  }, 120_000);
});
