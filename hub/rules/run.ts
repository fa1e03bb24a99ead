// One run of a rule: the condition, the accumulator (saturating), then the actions in order; every failure is a typed error the engine counts.
import { HubError } from '../errors.ts';
import type { LiveState, MessageEnvelope } from '../routing/live-state.ts';
import type { RuleDefinition } from './definition.ts';
import type { RuleStatus, RuleThings } from './engine.ts';
import type { Bindings } from './expressions.ts';

/** How many rule hops an emitted event may travel (rule A's event triggers B, whose event triggers C, ...). */
export const MAX_HOPS = 8;

export interface TriggerContext {
  kind: 'property' | 'event' | 'timer' | 'virtual';
  thing?: string;
  property?: string;
  event?: string;
  sensor?: string;
  value: unknown;
  message?: MessageEnvelope;
}

export interface RuleRuntime {
  def: RuleDefinition;
  id: string;
  status: RuleStatus;
  running: boolean;
  /** Triggers waiting while a run is under way: the latest of each trigger (by its index), run in arrival order. */
  pending: Map<number, TriggerContext>;
  unsubscribe: Array<() => void>;
  /** The last value each property trigger saw (a trigger fires on a change). */
  lastValues: Map<string, unknown>;
  timerTicks: number;
}

export interface RunDeps {
  live: LiveState;
  things: RuleThings;
  domains: ReadonlyMap<string, string>;
}

/** Clamps to [min, max]: saturating arithmetic (an overflow stays at the bound, never wraps or becomes Infinity). */
export function saturate(v: number, min: number, max: number): number {
  if (Number.isNaN(v)) throw new HubError(422, 'rule-state-invalid', 'The accumulator update gave NaN');
  return v < min ? min : v > max ? max : v;
}

/** Trigonometry JSONata lacks (pure functions of numbers; anything else gives undefined). */
const num = (f: (...xs: number[]) => number) => ((...xs: unknown[]) => (xs.every((x) => typeof x === 'number') ? f(...(xs as number[])) : undefined)) as never;
const MATH: Bindings = {
  sin: num(Math.sin),
  cos: num(Math.cos),
  tan: num(Math.tan),
  asin: num(Math.asin),
  acos: num(Math.acos),
  atan2: num(Math.atan2),
  hypot: num((a, b, c = 0) => Math.hypot(a, b, c)),
  radians: num((deg) => (deg * Math.PI) / 180),
  degrees: num((rad) => (rad * 180) / Math.PI),
  clamp: num((x, lo, hi) => Math.min(hi, Math.max(lo, x))),
};

export async function runRule(rt: RuleRuntime, trigger: TriggerContext, deps: RunDeps): Promise<void> {
  const { def } = rt;
  const hops = Number(trigger.message?.meta.ruleHops ?? 0);
  if (hops >= MAX_HOPS) throw new HubError(508, 'rule-chain-too-deep', `An event came through ${hops} rules (the limit is ${MAX_HOPS})`);
  const bindings: Bindings = {
    ...MATH,
    // What a rule sees: the Things of its own /things map (all of its domain), by alias.
    prop: ((alias: string, name: string) => {
      const id = typeof alias === 'string' && Object.hasOwn(def.things, alias) ? def.things[alias] : undefined;
      return id === undefined || typeof name !== 'string' ? undefined : deps.live.property(id, name);
    }) as never,
    ageMs: ((alias: string) => {
      const id = typeof alias === 'string' && Object.hasOwn(def.things, alias) ? def.things[alias] : undefined;
      const at = id === undefined ? undefined : deps.live.latest(id)?.meta.receivedAt;
      return at === undefined ? undefined : Date.now() - Date.parse(at);
    }) as never,
  };
  const input: Record<string, unknown> = {
    trigger: { kind: trigger.kind, ...(trigger.thing ? { thing: trigger.thing } : {}), ...(trigger.property ? { property: trigger.property } : {}), ...(trigger.event ? { event: trigger.event } : {}), ...(trigger.sensor ? { sensor: trigger.sensor } : {}) },
    value: trigger.value,
    message: trigger.message?.payload,
    state: rt.status.state,
    outputs: rt.status.outputs,
    rule: def.name,
  };
  if (def.condition && !truthy(await def.condition.evaluate(input, bindings))) {
    rt.status.skipped += 1;
    return;
  }
  if (def.accumulator) {
    const { min, max, update } = def.accumulator;
    const v = await update.evaluate(input, bindings);
    if (typeof v !== 'number') throw new HubError(422, 'rule-state-invalid', `The accumulator update gave ${v === undefined ? 'nothing' : typeof v}, not a number`);
    rt.status.state = saturate(v, min, max);
    input.state = rt.status.state;
  }
  for (const [i, a] of def.actions.entries()) {
    if (a.kind === 'invoke') {
      const id = def.things[a.thing]!;
      // Domains are checked again on each run: a TD may have moved to another domain since the rule was deployed.
      const d = deps.domains.get(id);
      if (d !== def.domain) throw new HubError(403, 'rule-outside-domain', `/actions/${i}: '${id}' is ${d === undefined ? 'no longer in the directory' : `of domain '${d}'`}, not '${def.domain}'`, { extensions: { member: `/actions/${i}/thing` } });
      const value = a.input ? await a.input.evaluate(input, bindings) : undefined;
      const body = value === undefined ? undefined : Buffer.from(JSON.stringify(value));
      await deps.things.invokeAction(id, a.action, body, body ? 'application/json' : undefined, `rule:${def.name}`);
    } else if (a.kind === 'write' && a.thing !== undefined) {
      // writeproperty on another Thing of the domain: queued as its hub:writeAction, like an invoke.
      const id = actedOn(def, a.thing, i, deps);
      const value = await a.value.evaluate(input, bindings);
      const body = value === undefined ? undefined : Buffer.from(JSON.stringify(value));
      await deps.things.writeProperty(id, a.property, body, body ? 'application/json' : undefined, `rule:${def.name}`);
    } else if (a.kind === 'write') {
      const value = await a.value.evaluate(input, bindings);
      rt.status.outputs = { ...rt.status.outputs, [a.property]: value ?? null };
      input.outputs = rt.status.outputs;
      deps.live.publish({ meta: { thingId: rt.id, protocol: 'rule', receivedAt: new Date().toISOString(), ruleHops: hops + 1 }, payload: { outputs: rt.status.outputs } });
    } else {
      const data = a.data ? await a.data.evaluate(input, bindings) : undefined;
      deps.live.publish({ meta: { thingId: rt.id, protocol: 'rule', receivedAt: new Date().toISOString(), ruleHops: hops + 1 }, payload: { emitted: { event: a.event, data: data ?? null }, [a.event]: data ?? null } });
    }
  }
  rt.status.runs += 1;
}

/** The Thing an action acts on, if it is still of the rule's domain (checked on each run: a TD may have moved since). */
function actedOn(def: RuleDefinition, alias: string, i: number, deps: RunDeps): string {
  const id = def.things[alias]!;
  const d = deps.domains.get(id);
  if (d !== def.domain) throw new HubError(403, 'rule-outside-domain', `/actions/${i}: '${id}' is ${d === undefined ? 'no longer in the directory' : `of domain '${d}'`}, not '${def.domain}'`, { extensions: { member: `/actions/${i}/thing` } });
  return id;
}

/** JSONata truthiness as a condition reads it: false, 0, '', null, undefined, empty arrays are false. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0 && v.some(truthy);
  return Boolean(v);
}
