// Rule definitions (the embedded cloud paper's PDL processes as JSON): triggers, a condition, an accumulator, actions; parsed strictly, every problem naming its member.
import { HubError } from '../errors.ts';
import { compile, type CompiledExpression, type ExpressionLimits } from './expressions.ts';

export const RULE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DEFAULT_DOMAIN = 'default';
const DOMAIN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALIAS = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;
const AFFORDANCE = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const MAX_THINGS = 32;
const MAX_TRIGGERS = 16;
const MAX_ACTIONS = 16;
/** Longest timer period (s): a day. */
const MAX_EVERY = 86_400;

export type Trigger =
  | { kind: 'property'; thing: string; property: string }
  | { kind: 'event'; thing: string; event: string }
  | { kind: 'timer'; every: number }
  | { kind: 'virtual'; sensor: string; output?: string };

export type RuleAction =
  | { kind: 'invoke'; thing: string; action: string; input?: CompiledExpression }
  /** Without `thing`: the rule's own output; with it, a writeproperty on that Thing (queued as its hub:writeAction). */
  | { kind: 'write'; property: string; value: CompiledExpression; thing?: string }
  | { kind: 'emit'; event: string; data?: CompiledExpression };

export interface Accumulator { initial: number; min: number; max: number; update: CompiledExpression }

/** A parsed rule; `source` is the JSON as given (persisted and served back). */
export interface RuleDefinition {
  name: string;
  title: string;
  domain: string;
  /** alias -> Thing id. Triggers and actions name Things by alias; every one must be of the rule's domain. */
  things: Record<string, string>;
  triggers: Trigger[];
  condition?: CompiledExpression;
  accumulator?: Accumulator;
  actions: RuleAction[];
  enabled: boolean;
  source: Record<string, unknown>;
}

