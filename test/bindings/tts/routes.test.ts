// POST /bindings/tts/uplink: auth before the body, JSON only, bounded, every outcome of the pipeline mapped to HTTP.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubError, ServiceUnavailableError } from '../../../hub/errors.ts';
import { READER, WRITER, webhookApp, type WebhookApp } from './webhook-app.ts';

const ns: Array<{ id: string; input: any }> = JSON.parse(readFileSync('/work/shared/vectors/network_servers.json', 'utf8'));
const vector = (id: string) => structuredClone(ns.find((v) => v.id === id)!.input);
const UPLINK = vector('tts-uplink-starterkit-webhook');

describe('TTS webhook route', () => {
  let w: WebhookApp;
  beforeEach(async () => {
    w = await webhookApp();
  });
  afterEach(() => w.app.close());


  const post = (payload: unknown, headers: Record<string, string> = {}, url = '/bindings/tts/uplink') =>
    w.app.inject({ method: 'POST', url, headers: { authorization: WRITER, 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

  it('hands the uplink to the pipeline and answers 200 once it is stored', async () => {
    const res = await post(UPLINK);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ status: 'stored', thingId: 'urn:test:thing', messageId: '14-1744804453787', quads: 8 });
    expect(w.sink.accepted).toHaveLength(1);
    const { frame, origin } = w.sink.accepted[0]!;
    expect(frame).toMatchObject({ protocol: 'lorawan', keyType: 'devEui', deviceKey: '70B3D52DD600035A', sequence: 14, fPort: 2 });
    expect(origin).toMatchObject({ binding: 'tts', transport: 'http', topic: '/bindings/tts/uplink' });
    expect(typeof origin.receivedAt).toBe('number');
  });

  it('answers 200 for a duplicate and an unmapped Thing', async () => {
    w.sink.answer = () => ({ status: 'duplicate', thingId: 't1' });
    expect((await post(UPLINK)).json()).toMatchObject({ status: 'duplicate', thingId: 't1' });
    w.sink.answer = () => ({ status: 'unmapped', thingId: 't1' });
    expect((await post(UPLINK)).json()).toMatchObject({ status: 'unmapped', thingId: 't1' });
  });

  it('does not answer before the pipeline resolved (nothing acknowledged is lost)', async () => {
    let release!: () => void;
    w.sink.answer = () => new Promise((resolve) => (release = () => resolve({ status: 'stored', thingId: 't', quads: 1 })));
    let done = false;
    const pending = post(UPLINK).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 100));
    expect(done).toBe(false);
    release();
    expect((await pending).statusCode).toBe(200);
  });

  it('takes the DevEUI from the path for a field-masked body without end_device_ids', async () => {
    const res = await post(vector('tts-uplink-webhook-fieldmask'), {}, '/bindings/tts/uplink/70-B3-D5-7E-D0-00-00-01');
    expect(res.statusCode, res.body).toBe(200);
    expect(w.sink.accepted[0]!.frame.deviceKey).toBe('70B3D57ED0000001');
    const without = await post(vector('tts-uplink-webhook-fieldmask'));
    expect(without.statusCode).toBe(422);
    expect(without.json()).toMatchObject({ code: 'decode-failed', field: 'end_device_ids.dev_eui' });
  });

  it('refuses a request without a token with 401 before reading the body (even an oversized one)', async () => {
    const res = await w.app.inject({ method: 'POST', url: '/bindings/tts/uplink', headers: { 'content-type': 'application/json' }, payload: 'x'.repeat(1024 * 1024) });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(w.sink.accepted).toHaveLength(0);
    expect(w.sink.rejected).toHaveLength(0);
  });

  it('refuses a read-only token with 403', async () => {
    const res = await post(UPLINK, { authorization: READER });
    expect(res.statusCode).toBe(403);
  });

  it('refuses malformed JSON (400 bad-json), counted by the pipeline', async () => {
    const res = await post('{"uplink_message": ');
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('bad-json');
    expect(w.sink.rejected).toHaveLength(1);
    expect(w.sink.rejected[0]!.origin.binding).toBe('tts');
  });

  it('refuses wrong types with 422 naming the field, counted once', async () => {
    const bad = structuredClone(UPLINK);
    bad.uplink_message.f_cnt = 'fourteen';
    const res = await post(bad);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'decode-failed', field: 'uplink_message.f_cnt' });
    expect(w.sink.rejected).toHaveLength(1);
    expect(w.sink.accepted).toHaveLength(0);
  });

  it('refuses an oversized body (413) and another media type (415)', async () => {
    const big = structuredClone(UPLINK);
    big.uplink_message.decoded_payload = { filler: 'x'.repeat(300 * 1024) };
    expect((await post(big)).statusCode).toBe(413);
    const text = await post('a=b', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.json().code).toBe('unsupported-media-type');
    expect(w.sink.rejected.map((r) => r.error.code)).toEqual(['payload-too-large', 'unsupported-media-type']);
  });

  it('answers a 4xx rejection of the pipeline with that problem (unknown device)', async () => {
    w.sink.answer = () => ({ status: 'rejected', error: new HubError(404, 'unknown-device', "No Thing claims devEui '70B3D52DD600035A'") });
    const res = await post(UPLINK);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'unknown-device' });
  });

  it('answers a 5xx rejection (store overloaded) with 503 + Retry-After so that TTS retries', async () => {
    w.sink.answer = () => ({ status: 'rejected', error: new ServiceUnavailableError('store overloaded', {}, 'store-overloaded') });
    const res = await post(UPLINK);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    w.sink.answer = () => ({ status: 'rejected', error: new HubError(500, 'store-failed', 'disk full') });
    const failed = await post(UPLINK);
    expect(failed.statusCode).toBe(503);
    expect(failed.json().detail).not.toMatch(/disk/);
  });

  it('counts other message types and reports joins', async () => {
    const join = await post(vector('tts-join-dataformats'));
    expect(join.statusCode).toBe(200);
    expect(join.json()).toMatchObject({ status: 'reported', kind: 'join', event: 'join_accept', device: { keyType: 'devEui', deviceKey: '0004A30B001C0530' } });
    const ack = await post(vector('tts-down-ack-dataformats'));
    expect(ack.json()).toMatchObject({ status: 'counted', kind: 'downlink', event: 'downlink_ack' });
    expect(w.sink.accepted).toHaveLength(0);
    await post(UPLINK);
    const stats = await w.app.inject({ method: 'GET', url: '/bindings/tts/stats', headers: { authorization: READER } });
    expect(stats.json()).toMatchObject({ received: 3, uplinks: 1, stored: 1, events: { 'join:join_accept': 1, 'downlink:downlink_ack': 1 } });
  });
});

