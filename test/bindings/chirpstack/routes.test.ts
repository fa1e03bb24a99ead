// POST /bindings/chirpstack/uplink?event=...: up events reach the pipeline, other events are counted, bad input refused.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { READER, WRITER, webhookApp, type WebhookApp } from '../tts/webhook-app.ts';

const ns: Array<{ id: string; input: any }> = JSON.parse(readFileSync('/work/shared/vectors/network_servers.json', 'utf8'));
const vector = (id: string) => structuredClone(ns.find((v) => v.id === id)!.input);

describe('ChirpStack HTTP integration route', () => {
  let w: WebhookApp;
  beforeAll(async () => {
    w = await webhookApp();
  });
  afterAll(() => w.app.close());
  beforeEach(() => {
    w.sink.accepted = [];
    w.sink.rejected = [];
  });

  const post = (event: string | undefined, payload: unknown, headers: Record<string, string> = {}) =>
    w.app.inject({
      method: 'POST',
      url: `/bindings/chirpstack/uplink${event ? `?event=${event}` : ''}`,
      headers: { authorization: WRITER, 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it('?event=up reaches the pipeline; 200 after it stored the frame', async () => {
    const res = await post('up', vector('chirpstack-up-docs'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'stored', thingId: 'urn:test:thing' });
    expect(w.sink.accepted[0]!.frame).toMatchObject({ keyType: 'devEui', deviceKey: '0101010101010101', fPort: 1, sequence: 0 });
    expect(w.sink.accepted[0]!.origin).toMatchObject({ binding: 'chirpstack', transport: 'http', topic: '/bindings/chirpstack/uplink' });
  });

  it.each([
    ['join', 'chirpstack-join-docs', 'reported'],
    ['status', 'chirpstack-status-docs', 'reported'],
    ['ack', 'chirpstack-ack-docs', 'counted'],
    ['txack', 'chirpstack-txack-docs', 'counted'],
    ['log', 'chirpstack-log-docs', 'counted'],
    ['location', 'chirpstack-location-docs', 'counted'],
    ['integration', 'chirpstack-integration-docs', 'counted'],
  ])('?event=%s is %s, not stored', async (event, id, status) => {
    const res = await post(event, vector(id));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status, event });
    expect(w.sink.accepted).toHaveLength(0);
  });

  it('refuses binary protobuf (application/octet-stream) with 415 before the body is read', async () => {
    const res = await post('up', Buffer.from([0x0a, 0x01]).toString(), { 'content-type': 'application/octet-stream' });
    expect(res.statusCode).toBe(415);
    expect(res.json().detail).toMatch(/JSON/);
  });

  it('refuses an unknown event (422 unknown-event), wrong types (422 with the field) and bad JSON (400)', async () => {
    const unknown = await post('uplink', vector('chirpstack-up-docs'));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().code).toBe('unknown-event');
    const bad = vector('chirpstack-up-docs');
    bad.rxInfo[0].snr = 'good';
    const typed = await post('up', bad);
    expect(typed.statusCode).toBe(422);
    expect(typed.json()).toMatchObject({ code: 'decode-failed', field: 'rxInfo[0].snr' });
    const json = await post('up', '{"deviceInfo":');
    expect(json.statusCode).toBe(400);
    expect(w.sink.rejected.map((r) => r.error.code)).toEqual(['unknown-event', 'decode-failed', 'bad-json']);
  });

  it('needs a write token', async () => {
    expect((await post('up', vector('chirpstack-up-docs'), { authorization: '' })).statusCode).toBe(401);
    expect((await post('up', vector('chirpstack-up-docs'), { authorization: READER })).statusCode).toBe(403);
  });

  // invalid: the 415, the unknown event, the wrong type and the bad JSON above.
  it('counts per event in its stats', async () => {
    const stats = await w.app.inject({ method: 'GET', url: '/bindings/chirpstack/stats', headers: { authorization: READER } });
    expect(stats.statusCode).toBe(200);
    expect(stats.json()).toMatchObject({ stored: 1, invalid: 4, unauthorized: 2, events: { join: 1, status: 1, 'downlink:ack': 1, 'downlink:txack': 1, log: 1, location: 1, integration: 1 } });
  });
});
