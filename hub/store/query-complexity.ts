// Refuses SPARQL texts deep or large enough to trap the engine, before they reach the store: a tokenizer that follows
// the SPARQL 1.1 terminals (§19.8) and only ever over-counts.
//
// Oxigraph (WASM) parses and evaluates recursively on a fixed-size stack, and a trap ("memory access out of bounds")
// breaks every later call on that engine. Measured with oxigraph 0.5.11 on Node 20 (one text, empty store): 1,000 nested
// groups, 1,000 chained OPTIONALs, 5,000 chained UNIONs, 5,000 chained `+`/`-`/`&&`/`!`, 3,000 FILTERs, 1,000 BINDs or
// SELECT expressions, 2,000 path alternatives, 3,000 triple patterns or objects of one subject, 5,000 nested lists or
// blank nodes in INSERT DATA and 2,000 nested `<<` (quoted triples, also in data; in a 16 MB worker too) all trap; 500 BINDs, 2,000 FILTERs and 5,000 flat INSERT DATA operations pass.
//
// Why a tokenizer and not a parse: sparqljs (Jison) needs 0.7 s for 1,000 nested groups (superlinear: 10,000 did not end
// in a minute) and 2.7-5 s for a 2 MB INSERT DATA, on the event loop. This scan is linear and allocation-light.
//
// Why it cannot be switched off: every `{ ( [` outside a string, IRI or comment counts towards depth, in every mode.
// Strings, IRIs, prefixed names (with PN_LOCAL_ESC and PLX) and comments are recognised as the grammar defines them,
// or more leniently where that can only make a token longer than the engine's (the engine then fails there).
// INSERT DATA / DELETE DATA and VALUES blocks are data (no expressions can occur), so only their depth counts; they are
// entered on keyword tokens only, so a prefix named DATA or VALUES (`DATA:g`) is a prefixed name, not a keyword.
// `<` is ambiguous: inside parentheses after an operand it may be the less-than operator, and `<(((1)))&&?b>` is then
// an expression, not an IRI. Such IRI-shaped tokens are also measured as expressions and the larger figure is kept.
import { BadRequestError } from '../errors.ts';

export interface ComplexityLimits {
  /** Deepest nesting of `{`, `(`, `[` and `<<` (anywhere, data included). */
  maxDepth: number;
  /**
   * Most group-forming tokens (`{` outside data, OPTIONAL, UNION, MINUS, FILTER, AS) plus operators (arithmetic,
   * logical, comparison, property path) in one text.
   */
  maxNodes: number;
  /** Most terms (variables, IRIs, literals, blank nodes) outside INSERT/DELETE DATA and VALUES blocks. */
  maxTerms: number;
  /**
   * Most triple patterns in one join scope: a group graph pattern with the groups joined into it (plain `{ }`, GRAPH,
   * SERVICE, sub-SELECTs, UNION branches), counting its RDF lists and `[ ]`; OPTIONAL, MINUS and EXISTS groups are
   * scopes of their own. Oxigraph plans joins in time about the fourth power of their size (measured with 0.5.11, empty
   * store, quiet machine, best of 3: a star of one subject with 32 predicates 13 ms, 48: 48 ms, 64: 230 ms, 124: 3.1 s,
   * 256: 43 s; 62 nested lists (122 patterns) 240-420 ms; two joined groups of 24 cost as one of 48, four of 48 took
   * 15 s; OPTIONAL groups add up instead: 48 OPTIONALs of one pattern 16 ms), so a short text could hold it for seconds.
   */
  maxPatterns: number;
  /** Most planning work over all scopes, as the sum of (patterns / maxPatterns)^4: one full scope is 1. */
  maxPlanCost: number;
  /**
   * Most blank nodes written as `[` or made by RDF list members inside INSERT/DELETE DATA: Oxigraph's parsers slow down
   * superlinearly with them (measured: 20,000 list members in one Turtle document 0.8 s, 100,000 over 90 s).
   */
  maxAnonymous: number;
}

export const DEFAULT_LIMITS: ComplexityLimits = { maxDepth: 128, maxNodes: 500, maxTerms: 1000, maxPatterns: 48, maxPlanCost: 1.5, maxAnonymous: 10_000 };

