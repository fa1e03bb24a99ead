// The Cookie TCP listener against hostile streams: truncated frames, garbage, wrong types, oversized frames, unknown devices,
// a flood, too many connections; each refused and counted, the hub still serving the good messages in between.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenCookie, type CookieListener } from '../../../hub/bindings/cookie/listener.ts';
import { TokenAuth } from '../../../hub/http/auth.ts';
import type { TestHub } from '../../helpers/hub.ts';
import { TEST_ADMIN_TOKEN } from '../../helpers/hub.ts';
import { cookieHub, cookieListener, ids, live, observations, rawTcp, until } from './helpers.ts';

const GOOD = (seq: number, rssi: number) => `lane-1:2:bt-detection:data:${seq}#2026-03-01T10\\:00\\:${String(seq % 60).padStart(2, '0')}Z:AA\\:BB\\:CC\\:00\\:00\\:01:200408:${rssi}\u0000`;

let hub: TestHub;
beforeAll(async () => {
  hub = await cookieHub(['lane-1']);
});
afterAll(() => hub?.stop());

describe('hostile streams on the Cookie TCP listener', () => {
  let port: number;
  const n = ids('lane-1');
  beforeAll(() => {
    port = cookieListener(hub).address!.port;
  });
  const stats = () => cookieListener(hub).stats();

  it('garbage, wrong types, unknown devices and a truncated tail are refused by code; good frames around them are stored', async () => {
    await rawTcp(port, [
      GOOD(1, -60),
      Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0x00]), // not UTF-8
      'complete nonsense\u0000',
      'lane-1:3:radar-count:data:2#1772359200:many\u0000', // wrong type
      'lane-1:2:bt-detection:data:3#1:{x}\u0000', // a group where a value goes
      'ghost-9:2:bt-detection:data:1#1772359200:AA:200408:-50\u0000', // no Thing
      'lane-1:9:bt-detection:data:4#1772359200:AA:200408:-50\u0000', // a sensor the device has no shadow for
      'lane-1:2:bt-detection:data:5#1772359200:AA:200408:-70', // no NUL: the stream ends inside it
    ]);
    await rawTcp(port, ['\u0000\u0000', GOOD(6, -66).slice(0, 20), GOOD(6, -66).slice(20)]); // empty frames; a frame split across writes
    const ingest = cookieListener(hub).ingest;
    await until(() => ingest.counters.stored, (s) => s >= 2);
    expect(ingest.stats()).toMatchObject({
      'rejected:cookie-not-text': 1,
      'rejected:cookie-truncated': 2, // "complete nonsense" has no '#', and the tail without NUL
      'rejected:cookie-wrong-type': 2,
      'rejected:unknown-device': 2,
    });
    expect(stats()).toMatchObject({ truncated: 1, oversized: 0 });
    expect((await observations(hub, n.bt, 'btRssi')).map((o) => Number(o.value))).toEqual([-60, -66]);
    expect(await live(hub, n.bt, 'rssi')).toBe(-66);
  });

  it('an oversized frame is skipped to its NUL and counted; the next frame on the connection still counts', async () => {
    const before = stats().oversized as number;
    await rawTcp(port, [`lane-1:2:bt-detection:data:7#${'x'.repeat(5000)}`, 'y'.repeat(5000), `\u0000${GOOD(8, -58)}`]);
    await until(() => observations(hub, n.bt, 'btRssi'), (r) => r.length === 3);
    expect(stats().oversized).toBe(before + 1);
    expect(cookieListener(hub).ingest.stats()['rejected:payload-too-large']).toBe(1);
    expect(await until(() => live(hub, n.bt, 'rssi'), (v) => v === -58)).toBe(-58);
  });

  it('a flood from one peer (three connections) is cut to the per-peer rate bound and counted; the hub keeps answering', async () => {
    // one peer, many connections: they share the peer's bucket
    const burst = Array.from({ length: 1500 }, (_, i) => `ghost-${i % 10}:2:bt-detection:data:${i}#1:AA:200408:-50\u0000`);
    const [frames0, flood0] = [stats().frames as number, stats().flood as number];
    const t0 = Date.now();
    await Promise.all([0, 1, 2].map((k) => rawTcp(port, [burst.slice(k * 500, (k + 1) * 500).join('')])));
    await until(() => stats().frames as number, (f) => f >= frames0 + 1500);
    expect(stats().frames).toBe(frames0 + 1500);
    const flood = (stats().flood as number) - flood0;
    expect(flood).toBeGreaterThan(900); // 200/s with a burst of 400
    expect(flood).toBeLessThan(1500 - 400 + 1);
    expect(cookieListener(hub).ingest.stats()['rejected:cookie-flood']).toBe(stats().flood);
    const health = await hub.app.inject({ url: '/health' });
    expect(health.statusCode).toBeLessThan(500);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('connection bounds', () => {
  let listener: CookieListener;
  beforeAll(async () => {
    const quiet = { info() {}, warn() {}, error() {} };
    listener = await listenCookie({ config: hub.config, uplinks: hub.uplinks, auth: new TokenAuth(hub.config, TEST_ADMIN_TOKEN), secrets: { secret: () => undefined }, log: quiet }, 0, { maxConnectionsPerPeer: 3, idleTimeoutMs: 300 });
  });
  afterAll(() => listener?.stop());

  it('binds to the configured host; a peer over its connection bound is dropped; idle connections are closed', async () => {
    expect(listener.address!.host).toBe('127.0.0.1');
    const sockets = await Promise.all(
      Array.from({ length: 5 }, () => new Promise<import('node:net').Socket>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: listener.address!.port }, () => resolve(s));
        s.on('error', () => {});
      })),
    );
    await until(() => listener.stats(), (s) => s.connectionsRefused === 2 && s.connections === 3);
    expect(listener.stats()).toMatchObject({ connections: 3, connectionsRefused: 2 });
    await until(() => listener.stats().connections, (c) => c === 0, 3000);
    expect(listener.stats()).toMatchObject({ connections: 0, idleClosed: 3 });
    for (const s of sockets) s.destroy();
  });
});
