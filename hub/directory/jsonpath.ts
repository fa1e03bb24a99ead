// JSONPath search over the TDs (WoT Discovery §7.3.2.4.2): RFC 9535, evaluated without JavaScript, bounded in nodes, bytes, work and time.
import { JsonPathError } from '../errors.ts';
import { parseJsonPath } from '../jsonpath/evaluator.ts';
import type { JsonPathLimits } from '../jsonpath/evaluator.ts';

/**
 * The bounds of one search: the event loop is shared with every other request, so a search gets a quarter of a
 * second and a million steps, and answers at most 10,000 nodes and 16 MiB of JSON.
 */
export const SEARCH_LIMITS: Required<JsonPathLimits> & { maxBytes: number } = { maxNodes: 10_000, maxWork: 1_000_000, timeoutMs: 250, maxBytes: 16 * 1024 * 1024 };

/**
 * Evaluates a JSONPath query (RFC 9535) against a JSON value (the directory's array of TDs).
 *
 * @throws JsonPathError (400): `jsonpath-syntax` for a bad expression (RFC 9535 §2.1: a query starts with `$`, no
 *   leading or trailing blanks), `jsonpath-too-complex` over the length, nesting, work or time bounds,
 *   `jsonpath-too-large` over SEARCH_LIMITS.maxNodes.
 */
export function queryJsonPath(query: string, json: unknown, limits: JsonPathLimits = SEARCH_LIMITS): unknown[] {
  return parseJsonPath(query).values(json, limits);
}

/**
 * The search API's answer as JSON text: the selected values as an array, serialised node by node so that a query
 * selecting the same large TD many times stops at SEARCH_LIMITS.maxBytes (`jsonpath-too-large`) instead of
 * building gigabytes.
 *
 * @throws JsonPathError as queryJsonPath, and `jsonpath-too-large` over maxBytes.
 */
export function searchJsonPath(query: string, json: unknown, limits = SEARCH_LIMITS): string {
  const values = queryJsonPath(query, json, limits);
  const parts: string[] = [];
  let bytes = 2;
  for (const v of values) {
    let s: string;
    try {
      s = JSON.stringify(v) ?? 'null';
    } catch (e) {
      throw new JsonPathError('jsonpath-too-large', 'A value the JSONPath query selects is nested too deeply to serialise', { cause: e });
    }
    bytes += s.length + 1;
    if (bytes > limits.maxBytes) throw new JsonPathError('jsonpath-too-large', `The JSONPath query's result is larger than ${limits.maxBytes} bytes`);
    parts.push(s);
  }
  return `[${parts.join(',')}]`;
}
