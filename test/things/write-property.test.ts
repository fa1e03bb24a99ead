// writeproperty on a device Thing: the NGIMU model's eulerRate (hub:writeAction setSendRates, hub:writeInput euler) over
// HTTP PUT and CoAP PUT becomes a queued setSendRates command whose OSC bytes a UDP socket on loopback receives and
// echoes (DELIVERED); 201 + Location as invokeaction, queryaction/cancelaction on it; bad values 400, read-only 405,
// the act scope checked before the body is read.
import type { RemoteInfo, Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { head, rawExchange } from '../http/raw-http.ts';
import { baseUrlOf, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { commandStatus, settleCommand, type CommandStatus } from '../helpers/commands.ts';
import { coapClient, RUN_COAP_PEER_TESTS } from './coap-peers.ts';
import { waitFor } from './fixtures.ts';
import { freeUdpPort, udpSocket } from '../helpers/udp.ts';

const ROOT = join(import.meta.dirname, '../..');
const READER = 'write-reader-token-0123456789abcdef';
const IMU_ID = 'urn:dev:ngimu:write-property';
const QUIET_ID = 'urn:dev:ngimu:write-never-heard';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Status = CommandStatus;
type Form = { href: string; op: string[]; 'htv:methodName'?: string; 'cov:method'?: string; security?: string[] };

/** OSC 1.0 by hand: the address padded to a multiple of 4 (with its NUL), ",f" padded, a big-endian float32. */
function oscFloat(address: string, value: number): Buffer {
  const pad = (s: string) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(4 - (s.length % 4))]);
  const f = Buffer.alloc(4);
  f.writeFloatBE(value);
  return Buffer.concat([pad(address), pad(',f'), f]);
}

let hub: TestHub;
let base: string;
/** The device: receives the hub's OSC datagrams and echoes each back to its sender, as an NGIMU echoes a setting. */
let device: Socket;
const received: Array<{ bytes: Buffer; from: RemoteInfo }> = [];

