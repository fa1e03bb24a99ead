// Seeded PRNG for the fuzzer (sfc32 seeded by splitmix32): every input is a pure function of (seed, target, index).

/** 32-bit FNV-1a of a string: turns a target name into a stream number. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Small fast PRNG (sfc32, PractRand-clean). An input is regenerated from `(seed, target, index)` alone, so a finding is
 * reproducible from the three numbers the report prints, without replaying the whole run.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0, index = 0) {
    const mix = splitmix32((seed ^ Math.imul(stream, 0x27d4eb2f) ^ Math.imul(index, 0x165667b1)) >>> 0);
    mix();
    this.a = mix() ^ (index >>> 0);
    this.b = mix() ^ stream;
    this.c = mix() ^ seed;
    this.d = mix() | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor(this.float() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A length skewed towards small values, but reaching `max` now and then (log-uniform). */
  size(max: number): number {
    return Math.floor(Math.exp(this.float() * Math.log(max + 1))) - 1;
  }
}
