// RuleEngine: deploys rules at runtime, follows their triggers (live values, events, a 1 s timer, virtual sensor outputs), runs them isolated and exposes each as a Thing.
import { HubError, NotFoundError } from '../errors.ts';
import type { LiveState, MessageEnvelope } from '../routing/live-state.ts';
import { writableProperties } from '../directory/writable-properties.ts';
import { DEFAULT_DOMAIN, parseRule, RuleDefinitionError, type RuleDefinition } from './definition.ts';
import type { ExpressionLimits } from './expressions.ts';
import { runRule, type RuleRuntime, type TriggerContext } from './run.ts';
import type { RuleMemory, RuleStore } from './store.ts';

/** The Thing id of a rule. */
export const ruleThingId = (name: string): string => `urn:wot-hub:rule:${name}`;
const RULE_PREFIX = 'urn:wot-hub:rule:';

/** What the engine needs of the Thing runtime: invoke an action or write a property (validated, queued) and expose the rule's Thing. */
export interface RuleThings {
  invokeAction(thingId: string, name: string, body: Buffer | undefined, contentType: string | undefined, requester?: string): Promise<{ body: Buffer; status?: number }>;
  writeProperty(thingId: string, name: string, body: Buffer | undefined, contentType: string | undefined, requester?: string): Promise<{ body: Buffer; status?: number }>;
  registerVirtualSensor(sensor: { id: string; td: Record<string, unknown> }): Promise<void>;
  remove(id: string): Promise<boolean>;
}

/** The Thing Directory as the engine sees it: TDs (for domains) and their changes. */
export interface RuleDirectory {
  all(): Promise<Array<Record<string, unknown>>>;
  on(event: 'thing_created' | 'thing_updated' | 'thing_deleted', listener: (e: { id: string; td?: Record<string, unknown> }) => void): unknown;
  delete(id: string): Promise<boolean>;
}

/**
 * Outputs of virtual sensors (hub/virtual, brief G) as a trigger source. Defined here because the rule side needs
 * only this much: whether a sensor exists, its Thing id (for its domain) and a subscription to its outputs.
 */
export interface VirtualOutputs {
  has(name: string): boolean;
  thingId(name: string): string;
  subscribe(name: string, listener: (outputs: Record<string, unknown>) => void): () => void;
}

export interface RuleEngineOptions {
  live: LiveState;
  things: RuleThings;
  directory: RuleDirectory;
  store: RuleStore;
  /** The rule Thing's TD from thing-models/rule.tm.jsonld (ThingModelCatalog.instantiate). */
  ruleTd(name: string, title: string, domain: string): Record<string, unknown>;
  virtual?: VirtualOutputs;
  limits?: ExpressionLimits;
  maxRules?: number;
  onError?: (e: unknown, context: string) => void;
}

/** The domain of a Thing: its TD member `hub:domain` (or `domain`), else "default". */
export function domainOf(td: Record<string, unknown> | undefined): string {
  const d = td?.['hub:domain'] ?? td?.domain;
  return typeof d === 'string' && d !== '' ? d : DEFAULT_DOMAIN;
}

export interface RuleStatus {
  enabled: boolean;
  runs: number;
  failures: number;
  skipped: number;
  coalesced: number;
  lastError?: string;
  lastRunAt?: string;
  state?: number;
  outputs: Record<string, unknown>;
}

export class RuleEngine {
  private readonly rules = new Map<string, RuleRuntime>();
  private readonly domains = new Map<string, string>();
  /** The writable properties (hub:writeAction) of each directory TD, for the definition-time check of device writes. */
  private readonly writable = new Map<string, string[]>();
  private timer?: NodeJS.Timeout;
  private ticks = 0;
  private nextTickAt?: number;
  private opened = false;
  /** Each rule's accumulator and outputs as last saved (RuleStore.saveMemory), rewritten within a second of a change. */
  private memory = new Map<string, RuleMemory>();
  private memoryDirty = false;
  private saving?: Promise<void>;
  readonly counters = { runs: 0, failures: 0, deployed: 0, removed: 0 };
  private readonly onError: (e: unknown, context: string) => void;

  constructor(private readonly options: RuleEngineOptions) {
    this.onError = options.onError ?? (() => {});
  }

