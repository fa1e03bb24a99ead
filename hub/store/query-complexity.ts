// Refuses SPARQL texts deep or long enough to overflow the engine's stack, before they reach the store.
//
// Oxigraph (WASM) parses and evaluates recursively on a fixed-size stack. Measured with oxigraph 0.5.11 on Node 20:
// 1,000 nested groups, 1,000 chained OPTIONALs, 5,000 chained UNIONs or 5,000 chained `+` / `&&` end in a WASM
// "memory access out of bounds" trap, after which *every* later call on that store fails too (one 2 KB request would
// take the whole store down). 500 nested groups, 500 OPTIONALs or 2,000 operators alone still pass, but the costs add
// up (800 OPTIONALs with 1,500 operators crash), so one budget covers groups and operators together.
import { BadRequestError } from '../errors.ts';

export interface ComplexityLimits {
  /** Deepest nesting of `{`, `(` and `[`. */
  maxDepth: number;
  /**
   * Most group-forming tokens (`{` outside INSERT/DELETE DATA, OPTIONAL, UNION, MINUS) plus operators (arithmetic,
   * logical, comparison, property path) in one text.
   */
  maxNodes: number;
}

export const DEFAULT_LIMITS: ComplexityLimits = { maxDepth: 128, maxNodes: 500 };

const STRING = /^("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')/;
const IRI = /^<[^<>"{}|^`\\\u0000-\u0020]*>/;
const WORD = /^[A-Za-z_][\w-]*/;
const OPERATOR = /^(\|\||&&|!=|<=|>=|\^\^|[+\-*/|^=<>!])/;

export interface Complexity {
  depth: number;
  groups: number;
  operators: number;
}

/** Measures a query or update lexically (strings, IRIs and comments skipped); linear in the text length. */
export function measure(text: string): Complexity {
  let depth = 0;
  let maxDepth = 0;
  let groups = 0;
  let operators = 0;
  let lastWord = '';
  // Depth at which an INSERT DATA / DELETE DATA block opened (0 = outside): its content is flat data, parsed
  // iteratively by the engine, so its signs and datatype markers are not expression operators.
  let dataDepth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
      continue;
    }
    const rest = text.slice(i, i + 4096);
    const m = (c === '"' || c === "'" ? STRING.exec(rest) : null) ?? (c === '<' ? IRI.exec(rest) : null);
    if (m) {
      // Long literals can exceed the 4 KB window: fall back to a full-text match for them.
      const full = m[0].length === rest.length ? (STRING.exec(text.slice(i)) ?? m) : m;
      i += full[0].length;
      lastWord = '';
      continue;
    }
    if (c === '?' || c === '$') {
      i++;
      while (i < text.length && /[\w\u00B7\u0300-\u036F\u203F-\u2040\u00C0-\uFFFF]/.test(text[i]!)) i++;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') {
      depth++;
      if (depth > maxDepth) maxDepth = depth;
      if (c === '{' && lastWord === 'DATA' && dataDepth === 0) dataDepth = depth;
      else if (c === '{' && dataDepth === 0) groups++;
      lastWord = '';
      i++;
      continue;
    }
    if (c === '}' || c === ')' || c === ']') {
      if (depth === dataDepth) dataDepth = 0;
      depth = Math.max(0, depth - 1);
      lastWord = '';
      i++;
      continue;
    }
    const w = WORD.exec(rest);
    if (w) {
      const upper = w[0].toUpperCase();
      if (upper === 'OPTIONAL' || upper === 'UNION' || upper === 'MINUS') groups++;
      lastWord = upper;
      i += w[0].length;
      // Skip the local part of a prefixed name (ex:a-b.c) so that '-' and '.' inside it are not counted.
      while (i < text.length && /[\w:.%\\-]/.test(text[i]!)) i++;
      continue;
    }
    const op = OPERATOR.exec(rest);
    if (op) {
      if (dataDepth === 0 && op[0] !== '^^') operators++;
      i += op[0].length;
      lastWord = '';
      continue;
    }
    lastWord = '';
    i++;
  }
  return { depth: maxDepth, groups, operators };
}

/**
 * Throws BadRequestError (400, code `query-too-complex`) when the text exceeds the limits; the store never sees it.
 * Call it on every query or update that comes from a client.
 */
export function assertManageable(text: string, limits: ComplexityLimits = DEFAULT_LIMITS): void {
  const c = measure(text);
  const over: string[] = [];
  if (c.depth > limits.maxDepth) over.push(`nesting depth ${c.depth} > ${limits.maxDepth}`);
  if (c.groups + c.operators > limits.maxNodes) {
    over.push(`${c.groups} groups and ${c.operators} operators, more than ${limits.maxNodes} together`);
  }
  if (over.length) {
    throw new BadRequestError(`The request is too complex for the engine: ${over.join('; ')}`, { extensions: { complexity: c } }, 'query-too-complex');
  }
}
