// Differential test of the synchronous JSONata subset against jsonata 2.x: a corpus (the mouse rule, virtual filters, the rules' and virtual tests' expressions, edge cases) times inputs, and thousands of seeded random expressions of the subset; a fast answer must equal jsonata's, and where jsonata throws the fast path must not answer.
import { isDeepStrictEqual } from 'node:util';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { prng } from '../../hub/simulators/sensor.ts';
import { FALLBACK, compileFast, type FastExpression, type FastOptions } from '../../hub/expressions/fast-jsonata.ts';
import { mouseRule } from '../../hub/rules/mouse.ts';
import { compile } from '../../hub/rules/expressions.ts';
import { compileExpression } from '../../hub/virtual/expression.ts';

const num = (f: (...xs: number[]) => number) => (...xs: unknown[]) => (xs.every((x) => typeof x === 'number') ? f(...(xs as number[])) : undefined);
const PROPS: Record<string, Record<string, unknown>> = { imu: { roll: 10, pitch: -5, yaw: 30 }, bno: { roll: 'x', pitch: 100, heading: 270 } };
/** Rule-like bindings: pure synchronous functions (as hub/rules/run.ts binds them). */
const BINDINGS: Record<string, unknown> = {
  sin: num(Math.sin),
  cos: num(Math.cos),
  radians: num((d) => (d * Math.PI) / 180),
  clamp: num((x, lo, hi) => Math.min(hi, Math.max(lo, x))),
  prop: (alias: unknown, name: unknown) => (typeof alias === 'string' && typeof name === 'string' && Object.hasOwn(PROPS, alias) ? PROPS[alias]![name] : undefined),
  ageMs: (alias: unknown) => (alias === 'imu' ? 150 : alias === 'bno' ? 900 : undefined),
  arr: () => [1, [2, 3]],
  obj: () => ({ k: 1 }),
  nothing: () => undefined,
  sample: { value: 3, key: 'k', fields: { a: 1 } },
};
const RULE_OPTIONS: FastOptions = { callBindings: true };

const MOUSE = mouseRule({ imu: 'urn:x:imu', bno: 'urn:x:bno', robot: 'urn:x:robot' });
const MOUSE_EXPRESSIONS: string[] = [MOUSE.condition as string, ...(MOUSE.actions as Array<Record<string, string>>).map((a) => a.value ?? a.input!)];
const FILTER = 'value > -100 and value < 100';

