// POST|GET /bindings/sigfox/callback: JSON, text templates, forms and query parameters, BIDIR answered 204 for now.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { READER, WRITER, webhookApp, type WebhookApp } from '../tts/webhook-app.ts';

const nsJson: Array<{ kind: string; input: any }> = JSON.parse(readFileSync('/work/shared/vectors/network_server_json.json', 'utf8'));
const ns: Array<{ id: string; input: any; input_text_verbatim?: string }> = JSON.parse(readFileSync('/work/shared/vectors/network_servers.json', 'utf8'));
const [PLAIN, QUOTED] = nsJson.filter((v) => v.kind === 'sigfox-callback').map((v) => v.input);

describe('Sigfox callback route', () => {
  let w: WebhookApp;
  beforeAll(async () => {
    w = await webhookApp();
  });
  afterAll(() => w.app.close());
  beforeEach(() => {
    w.sink.accepted = [];
    w.sink.rejected = [];
  });

  const post = (payload: string, type = 'application/json', headers: Record<string, string> = {}) =>
    w.app.inject({ method: 'POST', url: '/bindings/sigfox/callback', headers: { authorization: WRITER, 'content-type': type, ...headers }, payload });

  it('takes a JSON callback and answers 200 once stored', async () => {
    const res = await post(JSON.stringify(PLAIN));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: 'stored', messageId: '49-1600674364' });
    expect(w.sink.accepted[0]!.frame).toMatchObject({ protocol: 'sigfox', keyType: 'sigfoxId', deviceKey: 'B443A5', sequence: 49 });
    expect(w.sink.accepted[0]!.origin.binding).toBe('sigfox');
  });

  it('takes a template with every value quoted, sent as text/plain', async () => {
    const res = await post(JSON.stringify(QUOTED), 'text/plain; charset=utf-8');
    expect(res.statusCode, res.body).toBe(200);
    expect(w.sink.accepted[0]!.frame).toMatchObject({ deviceKey: 'B445A9', sequence: 1, radio: [{ gatewayId: '37FF', rssi: -123, snr: 12.53 }] });
  });

  it('takes a form body and a GET with query parameters', async () => {
    const form = await post('device=B445A9&time=1596721546&data=c6099764&seqNumber=2&station=37FF&rssi=-123.00&snr=12.53', 'application/x-www-form-urlencoded');
    expect(form.statusCode, form.body).toBe(200);
    const get = await w.app.inject({ method: 'GET', url: '/bindings/sigfox/callback?device=B445A9&time=1596721547&data=c6&seqNumber=3', headers: { authorization: WRITER } });
    expect(get.statusCode, get.body).toBe(200);
    expect(w.sink.accepted.map((a) => a.frame.sequence)).toEqual([2, 3]);
  });

  it('refuses the BCX17 template output as printed (invalid JSON: 400 bad-json), counted', async () => {
    const text = ns.find((v) => v.id === 'sigfox-uplink-bcx17-hono-invalid')!.input_text_verbatim!;
    const res = await post(text);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('bad-json');
    const asText = await post(text, 'text/plain');
    expect(asText.statusCode).toBe(400);
    expect(w.sink.rejected).toHaveLength(2);
    expect(w.sink.accepted).toHaveLength(0);
  });

  it('answers a BIDIR callback asking for a downlink with 204 (no downlink yet) after storing the uplink', async () => {
    const res = await post(JSON.stringify({ ...PLAIN, seqNumber: 50, ack: true }));
    expect(res.statusCode).toBe(204);
    expect(w.sink.accepted[0]!.frame.network).toMatchObject({ ack: true, downlinkRequested: true });
  });

  it('answers a body naming only a device with 204, counting it', async () => {
    const res = await post(JSON.stringify({ device: 'FAF7E' }));
    expect(res.statusCode).toBe(204);
    expect(w.sink.accepted).toHaveLength(0);
  });

  it('refuses wrong types (422 with the field), 13-byte payloads, other media types and missing tokens', async () => {
    const typed = await post(JSON.stringify({ ...PLAIN, seqNumber: 'first' }));
    expect(typed.statusCode).toBe(422);
    expect(typed.json()).toMatchObject({ code: 'decode-failed', field: 'seqNumber' });
    const long = await post(JSON.stringify({ ...PLAIN, data: '00'.repeat(13) }));
    expect(long.json()).toMatchObject({ status: 422, field: 'data' });
    expect((await post('<xml/>', 'application/xml')).statusCode).toBe(415);
    expect((await post(JSON.stringify(PLAIN), 'application/json', { authorization: '' })).statusCode).toBe(401);
    expect((await w.app.inject({ method: 'GET', url: '/bindings/sigfox/callback?device=AB&data=00' })).statusCode).toBe(401);
    expect((await post(JSON.stringify(PLAIN), 'application/json', { authorization: READER })).statusCode).toBe(403);
  });

  it('bounds the body at 64 KiB', async () => {
    const res = await post(JSON.stringify({ ...PLAIN, filler: 'x'.repeat(70 * 1024) }));
    expect(res.statusCode).toBe(413);
  });
});
