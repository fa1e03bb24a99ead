// Fuzz target: Sigfox callback bodies as the route reads them (JSON, text template, name=value pairs) -> decodeSigfoxCallback.
import { callbackTextBody } from '../../../hub/bindings/sigfox/body.ts';
import { decodeSigfoxCallback, SIGFOX_MAX_UPLINK_BYTES } from '../../../hub/bindings/sigfox/codec.ts';
import { enc } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';
import { checkEvent, mutateMember, vectorInputs } from './tts.ts';

let seeds: unknown[] = [];
const FORMS = [
  'device=B445A9&time=1596721546&data=c6099764&seqNumber=2&station=37FF&rssi=-123.00&snr=12.53',
  'device={device}&time={time}&data={data}&seqNumber={seqNumber}&ack={ack}',
];

export const sigfoxTarget: FuzzTarget = {
  name: 'sigfox',
  description: 'Sigfox callback text (JSON or name=value template) -> callbackTextBody -> decodeSigfoxCallback; frame invariants, <= 12 bytes',
  tokens: ['"null"', '"{rssi}"', '"true"', '"false"', '"18.53"', '"duplicates"', '"computedLocation"', '"seqNumber"', '&', '=', '%', '\u201d', '\r'],
  seeds() {
    seeds = [
      ...vectorInputs(['sigfox']),
      { device: '1A2B3C', time: 1600674364, data: 'ce20', seqNumber: 50, duplicates: '[{"bsId":"93CF","rssi":-128,"snr":6,"nbRep":3}]', computedLocation: { lat: 43.5, lng: 1.4, radius: 1200, source: 2, status: 1 } },
    ];
    return [...seeds.map((s) => enc(JSON.stringify(s))), ...FORMS.map(enc)];
  },
  generate: (rng) => mutateMember(rng, seeds.length ? seeds : [{}]),
  generateRatio: 0.6,
  run(input) {
    const event = decodeSigfoxCallback(callbackTextBody(text(input)), 0);
    if (event.kind === 'uplink' && (event.frame.bytes?.length ?? 0) > SIGFOX_MAX_UPLINK_BYTES) throw new OracleError('uplink longer than 12 bytes');
    checkEvent(event);
  },
};
