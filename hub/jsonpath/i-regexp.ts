// I-Regexp (RFC 9485) for the JSONPath match() and search() functions, translated to RE2 syntax and run by re2js in linear time.
import { RE2JS } from 're2js';

/** Longest pattern compiled (a pattern can come from the queried document, `match(@, $.regex)`). */
export const MAX_PATTERN_LENGTH = 1000;
/** Deepest group nesting in a pattern; the translator recurses once per group. */
const MAX_GROUP_DEPTH = 64;
/**
 * The work one match may do: input length x program size (repetitions expanded). RE2's NFA costs up to ~10 ns per unit
 * here, so one call stays under ~100 ms; over it, the match throws RegexTooLargeError.
 */
export const MAX_REGEX_WORK = 10_000_000;

// RE2 (Go's tables) has no Cn (unassigned): it is the complement of every assigned category, and C is Cc|Cf|Co|Cs|Cn.
const ASSIGNED = '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Z}\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}';
const NOT_C = '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Z}';
const CATEGORIES = new Set(['L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'Z', 'Zl', 'Zp', 'Zs', 'S', 'Sc', 'Sk', 'Sm', 'So', 'C', 'Cc', 'Cf', 'Cn', 'Co']);
// SingleCharEsc: \( \) \* \+ \- \. \? \[ \\ \] \^ \n \r \t \{ \| \}
const SINGLE_ESC: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09 };
for (const c of '()*+-.?[\\]^{|}') SINGLE_ESC[c] = c.codePointAt(0)!;

class Invalid extends Error {}

const hex = (cp: number): string => `\\x{${cp.toString(16)}}`;
/** One code point as an RE2 literal: letters and digits as is, everything else as `\x{..}` (never a metacharacter). */
const lit = (cp: number): string => ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) ? String.fromCodePoint(cp) : hex(cp));

/** NormalChar of RFC 9485 §3: any scalar value but the metacharacters ( ) * + . ? [ \ ] { | } (and surrogates). */
function isNormal(cp: number): boolean {
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return !(cp === 0x28 || cp === 0x29 || cp === 0x2a || cp === 0x2b || cp === 0x2e || cp === 0x3f || cp === 0x5b || cp === 0x5c || cp === 0x5d || cp === 0x7b || cp === 0x7c || cp === 0x7d);
}

type Piece = { src: string; size: number };

class Translator {
  private i = 0;
  constructor(private readonly cps: number[]) {}

  private peek(): number | undefined {
    return this.cps[this.i];
  }

  translate(): Piece {
    const out = this.regexp(0);
    if (this.i !== this.cps.length) throw new Invalid();
    return out;
  }

  private regexp(depth: number): Piece {
    if (depth > MAX_GROUP_DEPTH) throw new Invalid();
    const branches = [this.branch(depth)];
    while (this.peek() === 0x7c) {
      this.i += 1;
      branches.push(this.branch(depth));
    }
    return { src: branches.map((b) => b.src).join('|'), size: branches.reduce((n, b) => n + b.size + 1, 0) };
  }

  private branch(depth: number): Piece {
    let src = '';
    let size = 0;
    for (let c = this.peek(); c !== undefined && c !== 0x7c && c !== 0x29; c = this.peek()) {
      const atom = this.atom(depth);
      const q = this.quantifier();
      src += atom + q.src;
      size += (atom.startsWith('(?:') ? this.groupSize : 1) * q.times + 1;
    }
    return { src, size };
  }

  /** The size of the last group parsed (the branch multiplies it by its repetition count). */
  private groupSize = 1;

  private quantifier(): { src: string; times: number } {
    const c = this.peek();
    if (c === 0x2a || c === 0x2b || c === 0x3f) {
      this.i += 1;
      return { src: String.fromCodePoint(c), times: 1 };
    }
    if (c !== 0x7b) return { src: '', times: 1 };
    this.i += 1;
    const min = this.digits();
    if (min === '') throw new Invalid();
    let out = `{${min}`;
    let times = Number(min);
    if (this.peek() === 0x2c) {
      this.i += 1;
      const max = this.digits();
      if (max !== '' && Number(max) < Number(min)) throw new Invalid();
      out += `,${max}`;
      times = max === '' ? times + 1 : Number(max);
    }
    if (this.peek() !== 0x7d) throw new Invalid();
    this.i += 1;
    return { src: `${out}}`, times: Math.max(1, times) };
  }

