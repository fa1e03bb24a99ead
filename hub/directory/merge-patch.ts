// JSON Merge Patch (RFC 7396): apply a patch, and compute the patch between two documents (for thing_updated diffs).

import { BadRequestError } from '../errors.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deepest nesting either document may have. RFC 7396's algorithm recurses once per level, and so do structuredClone
 * and the TD validator after it: 100,000 nested objects overflowed the stack (a 500). The HTTP body parser already
 * stops at the same depth (hub/http/body.ts MAX_JSON_DEPTH); this bound keeps direct callers safe too.
 */
export const MAX_MERGE_PATCH_DEPTH = 64;

/** Throws 400 `json-too-deep` when `value` nests objects/arrays deeper than `max`; iterative, so it cannot overflow. */
function checkDepth(value: unknown, what: string, max = MAX_MERGE_PATCH_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) throw new BadRequestError(`The ${what} nests JSON deeper than ${max} levels`, undefined, 'json-too-deep');
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}

function merge(target: unknown, patch: unknown): Json {
  if (!isObject(patch)) return structuredClone(patch) as Json;
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '__proto__') continue;
    if (value === null) delete result[key];
    else result[key] = merge(result[key], value);
  }
  return result;
}

/**
 * RFC 7396 §2 MergePatch(Target, Patch). Does not mutate its arguments. A patch or target nested deeper than
 * MAX_MERGE_PATCH_DEPTH is refused (400 `json-too-deep`) before any recursion.
 */
export function applyMergePatch(target: unknown, patch: unknown): Json {
  checkDepth(patch, 'merge patch');
  checkDepth(target, 'merge patch target');
  return merge(target, patch);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The merge patch that turns `from` into `to` (objects recurse; anything else is replaced whole); depth-bounded. */
export function createMergePatch(from: unknown, to: unknown): Json {
  checkDepth(from, 'document');
  checkDepth(to, 'document');
  return diff(from, to);
}

function diff(from: unknown, to: unknown): Json {
  if (!isObject(from) || !isObject(to)) return structuredClone(to) as Json;
  const patch: Record<string, Json> = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (!(key in from)) patch[key] = structuredClone(value);
    else if (!deepEqual(from[key], value)) patch[key] = diff(from[key], value);
  }
  return patch;
}

export { deepEqual };
