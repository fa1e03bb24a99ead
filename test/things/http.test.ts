// Every device Thing over HTTP on the hub's fastify: TD with hub forms, live property reads, SSE observe, validated actions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCommandSink } from '../../hub/things/command-sink.ts';
import { baseUrlOf, startTestHub, type TestHub } from '../helpers/hub.ts';
import { DEVICE_ID, deviceTd, openSse, uplink, waitFor } from './fixtures.ts';

const path = `/wot/${encodeURIComponent(DEVICE_ID)}`;

function instantiate(h: TestHub, id: string, placeholders: Record<string, unknown>) {
  return h.app.inject({
    method: 'POST',
    url: '/thing-models/lorawan-sensor/instantiate?register=true',
    headers: { authorization: h.bearer, 'content-type': 'application/json' },
    payload: { id, placeholders },
  });
}

describe('device Things over HTTP', () => {
  // One listening hub for the whole file (a hub takes seconds to start on a loaded machine); tests reset the device.
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({}, { listen: true });
  });
  afterAll(() => hub?.stop());

  async function hubWithDevice(_listen = false): Promise<TestHub> {
    if (hub.things.hasThing(DEVICE_ID)) {
      await hub.directory.delete(DEVICE_ID);
      await waitFor(() => (hub.things.hasThing(DEVICE_ID) ? undefined : true), 3000, 'the Thing to be removed');
    }
    hub.liveState.forget(DEVICE_ID);
    await hub.directory.put(DEVICE_ID, deviceTd());
    await waitFor(() => (hub.things.hasThing(DEVICE_ID) ? true : undefined), 3000, 'the Thing to be exposed');
    return hub;
  }

  it('exposes a TD registered in the directory with forms on the hub origin only', async () => {
    const h = await hubWithDevice();
    const res = await h.app.inject({ method: 'GET', url: path });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/td\+json/);
    const td = res.json();
    const hrefs: string[] = [
      ...Object.values(td.properties as Record<string, { forms: Array<{ href: string }> }>),
      ...Object.values(td.actions as Record<string, { forms: Array<{ href: string }> }>),
      ...Object.values(td.events as Record<string, { forms: Array<{ href: string }> }>),
    ].flatMap((a) => a.forms.map((f) => f.href));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) {
      expect(href.startsWith(`${h.config.baseUrl}/wot/`) || href.startsWith(`coap://127.0.0.1:${h.things.coapPort}/wot/`)).toBe(true);
    }
    expect(td.properties.temperature.forms.map((f: { op: string[] }) => f.op).flat()).toEqual(
      expect.arrayContaining(['readproperty', 'observeproperty']),
    );
    // one form per operation kind and protocol, not one per interface address and media type
    expect(td.properties.temperature.forms).toHaveLength(3);
  });

  it('reads the latest live value and says when there is none yet', async () => {
    const h = await hubWithDevice();
    const before = await h.app.inject({ method: 'GET', url: `${path}/properties/temperature` });
    expect(before.statusCode).toBe(404);
    expect(before.json()).toMatchObject({ code: 'no-value' });
    h.liveState.publish(uplink(DEVICE_ID, { temperature: 21.5, humidity: 40 }));
    h.liveState.publish(uplink(DEVICE_ID, { temperature: 22.25, humidity: 41 }));
    const res = await h.app.inject({ method: 'GET', url: `${path}/properties/temperature` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toBe(22.25);
    const missing = await h.app.inject({ method: 'GET', url: `${path}/properties/pressure` });
    expect(missing.statusCode).toBe(404);
    const unknown = await h.app.inject({ method: 'GET', url: `/wot/${encodeURIComponent('urn:nope')}/properties/x` });
    expect(unknown.json()).toMatchObject({ status: 404, code: 'not-found' });
  });

  it('validates action input (400 with every field) and queues valid commands; actions need the act scope', async () => {
    const h = await hubWithDevice();
    const url = `${path}/actions/setInterval`;
    const headers = { authorization: h.bearer, 'content-type': 'application/json' };
    const anonymous = await h.app.inject({ method: 'POST', url, payload: { seconds: 60 } });
    expect(anonymous.statusCode).toBe(401);
    const bad = await h.app.inject({ method: 'POST', url, headers, payload: { seconds: 'soon' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect(bad.json()).toMatchObject({ code: 'validation-failed', validationErrors: [{ field: '/seconds' }] });
    const notJson = await h.app.inject({ method: 'POST', url, headers, payload: '{"seconds":' });
    expect(notJson.statusCode).toBe(400);
    const empty = await h.app.inject({ method: 'POST', url, headers: { authorization: h.bearer } });
    expect(empty.statusCode).toBe(400);
    const ok = await h.app.inject({ method: 'POST', url, headers, payload: { seconds: 600 } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ status: 'QUEUED', id: expect.stringMatching(/^urn:uuid:/) });
    expect(String(ok.headers.location)).toMatch(/\/wot\/.+\/commands\/[0-9a-f-]{36}$/);
    const recorded = (h.commands as MemoryCommandSink).commands(DEVICE_ID);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ action: 'setInterval', input: { seconds: 600 }, id: ok.json().id });
  });

  it('streams property changes and events over Server-Sent Events to several observers', async () => {
    const h = await hubWithDevice(true);
    const base = baseUrlOf(h);
    const controller = new AbortController();
    const open = async (url: string) => {
      const res = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      const state = { text: '' };
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            state.text += new TextDecoder().decode(value);
          }
        } catch {
          /* aborted */
        }
      })();
      return state;
    };
    try {
      const a = await open(`${base}${path}/properties/temperature/observable`);
      const b = await open(`${base}${path}/properties/temperature/observable`);
      const ev = await open(`${base}${path}/events/uplink`);
      await waitFor(() => (h.things.observers.count === 3 ? true : undefined), 3000, 'three observers');
      h.liveState.publish(uplink(DEVICE_ID, { temperature: 19.5 }));
      h.liveState.publish(uplink(DEVICE_ID, { temperature: 20 }));
      for (const s of [a, b]) {
        await waitFor(() => (s.text.includes('data: 20\n') ? true : undefined), 3000, 'second notification');
        expect(s.text).toContain('data: 19.5\n');
      }
      await waitFor(() => (ev.text.includes('data: {"temperature":20}') ? true : undefined), 3000, 'uplink event');
    } finally {
      controller.abort();
    }
    await waitFor(() => (h.things.observers.count === 0 ? true : undefined), 3000, 'observers to leave');
  });

  it('an uplink pushed to POST /ingest updates the property and fires the event (uplink router -> LiveState)', async () => {
    const h = await hubWithDevice();
    const sse = await openSse(`${baseUrlOf(h)}${path}/events/temperature`);
    try {
      const ingest = await h.app.inject({
        method: 'POST',
        url: `/ingest/${encodeURIComponent(DEVICE_ID)}`,
        headers: { authorization: h.bearer, 'content-type': 'application/json' },
        payload: { temperature: 17.25, humidity: 60 },
      });
      expect(ingest.statusCode, ingest.body).toBe(200);
      await waitFor(() => (sse.text().includes('data: 17.25\n') ? true : undefined), 3000, 'temperature event');
      const read = await h.app.inject({ method: 'GET', url: `${path}/properties/humidity` });
      expect(read.json()).toBe(60);
    } finally {
      await sse.close();
    }
  });

  it('answers HEAD on observe and event hrefs without opening a stream', async () => {
    const h = await hubWithDevice();
    const head = await h.app.inject({ method: 'HEAD', url: `${path}/properties/temperature/observable` });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(h.things.observers.count).toBe(0);
    const missing = await h.app.inject({ method: 'HEAD', url: `${path}/events/nope` });
    expect(missing.statusCode).toBe(404);
  });

  it('stops exposing a Thing deleted from the directory', async () => {
    const h = await hubWithDevice();
    await h.directory.delete(DEVICE_ID);
    await waitFor(() => (h.things.hasThing(DEVICE_ID) ? undefined : true), 3000, 'the Thing to be removed');
    const res = await h.app.inject({ method: 'GET', url: `${path}/properties/temperature` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not-found' });
  });

  it('serves Things registered from a Thing Model through the forms of the directory TD', async () => {
    const h = await hubWithDevice();
    const id = 'urn:dev:lorawan:70B3D57ED0000001';
    // The model's placeholder set evolves with thing-models/: fill whatever it asks for.
    const placeholders: Record<string, unknown> = { DEV_EUI: '70B3D57ED0000001', TITLE: 'Field sensor', FPORT: 2 };
    let created = await instantiate(h, id, placeholders);
    for (let i = 0; i < 3 && created.statusCode === 400; i++) {
      for (const e of created.json().validationErrors ?? []) {
        const m = /^\/placeholders\/(.+)$/.exec(e.field);
        if (m) placeholders[m[1]!] = `urn:test:${m[1]!.toLowerCase()}`;
      }
      created = await instantiate(h, id, placeholders);
    }
    expect(created.statusCode, created.body).toBeLessThan(300);
    await waitFor(() => (h.things.hasThing(id) ? true : undefined), 3000, 'exposure of the TM instance');
    const td = (await h.directory.get(id)) as { properties: Record<string, { forms: Array<{ href: string; op: string[] }> }> };
    const [name, property] = Object.entries(td.properties)[0]!;
    h.liveState.publish(uplink(id, { [name]: 7 }));
    const form = property.forms.find((f) => [f.op].flat().includes('readproperty'))!;
    const res = await fetch(form.href);
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(7);
  });
});
