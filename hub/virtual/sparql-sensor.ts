// A SPARQL-defined virtual sensor: a saved SELECT evaluated on a schedule and/or on new data of its input Things (debounced).
import sparqljs from 'sparqljs';
import type { JsonBinding, JsonTerm, QuadStore } from '../store/quad-store.ts';
import { assertManageable } from '../store/query-complexity.ts';
import { DefinitionError, type SparqlDefinition } from './definition.ts';

const NUMERIC = /#(integer|decimal|double|float|int|long|short|byte|nonNegativeInteger|positiveInteger|negativeInteger|nonPositiveInteger|unsigned(Int|Long|Short|Byte))$/;

/** Checks that the query is one SPARQL 1.1 SELECT naming the variables the outputs read; throws DefinitionError. */
export function checkSparqlDefinition(d: SparqlDefinition): void {
  let parsed: { type?: string; queryType?: string; variables?: unknown[] };
  // The store's complexity guard first (a tokenizer, linear): sparqljs takes superlinear time on deep nesting.
  try {
    assertManageable(d.query);
  } catch (e) {
    throw new DefinitionError((e as Error).message, '/query', 'query-too-complex');
  }
  try {
    parsed = new sparqljs.Parser().parse(d.query) as never;
  } catch (e) {
    throw new DefinitionError(`The query does not parse: ${(e as Error).message.split('\n')[0]}`, '/query', 'invalid-query');
  }
  if (parsed.type !== 'query' || parsed.queryType !== 'SELECT') throw new DefinitionError('The query is a SPARQL SELECT (no updates, no CONSTRUCT)', '/query', 'invalid-query');
  const vars = new Set<string>();
  let star = false;
  for (const v of parsed.variables ?? []) {
    const term = (v as { termType?: string; value?: string; variable?: { value: string } });
    if (term.termType === 'Wildcard') star = true;
    else if (term.variable) vars.add(term.variable.value);
    else if (term.value) vars.add(term.value);
  }
  if (star) return;
  for (const [name, out] of Object.entries(d.outputs)) {
    const v = out.variable ?? name;
    if (!vars.has(v)) throw new DefinitionError(`The query selects no ?${v}`, `/outputs/${name}/variable`, 'unknown-input');
  }
  if (d.keyVariable !== undefined && !vars.has(d.keyVariable)) throw new DefinitionError(`The query selects no ?${d.keyVariable}`, '/keyVariable', 'unknown-input');
}

/** A JSON value of a SPARQL result term: typed numbers and booleans as JSON, everything else as its text. */
export function termValue(t: JsonTerm | undefined): unknown {
  if (!t) return undefined;
  if (t.type === 'literal' && t.datatype && NUMERIC.test(t.datatype) && Number.isFinite(Number(t.value))) return Number(t.value);
  if (t.type === 'literal' && t.datatype?.endsWith('#boolean')) return t.value === 'true' || t.value === '1';
  return t.value;
}

export interface SparqlSensorOptions {
  store: QuadStore;
  subscribe(thingId: string, listener: () => void): () => void;
  publish(values: Record<string, unknown>, keyed: boolean): Promise<void>;
  onError(e: unknown): void;
  timeoutMs?: number;
}

/** Runs the query: every schedule.every seconds, and `debounce` seconds after new data of a trigger Thing (one run at a time). */
export class SparqlSensor {
  readonly counters = { runs: 0, published: 0, errors: 0, lastError: undefined as string | undefined, lastRunMs: 0 };
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private readonly unsubscribe: Array<() => void> = [];
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(private readonly d: SparqlDefinition, private readonly o: SparqlSensorOptions) {}

  start(): void {
    if (this.d.schedule) {
      this.timer = setInterval(() => this.run(), this.d.schedule.every * 1000);
      this.timer.unref();
    }
    for (const thing of this.d.trigger?.things ?? []) {
      this.unsubscribe.push(this.o.subscribe(thing, () => this.onData()));
    }
    // A first value at deploy time, so the Thing reads at once.
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private onData(): void {
    if (this.debounce || this.stopped) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.run();
    }, (this.d.trigger?.debounce ?? 1) * 1000);
    this.debounce.unref();
  }

  /** One evaluation (a run asked for while one is under way happens once after it). */
  run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.evaluate().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.run();
      }
    });
    return this.running;
  }

  private async evaluate(): Promise<void> {
    const t0 = performance.now();
    this.counters.runs += 1;
    try {
      const rows = await this.o.store.select(this.d.query, { timeoutMs: this.o.timeoutMs ?? 10_000 });
      const values = this.valuesOf(rows);
      if (Object.keys(values).length) {
        await this.o.publish(values, this.d.keyVariable !== undefined);
        this.counters.published += 1;
      }
    } catch (e) {
      this.counters.errors += 1;
      this.counters.lastError = (e as Error)?.message ?? String(e);
      this.o.onError(e);
    } finally {
      this.counters.lastRunMs = performance.now() - t0;
    }
  }

  private valuesOf(rows: JsonBinding[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, o] of Object.entries(this.d.outputs)) {
      const v = o.variable ?? name;
      if (this.d.keyVariable !== undefined) {
        const byKey: Record<string, unknown> = {};
        for (const row of rows.slice(0, 1000)) {
          const key = row[this.d.keyVariable]?.value;
          const value = termValue(row[v]);
          if (key !== undefined && value !== undefined) byKey[key] = value;
        }
        if (Object.keys(byKey).length) out[name] = byKey;
      } else {
        const value = termValue(rows[0]?.[v]);
        if (value !== undefined) out[name] = value;
      }
    }
    return out;
  }
}
