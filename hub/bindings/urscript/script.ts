// URScript lines for a UR-style robot (movej, servoj, movel, stopj): built only from range-checked numbers, and a strict parser of them (hand-rolled: no URScript library ships for Node).
import { HubError, ValidationError } from '../../errors.ts';

/** One motion command. Joint angles and rotation vectors in rad, positions in m, as URScript (UR Script Manual 5.x). */
export type UrCommand =
  | { kind: 'movej'; q: number[]; a: number; v: number }
  | { kind: 'servoj'; q: number[]; t: number; lookahead: number; gain: number }
  | { kind: 'movel'; pose: number[]; a: number; v: number }
  | { kind: 'stopj'; a: number };

export const UR_ACTIONS = ['movej', 'servoj', 'movel', 'stopj'] as const;
/** A line longer than this is refused (the simulator and the adapter's reader bound their buffers with it). */
export const MAX_LINE = 1024;

interface Range { min: number; max: number; dflt?: number }
const TWO_PI = 2 * Math.PI;
/** Ranges of a UR e-Series arm (joints +-360 deg; servoj t, lookahead_time and gain as the manual bounds them). */
export const LIMITS = {
  joint: { min: -TWO_PI, max: TWO_PI },
  position: { min: -1.5, max: 1.5 },
  rotation: { min: -TWO_PI, max: TWO_PI },
  jointAcceleration: { min: 0.01, max: 40, dflt: 1.4 },
  jointVelocity: { min: 0.01, max: 3.15, dflt: 1.05 },
  toolAcceleration: { min: 0.01, max: 20, dflt: 1.2 },
  toolVelocity: { min: 0.001, max: 3, dflt: 0.25 },
  servoTime: { min: 0.002, max: 1, dflt: 0.008 },
  lookahead: { min: 0.03, max: 0.2, dflt: 0.1 },
  gain: { min: 100, max: 2000, dflt: 300 },
} satisfies Record<string, Range>;

export class UrScriptError extends HubError {
  constructor(message: string, readonly offset = 0) {
    super(422, 'urscript-malformed', message);
    this.name = 'UrScriptError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(v: unknown, range: Range, field: string, errors: Array<{ field: string; description: string }>): number {
  if (v === undefined && range.dflt !== undefined) return range.dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < range.min || v > range.max) {
    errors.push({ field, description: `must be a number in [${range.min}, ${range.max}]` });
    return Number.NaN;
  }
  return v;
}

function vector(v: unknown, ranges: Range[], field: string, errors: Array<{ field: string; description: string }>): number[] {
  if (!Array.isArray(v) || v.length !== ranges.length) {
    errors.push({ field, description: `must be an array of ${ranges.length} numbers` });
    return [];
  }
  return v.map((x, i) => num(x, ranges[i]!, `${field}/${i}`, errors));
}

const JOINTS = Array<Range>(6).fill(LIMITS.joint);
const POSE = [LIMITS.position, LIMITS.position, LIMITS.position, LIMITS.rotation, LIMITS.rotation, LIMITS.rotation];

/**
 * The command of a ur-robot action input (thing-models/ur-robot.tm.jsonld): `{joints, acceleration?, velocity?}`,
 * `{joints, time?, lookahead?, gain?}`, `{pose, acceleration?, velocity?}`, `{acceleration?}`. A ValidationError names
 * every bad member; nothing outside the ranges reaches a line.
 */
