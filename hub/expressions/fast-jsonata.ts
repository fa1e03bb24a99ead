// Hand-rolled: a synchronous interpreter of a subset of JSONata's AST (closures built from `jsonata(src).ast()`, never JavaScript eval), because JSONata's evaluate takes a microtask per step (20-400 us per expression) and virtual sensors and rules evaluate per sample; any case it is not certain to match JSONata 2.x exactly throws FALLBACK and the caller evaluates with JSONata.

/**
 * Thrown by FastExpression.evaluate when it cannot be sure its answer is JSONata's (a type JSONata would reject, a
 * non-finite number, an array where a single value was expected, a function value, a bound function that answered a
 * Promise, ...). Not an Error: no stack is captured (it is thrown on the fast path's hot loop).
 */
export const FALLBACK: Readonly<{ fastJsonataFallback: true }> = Object.freeze({ fastJsonataFallback: true as const });

export interface FastOptions {
  /**
   * Whether `$f(...)` may call a function found in the bindings (synchronously, `this` = the input, as JSONata calls a
   * native function). A bound function whose answer is a Promise (or that throws) makes the evaluation FALLBACK, and
   * JSONata then calls it again: bind only pure, synchronous functions. Without it, calls are to the built-in
   * whitelist only, and a binding that shadows one of those names FALLBACKs.
   */
  callBindings?: boolean;
  /** JSONata's evaluation depth bound (the AST is refused when it could reach it): `stack` or the rules' depth budget. */
  maxDepth?: number;
  /** Longest string any step may produce (the rules' exit hook); longer FALLBACKs. */
  maxString?: number;
  /** Longest array any step may produce (the rules' exit hook, the sequence bound); longer FALLBACKs. */
  maxArray?: number;
  /** Most AST nodes accepted (default 500). */
  maxNodes?: number;
}

export interface FastExpression {
  /** The result JSONata would give, synchronously; throws FALLBACK (or, rarely, another error) when unsure. */
  evaluate(input: unknown, bindings?: Record<string, unknown>): unknown;
}

/** Built-in functions implemented exactly (name -> allowed argument counts). */
const BUILTINS: Record<string, readonly number[]> = {
  exists: [1],
  not: [1],
  boolean: [1],
  round: [1, 2],
  abs: [1],
  floor: [1],
  ceil: [1],
  sqrt: [1],
  power: [2],
  number: [1],
  string: [1],
};

const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);
const ORDER = new Set(['<', '<=', '>', '>=']);

interface Ctx {
  input: unknown;
  bindings: Record<string, unknown> | undefined;
  slots: unknown[];
}
type Ev = (c: Ctx) => unknown;
type Node = Record<string, unknown>;

class Reject extends Error {}

const hasOwn = Object.prototype.hasOwnProperty;
const isEnumerable = Object.prototype.propertyIsEnumerable;

/** Node keys allowed per node type; any other key (predicate, group, keepArray, focus, tuple, ...) refuses the AST. */
const KEYS: Record<string, ReadonlySet<string>> = {
  number: new Set(['type', 'value', 'position']),
  string: new Set(['type', 'value', 'position']),
  value: new Set(['type', 'value', 'position']),
  variable: new Set(['type', 'value', 'position']),
  name: new Set(['type', 'value', 'position', 'stages']),
  path: new Set(['type', 'steps', 'position']),
  unary: new Set(['type', 'value', 'position', 'expression', 'expressions', 'lhs']),
  binary: new Set(['type', 'value', 'position', 'lhs', 'rhs']),
  condition: new Set(['type', 'position', 'condition', 'then', 'else']),
  block: new Set(['type', 'position', 'expressions']),
  bind: new Set(['type', 'value', 'position', 'lhs', 'rhs']),
  function: new Set(['type', 'value', 'position', 'arguments', 'procedure', 'name']),
  filter: new Set(['type', 'position', 'expr']),
};

function shape(n: unknown): Node {
  if (typeof n !== 'object' || n === null || Array.isArray(n)) throw new Reject();
  const node = n as Node;
  const allowed = typeof node.type === 'string' ? KEYS[node.type] : undefined;
  if (!allowed) throw new Reject();
  for (const k of Object.keys(node)) if (!allowed.has(k)) throw new Reject();
  return node;
}

function list(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new Reject();
  return v;
}

/**
 * A value that came from outside the interpreter (the input, a binding, a bound function): FALLBACK unless it is
 * one JSONata treats as plain data (no functions, thenables, non-finite numbers, sequences or JSONata-flagged arrays).
 */
