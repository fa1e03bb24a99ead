// DownlinkService on a real data directory: durable QUEUED before submit resolves, schedules, TTL, policies, evidence, retries, replay.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HubError } from '../../hub/errors.ts';
import { evidenceOf } from '../../hub/downlink/events.ts';
import { readFrames } from '../../hub/downlink/log.ts';
import { DownlinkService, type DownlinkRoutes } from '../../hub/downlink/service.ts';
import type { CommandRecord, DownlinkAdapter, DownlinkRoute, InterfaceType } from '../../hub/downlink/types.ts';

const dirs: string[] = [];
const services: DownlinkService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function route(thingId: string, interfaceType: InterfaceType, extra: Record<string, unknown> = {}): DownlinkRoute {
  return { thingId, adapterId: `${thingId}-if`, keyType: 'devEui', deviceKey: thingId.toUpperCase(), interfaceType, deviceDefinitions: { ...extra }, codecs: [] };
}

function routesOf(list: DownlinkRoute[]): DownlinkRoutes {
  return {
    entriesOf: (id) => list.filter((r) => r.thingId === id),
    lastActive: () => undefined,
    lookup: (kt, key) => list.find((r) => r.keyType === kt && r.deviceKey === key),
  };
}

/** A push adapter that records what it sent (the network adapters' tests use mosquitto instead). */
function recorder(fail = 0): DownlinkAdapter & { sent: string[] } {
  let failures = fail;
  const sent: string[] = [];
  return {
    binding: 'test',
    mode: 'push',
    sent,
    serves: () => true,
    async send(c: CommandRecord) {
      if (failures-- > 0) throw new Error('link down');
      sent.push(c.id);
      return { evidence: 'test send' };
    },
  };
}

async function open(dir: string, routes: DownlinkRoute[], adapter: DownlinkAdapter, config = {}, now?: () => number): Promise<DownlinkService> {
  const s = new DownlinkService(dir, routesOf(routes), { retryDelayMs: 0, ...config }, now);
  s.registerAdapter(adapter);
  await s.open();
  services.push(s);
  return s;
}

