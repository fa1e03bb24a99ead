// ThingRuntime: one node-wot Servient exposing every device, adapter and virtual sensor over HTTP (fastify) and CoAP.
import { Readable } from 'node:stream';
import type { HubConfig } from '../config.ts';
import { writeActionInput, writeTarget } from '../directory/writable-properties.ts';
import { HubError, NotFoundError } from '../errors.ts';
import type { TokenAuth } from '../http/auth.ts';
import type { LiveState, MessageEnvelope } from '../routing/live-state.ts';
import { ActionInputValidator } from './action-input.ts';
import { adapterChanges, adapterProperty, adapterThingDescriptionFrom, type Adapter, type ThingModelSource } from './adapter.ts';
import { CoapRouter } from './coap-router.ts';
import { HubCoapServer } from './coap-server.ts';
import type { Command, CommandSink } from './command-sink.ts';
import type { DirectoryChange, DirectoryPort, ThingDescription } from './directory-port.ts';
import { COMMAND_OUTPUT, commandPath, coapFormHost, DROPPED_TERMS, hubSecurity, mergeHubForms, PAUSED_OUTPUT } from './hub-forms.ts';
import { FastifyProtocolServer } from './http-server.ts';
import type { InteractionResult, ThingInteractions } from './interactions.ts';
import { wotCore, type ExposedThing, type Servient } from './node-wot.ts';
import { ObserverHub, type Observer, type ObservedKind } from './observers.ts';
import type { VirtualSensor } from './virtual-sensor.ts';

export interface ThingRuntimeOptions {
  config: Pick<HubConfig, 'host' | 'coapPort' | 'baseUrl'>;
  auth: TokenAuth;
  liveState: LiveState;
  commands: CommandSink;
  /** Most concurrent observations (SSE streams + CoAP observe relations + event subscriptions). */
  maxObservers?: number;
  /** How often observed adapter counters are compared (ms). */
  adapterPollMs?: number;
  onError?: (error: unknown, context: string) => void;
  /** Fail start() when the CoAP port cannot be bound (default: report it through onError and serve HTTP only). */
  coapRequired?: boolean;
  /** The hub's Thing Models (thing-models/), made on first use; adapter TDs come from `<kind>-adapter` or `hub-adapter`. */
  models?: () => ThingModelSource;
}

type ThingKind = 'device' | 'adapter' | 'virtual';
const DIRECTORY_EVENTS = ['thing_created', 'thing_updated', 'thing_deleted'] as const;

interface Entry {
  kind: ThingKind;
  thing: ExposedThing;
  read(name: string): unknown;
  adapter?: Adapter;
  lastCounters?: Record<string, unknown>;
  unsubscribe?: () => void;
}

/**
 * Owns the Servient (W3C WoT Scripting API / node-wot) and keeps it in step with the Thing Directory: every TD there
 * becomes an ExposedThing whose property reads return LiveState values, whose events fire on uplinks and whose actions
 * go, validated, to the CommandSink. Adapters and virtual sensors are registered here and put in the directory.
 */
export class ThingRuntime implements ThingInteractions {
  readonly servient: Servient = new wotCore.Servient();
  readonly observers: ObserverHub;
  readonly coapRouter: CoapRouter;
  private readonly coap: HubCoapServer;
  private readonly entries = new Map<string, Entry>();
  private readonly inputs = new ActionInputValidator();
  private readonly readsOpen: boolean;
  private directory?: DirectoryPort;
  private readonly directoryListener = (change: DirectoryChange) => this.onDirectoryChange(change);
  private timer?: NodeJS.Timeout;
  private started = false;
  private models?: ThingModelSource;
  /** Directory changes are applied one at a time, in order, so quick updates of one Thing cannot interleave. */
  private changes: Promise<unknown> = Promise.resolve();
  onError: (error: unknown, context: string) => void;

  constructor(private readonly options: ThingRuntimeOptions) {
    this.onError = options.onError ?? (() => {});
    const report = (e: unknown, ctx: string) => this.onError(e, ctx);
    this.readsOpen = options.auth.readsOpen;
    this.observers = new ObserverHub(options.maxObservers ?? 10_000, (e) => report(e, 'observer failed'));
    this.coapRouter = new CoapRouter(this, options.auth, `${options.config.baseUrl}/.well-known/wot`, report);
    const { host, coapPort, baseUrl } = options.config;
    const formHost = coapFormHost(host, baseUrl);
    this.coap = new HubCoapServer(host, coapPort, this.readsOpen, formHost, this.coapRouter, report, options.coapRequired === true);
    this.servient.addServer(new FastifyProtocolServer(baseUrl, this.readsOpen));
    this.servient.addServer(this.coap);
  }

