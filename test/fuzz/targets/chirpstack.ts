// Fuzz target: ChirpStack v4 HTTP-integration bodies (strict JSON -> decodeChirpstackEvent for each event type).
import { CHIRPSTACK_EVENTS, decodeChirpstackEvent } from '../../../hub/bindings/chirpstack/codec.ts';
import { parseJsonBody } from '../../../hub/http/body.ts';
import { enc } from '../corpus.ts';
import { OracleError, type FuzzTarget } from '../target.ts';
import { checkEvent, mutateMember, vectorInputs } from './tts.ts';

const EVENTS = [...Object.keys(CHIRPSTACK_EVENTS), 'unknown'];
let seeds: unknown[] = [];

export const chirpstackTarget: FuzzTarget = {
  name: 'chirpstack',
  description: 'ChirpStack v4 event body -> parseJsonBody -> decodeChirpstackEvent(?event= from the first byte); DeviceFrame invariants',
  tokens: ['"deviceInfo"', '"devEui"', '"fCnt"', '"data"', '"rxInfo"', '"txInfo"', '"object"', '"gatewayId"', '"+00:00"', '"CR_4_5"', '"4294967295"'],
  seeds() {
    seeds = vectorInputs(['chirpstack-v4']);
    return seeds.map((s) => enc(JSON.stringify(s)));
  },
  generate: (rng) => mutateMember(rng, seeds.length ? seeds : [{}]),
  generateRatio: 0.6,
  run(input) {
    // The event type rides on the input's length so that a given input always decodes the same way.
    const event = EVENTS[input.length % EVENTS.length];
    const result = decodeChirpstackEvent(event === 'unknown' ? undefined : event, parseJsonBody(input), 0);
    if (result.kind === 'uplink' && result.frame.keyType !== 'devEui') throw new OracleError('a ChirpStack uplink is keyed by DevEUI');
    checkEvent(result);
  },
};