  get size(): number {
    return this.rules.size;
  }

  /** Follows the directory's domains and deploys the stored rules (one that no longer validates is kept disabled, with its error). */
  async open(): Promise<void> {
    const track = (e: { id: string; td?: Record<string, unknown> }) => {
      if (e.td) this.domains.set(e.id, domainOf(e.td));
      else this.domains.delete(e.id);
      if (e.td) this.writable.set(e.id, writableProperties(e.td));
      else this.writable.delete(e.id);
    };
    for (const ev of ['thing_created', 'thing_updated', 'thing_deleted'] as const) this.options.directory.on(ev, track);
    for (const td of await this.options.directory.all()) if (typeof td.id === 'string') track({ id: td.id, td });
    this.opened = true;
    this.memory = this.options.store.loadMemory((file, e) => this.onError(e, `rule state ${file} unreadable`));
    for (const { name, source } of this.options.store.loadAll((file, e) => this.onError(e, `rule file ${file} unreadable`))) {
      try {
        await this.put(name, source, { persist: false });
      } catch (e) {
        this.onError(e, `stored rule ${name} not deployed`);
      }
    }
    this.scheduleTick();
  }

  async close(): Promise<void> {
    this.opened = false;
    if (this.timer) clearTimeout(this.timer);
    for (const r of this.rules.values()) this.unsubscribe(r);
    await this.saving;
    if (this.memoryDirty) await this.saveMemory();
  }

  /** Deploys (or replaces) a rule; answers whether it was new. Throws RuleDefinitionError / 403 rule-outside-domain. */
  async put(name: string, source: unknown, opts: { persist?: boolean } = {}): Promise<{ created: boolean; rule: RuleDefinition }> {
    const def = parseRule(name, source, this.options.limits);
    if (!this.rules.has(name) && this.rules.size >= (this.options.maxRules ?? 10_000)) throw new HubError(507, 'too-many-rules', `The hub runs ${this.rules.size} rules (the limit)`);
    this.checkDomain(def);
    this.checkWrites(def);
    this.checkCycle(def);
    const id = ruleThingId(name);
    const td = this.options.ruleTd(name, def.title, def.domain);
    // The definition's durable write and the rule Thing's registration (its TD's own durable writes in the directory)
    // run side by side: one after the other, each deploy waited for the file's two fsyncs and then for the TD's.
    const [saved, registered] = await Promise.allSettled([
      opts.persist !== false ? this.options.store.save(name, def.source) : undefined,
      this.options.things.registerVirtualSensor({ id, td }),
    ]);
    if (saved.status === 'rejected') {
      // Not deployed: the Thing registered beside the failed write goes again, or becomes the running rule's again.
      const running = this.rules.get(name);
      if (registered.status === 'fulfilled') await this.unregister(id, running).catch((e) => this.onError(e, `rule Thing ${id} not restored`));
      throw saved.reason;
    }
    // Read after the writes: a put of the same name may have been deployed while this one's files were written.
    const old = this.rules.get(name);
    if (old) this.unsubscribe(old);
    const rt: RuleRuntime = {
      def,
      id,
      status: { enabled: def.enabled, runs: 0, failures: 0, skipped: 0, coalesced: 0, outputs: {}, ...(def.accumulator ? { state: def.accumulator.initial } : {}) },
      running: false,
      pending: new Map(),
      unsubscribe: [],
      lastValues: new Map(),
      timerTicks: 0,
    };
    // A rule loaded at start resumes its accumulator (within its bounds) and outputs; a deployed definition starts afresh.
    const kept = opts.persist === false ? this.memory.get(name) : undefined;
    if (kept?.outputs) rt.status.outputs = kept.outputs;
    if (def.accumulator && kept?.state !== undefined && kept.state >= def.accumulator.min && kept.state <= def.accumulator.max) rt.status.state = kept.state;
    if (!kept && this.memory.delete(name)) this.memoryDirty = true;
    this.domains.set(id, def.domain);
    this.rules.set(name, rt);
    if (registered.status === 'rejected') throw registered.reason;
    this.subscribe(rt);
    this.publishStatus(rt);
    this.counters.deployed += 1;
    return { created: !old, rule: def };
  }

