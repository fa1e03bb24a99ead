// Validates TDs against the W3C TD 1.1 JSON Schema plus the WoT Discovery TD extensions, reporting every error at once.
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ValidationError } from '../errors.ts';
import { writablePropertyProblems } from './writable-properties.ts';

const require = createRequire(import.meta.url);
// Ajv's CJS default export under ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** WoT Discovery 1.0 Appendix A: JSON Schema for the TD extensions of Enriched TDs (registration information). */
export const DISCOVERY_EXTENSIONS_SCHEMA = {
  type: 'object',
  properties: {
    registration: {
      type: 'object',
      properties: {
        created: { type: 'string', format: 'date-time' },
        modified: { type: 'string', format: 'date-time' },
        expires: { type: 'string', format: 'date-time' },
        retrieved: { type: 'string', format: 'date-time' },
        ttl: { type: 'number', minimum: 0 },
      },
    },
  },
} as const;

/** Most errors listed in one problem; a hostile TD can produce thousands. */
const MAX_ERRORS = 100;

function field(e: ErrorObject): string {
  const base = e.instancePath || '/';
  if (e.keyword === 'required') return `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`;
  if (e.keyword === 'additionalProperties') {
    return `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`;
  }
  return base;
}

/** One JSON Pointer per error, deduplicated: anyOf/oneOf branches repeat the same failure many times. */
export function toValidationErrors(errors: ErrorObject[]): Array<{ field: string; description: string }> {
  const seen = new Set<string>();
  const out: Array<{ field: string; description: string }> = [];
  for (const e of errors) {
    const item = { field: field(e), description: `${e.message ?? e.keyword}${e.keyword === 'enum' ? `: ${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)}` : ''}` };
    const key = `${item.field}\u0000${item.description}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
    if (out.length >= MAX_ERRORS) break;
  }
  return out;
}

/** Deepest nesting a TD may have; deeper JSON would make the recursive schema and JSON-LD walks overflow the stack. */
export const MAX_DEPTH = 64;

/** Depth of a JSON value, measured without recursion (a hostile body can be nested 100,000 deep). */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/**
 * The TD 1.1 schema's unanchored `pattern`s that backtrack quadratically on a long string without a match (a 64 KB
 * `scheme` took 5.6 s here), each with a linear pattern that matches exactly the same strings: JSON Schema patterns
 * search anywhere in the string, so `.+:.*` holds iff some non-line-terminator precedes a ':', and `[0-9]*x[0-9]+` iff
 * an 'x' is followed by a digit.
 */
export const LINEAR_PATTERNS: Readonly<Record<string, string>> = { '.+:.*': '.:', '[0-9]*x[0-9]+': 'x[0-9]' };

/** Ajv's RegExp engine hook (Ajv options `code.regExp`) with the rewrites above; every other pattern is compiled as is. */
const linearRegExp = Object.assign((pattern: string, flags: string) => new RegExp(LINEAR_PATTERNS[pattern] ?? pattern, flags), { code: 'new RegExp' });

/**
 * Most JSON values (objects, arrays and scalars) a TD may hold. The largest shipped Thing Model has 116; converting a TD
 * to RDF (jsonld, on the event loop) costs ~15 us per value here, so 10,000 values took ~150 ms: 5,000 keeps it near 75.
 */
export const MAX_VALUES = 5_000;

/** Number of JSON values in `value`, counted without recursion; stops counting once past `limit`. */
export function jsonSize(value: unknown, limit = Infinity): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (++n > limit) return n;
    if (typeof v !== 'object' || v === null) continue;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
  }
  return n;
}

/**
 * Most entries of a TD's `@context` array. jsonld processes every entry against the active context, and the TD 1.1
 * context defines hundreds of terms: a 9.5 KB TD repeating it ~300 times took 2.2 s to convert (fuzz seed 13, input
 * 636261). A TD needs the TD context and a few extensions.
 */
export const MAX_CONTEXTS = 16;

export class TdValidator {
  private readonly td: ValidateFunction;
  private readonly discovery: ValidateFunction;

  constructor() {
    const schema = require('@thing-description-playground/core/td-schema.json') as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, code: { regExp: linearRegExp } });
    addFormats(ajv);
    // TD 1.1 ids, hrefs and types are IRIs (xsd:anyURI), so Unicode is allowed where ajv's RFC 3986 `uri` says no.
    ajv.addFormat('uri', { type: 'string', validate: (v: string) => /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]*$/u.test(v) });
    // The TD schema's `$schema` is draft-07, which Ajv 8 supports by default.
    this.td = ajv.compile({ ...schema, $id: undefined });
    this.discovery = ajv.compile(DISCOVERY_EXTENSIONS_SCHEMA);
  }

  /**
   * Minimal Validation (TD 1.1 §5.3, WoT Discovery §7.3.2.1.5 tdd-validation-jsonschema); throws ValidationError
   * with `validationErrors: [{field, description}]` for every error (tdd-validation-response), and the hub's
   * writable-property terms.
   */
  validate(td: unknown, context = 'The Thing Description is not valid'): void {
    if (typeof td !== 'object' || td === null || Array.isArray(td)) {
      throw new ValidationError(context, [{ field: '/', description: 'must be a JSON object' }]);
    }
    if (jsonDepth(td, MAX_DEPTH) > MAX_DEPTH) {
      throw new ValidationError(context, [{ field: '/', description: `must not be nested deeper than ${MAX_DEPTH} levels` }]);
    }
    if (jsonSize(td, MAX_VALUES) > MAX_VALUES) {
      throw new ValidationError(context, [{ field: '/', description: `must not hold more than ${MAX_VALUES} JSON values` }]);
    }
    const ctx = (td as Record<string, unknown>)['@context'];
    if (Array.isArray(ctx) && ctx.length > MAX_CONTEXTS) {
      throw new ValidationError(context, [{ field: '/@context', description: `must not have more than ${MAX_CONTEXTS} entries` }]);
    }
    const errors: ErrorObject[] = [];
    if (!this.td(td)) errors.push(...(this.td.errors ?? []));
    if (!this.discovery(td)) errors.push(...(this.discovery.errors ?? []));
    // The hub's own terms: a writable property names an action of this TD (hub/directory/writable-properties.ts).
    const problems = [...toValidationErrors(errors), ...writablePropertyProblems(td)];
    if (problems.length) throw new ValidationError(context, problems);
  }
}
