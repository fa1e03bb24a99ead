// MQTT topic dispatch, the generic JSON uplink, the packet-size scanner and the ingest decisions (ack / retry), no sockets.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeGenericUplink } from '../../../hub/bindings/mqtt/generic.ts';
import { MQTT_CODECS } from '../../../hub/bindings/mqtt/index.ts';
import { MqttIngest } from '../../../hub/bindings/mqtt/ingest.ts';
import { PacketSizeScanner } from '../../../hub/bindings/mqtt/packet-limit.ts';
import { subscriptionFilters as subscriptionFiltersFor } from '../../../hub/bindings/mqtt/subscriber.ts';
import { routeTopic } from '../../../hub/bindings/mqtt/topics.ts';
import { DecodeError, OverloadedError, NotFoundError } from '../../../hub/errors.ts';
import { localCodecs, makeCtx, RecordingSink } from './helpers.ts';

const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{
  id: string;
  topic?: string;
  input: unknown;
}>;
const vector = (id: string) => vectors.find((v) => v.id === id)!;
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('routeTopic', () => {
  it('reads TTS topics with and without a tenant, every upstream event', () => {
    expect(routeTopic(vector('tts-uplink-mqtt-doc').topic!)).toEqual({ kind: 'tts', event: 'up', applicationId: 'app1', tenantId: 'tenant1', deviceId: 'dev1' });
    expect(routeTopic('v3/app1/devices/dev1/up')).toEqual({ kind: 'tts', event: 'up', applicationId: 'app1', deviceId: 'dev1' });
    expect(routeTopic(vector('tts-join-mqtt-doc').topic!)).toMatchObject({ kind: 'tts', event: 'join' });
    expect(routeTopic(vector('tts-down-ack-mqtt-doc').topic!)).toMatchObject({ kind: 'tts', event: 'down/ack' });
    expect(routeTopic('v3/app1@t/devices/dev1/up/normalized')).toMatchObject({ kind: 'tts', event: 'up/normalized' });
    // downstream topics (the hub's own downlinks) and unknown events are not device uplinks
    expect(routeTopic('v3/app1@tenant1/devices/dev1/down/push').kind).toBe('other');
    expect(routeTopic('v3/app1@tenant1/devices/dev1/nonsense').kind).toBe('other');
    expect(routeTopic('v3/@tenant1/devices/dev1/up').kind).toBe('other');
    expect(routeTopic('v3/app1@tenant1/devices//up').kind).toBe('other');
  });

  it('reads ChirpStack event topics', () => {
    expect(routeTopic('application/42/device/0102030405060708/event/up')).toEqual({ kind: 'chirpstack', event: 'up', applicationId: '42', devEui: '0102030405060708' });
    expect(routeTopic('application/42/device/0102030405060708/event/join')).toMatchObject({ kind: 'chirpstack', event: 'join' });
    expect(routeTopic('application/42/device/0102030405060708/command/down').kind).toBe('other');
    expect(routeTopic('application/42/device/0102030405060708/event/up/extra').kind).toBe('other');
  });

  it('reads the generic topics, percent-decoding ids', () => {
    expect(routeTopic('hub/devices/devEui/70-B3-D5-7E-D0-00-00-01/up')).toEqual({ kind: 'device', keyType: 'devEui', key: '70-B3-D5-7E-D0-00-00-01' });
    expect(routeTopic('hub/things/urn%3Adev%3Aa%2Fb/messages')).toEqual({ kind: 'thing', thingId: 'urn:dev:a/b' });
    expect(routeTopic('hub/things/%E0%A4%A/messages').kind).toBe('other'); // bad escape
    expect(routeTopic('hub/devices/1bad/x/up').kind).toBe('other');
    expect(routeTopic('hub/things//messages').kind).toBe('other');
    expect(routeTopic('x'.repeat(600)).kind).toBe('other');
  });

  it('subscribes to every device topic, under $share when a group is set', () => {
    const plain = subscriptionFiltersFor();
    expect(plain).toContain('v3/+/devices/+/#');
    expect(plain).toContain('application/+/device/+/event/+');
    expect(subscriptionFiltersFor('hubs')).toEqual(plain.map((f) => `$share/hubs/${f}`));
  });
});

