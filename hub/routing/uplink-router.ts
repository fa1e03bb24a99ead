// The last stage of the uplink pipeline: a Thing's `{meta, payload}` message -> its mapfile's compiled plan -> store + live state.
import { randomBytes, randomUUID } from 'node:crypto';
import { DataFactory } from 'n3';
import type { Quad } from '@rdfjs/types';
import { HubError, MappingError } from '../errors.ts';
import { writeNQuads } from '../mapping/nquads.ts';
import type { MappingPlan } from '../mapping/plan.ts';
import { observationGraph } from '../store/graphs.ts';
import type { QuadStore } from '../store/quad-store.ts';
import type { LiveState, MessageEnvelope } from './live-state.ts';

export interface UplinkRouterDeps {
  store: QuadStore;
  live: LiveState;
  /** Compiled plan by mapfile name (MappingRegistry.plan). */
  plans: { plan(name: string): MappingPlan | undefined };
  /** Name of the mapfile a Thing's TD names, or undefined when it names none. */
  resolveMapping: (thingId: string) => string | undefined;
  baseUrl: string;
  /** Told about every failed message (logging); never throws into ingestion. */
  onError?: (error: HubError, message: MessageEnvelope) => void;
}

export type IngestResult =
  | { status: 'stored'; mapping: string; quads: number; graph: string; values: Record<string, unknown> }
  | { status: 'unmapped' }
  | { status: 'failed'; error: HubError };

/** Counters of the ingestion path (exposed on GET /ingest). */
export interface IngestCounters {
  received: number;
  stored: number;
  quads: number;
  unmapped: number;
  /** Every message not stored: rejected ones plus those the store could not take. */
  failed: number;
  /** Messages refused for what they hold (a 4xx error: a data error such as invalid-iri, a missing mapfile). */
  rejected: number;
  failedByCode: Record<string, number>;
}

/**
 * Routes one message: resolve the Thing's mapfile, run its plan, write all quads in one store insert into the Thing's
 * observation graph of the day, then publish to the live state. A message that cannot be mapped or stored is a counted
 * error (IngestResult `failed`): nothing of it reaches the store (the plan runs before the one insert), and it never
 * throws, so a bad message cannot stop a transport.
 */
export class UplinkRouter {
  readonly counters: IngestCounters = { received: 0, stored: 0, quads: 0, unmapped: 0, failed: 0, rejected: 0, failedByCode: {} };

  constructor(private readonly deps: UplinkRouterDeps) {}

  /**
   * `decoded`: the message's decoded fields (the pipeline's), readable as the Thing's property values below the mapped
   * observations' values, so a Thing without a mapfile still shows its latest readings.
   */
  async ingest(message: MessageEnvelope, decoded: Record<string, unknown> = {}): Promise<IngestResult> {
    this.counters.received += 1;
    // Observation IRIs and result times come from meta.messageId and meta.observedAt (mappings/): fill them when a
    // caller brings an older envelope, so no observation loses its subject.
    if (message?.meta && typeof message.meta === 'object') {
      if (typeof message.meta.messageId !== 'string' || message.meta.messageId === '') message.meta.messageId = `hub-${randomUUID()}`;
      if (typeof message.meta.observedAt !== 'string') message.meta.observedAt = message.meta.receivedAt;
    }
    let published = false;
    const publish = (values: Record<string, unknown>): void => {
      published = true;
      if (typeof message?.meta?.thingId === 'string') this.deps.live.publish(message, values);
    };
    const result = await this.route(message, decoded, publish);
    if (result.status === 'failed') {
      this.counters.failed += 1;
      if (result.error.status < 500) this.counters.rejected += 1;
      this.counters.failedByCode[result.error.code] = (this.counters.failedByCode[result.error.code] ?? 0) + 1;
      try {
        this.deps.onError?.(result.error, message);
      } catch {
        // a failing logger must not break ingestion
      }
    }
    if (result.status === 'unmapped') this.counters.unmapped += 1;
    // The live state carries the latest decoded message whether or not it could be mapped.
    if (!published) publish(decoded);
    return result;
  }

