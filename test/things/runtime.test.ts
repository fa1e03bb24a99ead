// ThingRuntime on its own (no HTTP app): observation limits, fan-out of one notification to many observers, removal.
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceUnavailableError } from '../../hub/errors.ts';
import { TokenAuth } from '../../hub/http/auth.ts';
import { LiveState } from '../../hub/routing/live-state.ts';
import { MemoryCommandSink } from '../../hub/things/command-sink.ts';
import { ThingRuntime } from '../../hub/things/thing-runtime.ts';
import { DEVICE_ID, deviceTd, uplink, waitFor } from './fixtures.ts';

describe('ThingRuntime', () => {
  let runtime: ThingRuntime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
  });

  async function start(maxObservers: number): Promise<{ runtime: ThingRuntime; live: LiveState }> {
    const live = new LiveState();
    const auth = new TokenAuth({ tokens: [], readsOpen: 'loopback', host: '127.0.0.1' }, 'runtime-admin-token-0123456789');
    runtime = new ThingRuntime({
      config: { host: '127.0.0.1', coapPort: 0, baseUrl: 'http://127.0.0.1:8080' },
      auth,
      liveState: live,
      commands: new MemoryCommandSink(),
      maxObservers,
    });
    await runtime.start();
    await runtime.exposeDevice(deviceTd());
    return { runtime, live };
  }

  it('gives every observer its own complete copy of each notification', async () => {
    const { runtime, live } = await start(10);
    const seen: string[][] = [[], [], [], []];
    const stops = await Promise.all(seen.map((list) => runtime.observe(DEVICE_ID, 'property', 'temperature', (b) => list.push(b.toString()))));
    live.publish(uplink(DEVICE_ID, { temperature: 12.5 }));
    live.publish(uplink(DEVICE_ID, { temperature: 13.5 }));
    await waitFor(() => (seen.every((l) => l.length === 2) ? true : undefined), 2000, 'notifications');
    for (const list of seen) expect(list).toEqual(['12.5', '13.5']);
    stops[0]!();
    stops[0]!(); // idempotent
    expect(runtime.observers.count).toBe(3);
  });

  it('refuses observations past the limit with 503 overloaded, and frees them on removal', async () => {
    const { runtime } = await start(2);
    const ended: string[] = [];
    // Like the SSE and CoAP front-ends, the end callback also unsubscribes: the count must not go below zero.
    const stopTemperature: Array<() => void> = [];
    stopTemperature.push(
      await runtime.observe(DEVICE_ID, 'property', 'temperature', () => {}, () => {
        ended.push('temperature');
        stopTemperature[0]!();
      }),
    );
    await runtime.observe(DEVICE_ID, 'event', 'uplink', () => {}, () => ended.push('uplink'));
    const third = runtime.observe(DEVICE_ID, 'property', 'humidity', () => {});
    await expect(third).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(third).rejects.toMatchObject({ status: 503, code: 'overloaded', headers: { 'retry-after': '10' } });
    await runtime.remove(DEVICE_ID);
    expect(runtime.observers.count).toBe(0);
    expect(ended.sort()).toEqual(['temperature', 'uplink']);
    await expect(runtime.readProperty(DEVICE_ID, 'temperature')).rejects.toMatchObject({ status: 404, code: 'not-found' });
  });

  it('rejects unknown affordances (404) and action input that is not JSON (415)', async () => {
    const { runtime } = await start(10);
    await expect(runtime.observe(DEVICE_ID, 'property', 'nope', () => {})).rejects.toMatchObject({ status: 404 });
    await expect(runtime.invokeAction(DEVICE_ID, 'nope', undefined, undefined)).rejects.toMatchObject({ status: 404 });
    await expect(runtime.invokeAction(DEVICE_ID, 'setInterval', Buffer.from('<x/>'), 'application/xml')).rejects.toMatchObject({
      status: 415,
    });
  });
});

describe('coapFormHost', () => {
  it('names the bind address, or the base URL host when bound to a wildcard address', async () => {
    const { coapFormHost } = await import('../../hub/things/hub-forms.ts');
    expect(coapFormHost('127.0.0.1', 'http://127.0.0.1:8080')).toBe('127.0.0.1');
    expect(coapFormHost('0.0.0.0', 'https://hub.example.org')).toBe('hub.example.org');
    expect(coapFormHost('::', 'http://[2001:db8::1]:8080')).toBe('[2001:db8::1]');
    expect(coapFormHost('::1', 'http://[::1]:8080')).toBe('[::1]');
  });
});

describe('ThingRuntime start failure', () => {
  it('fails on a CoAP port in use when CoAP is required, else serves HTTP only and reports it', async () => {
    const { createSocket } = await import('node:dgram');
    const blocker = createSocket('udp4');
    await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', () => r()));
    const port = blocker.address().port;
    const auth = new TokenAuth({ tokens: [], readsOpen: 'loopback', host: '127.0.0.1' }, 'runtime-admin-token-0123456789');
    const errors: string[] = [];
    const make = (coapRequired: boolean) =>
      new ThingRuntime({
        config: { host: '127.0.0.1', coapPort: port, baseUrl: 'http://127.0.0.1:8080' },
        auth,
        liveState: new LiveState(),
        commands: new MemoryCommandSink(),
        coapRequired,
        onError: (e, context) => errors.push(`${context}: ${(e as { code?: string }).code}`),
      });
    try {
      const strict = make(true);
      await expect(strict.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect(strict.stop()).resolves.toBeUndefined();
      const tolerant = make(false);
      await tolerant.start();
      try {
        expect(tolerant.coapListening).toBe(false);
        expect(errors).toEqual([expect.stringMatching(/^CoAP server not started .*EADDRINUSE$/)]);
        await tolerant.exposeDevice(deviceTd());
        const td = tolerant.thingDescription(DEVICE_ID) as { properties: Record<string, { forms: Array<{ href: string }> }> };
        expect(td.properties.temperature!.forms.map((f) => f.href.split(':')[0])).toEqual(['http', 'http']);
      } finally {
        await tolerant.stop();
      }
    } finally {
      blocker.close();
    }
  });
});
