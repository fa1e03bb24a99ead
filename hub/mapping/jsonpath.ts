// JSONPath for RML iterators and references: RFC 9535 (no JavaScript), closures for simple paths and filters, the bounded evaluator for the rest.
import { JsonPathError, MappingError } from '../errors.ts';
import { parseJsonPath } from '../jsonpath/evaluator.ts';
import type { JsonPathLimits } from '../jsonpath/evaluator.ts';
import { compileFast } from '../jsonpath/fast.ts';
import { translateLegacyFilters } from '../jsonpath/legacy.ts';

/** A compiled JSONPath expression (RFC 9535 syntax as used by RML's rml:JSONPath reference formulation). */
export interface CompiledPath {
  readonly text: string;
  /** True when the path can select more than one node (wildcards, filters, slices, descendants). */
  readonly multi: boolean;
  /** Every selected node, in document order, within `limits` (default MAPPING_LIMITS; single-node paths need none). */
  all(value: unknown, limits?: JsonPathLimits): unknown[];
  /** The single selected node (undefined when absent); only meaningful when `multi` is false. */
  one(value: unknown): unknown;
}

/**
 * The bounds of one iterator or reference on one message: a message is at most a request body, so a few thousand
 * nodes and milliseconds are plenty; more is a mapping error for that message, never a stalled router.
 */
export const MAPPING_LIMITS: Required<JsonPathLimits> = { maxNodes: 10_000, maxWork: 200_000, timeoutMs: 100 };

/**
 * The bounds of an iterator over a file source (the CLI, `npm run map`: no shared event loop, files already capped in
 * size by RML-IO): as many records as the file holds.
 */
export const FILE_LIMITS: Required<JsonPathLimits> = { maxNodes: Number.MAX_SAFE_INTEGER, maxWork: Number.POSITIVE_INFINITY, timeoutMs: Number.POSITIVE_INFINITY };

const cache = new Map<string, CompiledPath>();

function mappingError(text: string, e: JsonPathError, code: string): MappingError {
  return new MappingError(e.message.startsWith('Invalid JSONPath') ? e.message : `JSONPath '${text}': ${e.message}`, { term: text }, { cause: e, extensions: { jsonpath: e.code } }, code);
}

/**
 * Compiles a JSONPath expression once (cached). The text is RFC 9535; legacy `[?( ... )]` filters are first translated
 * to RFC 9535 with their old meaning (see translateLegacyFilters), never run. Paths made of `.name`, `['name']` and `[n]`
 * become a loop that walks the value directly (the per-message hot path); every other path runs within
 * MAPPING_LIMITS, wildcards, descendants and filters comparing singular queries with literals as closures (fast.ts),
 * slices, unions and functions on json-p3's evaluator.
 *
 * @throws MappingError `invalid-mapping` naming the path (`term`) when it is not valid RFC 9535 or legacy filter
 *   syntax (JavaScript such as a method call is refused here). The compiled `all`/`one` throw MappingError
 *   `jsonpath-too-large` (more than MAPPING_LIMITS.maxNodes nodes) or `mapping-failed` (over the work or time budget).
 */
export function compileJsonPath(text: string): CompiledPath {
  const hit = cache.get(text);
  if (hit) return hit;
  let parsed;
  try {
    parsed = parseJsonPath(translateLegacyFilters(text));
  } catch (e) {
    if (e instanceof JsonPathError) throw mappingError(text, e, 'invalid-mapping');
    throw e;
  }
  // Single-node paths (names and indexes): a plain loop, no budget, no allocation (the per-message hot path).
  const fast = compileFast(parsed.query);
  let compiled: CompiledPath;
  if (fast && !fast.multi) compiled = { text, multi: false, all: fast.all, one: fast.one };
  else {
    // Everything else within MAPPING_LIMITS; wildcards, descendants and comparison filters still run as closures.
    const all = (value: unknown, limits: JsonPathLimits = MAPPING_LIMITS): unknown[] => {
      try {
        return parsed.values(value, limits);
      } catch (e) {
        if (e instanceof JsonPathError) throw mappingError(text, e, e.code === 'jsonpath-too-large' ? 'jsonpath-too-large' : 'mapping-failed');
        throw e;
      }
    };
    compiled = { text, multi: true, all, one: (value) => all(value)[0] };
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(text, compiled);
  return compiled;
}