const CORPUS: string[] = [
  ...MOUSE_EXPRESSIONS,
  FILTER,
  // test/rules, test/virtual
  'value < 18',
  'state + 1',
  'value',
  'state',
  'value + 1',
  'value.dt',
  'value.left & "-" & value.right',
  'value > -40 and value < 80',
  'value.max - value.min',
  '1',
  '{"percent": 500}',
  // literals
  '0', '-0', '-5', '1.5e3', '1e308', '"x"', '""', 'true', 'false', 'null', '()', '[]', '{}',
  // paths
  'a', 'a.b', 'a.b.c', 'o.p', 'o.q.r', 'arr[0]', 'arr[1]', 'arr[-1]', 'arr[-2]', 'arr[-9]', 'arr[9]', 'arr[0.5]', 'nest[0]', 'nest[1]', 'nest[0].p', 'objs[0].p', 'objs[-1].p', 'n[0]', 'n[1]', 'n[-1]', 's[0]', 'z[0]', 'x[0]', 'e[0]', 'one.p', 'e.p', 'arr.p', 'nest.p', 'objs.p', 'n.p', 's.length', 'o.constructor', 'o.toString', 'trigger.thing', 'outputs.position[0]', 'outputs.position[2]', '`a b`', 'o.`p`',
  // variables
  '$x', '($x := 1; $x + 2)', '($x := o; $x.p)', '($x := o.q; $x.r)', '($x := arr; $x[0])', '($x := 1; ($x := 2); $x)', '($x := 1; ($x := $x + 1; $x) + $x)', '($x := $sample.value; $x * 2)', '$sample.fields.a', '$sample.value > 2', '($y := $x; $x := 1; [$y, $x])', '$x := 3', '($a := n; $b := $a * 2; $c := $b - $a; [$a, $b, $c])',
  // arithmetic
  'n + 1', 'n - s', 'n * n', 'n / 0', '0 / 0', 'n % 3', '-5 % 3', '5.5 % -2', 'n / 3', 'big * 10', '-big * 10', 'x + 1', '1 + x', 'z + 1', 't + 1', 's + 1', '"5" + 1', 'arr + 1', 'one + 1', '-n', '-x', '-z', '-s', '-(-0)', '0 * -1', '-arr', '-one', 'n - 0.1 * 3', '0.1 + 0.2', '1e-7 * 1e-7', '9007199254740993 + 1',
  // comparisons
  'n = 5', 'n != 5', 'x = x', 'x != 1', 'z = null', 'null = null', 'arr = [1, 2]', 'o = {}', 'e = []', 'e = {}', '{} = []', 'o = o', 'one = 1', 'nest = [[1, 2], 3]', 's = "x"', 'n = "5"', 't = true', 'n < 6', 'n <= 5', 'n > 5', 'n >= 5', 's < "y"', 's > ""', 'x < 1', '1 < x', 'z < 1', 't < 1', '"a" < 1', 'arr < 1', 'one < 2', 'o < 1', '-0 = 0', '"a" <= "a"',
  // boolean
  'a and b', 'n and s', 'x and true', 'x or true', 'x or x', 'e and true', 'e or o', 'arr and true', 'one or false', 'zero or zero', 'z or empty', 'objs and 1', 'nest and 1', 'n > 1 and n < 10', 'n > 1 or $nope', 'false and $nope', 'true or $nope',
  // condition
  'n ? 1 : 2', 'x ? 1 : 2', 'z ? 1 : 2', 'e ? 1 : 2', 'o ? 1 : 2', 'arr ? 1', 'x ? 1', 'n > 4 ? "big" : "small"', 'n ? (s ? 1 : 2) : 3',
  // concatenation
  '"a" & "b"', '"a" & x', 'x & x', 's & s', 's & n', 'n & "a"', 'z & "a"', 'arr & ""',
  // arrays, objects
  '[1, 2, 3]', '[a]', '[arr]', '[arr, n]', '[nest]', '[e]', '[x]', '[[x]]', '[[]]', '[(e)]', '[[1, 2], 3]', '[(arr)]', '[o, z, t]', '[objs]', '[x, n, x]', '{"k": x}', '{"k": x, "j": 1}', '{"a": e}', '{"a": arr, "b": {"c": n}}', '{"pose": [n, 0, 3.14159], "velocity": 1}', '{"k": [x]}',
  // functions
  '$exists(x)', '$exists(n)', '$exists(z)', '$exists(e)', '$exists(a.x)', '$not(x)', '$not(n)', '$not(e)', '$not(arr)', '$boolean(x)', '$boolean(e)', '$boolean(o)', '$boolean(s)', '$boolean(zero)', '$boolean(objs)', '$boolean([0, ""])', '$boolean([0, 1])', '$boolean([[0]])',
  '$round(n)', '$round(2.5)', '$round(3.5)', '$round(-2.5)', '$round(-0.5)', '$round(0.125, 2)', '$round(2.675, 2)', '$round(1234.5, -1)', '$round(1e300, 10)', '$round(x)', '$round(n, x)', '$round(s)', '$round(1.23456789e-7, 9)', '$round(-0.0001, 2)',
  '$abs(-n)', '$abs(x)', '$abs(s)', '$abs(arr)', '$abs([5])', '$floor(-2.5)', '$ceil(-0.5)', '$floor(x)', '$sqrt(16)', '$sqrt(-1)', '$sqrt(x)', '$power(2, 10)', '$power(10, 400)', '$power(2, x)', '$power(x, 2)', '$power(-8, 1/3)', '$number(n)', '$number(x)', '$number(s)', '$number("5")', '$number(t)', '$string(s)', '$string(x)', '$string(n)', '$string(o)',
  '$clamp(n, 0, 3)', '$clamp(s, 0, 3)', '$sin(n)', '$prop("imu", "roll")', '$prop("bno", "roll") / 100', '$ageMs("imu") > 200', '$ageMs("nope")', '$arr()', '[$arr()]', '$arr()[0]', '$obj().k', '$nothing()', '$exists($nothing())', '$unbound(1)', '$round(n, 1, 2)', '$exists()',
  // outside the subset or unusual: must still agree (jsonata answers, fast refuses or falls back)
  '$sum(arr)', 'arr[0][1]', '$', '$$', 'a.*', '**.p', '$string', '$sin',
];

