// The hub's rules: the engine on <dataDir>/rules, the rule Things' downlink adapter and the HTTP routes, wired by createRules.
import { resolve } from 'node:path';
import { ThingModelCatalog } from '../directory/thing-models.ts';
import { TdValidator } from '../directory/validator.ts';
import type { DownlinkService } from '../downlink/service.ts';
import type { LiveState } from '../routing/live-state.ts';
import { ruleAdapter } from './adapter.ts';
import { RuleEngine, ruleThingId, type RuleDirectory, type RuleThings, type VirtualOutputs } from './engine.ts';
import { RuleStore } from './store.ts';

export { RuleEngine, ruleThingId, domainOf, type VirtualOutputs } from './engine.ts';
export { rulesPlugin } from './routes.ts';

export interface RulesDeps {
  config: { baseUrl: string; dataDir: string };
  live: LiveState;
  things: RuleThings;
  directory: RuleDirectory;
  downlink: DownlinkService;
  virtual?: VirtualOutputs;
  onError?: (e: unknown, context: string) => void;
}

/** Builds the engine and registers its adapter with the downlink queues; call engine.open() once the Thing runtime runs. */
export function createRules(deps: RulesDeps): RuleEngine {
  let models: ThingModelCatalog | undefined;
  const engine: RuleEngine = new RuleEngine({
    live: deps.live,
    things: deps.things,
    directory: deps.directory,
    store: new RuleStore(resolve(deps.config.dataDir)),
    virtual: deps.virtual,
    onError: deps.onError,
    ruleTd: (name, title, domain) => {
      models ??= new ThingModelCatalog(deps.config.baseUrl, new TdValidator());
      return models.instantiate('rule', { id: ruleThingId(name), placeholders: { TITLE: title, RULE_NAME: name, DOMAIN: domain } });
    },
  });
  deps.downlink.registerAdapter(ruleAdapter(() => engine, (c, s, e) => deps.downlink.evidence(c, s, e), deps.onError));
  return engine;
}

/** The virtual sensors' `output` events (hub/virtual) as the rules' trigger source: one listener, fanned out by sensor name. */
export function virtualOutputs(virtual: {
  has(name: string): boolean;
  on(event: 'output', listener: (o: { name: string; thingId: string; values: Record<string, unknown> }) => void): unknown;
}): VirtualOutputs {
  const listeners = new Map<string, Set<(outputs: Record<string, unknown>) => void>>();
  virtual.on('output', (o) => {
    for (const l of listeners.get(o.name) ?? []) l(o.values);
  });
  return {
    has: (name) => virtual.has(name),
    thingId: (name) => `urn:wot-hub:virtual:${name}`,
    subscribe(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}