  /** Undoes a registration whose definition was not saved: the running rule's Thing again, or no Thing. */
  private async unregister(id: string, running: RuleRuntime | undefined): Promise<void> {
    if (running) {
      await this.options.things.registerVirtualSensor({ id, td: this.options.ruleTd(running.def.name, running.def.title, running.def.domain) });
      return;
    }
    await this.removeThing(id);
  }

  /** A rule's Thing out of the runtime, the directory, live state and the domain index. */
  private async removeThing(id: string): Promise<void> {
    await this.options.things.remove(id);
    await this.options.directory.delete(id).catch((e) => this.onError(e, `rule Thing ${id} not removed from the directory`));
    this.options.live.forget(id);
    this.domains.delete(id);
  }

  get(name: string): { definition: Record<string, unknown>; thing: string; domain: string; status: RuleStatus } {
    const r = this.rules.get(name);
    if (!r) throw new NotFoundError(`No rule '${name.slice(0, 64)}'`);
    return { definition: r.def.source, thing: r.id, domain: r.def.domain, status: { ...r.status } };
  }

  list(): Array<{ name: string; title: string; thing: string; domain: string; enabled: boolean }> {
    return [...this.rules.values()].map((r) => ({ name: r.def.name, title: r.def.title, thing: r.id, domain: r.def.domain, enabled: r.status.enabled }));
  }

  async remove(name: string): Promise<boolean> {
    const r = this.rules.get(name);
    if (!r) return false;
    this.unsubscribe(r);
    this.rules.delete(name);
    await this.options.store.remove(name);
    if (this.memory.delete(name)) this.memoryDirty = true;
    await this.removeThing(r.id);
    this.counters.removed += 1;
    return true;
  }

  /** enable / disable (the rule Thing's actions, through the downlink adapter); persisted with the definition. */
  async setEnabled(name: string, enabled: boolean): Promise<void> {
    const r = this.rules.get(name);
    if (!r) throw new NotFoundError(`No rule '${name.slice(0, 64)}'`);
    r.status.enabled = enabled;
    r.def.enabled = enabled;
    r.def.source = { ...r.def.source, enabled };
    this.publishStatus(r);
    await this.options.store.save(name, r.def.source);
  }

  // ---- domains and cycles ----

  private checkDomain(def: RuleDefinition): void {
    for (const [alias, id] of Object.entries(def.things)) {
      const member = `/things/${alias}`;
      const d = this.domains.get(id);
      if (d === undefined) throw new RuleDefinitionError(member, `names '${id.slice(0, 128)}', which is not in the Thing Directory`, 'rule-unknown-thing');
      if (d !== def.domain) {
        const e = new RuleDefinitionError(member, `names '${id.slice(0, 128)}' of domain '${d}': a rule of domain '${def.domain}' sees and acts on its own domain only`, 'rule-outside-domain', 403);
        Object.assign(e.extensions, { thingDomain: d, ruleDomain: def.domain });
        throw e;
      }
    }
    def.triggers.forEach((t, i) => {
      if (t.kind !== 'virtual') return;
      const member = `/triggers/${i}/virtual`;
      const v = this.options.virtual;
      if (!v) throw new RuleDefinitionError(member, 'names a virtual sensor, and this hub runs none (hub/virtual)', 'virtual-sensors-unavailable');
      if (!v.has(t.sensor)) throw new RuleDefinitionError(member, `names '${t.sensor}', which is not a deployed virtual sensor`, 'rule-unknown-thing');
      const d = this.domains.get(v.thingId(t.sensor)) ?? DEFAULT_DOMAIN;
      if (d !== def.domain) throw new RuleDefinitionError(member, `names a virtual sensor of domain '${d}', not '${def.domain}'`, 'rule-outside-domain', 403);
    });
  }

  /** A write to a Thing whose TD is known must name one of its writable properties (hub/directory/writable-properties.ts). */
  private checkWrites(def: RuleDefinition): void {
    def.actions.forEach((a, i) => {
      if (a.kind !== 'write' || a.thing === undefined) return;
      const id = def.things[a.thing]!;
      const writable = this.writable.get(id);
      if (writable && !writable.includes(a.property)) {
        throw new RuleDefinitionError(`/actions/${i}/write`, `names '${a.property}', which is not a writable property of '${id.slice(0, 128)}' (${writable.join(', ') || 'it has none'}; a writable property names its hub:writeAction)`, 'rule-property-not-writable');
      }
    });
  }