export interface Complexity {
  depth: number;
  groups: number;
  operators: number;
  terms: number;
  /** Triple patterns of the largest join scope (an estimate that can only over-count; see maxPatterns). */
  patterns: number;
  /** Planning work over all scopes (see maxPlanCost), from the same estimate. */
  planCost: number;
  /** An IRI-shaped token that could also be an expression holding a string (`?a<'x>'...`): refused outright. */
  ambiguous: boolean;
  /** SERVICE clauses without SILENT (SPARQL 1.1 Federated Query): the embedded engine has no HTTP client. */
  service: number;
  /** `[` and RDF list members inside INSERT/DELETE DATA (see ComplexityLimits.maxAnonymous). */
  anonymous: number;
  /**
   * The builtins whose value differs on every evaluation (UUID, STRUUID, RAND), upper-case, each once: an update using
   * them gives each store engine and each replay of the log a different result (EmbeddedQuadStore refuses it).
   */
  nondeterministic: string[];
}

const GROUP_WORDS = new Set(['OPTIONAL', 'UNION', 'MINUS', 'FILTER', 'AS']);
const TERM_WORDS = new Set(['A', 'TRUE', 'FALSE']);
/** SPARQL 1.1 builtins (§17.4.2.8, §17.4.4.5) that draw fresh random values on every call. */
const NONDETERMINISTIC_WORDS = new Set(['UUID', 'STRUUID', 'RAND']);

const enum Prev { Start, Open, Operator, Punct, Operand, Keyword }

/**
 * What a bracket opened: a group graph pattern, a quad template (INSERT/DELETE/CONSTRUCT: never planned), an RDF list
 * or `[ ]` in a pattern, an expression's parentheses (FILTER, BIND, calls, projections), or a data block.
 */
const enum Kind { Group, Template, List, Blank, Expr, Data }

/**
 * One open bracket, for counting triple patterns per group: `pos` is where the next term of a triple block goes
 * (0 subject, 1 predicate, 2+ object: each object is one pattern), `filter` is set after FILTER/BIND until their
 * expression closes, and `group` is the join scope whose count the patterns of this frame add to.
 */
interface Frame {
  kind: Kind;
  pos: number;
  filter: boolean;
  count: number;
  group: Frame | undefined;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** PN_CHARS_BASE, leniently: every non-ASCII code unit (the engine rejects those the grammar does not allow). */
const isNameStart = (c: number) => isAlpha(c) || c >= 0x80;
/** PN_CHARS plus '.', leniently (see isNameStart). */
const isNameChar = (c: number) => isNameStart(c) || isDigit(c) || c === 95 || c === 45 || c === 46;
/** Characters IRIREF excludes: <>"{}|^`\ and #x00-#x20 ('\' only starts \u / \U escapes, which Oxigraph accepts). */
const notInIri = (c: number) => c <= 0x20 || c === 60 || c === 62 || c === 34 || c === 123 || c === 125 || c === 124 || c === 94 || c === 96 || c === 92;

function hexRun(text: string, at: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (!isHex(text.charCodeAt(at + k))) return false;
  return true;
}

/** Length of an ECHAR or UCHAR escape at `at` (which holds '\'), or 0 when it is not one. */
function escapeLength(text: string, at: number): number {
  const c = text[at + 1];
  if (c !== undefined && 'tbnrf"\'\\'.includes(c)) return 2;
  if (c === 'u') return hexRun(text, at + 2, 4) ? 6 : 0;
  if (c === 'U') return hexRun(text, at + 2, 8) ? 10 : 0;
  return 0;
}

/**
 * End of the string literal starting at `i` (STRING_LITERAL1/2, STRING_LITERAL_LONG1/2); -1 on a bad escape; -2 - p when
 * it is unterminated, p being where the scan stopped (the line end for the short forms, the text end for the long ones).
 */
function stringEnd(text: string, i: number): number {
  const q = text.charCodeAt(i);
  const long = text.charCodeAt(i + 1) === q && text.charCodeAt(i + 2) === q;
  // The engine commits to the long form on three quotes (measured: `'''a` is an error, not '' followed by 'a).
  let j = long ? i + 3 : i + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 92) {
      const n = escapeLength(text, j);
      if (n === 0) return -1;
      j += n;
    } else if (c === q && (!long || (text.charCodeAt(j + 1) === q && text.charCodeAt(j + 2) === q))) {
      return long ? j + 3 : j + 1;
    } else if (!long && (c === 10 || c === 13)) {
      return -2 - j;
    } else j++;
  }
  return -2 - text.length;
}

/** End of the IRIREF starting at `i` ('<'), or -1. */
function iriEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 62) return j + 1;
    if (c === 92) {
      const n = text[j + 1] === 'u' || text[j + 1] === 'U' ? escapeLength(text, j) : 0;
      if (n === 0) return -1;
      j += n;
    } else if (notInIri(c)) return -1;
    else j++;
  }
  return -1;
}

