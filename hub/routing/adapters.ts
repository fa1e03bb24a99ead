// The hub's uplink adapters as Things (urn:wot-hub:adapter:<kind>): per-binding counters, pause/resume, lazy registration.
import type { BindingName } from '../bindings/types.ts';
import type { Adapter, AdapterCounters } from '../things/adapter.ts';
import type { Rejections } from './rejections.ts';

/** Which adapter Thing counts a binding's messages (bindings not named here count on an adapter of their own name). */
export const ADAPTER_KIND_OF_BINDING: Readonly<Record<string, string>> = {
  tts: 'lorawan',
  chirpstack: 'lorawan',
  'semtech-udp': 'lorawan',
  sigfox: 'sigfox',
  'mqtt-json': 'mqtt',
  http: 'http',
};

/** Thing Model of an adapter kind when it is not `<kind>-adapter` (thing-models/). */
const MODEL_KIND: Readonly<Record<string, string>> = { http: 'http-ingest' };

/** The adapter kind a running transport feeds (RunningTransport.name: `mqtt-broker`, `semtech-udp`, ...). */
export function adapterKindOfTransport(name: string): string {
  if (name.startsWith('mqtt')) return 'mqtt';
  if (name.startsWith('semtech') || name.startsWith('packet-forwarder')) return 'lorawan';
  return adapterKindOf(name);
}

export const adapterKindOf = (binding: BindingName): string => ADAPTER_KIND_OF_BINDING[binding] ?? binding;
export const adapterThingId = (kind: string): string => `urn:wot-hub:adapter:${kind}`;

/** What the pipeline counts per binding (rejections are counted by Rejections, by code). */
export interface BindingCounters {
  received: number;
  decoded: number;
  stored: number;
  duplicate: number;
  unmapped: number;
  quads: number;
}

/** What an adapter Thing's counter properties read (thing-models/hub-adapter.tm.jsonld). */
export interface UplinkAdapterCounters extends AdapterCounters, BindingCounters {
  rejectedByCode: Record<string, number>;
}

const zero = (): BindingCounters => ({ received: 0, decoded: 0, stored: 0, duplicate: 0, unmapped: 0, quads: 0 });

/** One adapter Thing: the sum of its bindings' counters. Paused: the pipeline refuses its uplinks with a 503. */
export class UplinkAdapter implements Adapter {
  readonly id: string;
  readonly model: string;
  paused = false;
  readonly bindings = new Set<string>();

  constructor(
    readonly kind: string,
    private readonly stats: Map<string, BindingCounters>,
    private readonly rejections: Rejections,
  ) {
    this.id = adapterThingId(kind);
    this.model = MODEL_KIND[kind] ?? kind;
  }

  counters(): UplinkAdapterCounters {
    const sum = zero();
    for (const b of this.bindings) {
      const c = this.stats.get(b);
      if (c) for (const k of Object.keys(sum) as Array<keyof BindingCounters>) sum[k] += c[k];
    }
    const rejectedByCode = this.rejections.ofBindings(this.bindings);
    const rejected = Object.values(rejectedByCode).reduce((a, b) => a + b, 0);
    return { ...sum, rejected, rejectedByCode, queueLength: 0 };
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }
}

/**
 * The adapters and their counters. An adapter Thing is registered (exposed + its TD put in the directory, idempotent)
 * when its transport starts (`ensure` from Hub.start) or when it first carries a message, so a hub without traffic
 * on a binding lists no adapter for it.
 */
export class UplinkAdapters {
  private readonly stats = new Map<string, BindingCounters>();
  private readonly adapters = new Map<string, UplinkAdapter>();
  private register?: (adapter: Adapter) => Promise<void>;
  onError: (error: unknown, context: string) => void = () => {};

  constructor(private readonly rejections: Rejections) {}

  /**
   * Registers adapter Things through the Thing runtime from now on (the hub calls it once the runtime runs), and those
   * made before. Registration failures are reported through onError, never thrown into ingestion.
   */
  attach(register: (adapter: Adapter) => Promise<void>): void {
    this.register = register;
    for (const adapter of this.adapters.values()) this.registerOne(adapter);
  }

  private registerOne(adapter: UplinkAdapter): void {
    this.register?.(adapterForModel(adapter)).catch((e) => this.onError(e, `cannot register adapter Thing ${adapter.id}`));
  }

  /** Counters of a binding, created on first use (at most 256 bindings: names come from the hub's transports). */
  of(binding: BindingName): BindingCounters {
    let c = this.stats.get(binding);
    if (!c) {
      c = zero();
      if (this.stats.size < 256) this.stats.set(binding, c);
      this.ensure(adapterKindOf(binding)).bindings.add(binding);
    }
    return c;
  }

  /** The adapter Thing of a kind, registered on first use. */
  ensure(kind: string): UplinkAdapter {
    let adapter = this.adapters.get(kind);
    if (adapter) return adapter;
    adapter = new UplinkAdapter(kind, this.stats, this.rejections);
    for (const [b, k] of Object.entries(ADAPTER_KIND_OF_BINDING)) if (k === kind) adapter.bindings.add(b);
    adapter.bindings.add(kind);
    this.adapters.set(kind, adapter);
    this.registerOne(adapter);
    return adapter;
  }

  paused(binding: BindingName): boolean {
    return this.adapters.get(adapterKindOf(binding))?.paused ?? false;
  }

  get(kind: string): UplinkAdapter | undefined {
    return this.adapters.get(kind);
  }

  all(): UplinkAdapter[] {
    return [...this.adapters.values()];
  }
}

/**
 * The adapter as the Thing runtime registers it: `kind` names its Thing Model (`<kind>-adapter`), which for the
 * http adapter is `http-ingest-adapter`. Counters and pause state stay the adapter's own.
 */
function adapterForModel(adapter: UplinkAdapter): Adapter {
  if (adapter.model === adapter.kind) return adapter;
  return {
    id: adapter.id,
    kind: adapter.model,
    counters: () => adapter.counters(),
    pause: () => adapter.pause(),
    resume: () => adapter.resume(),
    get paused() {
      return adapter.paused;
    },
  };
}
