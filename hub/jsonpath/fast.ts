// Closures for the JSONPath queries mapfiles use most (names, indexes, wildcards, filters of comparisons), compiled from json-p3's AST.
import { jsonpath } from 'json-p3';
import type { JSONPathQuery } from 'json-p3';

/** What a compiled closure answers: every selected value, in RFC 9535 order, or the first one. */
export interface FastPath {
  /** True when the query can select more than one node (a wildcard or a filter). */
  readonly multi: boolean;
  all(value: unknown): unknown[];
  one(value: unknown): unknown;
}

type Pred = (current: unknown, root: unknown) => boolean;
/** A filter's `weight` is the number of tests and query steps in its predicate (the work of one candidate). */
type Selector = { kind: 'prop'; name: string } | { kind: 'index'; index: number } | { kind: 'wild' } | { kind: 'filter'; pred: Pred; weight: number };
/** `desc`: the descendant segment `..` with one selector, applied to a node and each of its descendants in document order. */
type Step = Selector | { kind: 'desc'; selector: Selector };

/** Absent (RFC 9535 "Nothing"): distinct from every JSON value, null included. */
const NOTHING = Symbol('nothing');
const { hasOwn } = Object;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One node's child by a name or index step, or NOTHING (names select object members only, indexes array elements only). */
function child(v: unknown, s: Step): unknown {
  if (s.kind === 'prop') return isObject(v) && hasOwn(v, s.name) ? v[s.name] : NOTHING;
  if (!Array.isArray(v)) return NOTHING;
  const i = (s as { index: number }).index;
  const k = i < 0 ? v.length + i : i;
  return k >= 0 && k < v.length ? v[k] : NOTHING;
}

/**
 * The steps of a query made of segments with one name, index, wildcard or (compilable) filter selector, child or
 * descendant; undefined otherwise. A singular query (`filters` false) takes child names and indexes only.
 */
function stepsOf(q: JSONPathQuery, filters: boolean): Step[] | undefined {
  const sel = jsonpath.selectors;
  const steps: Step[] = [];
  for (const segment of q.segments as unknown as Array<{ selectors: unknown[]; visit?: unknown }>) {
    if (segment.selectors.length !== 1) return undefined;
    const s = segment.selectors[0];
    let step: Selector;
    if (s instanceof sel.NameSelector) step = { kind: 'prop', name: s.name };
    else if (s instanceof sel.IndexSelector) step = { kind: 'index', index: s.index };
    else if (s instanceof sel.WildcardSelector && filters) step = { kind: 'wild' };
    else if (s instanceof sel.FilterSelector && filters) {
      const pred = logical(s.expression);
      if (!pred) return undefined;
      step = { kind: 'filter', pred, weight: Math.max(1, s.expression.toString().length >> 3) };
    } else return undefined;
    if (segment.visit === undefined) steps.push(step);
    else if (filters) steps.push({ kind: 'desc', selector: step });
    else return undefined;
  }
  return steps;
}

type Value = (current: unknown, root: unknown) => unknown;

/** A singular query (names and indexes only) as a closure giving its value or NOTHING. */
function singular(e: unknown): Value | undefined {
  const x = jsonpath.expressions;
  if (!(e instanceof x.FilterQuery)) return undefined;
  const steps = stepsOf(e.path, false);
  if (!steps) return undefined;
  const fromRoot = e instanceof x.RootQuery;
  return (current, root) => {
    let v = fromRoot ? root : current;
    for (let k = 0; k < steps.length && v !== NOTHING; k += 1) v = child(v, steps[k]!);
    return v;
  };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => hasOwn(b, k) && deepEqual(a[k], b[k]));
}