/** End of a PN_LOCAL starting at `j` (after the ':'): name chars, ':', PLX and PN_LOCAL_ESC, leniently. */
function localEnd(text: string, j: number): number {
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (isNameChar(c) || c === 58 || c === 37) j++;
    else if (c === 92 && j + 1 < text.length) j += 2; // PN_LOCAL_ESC: '\' and the escaped character
    else break;
  }
  return j;
}

interface State extends Complexity {
  stack: number[];
  /** Stack height at which the current data block (INSERT/DELETE DATA, VALUES) opened; -1 outside. */
  dataAt: number;
  /** Whether that block is INSERT/DELETE DATA (true) or VALUES (false). */
  quadData: boolean;
  /**
   * Per quote kind ('"', "'", and their long forms + 256): no string of that kind opening before this position ends.
   * Found once by a scan that reached the line or text end; later openers are then not strings (their text is counted:
   * over-counting is safe), which keeps the scan linear on texts full of unterminated quotes.
   */
  unclosed: Map<number, number>;
  /** 1 after INSERT/DELETE, 2 after INSERT DATA / DELETE DATA, 3 after VALUES (until its block opens), 4 after SERVICE, 5 after CONSTRUCT (its template is not a pattern), 6 after OPTIONAL/MINUS/EXISTS (a new join scope). */
  pending: number;
  prev: Prev;
  /** Open `<<` (quoted triples) not yet closed by `>>`: nesting on top of the bracket stack. */
  quoted: number;
  /** The brackets as pattern frames (parallel to `stack`). */
  frames: Frame[];
}

const newState = (): State => ({ depth: 0, groups: 0, operators: 0, terms: 0, patterns: 0, planCost: 0, ambiguous: false, service: 0, anonymous: 0, nondeterministic: [], stack: [], dataAt: -1, quadData: false, unclosed: new Map(), pending: 0, prev: Prev.Start, quoted: 0, frames: [] });

/** maxPatterns as the unit of planCost (DEFAULT_LIMITS.maxPatterns; measure() does not know the caller's limits). */
const PLAN_UNIT = 48;

function addPatterns(s: State, f: Frame, n: number): void {
  const g = f.group;
  if (!g) return;
  const before = g.count;
  g.count += n;
  if (g.count > s.patterns) s.patterns = g.count;
  s.planCost += (g.count / PLAN_UNIT) ** 4 - (before / PLAN_UNIT) ** 4;
}

/** A term (or a closed list / `[ ]`) in frame `f`: an object position is one pattern, a list member two (first, rest). */
function patternTerm(s: State, f: Frame | undefined): void {
  if (!f) return;
  if (f.kind === Kind.List) addPatterns(s, f, 2);
  else if ((f.kind === Kind.Group || f.kind === Kind.Blank) && !f.filter) {
    if (f.pos >= 2) addPatterns(s, f, 1);
    f.pos++;
  }
}

const frame = (kind: Kind, group: Frame | undefined, pos = 0): Frame => ({ kind, pos, filter: false, count: 0, group });
/** Frames with no state of their own are shared: a text of 200,000 `(` allocates none. */
const DATA = frame(Kind.Data, undefined);
const TEMPLATE = frame(Kind.Template, undefined);
const EXPR = frame(Kind.Expr, undefined);

/** The frame a bracket `c` opens on top of `top`, given the token before it and the pending keyword state. */
function openFrame(s: State, c: number, top: Frame | undefined, prev: Prev, pending: number): Frame {
  if (s.dataAt >= 0) return DATA;
  if (c === 123) {
    if (top?.kind === Kind.Template || pending === 1 || pending === 5) return TEMPLATE;
    const f = frame(Kind.Group, undefined);
    // OPTIONAL, MINUS and EXISTS open a scope of their own; any other group is joined into the one around it.
    f.group = pending !== 6 && top?.group ? top.group : f;
    return f;
  }
  if (!top || top.kind === Kind.Expr || top.kind === Kind.Data) return EXPR;
  if (top.kind === Kind.Template) return TEMPLATE;
  if (c === 40 && (top.filter || prev === Prev.Keyword)) return EXPR;
  // A list or `[ ]` in a pattern: it takes its parent's term slot, and its own members count to the same group.
  patternTerm(s, top);
  return c === 40 ? frame(Kind.List, top.group) : frame(Kind.Blank, top.group, 1);
}

