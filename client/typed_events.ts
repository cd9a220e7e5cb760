/**
 * Typed events of the client, shaped like npm `socket.io-client`'s so that
 * `ServerToClientEvents` / `ClientToServerEvents` interfaces port unchanged. Browser compatible.
 *
 * The emitter underneath is the parser's {@linkcode Emitter}: this module only gives it the
 * official typings, and adds no code.
 *
 * @module
 */
import { Emitter } from "../parser/emitter.ts";

/**
 * A map of event names to listener signatures.
 *
 * @example
 * ```ts
 * import type { EventsMap } from "@socketio-edge/core/client";
 *
 * const events: EventsMap = { chat: (text: string) => console.log(text) };
 * console.log(Object.keys(events));
 * ```
 */
export interface EventsMap {
  /** An event's listener signature. */
  // deno-lint-ignore no-explicit-any
  [event: string]: any;
}

/**
 * The map used when none is given: any event, any arguments.
 *
 * @example
 * ```ts
 * import type { DefaultEventsMap } from "@socketio-edge/core/client";
 *
 * const events: DefaultEventsMap = { anything: (...args) => console.log(args) };
 * console.log(Object.keys(events));
 * ```
 */
export interface DefaultEventsMap {
  /** Any listener. */
  // deno-lint-ignore no-explicit-any
  [event: string]: (...args: any[]) => void;
}

/**
 * The event names of a map.
 *
 * @example
 * ```ts
 * import type { EventNames } from "@socketio-edge/core/client";
 *
 * const name: EventNames<{ chat: () => void }> = "chat";
 * console.log(name);
 * ```
 */
export type EventNames<Map extends EventsMap> = keyof Map & string;

/**
 * The parameters of one event of a map.
 *
 * @example
 * ```ts
 * import type { EventParams } from "@socketio-edge/core/client";
 *
 * const args: EventParams<{ chat: (text: string) => void }, "chat"> = ["hi"];
 * console.log(args);
 * ```
 */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Parameters<Map[Ev]>;

/**
 * Reserved event names, then user event names.
 *
 * @example
 * ```ts
 * import type { ReservedOrUserEventNames } from "@socketio-edge/core/client";
 *
 * const name: ReservedOrUserEventNames<{ connect: () => void }, { chat: () => void }> = "connect";
 * console.log(name);
 * ```
 */
export type ReservedOrUserEventNames<Reserved extends EventsMap, User extends EventsMap> =
  | EventNames<Reserved>
  | EventNames<User>;

/**
 * The listener type of a reserved or user event; untyped for an event of neither map.
 *
 * @example
 * ```ts
 * import type { ReservedOrUserListener } from "@socketio-edge/core/client";
 *
 * const fn: ReservedOrUserListener<{}, { chat: (t: string) => void }, "chat"> = (t) => console.log(t);
 * fn("hi");
 * ```
 */
export type ReservedOrUserListener<
  Reserved extends EventsMap,
  User extends EventsMap,
  Ev extends ReservedOrUserEventNames<Reserved, User>,
> = FallbackToUntypedListener<
  Ev extends EventNames<Reserved> ? Reserved[Ev]
    : Ev extends EventNames<User> ? User[Ev]
    : never
>;

/**
 * `never` (an event of no map) becomes an untyped listener.
 *
 * @example
 * ```ts
 * import type { FallbackToUntypedListener } from "@socketio-edge/core/client";
 *
 * const fn: FallbackToUntypedListener<never> = (...args) => console.log(args);
 * fn(1, 2);
 * ```
 */
export type FallbackToUntypedListener<T> = [T] extends [never]
  // deno-lint-ignore no-explicit-any
  ? (...args: any[]) => void | Promise<void>
  : T;

