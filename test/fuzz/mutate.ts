// Byte-level mutators (flips, truncation by length class, interesting bytes and tokens, deep brackets, splicing).
import type { Rng } from './prng.ts';

const enc = new TextEncoder();

/** Largest input the fuzzer builds; bigger results are cut (the hub's own body limits are far above this). */
export const MAX_INPUT = 256 * 1024;

/** Bytes that make parsers take odd paths: NUL, controls, quotes, escapes, separators, UTF-8 lead/continuation bytes. */
const INTERESTING_BYTES = [0x00, 0x01, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b, 0x1f, 0x20, 0x22, 0x23, 0x25, 0x27, 0x28, 0x29, 0x2c,
  0x2e, 0x2f, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0, 0xed,
  0xef, 0xf0, 0xf4, 0xf5, 0xf8, 0xfe, 0xff];

/** Invalid or tricky UTF-8 sequences: overlong NUL, lone continuation, surrogate halves, truncated 4-byte, BOM, > U+10FFFF. */
const BAD_UTF8: Uint8Array[] = [
  [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf0, 0x9f, 0x98], [0xef, 0xbb, 0xbf], [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x80, 0xa8], [0xe2, 0x80, 0xae], [0xc3], [0xff, 0xfe], [0xf8, 0x88, 0x80, 0x80, 0x80],
].map((b) => Uint8Array.from(b));

/** Tokens every text parser should survive. Targets add their own grammar's tokens. */
export const COMMON_TOKENS = [
  '\\#', '\\', '\\u0000', '\\u', '\\U0010FFFF', '\\uD800', '%00', '%', '%ZZ', '%C0%80', '__proto__', 'constructor', 'prototype',
  '"__proto__"', '{"__proto__":{"x":1}}', 'toString', 'hasOwnProperty', '1e309', '-1e309', '9007199254740993', '-0', '0x7fffffff',
  '1e-400', '99999999999999999999999999999999', 'NaN', 'Infinity', 'null', 'true', '"', "'", '"""', "'''", '`', '${x}', '\u2028', '\u2029',
  '\uFEFF', '\uFFFD', '\uD83D\uDE00', 'é', '\u0301', '</script>', '<!--', ']]>', '\r\n', '\n', '\t', ' ', ',', ';', ':', '.', '..', '...',
  '#', '//', '/*', '*/', '$', '@', '?', '*', '&&', '||', '!', '=', '==', '<', '>', '<>', '()', '[]', '{}', '[[', ']]', '{{', '}}',
];

const OPENERS = ['[', '{', '(', '[{', '{"a":', '[[', '{ {', '( (', '<', '"', '\\'];

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(Math.min(n, MAX_INPUT));
  let off = 0;
  for (const p of parts) {
    if (off >= out.length) break;
    const take = Math.min(p.length, out.length - off);
    out.set(take === p.length ? p : p.subarray(0, take), off);
    off += take;
  }
  return out;
}

/** A truncation length from a class: 0, tiny, header-sized, half, one short, random. */
function lengthClass(rng: Rng, n: number): number {
  switch (rng.int(7)) {
    case 0:
      return 0;
    case 1:
      return Math.min(n, rng.range(1, 4));
    case 2:
      return Math.min(n, rng.range(5, 16));
    case 3:
      return n >> 1;
    case 4:
      return Math.max(0, n - 1);
    case 5:
      return Math.max(0, n - rng.range(1, 16));
    default:
      return rng.int(n + 1);
  }
}

/**
 * `text` repeated, as UTF-8, cached: the mutators use a few dozen (text, times) pairs, and encoding 200,000 'é' anew
 * for every input was most of the generation time (4 ms per long-string mutation). Callers copy (concat), never write.
 */
const repeats = new Map<string, Uint8Array>();
function repeat(text: string, times: number): Uint8Array {
  const key = `${times}:${text}`;
  let b = repeats.get(key);
  if (!b) {
    b = enc.encode(text.repeat(Math.min(times, MAX_INPUT)));
    if (b.length > MAX_INPUT) b = b.slice(0, MAX_INPUT);
    if (repeats.size < 4096) repeats.set(key, b);
  }
  return b;
}

/** A token as UTF-8, cached (tokens come from short fixed lists). */
const encoded = new Map<string, Uint8Array>();
function encodeToken(text: string): Uint8Array {
  let b = encoded.get(text);
  if (!b) {
    b = enc.encode(text);
    if (encoded.size < 4096) encoded.set(text, b);
  }
  return b;
}

/** `chunk` `times` times in one buffer (doubling copies rather than one part per repetition), at most MAX_INPUT bytes. */
function repeated(chunk: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(Math.min(chunk.length * times, MAX_INPUT));
  if (!out.length) return out;
  out.set(chunk.subarray(0, out.length));
  for (let filled = Math.min(chunk.length, out.length); filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  return out;
}

/** Start and end of every digit run (`\d+(\.\d+)?` over the bytes as latin1), found by one scan of the bytes. */
function digitRuns(input: Uint8Array): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  const digit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;
  for (let i = 0; i < input.length; ) {
    if (!digit(input[i])) {
      i++;
      continue;
    }
    const start = i;
    while (digit(input[i])) i++;
    if (input[i] === 0x2e && digit(input[i + 1])) {
      i++;
      while (digit(input[i])) i++;
    }
    runs.push([start, i]);
  }
  return runs;
}

