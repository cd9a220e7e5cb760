/**
 * One shared timer keeps every session's heartbeat, instead of a timer per session; it is armed
 * on the engine's scheduler and deadlines are read on its clock (`server/runtime/scheduler.ts`),
 * so a Durable Object keeps one alarm for all its sessions. Browser compatible.
 *
 * Each session keeps its own schedule, as with the official server: its first ping goes out
 * `pingInterval` after it opened, the next one `pingInterval` after its pong, and `pingTimeout`
 * after a ping that got no pong it is closed with `ping timeout`. Engine.IO v3 clients ping the
 * server instead; their sessions are closed when silent for `pingInterval + pingTimeout`.
 *
 * Every deadline is "now + one of three fixed delays", so the sessions waiting on one delay are
 * kept in one queue in the order they were appended, which is the order of their deadlines: the
 * next deadline of all is at the head of one of three queues, and one timer is armed for it. A
 * deadline is kept to the millisecond, never early (the official clients' tests time acks in the
 * windows between pings). A pong appends the session again and leaves its old entry behind, to be
 * skipped when it comes up: no search, no allocation but the queues' own arrays.
 *
 * @module
 */

import { report } from "../runtime/report.ts";
import { defaultScheduler, type Scheduler, type TimerHandle } from "../runtime/scheduler.ts";

/** What the heartbeat needs from a session. */
export interface HeartbeatTarget {
  /** 3 or 4: who pings whom. */
  readonly protocol: number;
  /** Whether the last ping (v4) is unanswered. */
  awaitingPong: boolean;
  /** @internal the deadline (ms) the heartbeat holds the session for; -1 when not watched. */
  heartbeatDue: number;
  /** Sends a ping packet. */
  ping(): void;
  /** Closes the session for a missed heartbeat. */
  timeout(): void;
}

/** What a session waits for in one queue. */
const enum Wait {
  /** v4: the next ping. */
  Ping,
  /** v4: the pong to the last ping. */
  Pong,
  /** v3: the client's next ping. */
  ClientPing,
}

/** Sessions waiting `delay` from when they were appended, in the order of their deadlines. */
class DeadlineQueue {
  #targets: (HeartbeatTarget | undefined)[] = [];
  #deadlines: number[] = [];
  #head = 0;

  constructor(readonly delay: number, readonly wait: Wait) {}

  /** Appends `target`, due `delay` from `now`; returns the deadline. */
  push(target: HeartbeatTarget, now: number): number {
    const deadline = now + this.delay;
    this.#targets.push(target);
    this.#deadlines.push(deadline);
    return deadline;
  }

  /** The deadline of the first entry still current, or Infinity when none is. */
  peek(): number {
    const targets = this.#targets;
    while (this.#head < targets.length && !this.#current(this.#head)) {
      targets[this.#head++] = undefined;
    }
    if (this.#head === targets.length) {
      targets.length = this.#deadlines.length = this.#head = 0;
      return Infinity;
    }
    if (this.#head >= 1024 && this.#head * 2 >= targets.length) {
      targets.splice(0, this.#head);
      this.#deadlines.splice(0, this.#head);
      this.#head = 0;
    }
    return this.#deadlines[this.#head];
  }

  /**
   * Puts `target` in at `deadline`, where it belongs in the queue's order: at the end when it is
   * the latest (sessions restored in order of their deadlines), else by a binary search.
   */
  insert(target: HeartbeatTarget, deadline: number): void {
    const deadlines = this.#deadlines;
    let lo = this.#head;
    let hi = deadlines.length;
    if (hi === lo || deadlines[hi - 1] <= deadline) lo = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (deadlines[mid] <= deadline) lo = mid + 1;
      else hi = mid;
    }
    this.#targets.splice(lo, 0, target);
    deadlines.splice(lo, 0, deadline);
  }

  /** Removes and returns the first entry; call after {@linkcode peek} found one. */
  shift(): HeartbeatTarget {
    const target = this.#targets[this.#head]!;
    this.#targets[this.#head++] = undefined;
    return target;
  }

  clear(): void {
    this.#targets.length = this.#deadlines.length = this.#head = 0;
  }

  // An entry is current while its session still waits for this, until this deadline: a pong, a
  // ping or a close since has made it stale.
  #current(i: number): boolean {
    const t = this.#targets[i]!;
    if (t.heartbeatDue !== this.#deadlines[i]) return false;
    if (this.wait === Wait.ClientPing) return t.protocol === 3;
    return t.protocol !== 3 && t.awaitingPong === (this.wait === Wait.Pong);
  }
}

/** The shared heartbeat timer of one engine. */
export class Heartbeat {
  #pings: DeadlineQueue;
  #pongs: DeadlineQueue;
  #clientPings: DeadlineQueue;
  #size = 0;
  readonly #scheduler: Scheduler;
  #timer: TimerHandle;
  #armedFor = Infinity;
  // Made once: arming the timer allocates nothing of its own.
  readonly #fire = () => this.#onTimer();

  /**
   * @param pingInterval ms from an open or a pong to the next ping
   * @param pingTimeout ms from a ping to the close of a session that did not answer
   * @param scheduler the clock and the timer (the engine's)
   */
  constructor(
    readonly pingInterval: number,
    readonly pingTimeout: number,
    scheduler: Scheduler = defaultScheduler,
  ) {
    this.#scheduler = scheduler;
    this.#pings = new DeadlineQueue(pingInterval, Wait.Ping);
    this.#pongs = new DeadlineQueue(pingTimeout, Wait.Pong);
    this.#clientPings = new DeadlineQueue(pingInterval + pingTimeout, Wait.ClientPing);
  }

