/**
 * A latency histogram with logarithmic buckets (2% wide): recording is a log and an increment,
 * so a million samples cost the generator nothing it would not spend anyway, and allocate nothing.
 *
 * @module
 */

const GROWTH = Math.log(1.02);
/** 1 µs to about 100 s. */
const BUCKETS = 960;

/** Counts of latencies, in microseconds. */
export class Histogram {
  #counts = new Float64Array(BUCKETS);
  count = 0;

  record(ms: number): void {
    const us = ms * 1000;
    const b = us <= 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(us) / GROWTH));
    this.#counts[b]++;
    this.count++;
  }

  /** The q-quantile (0..1) in milliseconds, accurate to 2%; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#counts[b];
      // The geometric middle of the bucket.
      if (seen >= target) return Math.exp((b + 0.5) * GROWTH) / 1000;
    }
    return NaN;
  }
}
