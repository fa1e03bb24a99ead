// Rule expressions in JSONata (as Node-RED users know it): compiled once, evaluated with a time budget, a depth bound and a result-size bound; never JavaScript eval.
import jsonata from 'jsonata';
import { HubError } from '../errors.ts';
import { compileFast } from '../expressions/fast-jsonata.ts';

/** Longest expression text accepted in a definition. */
export const MAX_EXPRESSION = 2000;

export interface ExpressionLimits {
  /** Wall time of one evaluation (ms); beyond it the evaluation is aborted. */
  timeMs: number;
  /** Evaluation depth (nested sub-expressions, recursion). */
  depth: number;
  /** Characters of the result as JSON. */
  resultChars: number;
}

export const DEFAULT_LIMITS: ExpressionLimits = { timeMs: 50, depth: 200, resultChars: 64 * 1024 };

export class ExpressionError extends HubError {
  constructor(code: string, message: string) {
    super(422, code, message);
    this.name = 'ExpressionError';
  }
}

/** Functions a rule's expressions may call, bound per evaluation (what the rule sees of its domain). */
export type Bindings = Record<string, (...args: never[]) => unknown>;

export interface CompiledExpression {
  readonly source: string;
  evaluate(input: unknown, bindings?: Bindings): Promise<unknown>;
}

const ENTRY = Symbol.for('jsonata.__evaluate_entry');
const EXIT = Symbol.for('jsonata.__evaluate_exit');
const BUDGET = '__hubBudget';
interface Budget { deadline: number; depth: number; steps: number }

/**
 * Compiles a JSONata expression; a syntax error is an ExpressionError with JSONata's position. Each evaluation runs
 * under its own clock and depth counter through JSONata's evaluate entry/exit hooks (the timebox technique of
 * JSONata's own test suite), so `($f := function(){ $f() }; $f())` or a huge range fails fast instead of holding the
 * process.
 */
export function compile(source: string, limits: ExpressionLimits = DEFAULT_LIMITS): CompiledExpression {
  if (typeof source !== 'string' || source.trim() === '') throw new ExpressionError('invalid-expression', 'An expression must be a non-empty string');
  if (source.length > MAX_EXPRESSION) throw new ExpressionError('invalid-expression', `An expression is longer than ${MAX_EXPRESSION} characters`);
  let parsed: ReturnType<typeof jsonata>;
  try {
    parsed = jsonata(source);
  } catch (e) {
    const err = e as { message?: string; position?: number };
    throw new ExpressionError('invalid-expression', `JSONata: ${err.message ?? String(e)}${err.position !== undefined ? ` (position ${err.position})` : ''}`);
  }
  checkAst(parsed.ast());
  // The synchronous subset first (same answers, ~1 us), under the same depth and size bounds as the hooks below; a
  // rule's bindings are synchronous pure functions (hub/rules/run.ts), so the subset may call them. Anything it is
  // unsure of (FALLBACK) is evaluated by JSONata as before.
  const maxString = limits.resultChars * 4;
  const fast = compileFast(parsed.ast(), { callBindings: true, maxDepth: limits.depth, maxString, maxArray: MAX_ARRAY });
  // A JSONata instance holds its parser's whole symbol table (~30 KB: AST nodes inherit from it), so with a fast path
  // it is dropped and made again on the first fallback: 1,000 rules of three expressions took 121 KB of heap each.
  let expr: ReturnType<typeof jsonata> | undefined = fast ? undefined : hooked(parsed);
  const slow = () => (expr ??= hooked(jsonata(source)));
  return {
    source,
    evaluate(input: unknown, bindings: Bindings = {}): Promise<unknown> {
      if (fast) {
        let result: unknown;
        let answered = false;
        try {
          result = fast.evaluate(input, bindings);
          answered = true;
        } catch {
          // FALLBACK (or anything unexpected): JSONata decides, with its errors
        }
        if (answered) {
          try {
            return Promise.resolve(checkResult(result, limits));
          } catch (e) {
            return Promise.reject(e);
          }
        }
      }
      return evaluateSlow(input, bindings);
    },
  };

  /** The JSONata instance with the budget hooks. */
  function hooked(j: ReturnType<typeof jsonata>): ReturnType<typeof jsonata> {
    // JSONata binds only string keys of the bindings per evaluation; the hooks are symbols, so they go on the
    // expression's own environment and find this evaluation's budget through a string-keyed binding.
    const budgetOf = (env: { lookup(name: string): unknown }) => env.lookup(BUDGET) as Budget | undefined;
    j.assign(ENTRY as unknown as string, (_e: unknown, _i: unknown, env: { lookup(name: string): unknown }) => {
      const b = budgetOf(env);
      if (!b) return;
      b.depth += 1;
      if (b.depth > limits.depth) throw new ExpressionError('expression-too-deep', `The expression nested deeper than ${limits.depth}`);
      if ((b.steps += 1) % 64 === 0 && performance.now() > b.deadline) throw new ExpressionError('expression-timeout', `The expression ran longer than ${limits.timeMs} ms`);
    });
    // Memory: every intermediate string or array is bounded where it is made (a string doubled in a loop fails at the
    // step that crosses the bound, not after it took the heap).
    j.assign(EXIT as unknown as string, (_e: unknown, _i: unknown, env: { lookup(name: string): unknown }, result: unknown) => {
      const b = budgetOf(env);
      if (b) b.depth -= 1;
      if (typeof result === 'string' ? result.length > maxString : Array.isArray(result) && result.length > MAX_ARRAY) {
        throw new ExpressionError('expression-result', `The expression built a value over ${typeof result === 'string' ? `${maxString} characters` : `${MAX_ARRAY} items`}`);
      }
    });
    return j;
  }

  async function evaluateSlow(input: unknown, bindings: Bindings): Promise<unknown> {
    const env: Record<string, unknown> = { ...bindings, [BUDGET]: { deadline: performance.now() + limits.timeMs, depth: 0, steps: 0 } satisfies Budget };
    let result: unknown;
    try {
      result = await slow().evaluate(input, env as Record<string, unknown>);
    } catch (e) {
      if (e instanceof HubError) throw e;
      const err = e as { message?: string; code?: string };
      // JSONata's own limits (a range over 10^7 items, a stack overflow) and runtime type errors.
      throw new ExpressionError('expression-failed', `JSONata ${err.code ?? ''}: ${err.message ?? String(e)}`.slice(0, 300));
    }
    return checkResult(result, limits);
  }
}

