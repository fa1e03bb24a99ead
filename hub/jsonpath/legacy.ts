// Legacy `[?(...)]` filters (the jsonpath-plus form older mapfiles use) translated to RFC 9535 filters with the same meaning; never evaluated.
import { JsonPathError } from '../errors.ts';
import { MAX_NESTING, MAX_QUERY_LENGTH } from './evaluator.ts';

type Tok = { kind: 'path' | 'lit' | 'op' | 'paren'; text: string; at: number; nullish?: 'null' | 'undefined' };
type Node = { kind: 'test'; path: string } | { kind: 'lit'; tok: Tok } | { kind: 'cmp'; op: string; left: Node; right: Node } | { kind: 'and' | 'or'; left: Node; right: Node } | { kind: 'not'; e: Node } | { kind: 'group'; e: Node };

const OPS = ['===', '!==', '==', '!=', '>=', '<=', '&&', '||', '>', '<', '!'];
const NAME = /[A-Za-z0-9_$\u0080-\uffff]/;

function refuse(text: string, at: number, why: string): never {
  throw new JsonPathError('jsonpath-syntax', `Invalid JSONPath '${text}' at offset ${at}: ${why}`, { extensions: { offset: at } });
}

/** Reads a quoted string from `i` (the quote); returns the index after its closing quote. */
function skipString(s: string, i: number): number {
  const q = s[i];
  for (let j = i + 1; j < s.length; j += 1) {
    if (s[j] === '\\') j += 1;
    else if (s[j] === q) return j + 1;
  }
  return -1;
}

/** A singular query in a legacy filter: `@` or `$`, then `.name`, `['name']`, `["name"]` or `[n]` segments. */
function readPath(text: string, s: string, i: number, base: number): number {
  let j = i + 1;
  for (;;) {
    if (s[j] === '.' && NAME.test(s[j + 1] ?? '')) {
      const start = j + 1;
      j = start;
      while (j < s.length && NAME.test(s[j]!)) j += 1;
      const name = s.slice(start, j);
      let k = j;
      while (s[k] === ' ') k += 1;
      if (s[k] === '(') refuse(text, base + start, `'${name}(...)' is a JavaScript method call, not JSONPath`);
      if (name === 'length') refuse(text, base + start, "'.length' is JavaScript; RFC 9535 writes length(@.x) (or @['length'] for a member)");
    } else if (s[j] === '[') {
      let k = j + 1;
      while (s[k] === ' ') k += 1;
      if (s[k] === "'" || s[k] === '"') {
        k = skipString(s, k);
        if (k < 0) refuse(text, base + j, 'unterminated string');
      } else {
        const m = /^-?\d+/.exec(s.slice(k));
        if (!m) refuse(text, base + j, 'a legacy filter reads members by name or index only');
        k += m[0].length;
      }
      while (s[k] === ' ') k += 1;
      if (s[k] !== ']') refuse(text, base + k, "']' expected");
      j = k + 1;
    } else break;
  }
  if (NAME.test(s[j] ?? '') && j === i + 1) refuse(text, base + i, `'${s[i]}${s.slice(j).split(/[^A-Za-z0-9_$]/)[0]}' is a jsonpath-plus extension, not JSONPath`);
  return j;
}

