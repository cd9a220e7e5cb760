/**
 * The one clock and timer source of a server: every timer of the engine and of the Socket.IO
 * layer (heartbeat, upgrade timeout, the poll release during an upgrade, the namespace-join
 * deadline, ack timeouts) goes through the engine's {@linkcode Scheduler}. Browser compatible.
 *
 * Why one: a Cloudflare Durable Object hibernates only while no timer is pending, so there the
 * scheduler is one storage alarm for all of them; elsewhere it is `setTimeout`. The server keeps
 * few timers (the heartbeat is one for every session, the join deadline one for every pending
 * connection), so a scheduler that multiplexes onto a single alarm stays cheap.
 *
 * @module
 */
import { callReporting } from "./report.ts";

/** What {@linkcode Scheduler.set} returns, for {@linkcode Scheduler.clear}: opaque to the server. */
export type TimerHandle = unknown;

/**
 * A clock and one-shot timers. The server measures every deadline with `now()` and arms timers
 * with `set`, so a scheduler of its own (a manual clock in a test, a Durable Object alarm) sees
 * and drives all of them.
 *
 * @example A manual clock that a test moves on by hand
 * ```ts
 * import type { Scheduler, TimerHandle } from "@socketio-edge/core/engine";
 *
 * class ManualClock implements Scheduler {
 *   time = 0;
 *   timers = new Set<{ at: number; fn: () => void }>();
 *   now = (): number => this.time;
 *   set = (fn: () => void, ms: number): TimerHandle => {
 *     const timer = { at: this.time + ms, fn };
 *     this.timers.add(timer);
 *     return timer;
 *   };
 *   clear = (handle: TimerHandle): void => void this.timers.delete(handle as never);
 *   // Moves the clock to `time`, firing what falls due on the way, earliest first.
 *   advance(time: number): void {
 *     for (;;) {
 *       const due = [...this.timers].filter((t) => t.at <= time).sort((a, b) => a.at - b.at)[0];
 *       if (!due) break;
 *       this.timers.delete(due);
 *       this.time = due.at;
 *       due.fn();
 *     }
 *     this.time = time;
 *   }
 * }
 * ```
 */
export interface Scheduler {
  /** The current time in milliseconds (since the epoch, or any origin the scheduler keeps). */
  now(): number;
  /**
   * Calls `fn` once, `ms` milliseconds from now (never earlier by `now()`), unless cleared first.
   * `ms` is the server's own delay or the application's (`socket.timeout(ms)`), to be taken as
   * `setTimeout` takes it. `fn` may throw (an application's listener runs in
   * it): a scheduler that runs several callbacks in one turn runs the others all the same.
   */
  set(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a handle that fired or was cleared already, or `undefined`, is ignored. */
  clear(handle: TimerHandle): void;
}

/**
 * The scheduler on `Date.now` and `setTimeout` / `clearTimeout`, looked up on `globalThis` at
 * each call, so that fake timers installed later (`@sinonjs/fake-timers`, the official suites'
 * clocks) drive the server too. The default of every engine. What a callback throws is
 * reported (`report.ts`): thrown out of a timer, it would end the process.
 */
export const defaultScheduler: Scheduler = {
  now: () => Date.now(),
  // The callback goes as setTimeout's argument: no closure per timer.
  set: (fn, ms) => globalThis.setTimeout(callReporting, ms, fn),
  clear: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};