const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'downlink-'));
  dirs.push(d);
  return d;
};
const uuid = (id: string) => id.slice(9);
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('DownlinkService', () => {
  it('a command is on disk when submit resolves, and comes back QUEUED after a reopen', async () => {
    const dir = tmp();
    const r = route('t1', 'uplink_triggered');
    const s = await open(dir, [r], recorder());
    const { id, status } = await s.submit('t1', 'setInterval', { seconds: 900 }, { requester: 'token:abc' });
    expect(status).toBe('QUEUED');
    const frames = readFrames(readFileSync(join(dir, 'downlink', 'commands.log'))).records;
    expect(frames).toHaveLength(1);
    expect(frames[0]!.value).toMatchObject({ id, thingId: 't1', action: 'setInterval', input: { seconds: 900 }, status: 'QUEUED', requester: 'token:abc' });
    // a second service on the same directory (as after a crash: the first one is not closed)
    const a2 = recorder();
    const s2 = await open(dir, [r], a2);
    expect(s2.get('t1', uuid(id))).toMatchObject({ status: 'QUEUED', attempts: 0 });
    s2.onUplink(r, { binding: 'test', receivedAt: Date.now() });
    await until(() => a2.sent.length === 1);
    expect(a2.sent).toEqual([id]);
  });

  it('continuous sends now; uplink_triggered holds the command until the next uplink on its interface', async () => {
    const a = recorder();
    const c = route('c1', 'continuous');
    const u = route('u1', 'uplink_triggered');
    const s = await open(tmp(), [c, u], a);
    const now = await s.submit('c1', 'go', {});
    await until(() => a.sent.length === 1);
    expect(a.sent).toEqual([now.id]);
    await until(() => s.get('c1', uuid(now.id)).status === 'SENT');
    const held = await s.submit('u1', 'go', {});
    await new Promise((r) => setTimeout(r, 100));
    expect(a.sent).toEqual([now.id]);
    expect(s.get('u1', uuid(held.id)).status).toBe('QUEUED');
    s.onUplink(u, { binding: 'test', receivedAt: Date.now() });
    await until(() => a.sent.length === 2);
    expect(a.sent[1]).toBe(held.id);
    const h = s.get('u1', uuid(held.id)).history.map((e) => e.status);
    expect(h).toEqual(['QUEUED', 'SENT']);
    expect(s.triggerLatencies.length).toBe(1);
  });

  it('continuous: a command queued while the queue is sending goes as soon as the send ends, not at the 1 s sweep', async () => {
    const sent: Array<{ id: string; at: number }> = [];
    let release: () => void = () => {};
    const slow: DownlinkAdapter = {
      binding: 'test',
      mode: 'push',
      serves: () => true,
      async send(c: CommandRecord) {
        if (!sent.length) await new Promise<void>((r) => (release = r)); // the first send waits until the second is queued
        sent.push({ id: c.id, at: performance.now() });
        return { evidence: 'test send' };
      },
    };
    const s = await open(tmp(), [route('c1', 'continuous')], slow);
    const first = await s.submit('c1', 'go', { n: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const second = await s.submit('c1', 'go', { n: 2 });
    const t0 = performance.now();
    release();
    await until(() => sent.length === 2, 3000);
    expect(sent.map((x) => x.id)).toEqual([first.id, second.id]);
    expect(sent[1]!.at - t0).toBeLessThan(500); // the sweep runs every 1000 ms: this is the re-drain
  });

  it('stream: latest-only in memory only: sent, superseded, but never in the log and gone after a reopen', async () => {
    const dir = tmp();
    const c = route('c1', 'continuous');
    const a = recorder();
    const s = await open(dir, [c], a);
    const kept = await s.submit('c1', 'setInterval', { seconds: 60 });
    const streamed = await s.submit('c1', 'servoj', { q: [0, 0, 0, 0, 0, 0] }, { policy: 'stream' });
    await until(() => a.sent.length === 2 && s.get('c1', uuid(streamed.id)).status === 'SENT');
    expect(s.get('c1', uuid(streamed.id))).toMatchObject({ durable: false, status: 'SENT' });
    const logged = readFrames(readFileSync(join(dir, 'downlink', 'commands.log'))).records.map((f) => (f.value as { id: string }).id);
    expect(logged.some((id) => id === kept.id || id === uuid(kept.id))).toBe(true);
    expect(logged.some((id) => id === streamed.id || id === uuid(streamed.id))).toBe(false);
    const s2 = await open(dir, [c], recorder());
    expect(s2.get('c1', uuid(kept.id)).status).not.toBe('QUEUED');
    expect(() => s2.get('c1', uuid(streamed.id))).toThrow(HubError);
  });

  it('an expired command is never sent', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const a = recorder();
    const u = route('u1', 'uplink_triggered');
    const s = await open(tmp(), [u], a, {}, () => clock);
    const { id } = await s.submit('u1', 'go', {}, { ttlSeconds: 60 });
    clock += 61_000;
    s.onUplink(u, { binding: 'test', receivedAt: clock });
    await until(() => s.get('u1', uuid(id)).status === 'EXPIRED');
    await new Promise((r) => setTimeout(r, 50));
    expect(a.sent).toEqual([]);
    expect(s.get('u1', uuid(id)).history.at(-1)!.evidence).toMatch(/time to live elapsed/);
  });

  it('latest-only keeps the newest command of an action; the bound refuses with 429 downlink-queue-full', async () => {
    const u = route('u1', 'uplink_triggered');
    const s = await open(tmp(), [u], recorder(), { queueLimit: 2 });
    const first = await s.submit('u1', 'setLed', { on: true }, { policy: 'latest-only' });
    const second = await s.submit('u1', 'setLed', { on: false }, { policy: 'latest-only' });
    expect(s.get('u1', uuid(first.id)).status).toBe('CANCELLED');
    expect(s.get('u1', uuid(first.id)).history.at(-1)!.evidence).toContain(second.id);
    await s.submit('u1', 'other', {});
    const full = await s.submit('u1', 'third', {}).catch((e) => e);
    expect(full).toBeInstanceOf(HubError);
    expect(full).toMatchObject({ status: 429, code: 'downlink-queue-full' });
  });

  it('cancel: a QUEUED command becomes CANCELLED and is not sent; a SENT one is 409', async () => {
    const a = recorder();
    const u = route('u1', 'uplink_triggered');
    const s = await open(tmp(), [u], a);
    const one = await s.submit('u1', 'go', { n: 1 });
    const two = await s.submit('u1', 'go', { n: 2 });
    await s.cancel('u1', uuid(one.id), 'token:x');
    s.onUplink(u, { binding: 'test', receivedAt: Date.now() });
    await until(() => a.sent.length === 1);
    expect(a.sent).toEqual([two.id]);
    await until(() => s.get('u1', uuid(two.id)).status === 'SENT');
    await expect(s.cancel('u1', uuid(two.id))).rejects.toMatchObject({ status: 409, code: 'command-not-cancellable' });
    await expect(Promise.resolve().then(() => s.get('u1', '00000000-0000-4000-8000-000000000000'))).rejects.toMatchObject({ status: 404 });
  });

  it('states change only on their evidence, in order; DELIVERED only from the device ack', async () => {
    const a = recorder();
    const c = route('c1', 'continuous');
    const s = await open(tmp(), [c], a);
    const { id } = await s.submit('c1', 'go', {});
    const r = s.get('c1', uuid(id));
    // before it was sent, network "evidence" naming it is ignored
    const ev = (event: string) => ({ kind: 'downlink' as const, event, details: { correlationIds: [`wot-hub:cmd:${uuid(id)}`] } });
    await until(() => r.status === 'SENT');
    s.networkEvent('tts', ev('downlink_queued'));
    await until(() => r.status === 'ACCEPTED');
    s.networkEvent('tts', ev('downlink_sent')); // still ACCEPTED: not a new state
    s.networkEvent('tts', ev('downlink_ack'));
    await until(() => r.status === 'DELIVERED');
    s.networkEvent('tts', ev('downlink_nack')); // after DELIVERED: ignored
    expect(r.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'ACCEPTED', 'DELIVERED']);
    expect(r.history[3]!.evidence).toMatch(/down\/ack/);
    for (const h of r.history) expect(Number.isNaN(Date.parse(h.at))).toBe(false);
  });

  it('evidence for a command never sent is ignored', async () => {
    const u = route('u1', 'uplink_triggered');
    const s = await open(tmp(), [u], recorder());
    const { id } = await s.submit('u1', 'go', {});
    s.networkEvent('chirpstack', { kind: 'downlink', event: 'ack', details: { queueItemId: uuid(id), acknowledged: true } });
    await new Promise((r) => setTimeout(r, 20));
    expect(s.get('u1', uuid(id)).status).toBe('QUEUED');
    expect(s.counters.ignoredEvidence).toBe(1);
  });

  it('retry policy: a failed send is QUEUED again until maxAttempts, then stays FAILED; the retry survives a reopen', async () => {
    const dir = tmp();
    const c = route('c1', 'continuous');
    const a = recorder(5);
    const s = await open(dir, [c], a, { maxAttempts: 3, retryDelayMs: 0 });
    const { id } = await s.submit('c1', 'go', {});
    const r = s.get('c1', uuid(id));
    await until(() => r.attempts === 3 && r.status === 'FAILED', 8000);
    expect(r.history.map((h) => h.status)).toEqual(['QUEUED', 'FAILED', 'QUEUED', 'FAILED', 'QUEUED', 'FAILED']);
    expect(r.history[2]!.evidence).toMatch(/try 2 of 3/);
    // ChirpStack's ack false after a send: FAILED, retried
    const ok = recorder();
    const s2 = await open(tmp(), [c], ok, { maxAttempts: 2, retryDelayMs: 60_000 });
    const two = await s2.submit('c1', 'go', {});
    await until(() => ok.sent.length === 1);
    await until(() => s2.get('c1', uuid(two.id)).status === 'SENT');
    s2.networkEvent('chirpstack', { kind: 'downlink', event: 'ack', details: { queueItemId: uuid(two.id), acknowledged: false } });
    await until(() => s2.get('c1', uuid(two.id)).status === 'QUEUED');
    const retryAt = s2.get('c1', uuid(two.id)).retryAt!;
    expect(retryAt).toBeGreaterThan(Date.now() + 50_000);
    await s2.close();
    services.splice(services.indexOf(s2), 1);
  });

  it('a torn tail is cut off; replay is idempotent after compaction', async () => {
    const dir = tmp();
    const c = route('c1', 'continuous');
    const s = await open(dir, [c], recorder());
    const { id } = await s.submit('c1', 'go', { v: 1 });
    await until(() => s.get('c1', uuid(id)).status === 'SENT');
    await new Promise((r) => setTimeout(r, 20));
    await s.close();
    services.splice(services.indexOf(s), 1);
    const file = join(dir, 'downlink', 'commands.log');
    appendFileSync(file, Buffer.from([0x40, 0, 0, 0, 1, 2, 3])); // a crash mid-append
    const s2 = await open(dir, [c], recorder());
    expect(s2.get('c1', uuid(id)).history.map((h) => h.status)).toEqual(['QUEUED', 'SENT']);
    await s2.close();
    services.splice(services.indexOf(s2), 1);
    const s3 = await open(dir, [c], recorder());
    expect(s3.get('c1', uuid(id)).history.map((h) => h.status)).toEqual(['QUEUED', 'SENT']);
    writeFileSync(file, Buffer.from('garbage that is no frame'));
    await s3.close();
    services.splice(services.indexOf(s3), 1);
    const s4 = await open(dir, [c], recorder());
    expect(s4.list('c1')).toEqual([]);
  });
});

