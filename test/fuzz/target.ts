// The FuzzTarget contract: one small file per parser of outside input (test/fuzz/targets/), listed in targets/index.ts.
import { HubError } from '../../hub/errors.ts';
import type { Rng } from './prng.ts';

/**
 * A parser the fuzzer drives. `run` gets one input and either returns (accepted), throws a typed rejection
 * (`isTypedError`, by default an instance of HubError), or throws anything else (a crash). Any `run` that takes more
 * than the hang budget (100 ms) twice in a row is a hang; a process that dies or stops answering is a crash or hang too.
 */
export interface FuzzTarget {
  readonly name: string;
  /** What the target exercises, for the report. */
  readonly description: string;
  /** Real inputs (files from the repo and ../shared, bytes written by the hub's own code). Inputs 0..n-1 are these, unchanged. */
  seeds(): Uint8Array[] | Promise<Uint8Array[]>;
  /** Grammar tokens the mutators insert (keywords, punctuation, escapes of the target's language). */
  readonly tokens?: readonly string[];
  /** A fresh input from the target's grammar (cheap, grammar-aware); omitted: inputs are mutated seeds only. */
  generate?(rng: Rng): Uint8Array;
  /** Share of inputs built by generate() rather than by mutating a seed (default 0.3). */
  readonly generateRatio?: number;
  /** Prepared once per process before the first input (compile schemas, open engines). */
  setup?(): void | Promise<void>;
  /**
   * Feeds one input to the parser. It may return (or resolve to) a function: an oracle check that runs after the
   * timing stops (e.g. loading the parser's output into a store, which the hub does off the event loop).
   */
  run(input: Uint8Array): void | (() => void) | Promise<void | (() => void)>;
  /**
   * What the hang budget is held against: 'total' (default), the CPU from the call to its settlement; 'slice', the
   * longest CPU stretch between two turns of the event loop, for parsers the hub runs in time slices (mapfile uploads:
   * parseMappingBounded + compileParsedSliced), where the total is long by design and the slice is what blocks the hub.
   */
  readonly timing?: 'total' | 'slice';
  /** Whether a thrown value is the parser's documented rejection (default: `instanceof HubError`). */
  isTypedError?(error: unknown): boolean;
}

export const isHubError = (e: unknown): boolean => e instanceof HubError;

const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/** Bytes as the hub's body parsers see them (invalid UTF-8 becomes U+FFFD, as in fastify's string parsers). */
export function text(input: Uint8Array): string {
  return decoder.decode(input);
}

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** An error that marks a wrong result the parser returned without throwing (an oracle failure): always a crash. */
export class OracleError extends Error {
  override name = 'OracleError';
}