const path = (id: string, name: string) => `/wot/${encodeURIComponent(id)}/properties/${name}`;
async function write(id: string, name: string, body: string | undefined, headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' }) {
  const res = await fetch(`${base}${path(id, name)}`, { method: 'PUT', headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, location: res.headers.get('location'), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
const status = commandStatus;
const settle = settleCommand;

async function register(id: string, source: string): Promise<void> {
  const res = await hub.app.inject({
    method: 'POST', url: '/thing-models/ngimu-imu/instantiate?register=true', headers: { authorization: hub.bearer },
    payload: { id, placeholders: { TITLE: id, ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: source, SEND_PORT: hub.config.oscPort, MAPPING: 'ngimu-osc' } },
  });
  expect(res.statusCode, res.body).toBe(201);
}

beforeAll(async () => {
  hub = await startTestHub({ oscPort: await freeUdpPort(), tokens: [{ token: READER, scopes: ['read'] }], downlink: { retryDelayMs: 0, maxAttempts: 1 } }, { listen: true });
  base = baseUrlOf(hub);
  const put = await hub.app.inject({ method: 'PUT', url: '/mappings/ngimu-osc', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/ngimu-osc.ttl'), 'utf8') });
  expect(put.statusCode, put.body).toBe(201);
  device = await udpSocket();
  device.on('message', (bytes, from) => {
    received.push({ bytes, from });
    device.send(bytes, from.port, from.address);
  });
  await register(IMU_ID, `127.0.0.1:${device.address().port}`);
  // Not an ip:port key and never heard: its commands wait QUEUED (until their TTL), so they can be cancelled.
  await register(QUIET_ID, 'never-heard-write-0001');
  await waitFor(() => ([IMU_ID, QUIET_ID].every((id) => hub.things.hasThing(id) && hub.routing.index.entriesOf(id).length > 0) ? true : undefined), 10_000, 'exposure');
}, 60_000);

afterAll(async () => {
  if (device) await new Promise<void>((r) => device.close(() => r()));
  await hub?.stop();
});

describe('writeproperty on a device Thing (NGIMU eulerRate -> setSendRates {euler})', () => {
  it('the TD offers writeproperty by PUT (HTTP and CoAP, act scope) on eulerRate only; no readproperty on the write-only property', async () => {
    const res = await fetch(`${base}/wot/${encodeURIComponent(IMU_ID)}`);
    expect(res.status).toBe(200);
    const td = (await res.json()) as { properties: Record<string, { forms: Form[] }> };
    const forms = td.properties.eulerRate!.forms;
    const http = forms.filter((f) => f.href.startsWith('http'));
    expect(http).toEqual([{ href: `${hub.config.baseUrl}${path(IMU_ID, 'eulerRate')}`, contentType: 'application/json', op: ['writeproperty'], 'htv:methodName': 'PUT' }]);
    const coap = forms.filter((f) => f.href.startsWith('coap'));
    expect(coap).toEqual([{ href: `coap://127.0.0.1:${hub.things.coapPort}${path(IMU_ID, 'eulerRate')}`, contentType: 'application/json', op: ['writeproperty'], 'cov:method': 'PUT', security: ['coap_bearer_sc'] }]);
    expect(td.properties.eulerRate).toMatchObject({ readOnly: false, writeOnly: true, 'hub:writeAction': 'setSendRates', 'hub:writeInput': 'euler' });
    // a read-only property offers no writeproperty form
    expect(td.properties.roll!.forms.flatMap((f) => f.op)).not.toContain('writeproperty');
    expect(td.properties.roll!.forms.flatMap((f) => f.op)).toContain('readproperty');
    // the registered TD (instantiated from the Thing Model) promises writeproperty on eulerRate only (HTTP's default PUT)
    const dir = (await (await fetch(`${base}/things/${encodeURIComponent(IMU_ID)}`)).json()) as typeof td;
    expect(dir.properties.eulerRate!.forms).toEqual([{ href: `${hub.config.baseUrl}${path(IMU_ID, 'eulerRate')}`, contentType: 'application/json', op: ['writeproperty'] }]);
    const promised = Object.entries(dir.properties).filter(([, p]) => p.forms.some((f) => [f.op].flat().includes('writeproperty')));
    expect(promised.map(([name]) => name)).toEqual(['eulerRate']);
  });

  it('HTTP PUT 40: 201 + Location; the device gets /rate/euler 40.0 from the hub OSC port, echoes it: DELIVERED; queryallactions lists it', async () => {
    received.length = 0;
    const res = await write(IMU_ID, 'eulerRate', '40');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: 'QUEUED', id: expect.stringMatching(/^urn:uuid:/) });
    const uuid = String(res.body.id).slice('urn:uuid:'.length);
    expect(res.location).toBe(`${hub.config.baseUrl}/wot/${encodeURIComponent(IMU_ID)}/commands/${uuid}`);
    expect(res.body.href).toBe(res.location);
    const done = await settle(res.location!, (s) => ['DELIVERED', 'FAILED', 'EXPIRED'].includes(s.status));
    expect(done).toMatchObject({ thingId: IMU_ID, action: 'setSendRates', input: { euler: 40 }, status: 'DELIVERED' });
    expect(done.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    expect(done.history[1]!.evidence).toContain(`OSC to 127.0.0.1:${device.address().port}: /rate/euler 40`);
    // exactly one datagram, these bytes, from the hub's own OSC socket
    expect(received.map((r) => r.bytes.toString('hex'))).toEqual([oscFloat('/rate/euler', 40).toString('hex')]);
    expect(oscFloat('/rate/euler', 40).toString('hex')).toBe('2f726174652f65756c6572002c66000042200000');
    expect(received[0]!.from).toMatchObject({ address: '127.0.0.1', port: hub.config.oscPort });
    const all = (await (await fetch(`${base}/wot/${encodeURIComponent(IMU_ID)}/commands`)).json()) as Status[];
    expect(all.map((c) => c.id)).toContain(res.body.id);
  });

  it('a write is a command like any other: cancelaction on its Location (QUEUED, device never heard) -> CANCELLED, never sent', async () => {
    const res = await write(QUIET_ID, 'eulerRate', '0');
    expect(res.status).toBe(201);
    expect((await status(res.location!)).status).toBe('QUEUED');
    const del = await fetch(res.location!, { method: 'DELETE', headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(del.status).toBe(200);
    const cancelled = (await del.json()) as Status;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', action: 'setSendRates', input: { euler: 0 } });
    expect(cancelled.history.map((h) => h.status)).toEqual(['QUEUED', 'CANCELLED']);
    expect(cancelled.history[1]!.evidence).toMatch(/^cancelled by token:[0-9a-f]{12}/);
  });

  it('bad values are 400 problem+json naming the field, before anything is queued or sent', async () => {
    const before = hub.downlink.service.list(IMU_ID).length;
    received.length = 0;
    const cases: Array<[string | undefined, string, string, string]> = [
      ['5000', 'application/json', 'validation-failed', '/'],
      ['-1', 'application/json', 'validation-failed', '/'],
      ['"fast"', 'application/json', 'validation-failed', '/'],
      [undefined, 'application/json', 'validation-failed', '/'],
      ['{"euler": 3', 'application/json', 'bad-json', ''],
      ['40', 'text/plain', 'unsupported-media-type', ''],
    ];
    for (const [body, type, code, field] of cases) {
      const res = await write(IMU_ID, 'eulerRate', body, { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': type });
      expect(res.headers.get('content-type'), `${body}`).toMatch(/^application\/problem\+json/);
      expect(res.body.code, `${body}`).toBe(code);
      expect(res.status, `${body}`).toBe(code === 'unsupported-media-type' ? 415 : 400);
      if (field) expect((res.body.validationErrors as Array<{ field: string }>).map((e) => e.field), `${body}`).toContain(field);
    }
    const range = await write(IMU_ID, 'eulerRate', '5000');
    expect(range.body.detail).toMatch(/property 'eulerRate'/);
    expect(hub.downlink.service.list(IMU_ID)).toHaveLength(before);
    await sleep(100);
    expect(received).toEqual([]);
  });

  it('a read-only property is 405 property-not-writable (Allow: GET, HEAD); an unknown one 404; an unknown Thing 404', async () => {
    const before = hub.downlink.service.list(IMU_ID).length;
    const ro = await write(IMU_ID, 'roll', '1');
    expect(ro.status).toBe(405);
    expect(ro.body).toMatchObject({ status: 405, code: 'property-not-writable' });
    expect(ro.headers.get('allow')).toBe('GET, HEAD');
    const unknown = await write(IMU_ID, 'wobble', '1');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not-found');
    expect((await write('urn:dev:none', 'eulerRate', '1')).status).toBe(404);
    expect(hub.downlink.service.list(IMU_ID)).toHaveLength(before);
  });

  it('the act scope is checked before the body is read: no token with a 9 MiB body never sent is 401 at once; a read token 403', async () => {
    const port = Number(new URL(base).port);
    const res = await rawExchange(port, head('PUT', path(IMU_ID, 'eulerRate'), { host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'content-length': 9437184 }), { waitMs: 8000 });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(res.firstByteMs).toBeLessThan(4000);
    expect(res.closed).toBe(true);
    const before = hub.downlink.service.list(IMU_ID).length;
    const reader = await write(IMU_ID, 'eulerRate', '10', { authorization: `Bearer ${READER}`, 'content-type': 'application/json' });
    expect(reader.status).toBe(403);
    expect(hub.downlink.service.list(IMU_ID)).toHaveLength(before);
  });

  describe.skipIf(!RUN_COAP_PEER_TESTS)('over CoAP (coap-client-notls from libcoap3-bin)', () => {
    it('PUT 20 is 2.01 with Location-Path of the status resource; the device gets /rate/euler 20.0; no token 4.01, read-only 4.05, bad value 4.00', async () => {
      received.length = 0;
      const uri = `coap://127.0.0.1:${hub.things.coapPort}${path(IMU_ID, 'eulerRate')}`;
      const put = await coapClient(['-v', '7', '-m', 'put', '-t', 'application/json', '-e', '20', '-B', '5', `${uri}?access_token=${TEST_ADMIN_TOKEN}`]);
      const out = put.stdout + put.stderr;
      const line = out.split('\n').find((l) => /^v:1 t:(ACK|CON|NON) c:[2-5]\.\d\d/.test(l.trim()));
      expect(line, out).toBeDefined();
      expect(line).toMatch(/c:2\.01/);
      const location = [...line!.matchAll(/Location-Path:([^,\]\s]+)/g)].map((m) => m[1]!);
      expect(location.slice(0, 3)).toEqual(['wot', IMU_ID, 'commands']);
      expect(location[3]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const done = await settle(`${base}/wot/${encodeURIComponent(IMU_ID)}/commands/${location[3]}`, (s) => s.status === 'DELIVERED' || s.status === 'FAILED');
      expect(done).toMatchObject({ action: 'setSendRates', input: { euler: 20 }, status: 'DELIVERED' });
      expect(received.map((r) => r.bytes.toString('hex'))).toEqual([oscFloat('/rate/euler', 20).toString('hex')]);

      const anonymous = await coapClient(['-m', 'put', '-t', 'application/json', '-e', '20', '-B', '5', uri]);
      expect(anonymous.stdout + anonymous.stderr).toMatch(/4\.01 unauthorized/);
      const readOnly = await coapClient(['-m', 'put', '-t', 'application/json', '-e', '1', '-B', '5', `coap://127.0.0.1:${hub.things.coapPort}${path(IMU_ID, 'roll')}?access_token=${TEST_ADMIN_TOKEN}`]);
      expect(readOnly.stdout + readOnly.stderr).toMatch(/4\.05 property-not-writable/);
      const bad = await coapClient(['-m', 'put', '-t', 'application/json', '-e', '5000', '-B', '5', `${uri}?access_token=${TEST_ADMIN_TOKEN}`]);
      expect(bad.stdout + bad.stderr).toMatch(/4\.00 validation-failed/);
      await sleep(100);
      expect(received).toHaveLength(1);
    });
  });
});