function tokenize(text: string, s: string, base: number): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i += 1;
    } else if (c === '@' || c === '$') {
      const j = readPath(text, s, i, base);
      out.push({ kind: 'path', text: s.slice(i, j), at: base + i });
      i = j;
    } else if (c === "'" || c === '"') {
      const j = skipString(s, i);
      if (j < 0) refuse(text, base + i, 'unterminated string');
      out.push({ kind: 'lit', text: s.slice(i, j), at: base + i });
      i = j;
    } else if (c === '(' || c === ')') {
      out.push({ kind: 'paren', text: c, at: base + i });
      i += 1;
    } else {
      const num = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(s.slice(i));
      const word = /^[A-Za-z_$][\w$]*/.exec(s.slice(i));
      const op = OPS.find((o) => s.startsWith(o, i));
      if (num && !(c === '-' && out.length && out[out.length - 1]!.kind !== 'op' && out[out.length - 1]!.text !== '(')) {
        out.push({ kind: 'lit', text: num[0], at: base + i });
        i += num[0].length;
      } else if (word && ['true', 'false', 'null', 'undefined'].includes(word[0])) {
        const w = word[0];
        out.push({ kind: 'lit', text: w === 'undefined' ? 'null' : w, at: base + i, nullish: w === 'null' || w === 'undefined' ? w : undefined });
        i += w.length;
      } else if (op) {
        out.push({ kind: 'op', text: op, at: base + i });
        i += op.length;
      } else refuse(text, base + i, `'${word?.[0] ?? c}' is JavaScript, not a JSONPath filter`);
    }
  }
  return out;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly text: string, private readonly toks: Tok[], private readonly end: number) {}
  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private fail(why: string): never {
    refuse(this.text, this.peek()?.at ?? this.end, why);
  }
  parse(): Node {
    const e = this.or();
    if (this.i !== this.toks.length) this.fail(`unexpected '${this.peek()!.text}'`);
    return e;
  }
  private or(): Node {
    let left = this.and();
    while (this.peek()?.text === '||') {
      this.i += 1;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }
  private and(): Node {
    let left = this.not();
    while (this.peek()?.text === '&&') {
      this.i += 1;
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }
  private not(): Node {
    if (this.peek()?.text === '!') {
      this.i += 1;
      return { kind: 'not', e: this.not() };
    }
    return this.primary();
  }
  private primary(): Node {
    const t = this.peek();
    if (!t) this.fail('an expression is expected');
    if (t.text === '(') {
      this.i += 1;
      if (++this.depth > MAX_NESTING) this.fail(`parentheses nest deeper than ${MAX_NESTING}`);
      const e = this.or();
      this.depth -= 1;
      if (this.peek()?.text !== ')') this.fail("')' expected");
      this.i += 1;
      return { kind: 'group', e };
    }
    const left = this.operand();
    const op = this.peek();
    if (op?.kind === 'op' && ['===', '!==', '==', '!=', '>=', '<=', '>', '<'].includes(op.text)) {
      this.i += 1;
      return { kind: 'cmp', op: op.text, left, right: this.operand() };
    }
    if (left.kind !== 'test') this.fail('a literal alone is not a filter');
    return left;
  }
  private operand(): Node {
    const t = this.peek();
    if (!t || (t.kind !== 'path' && t.kind !== 'lit')) this.fail('a path or a literal is expected');
    this.i += 1;
    return t.kind === 'path' ? { kind: 'test', path: t.text } : { kind: 'lit', tok: t };
  }
}

/** JavaScript truthiness of a member, which the legacy filters tested: present and not null, false, 0 or "". */
const truthy = (p: string): string => `(${p} && ${p} != null && ${p} != false && ${p} != 0 && ${p} != '')`;

function emit(n: Node): string {
  switch (n.kind) {
    case 'test':
      return truthy(n.path);
    case 'lit':
      return n.tok.text;
    case 'group':
      return `(${emit(n.e)})`;
    case 'not':
      return `!(${emit(n.e)})`;
    case 'and':
      return `${emit(n.left)} && ${emit(n.right)}`;
    case 'or':
      return `${emit(n.left)} || ${emit(n.right)}`;
    case 'cmp': {
      const path = n.left.kind === 'test' ? n.left.path : n.right.kind === 'test' ? n.right.path : undefined;
      const lit = n.left.kind === 'lit' ? n.left.tok : n.right.kind === 'lit' ? n.right.tok : undefined;
      const side = (x: Node): string => (x.kind === 'test' ? x.path : (x as { tok: Tok }).tok.text);
      if (path !== undefined && lit?.nullish) {
        // JavaScript: `x == null` holds for absent and null, `x === null` for null only, `x === undefined` for absent only.
        const absent = `!${path}`;
        const isNull = `${path} == null`;
        const m: Record<string, string> =
          lit.nullish === 'null'
            ? { '==': `(${absent} || ${isNull})`, '!=': `(${path} && ${path} != null)`, '===': isNull, '!==': `${path} != null` }
            : { '==': `(${absent} || ${isNull})`, '!=': `(${path} && ${path} != null)`, '===': absent, '!==': path };
        if (m[n.op]) return m[n.op]!;
      }
      const op = n.op === '===' ? '==' : n.op === '!==' ? '!=' : n.op;
      return `${side(n.left)} ${op} ${side(n.right)}`;
    }
  }
}

/**
 * Rewrites every legacy filter `[?( <JavaScript-like expression> )]` (the parenthesised form jsonpath-plus evaluated as
 * JavaScript) into an RFC 9535 filter with the meaning it had there: `===`/`!==` become `==`/`!=`, `@.x != null` holds
 * only for a present, non-null member, `@.x` alone tests JavaScript truthiness. Only singular paths, literals,
 * comparisons, `!`, `&&`, `||` and parentheses are accepted; a method call, `.length`, any other operator or identifier
 * throws. Other filters (`[?...]` in RFC form) are left as they are. Comparisons keep RFC 9535 typing (no coercion of
 * '1' to 1, the one difference from the JavaScript meaning).
 *
 * @throws JsonPathError `jsonpath-syntax` with `offset`, naming what is JavaScript rather than JSONPath.
 */
export function translateLegacyFilters(text: string): string {
  // The evaluator's own bounds, checked before translating: the recursive-descent parser below recurses once per
  // parenthesis, so a 30 KB `((((...` would otherwise overflow the stack before parseJsonPath could refuse it.
  if (text.length > MAX_QUERY_LENGTH) throw new JsonPathError('jsonpath-too-complex', `The JSONPath query is longer than ${MAX_QUERY_LENGTH} characters`);
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const j = skipString(text, i);
      if (j < 0) return out + text.slice(i);
      out += text.slice(i, j);
      i = j;
    } else if (c === '[' && text[i + 1] === '?' && text[i + 2] === '(') {
      const close = closingParen(text, i + 2);
      let k = close + 1;
      while (k < text.length && /\s/.test(text[k]!)) k += 1;
      if (close < 0 || text[k] !== ']') {
        // Not the legacy form (e.g. `[?(@.a || @.b) && @.c]`): RFC 9535 syntax, parsed as such.
        out += '[?';
        i += 2;
        continue;
      }
      const inner = text.slice(i + 3, close);
      const ast = new Parser(text, tokenize(text, inner, i + 3), close).parse();
      out += `[?${emit(ast)}]`;
      i = k + 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** The index of the `)` closing the `(` at `open` (quotes skipped), or -1. */
function closingParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i += 1) {
    const c = s[i];
    if (c === "'" || c === '"') {
      const j = skipString(s, i);
      if (j < 0) return -1;
      i = j - 1;
    } else if (c === '(') depth += 1;
    else if (c === ')') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}
