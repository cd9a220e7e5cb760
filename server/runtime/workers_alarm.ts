/**
 * The server's timers on Cloudflare Workers: every one of them (the heartbeat of all sessions,
 * the namespace-join deadline, ack timeouts, the upgrade's) kept in one heap, behind the Durable
 * Object's one alarm. A pending `setTimeout` keeps an object in memory, an alarm does not: the
 * object may hibernate between two heartbeat rounds, and the alarm brings it back when the next
 * timer is due. Timers due within {@linkcode AlarmSchedulerOptions.localWithin} (10 s: the poll
 * release of an upgrade, the upgrade timeout, usual ack timeouts) run on `setTimeout` instead:
 * an idle object stays in memory about that long anyway, and a timer that fires wakes it either
 * way, but one set and cleared again (an ack answered in time) then costs no storage write, and
 * holds no message back behind one (workerd sends nothing until a write is stored).
 *
 * @module
 */
import { report } from "./report.ts";
import type { Scheduler, TimerHandle } from "./scheduler.ts";

/** The alarm calls of a Durable Object's storage. */
export interface AlarmStorage {
  /** The time the alarm is set for, or null. */
  getAlarm(): Promise<number | null>;
  /** Sets the object's one alarm; its `alarm()` handler runs then. */
  setAlarm(scheduledTime: number): Promise<void>;
  /** Clears the alarm. */
  deleteAlarm(): Promise<void>;
}

/** Options of {@linkcode AlarmScheduler}. */
export interface AlarmSchedulerOptions {
  /**
   * Timers due within this many ms run on `setTimeout` rather than the alarm (default 10000, about
   * how long an idle object stays in memory before it hibernates).
   */
  localWithin?: number;
}

/**
 * One timer in the heap; `seq` orders timers due at the same time as they were set, `i` is its
 * index in the heap, -1 once it ran or was cleared.
 */
interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  i: number;
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A {@linkcode Scheduler} on a Durable Object's alarm: call {@linkcode AlarmScheduler.fire}
 * from the object's `alarm()` handler, and {@linkcode AlarmScheduler.load} once at start.
 *
 * @example In a Durable Object (the Workers entry does this)
 * ```ts ignore
 * const scheduler = new AlarmScheduler(ctx.storage);
 * await scheduler.load();
 * const io = new Server({ scheduler });
 * // alarm() { scheduler.fire(); }
 * ```
 */
export class AlarmScheduler implements Scheduler {
  readonly #storage: AlarmStorage;
  readonly #localWithin: number;
  readonly #heap: Timer[] = [];
  /** When the alarm is set for, Infinity when none is (as far as this process knows). */
  #alarmAt = Infinity;
  #local: ReturnType<typeof setTimeout> | undefined;
  #localAt = Infinity;
  #seq = 0;
  #syncQueued = false;

  /**
   * @param storage the object's `ctx.storage`
   * @param opts options
   */
  constructor(storage: AlarmStorage, opts: AlarmSchedulerOptions = {}) {
    this.#storage = storage;
    this.#localWithin = opts.localWithin ?? 10_000;
  }

  /** Reads the alarm an earlier process set, so that it is not set again for nothing. */
  async load(): Promise<void> {
    const at = await this.#storage.getAlarm();
    this.#alarmAt = at ?? Infinity;
  }

  now(): number {
    return Date.now();
  }

  set(fn: () => void, ms: number): TimerHandle {
    const at = Date.now() + Math.max(0, Number(ms) || 0);
    const timer: Timer = { at, seq: this.#seq++, fn, i: 0 };
    this.#push(timer);
    this.#arm();
    return timer;
  }

  clear(handle: TimerHandle): void {
    const timer = handle as Timer | undefined;
    if (typeof timer !== "object" || timer === null || !(timer.i >= 0)) return;
    if (this.#heap[timer.i] !== timer) return; // not one of ours
    this.#remove(timer.i);
    this.#arm();
  }

  /** The object's `alarm()`: runs what is due, and sets the alarm for what comes next. */
  fire(): void {
    this.#alarmAt = Infinity;
    this.#run();
  }

  /** How many timers are pending. */
  get size(): number {
    return this.#heap.length;
  }

  #run(): void {
    const now = Date.now();
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].at <= now) {
      const timer = heap[0];
      this.#remove(0);
      try {
        timer.fn();
      } catch (err) {
        report(err);
      }
    }
    this.#arm();
  }

  /**
   * A local timer for the next timer when it is near, else the alarm for it, moved when the next
   * timer changes (a write costs less than waking the object for nothing).
   */
  #arm(): void {
    const next = this.#heap.length > 0 ? this.#heap[0].at : Infinity;
    const now = Date.now();
    if (next - now <= this.#localWithin) {
      if (this.#localAt === next) return;
      clearTimeout(this.#local);
      this.#localAt = next;
      this.#local = setTimeout(() => {
        this.#local = undefined;
        this.#localAt = Infinity;
        this.#run();
      }, Math.max(0, next - now));
      return;
    }
    if (this.#local !== undefined) {
      // The near timer it was for was cleared: nothing may keep the object awake for it.
      clearTimeout(this.#local);
      this.#local = undefined;
      this.#localAt = Infinity;
    }
    // Once at the end of the turn: a timer cleared and set again (the heartbeat, on a pong)
    // moves the alarm once.
    if (next === this.#alarmAt || this.#syncQueued) return;
    this.#syncQueued = true;
    queueMicrotask(() => this.#syncAlarm());
  }

  #syncAlarm(): void {
    this.#syncQueued = false;
    const next = this.#heap.length > 0 ? this.#heap[0].at : Infinity;
    // Near: the local timer covers it, and the alarm is set again once it ran.
    if (next === this.#alarmAt || next - Date.now() <= this.#localWithin) return;
    this.#alarmAt = next;
    if (next === Infinity) this.#storage.deleteAlarm().catch(report);
    else this.#storage.setAlarm(next).catch(report);
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    timer.i = heap.length;
    heap.push(timer);
    this.#up(timer.i);
  }

  #remove(i: number): void {
    const heap = this.#heap;
    const timer = heap[i];
    const last = heap.pop()!;
    timer.i = -1;
    if (last === timer) return;
    heap[i] = last;
    last.i = i;
    this.#down(i);
    this.#up(i);
  }

  #up(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && before(heap[l], heap[min])) min = l;
      if (r < heap.length && before(heap[r], heap[min])) min = r;
      if (min === i) return;
      this.#swap(i, min);
      i = min;
    }
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
    heap[a].i = a;
    heap[b].i = b;
  }
}
