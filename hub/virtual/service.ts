// VirtualService: deploys, persists and removes virtual sensors at runtime; each is a Thing whose outputs are device messages.
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { removeFileDurably, writeFileDurably } from '../durable-file.ts';
import { join } from 'node:path';
import { NotFoundError } from '../errors.ts';
import type { LiveState, MessageEnvelope } from '../routing/live-state.ts';
import type { QuadStore } from '../store/quad-store.ts';
import { compileStream, DefinitionError, SENSOR_NAME, validateDefinition, type VirtualDefinition } from './definition.ts';
import { observationIris, outputEnvelope, VIRTUAL_MAPPING, type OutputItem } from './publish.ts';
import { checkSparqlDefinition, SparqlSensor } from './sparql-sensor.ts';
import { StreamSensor, type Publication } from './stream-sensor.ts';
import { virtualThingDescription, type TdDirectory } from './thing.ts';

/** What a deployed sensor publishes: subscribe with `virtual.on('output', ...)` (rules use it as a trigger). */
export interface VirtualOutput {
  name: string;
  thingId: string;
  /** Output property values of this publication. */
  values: Record<string, unknown>;
  /** Data time of the publication (epoch ms) and the message it became. */
  time: number;
  message: MessageEnvelope;
}

export interface VirtualServiceDeps {
  config: { baseUrl: string; dataDir: string };
  live: LiveState;
  store: QuadStore;
  /** The uplink router's last stage: envelope -> mapfile -> store + live state (hub/routing/uplink-router.ts). */
  ingest(message: MessageEnvelope, values: Record<string, unknown>): Promise<{ status: string; error?: Error }>;
  mapping: {
    put(name: string, text: string): Promise<void>;
    has(name: string): boolean;
    attach(thingId: string, name: string): void;
    detach(thingId: string): void;
  };
  directory: TdDirectory;
  things: { registerVirtualSensor(s: { id: string; td: Record<string, unknown> }): Promise<void>; remove(id: string): Promise<boolean> };
  models: { instantiate(name: string, request: { placeholders: Record<string, unknown>; id?: string }): Record<string, unknown> };
  log?: { warn(obj: object, msg: string): void };
}

interface Deployed {
  name: string;
  thingId: string;
  definition: VirtualDefinition;
  updatedAt: string;
  stream?: StreamSensor;
  sparql?: SparqlSensor;
  unsubscribe: Array<() => void>;
  seq: number;
  /** Outputs being stored, in order; at most MAX_PENDING (beyond, an output is dropped and counted). */
  writing: Promise<void>;
  pending: number;
  droppedOutputs: number;
}

const VIRTUAL_PREFIX = 'urn:wot-hub:virtual:';
export const virtualThingId = (name: string): string => `${VIRTUAL_PREFIX}${name}`;
const MAX_SENSORS = 10_000;
const MAX_PENDING = 256;
/**
 * Most outputs stored per turn of the event loop (~0.2 ms each) before I/O is let in. Sensors deployed together
 * publish together (1,000 one-second windows emit within the same 100 ms): their stores would otherwise run as one chain
 * of microtasks, 200 ms in which no datagram, no rule and no fsync completion is handled.
 */
const OUTPUTS_PER_TURN = 16;

