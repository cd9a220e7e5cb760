/**
 * One shared timer pings every session, instead of a timer per session. Browser compatible.
 *
 * Every `pingInterval` a round pings all open sessions at once; `pingTimeout` later, the sessions
 * that did not answer that round are closed with `ping timeout`. A session therefore sees a ping
 * every `pingInterval`, which is all an Engine.IO v4 client checks for. Engine.IO v3 clients ping
 * the server instead; their sessions are closed when silent for `pingInterval + pingTimeout`.
 *
 * @module
 */

/** What the heartbeat needs from a session. */
export interface HeartbeatTarget {
  /** 3 or 4: who pings whom. */
  readonly protocol: number;
  /** The round whose ping is unanswered, 0 when none. */
  pendingRound: number;
  /** When a v3 client last pinged (ms). */
  lastPingAt: number;
  /** Sends a ping packet. */
  ping(): void;
  /** Closes the session for a missed heartbeat. */
  timeout(): void;
}

/** The shared ping timer of one engine. */
export class Heartbeat {
  #targets = new Set<HeartbeatTarget>();
  #interval: ReturnType<typeof setInterval> | undefined;
  #checks = new Set<ReturnType<typeof setTimeout>>();
  #round = 0;

  constructor(readonly pingInterval: number, readonly pingTimeout: number) {}

  /** Starts watching a session (starting the timer for the first one). */
  add(target: HeartbeatTarget): void {
    this.#targets.add(target);
    this.#interval ??= setInterval(() => this.#tick(), this.pingInterval);
  }

  /** Stops watching a session (stopping the timer after the last one). */
  delete(target: HeartbeatTarget): void {
    this.#targets.delete(target);
    if (this.#targets.size === 0) this.stop();
  }

  /** Stops every timer. */
  stop(): void {
    clearInterval(this.#interval);
    this.#interval = undefined;
    for (const t of this.#checks) clearTimeout(t);
    this.#checks.clear();
  }

  #tick(): void {
    const round = ++this.#round;
    const now = Date.now();
    const silentV3 = this.pingInterval + this.pingTimeout;
    for (const t of this.#targets) {
      if (t.protocol === 3) {
        if (now - t.lastPingAt >= silentV3) t.timeout();
      } else if (t.pendingRound === 0) {
        t.pendingRound = round;
        t.ping();
      }
    }
    const check = setTimeout(() => {
      this.#checks.delete(check);
      for (const t of this.#targets) if (t.pendingRound === round) t.timeout();
    }, this.pingTimeout);
    this.#checks.add(check);
  }
}
