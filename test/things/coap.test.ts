// Every Thing over CoAP with a real peer (libcoap coap-client-notls): read, action, several observers, hostile input.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryCommandSink } from '../../hub/things/command-sink.ts';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { coapClient, coapRequest, pathOptions, RUN_COAP_PEER_TESTS } from './coap-peers.ts';
import { DEVICE_ID, deviceTd, uplink, waitFor } from './fixtures.ts';

describe.skipIf(!RUN_COAP_PEER_TESTS)('device Things over CoAP (peer: coap-client-notls from Debian libcoap3-bin; skipped when it is not installed)', () => {
  let hub: TestHub;
  let base: string;
  let ticker: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    hub = await startTestHub();
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.thingIds().includes(DEVICE_ID) ? true : undefined), 3000, 'exposure');
    base = `coap://127.0.0.1:${hub.things.coapPort}/wot/${encodeURIComponent(DEVICE_ID)}`;
  });
  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await hub?.stop();
  });

  it('binds CoAP to the configured host and answers a property read from coap-client-notls', async () => {
    const td = hub.things.thingDescription(DEVICE_ID) as { properties: Record<string, { forms: Array<{ href: string }> }> };
    const coapHrefs = td.properties.temperature!.forms.map((f) => f.href).filter((h) => h.startsWith('coap:'));
    expect(coapHrefs).toEqual([`${base}/properties/temperature`]);
    hub.liveState.publish(uplink(DEVICE_ID, { temperature: 21.75 }));
    const run = await coapClient(['-m', 'get', '-B', '5', `${base}/properties/temperature`]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toBe(21.75);
  });

  it('invokes an action with a token, and refuses bad input (4.00) and a missing token (4.01)', async () => {
    const url = `${base}/actions/setInterval`;
    const ok = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"seconds":900}', '-B', '5', `${url}?access_token=${TEST_ADMIN_TOKEN}`]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'QUEUED' });
    expect((hub.commands as MemoryCommandSink).commands(DEVICE_ID).at(-1)).toMatchObject({ input: { seconds: 900 } });
    const bad = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"seconds":1}', '-B', '5', `${url}?access_token=${TEST_ADMIN_TOKEN}`]);
    expect(bad.stdout + bad.stderr).toMatch(/4\.00 validation-failed/);
    const anonymous = await coapClient(['-m', 'post', '-t', 'application/json', '-e', '{"seconds":900}', '-B', '5', url]);
    expect(anonymous.stdout + anonymous.stderr).toMatch(/4\.01 unauthorized/);
  });

  it('serves /.well-known/core with wot.directory and wot.thing links (RFC 6690)', async () => {
    const run = await coapClient(['-m', 'get', '-B', '5', `coap://127.0.0.1:${hub.things.coapPort}/.well-known/core`]);
    expect(run.stdout).toContain(`<${hub.config.baseUrl}/.well-known/wot>;rt="wot.directory"`);
    expect(run.stdout).toContain(`</wot/${encodeURIComponent(DEVICE_ID)}>;rt="wot.thing";ct=432`);
    const filtered = await coapClient(['-m', 'get', '-B', '5', `coap://127.0.0.1:${hub.things.coapPort}/.well-known/core?rt=wot.directory`]);
    expect(filtered.stdout).not.toContain('wot.thing');
  });

  it('gives three concurrent observers every notification, each on its own stream', async () => {
    let value = 1000;
    hub.liveState.publish(uplink(DEVICE_ID, { temperature: value }));
    const runs = [0, 1, 2].map(() => coapClient(['-m', 'get', '-s', '3', '-B', '4', `${base}/properties/temperature`], 10_000));
    await waitFor(() => (hub.things.coapRouter.observeRelations >= 3 ? true : undefined), 5000, 'three observe relations');
    ticker = setInterval(() => hub.liveState.publish(uplink(DEVICE_ID, { temperature: ++value })), 250);
    const outputs = await Promise.all(runs);
    clearInterval(ticker);
    for (const out of outputs) {
      // coap-client prints payloads back to back: the initial state then 1001, 1002, ...
      expect(out.stdout.startsWith('1000')).toBe(true);
      for (const v of [1001, 1002, 1003, 1004]) expect(out.stdout).toContain(String(v));
    }
  });

  it('survives garbage datagrams and observers that vanish or reset', async () => {
    const port = hub.things.coapPort;
    const sockets: Socket[] = [];
    const open = async () => {
      const s = createSocket('udp4');
      s.on('error', () => {});
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      sockets.push(s);
      return s;
    };
    const garbage = [
      Buffer.alloc(0),
      Buffer.from([0xff]),
      Buffer.from([0x40, 0x01]),
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0x4f, 0x01, 0x00, 0x01]), // token length 15 (reserved)
      coapRequest(1, 7, Buffer.from('ab'), [[11, Buffer.from('wot')], [11, Buffer.from('%E0%A4%A')], [11, Buffer.from('properties')], [11, Buffer.from('x')]]),
      coapRequest(2, 8, Buffer.from('ab'), [[11, Buffer.from('wot')], [11, Buffer.from(DEVICE_ID)], [11, Buffer.from('actions')], [11, Buffer.from('setInterval')]]),
      coapRequest(1, 9, Buffer.from('ab'), pathOptions(['wot', DEVICE_ID, 'events', 'nope'], true)),
      ...Array.from({ length: 50 }, (_, i) => Buffer.from(Array.from({ length: 1 + ((i * 37) % 300) }, (_, j) => (i * 131 + j * 17) & 0xff))),
    ];
    const baseline = hub.things.coapRouter.observeRelations;
    const g = await open();
    for (const d of garbage) g.send(d, port, '127.0.0.1');
    // 40 observers: half reset on the first notification (RFC 7641 §3.6), half vanish (socket closed).
    const observers: Socket[] = [];
    for (let i = 0; i < 40; i++) {
      const s = await open();
      observers.push(s);
      const token = Buffer.from([i, 0xaa]);
      s.on('message', (msg) => {
        if (i % 2 === 0 && msg.length >= 4 && (msg[0]! & 0x30) === 0x00) {
          s.send(Buffer.from([0x70, 0x00, msg[2]!, msg[3]!]), port, '127.0.0.1'); // RST to a CON notification
        } else if (i % 2 === 0 && msg.length >= 4 && (msg[0]! & 0x30) === 0x10) {
          s.send(Buffer.from([0x70, 0x00, msg[2]!, msg[3]!]), port, '127.0.0.1'); // RST to a NON notification
        }
      });
      s.send(coapRequest(1, 100 + i, token, pathOptions(['wot', DEVICE_ID, 'properties', 'temperature'], true)), port, '127.0.0.1');
    }
    await waitFor(() => (hub.things.coapRouter.observeRelations >= baseline + 40 ? true : undefined), 5000, '40 observe relations');
    for (let i = 1; i < 40; i += 2) observers[i]!.close();
    for (let n = 0; n < 3; n++) {
      hub.liveState.publish(uplink(DEVICE_ID, { temperature: 50 + n }));
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(() => (hub.things.coapRouter.observeRelations <= baseline + 20 ? true : undefined), 5000, 'reset observers to be dropped');
    const read = await coapClient(['-m', 'get', '-B', '5', `${base}/properties/temperature`]);
    expect(JSON.parse(read.stdout)).toBe(52);
    const health = await hub.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    for (const s of sockets) {
      try {
        s.close();
      } catch {
        /* already closed */
      }
    }
  });

  it('ends an observe relation when the client deregisters with Observe: 1 (RFC 7641 §3.6)', async () => {
    const port = hub.things.coapPort;
    const s = createSocket('udp4');
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      const baseline = hub.things.coapRouter.observeRelations;
      const token = Buffer.from([0x42, 0x43]);
      const segments = ['wot', DEVICE_ID, 'properties', 'humidity'];
      s.send(coapRequest(1, 900, token, pathOptions(segments, true)), port, '127.0.0.1');
      await waitFor(() => (hub.things.coapRouter.observeRelations === baseline + 1 ? true : undefined), 3000, 'registration');
      const deregister = pathOptions(segments, false);
      deregister.push([6, Buffer.from([1])]);
      const reply = new Promise<Buffer>((resolve) => s.once('message', resolve));
      s.send(coapRequest(1, 901, token, deregister), port, '127.0.0.1');
      await waitFor(() => (hub.things.coapRouter.observeRelations === baseline ? true : undefined), 3000, 'deregistration');
      expect((await reply)[1]).toBeGreaterThanOrEqual(0x40); // a response (2.05 or 4.04 no-value), not silence
    } finally {
      s.close();
    }
  });

  it('caps the observe relations of one client endpoint at 64 and answers more with 5.03', async () => {
    const port = hub.things.coapPort;
    const s = createSocket('udp4');
    const codes: number[] = [];
    s.on('error', () => {});
    s.on('message', (msg) => codes.push(msg[1]!));
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      const baseline = hub.things.coapRouter.observeRelations;
      for (let i = 0; i < 70; i++) {
        const token = Buffer.from([0x77, i]);
        s.send(coapRequest(1, 2000 + i, token, pathOptions(['wot', DEVICE_ID, 'properties', 'humidity'], true)), port, '127.0.0.1');
      }
      await waitFor(() => (codes.filter((c) => c === 0xa3).length === 6 ? true : undefined), 5000, 'six 5.03 answers');
      expect(hub.things.coapRouter.observeRelations).toBe(baseline + 64);
    } finally {
      s.close();
    }
  });

  it('serves the TD over CoAP (application/td+json) and event notifications to coap-client-notls', async () => {
    const tdRun = await coapClient(['-m', 'get', '-B', '5', base]);
    expect(JSON.parse(tdRun.stdout)).toMatchObject({ id: DEVICE_ID });
    const run = coapClient(['-m', 'get', '-s', '2', '-B', '3', `${base}/events/temperature`], 10_000);
    const before = hub.things.observers.count;
    await waitFor(() => (hub.things.observers.count > before ? true : undefined), 5000, 'event subscription');
    for (const t of [61.5, 62.5, 63.5]) {
      hub.liveState.publish(uplink(DEVICE_ID, { temperature: t }));
      await new Promise((r) => setTimeout(r, 150));
    }
    const out = await run;
    for (const t of ['61.5', '62.5', '63.5']) expect(out.stdout).toContain(t);
  });

  it('binds only the configured host and opens no mDNS socket (node-wot would bind 0.0.0.0:5353)', async () => {
    const { readFileSync, readdirSync, readlinkSync } = await import('node:fs');
    const mine = new Set<string>();
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
        if (m) mine.add(m[1]!);
      } catch {
        /* fd closed meanwhile */
      }
    }
    const rows = readFileSync('/proc/self/net/udp', 'utf8').trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const ours = rows.filter((r) => mine.has(r[9]!)).map((r) => r[1]!);
    const coapHex = hub.things.coapPort.toString(16).toUpperCase().padStart(4, '0');
    expect(ours).toContain(`0100007F:${coapHex}`);
    expect(ours.filter((a) => a.endsWith(':14E9'))).toEqual([]);
    expect(ours.filter((a) => a.startsWith('00000000:'))).toEqual([]);
  });
});
