// Actions to devices through real peers: mosquitto_sub sees TTS / ChirpStack downlinks, mosquitto_pub sends their events,
// curl's Sigfox BIDIR callback gets the bytes; uplink_triggered waits for an uplink, TTL, act scope, SPARQL actuations.
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoSubLines, untilSubscribed } from '../helpers/mosquitto-sub.ts';
import { baseUrlOf, freePort, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const READER = 'downlink-reader-token-0123456789';
const TTS_EUI = '70B3D57ED0000001';
const CS_EUI = '0101010101010101';
const SIGFOX = '1A2B3C';
const TTS_ID = `urn:dev:lorawan:${TTS_EUI}`;
const CS_ID = `urn:dev:lorawan:${CS_EUI}`;
const SF_ID = `urn:dev:sigfox:${SIGFOX}`;
const CS_APP = '17c82e96-be03-4f38-aef3-f83d48582d97';
const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{ id: string; input: Record<string, unknown> }>;
const vector = (id: string) => structuredClone(vectors.find((v) => v.id === id)!.input);

function td(id: string, def: Record<string, unknown>, actions: Record<string, unknown>): Record<string, unknown> {
  return {
    '@context': 'https://www.w3.org/2022/wot/td/v1.1',
    id,
    title: id,
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: { temperature: { type: 'number', readOnly: true, forms: [{ href: 'https://device.invalid/t' }] } },
    actions,
    ioAdapterDefinitions: [{ uuid: `${id}#radio`, deviceDefinitions: def }],
  };
}

const setInterval_ = { input: { type: 'object', properties: { seconds: { type: 'integer', minimum: 10 } }, required: ['seconds'] }, forms: [{ href: 'https://device.invalid/a' }] };
const raw = { input: { type: 'object', properties: { hex: { type: 'string' } }, required: ['hex'] }, forms: [{ href: 'https://device.invalid/r' }] };

let hub: TestHub;
let base: string;
let sub: ChildProcess;
let lines: string[] = [];
const procs: ChildProcess[] = [];

async function until<T>(check: () => T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pub = (topic: string, body: unknown) =>
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.config.mqttPort), '-u', 'test', '-P', TEST_ADMIN_TOKEN, '-t', topic, '-m', JSON.stringify(body)], { timeout: 10_000 });