describe('decodeGenericUplink', () => {
  it('keeps the body as decoded, builds messageId from seq and time, canonicalises the key', () => {
    const body = { seq: 7, time: '2026-01-02T03:04:05.678+01:00', temperature: 21.5 };
    const f = decodeGenericUplink({ keyType: 'devEui', key: '70-b3-d5-7e-d0-00-00-01' }, body, enc(body));
    expect(f).toMatchObject({ protocol: 'mqtt-json', keyType: 'devEui', deviceKey: '70B3D57ED0000001', sequence: 7, observedAt: '2026-01-02T02:04:05.678Z', decoded: body });
    expect(f.messageId).toBe(`s7-${Date.parse('2026-01-02T02:04:05.678Z')}`);
  });

  it('takes an explicit messageId; falls back to a content hash that is stable for the same bytes', () => {
    expect(decodeGenericUplink({ thingId: 't1' }, { messageId: 'm-1', v: 1 }, enc('{}')).messageId).toBe('m-1');
    const a = decodeGenericUplink({ thingId: 't1' }, { v: 1 }, enc('{"v":1}'));
    const b = decodeGenericUplink({ thingId: 't1' }, { v: 1 }, enc('{"v":1}'));
    const c = decodeGenericUplink({ thingId: 't1' }, { v: 2 }, enc('{"v":2}'));
    expect(a.messageId).toMatch(/^h[0-9a-f]{16}$/);
    expect(a.messageId).toBe(b.messageId);
    expect(c.messageId).not.toBe(a.messageId);
    expect(a).toMatchObject({ keyType: 'thingId', deviceKey: 't1' });
  });

  it('refuses non-objects and malformed reserved members with a DecodeError naming the field', () => {
    const bad: Array<[unknown, string]> = [
      [[1, 2], '$'],
      [null, '$'],
      [{ seq: -1 }, 'seq'],
      [{ seq: 1.5 }, 'seq'],
      [{ time: 'yesterday' }, 'time'],
      [{ time: '2026-13-45T99:99' }, 'time'],
      [{ messageId: 'a b' }, 'messageId'],
      [{ messageId: 'x'.repeat(65) }, 'messageId'],
    ];
    for (const [body, field] of bad) {
      const err = (() => {
        try {
          decodeGenericUplink({ thingId: 't' }, body, enc('x'));
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(body)).toBeInstanceOf(DecodeError);
      expect((err as DecodeError).field).toBe(field);
    }
  });
});

describe('PacketSizeScanner', () => {
  it('passes packets within the cap across arbitrary chunk boundaries', () => {
    const s = new PacketSizeScanner(300);
    // PUBLISH with remaining length 200 (0xC8 0x01), then PINGREQ (0xC0 0x00), then a 2-byte-length packet of 150
    const bytes = new Uint8Array([0x30, 0xc8, 0x01, ...new Array(200).fill(1), 0xc0, 0x00, 0x30, 0x96, 0x01, ...new Array(150).fill(2)]);
    for (let i = 0; i < bytes.length; i += 7) expect(s.feed(bytes.subarray(i, i + 7))).toBeUndefined();
  });

  it('refuses a packet whose header announces more than the cap, before its body', () => {
    const s = new PacketSizeScanner(1000);
    // CONNECT announcing 268,435,455 bytes (0xFF 0xFF 0xFF 0x7F)
    expect(s.feed(new Uint8Array([0x10, 0xff, 0xff, 0xff, 0x7f]))).toMatch(/over the 1000-byte limit/);
    expect(new PacketSizeScanner(1000).feed(new Uint8Array([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toMatch(/malformed/);
  });
});

describe('MqttIngest', () => {
  const tts = vector('tts-uplink-mqtt-doc');

  it('dispatches TTS, ChirpStack and generic topics to their codecs and acks stored/duplicate', async () => {
    const sink = new RecordingSink();
    const ingest = new MqttIngest(makeCtx(sink), localCodecs);
    expect(await ingest.handle(tts.topic!, enc(tts.input), 1)).toBe('ack');
    expect(await ingest.handle(tts.topic!, enc(tts.input), 1)).toBe('ack'); // duplicate
    const cs = vector('chirpstack-up-docs').input as { deviceInfo: { devEui: string } };
    expect(await ingest.handle(`application/1/device/${cs.deviceInfo.devEui}/event/up`, enc(cs), 1)).toBe('ack');
    expect(await ingest.handle('hub/devices/devEui/0102030405060708/up', enc({ seq: 1, t: 20 }), 0)).toBe('ack');
    expect(sink.accepted.map((a) => a.origin.binding)).toEqual(['tts', 'chirpstack', 'mqtt-json']);
    expect(sink.accepted[0]!.origin).toMatchObject({ transport: 'mqtt', topic: tts.topic });
    expect(ingest.counters).toMatchObject({ received: 4, stored: 3, duplicate: 1, qos0: 1, rejected: 0 });
  });

  it('counts other events (join, status, down/ack) without storing them', async () => {
    const sink = new RecordingSink();
    const ctx = makeCtx(sink);
    const ingest = new MqttIngest(ctx, localCodecs);
    expect(await ingest.handle(vector('tts-join-mqtt-doc').topic!, enc(vector('tts-join-mqtt-doc').input), 1)).toBe('ack');
    expect(await ingest.handle('application/1/device/0102030405060708/event/status', enc(vector('chirpstack-status-docs').input), 1)).toBe('ack');
    expect(await ingest.handle('application/1/device/0102030405060708/event/txack', enc(vector('chirpstack-txack-docs').input), 1)).toBe('ack');
    expect(sink.calls).toBe(0);
    expect(ingest.stats()).toMatchObject({ events: 3, 'event:tts:join': 1, 'event:chirpstack:status': 1, 'event:chirpstack:txack': 1 });
    expect(ctx.lines.filter((l) => l.level === 'info').length).toBe(2); // join and status reported
  });

  it('rejects bad JSON, decode errors and topic/body mismatches (counted, acknowledged)', async () => {
    const sink = new RecordingSink();
    const ingest = new MqttIngest(makeCtx(sink), localCodecs);
    expect(await ingest.handle(tts.topic!, enc('{"end_device_ids":'), 1)).toBe('ack');
    expect(await ingest.handle(tts.topic!, new Uint8Array([0x7b, 0xff, 0x7d]), 1)).toBe('ack'); // invalid UTF-8
    expect(await ingest.handle(tts.topic!, enc({ uplink_message: {} }), 1)).toBe('ack');
    expect(await ingest.handle('v3/app1@tenant1/devices/other-device/up', enc(tts.input), 1)).toBe('ack');
    expect(await ingest.handle('application/1/device/FFFFFFFFFFFFFFFF/event/up', enc(vector('chirpstack-up-docs').input), 1)).toBe('ack');
    expect(await ingest.handle('hub/things/t1/messages', enc('[1]'), 1)).toBe('ack');
    expect(sink.calls).toBe(0);
    expect(sink.rejected.map((r) => r.error.code)).toEqual(['bad-json', 'bad-encoding', 'decode-failed', 'decode-failed', 'decode-failed', 'decode-failed']);
    expect(sink.rejected.map((r) => (r.error as DecodeError).field).slice(2)).toEqual(['end_device_ids.dev_eui', 'end_device_ids.device_id', 'deviceInfo.devEui', '$']);
    expect(ingest.counters.rejected).toBe(6);
  });

  it('acks 4xx rejections from the pipeline and withholds the ack on >= 500', async () => {
    const sink = new RecordingSink();
    const ingest = new MqttIngest(makeCtx(sink), localCodecs);
    sink.behaviour = (_f, n) => (n === 0 ? { status: 'rejected', error: new NotFoundError('unknown device') } : n === 1 ? { status: 'rejected', error: new OverloadedError('full') } : undefined);
    expect(await ingest.handle('hub/things/t1/messages', enc({ seq: 1 }), 1)).toBe('ack');
    expect(await ingest.handle('hub/things/t1/messages', enc({ seq: 2 }), 1)).toBe('retry');
    expect(await ingest.handle('hub/things/t1/messages', enc({ seq: 2 }), 1)).toBe('ack');
    expect(ingest.counters).toMatchObject({ rejected: 1, notAcked: 1, stored: 1 });
  });

  it('a codec that throws something untyped is a counted rejection, not a crash; other topics pass', async () => {
    const sink = new RecordingSink();
    const ingest = new MqttIngest(makeCtx(sink), { tts: { name: 'tts', decodeUplink: () => { throw new TypeError('bug'); } } });
    expect(await ingest.handle(tts.topic!, enc(tts.input), 1)).toBe('ack');
    expect(sink.rejected[0]!.error.code).toBe('codec-failed');
    expect(await ingest.handle('some/app/topic', enc('x'), 1)).toBe('ack');
    expect(ingest.counters.otherTopics).toBe(1);
    // no ChirpStack codec installed: counted, dropped
    expect(await ingest.handle('application/1/device/0102030405060708/event/up', enc({}), 1)).toBe('ack');
    expect(ingest.counters.noCodec).toBe(1);
  });
});

describe('MqttIngest with the real ttsCodec and chirpstackCodec', () => {
  const uplinks = vectors.filter((v) => (v as { kind?: string }).kind === 'tts-v3-uplink' || (v as { kind?: string }).kind === 'chirpstack-v4-up');

  it('every TTS and ChirpStack uplink vector with a device EUI becomes a frame for that EUI on its MQTT topic', async () => {
    const sink = new RecordingSink();
    const ingest = new MqttIngest(makeCtx(sink), MQTT_CODECS);
    let expected = 0;
    for (const v of uplinks) {
      const input = v.input as { end_device_ids?: { device_id?: string; dev_eui?: string; application_ids?: { application_id?: string } }; deviceInfo?: { devEui?: string } };
      const eui = input.end_device_ids?.dev_eui ?? input.deviceInfo?.devEui;
      if (!eui) continue;
      const topic = input.deviceInfo
        ? `application/app/device/${eui}/event/up`
        : `v3/${input.end_device_ids!.application_ids?.application_id ?? 'app'}@ttn/devices/${input.end_device_ids!.device_id}/up`;
      expect(await ingest.handle(topic, enc(v.input), 1), v.id).toBe('ack');
      expected += 1;
      expect(sink.accepted.at(-1)?.frame.deviceKey, v.id).toBe(eui.toUpperCase());
    }
    expect(expected).toBeGreaterThanOrEqual(4);
    expect(sink.rejected).toEqual([]);
  });

  it('join and status events are reported with their device', async () => {
    const sink = new RecordingSink();
    const ctx = makeCtx(sink);
    const ingest = new MqttIngest(ctx, MQTT_CODECS);
    await ingest.handle('application/app/device/0101010101010101/event/join', enc(vector('chirpstack-join-docs').input), 1);
    await ingest.handle(vector('tts-join-mqtt-doc').topic!, enc(vector('tts-join-mqtt-doc').input), 1);
    const reports = ctx.lines.filter((l) => l.level === 'info').map((l) => l.obj as { device?: { deviceKey?: string } });
    expect(reports.map((r) => r.device?.deviceKey?.toUpperCase())).toEqual(['0101010101010101', '4200000000000000']);
  });
});
