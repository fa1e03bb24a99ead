// kill -9 during MQTT ingest loses no PUBACKed message: a child hub (`node --import tsx hub/main.ts`) on a temp dataDir
// takes QoS 1 uplinks on its embedded broker, is killed with SIGKILL mid-stream, restarts, and SPARQL finds every
// message whose PUBACK the publisher received.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers.ts';

const ROOT = join(import.meta.dirname, '../../..');
const TOKEN = 'kill9-admin-token-0123456789abcdef';
const EUI = '0004A30B001C0777';
const ID = `urn:dev:lorawan:${EUI}`;

const dataDir = mkdtempSync(join(tmpdir(), 'hub-kill9-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startHub(httpPort: number, mqttPort: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      HUB_HOST: '127.0.0.1',
      HUB_HTTP_PORT: String(httpPort),
      HUB_MQTT_PORT: String(mqttPort),
      HUB_COAP_PORT: '0',
      HUB_PACKET_FORWARDER_PORT: '0', HUB_OSC_PORT: '0',
      HUB_DATA_DIR: dataDir,
      HUB_ADMIN_TOKEN: TOKEN,
      HUB_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const end = Date.now() + 60_000; // ~4 s on a quiet machine; far more when the machine is shared
  while (!out.includes('hub: listening')) {
    if (child.exitCode !== null) throw new Error(`hub exited: ${out}`);
    if (Date.now() > end) throw new Error(`hub did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return child;
}

const api = (port: number) => async (method: string, path: string, body?: string, type = 'application/json') => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': type } : {}), accept: 'application/sparql-results+json' }, body });
  return { status: res.status, text: await res.text() };
};

describe('kill -9 during MQTT ingest', () => {
  it('every PUBACKed message is in the store after a restart', async () => {
    const httpPort = await freePort();
    const mqttPort = await freePort();
    const hub = await startHub(httpPort, mqttPort);
    const call = api(httpPort);
    expect((await call('PUT', '/mappings/lorawan-uplink', readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8'), 'text/turtle')).status).toBe(201);
    const placeholders = { TITLE: 'kill9', DEV_EUI: EUI, FPORT: 1, ADAPTER_ID: 'urn:wot-hub:adapter:lorawan', MAPPING: 'lorawan-uplink', DEV_ADDR: '', PAYLOAD_CODEC: 'network-server' };
    const td = await call('POST', '/thing-models/lorawan-sensor/instantiate?register=true', JSON.stringify({ id: ID, placeholders }));
    expect(td.status, td.text).toBe(201);

    // Publish QoS 1 with up to 32 in flight, counting PUBACKs; kill -9 the hub once some hundreds are acknowledged.
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'sim', password: TOKEN, protocolVersion: 4, reconnectPeriod: 0 });
    client.on('error', () => {});
    const acked = new Set<number>();
    let sent = 0;
    let dead = false;
    client.once('close', () => (dead = true));
    const base = Date.parse('2026-05-01T00:00:00Z');
    const publishOne = async (seq: number) => {
      const body = JSON.stringify({ seq, time: new Date(base + seq * 1000).toISOString(), temperature: 20 + (seq % 10) });
      await client.publishAsync(`hub/devices/devEui/${EUI}/up`, body, { qos: 1 });
      acked.add(seq);
    };
    const workers = Array.from({ length: 32 }, async () => {
      while (!dead) {
        const seq = sent++;
        try {
          await publishOne(seq);
        } catch {
          return;
        }
      }
    });
    const killAt = Date.now() + 15_000;
    while (acked.size < 300 && Date.now() < killAt) await new Promise((r) => setTimeout(r, 5));
    process.kill(hub.pid!, 'SIGKILL');
    await new Promise((r) => hub.once('exit', r));
    // PUBACKs the dead hub sent before dying may still sit in the client's socket: read them until the close
    const closeEnd = Date.now() + 3000;
    while (!dead && Date.now() < closeEnd) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    const ackedAtKill = new Set(acked);
    dead = true;
    client.end(true);
    await Promise.race([Promise.all(workers), new Promise((r) => setTimeout(r, 1000))]);
    expect(ackedAtKill.size).toBeGreaterThan(0);
    expect(sent).toBeGreaterThan(ackedAtKill.size); // messages were in flight when it died

    await startHub(httpPort, 0);
    const q = `PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT DISTINCT ?o WHERE { GRAPH ?g { ?o a sosa:Observation ; sosa:observedProperty ?p . FILTER(STRENDS(STR(?p), "/properties/temperature") && CONTAINS(STR(?o), "${EUI}")) } }`;
    const res = await call('POST', '/sparql', q, 'application/sparql-query');
    expect(res.status, res.text).toBe(200);
    const stored = new Set<number>();
    for (const b of JSON.parse(res.text).results.bindings as Array<{ o: { value: string } }>) {
      const m = /observations\/s(\d+)-/.exec(b.o.value);
      if (m) stored.add(Number(m[1]));
    }
    const lost = [...ackedAtKill].filter((s) => !stored.has(s));
    console.log(`kill -9: ${sent} sent, ${ackedAtKill.size} PUBACKed, ${stored.size} stored after restart, ${lost.length} PUBACKed but lost`);
    expect(lost).toEqual([]);
    expect(stored.size).toBeGreaterThanOrEqual(ackedAtKill.size);
  }, 180_000);
});
