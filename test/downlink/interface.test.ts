// A multi-radio Thing (multi-radio-device TM: LoRaWAN + Sigfox): a queued command follows the interface the device was
// last heard on at send time (mosquitto_pub/_sub on the hub's broker for TTS, curl for the Sigfox BIDIR callback), and
// the BIDIR answer is keyed by the device id exactly as the callback sent it.
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mosquittoSubLines, untilSubscribed } from '../helpers/mosquitto-sub.ts';
import { baseUrlOf, freePort, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';

const run = promisify(execFile);
const ID = 'urn:dev:multi:interface-1';
const EUI = '70B3D57ED00000D1';
const SIGFOX_SENT = '1a2b3d'; // as the callback sends it: lower case (the hub's key is 1A2B3D)
const LORA = 'urn:wot-hub:adapter:lorawan';
const SIGFOX = 'urn:wot-hub:adapter:sigfox';
const TOPIC = 'v3/app1@tenant1/devices/dev1';
const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{ id: string; input: Record<string, unknown> }>;

let hub: TestHub;
let base: string;
const procs: ChildProcess[] = [];
const lines: string[] = [];
let fCnt = 10;
let seq = 100;

async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const pub = (topic: string, body: unknown) => run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(hub.config.mqttPort), '-u', 'test', '-P', TEST_ADMIN_TOKEN, '-t', topic, '-m', JSON.stringify(body)], { timeout: 10_000 });

/** A TTS uplink of the device (the LoRaWAN interface is heard). */
async function loraUplink(): Promise<void> {
  const up = structuredClone(vectors.find((v) => v.id === 'tts-uplink-mqtt-doc')!.input);
  (up.end_device_ids as Record<string, unknown>).dev_eui = EUI;
  (up.uplink_message as Record<string, unknown>).f_cnt = ++fCnt;
  const before = hub.routing.pipeline.lastActive(ID)?.byInterface?.[LORA];
  await pub(`${TOPIC}/up`, up);
  await until(() => (hub.routing.pipeline.lastActive(ID)?.byInterface?.[LORA] !== before ? true : undefined), 10_000, 'the LoRaWAN uplink');
}

/** A Sigfox BIDIR callback through curl: the response's status and body. */
async function sigfoxBidir(): Promise<{ code: string; body: string }> {
  const body = { device: SIGFOX_SENT, time: Math.floor(Date.now() / 1000) - 5, data: 'ce20', seqNumber: ++seq, ack: true };
  const out = await run('curl', ['-s', '-w', '\\n%{http_code}', '-X', 'POST', `${base}/bindings/sigfox/callback`, '-H', `authorization: Bearer ${TEST_ADMIN_TOKEN}`, '-H', 'content-type: application/json', '--data', JSON.stringify(body)], { timeout: 10_000 });
  const parts = out.stdout.split('\n');
  return { code: parts.at(-1)!, body: parts.slice(0, -1).join('\n') };
}

async function invoke(input: unknown): Promise<{ uuid: string; location: string }> {
  const res = await fetch(`${base}/wot/${encodeURIComponent(ID)}/actions/configure`, { method: 'POST', headers: { authorization: hub.bearer, 'content-type': 'application/json' }, body: JSON.stringify(input) });
  expect(res.status, await res.clone().text()).toBe(201);
  const body = (await res.json()) as { id: string };
  return { uuid: body.id.slice(9), location: res.headers.get('location')! };
}
const status = async (location: string) => (await (await fetch(location)).json()) as { status: string; interface?: string; binding?: string; history: Array<{ status: string; evidence: string }> };
const pushesOf = (uuid: string) => lines.filter((l) => l.startsWith(`${TOPIC}/down/push `) && l.includes(uuid));

beforeAll(async () => {
  hub = await startTestHub({ mqttPort: await freePort() }, { listen: true });
  base = baseUrlOf(hub);
  const made = await hub.app.inject({ method: 'POST', url: '/thing-models/multi-radio-device/instantiate', headers: { authorization: hub.bearer }, payload: { id: ID, placeholders: { TITLE: 'Multi-radio', DEV_EUI: EUI, SIGFOX_ID: SIGFOX_SENT.toUpperCase(), FPORT: 2, MAPPING: 'lorawan-uplink', PAYLOAD_CODEC: 'network-server' } } });
  expect(made.statusCode, made.body).toBe(200);
  const td = made.json() as Record<string, unknown>;
  // the TM has no action of its own: a raw 8-byte command both radios can carry
  td.actions = { configure: { input: { type: 'object', properties: { hex: { type: 'string', pattern: '^([0-9a-fA-F]{2})+$' } }, required: ['hex'] }, forms: [{ href: 'https://device.invalid/configure' }] } };
  const put = await hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(ID)}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td });
  expect(put.statusCode, put.body).toBeLessThan(300);
  await until(() => (hub.things.hasThing(ID) && hub.routing.index.entriesOf(ID).length >= 2 ? true : undefined), 10_000, 'the Thing and its two interfaces');
  // The Thing names its mapfile (MAPPING: lorawan-uplink) and a test hub starts with none: an uplink of a Thing whose
  // mapfile is missing is refused, 422 mapping-missing (the MQTT uplink silently, the Sigfox callback as its answer).
  // That, not the callback, was this test's 422 as first written: the mapfile was never uploaded.
  const unmapped = await sigfoxBidir();
  expect(unmapped.code).toBe('422');
  expect(JSON.parse(unmapped.body)).toMatchObject({ code: 'mapping-missing', term: 'lorawan-uplink' });
  const mapfile = await hub.app.inject({ method: 'PUT', url: '/mappings/lorawan-uplink', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(new URL('../../mappings/lorawan-uplink.ttl', import.meta.url), 'utf8') });
  expect(mapfile.statusCode, mapfile.body).toBe(201);
  const sub = mosquittoSubLines(hub.config.mqttPort, TEST_ADMIN_TOKEN, ['v3/+/devices/+/down/push'], lines);
  procs.push(sub);
  await untilSubscribed(pub, 'v3/probe/devices/x/down/push', lines);
}, 90_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null) process.kill(p.pid!, 'SIGTERM');
  await hub?.stop();
});

