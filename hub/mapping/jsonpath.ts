// JSONPath for RML iterators and references: simple paths compile to direct property walks, the rest use jsonpath-plus.
import { JSONPath } from 'jsonpath-plus';
import { MappingError } from '../errors.ts';

type Step = { kind: 'prop'; name: string } | { kind: 'index'; index: number } | { kind: 'wild' };

/** A compiled JSONPath expression (RFC 9535 syntax as used by RML's rml:JSONPath reference formulation). */
export interface CompiledPath {
  readonly text: string;
  /** True when the path can select more than one node (wildcards, filters, slices, descendants). */
  readonly multi: boolean;
  /** Every selected node, in document order. */
  all(value: unknown): unknown[];
  /** The single selected node (undefined when absent); only meaningful when `multi` is false. */
  one(value: unknown): unknown;
}

const cache = new Map<string, CompiledPath>();

/**
 * Compiles a JSONPath expression once. Paths made of `.name`, `['name']`, `[n]` and `[*]` become closures that walk the
 * value directly (~20x faster than evaluating with jsonpath-plus per message); descendants, slices, unions and filters
 * fall back to jsonpath-plus. Throws MappingError naming the path when its syntax is invalid.
 */
export function compileJsonPath(text: string): CompiledPath {
  const hit = cache.get(text);
  if (hit) return hit;
  const { steps, simple } = tokenize(text);
  const compiled = simple ? fromSteps(text, steps) : (simpleFilter(text) ?? fallback(text));
  if (cache.size > 10_000) cache.clear();
  cache.set(text, compiled);
  return compiled;
}

function fail(text: string, at: number, why: string): never {
  throw new MappingError(`Invalid JSONPath '${text}' at offset ${at}: ${why}`, { term: text }, {}, 'invalid-mapping');
}

function tokenize(text: string): { steps: Step[]; simple: boolean } {
  const steps: Step[] = [];
  let simple = true;
  let i = 0;
  if (text[0] !== '$' && text[0] !== '@') fail(text, 0, "a path starts with '$'");
  i = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      if (text[i + 1] === '.') {
        simple = false;
        i += 2;
        if (text[i] === '[') continue;
      } else i += 1;
      if (text[i] === '*') {
        steps.push({ kind: 'wild' });
        i += 1;
        continue;
      }
      const start = i;
      while (i < text.length && text[i] !== '.' && text[i] !== '[') i += 1;
      if (i === start) fail(text, i, 'a member name is missing');
      const name = text.slice(start, i);
      if (/[\]()'"]/.test(name)) fail(text, start, `unexpected character in member name '${name}'`);
      steps.push({ kind: 'prop', name });
    } else if (c === '[') {
      i += 1;
      while (text[i] === ' ') i += 1;
      const d = text[i];
      if (d === '*') {
        i += 1;
        steps.push({ kind: 'wild' });
      } else if (d === "'" || d === '"') {
        const names: string[] = [];
        for (;;) {
          const q = text[i];
          if (q !== "'" && q !== '"') fail(text, i, 'a quoted member name is expected');
          let name = '';
          i += 1;
          while (i < text.length && text[i] !== q) {
            if (text[i] === '\\') i += 1;
            name += text[i] ?? '';
            i += 1;
          }
          if (text[i] !== q) fail(text, i, 'unterminated string');
          i += 1;
          names.push(name);
          while (text[i] === ' ') i += 1;
          if (text[i] !== ',') break;
          i += 1;
          while (text[i] === ' ') i += 1;
        }
        if (names.length === 1) steps.push({ kind: 'prop', name: names[0]! });
        else simple = false;
      } else if (d === '?' || d === '(') {
        simple = false;
        let depth = 0;
        for (; i < text.length; i += 1) {
          if (text[i] === '(') depth += 1;
          else if (text[i] === ')') {
            depth -= 1;
            if (depth === 0) {
              i += 1;
              break;
            }
          }
        }
        if (depth !== 0) fail(text, i, 'unbalanced parentheses in a filter');
      } else {
        const m = /^(-?\d+)?(\s*:\s*(-?\d+)?)?(\s*:\s*(-?\d+)?)?(\s*,\s*-?\d+)*/.exec(text.slice(i));
        if (!m || m[0].length === 0) fail(text, i, `unexpected '${d ?? 'end of path'}'`);
        if (/^\d+$/.test(m[0])) steps.push({ kind: 'index', index: Number(m[0]) });
        else simple = false;
        i += m[0].length;
      }
      while (text[i] === ' ') i += 1;
      if (text[i] !== ']') fail(text, i, "']' expected");
      i += 1;
    } else {
      fail(text, i, `unexpected '${c}'`);
    }
  }
  return { steps, simple };
}

