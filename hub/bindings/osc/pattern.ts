// OSC 1.0 address pattern matching (`?`, `*`, `[a-z]`, `[!a-z]`, `{a,b}`), hand-rolled: osc-min has none, and the
// JavaScript OSC libraries that do (osc.js) build an unbounded RegExp from the pattern.
//
// Patterns come from TDs (oscRoutes), so they are compiled once and bounded: at most 255 characters, 16 wildcards. A
// pattern is matched part by part ('/' separated, `*` never crosses '/'; OSC 1.1's `//` is not supported), each part by
// a set-of-positions simulation whose work is part length x pattern length, so no input can make it exponential.
import { DecodeError } from '../../errors.ts';

type Token =
  | { kind: 'char'; c: string }
  | { kind: 'any' } // ?
  | { kind: 'star' } // *
  | { kind: 'set'; negate: boolean; ranges: Array<[string, string]> } // [...]
  | { kind: 'alt'; options: string[] }; // {a,b}

export interface CompiledPattern {
  readonly source: string;
  matches(address: string): boolean;
}

const MAX_PATTERN = 255;
const MAX_WILDCARDS = 16;

/** Compiles an OSC address pattern; throws DecodeError (`osc-pattern`) for a malformed one. */
export function compileOscPattern(pattern: string): CompiledPattern {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > MAX_PATTERN || pattern[0] !== '/') {
    throw new DecodeError(`An OSC address pattern starts with '/' and has at most ${MAX_PATTERN} characters`, { field: 'pattern' }, 'osc-pattern');
  }
  let wildcards = 0;
  const parts = pattern.slice(1).split('/').map((part) => {
    const tokens = tokenize(part, pattern);
    wildcards += tokens.filter((t) => t.kind !== 'char').length;
    return tokens;
  });
  if (wildcards > MAX_WILDCARDS) throw new DecodeError(`More than ${MAX_WILDCARDS} wildcards in an OSC address pattern`, { field: 'pattern' }, 'osc-pattern');
  const literal = wildcards === 0;
  return {
    source: pattern,
    matches(address: string): boolean {
      if (literal) return address === pattern;
      if (typeof address !== 'string' || address[0] !== '/') return false;
      const segs = address.slice(1).split('/');
      if (segs.length !== parts.length) return false;
      for (let i = 0; i < segs.length; i++) if (!matchPart(parts[i]!, segs[i]!)) return false;
      return true;
    },
  };
}

/** Whether an OSC address pattern matches an address (compiles each time: for tests and one-off checks). */
export const matchOscPattern = (pattern: string, address: string): boolean => compileOscPattern(pattern).matches(address);

function tokenize(part: string, pattern: string): Token[] {
  const tokens: Token[] = [];
  const bad = (why: string) => new DecodeError(`OSC address pattern '${pattern.slice(0, 64)}': ${why}`, { field: 'pattern' }, 'osc-pattern');
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (c === '?') tokens.push({ kind: 'any' });
    else if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' }); // `**` is `*`
    } else if (c === '[') {
      const close = part.indexOf(']', i + 1);
      if (close < 0) throw bad("'[' without ']'");
      let body = part.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      const ranges: Array<[string, string]> = [];
      for (let j = 0; j < body.length; j++) {
        // `a-z` is a range; a '-' first or last is itself (OSC 1.0)
        if (body[j + 1] === '-' && j + 2 < body.length) {
          ranges.push([body[j]!, body[j + 2]!]);
          j += 2;
        } else ranges.push([body[j]!, body[j]!]);
      }
      tokens.push({ kind: 'set', negate, ranges });
      i = close;
    } else if (c === '{') {
      const close = part.indexOf('}', i + 1);
      if (close < 0) throw bad("'{' without '}'");
      const options = part.slice(i + 1, close).split(',');
      if (options.some((o) => /[?*[\]{}]/.test(o))) throw bad('wildcards inside {...} are not supported');
      tokens.push({ kind: 'alt', options });
      i = close;
    } else if (c === ']' || c === '}' || c === ',' || c === ' ' || c === '#') throw bad(`'${c}' outside a bracket`);
    else tokens.push({ kind: 'char', c });
  }
  return tokens;
}

/**
 * Matches one part by the set of positions reachable after each token (a Thompson-style simulation, no backtracking):
 * O(tokens x length) steps, whatever the pattern.
 */
function matchPart(tokens: Token[], s: string): boolean {
  const n = s.length;
  let cur = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  cur[0] = 1;
  for (const tok of tokens) {
    next.fill(0);
    let any = false;
    if (tok.kind === 'star') {
      let on = 0;
      for (let i = 0; i <= n; i++) {
        on |= cur[i]!;
        next[i] = on;
        any ||= on === 1;
      }
    } else {
      for (let i = 0; i <= n; i++) {
        if (!cur[i]) continue;
        if (tok.kind === 'alt') {
          for (const o of tok.options) if (s.startsWith(o, i)) (next[i + o.length] = 1), (any = true);
        } else if (i < n) {
          const c = s[i]!;
          const ok = tok.kind === 'any' || (tok.kind === 'char' ? c === tok.c : tok.ranges.some(([a, b]) => c >= a && c <= b) !== tok.negate);
          if (ok) (next[i + 1] = 1), (any = true);
        }
      }
    }
    if (!any) return false;
    [cur, next] = [next, cur];
  }
  return cur[n] === 1;
}
