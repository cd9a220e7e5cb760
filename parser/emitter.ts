/**
 * A tiny typed event emitter. Browser compatible.
 *
 * Listener lists are copy-on-write: `on`/`off` build a new array, so `emit` walks the current
 * one without copying it, and a listener that adds or removes listeners during an emit does
 * not change who is called for that emit.
 *
 * @module
 */

/**
 * A listener for an event whose arguments are `Args`.
 *
 * @example
 * ```ts
 * import type { Listener } from "@socketio-edge/core/parser";
 *
 * const log: Listener<[string, number]> = (name, count) => console.log(name, count);
 * log("hits", 3);
 * ```
 */
export type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * The events of an emitter: each name maps to the tuple of arguments its listeners receive.
 *
 * @example
 * ```ts
 * import type { EventMap } from "@socketio-edge/core/parser";
 *
 * type ChatEvents = { message: [text: string]; typing: [] };
 * const ok: EventMap<ChatEvents> = { message: ["hi"], typing: [] };
 * console.log(ok.message[0]);
 * ```
 */
export type EventMap<Events> = { [K in keyof Events]: unknown[] };

// A `once` wrapper remembers the listener it wraps, so `off(event, listener)` finds it.
type Stored = ((...args: unknown[]) => void) & { listener?: unknown };

/**
 * A small, fast, typed event emitter with `on`, `once`, `off` and `emit`.
 *
 * Listeners run synchronously in the order they were added, with `this` set to the emitter.
 * An exception thrown by a listener propagates out of `emit`.
 *
 * @example
 * ```ts
 * import { Emitter } from "@socketio-edge/core/parser";
 *
 * const chat = new Emitter<{ message: [text: string] }>();
 * chat.on("message", (text) => console.log("got", text));
 * chat.emit("message", "hello"); // got hello
 * ```
 */
export class Emitter<Events extends EventMap<Events>> {
  // Made on the first `on`: many emitters (sessions, sockets) never get a listener.
  #listeners: Map<keyof Events, readonly Stored[]> | undefined;

  /**
   * Calls `listener` every time `event` is emitted.
   *
   * @example
   * ```ts
   * import { Emitter } from "@socketio-edge/core/parser";
   *
   * const e = new Emitter<{ tick: [n: number] }>();
   * e.on("tick", (n) => console.log(n));
   * e.emit("tick", 1);
   * ```
   *
   * @param event the event name
   * @param listener called with the event's arguments
   * @returns this emitter, for chaining
   */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const listeners = this.#listeners ??= new Map();
    const list = listeners.get(event);
    const stored = listener as Stored;
    listeners.set(event, list === undefined ? [stored] : [...list, stored]);
    return this;
  }

  /**
   * Calls `listener` the next time `event` is emitted, then removes it.
   *
   * @example
   * ```ts
   * import { Emitter } from "@socketio-edge/core/parser";
   *
   * const e = new Emitter<{ ready: [] }>();
   * e.once("ready", () => console.log("ready"));
   * e.emit("ready"); // ready
   * e.emit("ready"); // (nothing)
   * ```
   *
   * @param event the event name
   * @param listener called once with the event's arguments
   * @returns this emitter, for chaining
   */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const wrapper: Stored = (...args: unknown[]): void => {
      this.off(event, listener);
      (listener as Stored).apply(this, args);
    };
    wrapper.listener = listener;
    return this.on(event, wrapper as Listener<Events[K]>);
  }

  /**
   * Removes listeners: one `listener` of `event`, every listener of `event`, or every listener
   * when called with no argument.
   *
   * @example
   * ```ts
   * import { Emitter } from "@socketio-edge/core/parser";
   *
   * const e = new Emitter<{ tick: [n: number] }>();
   * const log = (n: number) => console.log(n);
   * e.on("tick", log).off("tick", log);
   * console.log(e.emit("tick", 1)); // false
   * ```
   *
   * @param event the event name; omit to remove every listener of every event
   * @param listener the listener to remove (added by `on` or `once`); omit to remove all of
   * `event`'s
   * @returns this emitter, for chaining
   */
  off<K extends keyof Events>(event?: K, listener?: Listener<Events[K]>): this {
    if (event === undefined) {
      this.#listeners = undefined;
      return this;
    }
    const list = this.#listeners?.get(event);
    if (list === undefined) return this;
    if (listener === undefined) {
      this.#listeners!.delete(event);
      return this;
    }
    for (let i = 0; i < list.length; i++) {
      const stored = list[i];
      if (stored === listener || stored.listener === listener) {
        if (list.length === 1) this.#listeners!.delete(event);
        else this.#listeners!.set(event, list.slice(0, i).concat(list.slice(i + 1)));
        break;
      }
    }
    return this;
  }

  /**
   * Calls every listener of `event` with `args`, in the order they were added.
   *
   * @example
   * ```ts
   * import { Emitter } from "@socketio-edge/core/parser";
   *
   * const e = new Emitter<{ sum: [a: number, b: number] }>();
   * e.on("sum", (a, b) => console.log(a + b));
   * console.log(e.emit("sum", 1, 2)); // 3, then true
   * ```
   *
   * @param event the event name
   * @param args the arguments passed to each listener
   * @returns true when the event had listeners
   */
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    const list = this.#listeners?.get(event);
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i++) list[i].apply(this, args);
    return true;
  }

  /**
   * The listeners of `event`, in call order (a `once` listener appears as itself).
   *
   * @example
   * ```ts
   * import { Emitter } from "@socketio-edge/core/parser";
   *
   * const e = new Emitter<{ tick: [] }>();
   * const onTick = () => {};
   * e.once("tick", onTick);
   * console.log(e.listeners("tick")[0] === onTick); // true
   * ```
   *
   * @param event the event name
   * @returns a copy of the listener list
   */
  listeners<K extends keyof Events>(event: K): Listener<Events[K]>[] {
    const list = this.#listeners?.get(event);
    if (list === undefined) return [];
    return list.map((s) => (s.listener ?? s) as Listener<Events[K]>);
  }

  /**
   * How many listeners `event` has.
   *
   * @example
   * ```ts
   * import { Emitter } from "@socketio-edge/core/parser";
   *
   * const e = new Emitter<{ tick: [] }>();
   * e.on("tick", () => {});
   * console.log(e.listenerCount("tick")); // 1
   * ```
   *
   * @param event the event name
   * @returns the number of listeners of `event`
   */
  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners?.get(event)?.length ?? 0;
  }
}