export function commandOf(action: string, input: unknown): UrCommand {
  const errors: Array<{ field: string; description: string }> = [];
  const o = isObject(input) ? input : input === undefined || input === null ? {} : undefined;
  if (!o) throw new ValidationError(`The input of '${action}' must be an object`, [{ field: '', description: 'must be an object' }]);
  let cmd: UrCommand;
  switch (action) {
    case 'movej':
      cmd = { kind: 'movej', q: vector(o.joints, JOINTS, '/joints', errors), a: num(o.acceleration, LIMITS.jointAcceleration, '/acceleration', errors), v: num(o.velocity, LIMITS.jointVelocity, '/velocity', errors) };
      break;
    case 'servoj':
      cmd = { kind: 'servoj', q: vector(o.joints, JOINTS, '/joints', errors), t: num(o.time, LIMITS.servoTime, '/time', errors), lookahead: num(o.lookahead, LIMITS.lookahead, '/lookahead', errors), gain: num(o.gain, LIMITS.gain, '/gain', errors) };
      break;
    case 'movel':
      cmd = { kind: 'movel', pose: vector(o.pose, POSE, '/pose', errors), a: num(o.acceleration, LIMITS.toolAcceleration, '/acceleration', errors), v: num(o.velocity, LIMITS.toolVelocity, '/velocity', errors) };
      break;
    case 'stopj':
      cmd = { kind: 'stopj', a: num(o.acceleration, { ...LIMITS.jointAcceleration, dflt: 2 }, '/acceleration', errors) };
      break;
    default:
      throw new ValidationError(`'${action.slice(0, 64)}' is not a URScript command the hub sends`, [{ field: '', description: `action must be one of ${UR_ACTIONS.join(', ')}` }]);
  }
  if (errors.length) throw new ValidationError(`The input of '${action}' is out of range`, errors);
  return cmd;
}

/** A number as URScript reads it: fixed notation, at most 6 decimals, never an exponent, NaN or Infinity. */
function fmt(x: number): string {
  if (!Number.isFinite(x) || Math.abs(x) > 1e6) throw new UrScriptError(`not a finite number in range: ${x}`);
  const s = x.toFixed(6).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
}
const list = (xs: number[]): string => `[${xs.map(fmt).join(',')}]`;

/** The URScript line of a command (no newline). Only numbers from a validated UrCommand go in. */
export function toUrScript(c: UrCommand): string {
  switch (c.kind) {
    case 'movej':
      return `movej(${list(c.q)},a=${fmt(c.a)},v=${fmt(c.v)})`;
    case 'servoj':
      return `servoj(${list(c.q)},t=${fmt(c.t)},lookahead_time=${fmt(c.lookahead)},gain=${fmt(c.gain)})`;
    case 'movel':
      return `movel(p${list(c.pose)},a=${fmt(c.a)},v=${fmt(c.v)})`;
    case 'stopj':
      return `stopj(${fmt(c.a)})`;
  }
}

type Arg = number | { list: number[]; pose: boolean };
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?/;

/** Parses one line `name(arg, ..., key=arg)`; args are numbers, `[..]` lists or `p[..]` poses. Throws UrScriptError. */
function parseCall(line: string): { name: string; args: Arg[]; named: Map<string, Arg> } {
  if (line.length > MAX_LINE) throw new UrScriptError(`line longer than ${MAX_LINE} characters`, MAX_LINE);
  let i = 0;
  const ws = () => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  const fail = (what: string): never => {
    throw new UrScriptError(`${what} at offset ${i}`, i);
  };
  ws();
  const name = /^[a-z_][a-z0-9_]{0,31}/.exec(line.slice(i))?.[0] ?? fail('a function name expected');
  i += name.length;
  ws();
  if (line[i++] !== '(') fail("'(' expected");
  const readNumber = (): number => {
    ws();
    const m = NUMBER.exec(line.slice(i, i + 40)) ?? fail('a number expected');
    i += m[0].length;
    const n = Number(m[0]);
    // Read at the precision lines are written with (fmt: 6 decimals), so a parsed command renders and parses back the
    // same (fuzz seed 21: 1e-27 became 0 on the way back).
    return Number.isFinite(n) ? Number(n.toFixed(6)) + 0 : fail('a finite number expected');
  };
  const readArg = (): Arg => {
    ws();
    let pose = false;
    if (line[i] === 'p' && line[i + 1] === '[') {
      pose = true;
      i++;
    }
    if (line[i] !== '[') return pose ? fail("'[' expected") : readNumber();
    i++;
    const xs: number[] = [];
    ws();
    while (line[i] !== ']') {
      if (xs.length >= 16) fail('a list of more than 16 numbers');
      xs.push(readNumber());
      ws();
      if (line[i] === ',') i++;
      else if (line[i] !== ']') fail("',' or ']' expected");
    }
    i++;
    return { list: xs, pose };
  };
  const args: Arg[] = [];
  const named = new Map<string, Arg>();
  ws();
  while (line[i] !== ')') {
    if (args.length + named.size >= 8) fail('more than 8 arguments');
    ws();
    const key = /^([a-z_]{1,20})\s*=(?!=)/.exec(line.slice(i));
    if (key) {
      i += key[0].length;
      if (named.has(key[1]!)) fail(`argument ${key[1]} given twice`);
      named.set(key[1]!, readArg());
    } else if (named.size) fail('a positional argument after a named one');
    else args.push(readArg());
    ws();
    if (line[i] === ',') i++;
    else if (line[i] !== ')') fail("',' or ')' expected");
  }
  i++;
  ws();
  if (i < line.length) fail('text after the call');
  return { name, args, named };
}