/** Numbers that overflow, underflow or lose precision, for replacing a digit run. */
const HUGE_NUMBERS = ['1e309', '-1e309', '1e-400', '99999999999999999999999', '4294967296', '2147483648', '-2147483649', '9007199254740993',
  '18446744073709551616', '0.000000000000000000000000001', '1' + '0'.repeat(400), '-0', '00000001', '1.', '.1', '1e', '0x10'];

/**
 * One random mutation of `input`. `tokens` are the target's grammar tokens; `other` gives another corpus input for splicing.
 */
export function mutateOnce(input: Uint8Array, rng: Rng, tokens: readonly string[], other: () => Uint8Array): Uint8Array {
  const n = input.length;
  const at = rng.int(n + 1);
  switch (rng.int(14)) {
    case 0: {
      // bit flips
      if (!n) return Uint8Array.of(rng.int(256));
      const out = input.slice();
      for (let k = rng.range(1, 8); k > 0; k--) out[rng.int(n)]! ^= 1 << rng.int(8);
      return out;
    }
    case 1: {
      // random or interesting byte overwrite
      if (!n) return Uint8Array.of(rng.pick(INTERESTING_BYTES));
      const out = input.slice();
      for (let k = rng.range(1, 4); k > 0; k--) out[rng.int(n)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.int(256);
      return out;
    }
    case 2:
      return input.subarray(0, lengthClass(rng, n)).slice();
    case 3: {
      // drop a range
      const len = Math.min(n - Math.min(at, n), rng.size(64));
      return concat(input.subarray(0, at), input.subarray(at + len));
    }
    case 4: {
      // duplicate a range (sometimes many times)
      const len = Math.min(n - at, rng.range(1, 64));
      const chunk = input.subarray(at, at + len);
      const times = rng.chance(0.2) ? rng.range(2, 2000) : rng.range(1, 4);
      return concat(input.subarray(0, at), repeated(chunk, times), input.subarray(at));
    }
    case 5:
    case 6: {
      const token = rng.chance(0.6) && tokens.length ? rng.pick(tokens) : rng.pick(COMMON_TOKENS);
      return concat(input.subarray(0, at), encodeToken(token), input.subarray(at));
    }
    case 7:
      return concat(input.subarray(0, at), rng.pick(BAD_UTF8), input.subarray(at));
    case 8: {
      // deep brackets, sometimes closed again
      const open = rng.pick(OPENERS);
      const depth = rng.pick([16, 64, 129, 500, 1000, 5000, 20000]);
      const close = open.replace(/\[/g, ']').replace(/\{/g, '}').replace(/\(/g, ')').replace('<', '>').replace('{"a":', '}').split('').reverse().join('');
      return concat(input.subarray(0, at), repeat(open, depth), rng.chance(0.5) ? repeat(close, depth) : new Uint8Array(), input.subarray(at));
    }
    case 9: {
      // replace a digit run with a huge number
      const runs = digitRuns(input);
      if (!runs.length) return concat(input.subarray(0, at), encodeToken(rng.pick(HUGE_NUMBERS)), input.subarray(at));
      const [start, end] = rng.pick(runs);
      return concat(input.subarray(0, start), encodeToken(rng.pick(HUGE_NUMBERS)), input.subarray(end));
    }
    case 10: {
      // very long string
      const len = rng.pick([256, 4096, 65536, 200000]);
      return concat(input.subarray(0, at), repeat(rng.pick(['A', 'a', '0', ' ', '\\\\', 'é', '%41', '-', '_:b']), len), input.subarray(at));
    }
    case 11: {
      // splice: a prefix of this input with a suffix of another
      const o = other();
      return concat(input.subarray(0, at), o.subarray(rng.int(o.length + 1)));
    }
    case 12: {
      // insert a random chunk of another input
      const o = other();
      const from = rng.int(o.length + 1);
      return concat(input.subarray(0, at), o.subarray(from, from + rng.size(512)), input.subarray(at));
    }
    default: {
      // random bytes
      const bytes = new Uint8Array(rng.size(32) + 1);
      for (let k = 0; k < bytes.length; k++) bytes[k] = rng.int(256);
      return concat(input.subarray(0, at), bytes, input.subarray(at));
    }
  }
}

/** One to a few stacked mutations. */
export function mutate(input: Uint8Array, rng: Rng, tokens: readonly string[], other: () => Uint8Array): Uint8Array {
  let out = input;
  for (let k = rng.chance(0.6) ? 1 : rng.range(2, 5); k > 0; k--) out = mutateOnce(out, rng, tokens, other);
  return out;
}
