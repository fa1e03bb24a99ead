// RFC 7396 JSON Merge Patch: the Appendix A examples, and createMergePatch as its inverse.
import { describe, expect, it } from 'vitest';
import { applyMergePatch, createMergePatch } from '../../hub/directory/merge-patch.ts';

// RFC 7396 Appendix A: [original, patch, result].
const CASES: Array<[unknown, unknown, unknown]> = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [['a', 'b'], ['c', 'd'], ['c', 'd']],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

describe('applyMergePatch (RFC 7396 Appendix A)', () => {
  it.each(CASES)('%j + %j', (original, patch, result) => {
    const copy = structuredClone(original);
    expect(applyMergePatch(original, patch)).toEqual(result);
    expect(original).toEqual(copy);
  });

  it('ignores __proto__ keys', () => {
    const patched = applyMergePatch({}, JSON.parse('{"__proto__":{"x":1}}')) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
  });
});

describe('createMergePatch', () => {
  it('produces a patch that turns the first document into the second', () => {
    const a = { id: 'x', title: 'A', props: { p: { type: 'number' }, q: 1 }, list: [1, 2], gone: true };
    const b = { id: 'x', title: 'B', props: { p: { type: 'string' } }, list: [1, 2, 3], added: { n: null } };
    const patch = createMergePatch(a, b);
    expect(patch).toEqual({ title: 'B', props: { p: { type: 'string' }, q: null }, list: [1, 2, 3], added: { n: null }, gone: null });
    expect(applyMergePatch(a, { ...(patch as object), added: { n: 1 } })).toMatchObject({ title: 'B' });
  });
});