/**
 * Reads a line the hub (or anyone) sent: `movej(q, a, v)`, `servoj(q, a, v, t, lookahead_time, gain)`,
 * `movel(p[...], a, v)`, `stopj(a)`, positional or named arguments; values outside LIMITS are refused.
 */
export function parseUrScript(line: string): UrCommand {
  const { name, args, named } = parseCall(line);
  const order: Record<string, string[]> = {
    movej: ['q', 'a', 'v', 't', 'r'],
    movel: ['pose', 'a', 'v', 't', 'r'],
    servoj: ['q', 'a', 'v', 't', 'lookahead_time', 'gain'],
    stopj: ['a'],
  };
  const names = order[name];
  if (!names) throw new UrScriptError(`unknown function ${name}`);
  if (args.length > names.length) throw new UrScriptError(`${name} takes at most ${names.length} arguments`);
  const byName = new Map<string, Arg>(args.map((a, k) => [names[k]!, a]));
  for (const [k, v] of named) {
    if (!names.includes(k)) throw new UrScriptError(`${name} has no argument ${k}`);
    if (byName.has(k)) throw new UrScriptError(`argument ${k} given twice`);
    byName.set(k, v);
  }
  const scalar = (k: string): number | undefined => {
    const v = byName.get(k);
    if (v !== undefined && typeof v !== 'number') throw new UrScriptError(`argument ${k} must be a number`);
    return v;
  };
  const vec = (k: string, pose: boolean): number[] => {
    const v = byName.get(k);
    if (v === undefined || typeof v === 'number' || v.pose !== pose) throw new UrScriptError(`argument ${k} must be a ${pose ? 'pose p[...]' : 'joint list [...]'}`);
    return v.list;
  };
  try {
    if (name === 'movej') return commandOf('movej', { joints: vec('q', false), acceleration: scalar('a'), velocity: scalar('v') });
    if (name === 'movel') return commandOf('movel', { pose: vec('pose', true), acceleration: scalar('a'), velocity: scalar('v') });
    if (name === 'servoj') return commandOf('servoj', { joints: vec('q', false), time: scalar('t'), lookahead: scalar('lookahead_time'), gain: scalar('gain') });
    return commandOf('stopj', { acceleration: scalar('a') });
  } catch (e) {
    if (e instanceof ValidationError) {
      const errs = (e.extensions.validationErrors as Array<{ field: string; description: string }>) ?? [];
      throw new UrScriptError(`${name}: ${errs.map((x) => `${x.field} ${x.description}`).join('; ') || e.message}`);
    }
    throw e;
  }
}
