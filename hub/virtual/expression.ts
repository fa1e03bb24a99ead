// Bounded JSONata expressions for virtual sensors: compiled once, refused when unbounded, evaluated by the exact synchronous subset when it can, else by JSONata with a time box.
import jsonata from 'jsonata';
import { HubError } from '../errors.ts';
import { compileFast } from '../expressions/fast-jsonata.ts';

/** Limits of one expression (per evaluation: time, stack depth, sequence length; per definition: text length). */
export interface ExpressionLimits {
  maxLength: number;
  timeoutMs: number;
  maxDepth: number;
  maxSequence: number;
  /** Largest literal range `[a..b]` allowed (JSONata builds ranges of up to 10^7 items in one step, past the time box). */
  maxRange: number;
}

/**
 * 100 ms: the time box is wall time (JSONata's guardrail), so it must leave room for a loaded machine's scheduling; a
 * runaway expression still ends within it. The fuzz target compiles with 40 ms (its hang budget is 100 ms of CPU).
 */
export const EXPRESSION_LIMITS: ExpressionLimits = { maxLength: 4096, timeoutMs: 100, maxDepth: 200, maxSequence: 100_000, maxRange: 10_000 };

/**
 * Functions refused at compile time: `$eval` compiles text at run time (past these checks), `$pad` allocates a string
 * of any width in one step. Regular-expression literals are refused too: one backtracking match cannot be interrupted
 * by the time box (JSONata checks it between steps), and string patterns of $replace/$split/$contains are literal.
 */
const DENIED_FUNCTIONS = new Set(['eval', 'pad']);

/** A definition's expression that cannot be compiled or is unbounded: 422 with the member that holds it. */
export class ExpressionError extends HubError {
  override name = 'ExpressionError';
  constructor(message: string, pointer: string, code = 'invalid-expression') {
    super(422, code, message, { extensions: { pointer } });
  }
}

/** An evaluation that failed or ran out of its bounds (counted on the sensor; never thrown into ingestion). */
export class EvaluationError extends HubError {
  override name = 'EvaluationError';
  constructor(message: string, code = 'expression-failed', cause?: unknown) {
    super(422, code, message, { cause });
  }
}

/** What evaluateNow answers when only JSONata (asynchronous) can: the caller then awaits evaluate(). */
export const NOT_NOW: unique symbol = Symbol('evaluate asynchronously');

export interface CompiledExpression {
  readonly source: string;
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
  /**
   * The synchronous subset's answer, or NOT_NOW (then evaluate() decides, with JSONata's errors): a stream sensor's
   * sample that needs no promise goes through its operators in one call (hub/virtual/stream-sensor.ts).
   */
  evaluateNow(input: unknown, bindings?: Record<string, unknown>): unknown;
}

type Node = Record<string, unknown>;

let turn: Promise<void> = Promise.resolve();
const noop = (): void => {};

/** Walks the AST: refuses regexes, denied functions and unbounded ranges; `pointer` names the member for the problem. */
function check(node: unknown, pointer: string, limits: ExpressionLimits, depth = 0): void {
  if (depth > 400) throw new ExpressionError('The expression is nested too deeply', pointer, 'expression-too-complex');
  if (Array.isArray(node)) {
    for (const n of node) check(n, pointer, limits, depth + 1);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as Node;
  if (n.type === 'regex') throw new ExpressionError('Regular expressions are not allowed in virtual sensor expressions (unbounded matching time)', pointer, 'expression-not-allowed');
  if (n.type === 'function' || n.type === 'partial') {
    const proc = n.procedure as Node | undefined;
    const name = proc?.type === 'variable' ? String(proc.value) : undefined;
    if (name !== undefined && DENIED_FUNCTIONS.has(name)) throw new ExpressionError(`The function $${name} is not allowed in virtual sensor expressions`, pointer, 'expression-not-allowed');
  }
  if (n.type === 'binary' && n.value === '..') {
    const l = n.lhs as Node | undefined;
    const r = n.rhs as Node | undefined;
    const bounded = l?.type === 'number' && r?.type === 'number' && Number(r.value) - Number(l.value) <= limits.maxRange;
    if (!bounded) throw new ExpressionError(`A range needs literal bounds at most ${limits.maxRange} apart`, pointer, 'expression-not-allowed');
  }
  for (const [k, v] of Object.entries(n)) if (k !== 'position' && typeof v === 'object') check(v, pointer, limits, depth + 1);
}

/** Compiles `source` (JSONata 2.x) with the hub's bounds; throws ExpressionError naming `pointer` when it cannot. */
export function compileExpression(source: unknown, pointer: string, limits: ExpressionLimits = EXPRESSION_LIMITS): CompiledExpression {
  if (typeof source !== 'string' || source.trim() === '') throw new ExpressionError('An expression is a non-empty JSONata string', pointer);
  if (source.length > limits.maxLength) throw new ExpressionError(`An expression is at most ${limits.maxLength} characters`, pointer, 'expression-too-complex');
  let compiled: ReturnType<typeof jsonata>;
  try {
    compiled = jsonata(source, { timeout: limits.timeoutMs, stack: limits.maxDepth, sequence: limits.maxSequence } as never);
  } catch (e) {
    throw new ExpressionError(`The expression does not parse: ${(e as { message?: string }).message ?? String(e)}`, pointer);
  }
  check(compiled.ast(), pointer, limits);
  // The synchronous subset first (same answers, ~1 us); anything it is unsure of goes to JSONata below. Bindings are
  // values here (`$sample`), never called: a call is to the exact built-ins only.
  const fast = compileFast(compiled.ast(), { callBindings: false, maxDepth: limits.maxDepth, maxArray: limits.maxSequence });
  // A JSONata instance holds its parser's whole symbol table (AST nodes inherit from it, ~30 KB): with a fast path it
  // is dropped and parsed again on the first fallback (hub/rules/expressions.ts measured 121 -> 75 KB per rule).
  let slow: ReturnType<typeof jsonata> | undefined = fast ? undefined : compiled;
  const options = { timeout: limits.timeoutMs, stack: limits.maxDepth, sequence: limits.maxSequence };
  return {
    source,
    evaluateNow(input, bindings) {
      if (!fast) return NOT_NOW;
      try {
        return fast.evaluate(input, bindings);
      } catch {
        return NOT_NOW; // FALLBACK (or anything unexpected): evaluate() asks JSONata
      }
    },
    evaluate(input, bindings) {
      if (fast) {
        try {
          return Promise.resolve(fast.evaluate(input, bindings));
        } catch {
          // FALLBACK (or anything unexpected): JSONata decides, with its errors
        }
      }
      slow ??= jsonata(source, options as never);
      return evaluateSlow(slow, limits, input, bindings);
    },
  };
}

async function evaluateSlow(compiled: ReturnType<typeof jsonata>, limits: ExpressionLimits, input: unknown, bindings: Record<string, unknown> | undefined): Promise<unknown> {
  // One evaluation at a time in the process: JSONata's time box is wall time, and its steps are microtasks, so
  // evaluations running side by side (many sensors) would each be charged for the others' steps.
  const run = turn.then(() => compiled.evaluate(input, bindings));
  turn = run.then(noop, noop);
  try {
    return await run;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'D1012') throw new EvaluationError(`The expression ran for more than ${limits.timeoutMs} ms`, 'expression-timeout', e);
    if (code === 'D1011' || code === 'D2015' || e instanceof RangeError) throw new EvaluationError('The expression exceeded its depth or sequence bound', 'expression-bound', e);
    throw new EvaluationError(`The expression failed: ${(e as { message?: string }).message ?? String(e)}`, 'expression-failed', e);
  }
}
