// Fuzz target: rule definitions (JSON -> parseRule, JSONata compiled under the AST check), one bounded evaluation of each expression, and URScript lines (parseUrScript) as the robot simulator reads them.
import { parseUrScript, toUrScript } from '../../../hub/bindings/urscript/script.ts';
import { parseRule } from '../../../hub/rules/definition.ts';
import { mouseRule } from '../../../hub/rules/mouse.ts';
import { enc } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';
import { mutateMember } from './tts.ts';

const LIMITS = { timeMs: 20, depth: 100, resultChars: 16 * 1024 };
let seeds: unknown[] = [];
const LINES = ['movej([0,-1.57,1.57,0,1.57,0],a=1.4,v=1.05)', 'servoj([0,0,0,0,0,0], 0, 0, 0.008, 0.1, 300)', 'movel(p[0.3,0.1,0.4,0,3.14,0], 1.2, 0.25)', 'stopj(2)'];

export const rulesTarget: FuzzTarget = {
  name: 'rules',
  description: 'rule definitions (JSON) -> parseRule + one bounded JSONata evaluation per expression; "U:"-prefixed input -> parseUrScript (re-rendered and re-parsed to the same command)',
  tokens: ['"$ageMs(\\"imu\\")"', '"value"', '"[1..10000]"', '"/a+/"', '"every"', '"invoke"', '"emit"', '"write"', '"accumulator"', 'p[', '],', 'a=', 'e999', 'NaN', '(', ')'],
  seeds() {
    seeds = [
      mouseRule({ imu: 'urn:a', bno: 'urn:b', robot: 'urn:c' }),
      { domain: 'lab', things: { t: 'urn:t' }, triggers: [{ thing: 't', property: 'temperature' }, { every: 5 }], condition: 'value < 18', accumulator: { initial: 0, min: 0, max: 3, update: 'state + 1' }, actions: [{ emit: 'cold', data: '{"v": value}' }] },
    ];
    return [...seeds.map((s) => enc(JSON.stringify(s))), ...LINES.map((l) => enc(`U:${l}`))];
  },
  generate: (rng) => (rng.range(0, 4) === 0 ? enc(`U:${rng.pick(LINES)}`) : mutateMember(rng, seeds.length ? seeds : [{}])),
  generateRatio: 0.5,
  async run(input) {
    const s = text(input);
    if (s.startsWith('U:')) {
      const cmd = parseUrScript(s.slice(2));
      const again = parseUrScript(toUrScript(cmd));
      if (JSON.stringify(again) !== JSON.stringify(cmd)) throw new OracleError('a URScript command does not survive toUrScript -> parseUrScript');
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(s);
    } catch {
      return; // the route's JSON parser refuses it (400) before parseRule
    }
    const def = parseRule('fuzz', body, LIMITS);
    const input0 = { value: 1, state: 0, outputs: {}, trigger: { kind: 'property', thing: 't' } };
    const exprs = [def.condition, def.accumulator?.update, ...def.actions.map((a) => (a.kind === 'invoke' ? a.input : a.kind === 'write' ? a.value : a.data))];
    for (const e of exprs) if (e) await e.evaluate(input0).catch((err: unknown) => {
      if (!(err instanceof Error) || !('code' in err)) throw err;
    });
  },
};
