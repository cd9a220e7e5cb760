/**
 * A scheduler for tests: a clock that moves only when the test says so, as a user would write an
 * alternative `scheduler`; its timers fire only when it is moved on.
 */
import type { Scheduler, TimerHandle } from "../../server/runtime/scheduler.ts";

type Timer = { at: number; fn: () => void };

/** A clock that moves only when the test says so; its timers fire only when it is moved on. */
export class ManualClock implements Scheduler {
  time = 1_000_000;
  readonly timers = new Set<Timer>();

  now(): number {
    return this.time;
  }

  set(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.time + Math.max(0, ms), fn };
    this.timers.add(timer);
    return timer;
  }

  clear(handle: TimerHandle): void {
    this.timers.delete(handle as Timer);
  }

  /** Moves the clock on by `ms`, firing what falls due on the way, earliest first. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const t of this.timers) if (t.at <= end && (!due || t.at < due.at)) due = t;
      if (!due) break;
      this.timers.delete(due);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}