async function invoke(id: string, action: string, input: unknown, token = TEST_ADMIN_TOKEN) {
  const res = await fetch(`${base}/wot/${encodeURIComponent(id)}/actions/${action}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(input) });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as Record<string, unknown> };
}
async function status(location: string): Promise<{ status: string; history: Array<{ status: string; at: string; evidence: string }> } & Record<string, unknown>> {
  const res = await fetch(location, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.json();
}
const downlinksOn = (topic: string) => lines.filter((l) => l.startsWith(`${topic} `)).map((l) => JSON.parse(l.slice(topic.length + 1)));

beforeAll(async () => {
  hub = await startTestHub({ mqttPort: await freePort(), tokens: [{ token: READER, scopes: ['read'] }], downlink: { retryDelayMs: 0 } }, { listen: true });
  base = baseUrlOf(hub);
  await hub.directory.put(TTS_ID, td(TTS_ID, { keyType: 'devEui', deviceKey: TTS_EUI, interfaceType: 'uplink_triggered', networkServer: 'tts', fPort: 3 }, { setInterval: setInterval_, blink: { ...setInterval_, ttlSeconds: 1 } }));
  await hub.directory.put(CS_ID, td(CS_ID, { keyType: 'devEui', deviceKey: CS_EUI, interfaceType: 'continuous', networkServer: 'chirpstack', applicationId: CS_APP, downlinkFPort: 10 }, { raw }));
  await hub.directory.put(SF_ID, td(SF_ID, { keyType: 'sigfoxId', deviceKey: SIGFOX, interfaceType: 'uplink_triggered' }, { raw }));
  await until(() => [TTS_ID, CS_ID, SF_ID].every((id) => hub.things.hasThing(id) && hub.routing.index.entriesOf(id).length > 0), 10_000, 'Things exposed');
  sub = mosquittoSubLines(hub.config.mqttPort, READER, ['v3/+/devices/+/down/push', 'application/+/device/+/command/down'], lines);
  procs.push(sub);
  // mosquitto_sub is subscribed once a probe on one of its filters comes back
  await until(() => hub.transports.find((t) => t.name === 'mqtt')!.stats()['broker.clients']! >= 1, 10_000, 'mosquitto_sub connected');
  await untilSubscribed(pub, 'v3/probe/devices/x/down/push', lines);
}, 60_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) process.kill(p.pid!, 'SIGTERM');
  await hub?.stop();
});

describe('downlinks through real peers', () => {
  it('TTS: an uplink_triggered command is pushed only after the next uplink, then ACCEPTED and DELIVERED by its events', async () => {
    const res = await invoke(TTS_ID, 'setInterval', { seconds: 900 });
    expect(res.status).toBe(201);
    expect(res.location).toMatch(new RegExp(`/wot/${encodeURIComponent(TTS_ID)}/commands/[0-9a-f-]{36}$`));
    expect(res.body).toMatchObject({ status: 'QUEUED', id: expect.stringMatching(/^urn:uuid:/), href: res.location });
    const uuid = String(res.body.id).slice(9);
    expect((await status(res.location!)).status).toBe('QUEUED');
    const topic = 'v3/app1@tenant1/devices/dev1/down/push';
    await new Promise((r) => setTimeout(r, 300));
    expect(downlinksOn(topic)).toEqual([]);

    const up = vector('tts-uplink-mqtt-doc');
    (up.end_device_ids as Record<string, unknown>).dev_eui = TTS_EUI;
    (up.uplink_message as Record<string, unknown>).f_cnt = 7;
    const sentAt = Date.now();
    await pub('v3/app1@tenant1/devices/dev1/up', up);
    const [push] = await until(() => downlinksOn(topic).length > 0 && downlinksOn(topic), 10_000, 'the TTS downlink');
    const latency = Date.now() - sentAt;
    expect(push).toEqual({ downlinks: [{ f_port: 3, decoded_payload: { setInterval: { seconds: 900 } }, confirmed: true, priority: 'NORMAL', correlation_ids: [`wot-hub:cmd:${uuid}`] }] });
    await until(async () => true);
    expect((await status(res.location!)).status).toBe('SENT');

    const ids = { device_id: 'dev1', application_ids: { application_id: 'app1' }, dev_eui: TTS_EUI };
    const ev = (member: string) => ({ end_device_ids: ids, correlation_ids: ['as:downlink:01J0000000000000000000000', `wot-hub:cmd:${uuid}`], [member]: { f_port: 3, confirmed: true, priority: 'NORMAL', correlation_ids: ['as:downlink:01J0000000000000000000000', `wot-hub:cmd:${uuid}`] } });
    await pub('v3/app1@tenant1/devices/dev1/down/queued', ev('downlink_queued'));
    await pub('v3/app1@tenant1/devices/dev1/down/sent', ev('downlink_sent'));
    await pub('v3/app1@tenant1/devices/dev1/down/ack', ev('downlink_ack'));
    const done = await (async () => {
      for (let i = 0; i < 200; i++) {
        const s = await status(res.location!);
        if (s.status === 'DELIVERED') return s;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('never DELIVERED');
    })();
    expect(done).toMatchObject({ id: res.body.id, thingId: TTS_ID, action: 'setInterval', input: { seconds: 900 } });
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'ACCEPTED', 'DELIVERED']);
    expect(done.history[2]!.evidence).toMatch(/down\/queued/);
    expect(done.history[3]!.evidence).toMatch(/down\/ack/);
    const times = done.history.map((h) => Date.parse(h.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(latency).toBeLessThan(5000);

    // queryallactions lists it; the TD names the forms
    const list = await (await fetch(`${base}/wot/${encodeURIComponent(TTS_ID)}/commands`)).json();
    expect(list.map((c: { id: string }) => c.id)).toContain(res.body.id);
    const tdServed = await (await fetch(`${base}/wot/${encodeURIComponent(TTS_ID)}`)).json();
    const ops = tdServed.actions.setInterval.forms.flatMap((f: { op: string[] }) => f.op);
    expect(ops).toEqual(expect.arrayContaining(['invokeaction', 'queryaction', 'cancelaction']));
    expect(tdServed.forms.flatMap((f: { op: string[] }) => f.op)).toContain('queryallactions');

    // the actuation in SPARQL, through the saved query
    await hub.downlink.actuations.flushed();
    const query = readFileSync(join(ROOT, 'sparql/actuations.rq'), 'utf8').replace('"urn:dev:lorawan:0004A30B001C0530"', JSON.stringify(TTS_ID));
    const q = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
    expect(q.statusCode, q.body).toBe(200);
    const rows = q.json().results.bindings.filter((b: Record<string, { value: string }>) => b.actuation!.value === res.body.id);
    expect(rows.map((b: Record<string, { value: string }>) => b.status!.value)).toEqual(['QUEUED', 'SENT', 'ACCEPTED', 'DELIVERED']);
    expect(rows[0].action.value).toBe('setInterval');
    expect(JSON.parse(rows[0].input.value)).toEqual({ seconds: 900 });
    expect(rows[0].requestedBy.value).toMatch(/^token:[0-9a-f]{12}$/);
    // the same instants (the store writes xsd:dateTime in canonical form: 31.800Z reads back 31.8Z)
    expect(rows.map((b: Record<string, { value: string }>) => Date.parse(b.at!.value))).toEqual(done.history.map((h) => Date.parse(h.at)));
  });

  it('an expired command is never sent, even when the device is heard again', async () => {
    const res = await invoke(TTS_ID, 'blink', { seconds: 10 });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1300));
    const before = lines.length;
    const up = vector('tts-uplink-mqtt-doc');
    (up.end_device_ids as Record<string, unknown>).dev_eui = TTS_EUI;
    (up.uplink_message as Record<string, unknown>).f_cnt = 8;
    await pub('v3/app1@tenant1/devices/dev1/up', up);
    const s = await (async () => {
      for (let i = 0; i < 100; i++) {
        const x = await status(res.location!);
        if (x.status !== 'QUEUED') return x;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('still QUEUED');
    })();
    expect(s.status).toBe('EXPIRED');
    await new Promise((r) => setTimeout(r, 300));
    expect(lines.slice(before).filter((l) => l.includes(String(res.body.id).slice(9)))).toEqual([]);
  });

  it('ChirpStack: a continuous device gets command/down at once with id = queue item id; txack and ack set the states', async () => {
    const res = await invoke(CS_ID, 'raw', { hex: '0102' });
    expect(res.status).toBe(201);
    const uuid = String(res.body.id).slice(9);
    const topic = `application/${CS_APP}/device/${CS_EUI.toLowerCase()}/command/down`;
    const [cmd] = await until(() => downlinksOn(topic).length > 0 && downlinksOn(topic), 10_000, 'the ChirpStack command');
    expect(cmd).toEqual({ id: uuid, devEui: CS_EUI.toLowerCase(), confirmed: true, fPort: 10, data: 'AQI=' });
    const txack = { ...vector('chirpstack-txack-docs'), queueItemId: uuid };
    const ack = { ...vector('chirpstack-ack-docs'), queueItemId: uuid };
    await pub(`application/${CS_APP}/device/${CS_EUI.toLowerCase()}/event/txack`, txack);
    await pub(`application/${CS_APP}/device/${CS_EUI.toLowerCase()}/event/ack`, ack);
    for (let i = 0; i < 200 && (await status(res.location!)).status !== 'DELIVERED'; i++) await new Promise((r) => setTimeout(r, 50));
    const s = await status(res.location!);
    expect(s.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'ACCEPTED', 'DELIVERED']);
    expect(s.history[2]!.evidence).toMatch(/txack/);
  });

  it("Sigfox: curl's BIDIR callback gets the 8 bytes, the next one 204; the acknowledge infoCode 0 sets ACCEPTED", async () => {
    const bad = await invoke(SF_ID, 'raw', { hex: '0102' });
    expect(bad.status).toBe(400);
    const res = await invoke(SF_ID, 'raw', { hex: '0102030405060708' });
    expect(res.status).toBe(201);
    const curl = (body: unknown) =>
      run('curl', ['-s', '-w', '\\n%{http_code}', '-X', 'POST', `${base}/bindings/sigfox/callback`, '-H', `authorization: Bearer ${TEST_ADMIN_TOKEN}`, '-H', 'content-type: application/json', '--data', JSON.stringify(body)], { timeout: 10_000 });
    const first = await curl({ device: SIGFOX, time: 1764680000, data: 'ce20', seqNumber: 51, ack: true });
    const [body1, code1] = first.stdout.split('\n');
    expect(code1).toBe('200');
    expect(JSON.parse(body1!)).toEqual({ [SIGFOX]: { downlinkData: '0102030405060708' } });
    expect((await status(res.location!)).status).toBe('SENT');
    const second = await curl({ device: SIGFOX, time: 1764680100, data: 'ce21', seqNumber: 52, ack: true });
    expect(second.stdout.split('\n').at(-1)).toBe('204');
    await curl({ device: SIGFOX, time: 1764680101, infoCode: 0, infoMessage: 'Acked', downlinkAck: true });
    for (let i = 0; i < 100 && (await status(res.location!)).status !== 'ACCEPTED'; i++) await new Promise((r) => setTimeout(r, 50));
    const s = await status(res.location!);
    expect(s.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'ACCEPTED']);
    expect(s.history[2]!.evidence).toMatch(/infoCode 0 ACKED/);
  });

  it('actions and cancelaction need the act scope; cancel ends a QUEUED command', async () => {
    const anon = await fetch(`${base}/wot/${encodeURIComponent(TTS_ID)}/actions/setInterval`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"seconds":60}' });
    expect(anon.status).toBe(401);
    expect(anon.headers.get('content-type')).toMatch(/problem\+json/);
    const reader = await invoke(TTS_ID, 'setInterval', { seconds: 60 }, READER);
    expect(reader.status).toBe(403);
    const res = await invoke(TTS_ID, 'setInterval', { seconds: 60 });
    const del = (token: string) => fetch(res.location!, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect((await del(READER)).status).toBe(403);
    const ok = await del(TEST_ADMIN_TOKEN);
    expect(ok.status).toBe(200);
    expect((await ok.json()).status).toBe('CANCELLED');
    expect((await del(TEST_ADMIN_TOKEN)).status).toBe(409);
    const unknown = await fetch(`${base}/wot/${encodeURIComponent(TTS_ID)}/commands/00000000-0000-4000-8000-000000000000`);
    expect(unknown.status).toBe(404);
  });
});