/**
 * Length of the operator at `i` (`c` is its first character code), 0 if none: `|| && != <= >=`, then
 * `= < > ! + - * / | ^ ?`. A switch rather than a search of a list: this runs on most punctuation of every text.
 */
function operatorLength(text: string, i: number, c: number): number {
  const next = text.charCodeAt(i + 1);
  switch (c) {
    case 124: // |
      return next === 124 ? 2 : 1;
    case 38: // &
      return next === 38 ? 2 : 0;
    case 33: // !
    case 60: // <
    case 62: // >
      return next === 61 ? 2 : 1;
    case 61: // =
    case 43: // +
    case 45: // -
    case 42: // *
    case 47: // /
    case 94: // ^
    case 63: // ?
      return 1;
    default:
      return 0;
  }
}

/** Scans text[from, to) into `s`. Never throws; each step consumes at least one character, so it is linear. */
function scan(text: string, from: number, to: number, s: State): void {
  let i = from;
  const inData = () => s.dataAt >= 0;
  const term = (end: number) => {
    if (!inData()) (s.terms++, patternTerm(s, s.frames[s.frames.length - 1]));
    else if (s.quadData && s.stack[s.stack.length - 1] === 40) s.anonymous++;
    s.prev = Prev.Operand;
    i = end;
  };
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    if (c === 35) {
      // Comment: to the end of the line (EOL is \n or \r).
      while (i < to && text.charCodeAt(i) !== 10 && text.charCodeAt(i) !== 13) i++;
      continue;
    }
    // A data block opens only right after INSERT DATA / DELETE DATA, or VALUES and its variables: any other token resets.
    const pending = s.pending;
    s.pending = 0;
    if (pending === 3 && (c === 40 || c === 41 || c === 63 || c === 36)) s.pending = 3;
    if (c === 123 || c === 40 || c === 91) {
      s.frames.push(openFrame(s, c, s.frames[s.frames.length - 1], s.prev, pending));
      s.stack.push(c);
      if (s.stack.length > s.depth) s.depth = s.stack.length;
      if (c === 123 && !inData() && (pending === 2 || pending === 3)) (s.dataAt = s.stack.length), (s.quadData = pending === 2);
      else if (c === 123 && !inData()) s.groups++;
      else if (inData() && s.quadData && (c === 91 || s.stack[s.stack.length - 2] === 40)) s.anonymous++;
      s.prev = Prev.Open;
      i++;
      continue;
    }
    if (c === 125 || c === 41 || c === 93) {
      if (s.stack.length === s.dataAt) s.dataAt = -1;
      s.stack.pop();
      const closed = s.frames.pop();
      const parent = s.frames[s.frames.length - 1];
      if (closed && parent && (parent.kind === Kind.Group || parent.kind === Kind.Blank)) {
        if (closed.kind === Kind.Expr) parent.filter = false;
        else if (closed.kind === Kind.Group) (parent.pos = 0), (parent.filter = false); // ends a triple block, or FILTER EXISTS { }
      }
      s.prev = c === 125 ? Prev.Punct : Prev.Operand;
      i++;
      continue;
    }
    if (c === 34 || c === 39) {
      const kind = c + (text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c ? 256 : 0);
      const end = i < (s.unclosed.get(kind) ?? -1) ? -1 : stringEnd(text, i);
      if (end > 0 && end <= to) {
        term(end);
        continue;
      }
      if (end < -1) s.unclosed.set(kind, -2 - end);
      s.prev = Prev.Punct;
      i++; // no valid string here: the engine fails at this quote; keep counting what follows
      continue;
    }
    if (c === 60) {
      const end = iriEnd(text, i);
      if (end > 0 && end <= to) {
        const top = s.stack[s.stack.length - 1];
        if (!inData() && top === 40 && (s.prev === Prev.Operand || s.prev === Prev.Keyword)) lessThanReading(text, i + 1, end - 1, s);
        term(end);
        continue;
      }
    }
    if (c === 63 || c === 36) {
      let j = i + 1;
      while (j < to && (isNameChar(text.charCodeAt(j)) && text.charCodeAt(j) !== 45 && text.charCodeAt(j) !== 46)) j++;
      if (j > i + 1) {
        term(j);
        continue;
      }
    }
    if (c === 95 && text.charCodeAt(i + 1) === 58) {
      term(Math.min(to, localEnd(text, i + 2)));
      continue;
    }
    if (c === 58) {
      term(Math.min(to, localEnd(text, i + 1)));
      continue;
    }
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < to && isNameChar(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 58 && j < to) {
        term(Math.min(to, localEnd(text, j + 1)));
        continue;
      }
      while (j > i + 1 && text.charCodeAt(j - 1) === 46) j--;
      keyword(text.slice(i, j).toUpperCase(), pending, s);
      i = j;
      continue;
    }
    if (c === 64) {
      let j = i + 1;
      while (j < to && (isAlpha(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)) || text.charCodeAt(j) === 45)) j++;
      i = Math.max(j, i + 1);
      continue; // LANGTAG: part of the literal before it
    }
    const signed = (c === 43 || c === 45) && (isDigit(text.charCodeAt(i + 1)) || (text.charCodeAt(i + 1) === 46 && isDigit(text.charCodeAt(i + 2))));
    if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1))) || signed) {
      // In expressions `1 -1` is a subtraction (AdditiveExpression with NumericLiteralNegative): count the sign.
      if (signed && !inData()) s.operators++;
      let j = signed ? i + 1 : i;
      while (j < to && isDigit(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 46 && isDigit(text.charCodeAt(j + 1))) for (j++; j < to && isDigit(text.charCodeAt(j)); ) j++;
      if ((text.charCodeAt(j) | 32) === 101) {
        let k = j + 1;
        if (text.charCodeAt(k) === 43 || text.charCodeAt(k) === 45) k++;
        if (isDigit(text.charCodeAt(k))) for (j = k; j < to && isDigit(text.charCodeAt(j)); ) j++;
      }
      term(Math.min(to, j));
      continue;
    }
    if (c === 94 && text.charCodeAt(i + 1) === 94) {
      s.prev = Prev.Punct; // '^^' before a datatype IRI: not an operator
      i += 2;
      continue;
    }
    if (c === 44 || c === 59 || c === 46) {
      const f = s.frames[s.frames.length - 1];
      if (f && (f.kind === Kind.Group || f.kind === Kind.Blank) && !f.filter) f.pos = c === 44 ? 2 : c === 59 ? 1 : 0;
      s.prev = Prev.Punct;
      i++;
      continue;
    }
    if (c === 60 && text.charCodeAt(i + 1) === 60) {
      // `<<`: a quoted triple or triple term (SPARQL-star / 1.2), which Oxigraph parses recursively in data too: 2,000
      // nested `<<` in INSERT DATA trap it even in a 16 MB worker (the WASM shadow stack is fixed). Counted as nesting
      // everywhere; outside data also as the two less-than operators it could be.
      s.quoted++;
      if (s.stack.length + s.quoted > s.depth) s.depth = s.stack.length + s.quoted;
      if (!inData()) s.operators += 2;
      s.prev = Prev.Operator;
      i += 2;
      continue;
    }
    if (c === 62 && text.charCodeAt(i + 1) === 62 && s.quoted > 0) {
      s.quoted--;
      if (!inData()) s.operators += 2;
      s.prev = Prev.Operand;
      i += 2;
      continue;
    }
    const opLength = operatorLength(text, i, c);
    if (opLength) {
      if (!inData()) s.operators++;
      s.prev = Prev.Operator;
      i += opLength;
      continue;
    }
    s.prev = Prev.Start; // a character no SPARQL token starts with: the engine fails here
    i++;
  }
}

