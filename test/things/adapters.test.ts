// Adapters and virtual sensors as Things: counters as observable properties, pause/resume, TDs in the directory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter, AdapterCounters } from '../../hub/things/adapter.ts';
import type { VirtualSensor } from '../../hub/things/virtual-sensor.ts';
import { baseUrlOf, startTestHub, type TestHub } from '../helpers/hub.ts';
import { openSse, uplink, waitFor } from './fixtures.ts';

class FakeAdapter implements Adapter {
  readonly kind = 'lorawan';
  paused = false;
  readonly counts: AdapterCounters = { received: 0, decoded: 0, rejected: 0, queueLength: 0 };
  constructor(readonly id: string) {}
  counters(): AdapterCounters {
    return { ...this.counts };
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

describe('adapter and virtual sensor Things', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({}, { listen: true });
  });
  afterAll(() => hub?.stop());

  it('exposes an adapter from its Thing Model, registers its TD with hub forms, pauses and resumes it', async () => {
    const adapter = new FakeAdapter('urn:hub:adapter:lorawan:ttn-eu1');
    adapter.counts.received = 7;
    adapter.counts.decoded = 6;
    adapter.counts.rejected = 1;
    await hub.things.registerAdapter(adapter);
    const registered = (await hub.directory.get(adapter.id)) as Record<string, any>;
    expect(registered['hub:adapterKind']).toBe('lorawan');
    expect(registered.properties.networkServer).toBeDefined(); // from thing-models/lorawan-adapter.tm.jsonld
    expect(registered.properties.received.forms[0].href).toBe(`${hub.config.baseUrl}/wot/${encodeURIComponent(adapter.id)}/properties/received`);
    const path = `/wot/${encodeURIComponent(adapter.id)}`;
    const received = await hub.app.inject({ method: 'GET', url: `${path}/properties/received` });
    expect(received.json()).toBe(7);
    const rejected = await hub.app.inject({ method: 'GET', url: `${path}/properties/rejected` });
    expect(rejected.json()).toBe(1);
    const pause = await hub.app.inject({ method: 'POST', url: `${path}/actions/pause`, headers: { authorization: hub.bearer } });
    expect(pause.statusCode).toBe(200);
    expect(adapter.paused).toBe(true);
    expect((await hub.app.inject({ method: 'GET', url: `${path}/properties/paused` })).json()).toBe(true);
    const withInput = await hub.app.inject({
      method: 'POST',
      url: `${path}/actions/resume`,
      headers: { authorization: hub.bearer, 'content-type': 'application/json' },
      payload: { now: true },
    });
    expect(withInput.statusCode).toBe(400);
    await hub.app.inject({ method: 'POST', url: `${path}/actions/resume`, headers: { authorization: hub.bearer } });
    expect(adapter.paused).toBe(false);
  });

  it('notifies observers of adapter counters when they change', async () => {
    const adapter = new FakeAdapter('urn:hub:adapter:test:1');
    await hub.things.registerAdapter(adapter);
    const sse = await openSse(`${baseUrlOf(hub)}/wot/${encodeURIComponent(adapter.id)}/properties/received/observable`);
    adapter.counts.received = 42;
    try {
      await waitFor(() => (sse.text().includes('data: 42\n') ? true : undefined), 4000, 'counter notification');
    } finally {
      await sse.close();
    }
  });

  it('exposes a virtual sensor whose values come from LiveState', async () => {
    const sensor: VirtualSensor = {
      id: 'urn:hub:virtual:travel-time:a1-b2',
      td: {
        '@context': 'https://www.w3.org/2022/wot/td/v1.1',
        title: 'Travel time A1 to B2',
        securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
        security: ['nosec_sc'],
        properties: { travelTime: { type: 'number', unit: 's', readOnly: true, observable: true, forms: [{ href: 'x' }] } },
      },
    };
    await hub.things.registerVirtualSensor(sensor);
    expect(await hub.directory.get(sensor.id)).toBeDefined();
    hub.liveState.publish(uplink(sensor.id, { travelTime: 312 }));
    const res = await hub.app.inject({ method: 'GET', url: `/wot/${encodeURIComponent(sensor.id)}/properties/travelTime` });
    expect(res.json()).toBe(312);
  });
});
