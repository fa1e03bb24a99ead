// A rule that writes a device property: {write, thing, value} becomes a writeproperty on the NGIMU's eulerRate, queued
// as setSendRates {euler} (requester rule:<name>), whose OSC bytes a UDP socket on loopback receives; a non-writable
// property is refused at definition time naming /actions/i/write; a Thing moved out of the domain fails the run.
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { udpSocket } from '../helpers/udp.ts';

const ROOT = join(import.meta.dirname, '../..');
const TEMP = 'urn:dev:rules-write:temp';
const IMU_ID = 'urn:dev:rules-write:imu';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** OSC 1.0: "/rate/euler" padded to 12, ",f" padded to 4, a big-endian float32. */
function rateEuler(value: number): string {
  const f = Buffer.alloc(4);
  f.writeFloatBE(value);
  return Buffer.concat([Buffer.from('/rate/euler\0', 'latin1'), Buffer.from(',f\0\0', 'latin1'), f]).toString('hex');
}

describe('rules that write a device property', () => {
  let hub: TestHub;
  let device: Socket;
  const received: string[] = [];
  const put = (name: string, body: unknown) => hub.app.inject({ method: 'PUT', url: `/rules/${name}`, headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const temp = (value: number) => hub.liveState.publish({ meta: { thingId: TEMP, protocol: 'test', receivedAt: new Date().toISOString() }, payload: { temperature: value } });
  const until = async (f: () => boolean, ms = 5000) => {
    for (const end = Date.now() + ms; !f() && Date.now() < end; ) await sleep(20);
    return f();
  };
  const rule = {
    title: 'Stream orientation faster when warm',
    things: { t: TEMP, imu: IMU_ID },
    triggers: [{ thing: 't', property: 'temperature' }],
    actions: [{ write: 'eulerRate', thing: 'imu', value: 'value > 30 ? 100 : 10' }],
  };

  beforeAll(async () => {
    const probe = await udpSocket();
    const oscPort = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    hub = await startTestHub({ oscPort, downlink: { retryDelayMs: 0, maxAttempts: 1 } }, { listen: true });
    const map = await hub.app.inject({ method: 'PUT', url: '/mappings/ngimu-osc', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/ngimu-osc.ttl'), 'utf8') });
    expect(map.statusCode, map.body).toBe(201);
    device = await udpSocket();
    device.on('message', (bytes, from) => {
      received.push(bytes.toString('hex'));
      device.send(bytes, from.port, from.address); // the NGIMU echoes a setting: DELIVERED
    });
    const reg = await hub.app.inject({
      method: 'POST', url: '/thing-models/ngimu-imu/instantiate?register=true', headers: { authorization: hub.bearer },
      payload: { id: IMU_ID, placeholders: { TITLE: 'IMU', ADAPTER_ID: 'urn:wot-hub:adapter:osc', OSC_SOURCE: `127.0.0.1:${device.address().port}`, SEND_PORT: oscPort, MAPPING: 'ngimu-osc' } },
    });
    expect(reg.statusCode, reg.body).toBe(201);
    const sensor = await hub.app.inject({
      method: 'PUT', url: `/things/${encodeURIComponent(TEMP)}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' },
      payload: { '@context': 'https://www.w3.org/2022/wot/td/v1.1', id: TEMP, title: 'temp', securityDefinitions: { nosec_sc: { scheme: 'nosec' } }, security: ['nosec_sc'], properties: { temperature: { type: 'number', readOnly: true, observable: true, forms: [{ href: 'x' }] } } },
    });
    expect(sensor.statusCode, sensor.body).toBe(201);
    expect(await until(() => hub.things.hasThing(IMU_ID) && hub.things.hasThing(TEMP) && hub.routing.index.entriesOf(IMU_ID).length > 0, 10_000)).toBe(true);
  }, 60_000);
  afterAll(async () => {
    if (device) await new Promise<void>((r) => device.close(() => r()));
    await hub?.stop();
  });

  it('a non-writable or unknown property of a known TD is refused at definition time, naming /actions/0/write', async () => {
    for (const property of ['roll', 'nothing']) {
      const res = await put('bad-write', { ...rule, actions: [{ write: property, thing: 'imu', value: '1' }] });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json()).toMatchObject({ code: 'rule-property-not-writable', member: '/actions/0/write' });
      expect(res.json().detail).toContain('eulerRate');
    }
    expect((await hub.app.inject({ url: '/rules/bad-write', headers: { authorization: hub.bearer } })).statusCode).toBe(404);
  });

  it('a property change runs the rule: the device gets /rate/euler 100 then 10, queued as setSendRates by rule:<name>, DELIVERED', async () => {
    const res = await put('imu-rate', rule);
    expect(res.statusCode, res.body).toBe(201);
    received.length = 0;
    temp(35);
    expect(await until(() => received.length >= 1)).toBe(true);
    temp(20);
    expect(await until(() => received.length >= 2)).toBe(true);
    expect(received).toEqual([rateEuler(100), rateEuler(10)]);
    const commands = hub.downlink.service.list(IMU_ID);
    expect(commands.map((c) => [c.action, c.input])).toEqual([['setSendRates', { euler: 100 }], ['setSendRates', { euler: 10 }]]);
    expect(await until(() => hub.downlink.service.list(IMU_ID).every((c) => c.status === 'DELIVERED'))).toBe(true);
    expect(commands.map((c) => (c as { requester?: string }).requester)).toEqual(['rule:imu-rate', 'rule:imu-rate']);
    const status = (await hub.app.inject({ url: '/rules/imu-rate', headers: { authorization: hub.bearer } })).json().status;
    expect(status).toMatchObject({ runs: 2, failures: 0 });
  });

  it('a value the property schema refuses fails the run (counted, lastError names it); nothing is sent', async () => {
    const res = await put('imu-rate', { ...rule, actions: [{ write: 'eulerRate', thing: 'imu', value: 'value * 1000' }] });
    expect(res.statusCode, res.body).toBe(200);
    received.length = 0;
    const before = hub.downlink.service.list(IMU_ID).length;
    temp(36);
    expect(await until(() => ruleFailures() >= 1)).toBe(true);
    expect(lastError()).toMatch(/^validation-failed: The value of property 'eulerRate' does not match its schema/);
    await sleep(100);
    expect(received).toEqual([]);
    expect(hub.downlink.service.list(IMU_ID)).toHaveLength(before);
  });

  it("the domain check applies on each run: once the device's TD moves to another domain, the write fails rule-outside-domain", async () => {
    const res = await put('imu-rate', rule);
    expect(res.statusCode, res.body).toBe(200);
    const td = (await hub.app.inject({ url: `/things/${encodeURIComponent(IMU_ID)}`, headers: { authorization: hub.bearer } })).json() as Record<string, unknown>;
    delete td.registration;
    const moved = await hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(IMU_ID)}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: { ...td, 'hub:domain': 'elsewhere' } });
    expect(moved.statusCode, moved.body).toBe(204);
    await sleep(100);
    received.length = 0;
    const before = hub.downlink.service.list(IMU_ID).length;
    temp(40);
    expect(await until(() => ruleFailures() >= 1)).toBe(true);
    expect(lastError()).toMatch(/^rule-outside-domain: \/actions\/0: 'urn:dev:rules-write:imu' is of domain 'elsewhere'/);
    expect(received).toEqual([]);
    expect(hub.downlink.service.list(IMU_ID)).toHaveLength(before);
  });

  function ruleFailures(): number {
    return hub.rules.get('imu-rate').status.failures;
  }
  function lastError(): string {
    return hub.rules.get('imu-rate').status.lastError ?? '';
  }
});