function keyword(word: string, pending: number, s: State): void {
  if (NONDETERMINISTIC_WORDS.has(word) && s.dataAt < 0 && !s.nondeterministic.includes(word)) s.nondeterministic.push(word);
  if (GROUP_WORDS.has(word) && s.dataAt < 0) s.groups++;
  if (TERM_WORDS.has(word) && s.dataAt < 0) s.terms++;
  const f = s.frames[s.frames.length - 1];
  if (f && s.dataAt < 0 && (f.kind === Kind.Group || f.kind === Kind.Blank)) {
    if (TERM_WORDS.has(word)) patternTerm(s, f);
    else if (word === 'FILTER' || word === 'BIND') (f.filter = true), (f.pos = 0);
    else if (!f.filter) f.pos = 0; // GRAPH, OPTIONAL, MINUS, UNION, SERVICE, VALUES, ...: a new block
  }
  s.prev = TERM_WORDS.has(word) ? Prev.Operand : Prev.Keyword;
  if (word === 'INSERT' || word === 'DELETE') s.pending = 1;
  else if (word === 'DATA' && pending === 1) s.pending = 2;
  else if (word === 'VALUES' && s.dataAt < 0) s.pending = 3;
  else if (word === 'SERVICE' && s.dataAt < 0) (s.service++, (s.pending = 4));
  else if (word === 'SILENT' && pending === 4) (s.service--, (s.pending = 0));
  else if (word === 'CONSTRUCT') s.pending = 5;
  else if (word === 'OPTIONAL' || word === 'MINUS' || word === 'EXISTS') s.pending = 6;
  else s.pending = 0;
}