/**
 * The last element of a tuple (the ack callback of an event's parameters).
 *
 * @example
 * ```ts
 * import type { Last } from "@socketio-edge/core/client";
 *
 * const last: Last<[string, number]> = 1;
 * console.log(last);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type Last<T extends any[]> = T extends [...infer _H, infer L] ? L : any;

/**
 * All elements of a tuple but the last.
 *
 * @example
 * ```ts
 * import type { AllButLast } from "@socketio-edge/core/client";
 *
 * const head: AllButLast<[string, number]> = ["a"];
 * console.log(head);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AllButLast<T extends any[]> = T extends [...infer H, infer _L] ? H : any[];

/**
 * The first parameter of a function type (what an ack answers with).
 *
 * @example
 * ```ts
 * import type { FirstArg } from "@socketio-edge/core/client";
 *
 * const answer: FirstArg<(n: number) => void> = 42;
 * console.log(answer);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type FirstArg<T> = T extends (arg: infer Param) => any ? Param : any;

/**
 * Functions of a tuple with an error first (what `timeout()` does to acks).
 *
 * @example
 * ```ts
 * import type { PrependTimeoutError } from "@socketio-edge/core/client";
 *
 * const acks: PrependTimeoutError<[(n: number) => void]> = [(err, n) => console.log(err, n)];
 * console.log(acks.length);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type PrependTimeoutError<T extends any[]> = {
  [K in keyof T]: T[K] extends (...args: infer Params) => infer Result
    ? (err: Error, ...args: Params) => Result
    : T[K];
};

/**
 * An event map whose acks take an error first.
 *
 * @example
 * ```ts
 * import type { DecorateAcknowledgements } from "@socketio-edge/core/client";
 *
 * type Events = DecorateAcknowledgements<{ ask: (q: string, ack: (a: string) => void) => void }>;
 * const ask: Events["ask"] = (q, ack) => ack(null as unknown as Error, q);
 * console.log(typeof ask);
 * ```
 */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: PrependTimeoutError<Params>) => Result
    : E[K];
};

/**
 * The listening half of an emitter typed like the official client's: user events and reserved
 * ones.
 *
 * @example
 * ```ts
 * import type { TypedEmitter } from "@socketio-edge/core/client";
 *
 * declare const e: TypedEmitter<{ chat: (t: string) => void }, { connect: () => void }>;
 * console.log(typeof e);
 * ```
 */
export interface TypedEmitter<ListenEvents extends EventsMap, ReservedEvents extends EventsMap> {
  /**
   * Adds a listener.
   *
   * @param ev the event name
   * @param listener the listener
   * @returns this emitter
   */
  on<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /**
   * Adds a listener called once.
   *
   * @param ev the event name
   * @param listener the listener
   * @returns this emitter
   */
  once<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /**
   * Removes a listener, all of an event, or all.
   *
   * @param ev the event name; omit for all events
   * @param listener the listener; omit for all of `ev`
   * @returns this emitter
   */
  off<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>,
  ): this;
  /**
   * The listeners of an event.
   *
   * @param ev the event name
   * @returns the listeners
   */
  listeners<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(
    ev: Ev,
  ): ReservedOrUserListener<ReservedEvents, ListenEvents, Ev>[];
  /**
   * How many listeners an event has.
   *
   * @param ev the event name
   * @returns the count
   */
  listenerCount<Ev extends ReservedOrUserEventNames<ReservedEvents, ListenEvents>>(ev: Ev): number;
}

/**
 * The parser's {@linkcode Emitter}, typed as a {@linkcode TypedEmitter} (no extra code).
 *
 * @example
 * ```ts
 * import { TypedEmitter } from "@socketio-edge/core/client";
 *
 * class Chat extends TypedEmitter<{ message: (text: string) => void }, {}> {}
 * new Chat().on("message", (text) => console.log(text.length));
 * ```
 */
export const TypedEmitter: new <
  ListenEvents extends EventsMap,
  ReservedEvents extends EventsMap,
>() => TypedEmitter<ListenEvents, ReservedEvents> = Emitter as never;

/** Emits `ev` locally on an emitter whose own `emit` sends elsewhere. */
export const emitLocal = (target: object, ev: string, ...args: unknown[]): boolean =>
  Emitter.prototype.emit.call(target as Emitter<Record<string, unknown[]>>, ev, ...args);
