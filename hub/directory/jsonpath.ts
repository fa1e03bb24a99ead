// JSONPath search over the TDs: RFC 9535 syntax, evaluated by jsonpath-plus (safe mode: no script evaluation).
import { JSONPath } from 'jsonpath-plus';
import { BadRequestError } from '../errors.ts';

/**
 * RFC 9535 §2.3.5 writes filters as `[?<expr>]`; jsonpath-plus only understands `[?(<expr>)]` and silently matches
 * nothing otherwise. Wrap bare filter expressions in parentheses (quoted strings and nested brackets are skipped).
 */
export function toJsonPathPlus(path: string): string {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '[' && path[i + 1] === '?' && path[i + 2] !== '(') {
      let depth = 1;
      let j = i + 2;
      let quote: string | undefined;
      for (; j < path.length && depth > 0; j++) {
        const c = path[j]!;
        if (quote) {
          if (c === '\\') j++;
          else if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '[') depth++;
        else if (c === ']') depth--;
      }
      if (depth > 0) throw new BadRequestError('The JSONPath query has an unclosed filter selector', undefined, 'jsonpath-syntax');
      out += `[?(${toJsonPathPlus(path.slice(i + 2, j - 1).trim())})]`;
      i = j - 1;
    } else out += path[i];
  }
  return out;
}

/** Evaluates a JSONPath query (RFC 9535) against a JSON value; 400 `jsonpath-syntax` on a bad expression. */
export function queryJsonPath(query: string, json: unknown): unknown[] {
  const path = query.trim();
  if (!path.startsWith('$')) throw new BadRequestError("A JSONPath query starts with '$' (RFC 9535 §2.2)", undefined, 'jsonpath-syntax');
  try {
    return (JSONPath({ path: toJsonPathPlus(path), json: json as object, wrap: true, eval: 'safe' }) as unknown[] | undefined) ?? [];
  } catch (e) {
    throw new BadRequestError(`The JSONPath query is not valid: ${(e as Error).message}`, { cause: e }, 'jsonpath-syntax');
  }
}