const INPUTS: unknown[] = [
  { a: { b: { c: 1 } }, b: true, n: 5, s: 'x', z: null, t: true, o: { p: 1, q: { r: 'x' } }, arr: [1, 2], nest: [[1, 2], 3], objs: [{ p: 1 }, { p: 2 }], e: [], one: [7], zero: 0, empty: '', big: 1e308, value: 42, state: 1, trigger: { kind: 'property', thing: 'imu' }, outputs: { position: [0.55, 40, 30] }, 'a b': 'space' },
  { n: 'five', s: 5, o: [1], arr: 'no', nest: {}, objs: [], value: -100, state: 'x', trigger: { thing: 'bno' }, outputs: { position: [[0.5], 1, 2] }, a: [{ b: { c: 2 } }], one: [[1]] },
  { value: { dt: 3, left: 'l', right: 'r', max: 5, min: 1 }, n: -0, s: '', o: {}, arr: [], e: [0], one: [{ p: 'one' }], zero: [0, 0], trigger: { thing: 'imu' }, outputs: {} },
  { value: 99.5, n: 0.1, arr: [-1, -2, -3], o: { p: null, q: null }, nest: [[], [[]]], a: { b: [] } },
  { value: '50', n: 1e21, s: 'imu', z: 0, x: 1, t: false, big: -1e308, trigger: {}, outputs: { position: 'p' } },
  {},
  null,
  7,
  'str',
  [1, 2],
  undefined,
];

type Outcome = { threw: true; error: unknown } | { threw: false; value: unknown };

async function viaJsonata(expr: ReturnType<typeof jsonata>, input: unknown, bindings: Record<string, unknown>): Promise<Outcome> {
  try {
    return { threw: false, value: await expr.evaluate(input, bindings) };
  } catch (error) {
    return { threw: true, error };
  }
}

function viaFast(fast: FastExpression, input: unknown, bindings: Record<string, unknown>): Outcome {
  try {
    return { threw: false, value: fast.evaluate(input, bindings) };
  } catch (error) {
    return { threw: true, error };
  }
}

const normalise = (v: unknown): unknown => (v === undefined ? '<undefined>' : typeof v === 'number' ? (Object.is(v, -0) ? '<-0>' : v) : JSON.parse(JSON.stringify(v)));

interface Tally { cases: number; answered: number; fellBack: number; refused: number }

interface Compiled { src: string; expr: ReturnType<typeof jsonata>; fast: FastExpression | undefined }

function prepare(src: string, options: FastOptions = RULE_OPTIONS): Compiled {
  let expr: ReturnType<typeof jsonata>;
  try {
    expr = jsonata(src);
  } catch {
    throw new Error(`the corpus holds an expression that does not parse: ${src}`);
  }
  return { src, expr, fast: compileFast(expr.ast(), options) };
}

/** One case: a fast answer equals jsonata's; when jsonata throws, the fast path throws too. */
async function check({ src, expr, fast }: Compiled, input: unknown, tally: Tally, bindings = BINDINGS): Promise<void> {
  tally.cases += 1;
  if (!fast) {
    tally.refused += 1;
    return;
  }
  const quick = viaFast(fast, input, bindings);
  const slow = await viaJsonata(expr, input, bindings);
  if (quick.threw) {
    tally.fellBack += 1;
    if (quick.error !== FALLBACK) expect.fail(`${src} on ${JSON.stringify(input)}: threw ${String(quick.error)}, not FALLBACK`);
    return;
  }
  tally.answered += 1;
  if (slow.threw) expect.fail(`${src} on ${JSON.stringify(input)}: fast answered ${JSON.stringify(quick.value)}, jsonata threw ${(slow.error as { code?: string }).code}`);
  const a = normalise(quick.value);
  const b = normalise(slow.value);
  if (!isDeepStrictEqual(a, b)) expect(a, `${src} on ${JSON.stringify(input)}`).toEqual(b);
}

const tally = (): Tally => ({ cases: 0, answered: 0, fellBack: 0, refused: 0 });