/** RFC 9535 §2.3.5.2.2: Nothing equals only Nothing; `<` orders two numbers or two strings, anything else is false. */
const eq = (a: unknown, b: unknown): boolean => (a === NOTHING || b === NOTHING ? a === b : deepEqual(a, b));
const lt = (a: unknown, b: unknown): boolean => (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string') ? a < b : false;
const COMPARE: Record<string, (a: unknown, b: unknown) => boolean> = {
  '==': eq,
  '!=': (a, b) => !eq(a, b),
  '<': lt,
  '>': (a, b) => lt(b, a),
  '<=': (a, b) => lt(a, b) || eq(a, b),
  '>=': (a, b) => lt(b, a) || eq(a, b),
};

function comparable(e: unknown): Value | undefined {
  const x = jsonpath.expressions;
  if (e instanceof x.StringLiteral || e instanceof x.NumberLiteral || e instanceof x.BooleanLiteral) {
    const v = e.value;
    return () => v;
  }
  if (e instanceof x.NullLiteral) return () => null;
  return singular(e);
}

/** A filter's logical expression as a predicate: comparisons, existence of singular queries, !, && and ||. */
function logical(e: unknown): Pred | undefined {
  const x = jsonpath.expressions;
  if (e instanceof x.LogicalExpression) return logical(e.expression);
  if (e instanceof x.PrefixExpression) {
    const p = logical(e.right);
    return p && ((c, r) => !p(c, r));
  }
  if (e instanceof x.InfixExpression) {
    if (e.operator === '&&' || e.operator === '||') {
      const l = logical(e.left);
      const r = logical(e.right);
      if (!l || !r) return undefined;
      return e.operator === '&&' ? (c, root) => l(c, root) && r(c, root) : (c, root) => l(c, root) || r(c, root);
    }
    const cmp = COMPARE[e.operator];
    const l = comparable(e.left);
    const r = comparable(e.right);
    if (!cmp || !l || !r) return undefined;
    return (c, root) => cmp(l(c, root), r(c, root));
  }
  const q = singular(e);
  return q && ((c, r) => q(c, r) !== NOTHING);
}

/**
 * Compiles a parsed query to closures when each segment (child or descendant) has one name, index or wildcard selector
 * or a filter whose tests are comparisons of singular queries and literals (RFC 9535 semantics, checked against the compliance suite);
 * undefined for anything else (slices, unions, functions), which the evaluator runs instead. `tick`, when
 * given, is told the work of every wildcard child and filter test (the evaluator's budget); the mapping hot path
 * passes none.
 */
export function compileFast(q: JSONPathQuery, tick?: (units: number) => void): FastPath | undefined {
  const steps = stepsOf(q, true);
  if (!steps) return undefined;
  const multi = steps.some((s) => s.kind === 'wild' || s.kind === 'filter' || s.kind === 'desc');
  if (!multi) {
    // Single-node paths: a plain loop, no allocation (the per-message hot path).
    const one = (value: unknown): unknown => {
      let v: unknown = value;
      for (let k = 0; k < steps.length; k += 1) {
        const s = steps[k]!;
        if (s.kind === 'prop') {
          if (v === null || typeof v !== 'object' || Array.isArray(v) || !hasOwn(v, s.name)) return undefined;
          v = (v as Record<string, unknown>)[s.name];
        } else {
          v = child(v, s);
          if (v === NOTHING) return undefined;
        }
      }
      return v;
    };
    return {
      multi,
      one,
      all: (value) => {
        const v = one(value);
        return v === undefined ? [] : [v];
      },
    };
  }
  // Recursion follows the query's steps, never the document's depth: descendants are walked with an explicit stack.
  const select = (s: Selector, v: unknown, k: number, root: unknown, out: unknown[]): void => {
    if (s.kind === 'prop' || s.kind === 'index') {
      const c = child(v, s);
      if (c !== NOTHING) walk(c, k + 1, root, out);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const children = Array.isArray(v) ? v : Object.values(v);
    if (tick) tick(children.length * (s.kind === 'filter' ? s.weight : 1));
    if (s.kind === 'wild') for (const c of children) walk(c, k + 1, root, out);
    else for (const c of children) if (s.pred(c, root)) walk(c, k + 1, root, out);
  };
  const walk = (v: unknown, k: number, root: unknown, out: unknown[]): void => {
    if (k === steps.length) {
      out.push(v);
      return;
    }
    const s = steps[k]!;
    if (s.kind !== 'desc') return select(s, v, k, root, out);
    // RFC 9535 §2.5.2.2: the node, then its descendants in document order (pre-order), each given to the selector.
    const stack = [v];
    while (stack.length) {
      const d = stack.pop();
      select(s.selector, d, k, root, out);
      if (d === null || typeof d !== 'object') continue;
      const children = Array.isArray(d) ? d : Object.values(d);
      if (tick) tick(children.length);
      for (let i = children.length - 1; i >= 0; i -= 1) stack.push(children[i]);
    }
  };
  const all = (value: unknown): unknown[] => {
    const out: unknown[] = [];
    walk(value, 0, value, out);
    return out;
  };
  return { multi, all, one: (value) => all(value)[0] };
}