/**
 * The IRI-shaped token <content> could be `<` content `>` with content an expression: measure content as one and add
 * what it could contribute (its deepest opening, its net opening carried on, its operators and terms). A `#` in it
 * would start a comment under that reading: the rest of the line is counted anyway, as the IRI reading goes on. A
 * quote in it could start a string running past the `>`, which no single reading can bound: refused.
 */
function lessThanReading(text: string, from: number, to: number, s: State): void {
  const content = text.slice(from, to); // bounded searches: an unbounded indexOf would make many such tokens quadratic
  const hash = content.indexOf('#');
  const end = hash >= 0 ? from + hash : to;
  if (content.slice(0, end - from).includes("'")) {
    s.ambiguous = true;
    return;
  }
  const inner = newState();
  scan(text, from, end, inner);
  s.depth = Math.max(s.depth, s.stack.length + inner.depth);
  // Parentheses left open by the content stay open under that reading: carry them as unknown openers.
  for (let k = 0; k < inner.stack.length; k++) s.stack.push(40);
  s.operators += inner.operators + 2; // the '<' and '>' themselves
  s.groups += inner.groups;
  s.terms += inner.terms;
  for (const w of inner.nondeterministic) if (!s.nondeterministic.includes(w)) s.nondeterministic.push(w);
}

/** Measures a query or update (see the file comment); linear in the text length, never throws. */
export function measure(text: string): Complexity {
  const s = newState();
  scan(text, 0, text.length, s);
  return { depth: s.depth, groups: s.groups, operators: s.operators, terms: s.terms, patterns: s.patterns, planCost: Math.round(s.planCost * 1000) / 1000, ambiguous: s.ambiguous, service: s.service, anonymous: s.anonymous, nondeterministic: [...s.nondeterministic] };
}

/**
 * Throws BadRequestError (400, code `query-too-complex`) when the text exceeds the limits; the store never sees it.
 * Call it on every query or update that comes from a client.
 */
export function assertManageable(text: string, limits: ComplexityLimits = DEFAULT_LIMITS): Complexity {
  const c = measure(text);
  const over: string[] = [];
  if (c.depth > limits.maxDepth) over.push(`nesting depth ${c.depth} > ${limits.maxDepth}`);
  if (c.groups + c.operators > limits.maxNodes) {
    over.push(`${c.groups} groups and ${c.operators} operators, more than ${limits.maxNodes} together`);
  }
  if (c.terms > limits.maxTerms) over.push(`${c.terms} terms outside data blocks > ${limits.maxTerms} (use VALUES or INSERT DATA for data)`);
  if (c.patterns > limits.maxPatterns) over.push(`${c.patterns} triple patterns joined in one group > ${limits.maxPatterns} (use VALUES for lists of values, or OPTIONAL groups)`);
  else if (c.planCost > limits.maxPlanCost) over.push(`joins too large to plan: ${c.planCost} > ${limits.maxPlanCost} (the sum of (patterns per join / ${limits.maxPatterns})^4)`);
  if (c.anonymous > limits.maxAnonymous) over.push(`${c.anonymous} blank nodes and list members in data > ${limits.maxAnonymous}`);
  if (c.ambiguous) over.push("a '<' followed by a quote inside an expression: write '< ' with a space, or the IRI without the quote");
  if (over.length) {
    throw new BadRequestError(`The request is too complex for the engine: ${over.join('; ')}`, { extensions: { complexity: c } }, 'query-too-complex');
  }
  return c;
}

/**
 * Whether an update may add quads: one of INSERT, LOAD, ADD, COPY or MOVE outside its IRIs, strings and comments (a
 * word inside them is not an operation). DELETE, CLEAR, DROP and CREATE only remove or add nothing.
 */
export function mayAddQuads(sparql: string): boolean {
  const bare = sparql.replace(/<[^<>"{}|^`\\\s]*>|'''[\s\S]*?'''|"""[\s\S]*?"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|#[^\n]*/g, ' ');
  return /\b(?:INSERT|LOAD|ADD|COPY|MOVE)\b/i.test(bare);
}
