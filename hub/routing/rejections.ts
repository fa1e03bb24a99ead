// Rejected uplinks: counted per binding and per code, logged at a bounded rate (first of a code at once, then <= 1/s).
import type { HubError } from '../errors.ts';
import type { BindingName, UplinkOrigin } from '../bindings/types.ts';

export interface RejectionLogger {
  warn(obj: object, msg: string): void;
}

export interface RejectionOptions {
  log?: RejectionLogger;
  /** Least time between two log lines of one code (ms); the lines in between are counted as `suppressed`. */
  logIntervalMs?: number;
  /** The clock of the rate limit (tests). */
  now?: () => number;
}

/** At most this many distinct codes or bindings are tracked; more fold into `other` (codes come from the hub, bindings from transports). */
const MAX_KEYS = 256;

/**
 * The hub's record of refused messages. A flood of bad messages costs a Map update each and one log line per code per
 * interval, never a line per message, so a misbehaving device or network server cannot flood the log or slow ingest.
 */
export class Rejections {
  private readonly byBinding = new Map<string, Map<string, number>>();
  private readonly lastLogged = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();
  private total = 0;

  constructor(private readonly options: RejectionOptions = {}) {}

  /** Counts one rejection and logs it unless the code was logged within the interval. */
  record(error: HubError, origin: Pick<UplinkOrigin, 'binding' | 'transport' | 'topic' | 'remote'>, context: Record<string, unknown> = {}): void {
    this.total += 1;
    const binding = this.byBinding.size < MAX_KEYS || this.byBinding.has(origin.binding) ? origin.binding : 'other';
    let codes = this.byBinding.get(binding);
    if (!codes) this.byBinding.set(binding, (codes = new Map()));
    const code = codes.size < MAX_KEYS || codes.has(error.code) ? error.code : 'other';
    codes.set(code, (codes.get(code) ?? 0) + 1);

    const now = (this.options.now ?? Date.now)();
    const last = this.lastLogged.get(code);
    if (last !== undefined && now - last < (this.options.logIntervalMs ?? 1000)) {
      this.suppressed.set(code, (this.suppressed.get(code) ?? 0) + 1);
      return;
    }
    if (this.lastLogged.size >= MAX_KEYS && last === undefined) return;
    this.lastLogged.set(code, now);
    const suppressed = this.suppressed.get(code) ?? 0;
    this.suppressed.delete(code);
    try {
      this.options.log?.warn(
        { code: error.code, status: error.status, binding: origin.binding, transport: origin.transport, topic: origin.topic, remote: origin.remote, suppressed, ...error.extensions, ...context },
        `uplink rejected: ${error.message}`,
      );
    } catch {
      // a failing logger must not break ingestion
    }
  }

  /** Rejections of one binding by code (a copy). */
  ofBinding(binding: BindingName): Record<string, number> {
    return Object.fromEntries(this.byBinding.get(binding) ?? []);
  }

  /** Rejections of several bindings, summed by code. */
  ofBindings(bindings: Iterable<BindingName>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const b of bindings) for (const [code, n] of this.byBinding.get(b) ?? []) out[code] = (out[code] ?? 0) + n;
    return out;
  }

  /** Every binding's rejections by code, and the total. */
  snapshot(): { total: number; byBinding: Record<string, Record<string, number>> } {
    return { total: this.total, byBinding: Object.fromEntries([...this.byBinding].map(([b, codes]) => [b, Object.fromEntries(codes)])) };
  }
}