describe('fast JSONata subset', () => {
  it('accepts the mouse rule expressions and the virtual filter (the fast path is really used) and answers them as jsonata does', async () => {
    for (const src of [...MOUSE_EXPRESSIONS, FILTER]) expect(compileFast(jsonata(src).ast(), RULE_OPTIONS), src).toBeDefined();
    expect(compileFast(jsonata(FILTER).ast())).toBeDefined();
    const input = { trigger: { kind: 'property', thing: 'imu' }, value: 30, outputs: { position: [0.55, 40, 30] } };
    for (const src of [...MOUSE_EXPRESSIONS, FILTER]) {
      const fast = compileFast(jsonata(src).ast(), RULE_OPTIONS)!;
      const value = fast.evaluate(input, BINDINGS);
      expect(value, src).not.toBeUndefined();
      expect(normalise(value), src).toEqual(normalise(await jsonata(src).evaluate(input, BINDINGS)));
    }
  });

  it('refuses expressions outside the subset', () => {
    const outside = ['$sum(arr)', 'a.*', '**', 'arr[n > 1]', 'arr[0][1]', 'arr^(>$)', 'a ~> $sum()', 'function($x) { $x }', '$', '$$', '[1..3]', 'a.%.b', 'n in [1, 2]', '$substring(s, 1)', 'a{b: c}', '$x[0]', '[1, 2][0]', '(a).b', 'a.(b)', '{a: 1}', '{"k": 1, "k": 2}', 'a[]', '"a" ~> $uppercase()', 'a@$x', 'a#$i', '[$x := 1, $x]', '$x := $y := 1', 'arr[$]', 'a.b[0][0]', '$__hubBudget', '$match(s, /a/)', '$exists()', '$round(1, 2, 3)', '$abs()'];
    for (const src of outside) expect(compileFast(jsonata(src).ast(), { callBindings: false }), src).toBeUndefined();
    // a free variable that is no binding may be one of JSONata's functions: accepted, but it falls back
    expect(() => compileFast(jsonata('$string').ast())!.evaluate({}, {})).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
    // calls to bound functions only when the caller says its bindings are synchronous functions
    expect(compileFast(jsonata('$sin(1)').ast())).toBeUndefined();
    expect(compileFast(jsonata('$sin(1)').ast(), RULE_OPTIONS)).toBeDefined();
    // the node cap and the depth bound
    expect(compileFast(jsonata(Array.from({ length: 300 }, (_, i) => String(i)).join(' + ')).ast())).toBeUndefined();
    expect(compileFast(jsonata('1 + (2 + (3 + 4))').ast(), { maxDepth: 3 })).toBeUndefined();
    expect(compileFast(jsonata('1 + 2').ast(), { maxDepth: 3 })).toBeDefined();
  });

  it('agrees with jsonata on the corpus times the inputs', async () => {
    const t = tally();
    for (const src of CORPUS) {
      const c = prepare(src);
      for (const input of INPUTS) await check(c, input, t);
    }
    // without callable bindings (virtual sensors): builtins only, a shadowing binding falls back
    for (const src of CORPUS) {
      const c = prepare(src, {});
      for (const input of INPUTS.slice(0, 4)) await check(c, input, t, { sample: BINDINGS.sample, round: () => 1 });
    }
    console.log(`corpus: ${CORPUS.length} expressions, ${t.cases} cases: ${t.answered} answered by the fast path, ${t.fellBack} fell back, ${t.refused} refused at compile time`);
    expect(t.cases).toBeGreaterThan(3000);
    expect(t.answered).toBeGreaterThan(t.cases / 3);
    expect(t.fellBack).toBeGreaterThan(50);
  }, 120_000);

  it('falls back on a binding that answers a Promise, shadows a builtin it may not call, or throws', () => {
    const fast = compileFast(jsonata('$f(1)').ast(), RULE_OPTIONS)!;
    expect(() => fast.evaluate({}, { f: async () => 1 })).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
    expect(() => fast.evaluate({}, { f: () => { throw new Error('x'); } })).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
    expect(() => fast.evaluate({}, { f: 1 })).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
    expect(() => fast.evaluate({}, {})).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
    expect(fast.evaluate({}, { f: (x: number) => x + 1 })).toBe(2);
    const round = compileFast(jsonata('$round(2.5)').ast())!;
    expect(round.evaluate({}, {})).toBe(2);
    expect(() => round.evaluate({}, { round: () => 7 })).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
    // the string and array bounds of a caller
    expect(() => compileFast(jsonata('s & s').ast(), { maxString: 3 })!.evaluate({ s: 'ab' })).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
    expect(() => compileFast(jsonata('[arr, arr]').ast(), { maxArray: 3 })!.evaluate({ arr: [1, 2] })).toThrow(expect.objectContaining({ fastJsonataFallback: true }));
  });

  it('agrees with jsonata on thousands of seeded random expressions of the subset', async () => {
    const t = tally();
    const rnd = prng(20261203);
    for (let i = 0; i < 4000; i++) {
      const src = generate(rnd, 4, []);
      const c = prepare(src);
      if (!c.fast) expect.fail(`the subset refused a generated expression: ${src}`);
      for (let j = 0; j < 4; j++) await check(c, randomInput(rnd), t);
    }
    console.log(`random: ${t.cases} cases: ${t.answered} answered by the fast path, ${t.fellBack} fell back`);
    expect(t.cases).toBe(16_000);
    expect(t.answered).toBeGreaterThan(t.cases / 4);
  }, 300_000);

  it('$round matches jsonata on random numbers and precisions (half to even, the decimal shift)', async () => {
    const rnd = prng(7);
    const expr = jsonata('$round(x, p)');
    const fast = compileFast(expr.ast())!;
    let answered = 0;
    for (let i = 0; i < 5000; i++) {
      const x = i % 3 === 0 ? Math.round((rnd() - 0.5) * 2e7) / 1e6 + (rnd() < 0.5 ? 5e-7 : 0) : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 44 - 22);
      const p = i % 5 === 0 ? pick(rnd, [0, 0.5, -0.5, 23, -23, 30]) : Math.floor(rnd() * 45) - 22;
      const t = tally();
      await check({ src: `$round(${x}, ${p})`, expr, fast }, { x, p }, t);
      answered += t.answered;
    }
    expect(answered).toBeGreaterThan(4000);
  }, 120_000);

  it('the wrappers keep their limits and answers on the fast path', async () => {
    // rules: depth budget, result size, a Promise-returning binding through jsonata
    await expect(compile('1 + (2 + (3 + 4))', { timeMs: 50, depth: 3, resultChars: 1000 }).evaluate({})).rejects.toMatchObject({ code: 'expression-too-deep' });
    await expect(compile('[s, s, s]', { timeMs: 50, depth: 50, resultChars: 10 }).evaluate({ s: 'abcdef' })).rejects.toMatchObject({ code: 'expression-result' });
    await expect(compile('s', { timeMs: 50, depth: 50, resultChars: 1 }).evaluate({ s: 'abcdef' })).rejects.toMatchObject({ code: 'expression-result' });
    await expect(compile('$f(2) + 1').evaluate({}, { f: (async (x: number) => x * 2) as never })).resolves.toBe(5);
    await expect(compile('n + 1').evaluate({ n: 1 })).resolves.toBe(2);
    await expect(compile('n + 1').evaluate({ n: 'x' })).rejects.toMatchObject({ code: 'expression-failed' });
    // A fast-path expression that falls back at run time gets JSONata made again (compile drops it), with the hooks:
    // the 48-character intermediate string is over the bound although the result ("false") is short.
    const twice = compile(`$f(1) & ((s & s & s) = '')`, { timeMs: 50, depth: 50, resultChars: 10 });
    for (let i = 0; i < 2; i++) await expect(twice.evaluate({ s: 'abcdefghijklmnop' }, { f: (async () => '') as never })).rejects.toMatchObject({ code: 'expression-result' });
    await expect(twice.evaluate({ s: 'ab' }, { f: (async () => '') as never })).resolves.toBe('false');
    // virtual sensors: the answer, a jsonata error, the depth bound
    await expect(compileExpression(FILTER, '/w').evaluate({ value: 5 })).resolves.toBe(true);
    await expect(compileExpression('value + 1', '/w').evaluate({ value: 'x' })).rejects.toMatchObject({ code: 'expression-failed' });
    await expect(compileExpression('1 + (2 + (3 + 4))', '/w', { maxLength: 100, timeoutMs: 100, maxDepth: 3, maxSequence: 100, maxRange: 10 }).evaluate({})).rejects.toMatchObject({ code: 'expression-bound' });
    await expect(compileExpression('$sample.value * 2', '/w').evaluate({}, { sample: { value: 4 } })).resolves.toBe(8);
  });
});


