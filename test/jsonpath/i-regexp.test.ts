// I-Regexp (RFC 9485) to RE2: what is valid, what it means, and that matching stays linear in the input.
import { describe, expect, it } from 'vitest';
import { iRegexpMatch, iRegexpSearch, iRegexpToRe2, MAX_REGEX_WORK, RegexTooLargeError } from '../../hub/jsonpath/i-regexp.ts';

describe('iRegexpToRe2', () => {
  it('translates the RFC 9485 grammar; metacharacters become escapes, never RE2 syntax', () => {
    expect(iRegexpToRe2('(.+)+X')).toBe('(?:[^\\n\\r]+)+X');
    expect(iRegexpToRe2('a[\\].]c')).toBe('a[\\x{5d}\\x{2e}]c');
    expect(iRegexpToRe2('[^a-z\\p{L}-]{2,3}')).toBe('[^\\x{61}-\\x{7a}\\p{L}\\x{2d}]{2,3}');
    expect(iRegexpToRe2('\\p{Lu}|\\P{Nd}')).toBe('\\p{Lu}|\\P{Nd}');
    expect(iRegexpToRe2('^ab$')).toBe('^ab$');
  });

  it('refuses what is not an I-Regexp (ECMAScript or PCRE extensions)', () => {
    for (const p of ['\\d', '\\w', '\\b', 'a*?', 'a{2}{3}', '(?:a)', '(?=a)', '(a)\\1', '[]', '[a-b-c]', '[z-a]', 'a{3,2}', '{1}', ']', '}', ')', '(', '\\p{IsBasicLatin}', '\\p{Xx}', '^*', 'a'.repeat(1001), `${'('.repeat(70)}a${')'.repeat(70)}`]) {
      expect(iRegexpToRe2(p), p).toBeUndefined();
    }
  });
});

describe('match() and search()', () => {
  it('have RFC 9535 semantics: match is the whole string, search any substring, . is not \\n or \\r, non-strings are false', () => {
    expect(iRegexpMatch('abc', 'a.c')).toBe(true);
    expect(iRegexpMatch('xabc', 'a.c')).toBe(false);
    expect(iRegexpSearch('xabcx', 'a.c')).toBe(true);
    expect(iRegexpMatch('a\nc', 'a.c')).toBe(false);
    expect(iRegexpMatch('a\u2028c', 'a.c')).toBe(true);
    expect(iRegexpMatch('a😀b', 'a.b')).toBe(true);
    expect(iRegexpMatch('a-b', 'a\\-b')).toBe(true);
    expect(iRegexpMatch(1, 'a')).toBe(false);
    expect(iRegexpMatch('a', 1)).toBe(false);
    expect(iRegexpMatch('a', '\\d')).toBe(false);
  });

  it('support \\p{C} and \\p{Cn}, which RE2 lacks, as complements (also inside a class)', () => {
    expect(iRegexpMatch('\u0378', '\\p{Cn}')).toBe(true);
    expect(iRegexpMatch('a', '\\p{Cn}')).toBe(false);
    expect(iRegexpMatch('\n', '\\p{C}')).toBe(true);
    expect(iRegexpMatch('\n', '[a\\p{C}]')).toBe(true);
    expect(iRegexpMatch('a', '[a\\p{C}]')).toBe(true);
    expect(iRegexpMatch('b', '[a\\p{C}]')).toBe(false);
    expect(iRegexpMatch('a', '\\P{Cn}')).toBe(true);
  });

  it('run catastrophic-backtracking patterns in linear time', () => {
    const started = performance.now();
    const input = 'a'.repeat(100_000);
    for (const [p, hit] of [['(.+)+X', false], ['(a|aa)*b', false], ['((a*)*)*b', false], ['(a+)+$', true]] as const) {
      expect(iRegexpMatch(input, p), p).toBe(hit);
      expect(iRegexpSearch(input, p), p).toBe(hit);
      expect(iRegexpSearch(`${input}!`, p), p).toBe(false);
    }
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('refuse a match over the work budget (input length x program size) and report the work of the others', () => {
    const reps = '(a{1,100}){1,10}b';
    expect(() => iRegexpMatch('a'.repeat(20_000), reps)).toThrow(RegexTooLargeError);
    let work = 0;
    expect(iRegexpMatch('aaa', 'a+', (w) => (work += w))).toBe(true);
    expect(work).toBeGreaterThan(0);
    expect(work).toBeLessThan(MAX_REGEX_WORK);
  });
});