function fromSteps(text: string, steps: Step[]): CompiledPath {
  const multi = steps.some((s) => s.kind === 'wild');
  const hasOwn = Object.prototype.hasOwnProperty;
  // Single-node paths: a plain loop, no allocation (the per-message hot path).
  const one = (value: unknown): unknown => {
    let v: unknown = value;
    for (let k = 0; k < steps.length; k += 1) {
      if (v === null || typeof v !== 'object') return undefined;
      const s = steps[k]!;
      if (s.kind === 'prop') {
        if (!hasOwn.call(v, s.name)) return undefined;
        v = (v as Record<string, unknown>)[s.name];
      } else v = (v as unknown[])[(s as { index: number }).index];
    }
    return v;
  };
  const walk = (v: unknown, k: number, out: unknown[]): void => {
    if (k === steps.length) {
      if (v !== undefined) out.push(v);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const s = steps[k]!;
    if (s.kind === 'prop') {
      if (hasOwn.call(v, s.name)) walk((v as Record<string, unknown>)[s.name], k + 1, out);
    } else if (s.kind === 'index') {
      if (Array.isArray(v) && s.index < v.length) walk(v[s.index], k + 1, out);
    } else {
      const children = Array.isArray(v) ? v : Object.values(v);
      for (const child of children) walk(child, k + 1, out);
    }
  };
  if (!multi) {
    const all = (value: unknown): unknown[] => {
      const out: unknown[] = [];
      walk(value, 0, out);
      return out;
    };
    return { text, multi, all, one };
  }
  return {
    text,
    multi,
    all(value) {
      const out: unknown[] = [];
      walk(value, 0, out);
      return out;
    },
    one(value) {
      const out: unknown[] = [];
      walk(value, 0, out);
      return out[0];
    },
  };
}

const CLAUSE = /^\s*@((?:\.[A-Za-z_$][\w$]*|\['[^']*'\]|\[\d+\])+)\s*(?:(===|!==|==|!=|>=|<=|>|<)\s*(null|undefined|true|false|-?\d+(?:\.\d+)?|'[^']*'|"[^"]*"))?\s*$/;

/**
 * `$[?(@.a.b == 'x' && @.c != null)]`: the filters mapfiles use to select messages, compiled to a predicate instead of
 * jsonpath-plus's safe evaluator (which re-parses the expression on every call). Anything else returns undefined.
 */
function simpleFilter(text: string): CompiledPath | undefined {
  const m = /^\$\[\?\((.*)\)\]$/.exec(text);
  if (!m || /\|\||[()]/.test(m[1]!)) return undefined;
  const preds: Array<(v: unknown) => boolean> = [];
  for (const clause of m[1]!.split('&&')) {
    const c = CLAUSE.exec(clause);
    if (!c) return undefined;
    const path = fromSteps(`$${c[1]}`, tokenize(`$${c[1]}`).steps);
    const op = c[2];
    const lit = c[3];
    const rhs: unknown = lit === undefined ? undefined : lit === 'null' ? null : lit === 'undefined' ? undefined : lit === 'true' ? true : lit === 'false' ? false : /^['"]/.test(lit) ? lit.slice(1, -1) : Number(lit);
    const cmp: Record<string, (a: unknown) => boolean> = {
      '==': (a) => a == rhs, // eslint-disable-line eqeqeq
      '!=': (a) => a != rhs, // eslint-disable-line eqeqeq
      '===': (a) => a === rhs,
      '!==': (a) => a !== rhs,
      '>': (a) => (a as number) > (rhs as number),
      '<': (a) => (a as number) < (rhs as number),
      '>=': (a) => (a as number) >= (rhs as number),
      '<=': (a) => (a as number) <= (rhs as number),
    };
    const test = op ? cmp[op]! : (a: unknown) => Boolean(a);
    preds.push((v) => test(path.one(v)));
  }
  const all = (value: unknown): unknown[] => {
    if (value === null || typeof value !== 'object') return [];
    const children = Array.isArray(value) ? value : Object.values(value);
    return children.filter((child) => preds.every((p) => p(child)));
  };
  return { text, multi: true, all, one: (value) => all(value)[0] };
}

function fallback(text: string): CompiledPath {
  const all = (value: unknown): unknown[] => {
    if (value === null || typeof value !== 'object') return [];
    try {
      return JSONPath({ path: text, json: value as object, wrap: true, eval: 'safe' }) as unknown[];
    } catch (e) {
      throw new MappingError(`JSONPath '${text}' failed: ${(e as Error).message}`, { term: text }, { cause: e }, 'mapping-failed');
    }
  };
  return { text, multi: true, all, one: (value) => all(value)[0] };
}
