// RFC 9535 JSONPath that executes no JavaScript: json-p3's parser and evaluator, match()/search() on RE2, bounded in size, work and time.
import { FunctionExpressionType, JSONPathEnvironment, JSONPathError as P3Error, JSONPathNode, JSONPathQuery, jsonpath } from 'json-p3';
import type { FilterFunction, JSONValue } from 'json-p3';
import { JsonPathError } from '../errors.ts';
import { compileFast } from './fast.ts';
import { iRegexpMatch, iRegexpSearch, RegexTooLargeError } from './i-regexp.ts';

/** The bounds of one evaluation. Defaults: DEFAULT_LIMITS. */
export interface JsonPathLimits {
  /** Most nodes a query may select; more is `jsonpath-too-large`. */
  maxNodes?: number;
  /** Most work units (nodes produced or visited, filter tests, regex work / 100) per evaluation; more is `jsonpath-too-complex`. */
  maxWork?: number;
  /** Wall-clock deadline per evaluation, checked every few hundred work units; over it is `jsonpath-too-complex`. */
  timeoutMs?: number;
}

export const DEFAULT_LIMITS: Required<JsonPathLimits> = { maxNodes: 10_000, maxWork: 1_000_000, timeoutMs: 1000 };
/** Longest query text parsed (the parser and the evaluator recurse with the query's structure). */
export const MAX_QUERY_LENGTH = 4096;
/** Deepest nesting of brackets and parentheses in a query. */
export const MAX_NESTING = 64;

/** The running evaluation's budget (evaluation is synchronous, so one slot suffices; nested calls save and restore it). */
class Budget {
  private work = 0;
  private nextClock = 256;
  private readonly deadline: number;
  constructor(readonly limits: Required<JsonPathLimits>) {
    this.deadline = performance.now() + limits.timeoutMs;
  }

  charge(units: number): void {
    this.work += units;
    if (this.work < this.nextClock) return;
    if (this.work > this.limits.maxWork) throw new JsonPathError('jsonpath-too-complex', `The JSONPath query needs more than ${this.limits.maxWork} steps on this document`);
    this.nextClock = this.work + 256;
    if (performance.now() > this.deadline) throw new JsonPathError('jsonpath-too-complex', `The JSONPath query did not finish within ${this.limits.timeoutMs} ms`);
  }
}
let budget: Budget | undefined;
const charge = (units: number): void => budget?.charge(units);

/** match() and search() on RE2 (linear time), replacing json-p3's, which build an ECMAScript RegExp from the pattern. */
class Re2Function implements FilterFunction {
  readonly argTypes = [FunctionExpressionType.ValueType, FunctionExpressionType.ValueType];
  readonly returnType = FunctionExpressionType.LogicalType;
  constructor(private readonly anchored: boolean) {}
  call(s: unknown, pattern: unknown): boolean {
    const onWork = (w: number): void => charge(Math.ceil(w / 100));
    return this.anchored ? iRegexpMatch(s, pattern, onWork) : iRegexpSearch(s, pattern, onWork);
  }
}

/** RFC 9535 strict: count, length, value from json-p3, match and search on RE2; object iteration charged to the budget. */
class HubEnvironment extends JSONPathEnvironment {
  protected override setupFilterFunctions(): void {
    super.setupFilterFunctions();
    this.functionRegister.set('match', new Re2Function(true));
    this.functionRegister.set('search', new Re2Function(false));
  }

  override entries(obj: { [key: string]: JSONValue }): Array<[string, JSONValue]> {
    charge(1);
    return Object.entries(obj);
  }
}
const environment = new HubEnvironment({ strict: true });

/** A parsed RFC 9535 query: `query` is json-p3's AST (read by fast.ts), `values` evaluates it within the limits. */
export interface ParsedJsonPath {
  readonly text: string;
  readonly query: JSONPathQuery;
  /**
   * The values of the selected nodes, in the order RFC 9535 gives. Throws JsonPathError `jsonpath-too-large` (more than
   * maxNodes) or `jsonpath-too-complex` (over maxWork or timeoutMs, the descendant-depth limit, or the stack).
   */
  values(json: unknown, limits?: JsonPathLimits): unknown[];
}

function syntaxError(text: string, e: P3Error): JsonPathError {
  const offset = e.token?.index ?? 0;
  const reason = e.message.replace(/ \('[^]*':\d+\)$/, '');
  return new JsonPathError('jsonpath-syntax', `Invalid JSONPath '${text}' at offset ${offset}: ${reason}`, { cause: e, extensions: { offset } });
}

/** Length and nesting caps, counted outside string literals, before the recursive-descent parser sees the text. */
function checkShape(text: string): void {
  if (text.length > MAX_QUERY_LENGTH) throw new JsonPathError('jsonpath-too-complex', `The JSONPath query is longer than ${MAX_QUERY_LENGTH} characters`);
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(' || c === '[') {
      depth += 1;
      if (depth > MAX_NESTING) throw new JsonPathError('jsonpath-too-complex', `The JSONPath query nests deeper than ${MAX_NESTING} brackets`);
    } else if (c === ')' || c === ']') depth -= 1;
  }
}

type Instrumentable = Record<string, unknown> & { resolve?: (n: unknown) => unknown[]; evaluate?: (c: unknown) => unknown };