/** The result bound: a result that is not a number or a boolean is at most resultChars as JSON. */
function checkResult(result: unknown, limits: ExpressionLimits): unknown {
  if (result !== undefined && typeof result !== 'number' && typeof result !== 'boolean') {
    let text: string | undefined;
    try {
      text = JSON.stringify(result);
    } catch {
      throw new ExpressionError('expression-result', 'The expression result is not JSON (a function or a cycle)');
    }
    if (text !== undefined && text.length > limits.resultChars) throw new ExpressionError('expression-result', `The expression result is over ${limits.resultChars} characters as JSON`);
  }
  return result;
}

/** Largest literal range `[a..b]` an expression may build (JSONata builds ranges natively, past any clock check). */
export const MAX_RANGE = 10_000;
/** Largest intermediate array. */
export const MAX_ARRAY = 100_000;

/**
 * Refuses what no clock check can stop inside one native call: regular expressions (backtracking; JSONata runs them
 * with the JavaScript engine) and ranges whose bounds are not number literals at most MAX_RANGE apart.
 */
function checkAst(root: unknown): void {
  const stack: unknown[] = [root];
  let nodes = 0;
  while (stack.length) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if ((nodes += 1) > 10_000) throw new ExpressionError('invalid-expression', 'The expression is too large');
    const n = node as { type?: string; value?: unknown; lhs?: { type?: string; value?: unknown }; rhs?: { type?: string; value?: unknown }; position?: number };
    if (n.type === 'regex') throw new ExpressionError('invalid-expression', `Regular expressions are not allowed in rule expressions (position ${n.position ?? 0}): their backtracking cannot be bounded`);
    if (n.type === 'binary' && n.value === '..') {
      const lo = n.lhs?.type === 'number' ? Number(n.lhs.value) : Number.NaN;
      const hi = n.rhs?.type === 'number' ? Number(n.rhs.value) : Number.NaN;
      if (!(hi - lo <= MAX_RANGE)) throw new ExpressionError('invalid-expression', `A range needs number-literal bounds at most ${MAX_RANGE} apart (position ${n.position ?? 0})`);
    }
    for (const v of Object.values(node)) if (typeof v === 'object' && v !== null) stack.push(v);
  }
}
