/**
 * A scheduler for tests of ack timeouts: the default one, except that timers of one delay are
 * held until the test releases them, so an ack timeout fires once the answers the test expects
 * have reached the server, whatever the machine's load.
 *
 * @module
 */
import { defaultScheduler, type Scheduler, type TimerHandle } from "../../server/engine/mod.ts";
import type { Socket } from "../../mod.ts";
import { delay, within } from "./socketio.ts";

interface Held {
  fn: () => void;
}

/** The default scheduler, holding the timers of `ms` milliseconds until {@linkcode release}. */
export class HeldTimeouts implements Scheduler {
  readonly #held = new Set<Held>();

  /** @param ms the delay of the timers to hold (an ack timeout's) */
  constructor(readonly ms: number) {}

  now(): number {
    return defaultScheduler.now();
  }

  set(fn: () => void, ms: number): TimerHandle {
    if (ms !== this.ms) return defaultScheduler.set(fn, ms);
    const held = { fn };
    this.#held.add(held);
    return held;
  }

  clear(handle: TimerHandle): void {
    if (!this.#held.delete(handle as Held)) defaultScheduler.clear(handle);
  }

  /** Fires the held timers, as if their time had come. */
  release(): void {
    const due = [...this.#held];
    this.#held.clear();
    for (const t of due) t.fn();
  }
}

/** Resolves once every socket got the answers to the acks it waits for (bounded). */
export async function answered(...sockets: Socket[]): Promise<void> {
  let gaveUp = false;
  try {
    await within(
      (async () => {
        while (!gaveUp && sockets.some((s) => s.acks.size > 0)) await delay(5);
      })(),
      "the answers to reach the server",
    );
  } finally {
    gaveUp = true;
  }
}