/** 422 invalid-rule naming the member (a JSON Pointer into the definition) that is wrong. */
export class RuleDefinitionError extends HubError {
  constructor(member: string, description: string, code = 'invalid-rule', status = 422) {
    super(status, code, `Rule definition: ${member || '/'} ${description}`, { extensions: { member, validationErrors: [{ field: member, description }] } });
    this.name = 'RuleDefinitionError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(o: Record<string, unknown>, at: string, allowed: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new RuleDefinitionError(`${at}/${k}`, `is not a member of a rule ${at ? at.split('/')[1] : ''} (allowed: ${allowed.join(', ')})`);
}

function expression(v: unknown, at: string, limits?: ExpressionLimits): CompiledExpression {
  if (typeof v !== 'string') throw new RuleDefinitionError(at, 'must be a JSONata expression (a string)');
  try {
    return compile(v, limits);
  } catch (e) {
    throw new RuleDefinitionError(at, (e as Error).message);
  }
}

function finite(v: unknown, at: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RuleDefinitionError(at, 'must be a finite number');
  return v;
}

function alias(v: unknown, at: string, things: Record<string, string>): string {
  if (typeof v !== 'string' || !Object.hasOwn(things, v)) throw new RuleDefinitionError(at, `must name a Thing of /things (${Object.keys(things).join(', ') || 'none declared'})`);
  return v;
}

function name(v: unknown, at: string): string {
  if (typeof v !== 'string' || !AFFORDANCE.test(v)) throw new RuleDefinitionError(at, 'must be an affordance name ([A-Za-z_][A-Za-z0-9_.-]*)');
  return v;
}

/** Parses a definition; throws RuleDefinitionError (422, `member`) at the first problem. Domains are checked later, against the directory. */
export function parseRule(ruleName: string, body: unknown, limits?: ExpressionLimits): RuleDefinition {
  if (!RULE_NAME.test(ruleName)) throw new RuleDefinitionError('', `the rule name '${ruleName.slice(0, 64)}' must match ${RULE_NAME.source}`, 'invalid-rule-name', 400);
  if (!isObject(body)) throw new RuleDefinitionError('', 'must be a JSON object');
  only(body, '', ['title', 'description', 'domain', 'things', 'triggers', 'condition', 'accumulator', 'actions', 'enabled']);
  const domain = body.domain === undefined ? DEFAULT_DOMAIN : body.domain;
  if (typeof domain !== 'string' || !DOMAIN.test(domain)) throw new RuleDefinitionError('/domain', `must match ${DOMAIN.source}`);
  if (body.title !== undefined && (typeof body.title !== 'string' || body.title.length > 200)) throw new RuleDefinitionError('/title', 'must be a string of at most 200 characters');
  if (body.description !== undefined && (typeof body.description !== 'string' || body.description.length > 2000)) throw new RuleDefinitionError('/description', 'must be a string of at most 2000 characters');
  if (body.enabled !== undefined && typeof body.enabled !== 'boolean') throw new RuleDefinitionError('/enabled', 'must be a boolean');
  const things: Record<string, string> = {};
  if (body.things !== undefined) {
    if (!isObject(body.things)) throw new RuleDefinitionError('/things', 'must be an object of alias -> Thing id');
    const entries = Object.entries(body.things);
    if (entries.length > MAX_THINGS) throw new RuleDefinitionError('/things', `may name at most ${MAX_THINGS} Things`);
    for (const [k, v] of entries) {
      if (!ALIAS.test(k)) throw new RuleDefinitionError(`/things/${k}`, `alias must match ${ALIAS.source}`);
      if (typeof v !== 'string' || v === '' || v.length > 512) throw new RuleDefinitionError(`/things/${k}`, 'must be a Thing id (a string of at most 512 characters)');
      things[k] = v;
    }
  }
  if (!Array.isArray(body.triggers) || body.triggers.length === 0 || body.triggers.length > MAX_TRIGGERS) throw new RuleDefinitionError('/triggers', `must be an array of 1 to ${MAX_TRIGGERS} triggers`);
  const triggers = body.triggers.map((t, i): Trigger => {
    const at = `/triggers/${i}`;
    if (!isObject(t)) throw new RuleDefinitionError(at, 'must be an object');
    if (t.every !== undefined) {
      only(t, at, ['every']);
      if (typeof t.every !== 'number' || !Number.isInteger(t.every) || t.every < 1 || t.every > MAX_EVERY) throw new RuleDefinitionError(`${at}/every`, `must be a whole number of seconds from 1 to ${MAX_EVERY} (timers tick at 1 s)`);
      return { kind: 'timer', every: t.every };
    }
    if (t.virtual !== undefined) {
      only(t, at, ['virtual', 'output']);
      if (typeof t.virtual !== 'string' || !RULE_NAME.test(t.virtual)) throw new RuleDefinitionError(`${at}/virtual`, 'must name a virtual sensor');
      return { kind: 'virtual', sensor: t.virtual, ...(t.output !== undefined ? { output: name(t.output, `${at}/output`) } : {}) };
    }
    if (t.property !== undefined) {
      only(t, at, ['thing', 'property']);
      return { kind: 'property', thing: alias(t.thing, `${at}/thing`, things), property: name(t.property, `${at}/property`) };
    }
    if (t.event !== undefined) {
      only(t, at, ['thing', 'event']);
      return { kind: 'event', thing: alias(t.thing, `${at}/thing`, things), event: name(t.event, `${at}/event`) };
    }
    throw new RuleDefinitionError(at, 'must have one of property, event, every, virtual');
  });
  const condition = body.condition === undefined ? undefined : expression(body.condition, '/condition', limits);
  let accumulator: Accumulator | undefined;
  if (body.accumulator !== undefined) {
    const a = body.accumulator;
    if (!isObject(a)) throw new RuleDefinitionError('/accumulator', 'must be an object {initial, min, max, update}');
    only(a, '/accumulator', ['initial', 'min', 'max', 'update']);
    const min = finite(a.min, '/accumulator/min', -Number.MAX_SAFE_INTEGER);
    const max = finite(a.max, '/accumulator/max', Number.MAX_SAFE_INTEGER);
    if (min > max) throw new RuleDefinitionError('/accumulator/max', 'must not be below min');
    const initial = finite(a.initial, '/accumulator/initial', Math.min(max, Math.max(min, 0)));
    if (initial < min || initial > max) throw new RuleDefinitionError('/accumulator/initial', 'must lie within [min, max]');
    accumulator = { initial, min, max, update: expression(a.update, '/accumulator/update', limits) };
  }
  if (!Array.isArray(body.actions) || body.actions.length > MAX_ACTIONS || (body.actions.length === 0 && !accumulator)) throw new RuleDefinitionError('/actions', `must be an array of 1 to ${MAX_ACTIONS} actions (or empty with an accumulator)`);
  const actions = body.actions.map((a, i): RuleAction => {
    const at = `/actions/${i}`;
    if (!isObject(a)) throw new RuleDefinitionError(at, 'must be an object');
    if (a.invoke !== undefined) {
      only(a, at, ['invoke', 'thing', 'input']);
      return { kind: 'invoke', thing: alias(a.thing, `${at}/thing`, things), action: name(a.invoke, `${at}/invoke`), ...(a.input !== undefined ? { input: expression(a.input, `${at}/input`, limits) } : {}) };
    }
    if (a.write !== undefined) {
      only(a, at, ['write', 'thing', 'value']);
      // With a thing: a device property write (its writability is checked against the TD by the engine).
      const thing = a.thing === undefined ? undefined : alias(a.thing, `${at}/thing`, things);
      return { kind: 'write', property: name(a.write, `${at}/write`), value: expression(a.value, `${at}/value`, limits), ...(thing ? { thing } : {}) };
    }
    if (a.emit !== undefined) {
      only(a, at, ['emit', 'data']);
      return { kind: 'emit', event: name(a.emit, `${at}/emit`), ...(a.data !== undefined ? { data: expression(a.data, `${at}/data`, limits) } : {}) };
    }
    throw new RuleDefinitionError(at, 'must have one of invoke, write, emit');
  });
  return { name: ruleName, title: typeof body.title === 'string' ? body.title : ruleName, domain, things, triggers, ...(condition ? { condition } : {}), ...(accumulator ? { accumulator } : {}), actions, enabled: body.enabled !== false, source: body };
}

/** Ids of the Things a rule reads or acts on, with the member that names each (for domain problems). */
export function referencedThings(def: RuleDefinition): Array<{ id: string; member: string }> {
  return Object.entries(def.things).map(([k, id]) => ({ id, member: `/things/${k}` }));
}