  /**
   * The live state hears a mapped message before its store insert is durable: rules and the live views (a robot
   * following a 3D mouse) act on what the device said when it said it, not one group commit (fsync) later. The
   * observation is in SPARQL once the insert is acknowledged; if the store refuses it, the message is still counted
   * as failed (as an unmappable one, it stays the latest live reading).
   */
  private async route(message: MessageEnvelope, decoded: Record<string, unknown>, publish: (values: Record<string, unknown>) => void): Promise<IngestResult> {
    const thingId = message?.meta?.thingId;
    if (typeof thingId !== 'string' || thingId === '') {
      return { status: 'failed', error: new MappingError('The message has no meta.thingId', { term: 'meta.thingId' }, {}, 'mapping-failed') };
    }
    const name = this.deps.resolveMapping(thingId);
    if (name === undefined) return { status: 'unmapped' };
    const plan = this.deps.plans.plan(name);
    if (!plan) return { status: 'failed', error: new MappingError(`Thing '${thingId}' names mapping '${name}', which does not exist`, { term: name }, {}, 'mapping-missing') };
    const receivedAt = new Date(message.meta.receivedAt);
    if (Number.isNaN(receivedAt.getTime())) {
      return { status: 'failed', error: new MappingError(`meta.receivedAt '${String(message.meta.receivedAt)}' is not a time`, { term: 'meta.receivedAt' }, {}, 'mapping-failed') };
    }
    let quads: Quad[];
    try {
      quads = plan.mapMessage(message);
    } catch (e) {
      return { status: 'failed', error: asHubError(e) };
    }
    // The day graph of the observation's own time, so a redelivery on another day lands in the same graph.
    const observedAt = new Date(String(message.meta.observedAt ?? ''));
    const graph = observationGraph(this.deps.baseUrl, thingId, Number.isNaN(observedAt.getTime()) ? receivedAt : observedAt);
    const values = observedValues(quads);
    publish({ ...decoded, ...values });
    if (quads.length > 0) {
      try {
        await this.deps.store.insert(toNQuads(scopeBlankNodes(quads)), graph);
      } catch (e) {
        return { status: 'failed', error: asHubError(e) };
      }
    }
    this.counters.stored += 1;
    this.counters.quads += quads.length;
    if (quads.length > 0) this.deps.live.notifyStored(thingId);
    return { status: 'stored', mapping: name, quads: quads.length, graph, values };
  }
}

function asHubError(e: unknown): HubError {
  if (e instanceof HubError) return e;
  return new MappingError(`Mapping failed: ${(e as Error)?.message ?? String(e)}`, {}, { cause: e }, 'mapping-failed');
}

const RUN = randomBytes(6).toString('hex');
let messageSeq = 0;

/**
 * Blank nodes are scoped to one message: the plan labels them by value (`_:v42`) or by a process counter, and a store
 * keeps labels as given, so each message's labels get a prefix unique across messages and restarts.
 */
export function scopeBlankNodes(quads: Quad[]): Quad[] {
  let prefix: string | undefined;
  const fix = <T extends Quad['subject'] | Quad['object'] | Quad['graph']>(t: T): T => {
    if (t.termType !== 'BlankNode') return t;
    prefix ??= `m${RUN}x${(messageSeq += 1).toString(36)}_`;
    return DataFactory.blankNode(prefix + t.value) as unknown as T;
  };
  let changed = false;
  const out = quads.map((q) => {
    if (q.subject.termType !== 'BlankNode' && q.object.termType !== 'BlankNode' && q.graph.termType !== 'BlankNode') return q;
    changed = true;
    return DataFactory.quad(fix(q.subject), q.predicate, fix(q.object), fix(q.graph));
  });
  return changed ? out : quads;
}

const SOSA = 'http://www.w3.org/ns/sosa/';
const XSD = 'http://www.w3.org/2001/XMLSchema#';
const NUMERIC = new Set(['integer', 'decimal', 'double', 'float', 'int', 'long', 'short', 'byte', 'nonNegativeInteger',
  'positiveInteger', 'negativeInteger', 'nonPositiveInteger', 'unsignedInt', 'unsignedLong', 'unsignedShort', 'unsignedByte'].map((t) => XSD + t));

/**
 * Latest property values from mapped SOSA observations: each `sosa:hasSimpleResult` under the name of the
 * observation's `sosa:observedProperty` when that IRI ends in `/properties/<name>` (the shipped mapfiles' convention,
 * matching the property names of the Thing Models). Typed numbers and booleans become JSON numbers and booleans.
 */
export function observedValues(quads: Quad[]): Record<string, unknown> {
  const propertyOf = new Map<string, string>();
  const resultOf = new Map<string, unknown>();
  for (const q of quads) {
    if (q.predicate.value === `${SOSA}observedProperty` && q.object.termType === 'NamedNode') {
      const m = /\/properties\/([^/?#]+)$/.exec(q.object.value);
      if (m) {
        try {
          propertyOf.set(q.subject.value, decodeURIComponent(m[1]!));
        } catch {
          // a malformed %-escape names no property
        }
      }
    } else if (q.predicate.value === `${SOSA}hasSimpleResult` && q.object.termType === 'Literal') {
      const dt = q.object.datatype.value;
      const lexical = q.object.value;
      resultOf.set(
        q.subject.value,
        NUMERIC.has(dt) && Number.isFinite(Number(lexical)) ? Number(lexical) : dt === `${XSD}boolean` ? lexical === 'true' || lexical === '1' : lexical,
      );
    }
  }
  const values: Record<string, unknown> = {};
  for (const [observation, name] of propertyOf) if (resultOf.has(observation)) values[name] = resultOf.get(observation);
  return values;
}

export function toNQuads(quads: Quad[]): string {
  return writeNQuads(quads);
}
