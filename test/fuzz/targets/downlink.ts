// Fuzz target: network-server downlink events (TTS down/*, ChirpStack txack/ack/log, Sigfox acknowledge) -> evidenceOf, and the command log's frame reader.
import { decodeChirpstackEvent } from '../../../hub/bindings/chirpstack/codec.ts';
import { decodeSigfoxCallback } from '../../../hub/bindings/sigfox/codec.ts';
import { decodeTtsMessage } from '../../../hub/bindings/tts/codec.ts';
import { evidenceOf } from '../../../hub/downlink/events.ts';
import { frame, LogType, readFrames } from '../../../hub/downlink/log.ts';
import { COMMAND_STATUSES } from '../../../hub/downlink/types.ts';
import { parseJsonBody } from '../../../hub/http/body.ts';
import { enc } from '../corpus.ts';
import { isHubError, OracleError, type FuzzTarget } from '../target.ts';
import { mutateMember, vectorInputs } from './tts.ts';

const U = '0d9e3a4c-8f2b-4c1e-9a7d-2b3c4d5e6f70';
let seeds: unknown[] = [];
const STATUSES = new Set<string>(COMMAND_STATUSES);

function check(binding: string, event: ReturnType<typeof decodeTtsMessage>): void {
  if (event.kind === 'uplink') return;
  const e = evidenceOf(binding, event);
  if (e === undefined) return;
  if (!STATUSES.has(e.status)) throw new OracleError(`unknown status ${e.status}`);
  if (!e.uuid && !e.device) throw new OracleError('evidence names no command and no device');
  if (e.uuid && !/^[0-9a-f-]{36}$/.test(e.uuid)) throw new OracleError(`bad uuid ${e.uuid}`);
  if (typeof e.evidence !== 'string' || e.evidence.length > 600 || /[\u0000-\u001f]/.test(e.evidence)) throw new OracleError('evidence text unbounded or with control characters');
}

export const downlinkTarget: FuzzTarget = {
  name: 'downlink-events',
  description: 'TTS/ChirpStack/Sigfox downlink events (strict JSON) -> codec -> evidenceOf (status, uuid, bounded evidence); raw bytes -> readFrames (never throws, prefix bounded)',
  tokens: ['"correlation_ids"', `"wot-hub:cmd:${U}"`, '"queueItemId"', '"acknowledged"', '"infoCode"', '"downlink_ack"', '"downlink_failed"', '"ERROR"', '"queue_item_id"'],
  seeds() {
    const ids = { correlation_ids: [`wot-hub:cmd:${U}`] };
    seeds = [
      ...vectorInputs(['chirpstack']),
      { end_device_ids: { device_id: 'd', application_ids: { application_id: 'a' }, dev_eui: '70B3D57ED0000001' }, downlink_ack: { f_port: 3, ...ids } },
      { end_device_ids: { device_id: 'd', application_ids: { application_id: 'a' } }, downlink_failed: { downlink: { f_port: 3, ...ids }, error: { name: 'x', code: 5 } } },
      { deviceInfo: { devEui: '0101010101010101', applicationId: 'a' }, queueItemId: U, acknowledged: false },
      { device: '1A2B3C', time: 1764680101, infoCode: 4, infoMessage: 'x', downlinkAck: false },
    ];
    const log = Buffer.concat([frame(LogType.Command, { id: `urn:uuid:${U}`, thingId: 't', history: [] }), frame(LogType.Transition, { id: U, seq: 1, status: 'SENT' })]);
    return [...seeds.map((s) => enc(JSON.stringify(s))), new Uint8Array(log)];
  },
  generate: (rng) => mutateMember(rng, seeds.length ? seeds : [{}]),
  generateRatio: 0.6,
  run(input) {
    const read = readFrames(Buffer.from(input));
    if (read.goodBytes > input.length) throw new OracleError('good prefix longer than the input');
    let body: unknown;
    try {
      body = parseJsonBody(input, 'fuzz');
    } catch {
      return;
    }
    const attempt = (f: () => void) => {
      try {
        f();
      } catch (e) {
        if (!isHubError(e)) throw e; // a typed DecodeError is the codecs' documented refusal; anything else is a finding
      }
    };
    attempt(() => check('tts', decodeTtsMessage(body, 0)));
    for (const ev of ['ack', 'txack', 'log']) attempt(() => check('chirpstack', decodeChirpstackEvent(ev, body, 0)));
    attempt(() => check('sigfox', decodeSigfoxCallback(body, 0)));
  },
};
