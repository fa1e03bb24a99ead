// Fuzz target: Cookie messages as the hub meets them: a serial frame (decodeSerial, bytes and text), a JSON message
// (decodeJson), and the shadows' frames; oracle: whatever decodes re-encodes and decodes to the same message.
import { COOKIE_TYPES, decodeJson, decodeSerial, encodeSerial, type AnyCookieMessage } from '../../../hub/bindings/cookie/codec.ts';
import { CookieShadows } from '../../../hub/bindings/cookie/shadows.ts';
import { planRoad } from '../../../hub/simulators/cookie-road.ts';
import { enc } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';
import type { Rng } from '../prng.ts';

const SEEDS = [
  'madrid-1:2:bt-detection:data:7#2024-05-01T08\\:00\\:00Z:00\\:1A\\:7D\\:DA\\:71\\:13:9E8B33:-67',
  'madrid-1:3:radar-count:data:8#1714550460:3:{52.5:-48:61.25}',
  'madrid-1:*:composite:data:9#{2:bt-detection:1714550460:AA\\:BB:200408:-70}:{3:radar-count:1714550460:1:{55}}:{1:device-status:87.5:v1.2:{1:2:3}}',
  'gw-1:1:gateway-map:data:0#{{uart0:{madrid-1:madrid-2}}:{ble0:{}}}',
  'd:3:radar-config:set:0#a\\:b\\{c\\}\\#d\\\\e\\0f:12:true',
  'link-1:4:weighted-travel-time:data:1#480:A-B:300:71.5:4.2:17',
  'madrid-1:2:bt-detection:get:10#',
  '{"device":"madrid-1","sensor":3,"type":"radar-count","action":"data","seq":8,"payload":{"timestamp":1714550460,"count":3,"velocities":[52.5,-48,61.25]}}',
];

const same = (a: AnyCookieMessage, b: AnyCookieMessage): boolean => JSON.stringify(a) === JSON.stringify(b);

/** A serial message built from the grammar: header fields, atoms with escapes, nested groups. */
function generate(rng: Rng): Uint8Array {
  const types = [...Object.keys(COOKIE_TYPES), 'composite', 'x'];
  const atoms = ['', '1', '-2.5', '1e3', 'true', 'abc', 'A\\:B', '\\0', '\\{', '\\\\', '2024-05-01T08\\:00Z', '9E8B33', '\\', '#', '}', '{'];
  const item = (depth: number): string =>
    depth < 4 && rng.chance(0.25) ? `{${Array.from({ length: rng.int(4) }, () => item(depth + 1)).join(':')}}` : atoms[rng.int(atoms.length)]!;
  const type = types[rng.int(types.length)]!;
  const sensor = type === 'composite' ? '*' : String(rng.int(5));
  const body = Array.from({ length: rng.int(6) }, () => item(0)).join(':');
  return enc(`dev-${rng.int(3)}:${sensor}:${type}:${['data', 'get', 'set', 'ack', 'err', 'x'][rng.int(6)]}:${rng.int(10)}#${body}`);
}

let roadSeeds: string[] = [];

export const cookieTarget: FuzzTarget = {
  name: 'cookie',
  description: 'Cookie serial frame (bytes and text) -> decodeSerial; JSON -> decodeJson; decoded -> encodeSerial -> decodeSerial identity; CookieShadows.framesOf',
  tokens: [':', '#', '{', '}', '\\', '\\0', '\\:', '*', 'composite', 'bt-detection', 'radar-count', 'gateway-map', 'data', 'set', '-', '.', 'e', '"payload"', '"sensor"', '\u0000'],
  seeds() {
    roadSeeds = planRoad({ cars: 3, pedestrians: 1, seed: 5 }).messages.slice(0, 12).map((m) => encodeSerial(m.message));
    return [...SEEDS, ...roadSeeds].map(enc);
  },
  generate,
  generateRatio: 0.4,
  run(input) {
    const shadows = new CookieShadows();
    let m: AnyCookieMessage | undefined;
    try {
      m = decodeSerial(input);
    } catch (e) {
      if (input[0] !== 0x7b) throw e;
    }
    if (input[0] === 0x7b) {
      let body: unknown;
      try {
        body = JSON.parse(text(input));
      } catch {
        return; // JSON.parse's SyntaxError: the transports turn it into a typed 400 (parseJsonBody)
      }
      m = decodeJson(body);
    }
    if (!m) return;
    const again = decodeSerial(encodeSerial(m));
    if (!same(again, m)) throw new OracleError(`serial round trip changed the message: ${JSON.stringify(m).slice(0, 200)}`);
    if (!same(decodeJson(JSON.parse(JSON.stringify(m))), m)) throw new OracleError('JSON round trip changed the message');
    const frames = shadows.framesOf(m, { gateway: 'gw-1', receivedAt: 0 });
    for (const f of frames) if (!/^[A-Za-z0-9._~-]{1,200}$/.test(f.messageId)) throw new OracleError(`messageId not IRI-safe: ${f.messageId}`);
  },
};