function admit(v: unknown, maxString: number, maxArray: number): unknown {
  switch (typeof v) {
    case 'undefined':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw FALLBACK;
      return v;
    case 'string':
      if (v.length > maxString) throw FALLBACK;
      return v;
    case 'object': {
      if (v === null) return v;
      const o = v as Record<string, unknown>;
      if (typeof o.then === 'function' || o._jsonata_function || o._jsonata_lambda) throw FALLBACK;
      if (Array.isArray(v)) {
        if (v.length > maxArray) throw FALLBACK;
        const a = v as unknown as Record<string, unknown>;
        if (a.sequence || a.cons || a.keepSingleton || a.outerWrapper || a.tupleStream) throw FALLBACK;
      }
      return v;
    }
    default:
      throw FALLBACK;
  }
}

/** JSONata's isFunction. */
function isFn(v: unknown): boolean {
  return typeof v === 'function' || (!!v && ((v as Node)._jsonata_function === true || (v as Node)._jsonata_lambda === true));
}

/** JSONata's fn.boolean (effective boolean value; undefined for undefined), FALLBACK where JSONata would throw. */
function toBoolean(v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 1) return toBoolean(v[0]);
    if (v.length > 1) {
      for (const x of v) if (toBoolean(x)) return true;
    }
    return false;
  }
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return false;
    if (!Number.isFinite(v)) throw FALLBACK; // JSONata: D1001
    return v !== 0;
  }
  if (v !== null && typeof v === 'object' && !isFn(v)) return Object.keys(v).length > 0;
  return v === true;
}

/** JSONata's isDeepEqual, as written there. */
function deepEqual(l: unknown, r: unknown, depth = 0): boolean {
  if (l === r) return true;
  if (typeof l === 'object' && typeof r === 'object' && l !== null && r !== null) {
    if (depth > 100) throw FALLBACK;
    if (Array.isArray(l) && Array.isArray(r)) {
      if (l.length !== r.length) return false;
      for (let i = 0; i < l.length; i++) if (!deepEqual(l[i], r[i], depth + 1)) return false;
      return true;
    }
    const lk = Object.getOwnPropertyNames(l).sort();
    const rk = Object.getOwnPropertyNames(r).sort();
    if (lk.length !== rk.length) return false;
    for (let i = 0; i < lk.length; i++) if (lk[i] !== rk[i]) return false;
    for (const k of lk) if (!deepEqual((l as Node)[k], (r as Node)[k], depth + 1)) return false;
    return true;
  }
  return false;
}

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * JSONata's $round: half to even, the precision applied by shifting the exponent of the number's decimal string
 * (so 2.675 rounds to 2.68). The shift back divides (or multiplies) by an exact power of ten when the rounded value is
 * a safe integer: the quotient is then the correctly rounded value of the same decimal that JSONata parses.
 */
function round(arg: number, precision: number | undefined): number {
  let x = arg;
  const p = precision;
  if (p) {
    const s = x.toString();
    const i = s.indexOf('e');
    x = i < 0 ? +(s + 'e' + p) : +(s.slice(0, i) + 'e' + (+s.slice(i + 1) + p));
  }
  let result = Math.round(x);
  const diff = result - x;
  if (Math.abs(diff) === 0.5 && Math.abs(result % 2) === 1) result = result - 1;
  if (p) {
    if (Number.isInteger(p) && p >= -22 && p <= 22 && Number.isSafeInteger(result)) result = p > 0 ? result / POW10[p]! : result * POW10[-p]!;
    else {
      const v = result.toString().split('e');
      result = +(v[0] + 'e' + (v[1] ? +v[1] - p : -p));
    }
  }
  if (Object.is(result, -0)) result = 0;
  return result;
}

const numOrUndefined = (v: unknown): number | undefined => {
  if (v === undefined || typeof v === 'number') return v;
  throw FALLBACK; // JSONata: T0410 (signature)
};
const finite = (v: number): number => {
  if (!Number.isFinite(v)) throw FALLBACK;
  return v;
};