describe('evidenceOf', () => {
  const u = '0d9e3a4c-8f2b-4c1e-9a7d-2b3c4d5e6f70';
  it('maps TTS, ChirpStack and Sigfox events to the states their sources define', () => {
    const tts = (event: string, details: Record<string, unknown>) => evidenceOf('tts', { kind: 'downlink', event, details });
    expect(tts('downlink_queued', { correlationIds: ['as:downlink:01', `wot-hub:cmd:${u}`] })).toMatchObject({ uuid: u, status: 'ACCEPTED' });
    expect(tts('downlink_ack', { correlationIds: [`wot-hub:cmd:${u}`] })).toMatchObject({ status: 'DELIVERED' });
    expect(tts('downlink_nack', { correlationIds: [`wot-hub:cmd:${u}`] })).toMatchObject({ status: 'FAILED', retryable: true });
    expect(tts('downlink_failed', { downlink: { correlationIds: [`wot-hub:cmd:${u}`] }, error: { name: 'no_device_session' } })).toMatchObject({ status: 'FAILED', evidence: expect.stringContaining('no_device_session') });
    expect(tts('downlink_ack', { correlationIds: ['my-correlation-id'] })).toBeUndefined();
    const cs = (event: string, details: Record<string, unknown>) => evidenceOf('chirpstack', { kind: 'downlink', event, details });
    expect(cs('txack', { queueItemId: u })).toMatchObject({ status: 'ACCEPTED' });
    expect(cs('ack', { queueItemId: u, acknowledged: true })).toMatchObject({ status: 'DELIVERED' });
    expect(cs('log', { level: 'ERROR', code: 'DOWNLINK_PAYLOAD_SIZE', context: { queue_item_id: u } })).toMatchObject({ status: 'FAILED', retryable: false });
    expect(cs('log', { level: 'INFO', code: 'EXPIRED', context: { queue_item_id: u } })).toBeUndefined();
    const sf = (infoCode: number) => evidenceOf('sigfox', { kind: 'downlink', event: 'acknowledge', device: { keyType: 'sigfoxId', deviceKey: '1A2B3C' }, details: { infoCode } });
    expect(sf(0)).toMatchObject({ status: 'ACCEPTED' });
    expect(sf(5)).toBeUndefined();
    expect(sf(2)).toMatchObject({ status: 'FAILED', retryable: false });
    expect(sf(4)).toMatchObject({ status: 'FAILED', retryable: true });
  });
});