  /** Whether CoAP is served (false when its port could not be bound and CoAP is not required). */
  get coapListening(): boolean {
    return this.coap.isListening;
  }

  /** The UDP port CoAP listens on. */
  get coapPort(): number {
    return this.coap.getPort();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Follows a directory: its TDs are exposed on start() and kept in step through its events. */
  attachDirectory(directory: DirectoryPort): void {
    this.directory = directory;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.servient.start();
    this.timer = setInterval(() => this.pollAdapters(), this.options.adapterPollMs ?? 1000);
    this.timer.unref();
    if (this.directory) {
      for (const event of DIRECTORY_EVENTS) this.directory.on(event, this.directoryListener);
      for (const td of await this.directory.all()) await this.exposeDevice(td).catch((e) => this.onError(e, `cannot expose ${td.id}`));
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    for (const event of DIRECTORY_EVENTS) this.directory?.off?.(event, this.directoryListener);
    await this.changes;
    this.coapRouter.closeAll();
    for (const id of [...this.entries.keys()]) await this.remove(id);
    // After a failed start (e.g. the CoAP port is taken) node-wot's Servient refuses to shut down: close CoAP directly.
    await this.servient.shutdown().catch(() => this.coap.stop());
  }

  /** Exposes (or re-exposes) a device Thing from its TD; values come from LiveState under the TD's id. */
  async exposeDevice(td: ThingDescription): Promise<void> {
    const id = td.id;
    if (typeof id !== 'string' || this.isOwn(id) || (td['@type'] !== undefined && [td['@type']].flat().includes('ThingDirectory'))) return;
    await this.expose('device', td, (name) => this.options.liveState.property(id, name));
  }

  /** Exposes an adapter (binding instance) and registers its TD in the directory. */
  async registerAdapter(adapter: Adapter): Promise<void> {
    const entry = await this.expose('adapter', this.adapterTd(adapter), (name) => adapterProperty(adapter, name), adapter);
    entry.lastCounters = adapterChanges(adapter, undefined).now;
    await this.directory?.put(adapter.id, served(entry.thing));
  }

  /** Exposes a virtual sensor (values it publishes to LiveState) and registers its TD in the directory. */
  async registerVirtualSensor(sensor: VirtualSensor): Promise<void> {
    const td = { ...sensor.td, id: sensor.id };
    const entry = await this.expose('virtual', td, (name) => this.options.liveState.property(sensor.id, name));
    await this.directory?.put(sensor.id, served(entry.thing));
  }

  /** Stops exposing a Thing; its observers get nothing more. */
  async remove(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    entry.unsubscribe?.();
    this.observers.forget(id);
    await entry.thing.destroy().catch((e) => this.onError(e, `cannot destroy ${id}`));
    return true;
  }

  hasThing(thingId: string): boolean {
    return this.entries.has(thingId);
  }

  thingIds(): string[] {
    return [...this.entries.keys()];
  }

  thingDescription(thingId: string): Record<string, unknown> {
    return this.entry(thingId).thing.getThingDescription() as unknown as Record<string, unknown>;
  }

  /**
   * A registered TD with the hub's forms (HTTP on this origin, CoAP) in place of its own, and the hub's security
   * definitions, for whoever serves TDs (the directory) to offer the hub as the Thing's access point. Everything else of
   * the TD is kept as registered. A TD of a Thing that is not exposed is returned unchanged.
   */
  withHubForms(td: ThingDescription): ThingDescription {
    const entry = typeof td.id === 'string' ? this.entries.get(td.id) : undefined;
    return entry ? mergeHubForms(td, entry.thing) : td;
  }

  async readProperty(thingId: string, name: string): Promise<InteractionResult> {
    const entry = this.entry(thingId);
    const property = entry.thing.properties[name];
    if (!property || property.writeOnly === true) throw new NotFoundError(`Thing '${thingId}' has no readable property '${name}'`);
    if (entry.read(name) === undefined) throw new HubError(404, 'no-value', `Property '${name}' of '${thingId}' has no value yet`);
    const content = await entry.thing.handleReadProperty(name, { formIndex: 0 });
    return { body: await content.toBuffer(), contentType: content.type };
  }

  async invokeAction(thingId: string, name: string, body: Buffer | undefined, contentType: string | undefined, requester?: string): Promise<InteractionResult> {
    const entry = this.entry(thingId);
    const action = entry.thing.actions[name];
    if (!action) throw new NotFoundError(`Thing '${thingId}' has no action '${name}'`);
    const value = this.inputs.parse(body, contentType, action.input as object | undefined, name);
    if (!entry.adapter) return this.queue(thingId, name, action, value, requester);
    const input = value === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value));
    const output = await entry.thing.handleInvokeAction(name, new wotCore.Content('application/json', Readable.from([input])), {
      formIndex: 0,
    });
    if (!output) return { body: Buffer.alloc(0), contentType: 'application/json' };
    return { body: await output.toBuffer(), contentType: output.type };
  }

