// Fuzz target: one MQTT message (topic line, then the payload) through the MQTT ingest (topic dispatch, TTS/ChirpStack
// codecs, the generic JSON uplink) and the broker's packet-size scanner over the same bytes.
import { readFileSync } from 'node:fs';
import { MQTT_CODECS } from '../../../hub/bindings/mqtt/index.ts';
import { MqttIngest } from '../../../hub/bindings/mqtt/ingest.ts';
import { PacketSizeScanner } from '../../../hub/bindings/mqtt/packet-limit.ts';
import type { AcceptResult, DeviceFrame, UplinkSink } from '../../../hub/bindings/types.ts';
import { OracleError, bytes, type FuzzTarget } from '../target.ts';

const MESSAGE_ID = /^[A-Za-z0-9._~-]{1,200}$/;
let frames: DeviceFrame[] = [];

const sink: UplinkSink = {
  async accept(frame: DeviceFrame): Promise<AcceptResult> {
    frames.push(frame);
    return { status: 'stored', thingId: 't', quads: 1 };
  },
  reject() {},
};
const silent = { info() {}, warn() {}, error() {} };
const ingest = new MqttIngest({ uplinks: sink, log: silent }, MQTT_CODECS);

function seedsFromVectors(): Uint8Array[] {
  const vectors = JSON.parse(readFileSync(new URL('../../../../shared/vectors/network_servers.json', import.meta.url), 'utf8')) as Array<{ id: string; topic?: string; input: unknown }>;
  const out: Uint8Array[] = [];
  for (const v of vectors) {
    const input = v.input as { end_device_ids?: { device_id?: string }; deviceInfo?: { devEui?: string } } | undefined;
    if (v.id.startsWith('tts')) out.push(bytes(`v3/app1@tenant1/devices/${input?.end_device_ids?.device_id ?? 'dev1'}/up\n${JSON.stringify(v.input)}`));
    if (v.id.startsWith('chirpstack')) out.push(bytes(`application/1/device/${input?.deviceInfo?.devEui ?? '0101010101010101'}/event/${v.id.split('-')[1]}\n${JSON.stringify(v.input)}`));
  }
  out.push(bytes('hub/devices/devEui/70-B3-D5-7E-D0-00-00-01/up\n{"seq":1,"time":"2026-01-01T00:00:00Z","temperature":21.5}'));
  out.push(bytes('hub/things/urn%3Adev%3A1/messages\n{"messageId":"m-1","v":[1,2,{"a":null}]}'));
  out.push(bytes('hub/devices/sigfoxId/1A2B3C/up\n{}'));
  return out;
}

export const mqttTarget: FuzzTarget = {
  name: 'mqtt',
  description: 'MQTT topic dispatch + TTS/ChirpStack/generic uplink decoding (MqttIngest.handle) and the packet-size scanner',
  seeds: seedsFromVectors,
  tokens: ['v3/', '@', '/devices/', '/up', 'application/', '/device/', '/event/', 'hub/devices/devEui/', 'hub/things/', '/messages', '%2F', '%', '"seq":', '"time":', '"messageId":', '"f_cnt":', '"fCnt":', '"frm_payload":', '"data":', 'null', '-1', '1e309', '"\\u0000"', '{', '}', '[', ']', ','],
  async run(input: Uint8Array) {
    const nl = input.indexOf(0x0a);
    const topic = new TextDecoder().decode(nl >= 0 ? input.subarray(0, nl) : input);
    const payload = nl >= 0 ? input.subarray(nl + 1) : new Uint8Array(0);
    new PacketSizeScanner(256 * 1024).feed(input);
    frames = [];
    const delivery = await ingest.handle(topic, payload, 1);
    if (delivery !== 'ack') throw new OracleError(`a stored frame was not acknowledged (${delivery})`);
    for (const f of frames) {
      if (typeof f.deviceKey !== 'string' || f.deviceKey === '') throw new OracleError('a frame without a device key reached the pipeline');
      if (typeof f.messageId !== 'string' || !MESSAGE_ID.test(f.messageId)) throw new OracleError(`messageId '${String(f.messageId).slice(0, 80)}' is not IRI-safe`);
    }
  },
};
