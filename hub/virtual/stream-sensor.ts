// A running stream virtual sensor: input samples (from live state) -> operators in order -> output values to publish.
import type { MessageEnvelope } from '../routing/live-state.ts';
import type { CompiledStream, InputDefinition, OutputDefinition } from './definition.ts';
import { NOT_NOW } from './expression.ts';
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

  /**
   * Runs the queued samples in order. A sample whose operators and outputs all answer synchronously (the fast
   * expression subset, windows) goes through in one call, with no promise; the first step that returns a promise holds
   * the queue until it ends. The closures that resume after a promise live in the *Later methods: a closure made in
   * these per-sample functions costs its context on every call (and tsx's keepNames a defineProperty per closure).
   */
  private drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length && !this.stopped) {
        const [stream, sample] = this.queue.shift()!;
        let pending: Promise<void> | undefined;
        try {
          pending = this.emit(stream, sample, 0);
        } catch (e) {
          this.fail(e);
        }
        if (pending) return this.drainLater(pending);
      }
    } catch (e) {
      this.draining = false;
      throw e;
    }
    this.draining = false;
    return DONE;
  }

  private drainLater(pending: Promise<void>): Promise<void> {
    return pending.then(
      () => this.drain(),
      (e) => {
        this.fail(e);
        return this.drain();
      },
    );
  }

  /** The sample's outputs, then each operator that reads its stream; undefined when all of it ran synchronously. */
  private emit(stream: string, sample: Sample, depth: number): Promise<void> | undefined {
    const outs = this.outputsOf.get(stream);
    const published = outs ? this.publish(outs, sample, {}, 0) : undefined;
    if (published) return this.consumeLater(published, stream, sample, depth, 0);
    return this.consume(stream, sample, depth, 0);
  }

  /** The operators reading `stream` from the `first`-th on, each one's samples emitted in order before the next. */
  private consume(stream: string, sample: Sample, depth: number, first: number): Promise<void> | undefined {
    if (depth > this.operators.size) return undefined; // cannot happen (the graph is acyclic); a guard all the same
    const consumers = this.consumers.get(stream);
    if (!consumers) return undefined;
    for (let c = first; c < consumers.length; c++) {
      const id = consumers[c]!;
      let produced: Sample[] | Promise<Sample[]>;
      try {
        produced = this.operators.get(id)!.process(sample, stream);
      } catch (e) {
        this.fail(e);
        continue;
      }
      if (produced instanceof Promise) return this.processedLater(produced, id, stream, sample, depth, c);
      const pending = this.emitAll(id, produced, 0, depth + 1);
      if (pending) return this.consumeLater(pending, stream, sample, depth, c + 1);
    }
    return undefined;
  }

  private consumeLater(pending: Promise<void>, stream: string, sample: Sample, depth: number, next: number): Promise<void> {
    return pending.then(() => this.consume(stream, sample, depth, next));
  }

  /** An operator's promised samples: emitted, then the next operator; a rejection is counted and the next one runs. */
  private processedLater(produced: Promise<Sample[]>, id: string, stream: string, sample: Sample, depth: number, c: number): Promise<void> {
    return produced.then(
      (ps) => {
        const pending = this.emitAll(id, ps, 0, depth + 1);
        return pending ? this.consumeLater(pending, stream, sample, depth, c + 1) : this.consume(stream, sample, depth, c + 1);
      },
      (e) => {
        this.fail(e);
        return this.consume(stream, sample, depth, c + 1);
      },
    );
  }

  private emitAll(stream: string, samples: Sample[], first: number, depth: number): Promise<void> | undefined {
    for (let i = first; i < samples.length; i++) {
      const pending = this.emit(stream, samples[i]!, depth);
      if (pending) return this.emitAllLater(pending, stream, samples, i + 1, depth);
    }
    return undefined;
  }

  private emitAllLater(pending: Promise<void>, stream: string, samples: Sample[], next: number, depth: number): Promise<void> {
    return pending.then(() => this.emitAll(stream, samples, next, depth));
  }

  /** Values of the outputs read from a stream; a promise only when an output expression needs JSONata. */
  private publish(outs: Array<[string, OutputDefinition]>, sample: Sample, values: Record<string, unknown>, first: number): Promise<void> | undefined {
    for (let i = first; i < outs.length; i++) {
      const [name, out] = outs[i]!;
      let v: unknown;
      if (out.expression !== undefined) {
        const expression = this.compiled.expressions.get(`output:${name}`)!;
        const input = expressionInput(sample);
        v = expression.evaluateNow(input);
        if (v === NOT_NOW) return this.publishLater(expression.evaluate(input), outs, sample, values, i);
      } else if (out.select !== undefined) {
        v = typeof sample.value === 'object' && sample.value !== null ? (sample.value as Record<string, unknown>)[out.select] : undefined;
      } else v = sample.value;
      v = coerce(v, out.type);
      if (v !== undefined) values[name] = v;
    }
    if (Object.keys(values).length === 0) return undefined;
    this.counters.published += 1;
    // Not awaited: the store write of an output (the service keeps them in order) never holds the next samples.
    try {
      const done = this.options.publish({ values, sample, outputs: Object.fromEntries(outs) });
      if (done) done.catch(this.failed);
    } catch (e) {
      this.fail(e);
    }
    return undefined;
  }

  /** The i-th output's value from JSONata (a failure is counted and the output left out), then the outputs after it. */
  private publishLater(value: Promise<unknown>, outs: Array<[string, OutputDefinition]>, sample: Sample, values: Record<string, unknown>, i: number): Promise<void> {
    return value.then(
      (w) => {
        const v = coerce(w, outs[i]![1].type);
        if (v !== undefined) values[outs[i]![0]] = v;
        return this.publish(outs, sample, values, i + 1);
      },
      (e) => {
        this.fail(e);
        return this.publish(outs, sample, values, i + 1);
      },
    );
  }

  private readonly failed = (e: unknown): void => this.fail(e);

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

const DONE: Promise<void> = Promise.resolve();

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
