// Test helpers for the Cookie binding: a listening hub with the cookie-uplink mapfile and the shadows of two road nodes.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CookieListener } from '../../../hub/bindings/cookie/listener.ts';
import { freePort, startTestHub, type TestHub } from '../../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../../..');
export const ADAPTER_ID = 'urn:wot-hub:adapter:cookie';

/** Thing ids of one Cookie node's shadows (device, BT scanner, radar) and of its gateway. */
export const ids = (device: string) => ({
  node: `urn:dev:cookie:${device}`,
  bt: `urn:dev:cookie:${device}:bt`,
  radar: `urn:dev:cookie:${device}:radar`,
  gateway: `urn:dev:cookie:gw-${device}`,
});

export async function register(hub: TestHub, model: string, id: string, device: string): Promise<void> {
  const res = await hub.app.inject({
    method: 'POST',
    url: `/thing-models/${model}/instantiate?register=true`,
    headers: { authorization: hub.bearer },
    payload: { id, placeholders: { TITLE: `${model} ${device}`, ADAPTER_ID, COOKIE_DEVICE: device, MAPPING: 'cookie-uplink' } },
  });
  expect(res.statusCode, res.body).toBe(201);
}

/** A listening hub (Cookie TCP listener and embedded MQTT broker on free ports) with the shadows of `devices`. */
export async function cookieHub(devices: string[], overrides: Record<string, unknown> = {}): Promise<TestHub> {
  const hub = await startTestHub({ cookiePort: await freePort(), mqttPort: await freePort(), ...overrides }, { listen: true });
  const put = await hub.app.inject({ method: 'PUT', url: '/mappings/cookie-uplink', headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: readFileSync(join(ROOT, 'mappings/cookie-uplink.ttl'), 'utf8') });
  expect(put.statusCode, put.body).toBe(201);
  for (const d of devices) {
    const i = ids(d);
    await register(hub, 'cookie-node', i.node, d);
    await register(hub, 'cookie-bt-scanner', i.bt, d);
    await register(hub, 'cookie-radar', i.radar, d);
    await register(hub, 'cookie-gateway', i.gateway, `gw-${d}`);
  }
  return hub;
}

export const cookieListener = (hub: TestHub): CookieListener => hub.transports.find((t) => t.name === 'cookie') as CookieListener;

export async function sparql(hub: TestHub, query: string): Promise<Array<Record<string, { value: string; datatype?: string }>>> {
  const res = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results.bindings;
}

/** Observations of one property of a Thing: value, unit, time (ISO), ordered by time then value. */
export async function observations(hub: TestHub, thingId: string, prop: string): Promise<Array<{ value: string; unit?: string; time: string }>> {
  const thing = `${hub.config.baseUrl}/things/${encodeURIComponent(thingId)}`;
  const rows = await sparql(hub, `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX qudt: <http://qudt.org/schema/qudt/>
    SELECT ?v ?unit ?t WHERE { GRAPH ?g { ?o a sosa:Observation ; sosa:madeBySensor <${thing}> ; sosa:observedProperty <${thing}/properties/${prop}> ;
      sosa:hasSimpleResult ?v ; sosa:resultTime ?t . OPTIONAL { ?o sosa:hasResult ?r . ?r qudt:unit ?unit } } } ORDER BY ?t ?v`);
  return rows.map((r) => ({ value: r.v!.value, ...(r.unit ? { unit: r.unit.value } : {}), time: new Date(r.t!.value).toISOString() }));
}

export async function live(hub: TestHub, thingId: string, prop: string): Promise<unknown> {
  const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(thingId)}/properties/${prop}` });
  return res.statusCode === 200 ? res.json() : undefined;
}

export async function until<T>(f: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Writes raw bytes to the listener on one connection, then ends it; resolves when the hub closed its side. */
export async function rawTcp(port: number, chunks: Array<string | Buffer>): Promise<void> {
  const s = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  for (const c of chunks) s.write(c);
  s.end();
  s.resume();
  await new Promise<void>((resolve) => {
    s.once('close', () => resolve());
    setTimeout(() => (s.destroy(), resolve()), 5000).unref();
  });
}