  private digits(): string {
    let s = '';
    for (let c = this.peek(); c !== undefined && c >= 0x30 && c <= 0x39; c = this.peek()) {
      s += String.fromCodePoint(c);
      this.i += 1;
    }
    return s;
  }

  private atom(depth: number): string {
    const c = this.peek()!;
    this.i += 1;
    if (c === 0x28) {
      const inner = this.regexp(depth + 1);
      if (this.peek() !== 0x29) throw new Invalid();
      this.i += 1;
      this.groupSize = inner.size;
      return `(?:${inner.src})`;
    }
    // RFC 9485 §5.3: '.' is any character but \n and \r; ^ and $ anchor, as in the ECMAScript mapping the CTS checks.
    // An anchor takes no quantifier (ECMAScript refuses `^*` too).
    if (c === 0x2e) return '[^\\n\\r]';
    if (c === 0x5e || c === 0x24) {
      const q = this.peek();
      if (q === 0x2a || q === 0x2b || q === 0x3f || q === 0x7b) throw new Invalid();
      return c === 0x5e ? '^' : '$';
    }
    if (c === 0x5b) return this.charClass();
    if (c === 0x5c) {
      const p = this.property();
      if (p) return p.top;
      return lit(this.singleEscape());
    }
    if (!isNormal(c)) throw new Invalid();
    return lit(c);
  }

  private singleEscape(): number {
    const c = this.peek();
    this.i += 1;
    const cp = c === undefined ? undefined : SINGLE_ESC[String.fromCodePoint(c)];
    if (cp === undefined) throw new Invalid();
    return cp;
  }

  /** After a backslash: `p{..}` / `P{..}` as { top-level form, in-class form (undefined when RE2 cannot nest it) }. */
  private property(): { top: string; inClass?: string } | undefined {
    const c = this.peek();
    if (c !== 0x70 && c !== 0x50) return undefined;
    if (this.cps[this.i + 1] !== 0x7b) throw new Invalid();
    const end = this.cps.indexOf(0x7d, this.i + 2);
    if (end < 0) throw new Invalid();
    const name = String.fromCodePoint(...this.cps.slice(this.i + 2, end));
    if (!CATEGORIES.has(name)) throw new Invalid();
    this.i = end + 1;
    const negated = c === 0x50;
    if (name === 'Cn') return negated ? { top: `[${ASSIGNED}]`, inClass: ASSIGNED } : { top: `[^${ASSIGNED}]` };
    if (name === 'C') return negated ? { top: `[${NOT_C}]`, inClass: NOT_C } : { top: `[^${NOT_C}]` };
    const p = `\\${negated ? 'P' : 'p'}{${name}}`;
    return { top: p, inClass: p };
  }

  /** charClassExpr: "[" ["^"] ("-" / CCE1) *CCE1 ["-"] "]"; CCE1 = CCchar ["-" CCchar] / charClassEsc. */
  private charClass(): string {
    let negated = false;
    if (this.peek() === 0x5e) {
      negated = true;
      this.i += 1;
    }
    let items = '';
    // \p{Cn} and \p{C} are complements in RE2 and cannot sit inside a class: alternatives beside it.
    const alternatives: string[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new Invalid();
      if (c === 0x5d && !first) {
        this.i += 1;
        break;
      }
      if (c === 0x2d) {
        // A literal '-' only first or last.
        if (!first && this.cps[this.i + 1] !== 0x5d) throw new Invalid();
        this.i += 1;
        items += hex(0x2d);
      } else if (c === 0x5c && (this.cps[this.i + 1] === 0x70 || this.cps[this.i + 1] === 0x50)) {
        this.i += 1;
        const p = this.property()!;
        if (p.inClass !== undefined) items += p.inClass;
        // In a negated class the complement would need an intersection, which RE2 lacks: refused (never matches).
        else if (negated) throw new Invalid();
        else alternatives.push(p.top);
      } else {
        const from = this.ccChar();
        if (this.peek() === 0x2d && this.cps[this.i + 1] !== 0x5d && this.cps[this.i + 1] !== undefined) {
          this.i += 1;
          const to = this.ccChar();
          if (to < from) throw new Invalid();
          items += `${hex(from)}-${hex(to)}`;
        } else items += hex(from);
      }
      first = false;
    }
    if (alternatives.length === 0) return `[${negated ? '^' : ''}${items}]`;
    this.groupSize = alternatives.length + 1;
    return `(?:${[...(items ? [`[${items}]`] : []), ...alternatives].join('|')})`;
  }

