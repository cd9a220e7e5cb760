/**
 * Typed events, shaped like the official `socket.io` typings so that `ServerToClientEvents` /
 * `ClientToServerEvents` interfaces port unchanged. Browser compatible.
 *
 * @module
 */
import { Emitter } from "../parser/emitter.ts";

/** A map of event names to listener signatures. */
// deno-lint-ignore no-explicit-any
export interface EventsMap {
  [event: string]: any;
}

/** The map used when none is given: any event, any arguments. */
export interface DefaultEventsMap {
  // deno-lint-ignore no-explicit-any
  [event: string]: (...args: any[]) => void;
}

/** The event names of a map. */
export type EventNames<Map extends EventsMap> = keyof Map & string;

/** The parameters of one event of a map. */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

/** A listener of one event of a map. */
export type EventListener<Map extends EventsMap, Ev extends EventNames<Map>> = Map[Ev];

/** Reserved event names, then user event names. */
export type ReservedOrUserEventNames<Reserved extends EventsMap, User extends EventsMap> =
  | EventNames<Reserved>
  | EventNames<User>;

/** The listener type of a reserved or user event. */
export type ReservedOrUserListener<
  Reserved extends EventsMap,
  User extends EventsMap,
  Ev extends ReservedOrUserEventNames<Reserved, User>,
> = FallbackToUntypedListener<
  Ev extends EventNames<Reserved> ? Reserved[Ev]
    : Ev extends EventNames<User> ? User[Ev]
    : never
>;

/** `never` listeners (an event of no map) fall back to an untyped listener. */
// deno-lint-ignore no-explicit-any
export type FallbackToUntypedListener<T> = [T] extends [never] ? (...args: any[]) => void : T;

/** The last parameter of a function type, for ack callbacks. */
// deno-lint-ignore no-explicit-any
export type Last<T extends any[]> = T extends [...infer _H, infer L] ? L : any;

/** All parameters but the last. */
// deno-lint-ignore no-explicit-any
export type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];

/** The first parameter of an ack callback, if any. */
// deno-lint-ignore no-explicit-any
export type FirstArg<T> = T extends (arg: infer Param) => any ? Param : any;

/** An ack callback with an error first (what `timeout()` turns acks into). */
// deno-lint-ignore no-explicit-any
export type PrependTimeoutError<T extends any[]> = {
  [K in keyof T]: T[K] extends (...args: infer Params) => infer Result
    ? (err: Error, ...args: Params) => Result
    : T[K];
};

/** The event map with acks taking an error first. */
export type DecorateAcknowledgements<E> = {
  // deno-lint-ignore no-explicit-any
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: PrependTimeoutError<Params>) => Result
    : E[K];
};

/** The event map with acks answering one array per receiver (broadcasts). */
export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: ExpectMultipleResponses<Params>) => Result
    : E[K];
};

/** Turns an ack `(res) => void` into `(err, res[]) => void`. */
// deno-lint-ignore no-explicit-any
export type ExpectMultipleResponses<T extends any[]> = {
  [K in keyof T]: T[K] extends (err: Error, arg: infer Arg) => infer Result
    ? (err: Error, arg: Arg[]) => Result
    // deno-lint-ignore no-explicit-any
    : T[K] extends (...args: any[]) => infer Result ? (err: Error, ...args: any[]) => Result
    : T[K];
};

/** `emitWithAck`'s promise type: the ack's first argument. */
// deno-lint-ignore no-explicit-any
export type AckResult<Map extends EventsMap, Ev extends EventNames<Map>> = FirstArg<
  Last<EventParams<Map, Ev>>
>;

// deno-lint-ignore no-explicit-any
type Untyped = Record<string, any[]>;
// deno-lint-ignore no-explicit-any
type AnyFn = (...args: any[]) => void;

/**
 * An emitter whose `on`/`once`/`off` accept the user's listen events and the reserved ones,
 * and whose own `emit` is left free for subclasses (sockets send with it).
 */
export class TypedListeners<ListenEvents extends EventsMap, ReservedEvents extends EventsMap> {
  /** @internal */
  readonly _events: Emitter<Untyped> = new Emitter();

  /** Adds a listener. */
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    this._events.on(ev, listener as AnyFn);
    return this;
  }

  /** Adds a listener called once. */
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    this._events.once(ev, listener as AnyFn);
    return this;
  }

  /** Removes a listener, all listeners of an event, or every listener. */
  off<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this {
    this._events.off(ev, listener as AnyFn);
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
    this._events.off(ev);
    return this;
  }

  /** The listeners of an event. */
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[] {
    return this._events.listeners(ev) as ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[];
  }

  /** How many listeners an event has. */
  listenerCount<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(ev: Ev): number {
    return this._events.listenerCount(ev);
  }

  /** Emits a reserved event locally. @internal */
  emitReserved<Ev extends EventNames<ReservedEvents>>(
    ev: Ev,
    ...args: EventParams<ReservedEvents, Ev>
  ): boolean {
    return this._events.emit(ev, ...args);
  }

  /** Emits any event locally. @internal */
  emitUntyped(ev: string, ...args: unknown[]): boolean {
    return this._events.emit(ev, ...args);
  }
}
