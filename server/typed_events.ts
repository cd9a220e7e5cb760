/**
 * Typed listeners for the server's sockets and namespaces; the event-map types themselves are
 * shared with the client (`parser/typed_events.ts`). Browser compatible.
 *
 * @module
 */
import type {
  EventNames,
  EventParams,
  EventsMap,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../parser/typed_events.ts";
import { reportRejection } from "./runtime/report.ts";

export type * from "../parser/typed_events.ts";

// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => unknown;
// A `once` wrapper remembers the listener it wraps, so `off(event, listener)` finds it.
type Stored = AnyFn & { listener?: AnyFn };

/**
 * An emitter whose `on`/`once`/`off` accept the user's listen events and the reserved ones,
 * and whose own `emit` is left free for subclasses (sockets send with it). Listeners are called
 * with `this` set to the object, as Node's `EventEmitter` does.
 */
export class TypedListeners<ListenEvents extends EventsMap, ReservedEvents extends EventsMap> {
  // Copy-on-write arrays: emit walks the current one without copying it.
  #listeners: Map<string, readonly Stored[]> | undefined;

  #add(ev: string, fn: Stored, prepend: boolean): this {
    ev = String(ev);
    const map = (this.#listeners ??= new Map());
    const list = map.get(ev);
    map.set(ev, list === undefined ? [fn] : prepend ? [fn, ...list] : [...list, fn]);
    return this;
  }

  #once(ev: string, fn: AnyFn): Stored {
    const wrapper: Stored = (...args: unknown[]) => {
      this.off(ev as never, fn as never);
      return fn.apply(this, args);
    };
    wrapper.listener = fn;
    return wrapper;
  }

  /** Adds a listener. */
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.#add(ev, listener as AnyFn, false);
  }

  /** Alias of {@linkcode TypedListeners.on}. */
  addListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.#add(ev, listener as AnyFn, false);
  }

  /** Adds a listener in front of the others. */
  prependListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.#add(ev, listener as AnyFn, true);
  }

  /** Adds a listener called once. */
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.#add(ev, this.#once(ev, listener as AnyFn), false);
  }

  /** Adds a listener called once, in front of the others. */
  prependOnceListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.#add(ev, this.#once(ev, listener as AnyFn), true);
  }

  /** Removes a listener, all listeners of an event, or every listener. */
  off<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    const map = this.#listeners;
    if (map === undefined) return this;
    if (ev === undefined) {
      map.clear();
      return this;
    }
    ev = String(ev) as Ev;
    const list = map.get(ev);
    if (list === undefined) return this;
    if (listener === undefined) {
      map.delete(ev);
      return this;
    }
    // The last registration goes first, as in Node.
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i].listener === listener) {
        if (list.length === 1) map.delete(ev);
        else map.set(ev, list.toSpliced(i, 1));
        break;
      }
    }
    return this;
  }

  /** Alias of {@linkcode TypedListeners.off} with one listener. */
  removeListener<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.off(ev, listener);
  }

  /** Removes all listeners of an event, or every listener. */
  removeAllListeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
  ): this {
    return this.off(ev);
  }

  /** The listeners of an event. */
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[] {
    const list = this.#listeners?.get(ev);
    if (list === undefined) return [];
    return list.map((s) => s.listener ?? s) as ReservedOrUserListener<
      ReservedEvents,
      ListenEvents,
      Ev
    >[];
  }

  /** How many listeners an event has. */
  listenerCount<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(ev: Ev): number {
    return this.#listeners?.get(ev)?.length ?? 0;
  }

  /** The names of the events that have listeners. */
  eventNames(): string[] {
    return this.#listeners ? [...this.#listeners.keys()] : [];
  }

  /** Emits a reserved event locally. @internal */
  emitReserved<Ev extends EventNames<ReservedEvents>>(
    ev: Ev,
    ...args: EventParams<ReservedEvents, Ev>
  ): boolean {
    return this.emitUntyped(ev, ...args);
  }

  /**
   * Emits an event given as `[name, ...args]` (an incoming packet's data) without spreading it
   * into a call and back into a rest array. @internal
   */
  _emitEvent(event: unknown[]): boolean {
    return this._emitArgs(event[0], event.slice(1));
  }

  /** Emits the event `ev` (a name from a packet) with `args` as they are. @internal */
  _emitArgs(ev: unknown, args: unknown[]): boolean {
    // Numeric event names (allowed by the protocol) match string keys, as in Node. Any other
    // name (a custom parser's, e.g. msgpack's, may decode an object there) matches none: String()
    // of a hostile object throws.
    const name = typeof ev === "string" ? ev : typeof ev === "number" ? String(ev) : undefined;
    const list = name === undefined ? undefined : this.#listeners?.get(name);
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i++) {
      const result: unknown = list[i].apply(this, args);
      // An async listener's rejection is reported, as a throw is: unhandled, it would end the
      // process.
      if (result !== undefined) reportRejection(result);
    }
    return true;
  }

  /** Emits any event locally. @internal */
  emitUntyped(ev: string, ...args: unknown[]): boolean {
    return this._emitArgs(ev, args);
  }
}
