// A running stream virtual sensor: input samples (from live state) -> operators in order -> output values to publish.
import type { MessageEnvelope } from '../routing/live-state.ts';
import type { CompiledStream, InputDefinition, OutputDefinition } from './definition.ts';
import { createOperator, expressionInput, type Operator, type Sample } from './operators.ts';

export interface Publication {
  /** Property values of the virtual Thing (output name -> value). */
  values: Record<string, unknown>;
  /** The sample they come from: time, provenance (sources, window), fields (e.g. the Cookie forms). */
  sample: Sample;
  /** The outputs' definitions (units, types) by name. */
  outputs: Record<string, OutputDefinition>;
}

export interface SensorCounters {
  samples: number;
  published: number;
  /** Samples dropped because the sensor's queue was full (the sensor is slower than its inputs). */
  dropped: number;
  errors: number;
  lastError?: string;
}

export interface StreamSensorOptions {
  /** IRI of an input observation (the mapfiles' `things/{thing}/observations/{messageId}/{property}`). */
  observationIri(thingId: string, messageId: string, property: string): string;
  publish(p: Publication): void | Promise<void>;
  onError?(error: unknown): void;
  /** Most samples waiting (default 10,000); beyond, new samples are dropped and counted. */
  maxQueue?: number;
}

/**
 * Runs one compiled stream definition. Samples are processed one at a time in arrival order (expressions are async),
 * so windows and joins see a stream in order; a failing operator or expression is counted and never reaches ingestion.
 */
export class StreamSensor {
  readonly counters: SensorCounters = { samples: 0, published: 0, dropped: 0, errors: 0 };
  private readonly operators = new Map<string, Operator>();
  /** Stream id -> the operators that read it. */
  private readonly consumers = new Map<string, string[]>();
  /** Stream id -> the outputs published from it. */
  private readonly outputsOf = new Map<string, Array<[string, OutputDefinition]>>();
  private readonly queue: Array<[string, Sample]> = [];
  private draining = false;
  private idle: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly compiled: CompiledStream, private readonly options: StreamSensorOptions) {
    const { definition } = compiled;
    for (const id of compiled.order) {
      const def = definition.operators.find((o) => o.id === id)!;
      this.operators.set(id, createOperator(def, compiled.expressions));
      const reads = def.op === 'travel-time' ? [def.origin, def.destination] : def.op === 'weighted-travel-time' ? [def.from, def.counts] : Array.isArray(def.from) ? def.from : [def.from];
      for (const r of new Set(reads)) this.consumers.set(r, [...(this.consumers.get(r) ?? []), id]);
    }
    for (const [name, out] of Object.entries(definition.outputs)) this.outputsOf.set(out.from, [...(this.outputsOf.get(out.from) ?? []), [name, out]]);
  }

  get inputs(): Record<string, InputDefinition> {
    return this.compiled.definition.inputs;
  }

  /** A message of an input's Thing (`own`: the values it carried); queued as a sample when it carries the property. */
  accept(inputName: string, message: MessageEnvelope, own: Readonly<Record<string, unknown>>): void {
    if (this.stopped) return;
    const input = this.inputs[inputName];
    if (!input) return;
    const property = input.property ?? inputName;
    const value = own[property];
    if (value === undefined) return;
    const thing = message.meta.thingId;
    const time = Date.parse(String(message.meta.observedAt ?? message.meta.receivedAt));
    const key = input.key === undefined || input.key === 'thing' ? thing : String(own[input.key] ?? '');
    const messageId = typeof message.meta.messageId === 'string' ? message.meta.messageId : undefined;
    const sample: Sample = {
      key,
      time: Number.isFinite(time) ? time : Date.now(),
      value,
      thing,
      fields: own as Record<string, unknown>,
      sources: messageId ? [this.options.observationIri(thing, messageId, input.observation ?? property)] : [],
    };
    this.push(inputName, sample);
  }

  /** Queues a sample on a stream (an input's name); exposed for tests and benchmarks. */
  push(stream: string, sample: Sample): void {
    if (this.queue.length >= (this.options.maxQueue ?? 10_000)) {
      this.counters.dropped += 1;
      return;
    }
    this.counters.samples += 1;
    this.queue.push([stream, sample]);
    if (!this.draining) this.idle = this.drain();
  }

  /** Resolves when every queued sample has been processed. */
  settled(): Promise<void> {
    return this.idle;
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length && !this.stopped) {
        const [stream, sample] = this.queue.shift()!;
        try {
          await this.emit(stream, sample, 0);
        } catch (e) {
          this.fail(e);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async emit(stream: string, sample: Sample, depth: number): Promise<void> {
    const outs = this.outputsOf.get(stream);
    if (outs) await this.publish(outs, sample);
    if (depth > this.operators.size) return; // cannot happen (the graph is acyclic); a guard all the same
    for (const id of this.consumers.get(stream) ?? []) {
      let produced: Sample[];
      try {
        produced = await this.operators.get(id)!.process(sample, stream);
      } catch (e) {
        this.fail(e);
        continue;
      }
      for (const p of produced) await this.emit(id, p, depth + 1);
    }
  }

  private async publish(outs: Array<[string, OutputDefinition]>, sample: Sample): Promise<void> {
    const values: Record<string, unknown> = {};
    for (const [name, out] of outs) {
      let v: unknown;
      if (out.expression !== undefined) {
        try {
          v = await this.compiled.expressions.get(`output:${name}`)!.evaluate(expressionInput(sample));
        } catch (e) {
          this.fail(e);
          continue;
        }
      } else if (out.select !== undefined) {
        v = typeof sample.value === 'object' && sample.value !== null ? (sample.value as Record<string, unknown>)[out.select] : undefined;
      } else v = sample.value;
      v = coerce(v, out.type);
      if (v !== undefined) values[name] = v;
    }
    if (Object.keys(values).length === 0) return;
    this.counters.published += 1;
    // Not awaited: the store write of an output (the service keeps them in order) never holds the next samples.
    try {
      const done = this.options.publish({ values, sample, outputs: Object.fromEntries(outs) });
      if (done) done.catch((e) => this.fail(e));
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    this.counters.errors += 1;
    this.counters.lastError = (e as Error)?.message ?? String(e);
    try {
      this.options.onError?.(e);
    } catch {
      // a failing logger never stops a sensor
    }
  }
}

/** A value as its output's type says (integer rounds; a number that is not finite is no value). */
function coerce(v: unknown, type: OutputDefinition['type']): unknown {
  if (v === undefined || v === null) return undefined;
  if (type === 'number' || type === 'integer') {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n)) return undefined;
    return type === 'integer' ? Math.round(n) : n;
  }
  if (type === 'string') return typeof v === 'string' ? v : JSON.stringify(v);
  if (type === 'boolean') return typeof v === 'boolean' ? v : undefined;
  return v;
}
