// Sigfox seqNumber per device: replays and stale numbers refused (409, counted), rollover at 4096, retries and
// per-base-station copies let through, state kept across a restart (<dataDir>/sigfox).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { judgeSequence, MAX_SEQUENCE_GAP, SigfoxSequences } from '../../../hub/bindings/sigfox/sequence.ts';
import { READER, WRITER, webhookApp, type WebhookApp } from '../tts/webhook-app.ts';

describe('judgeSequence', () => {
  const last = { sequence: 100, time: 1_700_000_000 };
  it('the first number of a device, and numbers ahead within the gap, are new', () => {
    expect(judgeSequence(7, 1, undefined)).toEqual({ ok: true });
    expect(judgeSequence(101, 1_700_000_600, last)).toEqual({ ok: true });
    expect(judgeSequence(100 + MAX_SEQUENCE_GAP, 1_700_000_600, last)).toEqual({ ok: true });
  });
  it('the same number at the same time is a copy (retry, another base station); at another time a replay', () => {
    expect(judgeSequence(100, 1_700_000_000, last)).toEqual({ ok: true });
    expect(judgeSequence(100, undefined, last)).toEqual({ ok: true });
    expect(judgeSequence(100, 1_700_000_060, last)).toEqual({ ok: false, reason: 'replay', last: 100 });
  });
  it('behind the last, or too far ahead, is stale', () => {
    expect(judgeSequence(99, 1_700_000_600, last)).toEqual({ ok: false, reason: 'stale', last: 100 });
    expect(judgeSequence(100 + MAX_SEQUENCE_GAP + 1, 1_700_000_600, last)).toEqual({ ok: false, reason: 'stale', last: 100 });
  });
  it('rolls over at 4096: 4095 -> 0 -> 1 is new, 4094 after 0 is stale', () => {
    expect(judgeSequence(0, 2, { sequence: 4095, time: 1 })).toEqual({ ok: true });
    expect(judgeSequence(3, 2, { sequence: 4090, time: 1 })).toEqual({ ok: true });
    expect(judgeSequence(4094, 3, { sequence: 0, time: 2 })).toEqual({ ok: false, reason: 'stale', last: 0 });
  });
});

describe('SigfoxSequences', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('keeps the last number and time per device through a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hub-sigfox-seq-'));
    dirs.push(dir);
    const a = new SigfoxSequences({ dir });
    a.accept('B443A5', 4095, 1_700_000_000);
    a.accept('C0DE0001', 5, undefined);
    await a.close();
    const b = new SigfoxSequences({ dir });
    expect(b.last('B443A5')).toEqual({ sequence: 4095, time: 1_700_000_000 % 2 ** 20 });
    expect(() => b.check('B443A5', 4095, 1_700_000_000)).not.toThrow();
    expect(() => b.check('B443A5', 4095, 1_700_000_100)).toThrow(expect.objectContaining({ status: 409, code: 'sigfox-sequence-replay' }));
    expect(() => b.check('B443A5', 4000, 1_700_000_100)).toThrow(expect.objectContaining({ code: 'sigfox-sequence-stale' }));
    expect(() => b.check('B443A5', 0, 1_700_000_100)).not.toThrow();
    expect(b.last('C0DE0001')?.sequence).toBe(5);
    await b.close();
  });

  it('an unwritable directory leaves the check in memory', () => {
    const errors: unknown[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'hub-sigfox-seq-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'file'), '');
    const s = new SigfoxSequences({ dir: join(dir, 'file', 'sigfox'), onError: (e) => errors.push(e) });
    s.accept('AB', 1, 10);
    expect(() => s.check('AB', 1, 11)).toThrow(expect.objectContaining({ code: 'sigfox-sequence-replay' }));
    expect(errors).toHaveLength(1);
  });
});

describe('POST /bindings/sigfox/callback checks seqNumber per device', () => {
  let w: WebhookApp;
  beforeAll(async () => {
    w = await webhookApp();
  });
  afterAll(() => w.app.close());
  beforeEach(() => {
    w.sink.accepted = [];
    w.sink.rejected = [];
  });
  const post = (body: Record<string, unknown>) =>
    w.app.inject({ method: 'POST', url: '/bindings/sigfox/callback', headers: { authorization: WRITER, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const cb = (seqNumber: number | string, time: number, device = '1A2B3C') => ({ device, time, data: '0102', seqNumber, station: '37FF', rssi: -120, snr: 9 });
  const stats = async () => (await w.app.inject({ url: '/bindings/sigfox/stats', headers: { authorization: READER } })).json();

  it('accepts rising numbers and a retry of the last callback; refuses a replay and a stale number with 409, counted', async () => {
    const t = 1_760_000_000;
    for (const [i, seq] of [4094, 4095, 0, 1].entries()) expect((await post(cb(seq, t + i * 600))).statusCode).toBe(200);
    // Sigfox retries a callback it got no answer for: same seqNumber, same time (the pipeline dedups it).
    expect((await post(cb('1', t + 3 * 600))).statusCode).toBe(200);
    const replay = await post(cb(1, t + 4 * 600));
    expect(replay.statusCode).toBe(409);
    expect(replay.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(replay.json()).toMatchObject({ code: 'sigfox-sequence-replay', sequence: 1, lastSequence: 1 });
    const stale = await post(cb(4095, t + 5 * 600));
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('sigfox-sequence-stale');
    expect(w.sink.accepted.map((a) => a.frame.sequence)).toEqual([4094, 4095, 0, 1, 1]);
    expect(w.sink.rejected.map((r) => r.error.code)).toEqual(['sigfox-sequence-replay', 'sigfox-sequence-stale']);
    expect(await stats()).toMatchObject({ sequenceReplay: 1, sequenceStale: 1, rejected: 2 });
    // Another device has its own numbers.
    expect((await post(cb(0, t, '1A2B3D'))).statusCode).toBe(200);
  });

  it('a number refused by the pipeline (unknown device) leaves no state behind', async () => {
    w.sink.answer = () => ({ status: 'rejected', error: Object.assign(new Error('unknown'), { status: 404, code: 'unknown-device', name: 'HubError' }) as never });
    expect((await post(cb(10, 1_760_100_000, 'DEAD01'))).statusCode).not.toBe(200);
    w.sink.answer = () => ({ status: 'stored', thingId: 'urn:test:thing', quads: 8 });
    expect((await post(cb(9, 1_760_100_600, 'DEAD01'))).statusCode).toBe(200);
  });
});