/** Charges every selector's output, every descendant visit and every filter test of a query (and of its filter queries). */
function instrument(q: JSONPathQuery): void {
  for (const segment of q.segments as unknown as Array<Record<string, unknown> & { selectors: Instrumentable[] }>) {
    // The descendant segment's visit() is a recursive generator (one yield* per level for every node); this one walks
    // the same nodes in the same order (pre-order, RFC 9535 §2.5.2.2) with an explicit stack, charging each.
    if (typeof segment.visit === 'function') segment.visit = descendants;
    for (const selector of segment.selectors) {
      const resolve = selector.resolve!;
      selector.resolve = (node: unknown) => {
        const out = resolve.call(selector, node);
        charge(1 + out.length);
        return out;
      };
      if (selector instanceof jsonpath.selectors.FilterSelector) {
        const expression = selector.expression as unknown as Instrumentable;
        const evaluate = expression.evaluate!;
        expression.evaluate = (context: unknown) => {
          charge(1);
          return evaluate.call(expression, context);
        };
        instrumentExpression(expression);
      }
    }
  }
}

/**
 * The hub reports values, never normalized paths: descendants carry no location, or a deep document would cost a
 * location array as long as its depth for every node (quadratic in time and memory).
 */
const NO_LOCATION: Array<string | number> = [];

/** A node and its descendants, in document order, as json-p3 nodes. */
function descendants(node: JSONPathNode): JSONPathNode[] {
  const out: JSONPathNode[] = [];
  const stack = [node];
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    charge(1);
    const v = n.value;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i -= 1) stack.push(new JSONPathNode(v[i], NO_LOCATION, n.root));
    } else if (v !== null && typeof v === 'object') {
      const entries = environment.entries(v as { [key: string]: JSONValue });
      for (let i = entries.length - 1; i >= 0; i -= 1) stack.push(new JSONPathNode(entries[i]![1], NO_LOCATION, n.root));
    }
  }
  return out;
}

function instrumentExpression(e: unknown): void {
  const x = jsonpath.expressions;
  if (e instanceof x.FilterQuery) instrument(e.path);
  else if (e instanceof x.LogicalExpression) instrumentExpression(e.expression);
  else if (e instanceof x.InfixExpression) {
    instrumentExpression(e.left);
    instrumentExpression(e.right);
  } else if (e instanceof x.PrefixExpression) instrumentExpression(e.right);
  else if (e instanceof x.FunctionExtension) for (const arg of e.args) instrumentExpression(arg);
}

/** Errors thrown while evaluating, as JsonPathError; anything else is a defect and propagates. */
function evaluationError(e: unknown): unknown {
  if (e instanceof JsonPathError) return e;
  if (e instanceof RangeError) return new JsonPathError('jsonpath-too-complex', 'The JSONPath query or the document is nested too deeply to evaluate', { cause: e });
  if (e instanceof RegexTooLargeError) return new JsonPathError('jsonpath-too-complex', e.message, { cause: e });
  if (e instanceof P3Error) return new JsonPathError('jsonpath-too-complex', `The JSONPath query cannot be evaluated on this document: ${e.message}`, { cause: e });
  return e;
}

/**
 * Parses an RFC 9535 JSONPath query (the whole grammar, §2; function extensions count, length, value, match, search).
 * Nothing in the query is ever run as JavaScript; match()/search() patterns are I-Regexps (RFC 9485) run by RE2.
 *
 * @throws JsonPathError `jsonpath-syntax` (with `offset`) when the text is not a valid query, `jsonpath-too-complex` when
 *   it is longer than MAX_QUERY_LENGTH or nests deeper than MAX_NESTING.
 */
export function parseJsonPath(text: string): ParsedJsonPath {
  checkShape(text);
  let query: JSONPathQuery;
  try {
    query = environment.compile(text);
  } catch (e) {
    if (e instanceof P3Error) throw syntaxError(text, e);
    if (e instanceof RangeError) throw new JsonPathError('jsonpath-too-complex', 'The JSONPath query is nested too deeply', { cause: e });
    throw e;
  }
  instrument(query);
  // The closures of fast.ts where the query allows (names, indexes, wildcards, descendants, comparison filters): many times
  // faster than json-p3's generators, the same nodes (both pass the compliance suite), charged to the same budget.
  const fast = compileFast(query, charge);
  const values = (json: unknown, limits: JsonPathLimits = {}): unknown[] => {
    const full = { ...DEFAULT_LIMITS, ...limits };
    const saved = budget;
    budget = new Budget(full);
    try {
      if (fast) {
        const all = fast.all(json);
        if (all.length > full.maxNodes) throw new JsonPathError('jsonpath-too-large', `The JSONPath query selects more than ${full.maxNodes} nodes`);
        return all;
      }
      const out: unknown[] = [];
      for (const node of query.lazyQuery(json as JSONValue)) {
        if (out.length >= full.maxNodes) throw new JsonPathError('jsonpath-too-large', `The JSONPath query selects more than ${full.maxNodes} nodes`);
        out.push(node.value);
        charge(1);
      }
      return out;
    } catch (e) {
      throw evaluationError(e);
    } finally {
      budget = saved;
    }
  };
  return { text, query, values };
}

/**
 * Evaluates an RFC 9535 query against a JSON value: the values of the selected nodes. A pure entry point (no I/O, no
 * globals beyond a regex cache) for the directory's search API and the fuzz helper.
 *
 * @throws JsonPathError `jsonpath-syntax`, `jsonpath-too-complex` or `jsonpath-too-large` (see parseJsonPath and
 *   ParsedJsonPath.values); never another error for any string and any JSON value.
 */
export function queryJsonPath(query: string, json: unknown, limits?: JsonPathLimits): unknown[] {
  return parseJsonPath(query).values(json, limits);
}