describe('TTS webhook without the pipeline', () => {
  it('answers 503 pipeline-unavailable with Retry-After', async () => {
    const w = await webhookApp({ withSink: false });
    try {
      const res = await w.app.inject({ method: 'POST', url: '/bindings/tts/uplink', headers: { authorization: WRITER, 'content-type': 'application/json' }, payload: UPLINK });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('pipeline-unavailable');
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await w.app.close();
    }
  });
});

describe('TTS webhook answer deadline', () => {
  it('answers 503 + Retry-After when the pipeline is slower than the deadline; the late result is still counted', async () => {
    const { ttsRoutes } = await import('../../../hub/bindings/tts/routes.ts');
    const w = await webhookApp({ routes: (app, deps) => ttsRoutes(app, deps, { answerWithinMs: 150 }) });
    try {
      w.sink.answer = () => new Promise((resolve) => setTimeout(() => resolve({ status: 'stored', thingId: 't', quads: 1 }), 600));
      const started = Date.now();
      const res = await w.app.inject({ method: 'POST', url: '/bindings/tts/uplink', headers: { authorization: WRITER, 'content-type': 'application/json' }, payload: UPLINK });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('pipeline-timeout');
      expect(res.headers['retry-after']).toBe('5');
      expect(Date.now() - started).toBeLessThan(550);
      await new Promise((r) => setTimeout(r, 700));
      const stats = await w.app.inject({ method: 'GET', url: '/bindings/tts/stats', headers: { authorization: READER } });
      expect(stats.json()).toMatchObject({ uplinks: 1, unavailable: 1, stored: 1 });
    } finally {
      await w.app.close();
    }
  });
});

describe('EventLog (bounded reporting)', () => {
  it('admits the first of each name, then one per interval, carrying the suppressed count', async () => {
    const { EventLog } = await import('../../../hub/bindings/tts/webhook.ts');
    const log = new EventLog(1000);
    expect(log.admit('join', 0)).toEqual({ log: true, suppressed: 0 });
    expect(log.admit('join', 10).log).toBe(false);
    expect(log.admit('join', 20).log).toBe(false);
    expect(log.admit('status', 30)).toEqual({ log: true, suppressed: 0 });
    expect(log.admit('join', 1005)).toEqual({ log: true, suppressed: 2 });
  });
});
