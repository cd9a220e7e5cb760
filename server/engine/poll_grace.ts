/**
 * The grace of held polls on runtimes where watching a poll for its client going away costs
 * more than the rest of the poll (Deno, where only a streamed answer tells, at about 40 µs a
 * poll): a poll answered within the grace is answered plainly and never watched; one still held
 * when its grace ends is watched from then on. Browser compatible.
 *
 * One timer per engine, on its scheduler, running while polls are held (and one round more): each round of it
 * ends the grace of the polls that were held already at the round before, so a grace lasts
 * between one and two rounds.
 *
 * @module
 */

import type { Scheduler, TimerHandle } from "../runtime/scheduler.ts";

/** A transport whose poll is held in grace. */
export interface GracedPoll {
  /** Its poll is still held at the end of its grace: watch it from now on. */
  graceEnded(): void;
}

/** The held polls of one engine that are not watched yet. */
export class PollGrace {
  /** Held since the last round. */
  #young = new Set<GracedPoll>();
  /** Held since the round before: their grace ends at the next round. */
  #old = new Set<GracedPoll>();
  #timer: TimerHandle | undefined;
  readonly #round: number;
  readonly #scheduler: Scheduler;

  /**
   * @param round milliseconds between rounds (a grace lasts one to two rounds)
   * @param scheduler the engine's timers
   */
  constructor(round: number, scheduler: Scheduler) {
    this.#round = round;
    this.#scheduler = scheduler;
  }

  /** A poll is held, unwatched. */
  add(poll: GracedPoll): void {
    this.#young.add(poll);
    this.#timer ??= this.#scheduler.set(this.#tick, this.#round);
  }

  /**
   * A poll is answered or watched: its grace is over. The timer is left to its round, which
   * stops it when nothing is held: clearing and arming it as polls come and go would cost more
   * than the rest of the grace.
   */
  delete(poll: GracedPoll): void {
    if (!this.#young.delete(poll)) this.#old.delete(poll);
  }

  /** Stops the timer, the engine closing (its polls are answered already). */
  stop(): void {
    this.#scheduler.clear(this.#timer);
    this.#timer = undefined;
    this.#young.clear();
    this.#old.clear();
  }

  #tick = (): void => {
    this.#timer = undefined;
    const ended = this.#old;
    this.#old = this.#young;
    this.#young = new Set();
    for (const poll of ended) {
      try {
        poll.graceEnded();
      } catch {
        // A poll whose client is gone already: the others are watched all the same.
      }
    }
    if (this.#old.size !== 0 || this.#young.size !== 0) {
      this.#timer ??= this.#scheduler.set(this.#tick, this.#round);
    }
  };
}