  /**
   * writeproperty on a device: the value is checked against the property's schema, becomes the input of the property's
   * hub:writeAction (under hub:writeInput), is checked against that action's input schema and is queued exactly as an
   * invokeaction of it (201 + Location; queryaction and cancelaction work on it). 405 `property-not-writable` otherwise.
   */
  async writeProperty(thingId: string, name: string, body: Buffer | undefined, contentType: string | undefined, requester?: string): Promise<InteractionResult> {
    const entry = this.entry(thingId);
    const property = entry.thing.properties[name];
    if (!property) throw new NotFoundError(`Thing '${thingId}' has no property '${name}'`);
    const target = entry.adapter ? undefined : writeTarget(property);
    const action = target && entry.thing.actions[target.action];
    if (!target || !action) {
      throw new HubError(405, 'property-not-writable', `Property '${name}' of '${thingId}' is not writable (no hub:writeAction)`, { headers: { allow: 'GET, HEAD' } });
    }
    const value = this.inputs.parse(body, contentType, property, name, 'property');
    const input = this.inputs.check(writeActionInput(target, value), (action.input ?? {}) as object, target.action);
    return this.queue(thingId, target.action, action, input, requester);
  }

  /** A device action is a queued command (hub/downlink): 201 with its status resource (TD 1.1 queryaction). */
  private async queue(thingId: string, name: string, action: object, value: unknown, requester: string | undefined): Promise<InteractionResult> {
    const a = action as Record<string, unknown>;
    const named = a['hub:downlinkPolicy'] ?? a.downlinkPolicy;
    const policy = named === 'latest-only' || named === 'stream' ? named : 'fifo';
    const ttl = [a.ttlSeconds, a['hub:ttlSeconds']].find((t): t is number => typeof t === 'number' && Number.isInteger(t) && t > 0);
    const queued = await this.options.commands.submit(thingId, name, value, { policy, ...(ttl ? { ttlSeconds: ttl } : {}), ...(requester ? { requester } : {}) });
    const href = `${this.options.config.baseUrl}${commandPath(thingId, queued.id)}`;
    return { status: 201, location: href, contentType: 'application/json', body: Buffer.from(JSON.stringify({ ...queued, href })) };
  }

  queryAction(thingId: string, commandId: string): Command {
    this.entry(thingId);
    if (!this.options.commands.get) throw new NotFoundError('This hub keeps no command status');
    return this.options.commands.get(thingId, commandId);
  }

  queryAllActions(thingId: string): Command[] {
    this.entry(thingId);
    return this.options.commands.list?.(thingId) ?? [];
  }

  async cancelAction(thingId: string, commandId: string, requester?: string): Promise<Command> {
    this.entry(thingId);
    if (!this.options.commands.cancel) throw new NotFoundError('This hub cannot cancel commands');
    return this.options.commands.cancel(thingId, commandId, requester);
  }

  async observe(thingId: string, kind: ObservedKind, name: string, observer: Observer, onEnd?: () => void): Promise<() => void> {
    const entry = this.entry(thingId);
    if (kind === 'property' ? !entry.thing.properties[name] : !entry.thing.events[name]) {
      throw new NotFoundError(`Thing '${thingId}' has no ${kind} '${name}'`);
    }
    return this.observers.observe(entry.thing, kind, name, observer, onEnd);
  }

  /** The adapter's TD from its Thing Model when the hub has one, else the built-in one (hub/things/adapter.ts). */
  private adapterTd(adapter: Adapter): ThingDescription {
    this.models ??= this.options.models?.();
    return adapterThingDescriptionFrom(this.models, adapter);
  }