  /** Starts watching a session that just opened. */
  add(target: HeartbeatTarget): void {
    target.awaitingPong = false;
    this.#size++;
    this.#wait(target, this.#scheduler.now());
    this.#arm();
  }

  /**
   * Watches a session restored after its process went away (a Durable Object that hibernated),
   * whose current round started at `beat` (its open, or its last pong / v3 client ping): it keeps
   * its deadlines. A v4 session whose ping was due since is pinged again now (a ping more is
   * harmless, one missing closes the client) and keeps its pong deadline.
   *
   * @returns false when the session's deadline passed already: it is not watched, close it
   */
  restore(target: HeartbeatTarget, beat: number): boolean {
    const now = this.#scheduler.now();
    let queue: DeadlineQueue;
    let deadline: number;
    target.awaitingPong = false;
    if (target.protocol === 3) {
      queue = this.#clientPings;
      deadline = beat + this.#clientPings.delay;
    } else if (beat + this.pingInterval > now) {
      queue = this.#pings;
      deadline = beat + this.pingInterval;
    } else {
      queue = this.#pongs;
      deadline = beat + this.pingInterval + this.pingTimeout;
      target.awaitingPong = true;
    }
    if (deadline <= now) return false;
    this.#size++;
    target.heartbeatDue = deadline;
    queue.insert(target, deadline);
    if (target.awaitingPong) target.ping();
    this.#arm();
    return true;
  }

  /**
   * When the current round of a watched session started (its open, or its last pong / v3 client
   * ping): what {@linkcode Heartbeat.restore} takes back. -1 when not watched.
   */
  roundStart(target: HeartbeatTarget): number {
    const due = target.heartbeatDue;
    if (due < 0) return -1;
    if (target.protocol === 3) return due - this.pingInterval - this.pingTimeout;
    return target.awaitingPong
      ? due - this.pingTimeout - this.pingInterval
      : due - this.pingInterval;
  }

  /** A pong (v4) or a client's ping (v3) came in: the session's next deadline starts now. */
  beat(target: HeartbeatTarget): void {
    const was = target.heartbeatDue;
    if (was < 0) return;
    target.awaitingPong = false;
    this.#wait(target, this.#scheduler.now());
    // The timer may be armed for a later deadline (a pong's, when pingInterval is shorter than
    // pingTimeout): it is armed earlier. Or for this session's old deadline, which is gone: it is
    // armed for the next one rather than left to fire for nothing (on Workers, the Durable
    // Object's alarm would wake it in vain and keep it from hibernating).
    if (was === this.#armedFor) this.#armedFor = Infinity;
    this.#arm();
  }

  /** Stops watching a session (stopping the timer after the last one). */
  delete(target: HeartbeatTarget): void {
    if (target.heartbeatDue < 0) return;
    target.heartbeatDue = -1;
    if (--this.#size === 0) this.stop();
  }

  /** Stops the timer and forgets every session. */
  stop(): void {
    this.#scheduler.clear(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
    this.#pings.clear();
    this.#pongs.clear();
    this.#clientPings.clear();
    this.#size = 0;
  }

  #wait(target: HeartbeatTarget, now: number): void {
    const queue = target.protocol === 3 ? this.#clientPings : this.#pings;
    target.heartbeatDue = queue.push(target, now);
  }

  /** Arms the timer for the earliest deadline, unless it is armed for that one or earlier. */
  #arm(): void {
    const next = Math.min(this.#pings.peek(), this.#pongs.peek(), this.#clientPings.peek());
    if (next >= this.#armedFor) return;
    const scheduler = this.#scheduler;
    scheduler.clear(this.#timer);
    this.#armedFor = next;
    this.#timer = next === Infinity
      ? undefined
      : scheduler.set(this.#fire, Math.max(0, next - scheduler.now()));
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = this.#scheduler.now();
    // Pongs first: a session timed out is not pinged in the same turn.
    while (this.#pongs.peek() <= now) {
      const t = this.#pongs.shift();
      this.#forget(t);
      timeOut(t);
    }
    while (this.#clientPings.peek() <= now) {
      const t = this.#clientPings.shift();
      this.#forget(t);
      timeOut(t);
    }
    while (this.#pings.peek() <= now) {
      const t = this.#pings.shift();
      t.awaitingPong = true;
      // Read again for each ping: under load the pings before it may take a while to write, and
      // a session gets its whole pingTimeout from its own ping.
      t.heartbeatDue = this.#pongs.push(t, this.#scheduler.now());
      try {
        t.ping();
      } catch (err) {
        // A write the runtime refused: the other sessions are pinged all the same.
        report(err);
      }
    }
    if (this.#size > 0) this.#arm();
  }

  #forget(target: HeartbeatTarget): void {
    target.heartbeatDue = -1;
    this.#size--;
  }
}

/**
 * Times a session out. Its close runs the app's listeners (`socket.conn.on("close")`): one that
 * throws is reported, and neither stops the other sessions' heartbeat nor ends the process.
 */
function timeOut(target: HeartbeatTarget): void {
  try {
    target.timeout();
  } catch (err) {
    report(err);
  }
}