const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const NUMBERS = [0, 1, 2, 3, -1, 0.5, 1.5, 2.5, -2.5, 100, 1e308, 1e-7, 123456.789, 9007199254740993];
const PATHS = ['a', 'b', 'n', 's', 'z', 'x', 'o.p', 'o.q', 'o.q.r', 'arr', 'arr[0]', 'arr[-1]', 'arr[2]', 'arr[0].p', 'nest[0]', 'nest[1]', 'e', 'e[0]', 'one', 'one.p', 'v.w', 'trigger.thing', 'outputs.position[1]'];
const BINARY = ['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', 'and', 'or', '&'];
const CALLS: Array<[string, number]> = [['exists', 1], ['not', 1], ['boolean', 1], ['round', 1], ['round', 2], ['abs', 1], ['floor', 1], ['ceil', 1], ['sqrt', 1], ['power', 2], ['number', 1], ['string', 1], ['clamp', 3], ['sin', 1], ['prop', 2], ['ageMs', 1], ['arr', 0], ['nothing', 0]];

function generate(r: () => number, depth: number, vars: string[]): string {
  const leaf = (): string => {
    const k = r();
    if (k < 0.25) return String(pick(r, NUMBERS));
    if (k < 0.35) return JSON.stringify(pick(r, ['', 'a', 'imu', '5', 'x']));
    if (k < 0.42) return pick(r, ['true', 'false', 'null']);
    if (k < 0.52 && vars.length) return `$${pick(r, vars)}`;
    if (k < 0.53) return '$unbound';
    return pick(r, PATHS);
  };
  if (depth <= 0 || r() < 0.2) return leaf();
  const sub = () => generate(r, depth - 1, vars);
  const paren = (s: string) => (r() < 0.5 ? `(${s})` : s);
  const k = r();
  if (k < 0.35) return paren(`${sub()} ${pick(r, BINARY)} ${sub()}`);
  if (k < 0.42) return `-(${sub()})`;
  if (k < 0.52) return paren(r() < 0.7 ? `${sub()} ? ${sub()} : ${sub()}` : `${sub()} ? ${sub()}`);
  if (k < 0.62) return `[${Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.2 ? `[${sub()}]` : sub())).join(', ')}]`;
  if (k < 0.68) return `{${Array.from({ length: Math.floor(r() * 3) }, (_, i) => `"k${i}": ${sub()}`).join(', ')}}`;
  if (k < 0.85) {
    const [name, arity] = pick(r, CALLS);
    return `$${name}(${Array.from({ length: arity }, sub).join(', ')})`;
  }
  const v = `v${vars.length}`;
  const inner = [...vars, v];
  const bodyVar = pick(r, inner);
  return `($${v} := ${sub()}; ${r() < 0.5 ? `$${bodyVar}.w` : generate(r, depth - 1, inner)})`;
}