  private entry(thingId: string): Entry {
    const entry = this.entries.get(thingId);
    if (!entry) throw new NotFoundError(`No exposed Thing '${thingId}'`);
    return entry;
  }

  private isOwn(id: string): boolean {
    return ['adapter', 'virtual'].includes(this.entries.get(id)?.kind ?? 'device');
  }

  private async expose(kind: ThingKind, td: ThingDescription, read: (name: string) => unknown, adapter?: Adapter): Promise<Entry> {
    const id = td.id as string;
    if (this.entries.has(id)) await this.remove(id);
    const model: Record<string, unknown> = { ...td, ...hubSecurity() };
    for (const term of DROPPED_TERMS) delete model[term];
    const thing = new wotCore.ExposedThing(this.servient, model as WoT.ExposedThingInit);
    const entry: Entry = { kind, thing, read, adapter };
    for (const [name, p] of Object.entries(thing.properties)) {
      if (p.writeOnly !== true) thing.setPropertyReadHandler(name, async () => entry.read(name) ?? null);
    }
    for (const [name, action] of Object.entries(thing.actions)) {
      // The hub answers every device action with a command ticket; the TD says so, so clients can read the output.
      action.output = adapter && (name === 'pause' || name === 'resume') ? { ...PAUSED_OUTPUT } : { ...COMMAND_OUTPUT };
      if (!adapter) action.synchronous = false;
      thing.setActionHandler(name, async (input) => {
        const bytes = Buffer.from(await input.arrayBuffer());
        const value: unknown = bytes.length ? JSON.parse(bytes.toString('utf8')) : undefined;
        if (adapter && (name === 'pause' || name === 'resume')) {
          await adapter[name]();
          return { paused: adapter.paused };
        }
        return this.options.commands.submit(id, name, value);
      });
    }
    this.servient.addThing(thing);
    await thing.expose();
    this.entries.set(id, entry);
    if (kind !== 'adapter') entry.unsubscribe = this.options.liveState.subscribe(id, (m, values) => this.onUplink(entry, m, values));
    return entry;
  }

  /** Observed properties change and events fire on each uplink (events named like a value, and `uplink`). */
  private onUplink(entry: Entry, message: MessageEnvelope, values: Readonly<Record<string, unknown>>): void {
    const { thing } = entry;
    // Most Things have no observer: one lookup, not a key built per value (3 % of the main thread in `bench virtual`).
    if (!this.observers.hasAny(thing.id)) return;
    // `values`: the Thing's property values after this message (payload fields and the mapped observations' results).
    for (const [name, value] of Object.entries(values)) {
      if (thing.properties[name] && this.observers.has(thing.id, 'property', name)) {
        thing.emitPropertyChange(name).catch((e) => this.onError(e, `property change of ${thing.id}`));
      }
      if (thing.events[name] && this.observers.has(thing.id, 'event', name)) thing.emitEvent(name, value as WoT.InteractionInput);
    }
    if (thing.events.uplink && this.observers.has(thing.id, 'event', 'uplink')) {
      thing.emitEvent('uplink', message.payload as unknown as WoT.InteractionInput);
    }
  }

  /** Observed adapter properties change when its counters do (adapters have no push; compared every adapterPollMs). */
  private pollAdapters(): void {
    for (const entry of this.entries.values()) {
      if (!entry.adapter || !this.observers.hasAny(entry.thing.id)) continue;
      try {
        const { now, changed } = adapterChanges(entry.adapter, entry.lastCounters);
        entry.lastCounters = now;
        for (const name of changed.filter((n) => this.observers.has(entry.thing.id, 'property', n))) {
          entry.thing.emitPropertyChange(name).catch((e) => this.onError(e, `adapter ${entry.thing.id}`));
        }
      } catch (e) {
        this.onError(e, `adapter ${entry.thing.id} counters failed`);
      }
    }
  }

  private onDirectoryChange(change: DirectoryChange): void {
    const apply = async () => {
      if (!this.started) return;
      if (change.td) await this.exposeDevice(change.td);
      else if (!this.isOwn(change.id)) await this.remove(change.id);
    };
    this.changes = this.changes.then(apply).catch((e) => this.onError(e, `cannot follow directory change of ${change.id}`));
  }
}

/** The TD registered in the directory for Things the hub owns: with the hub's forms and security. */
const served = (thing: ExposedThing): ThingDescription => thing.getThingDescription() as unknown as ThingDescription;
