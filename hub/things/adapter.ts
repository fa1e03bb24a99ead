// Adapters (binding instances) as Things: the Adapter interface and the TD that exposes its counters and pause/resume.
import type { ThingDescription } from './directory-port.ts';

/** Message counters of one adapter; every figure only grows except `queueLength`. */
export interface AdapterCounters {
  received: number;
  decoded: number;
  rejected: number;
  queueLength: number;
}

/**
 * A running binding instance (e.g. one LoRaWAN network server subscription). The hub exposes each adapter as a WoT
 * Thing (W3C WoT TD 1.1) so that operators read its counters and pause or resume it with any WoT client.
 */
export interface Adapter {
  readonly id: string;
  /** Adapter kind, e.g. `lorawan-ttn`, `sigfox-callback`, `osc-udp`. */
  readonly kind: string;
  counters(): AdapterCounters;
  pause(): void | Promise<void>;
  resume(): void | Promise<void>;
  readonly paused: boolean;
}

export const ADAPTER_PROPERTIES = ['received', 'decoded', 'rejected', 'queueLength', 'paused'] as const;

const counter = (title: string, description: string) => ({
  title,
  description,
  type: 'integer',
  minimum: 0,
  readOnly: true,
  observable: true,
});

/** The TD (without forms: the runtime adds the hub's forms) of an adapter Thing. */
export function adapterThingDescription(adapter: Pick<Adapter, 'id' | 'kind'>): Record<string, unknown> {
  return {
    '@context': ['https://www.w3.org/2022/wot/td/v1.1', { hub: 'urn:wot-hub:' }],
    '@type': 'hub:Adapter',
    id: adapter.id,
    title: `Adapter ${adapter.kind} (${adapter.id})`,
    description: `Protocol adapter of kind ${adapter.kind}: message counters and flow control`,
    'hub:adapterKind': adapter.kind,
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: {
      received: counter('Received', 'Messages received from the transport'),
      decoded: counter('Decoded', 'Messages decoded successfully'),
      rejected: counter('Rejected', 'Messages that failed to decode or map'),
      queueLength: counter('Queue length', 'Downlink commands waiting on this adapter'),
      paused: { title: 'Paused', type: 'boolean', readOnly: true, observable: true },
    },
    actions: {
      pause: { title: 'Pause', description: 'Stop taking uplinks from the transport', idempotent: true, safe: false },
      resume: { title: 'Resume', description: 'Take uplinks again', idempotent: true, safe: false },
    },
  };
}

/** The adapter's property values now, and the names whose value differs from `last`. */
export function adapterChanges(adapter: Adapter, last: Record<string, unknown> | undefined): { now: Record<string, unknown>; changed: string[] } {
  const now: Record<string, unknown> = { ...adapter.counters(), paused: adapter.paused };
  return { now, changed: Object.keys(now).filter((k) => last?.[k] !== now[k]) };
}

/** Current value of one adapter property. */
export function adapterProperty(adapter: Adapter, name: string): unknown {
  if (name === 'paused') return adapter.paused;
  return (adapter.counters() as unknown as Record<string, unknown>)[name];
}

/** The part of hub/directory's ThingModelCatalog the runtime uses (W3C WoT TD 1.1 §10.4 TM instantiation). */
export interface ThingModelSource {
  names(): string[];
  instantiate(name: string, request: { placeholders: Record<string, unknown>; id?: string }): ThingDescription;
}

/** The adapter's TD instantiated from `<kind>-adapter` or `hub-adapter` (thing-models/), else the built-in one. */
export function adapterThingDescriptionFrom(models: ThingModelSource | undefined, adapter: Pick<Adapter, 'id' | 'kind'>): ThingDescription {
  const name = [`${adapter.kind}-adapter`, 'hub-adapter'].find((n) => models?.names().includes(n));
  if (!models || !name) return adapterThingDescription(adapter);
  return models.instantiate(name, {
    id: adapter.id,
    placeholders: { TITLE: `Adapter ${adapter.kind} (${adapter.id})`, ADAPTER_KIND: adapter.kind },
  });
}