function builtin(name: string, a: unknown[]): unknown {
  switch (name) {
    case 'exists':
      return a[0] !== undefined;
    case 'boolean':
      return toBoolean(a[0]);
    case 'not': {
      const b = toBoolean(a[0]);
      return b === undefined ? undefined : !b;
    }
    case 'abs':
    case 'floor':
    case 'ceil':
    case 'sqrt': {
      const x = numOrUndefined(a[0]);
      if (x === undefined) return undefined;
      if (name === 'sqrt' && x < 0) throw FALLBACK; // JSONata: D3060
      return finite(name === 'abs' ? Math.abs(x) : name === 'floor' ? Math.floor(x) : name === 'ceil' ? Math.ceil(x) : Math.sqrt(x));
    }
    case 'round': {
      const x = numOrUndefined(a[0]);
      const p = numOrUndefined(a[1]);
      return x === undefined ? undefined : finite(round(x, p));
    }
    case 'power': {
      const x = numOrUndefined(a[0]);
      const e = numOrUndefined(a[1]);
      if (x === undefined) return undefined;
      return finite(Math.pow(x, e as number)); // JSONata: D3061 when not finite
    }
    case 'number':
      return numOrUndefined(a[0]);
    case 'string':
      if (a[0] === undefined || typeof a[0] === 'string') return a[0];
      throw FALLBACK; // JSONata's number/JSON formatting is not reproduced
    default:
      throw FALLBACK;
  }
}

interface Scope {
  names: Map<string, number>;
  parent: Scope | undefined;
}