export class VirtualService extends EventEmitter {
  private readonly sensors = new Map<string, Deployed>();
  /** Output stores waiting for a turn (FIFO), those let through in this turn, and whether the next turn is armed. */
  private readonly waitingTurn: Array<() => void> = [];
  private grantedThisTurn = 0;
  private turnArmed = false;
  private readonly dir: string;
  /** Deploys and removals one at a time: a PUT racing a DELETE of the same name cannot interleave. */
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: VirtualServiceDeps, private readonly mapfile: string) {
    super();
    this.dir = join(deps.config.dataDir, 'virtual');
  }

  /** Installs the output mapfile and deploys the persisted definitions (one that no longer deploys is logged, kept on disk). */
  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    await this.deps.mapping.put(VIRTUAL_MAPPING, this.mapfile);
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort()) {
      const name = file.slice(0, -5);
      try {
        const saved = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as { definition: unknown };
        await this.deploy(name, saved.definition, false);
      } catch (e) {
        this.deps.log?.warn({ err: e, virtual: name }, 'stored virtual sensor does not deploy; skipped');
      }
    }
  }

  async close(): Promise<void> {
    await this.serial.catch(() => {});
    for (const d of this.sensors.values()) this.stopSensor(d);
    this.sensors.clear();
  }

  list(): Array<ReturnType<VirtualService['status']>> {
    return [...this.sensors.keys()].sort().map((n) => this.status(n));
  }

  status(name: string) {
    const d = this.sensors.get(name);
    if (!d) throw new NotFoundError(`No virtual sensor named '${name}'`);
    const counters = { ...(d.stream ? d.stream.counters : d.sparql!.counters), droppedOutputs: d.droppedOutputs };
    return { name, kind: d.definition.kind ?? 'stream', thingId: d.thingId, href: `${this.deps.config.baseUrl}/virtual/${name}`, thing: `${this.deps.config.baseUrl}/things/${encodeURIComponent(d.thingId)}`, updatedAt: d.updatedAt, counters, definition: d.definition };
  }

  has(name: string): boolean {
    return this.sensors.has(name);
  }

  /** Deploys (or replaces) a definition: validated first, so a bad one leaves the running sensor as it was. */
  put(name: string, doc: unknown): Promise<{ created: boolean }> {
    return this.queue(() => this.deploy(name, doc, true));
  }

  delete(name: string): Promise<void> {
    return this.queue(async () => {
      const d = this.sensors.get(name);
      if (!d) throw new NotFoundError(`No virtual sensor named '${name}'`);
      this.stopSensor(d);
      this.sensors.delete(name);
      await removeFileDurably(join(this.dir, `${name}.json`));
      this.deps.mapping.detach(d.thingId);
      await this.deps.things.remove(d.thingId);
      await this.deps.directory.delete(d.thingId);
      this.deps.live.forget(d.thingId);
    });
  }

  /** Waits until every queued sample of every stream sensor is processed and its outputs stored (tests, benchmarks). */
  async settled(): Promise<void> {
    await Promise.all([...this.sensors.values()].map((d) => d.stream?.settled()));
    await Promise.all([...this.sensors.values()].map((d) => d.writing));
  }

  /** The running stream sensor of a name (tests, benchmarks). */
  sensor(name: string): StreamSensor | undefined {
    return this.sensors.get(name)?.stream;
  }

  private queue<T>(f: () => Promise<T>): Promise<T> {
    const run = this.serial.then(f, f);
    this.serial = run.catch(() => {});
    return run;
  }

  private async deploy(name: string, doc: unknown, persist: boolean): Promise<{ created: boolean }> {
    if (!SENSOR_NAME.test(name)) throw new DefinitionError('A virtual sensor name is 1-64 of [a-z0-9._-], starting with a letter or digit', '/name', 'invalid-name');
    const definition = validateDefinition(doc);
    const thingId = virtualThingId(name);
    const compiled = definition.kind === 'sparql' ? undefined : compileStream(definition);
    if (definition.kind === 'sparql') checkSparqlDefinition(definition);
    else await this.checkInputs(name, definition);
    const existing = this.sensors.get(name);
    if (!existing && this.sensors.size >= MAX_SENSORS) throw new DefinitionError(`At most ${MAX_SENSORS} virtual sensors`, '', 'too-many-sensors');
    const td = virtualThingDescription(this.deps.models, { name, thingId, definition, baseUrl: this.deps.config.baseUrl });
    if (existing) {
      this.stopSensor(existing);
      this.sensors.delete(name);
    }
    const d: Deployed = { name, thingId, definition, updatedAt: new Date().toISOString(), unsubscribe: [], seq: 0, writing: Promise.resolve(), pending: 0, droppedOutputs: 0 };
    this.deps.mapping.attach(thingId, VIRTUAL_MAPPING);
    // The definition's durable write runs beside the Thing's registration (the TD's own durable writes), not after it.
    // A definition written beside a failed registration is put back as it was on disk, so a refused PUT does not
    // deploy at the next start.
    const file = join(this.dir, `${name}.json`);
    const [registered, saved] = await Promise.allSettled([
      this.deps.things.registerVirtualSensor({ id: thingId, td }),
      persist ? writeFileDurably(file, JSON.stringify({ name, updatedAt: d.updatedAt, definition }, null, 2)) : undefined,
    ]);
    if (registered.status === 'rejected') {
      if (persist && saved.status === 'fulfilled') {
        const restore = existing ? writeFileDurably(file, JSON.stringify({ name, updatedAt: existing.updatedAt, definition: existing.definition }, null, 2)) : removeFileDurably(file);
        await restore.catch((e) => this.deps.log?.warn({ err: e, virtual: name }, 'virtual sensor file not restored'));
      }
      throw registered.reason;
    }
    if (compiled && definition.kind !== 'sparql') {
      const stream = new StreamSensor(compiled, {
        observationIri: observationIris(this.deps.config.baseUrl),
        publish: (p) => this.publishStream(d, p),
        onError: (e) => this.deps.log?.warn({ err: e, virtual: name }, 'virtual sensor operator failed'),
      });
      d.stream = stream;
      await this.subscribeInputs(d, stream);
    } else if (definition.kind === 'sparql') {
      const sparql = new SparqlSensor(definition, {
        store: this.deps.store,
        // New data in the store, not in the live state (which hears a message before its insert is durable).
        subscribe: (thing, listener) => this.deps.live.subscribeStored(thing, listener),
        publish: (values, keyed) => this.publishSparql(d, values, keyed),
        onError: (e) => this.deps.log?.warn({ err: e, virtual: name }, 'SPARQL virtual sensor failed'),
      });
      d.sparql = sparql;
      sparql.start();
    }
    this.sensors.set(name, d);
    if (saved.status === 'rejected') throw saved.reason;
    return { created: !existing };
  }

  /**
   * Explicit input Things must exist (in the directory); a virtual input must not depend back on this sensor (a cycle
   * across sensors: A reads B reads A). Directory-query inputs are resolved as Things come and go.
   */
  private async checkInputs(name: string, definition: Exclude<VirtualDefinition, { kind: 'sparql' }>): Promise<void> {
    const self = virtualThingId(name);
    for (const [inputName, input] of Object.entries(definition.inputs)) {
      const ids = input.thing !== undefined ? [input.thing] : (input.things ?? []);
      for (const [i, id] of ids.entries()) {
        const at = input.thing !== undefined ? `/inputs/${inputName}/thing` : `/inputs/${inputName}/things/${i}`;
        if (id === self) throw new DefinitionError(`Sensor '${name}' reads its own output`, at, 'definition-cycle');
        if (!(await this.deps.directory.get(id))) throw new DefinitionError(`No Thing '${id}' in the directory`, at, 'unknown-input');
        const path = this.dependsOn(id, self, new Set());
        if (path) throw new DefinitionError(`Virtual sensors would form a cycle: ${[name, ...path].join(' -> ')}`, at, 'definition-cycle');
      }
    }
  }

  /** The chain of sensor names from Thing `id` back to `target`, when `id` (a virtual sensor) reads `target`. */
  private dependsOn(id: string, target: string, seen: Set<string>): string[] | undefined {
    // A sensor's Thing id is virtualThingId(its name): found by name, not by a walk over every sensor per input.
    const d = id.startsWith(VIRTUAL_PREFIX) ? this.sensors.get(id.slice(VIRTUAL_PREFIX.length)) : undefined;
    if (!d || seen.has(d.name) || d.definition.kind === 'sparql') return undefined;
    seen.add(d.name);
    for (const input of Object.values(d.definition.inputs)) {
      for (const next of input.thing !== undefined ? [input.thing] : (input.things ?? [])) {
        if (next === target) return [d.name];
        const rest = this.dependsOn(next, target, seen);
        if (rest) return [d.name, ...rest];
      }
    }
    return undefined;
  }

  private async subscribeInputs(d: Deployed, stream: StreamSensor): Promise<void> {
    for (const [inputName, input] of Object.entries(stream.inputs)) {
      if (input.query === undefined) {
        for (const id of input.thing !== undefined ? [input.thing] : (input.things ?? [])) {
          d.unsubscribe.push(this.deps.live.subscribe(id, (m, _merged, own) => stream.accept(inputName, m, own)));
        }
        continue;
      }
      // Directory query: the Things whose TD has the @type, kept current as TDs are created, updated and deleted.
      const type = input.query.type;
      const members = new Set<string>();
      const matches = (td: Record<string, unknown> | undefined): boolean => !!td && [td['@type']].flat().includes(type) && td.id !== d.thingId;
      for (const td of await this.deps.directory.all()) if (matches(td) && typeof td.id === 'string') members.add(td.id);
      const track = (e: { id: string; td?: Record<string, unknown> }): void => {
        if (matches(e.td)) members.add(e.id);
        else members.delete(e.id);
      };
      for (const ev of ['thing_created', 'thing_updated', 'thing_deleted'] as const) {
        this.deps.directory.on(ev, track);
        d.unsubscribe.push(() => this.deps.directory.off(ev, track));
      }
      d.unsubscribe.push(this.deps.live.subscribeAll((m, _merged, own) => {
        if (members.has(m.meta.thingId)) stream.accept(inputName, m, own);
      }));
    }
  }

  private stopSensor(d: Deployed): void {
    for (const u of d.unsubscribe.splice(0)) u();
    d.stream?.stop();
    d.sparql?.stop();
  }

  private messageId(d: Deployed, time: number): string {
    d.seq += 1;
    return `${d.name}.${time}.${d.seq}`;
  }

  private async publishStream(d: Deployed, p: Publication): Promise<void> {
    const def = d.definition as Exclude<VirtualDefinition, { kind: 'sparql' }>;
    const items: Array<[string, OutputItem]> = Object.entries(p.values).map(([n, value]) => [n, { value, unit: p.outputs[n]?.unit }]);
    const values: Record<string, unknown> = { ...p.values };
    // The Cookie forms of a weighted travel time, and the definition's event (and a TM event) with the values.
    if (typeof p.sample.fields.serial === 'string') values.serial = p.sample.fields.serial;
    if (p.sample.fields.json) values.message = p.sample.fields.json;
    if (def.event) values[def.event] = { ...p.values };
    const message = outputEnvelope({ baseUrl: this.deps.config.baseUrl, thingId: d.thingId, procedure: `${this.deps.config.baseUrl}/virtual/${d.name}`, messageId: this.messageId(d, p.sample.time), time: p.sample.time, items, sample: p.sample });
    await this.ingest(d, message, values, p.sample.time);
  }

  private async publishSparql(d: Deployed, values: Record<string, unknown>, keyed: boolean): Promise<void> {
    if (d.definition.kind !== 'sparql') return;
    const outputs = d.definition.outputs;
    const items: Array<[string, OutputItem]> = [];
    for (const [n, v] of Object.entries(values)) {
      if (keyed && typeof v === 'object' && v !== null) for (const [key, value] of Object.entries(v)) items.push([n, { value, key, unit: outputs[n]?.unit }]);
      else items.push([n, { value: v, unit: outputs[n]?.unit }]);
    }
    const now = Date.now();
    const message = outputEnvelope({ baseUrl: this.deps.config.baseUrl, thingId: d.thingId, procedure: `${this.deps.config.baseUrl}/virtual/${d.name}`, messageId: this.messageId(d, now), time: now, items });
    await this.ingest(d, message, values, now);
  }

  /** Stores outputs of one sensor in order, without holding its samples; a store slower than the sensor drops outputs. */
  private ingest(d: Deployed, message: MessageEnvelope, values: Record<string, unknown>, time: number): Promise<void> {
    if (d.pending >= MAX_PENDING) {
      d.droppedOutputs += 1;
      return Promise.resolve();
    }
    d.pending += 1;
    const run = d.writing.then(() => this.store(d, message, values, time)).finally(() => {
      d.pending -= 1;
    });
    d.writing = run.catch(() => {});
    return run;
  }

  /** Resolves when this turn may store one more output (see OUTPUTS_PER_TURN): at once, or in a later turn, in order. */
  private fairTurn(): Promise<void> {
    this.armTurn();
    if (this.grantedThisTurn < OUTPUTS_PER_TURN && this.waitingTurn.length === 0) {
      this.grantedThisTurn += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waitingTurn.push(resolve));
  }

  private armTurn(): void {
    if (this.turnArmed) return;
    this.turnArmed = true;
    setImmediate(() => {
      this.turnArmed = false;
      this.grantedThisTurn = 0;
      const n = Math.min(OUTPUTS_PER_TURN, this.waitingTurn.length);
      for (const resolve of this.waitingTurn.splice(0, n)) resolve();
      this.grantedThisTurn = n;
      if (n > 0) this.armTurn();
    });
  }

  private async store(d: Deployed, message: MessageEnvelope, values: Record<string, unknown>, time: number): Promise<void> {
    await this.fairTurn();
    if (this.sensors.get(d.name) !== d) return; // removed or replaced meanwhile
    const result = await this.deps.ingest(message, values);
    if (result.status === 'failed') this.deps.log?.warn({ err: result.error, virtual: d.name }, 'virtual sensor output not stored');
    const output: VirtualOutput = { name: d.name, thingId: d.thingId, values, time, message };
    try {
      this.emit('output', output);
    } catch (e) {
      this.deps.log?.warn({ err: e, virtual: d.name }, 'virtual output listener failed');
    }
  }
}