describe('a LoRaWAN + Sigfox Thing: the command goes out on the interface that was active last at send time', () => {
  it('queued for LoRaWAN, the device is next heard on Sigfox: answered in the BIDIR response, keyed as the callback sent it', async () => {
    await loraUplink();
    expect(hub.routing.pipeline.lastActive(ID)?.interface).toBe(LORA);
    const cmd = await invoke({ hex: '0102030405060708' });
    const queued = await status(cmd.location);
    expect(queued).toMatchObject({ status: 'QUEUED', interface: LORA });
    expect(queued.history[0]!.evidence).toBe(`accepted by the hub for interface ${LORA}`);

    const answer = await sigfoxBidir();
    expect(answer.code).toBe('200');
    // the key is the device id exactly as sent (lower case), not the hub's canonical 1A2B3D
    expect(JSON.parse(answer.body)).toEqual({ [SIGFOX_SENT]: { downlinkData: '0102030405060708' } });
    const sent = await status(cmd.location);
    expect(sent).toMatchObject({ status: 'SENT', interface: SIGFOX, binding: 'sigfox' });
    expect(sent.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT']);
    expect(sent.history[1]!.evidence).toMatch(new RegExp(`BIDIR callback response .*on ${SIGFOX}, the interface the device was last heard on \\(queued for ${LORA}\\)`));
    // the next LoRaWAN uplink sends nothing: the command went out once, on Sigfox
    await loraUplink();
    await new Promise((r) => setTimeout(r, 500));
    expect(pushesOf(cmd.uuid)).toEqual([]);
    expect((await sigfoxBidir()).code).toBe('204');
  });

  it('queued for Sigfox, the device is next heard on LoRaWAN: pushed to TTS on that uplink', async () => {
    await sigfoxBidir(); // Sigfox heard last (nothing queued: 204)
    expect(hub.routing.pipeline.lastActive(ID)?.interface).toBe(SIGFOX);
    const cmd = await invoke({ hex: 'a1a2a3a4a5a6a7a8' });
    expect(await status(cmd.location)).toMatchObject({ status: 'QUEUED', interface: SIGFOX });
    await loraUplink();
    const [push] = await until(() => (pushesOf(cmd.uuid).length ? pushesOf(cmd.uuid) : undefined), 10_000, 'the TTS push');
    expect(JSON.parse(push!.slice(push!.indexOf(' ') + 1))).toEqual({ downlinks: [{ f_port: 2, frm_payload: Buffer.from('a1a2a3a4a5a6a7a8', 'hex').toString('base64'), confirmed: true, priority: 'NORMAL', correlation_ids: [`wot-hub:cmd:${cmd.uuid}`] }] });
    const sent = await until(async () => ((await status(cmd.location)).status === 'SENT' ? status(cmd.location) : undefined), 5000, 'SENT');
    expect(sent).toMatchObject({ interface: LORA, binding: 'tts' });
    expect(sent.history[1]!.evidence).toMatch(new RegExp(`down/push .*on ${LORA}, the interface the device was last heard on \\(queued for ${SIGFOX}\\)`));
    expect((await sigfoxBidir()).code).toBe('204'); // not also answered on Sigfox
  });

  it('a command Sigfox cannot carry (not 8 bytes) waits for LoRaWAN instead of failing on Sigfox', async () => {
    await loraUplink();
    const cmd = await invoke({ hex: '0102' });
    expect((await sigfoxBidir()).code).toBe('204');
    expect(await status(cmd.location)).toMatchObject({ status: 'QUEUED', interface: LORA });
    await loraUplink();
    await until(() => (pushesOf(cmd.uuid).length ? true : undefined), 10_000, 'the TTS push');
    expect(pushesOf(cmd.uuid)).toHaveLength(1);
  });
});