/** Compiles an AST (`jsonata(source).ast()`) of the subset; undefined when any node is outside it. */
export function compileFast(ast: unknown, options: FastOptions = {}): FastExpression | undefined {
  const maxString = options.maxString ?? Infinity;
  const maxArray = options.maxArray ?? Infinity;
  const maxNodes = options.maxNodes ?? 500;
  const maxDepth = Math.min(options.maxDepth ?? Infinity, 150);
  const callBindings = options.callBindings === true;
  let nodes = 0;
  let slotCount = 0;

  const free = (name: string): Ev => (c) => {
    const b = c.bindings;
    if (b === undefined || !isEnumerable.call(b, name)) throw FALLBACK; // unbound, or one of JSONata's functions
    return admit(b[name], maxString, maxArray);
  };

  const resolve = (scope: Scope | undefined, name: string): number | undefined => {
    for (let s = scope; s; s = s.parent) {
      const slot = s.names.get(name);
      if (slot !== undefined) return slot;
    }
    return undefined;
  };

  const variableName = (n: Node): string => {
    const name = n.value;
    if (typeof name !== 'string' || name === '' || name === '$' || name.startsWith('__')) throw new Reject();
    return name;
  };

  const readVariable = (n: Node, scope: Scope | undefined): Ev => {
    const name = variableName(n);
    const slot = resolve(scope, name);
    return slot === undefined ? free(name) : (c) => c.slots[slot];
  };

  /** A path's step after the lookup: the rest of the steps from one current value. */
  type Step = (cur: unknown) => unknown;

  const compileSteps = (steps: Node[], from: number): Step => {
    let next: Step | undefined;
    for (let i = steps.length - 1; i >= from; i--) {
      const step = shape(steps[i]);
      if (step.type !== 'name' || typeof step.value !== 'string') throw new Reject();
      nodes += 1;
      const key = step.value;
      let index: number | undefined;
      if (step.stages !== undefined) {
        const stages = list(step.stages);
        if (stages.length !== 1) throw new Reject();
        const f = shape(stages[0]);
        const e = shape(f.expr);
        if (f.type !== 'filter' || e.type !== 'number' || typeof e.value !== 'number' || !Number.isFinite(e.value)) throw new Reject();
        index = Math.floor(e.value);
        nodes += 1;
      }
      const rest = next;
      const last = rest === undefined;
      next = (cur) => {
        // fn.lookup: own properties of a non-array object (a current array is impossible here)
        let v = cur !== null && typeof cur === 'object' && hasOwn.call(cur, key) && !isFn(cur) ? admit((cur as Node)[key], maxString, maxArray) : undefined;
        let single = false; // true when v stands for a one-item sequence rather than a value as found
        if (index !== undefined) {
          const arr = Array.isArray(v) ? v : [v];
          const i = index < 0 ? arr.length + index : index;
          const item = admit(arr[i], maxString, maxArray);
          if (item === undefined) return undefined;
          v = item;
          single = !Array.isArray(item);
        }
        if (v === undefined) return undefined;
        if (last) return v;
        return rest!(flattenOne(v, single));
      };
    }
    return next!;
  };

  /** A non-last step's value as the next step's single input (JSONata flattens it into the input sequence). */
  const flattenOne = (v: unknown, single: boolean): unknown => {
    if (single || !Array.isArray(v)) return v;
    if (v.length === 0) return undefined; // empty sequence: the path is undefined (the next lookup gives it)
    if (v.length === 1 && !Array.isArray(v[0])) return admit(v[0], maxString, maxArray);
    throw FALLBACK; // several items: JSONata maps the rest of the path over them
  };

  const compileNode = (raw: unknown, scope: Scope, depth: number, statement = false): Ev => {
    const n = shape(raw);
    if ((nodes += 1) > maxNodes) throw new Reject();
    if (depth > maxDepth) throw new Reject();
    const d = depth + 1;
    switch (n.type) {
      case 'number': {
        const v = n.value;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new Reject();
        return () => v;
      }
      case 'string': {
        const v = n.value;
        if (typeof v !== 'string' || v.length > maxString) throw new Reject();
        return () => v;
      }
      case 'value': {
        const v = n.value;
        if (v !== true && v !== false && v !== null) throw new Reject();
        return () => v;
      }
      case 'variable':
        return readVariable(n, scope);
      case 'path': {
        const steps = list(n.steps).map(shape);
        if (steps.length === 0) throw new Reject();
        if (depth + 1 > maxDepth) throw new Reject();
        const first = steps[0]!;
        if (first.type === 'variable') {
          if (steps.length < 2) throw new Reject();
          nodes += 1;
          const read = readVariable(first, scope);
          const rest = compileSteps(steps, 1);
          return (c) => {
            const v = read(c);
            if (v === undefined) return undefined;
            return rest(flattenOne(v, false));
          };
        }
        const all = compileSteps(steps, 0);
        return (c) => all(c.input);
      }
      case 'unary': {
        if (n.value === '-') {
          if (n.expressions !== undefined || n.lhs !== undefined) throw new Reject();
          const e = compileNode(n.expression, scope, d);
          return (c) => {
            const v = e(c);
            if (v === undefined) return undefined;
            if (typeof v !== 'number') throw FALLBACK; // JSONata: D1002
            return -v;
          };
        }
        if (n.value === '[') {
          if (n.expression !== undefined || n.lhs !== undefined) throw new Reject();
          const items = list(n.expressions).map((x) => {
            const node = shape(x);
            return { ev: compileNode(node, scope, d), nested: node.type === 'unary' && node.value === '[' };
          });
          return (c) => {
            const out: unknown[] = [];
            for (const { ev, nested } of items) {
              const v = ev(c);
              if (v === undefined) continue;
              if (nested || !Array.isArray(v)) out.push(v);
              else for (let i = 0; i < v.length; i++) out.push(v[i]); // fn.append: concat, one level
            }
            if (out.length > maxArray) throw FALLBACK;
            return out;
          };
        }
        if (n.value === '{') {
          if (n.expression !== undefined || n.expressions !== undefined) throw new Reject();
          const seen = new Set<string>();
          const pairs = list(n.lhs).map((p) => {
            const pair = list(p);
            if (pair.length !== 2) throw new Reject();
            const k = shape(pair[0]);
            nodes += 1;
            if (k.type !== 'string' || typeof k.value !== 'string') throw new Reject();
            // JSONata refuses duplicate keys (D1009) and its flags (D1013): leave those to it
            if (seen.has(k.value) || k.value === '_jsonata_lambda' || k.value === '_jsonata_function') throw new Reject();
            seen.add(k.value);
            return { key: k.value, ev: compileNode(pair[1], scope, d) };
          });
          return (c) => {
            const out = Object.create(null) as Record<string, unknown>;
            for (const { key, ev } of pairs) {
              const v = ev(c);
              if (v !== undefined) out[key] = v;
            }
            return out;
          };
        }
        throw new Reject();
      }
      case 'binary': {
        const op = n.value;
        if (typeof op !== 'string') throw new Reject();
        const l = compileNode(n.lhs, scope, d);
        const r = compileNode(n.rhs, scope, d);
        if (ARITHMETIC.has(op)) {
          return (c) => {
            const a = l(c);
            const b = r(c);
            if ((a !== undefined && typeof a !== 'number') || (b !== undefined && typeof b !== 'number')) throw FALLBACK; // T2001/T2002
            if (a === undefined || b === undefined) return undefined;
            const v = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
            if (!Number.isFinite(v)) throw FALLBACK;
            return v;
          };
        }
        if (ORDER.has(op)) {
          return (c) => {
            const a = l(c);
            const b = r(c);
            const ta = typeof a;
            const tb = typeof b;
            if ((ta !== 'undefined' && ta !== 'string' && ta !== 'number') || (tb !== 'undefined' && tb !== 'string' && tb !== 'number')) throw FALLBACK; // T2010
            if (a === undefined || b === undefined) return undefined;
            if (ta !== tb) throw FALLBACK; // T2009
            const x = a as number;
            const y = b as number;
            return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
          };
        }
        if (op === '=' || op === '!=') {
          const eq = op === '=';
          return (c) => {
            const a = l(c);
            const b = r(c);
            if (a === undefined || b === undefined) return false;
            return deepEqual(a, b) === eq;
          };
        }
        if (op === 'and') return (c) => (toBoolean(l(c)) ?? false) && (toBoolean(r(c)) ?? false);
        if (op === 'or') return (c) => (toBoolean(l(c)) ?? false) || (toBoolean(r(c)) ?? false);
        if (op === '&') {
          return (c) => {
            const a = l(c);
            const b = r(c);
            if ((a !== undefined && typeof a !== 'string') || (b !== undefined && typeof b !== 'string')) throw FALLBACK; // fn.string formatting
            const s = (a ?? '') + (b ?? '');
            if (s.length > maxString) throw FALLBACK;
            return s;
          };
        }
        throw new Reject();
      }
      case 'condition': {
        const cond = compileNode(n.condition, scope, d);
        const then = compileNode(n.then, scope, d);
        const other = n.else === undefined ? undefined : compileNode(n.else, scope, d);
        return (c) => (toBoolean(cond(c)) ? then(c) : other === undefined ? undefined : other(c));
      }
      case 'block': {
        const inner: Scope = { names: new Map(), parent: scope };
        const exprs = list(n.expressions).map((x) => compileNode(x, inner, d, true));
        if (exprs.length === 0) return () => undefined;
        if (exprs.length === 1) return exprs[0]!;
        return (c) => {
          let v: unknown;
          for (const e of exprs) v = e(c);
          return v;
        };
      }
      case 'bind': {
        // Only as a statement of a block (or the whole expression): elsewhere JSONata's evaluation order matters.
        if (!statement || n.value !== ':=') throw new Reject();
        const target = shape(n.lhs);
        nodes += 1;
        if (target.type !== 'variable') throw new Reject();
        const name = variableName(target);
        const rhs = compileNode(n.rhs, scope, d);
        let slot = scope.names.get(name);
        if (slot === undefined) scope.names.set(name, (slot = slotCount++));
        const s = slot;
        return (c) => (c.slots[s] = rhs(c));
      }
      case 'function': {
        if (n.value !== '(' || n.name !== undefined) throw new Reject();
        const proc = shape(n.procedure);
        nodes += 1;
        if (proc.type !== 'variable') throw new Reject();
        const name = variableName(proc);
        if (resolve(scope, name) !== undefined) throw new Reject(); // a local holding a function: JSONata's business
        const counts = Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
        const args = list(n.arguments).map((a) => compileNode(a, scope, d));
        if (!callBindings && (!counts || !counts.includes(args.length))) throw new Reject();
        return (c) => {
          const b = c.bindings;
          const bound = b !== undefined && isEnumerable.call(b, name);
          const f = bound ? b[name] : undefined;
          if (bound && (!callBindings || typeof f !== 'function' || (f as unknown as Node)._jsonata_function || (f as unknown as Node)._jsonata_lambda)) throw FALLBACK;
          const values: unknown[] = new Array(args.length);
          for (let i = 0; i < args.length; i++) values[i] = args[i]!(c);
          if (bound) {
            let v: unknown;
            try {
              v = (f as (...a: unknown[]) => unknown).apply(c.input, values);
            } catch {
              throw FALLBACK; // JSONata calls it again and reports its error
            }
            return admit(v, maxString, maxArray);
          }
          if (!counts || !counts.includes(args.length)) throw FALLBACK;
          return builtin(name, values);
        };
      }
      default:
        throw new Reject();
    }
  };

  const root: Scope = { names: new Map(), parent: undefined };
  let ev: Ev;
  try {
    ev = compileNode(ast, root, 1, true);
    if (nodes > maxNodes) return undefined;
  } catch (e) {
    if (e instanceof Reject) return undefined;
    throw e;
  }
  const slots = slotCount;
  return {
    evaluate(input, bindings) {
      // A JSON array input is wrapped by JSONata (outerWrapper); functions are not data.
      if (Array.isArray(input) || typeof input === 'function') throw FALLBACK;
      return ev({ input, bindings, slots: slots === 0 ? EMPTY : new Array(slots) });
    },
  };
}

const EMPTY: unknown[] = [];
