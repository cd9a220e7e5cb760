/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) for the fuzzer: the same seed gives the
 * same inputs on every machine and runtime, and input `i` of a run is made from its own seed,
 * so one input is made again without making those before it.
 *
 * @module
 */

/** The seed of input `index` of the run seeded `seed`. */
export function inputSeed(seed: number, index: number): number {
  return mix32((seed >>> 0) ^ mix32(index + 0x9e3779b9));
}

/** splitmix32's finalizer: a well-spread 32-bit hash of `x`. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seeded random source with the helpers the generators use. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    this.#a = mix32(seed);
    this.#b = mix32(this.#a);
    this.#c = mix32(this.#b);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }

  /** One item of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** One item of `[weight, value]` pairs, by weight (weights may be fractions). */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let r = (this.next() / 4294967296) * total;
    for (const [w, v] of items) {
      if (r < w) return v;
      r -= w;
    }
    return items[items.length - 1][1];
  }

  /** Like {@linkcode Rng.weighted}, with values made only when picked. */
  lazy<T>(items: readonly (readonly [number, () => T])[]): T {
    return this.weighted(items)();
  }

  /** A size, mostly small, now and then large (up to `max`). */
  size(max: number): number {
    const r = this.int(100);
    if (r < 70) return this.int(Math.min(max, 8) + 1);
    if (r < 95) return this.int(Math.min(max, 64) + 1);
    return this.int(max + 1);
  }
}
