/**
 * One shared timer keeps every session's heartbeat, instead of a timer per session. Browser
 * compatible.
 *
 * Each session keeps its own schedule, as with the official server: its first ping goes out
 * `pingInterval` after it opened, the next one `pingInterval` after its pong, and `pingTimeout`
 * after a ping that got no pong it is closed with `ping timeout`. Engine.IO v3 clients ping the
 * server instead; their sessions are closed when silent for `pingInterval + pingTimeout`.
 *
 * The timer ticks every few milliseconds (a twentieth of the shorter delay, between 5 and 500 ms)
 * over a wheel of slots, one per tick: a session sits in the slot of its next deadline, rounded
 * up, so a ping is never early and at most one tick late. A tick looks only at the sessions of
 * its slot; a pong or a v3 ping just records the time, and the session moves to its new slot
 * when its old one comes round.
 *
 * @module
 */

/** What the heartbeat needs from a session. */
export interface HeartbeatTarget {
  /** 3 or 4: who pings whom. */
  readonly protocol: number;
  /** Whether the last ping (v4) is unanswered. */
  awaitingPong: boolean;
  /**
   * When (ms) the last heartbeat happened: the session opened, a ping went out, a pong (v4) or a
   * ping (v3) came in.
   */
  lastBeatAt: number;
  /** @internal the heartbeat's slot holding this session. */
  heartbeatSlot: number;
  /** Sends a ping packet. */
  ping(): void;
  /** Closes the session for a missed heartbeat. */
  timeout(): void;
}

/** The largest number of slots in the wheel; longer delays make the tick longer. */
const MAX_SLOTS = 4096;

/** The shared heartbeat timer of one engine. */
export class Heartbeat {
  /** Milliseconds between two ticks. */
  readonly tick: number;
  /** Sessions by slot; a slot's set is made when first used and kept. */
  #slots: (Set<HeartbeatTarget> | undefined)[];
  /** The index (time / tick) of the next slot to look at. */
  #next = 0;
  #size = 0;
  #interval: ReturnType<typeof setInterval> | undefined;

  constructor(readonly pingInterval: number, readonly pingTimeout: number) {
    // A v3 session may wait pingInterval + pingTimeout: the wheel spans that and two slots more.
    const span = pingInterval + pingTimeout;
    const tick = Math.min(500, Math.max(5, Math.floor(Math.min(pingInterval, pingTimeout) / 20)));
    this.tick = Math.max(tick, Math.ceil(span / (MAX_SLOTS - 2)));
    this.#slots = new Array(Math.ceil(span / this.tick) + 2);
  }

  /** Starts watching a session that just opened (starting the timer for the first one). */
  add(target: HeartbeatTarget): void {
    const now = Date.now();
    if (this.#interval === undefined) {
      this.#next = Math.floor(now / this.tick) + 1;
      this.#interval = setInterval(() => this.#onTick(), this.tick);
    }
    target.awaitingPong = false;
    target.lastBeatAt = now;
    this.#size++;
    this.#place(
      target,
      now + (target.protocol === 3 ? this.pingInterval + this.pingTimeout : this.pingInterval),
    );
  }

  /** Stops watching a session (stopping the timer after the last one). */
  delete(target: HeartbeatTarget): void {
    if (this.#slots[target.heartbeatSlot]?.delete(target)) this.#size--;
    target.heartbeatSlot = -1;
    if (this.#size === 0) this.stop();
  }

  /** Stops the timer and forgets every session. */
  stop(): void {
    clearInterval(this.#interval);
    this.#interval = undefined;
    for (const slot of this.#slots) slot?.clear();
    this.#size = 0;
  }

  /** Puts `target` in the slot of `deadline`, rounded up, and never in one already passed. */
  #place(target: HeartbeatTarget, deadline: number): void {
    const index = Math.max(Math.ceil(deadline / this.tick), this.#next) % this.#slots.length;
    (this.#slots[index] ??= new Set()).add(target);
    target.heartbeatSlot = index;
  }

  #onTick(): void {
    const now = Date.now();
    const due = Math.floor(now / this.tick);
    // A timer late by more than the wheel (a stalled event loop) looks at every slot once.
    if (due - this.#next >= this.#slots.length) this.#next = due - this.#slots.length + 1;
    while (this.#next <= due) {
      const slot = this.#slots[this.#next % this.#slots.length];
      // Moved on first: whatever is placed from here lands in a later slot.
      this.#next++;
      if (slot !== undefined && slot.size > 0) this.#visit(slot, now);
    }
  }

  #visit(slot: Set<HeartbeatTarget>, now: number): void {
    for (const t of slot) {
      slot.delete(t);
      let deadline: number;
      if (t.protocol === 3) deadline = t.lastBeatAt + this.pingInterval + this.pingTimeout;
      else if (t.awaitingPong) deadline = t.lastBeatAt + this.pingTimeout;
      else deadline = t.lastBeatAt + this.pingInterval;
      if (deadline > now) {
        // A pong or a v3 ping came since this slot was chosen: wait for the new deadline.
        this.#place(t, deadline);
      } else if (t.protocol === 4 && !t.awaitingPong) {
        t.awaitingPong = true;
        t.lastBeatAt = now;
        this.#place(t, now + this.pingTimeout);
        t.ping();
      } else {
        this.#size--;
        t.heartbeatSlot = -1;
        t.timeout();
      }
    }
  }
}