const VALUES: unknown[] = [0, -0, 1, -1, 2.5, 0.5, 1.5, 5, 1e308, -1e308, 123456789.123, 1e-7, '', 'a', 'imu', '5', true, false, null, [], [1], [1, 2], [[1]], ['a'], [{ p: 1 }], [{ p: 1 }, { p: 2 }], {}, { p: 1 }, { p: { r: 2 } }, { q: { r: 'x' } }, { w: 3 }, { w: [4] }];

function randomInput(r: () => number): unknown {
  if (r() < 0.03) return pick(r, [null, 5, 'x', [1], undefined]);
  const out: Record<string, unknown> = {};
  for (const k of ['a', 'b', 'n', 's', 'z', 'x', 'o', 'arr', 'nest', 'e', 'one', 'v', 'trigger', 'outputs']) if (r() < 0.7) out[k] = pick(r, VALUES);
  if (r() < 0.5) out.o = { p: pick(r, VALUES), q: r() < 0.5 ? { r: pick(r, VALUES) } : pick(r, VALUES) };
  if (r() < 0.5) out.arr = Array.from({ length: Math.floor(r() * 4) }, () => pick(r, VALUES));
  if (r() < 0.3) out.trigger = { thing: pick(r, ['imu', 'bno', 5]) };
  if (r() < 0.3) out.outputs = { position: pick(r, [[0.5, 45, 10], [1], 'p', [[1], 2]]) };
  return out;
}
