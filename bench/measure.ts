/**
 * A small ops/s meter: rounds interleave the two sides (ours, theirs, ours, ...) so that noise
 * from a shared machine hits both alike; the best round of each side is kept, and the spread
 * between rounds is reported.
 *
 * @module
 */

/** One benchmark case: ops/s of both sides, their ratio, and the spread between rounds. */
export interface Row {
  name: string;
  ours: number;
  official: number;
  ratio: number;
  /** Relative difference between the best and the worst round, largest of both sides. */
  spread: number;
}

let sink: unknown;

function opsPerSecond(fn: () => unknown, ms: number): number {
  // Calibrate a batch that takes about 1/20 of the budget, then run whole batches.
  let batch = 1;
  for (;;) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) sink = fn();
    const dt = performance.now() - t;
    if (dt > ms / 20 || batch > 1e7) break;
    batch *= 2;
  }
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

/** Measures both sides in interleaved rounds. */
export function measure(
  name: string,
  ours: () => unknown,
  official: () => unknown,
  ms: number,
  rounds: number,
): Row {
  // Warm up both before measuring either.
  opsPerSecond(ours, ms / 4);
  opsPerSecond(official, ms / 4);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(opsPerSecond(ours, ms));
    b.push(opsPerSecond(official, ms));
  }
  const best = (xs: number[]) => Math.max(...xs);
  const spread = (xs: number[]) => (best(xs) - Math.min(...xs)) / best(xs);
  if (sink === Symbol.for("never")) console.log(sink);
  return {
    name,
    ours: best(a),
    official: best(b),
    ratio: best(a) / best(b),
    spread: Math.max(spread(a), spread(b)),
  };
}

/** Formats ops/s for a table. */
export function formatOps(n: number): string {
  if (n >= 1e6) return (n / 1e6).toFixed(2) + " M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + " k";
  return n.toFixed(1);
}