  /** Refuses a rule whose events or outputs would trigger itself again through other rules (A -> B -> A). */
  private checkCycle(def: RuleDefinition): void {
    const triggeredBy = (d: RuleDefinition): string[] =>
      d.triggers.flatMap((t) => (t.kind === 'property' || t.kind === 'event' ? [d.things[t.thing]!] : [])).filter((id) => id.startsWith(RULE_PREFIX)).map((id) => id.slice(RULE_PREFIX.length));
    // A cycle through def comes back to def through one of its triggers: a rule that no rule Thing triggers closes
    // none, and is let through without walking the other rules (that walk cost O(rules) per deploy, 1.5 s for 1,000).
    if (triggeredBy(def).length === 0) return;
    const defs = new Map([...this.rules].map(([n, r]) => [n, r.def]));
    defs.set(def.name, def);
    // Edge X -> R when R triggers on X's Thing; a cycle through def is a path from def back to def.
    const next = (n: string) => [...defs.values()].filter((d) => triggeredBy(d).includes(n)).map((d) => d.name);
    const seen = new Set<string>();
    const stack = [...next(def.name)];
    while (stack.length) {
      const n = stack.pop()!;
      if (n === def.name) {
        const i = def.triggers.findIndex((t) => (t.kind === 'property' || t.kind === 'event') && def.things[t.thing]!.startsWith(RULE_PREFIX));
        throw new RuleDefinitionError(i >= 0 ? `/triggers/${i}` : '/triggers', 'closes a cycle of rules triggering each other', 'rule-cycle');
      }
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...next(n));
    }
  }

  // ---- triggers ----

  private subscribe(rt: RuleRuntime): void {
    const { def } = rt;
    def.triggers.forEach((t, i) => {
      if (t.kind === 'property' || t.kind === 'event') {
        const id = def.things[t.thing]!;
        rt.unsubscribe.push(
          this.options.live.subscribe(id, (m, values) => {
            if (t.kind === 'event') {
              if (t.event !== 'uplink' && !(m.payload && Object.hasOwn(m.payload, t.event))) return;
              this.fire(rt, i, { kind: 'event', thing: t.thing, event: t.event, value: t.event === 'uplink' ? m.payload : m.payload[t.event], message: m });
              return;
            }
            if (!Object.hasOwn(values, t.property)) return;
            const v = values[t.property];
            const key = `${i}`;
            if (same(rt.lastValues.get(key), v)) return;
            rt.lastValues.set(key, v);
            this.fire(rt, i, { kind: 'property', thing: t.thing, property: t.property, value: v, message: m });
          }),
        );
      } else if (t.kind === 'virtual' && this.options.virtual) {
        rt.unsubscribe.push(
          this.options.virtual.subscribe(t.sensor, (outputs) => {
            if (t.output !== undefined && !Object.hasOwn(outputs, t.output)) return;
            this.fire(rt, i, { kind: 'virtual', sensor: t.sensor, ...(t.output ? { property: t.output } : {}), value: t.output ? outputs[t.output] : outputs });
          }),
        );
      }
    });
  }

  private unsubscribe(rt: RuleRuntime): void {
    for (const u of rt.unsubscribe.splice(0)) u();
    rt.pending.clear();
  }

  /** Ticks on the wall clock's second boundaries (a late tick does not pull the next one closer). */
  private scheduleTick(): void {
    if (!this.opened) return;
    const now = Date.now();
    // The next whole second after the last tick's; a timer that fires a little early (timers run on the monotonic
    // clock) cannot tick twice, and ticks missed while the process was busy are skipped, not run in a burst.
    this.nextTickAt = this.nextTickAt === undefined || this.nextTickAt + 1000 <= now ? Math.floor(now / 1000) * 1000 + 1000 : this.nextTickAt + 1000;
    this.timer = setTimeout(() => {
      this.tick();
      this.scheduleTick();
    }, this.nextTickAt - now);
    this.timer.unref();
  }

  private tick(): void {
    this.ticks += 1;
    if (this.memoryDirty && !this.saving) void this.saveMemory();
    for (const rt of this.rules.values()) {
      rt.def.triggers.forEach((t, i) => {
        if (t.kind === 'timer' && (rt.timerTicks + 1) % t.every === 0) this.fire(rt, i, { kind: 'timer', value: rt.timerTicks + 1 });
      });
      rt.timerTicks += 1;
    }
  }

  /**
   * One run at a time per rule; a trigger that comes during a run waits, and replaces a waiting one of the same
   * trigger (latest wins, counted as coalesced): a rule on a 400 Hz stream never queues more than one run per trigger.
   */
  private fire(rt: RuleRuntime, index: number, trigger: TriggerContext): void {
    if (!this.opened || !rt.status.enabled || this.rules.get(rt.def.name) !== rt) return;
    if (rt.running) {
      if (rt.pending.has(index)) {
        rt.status.coalesced += 1;
        rt.pending.delete(index);
      }
      rt.pending.set(index, trigger);
      return;
    }
    rt.running = true;
    void this.runLoop(rt, trigger);
  }

  private async runLoop(rt: RuleRuntime, first: TriggerContext): Promise<void> {
    let trigger: TriggerContext | undefined = first;
    while (trigger) {
      const failedBefore = rt.status.failures;
      const { state, outputs } = rt.status;
      try {
        await runRule(rt, trigger, { live: this.options.live, things: this.options.things, domains: this.domains });
      } catch (e) {
        // Isolated: counted, kept as lastError, logged; nothing propagates to the message that triggered it.
        rt.status.failures += 1;
        const detail = e instanceof HubError && Array.isArray(e.extensions.validationErrors) ? ` (${(e.extensions.validationErrors as Array<{ field?: string; description?: string; message?: string }>).map((v) => `${v.field ?? ''} ${v.description ?? v.message ?? ''}`.trim()).join('; ')})` : '';
        rt.status.lastError = `${e instanceof HubError ? `${e.code}: ` : ''}${(e as Error)?.message ?? String(e)}${detail}`.slice(0, 500);
        this.onError(e, `rule ${rt.def.name} failed`);
      }
      if (rt.status.state !== state || rt.status.outputs !== outputs) this.remember(rt);
      if (rt.status.failures !== failedBefore) this.counters.failures += 1;
      else this.counters.runs += 1;
      rt.status.lastRunAt = new Date().toISOString();
      if (rt.status.failures !== failedBefore) this.publishStatus(rt);
      else this.options.live.setValues(rt.id, statusValues(rt));
      const next = rt.pending.entries().next();
      trigger = next.done ? undefined : next.value[1];
      if (!next.done) rt.pending.delete(next.value[0]);
    }
    rt.running = false;
  }

  private remember(rt: RuleRuntime): void {
    if (this.rules.get(rt.def.name) !== rt) return;
    this.memory.set(rt.def.name, { ...(rt.status.state !== undefined ? { state: rt.status.state } : {}), outputs: rt.status.outputs });
    this.memoryDirty = true;
  }

  /** One snapshot write at a time; a change during it is written by the next tick (or close). */
  private saveMemory(): Promise<void> {
    this.memoryDirty = false;
    const run = this.options.store
      .saveMemory(new Map(this.memory))
      .catch((e) => {
        this.memoryDirty = true;
        this.onError(e, 'rule state not saved');
      })
      .finally(() => {
        if (this.saving === run) this.saving = undefined;
      });
    this.saving = run;
    return run;
  }

  private publishStatus(rt: RuleRuntime): void {
    const m: MessageEnvelope = { meta: { thingId: rt.id, protocol: 'rule', receivedAt: new Date().toISOString() }, payload: statusValues(rt) };
    this.options.live.publish(m);
  }
}

function statusValues(rt: RuleRuntime): Record<string, unknown> {
  const s = rt.status;
  return { enabled: s.enabled, runs: s.runs, failures: s.failures, skipped: s.skipped, coalesced: s.coalesced, outputs: s.outputs, ...(s.lastError ? { lastError: s.lastError } : {}), ...(s.lastRunAt ? { lastRunAt: s.lastRunAt } : {}), ...(s.state !== undefined ? { state: s.state } : {}) };
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
