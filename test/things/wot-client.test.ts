// node-wot's own client (Servient + HttpClientFactory + CoapClientFactory) consumes the hub's TDs; every TD validates.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapter } from '../../hub/things/adapter.ts';
import { baseUrlOf, startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../helpers/hub.ts';
import { failures, playgroundValidate } from '../directory/playground.ts';
import { DEVICE_ID, deviceTd, uplink, waitFor } from './fixtures.ts';

const require = createRequire(import.meta.url);
const { Servient } = require('@node-wot/core') as typeof import('@node-wot/core');
const { HttpClientFactory } = require('@node-wot/binding-http') as typeof import('@node-wot/binding-http');
const { CoapClientFactory } = require('@node-wot/binding-coap') as typeof import('@node-wot/binding-coap');

type Td = WoT.ThingDescription & { properties: Record<string, { forms: Array<{ href: string; op?: string[] }> }> };

function formIndex(td: Td, property: string, scheme: string, op: string): number {
  return td.properties[property]!.forms.findIndex((f) => f.href.startsWith(`${scheme}:`) && [f.op ?? []].flat().includes(op));
}

describe('node-wot client against the hub', () => {
  let hub: TestHub;
  let client: InstanceType<typeof Servient>;
  let wot: typeof WoT;

  beforeAll(async () => {
    hub = await startTestHub({}, { listen: true });
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.thingIds().includes(DEVICE_ID) ? true : undefined), 3000, 'exposure');
    client = new Servient();
    client.addClientFactory(new HttpClientFactory());
    client.addClientFactory(new CoapClientFactory());
    client.addCredentials({ [DEVICE_ID]: { token: TEST_ADMIN_TOKEN } });
    wot = await client.start();
  });
  afterAll(async () => {
    await client?.shutdown();
    await hub?.stop();
  });

  it('reads a property over HTTP and CoAP and invokes an action over HTTP', async () => {
    const td = (await wot.requestThingDescription(`${baseUrlOf(hub)}/wot/${encodeURIComponent(DEVICE_ID)}`)) as Td;
    const thing = await wot.consume(td);
    hub.liveState.publish(uplink(DEVICE_ID, { temperature: 23.5, humidity: 55 }));
    const overHttp = await thing.readProperty('temperature', { formIndex: formIndex(td, 'temperature', 'http', 'readproperty') });
    expect(await overHttp.value()).toBe(23.5);
    const overCoap = await thing.readProperty('humidity', { formIndex: formIndex(td, 'humidity', 'coap', 'readproperty') });
    expect(await overCoap.value()).toBe(55);
    // node-wot 0.8.16 sets a client's credentials only when the ConsumedThing first creates it: the read above made
    // the HTTP client with the read forms' nosec scheme, so actions go through a fresh ConsumedThing.
    const actor = await wot.consume(td);
    const output = await actor.invokeAction('setInterval', { seconds: 120 });
    expect(await output?.value()).toMatchObject({ status: 'QUEUED' });
    await expect(actor.invokeAction('setInterval', { seconds: 'often' })).rejects.toThrow(/Bad Request|400/);
  });

  it('observes a property over HTTP (SSE) and CoAP observe', async () => {
    const td = (await wot.requestThingDescription(`${baseUrlOf(hub)}/wot/${encodeURIComponent(DEVICE_ID)}`)) as Td;
    const thing = await wot.consume(td);
    const seen = { http: [] as unknown[], coap: [] as unknown[] };
    const subs = await Promise.all(
      (['http', 'coap'] as const).map((scheme) =>
        thing.observeProperty('temperature', async (data) => void seen[scheme].push(await data.value()), undefined, {
          formIndex: formIndex(td, 'temperature', scheme, 'observeproperty'),
        }),
      ),
    );
    try {
      await waitFor(() => (hub.things.observers.count >= 2 ? true : undefined), 3000, 'two observers');
      for (const t of [30, 31, 32]) {
        hub.liveState.publish(uplink(DEVICE_ID, { temperature: t }));
        await new Promise((r) => setTimeout(r, 100));
      }
      await waitFor(() => (seen.http.includes(32) && seen.coap.includes(32) ? true : undefined), 5000, 'notifications');
      expect(seen.http).toEqual(expect.arrayContaining([30, 31, 32]));
      expect(seen.coap).toEqual(expect.arrayContaining([30, 31, 32]));
    } finally {
      for (const s of subs) await s.stop().catch(() => undefined);
    }
  });

  it('notifies observers of a value the mapfile produced (pipeline envelope: the value is not a payload field)', async () => {
    const td = (await wot.requestThingDescription(`${baseUrlOf(hub)}/wot/${encodeURIComponent(DEVICE_ID)}`)) as Td;
    const thing = await wot.consume(td);
    const seen: unknown[] = [];
    const sub = await thing.observeProperty('temperature', async (data) => void seen.push(await data.value()), undefined, {
      formIndex: formIndex(td, 'temperature', 'http', 'observeproperty'),
    });
    try {
      await waitFor(() => (hub.things.observers.count >= 1 ? true : undefined), 3000, 'an observer');
      const message = uplink(DEVICE_ID, {});
      hub.liveState.publish({ ...message, payload: { decoded: { temperature_1: 40.5 } } }, { temperature: 40.5 });
      await waitFor(() => (seen.includes(40.5) ? true : undefined), 5000, 'notification of the mapped value');
      expect(seen).toContain(40.5);
    } finally {
      await sub.stop().catch(() => undefined);
    }
  });

  it('puts the hub forms into a registered TD (withHubForms) and the result still validates', async () => {
    const registered = (await hub.directory.get(DEVICE_ID))!;
    const served = hub.things.withHubForms(registered) as Td & Record<string, unknown>;
    expect(served.title).toBe(registered.title);
    const hrefs = served.properties.temperature!.forms.map((f) => f.href);
    expect(hrefs).toContain(`${hub.config.baseUrl}/wot/${encodeURIComponent(DEVICE_ID)}/properties/temperature`);
    expect(hrefs.some((h) => h.startsWith('coap://127.0.0.1:'))).toBe(true);
    expect(hrefs.some((h) => h.includes('device.invalid'))).toBe(false);
    const { registration: _r, ...withoutRegistration } = served as Record<string, unknown>;
    const result = await playgroundValidate(withoutRegistration);
    expect(failures(result)).toEqual([]);
    expect(hub.things.withHubForms({ id: 'urn:not:exposed', title: 'x' })).toEqual({ id: 'urn:not:exposed', title: 'x' });
  });

  it('serves TDs that pass @thing-description-playground/core (schema, JSON-LD, additional checks) offline', async () => {
    const adapter: Adapter = {
      id: 'urn:hub:adapter:sigfox:1',
      kind: 'sigfox',
      paused: false,
      counters: () => ({ received: 0, decoded: 0, rejected: 0, queueLength: 0 }),
      pause() {},
      resume() {},
    };
    await hub.things.registerAdapter(adapter);
    expect(hub.things.thingIds().length).toBeGreaterThanOrEqual(2);
    for (const id of hub.things.thingIds()) {
      const res = await fetch(`${baseUrlOf(hub)}/wot/${encodeURIComponent(id)}`);
      const result = await playgroundValidate(await res.json());
      expect({ id, failures: failures(result), log: result.log }).toEqual({ id, failures: [], log: expect.any(Array) });
      expect(result.report.schema).toBe('passed');
      expect(result.report.jsonld).toBe('passed');
    }
  });
});
