// HashSet53 (hub/store/aggregates/model.ts) against a Set of the same values, through several growths.
import { describe, expect, it } from 'vitest';
import { HashSet53, hash53 } from '../../hub/store/aggregates/model.ts';

describe('HashSet53', () => {
  it('holds what a Set holds: members, repeats, 0 and 2^53 - 1, across growths', () => {
    const set = new HashSet53();
    const ref = new Set<number>();
    const values = [0, 2 ** 53 - 1, 1, ...Array.from({ length: 5000 }, (_, i) => hash53(`http://example.org/o/${i % 3000}`))];
    for (const v of values) {
      expect(set.has(v)).toBe(ref.has(v));
      set.add(v);
      ref.add(v);
      expect(set.has(v)).toBe(true);
      expect(set.size).toBe(ref.size);
    }
    for (let i = 3000; i < 4000; i++) expect(set.has(hash53(`http://example.org/o/${i}`))).toBe(false);
    expect(set.size).toBe(3003);
  });
});