  private ccChar(): number {
    const c = this.peek();
    if (c === undefined) throw new Invalid();
    this.i += 1;
    if (c === 0x5c) return this.singleEscape();
    if (c === 0x2d || c === 0x5b || c === 0x5d || (c >= 0xd800 && c <= 0xdfff)) throw new Invalid();
    return c;
  }
}

/**
 * Translates an I-Regexp (RFC 9485) to RE2 syntax, or undefined when the pattern is not a valid I-Regexp (RFC 9535
 * §2.4.6/§2.4.7: match() and search() are then false). Exported for tests and the fuzz helper; never throws.
 */
export function iRegexpToRe2(pattern: string): string | undefined {
  return translate(pattern)?.src;
}

/** The RE2 source and the program size (repetitions expanded) of an I-Regexp; undefined when it is not one. */
function translate(pattern: string): Piece | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return undefined;
  try {
    return new Translator(Array.from(pattern, (ch) => ch.codePointAt(0)!)).translate();
  } catch (e) {
    if (e instanceof Invalid || e instanceof RangeError) return undefined;
    throw e;
  }
}

const NEVER = { matches: () => false, test: () => false, size: 0 };
type Compiled = { matches(s: string): boolean; test(s: string): boolean; size: number };
const compiled = new Map<string, Compiled>();

/** The compiled RE2 program of a pattern (cached; an invalid or uncompilable pattern never matches). */
function compile(pattern: string): Compiled {
  let re = compiled.get(pattern);
  if (re) return re;
  const t = translate(pattern);
  re = NEVER;
  if (t !== undefined) {
    try {
      const p = RE2JS.compile(t.src);
      re = { matches: (s) => p.matches(s), test: (s) => p.test(s), size: Math.max(1, t.size) };
    } catch {
      // RE2 refuses some valid I-Regexps (e.g. a repetition count over 1000): treated as never matching.
      re = NEVER;
    }
  }
  if (compiled.size >= 256) compiled.delete(compiled.keys().next().value!);
  compiled.set(pattern, re);
  return re;
}

/** A match too large to run within the budget (the input times the pattern length); the caller reports it. */
export class RegexTooLargeError extends Error {
  override name = 'RegexTooLargeError';
}

/** Reports the work units (input length x program size) of a match to the caller's budget before it runs. */
export type RegexWork = (units: number) => void;

function run(s: unknown, pattern: unknown, anchored: boolean, onWork?: RegexWork): boolean {
  if (typeof s !== 'string' || typeof pattern !== 'string') return false;
  const re = compile(pattern);
  if (re === NEVER) return false;
  const work = s.length * re.size;
  if (work > MAX_REGEX_WORK) throw new RegexTooLargeError(`A regular expression of ${pattern.length} characters over a string of ${s.length} is over the work budget`);
  onWork?.(work);
  return anchored ? re.matches(s) : re.test(s);
}

/**
 * RFC 9535 §2.4.6 match(): the whole string matches the I-Regexp. Linear time (RE2); non-strings and invalid patterns
 * are false. Throws RegexTooLargeError when the input times the program size is over MAX_REGEX_WORK.
 */
export const iRegexpMatch = (s: unknown, pattern: unknown, onWork?: RegexWork): boolean => run(s, pattern, true, onWork);
/** RFC 9535 §2.4.7 search(): some substring matches the I-Regexp; otherwise as iRegexpMatch. */
export const iRegexpSearch = (s: unknown, pattern: unknown, onWork?: RegexWork): boolean => run(s, pattern, false, onWork);
