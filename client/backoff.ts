/**
 * Exponential backoff with jitter for reconnection delays. Browser compatible.
 *
 * The same formula as the official client (`backo2`), so delays match it for the same
 * `Math.random()`: `ms * 2^attempts`, moved up or down by up to `jitter` of itself, capped at
 * `max`.
 *
 * @module
 */

/** Reconnection delays: each {@linkcode Backoff.duration} call is one more attempt. */
export class Backoff {
  /** Attempts since the last reset. */
  attempts = 0;
  /** The first delay (ms). */
  declare ms: number;
  /** The longest delay (ms). */
  declare max: number;
  /** How far a delay may stray, as a fraction of it (0 to 1). */
  declare jitter: number;

  /**
   * @param ms the first delay (ms)
   * @param max the longest delay (ms)
   * @param jitter how far a delay may stray, as a fraction of it (0 to 1)
   */
  constructor(ms: number, max: number, jitter: number) {
    this.ms = ms;
    this.max = max;
    this.jitter = jitter;
  }

  /** The delay before the next attempt (ms); counts the attempt. */
  duration(): number {
    let ms = this.ms * 2 ** this.attempts++;
    const jitter = this.jitter;
    if (jitter > 0 && jitter <= 1) {
      const rand = Math.random();
      const deviation = Math.floor(rand * jitter * ms);
      ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
    }
    return Math.min(ms, this.max) | 0;
  }
}
