/**
 * Typed events shared by server and client, shaped like the official `socket.io` typings so that
 * `ServerToClientEvents` / `ClientToServerEvents` interfaces port unchanged. Types only; browser
 * compatible.
 *
 * @module
 */

/** A map of event names to listener signatures. */
export interface EventsMap {
  /** An event's listener signature. */
  // deno-lint-ignore no-explicit-any
  [event: string]: any;
}

/** The map used when none is given: any event, any arguments. */
export interface DefaultEventsMap {
  /** Any listener. */
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
export type FallbackToUntypedListener<T> = [T] extends [never]
  // deno-lint-ignore no-explicit-any
  ? (...args: any[]) => void | Promise<void>
  : T;

/** Whether `T` is `any`. */
export type IsAny<T> = 0 extends 1 & T ? true : false;

/** The last element of a tuple (the ack callback of an event's parameters). */
export type Last<T extends readonly unknown[]> = T extends readonly [infer Only] ? Only
  : T extends readonly [unknown, ...infer Tail] ? Last<Tail>
  : T extends ReadonlyArray<infer Item> ? Item
  : never;

/** All parameters but the last. */
// deno-lint-ignore no-explicit-any
export type AllButLast<T extends any[]> = T extends [...infer Head, infer _Last] ? Head : any[];

/** The first parameter of an ack callback, if any. */
// deno-lint-ignore no-explicit-any
export type FirstArg<T> = T extends (arg: infer Param) => any ? Param : any;

/** The first parameter that is not the error of a `timeout()` ack. */
export type FirstNonErrorTuple<T extends unknown[]> = T[0] extends Error ? T[1] : T[0];

/** What `emitWithAck` resolves with: the ack's first non-error parameter. */
// deno-lint-ignore no-explicit-any
export type FirstNonErrorArg<T> = T extends (...args: infer P) => any ? FirstNonErrorTuple<P>
  // deno-lint-ignore no-explicit-any
  : any;

/** Event names whose last parameter is an ack callback. */
export type EventNamesWithAck<Map extends EventsMap, K extends EventNames<Map> = EventNames<Map>> =
  IsAny<Last<Parameters<Map[K]>> | Map[K]> extends true ? K
    : K extends (
      Parameters<Map[K]> extends never[] ? never
        // deno-lint-ignore no-explicit-any
        : Last<Parameters<Map[K]>> extends (...args: any[]) => any ? K
        : never
    ) ? K
    : never;

/** Event names whose ack takes an error first (what `timeout()` gives). */
export type EventNamesWithError<
  Map extends EventsMap,
  K extends EventNamesWithAck<Map> = EventNamesWithAck<Map>,
> = IsAny<Last<Parameters<Map[K]>> | Map[K]> extends true ? K
  : K extends (ParamsOf<Last<Parameters<Map[K]>>>[0] extends Error ? K : never) ? K
  : never;

/** The parameters of a function type (never for anything else). */
// deno-lint-ignore no-explicit-any
export type ParamsOf<T> = T extends (...args: infer P) => any ? P : never;

/** An ack callback with an error first (what `timeout()` turns acks into). */
// deno-lint-ignore no-explicit-any
export type PrependTimeoutError<T extends any[]> = {
  [K in keyof T]: T[K] extends (...args: infer Params) => infer Result
    ? Params[0] extends Error ? T[K] : (err: Error, ...args: Params) => Result
    : T[K];
};

/** The event map with acks taking an error first. */
export type DecorateAcknowledgements<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: PrependTimeoutError<Params>) => Result
    : E[K];
};

/** Every element of a tuple as an array. */
export type MultiplyArray<T extends unknown[]> = { [K in keyof T]: T[K][] };

/** The first element of a tuple, as a one-element tuple keeping its label. */
// deno-lint-ignore no-explicit-any
export type FirstWithLabel<T extends any[]> = T extends [any, ...infer Rest]
  ? T extends [...infer Head, ...Rest] ? Head : never
  : never;

/** Turns acks `(res) => void` into `(res[]) => void` (and `(err, res)` into `(err, res[])`). */
// deno-lint-ignore no-explicit-any
export type ExpectMultipleResponses<T extends any[]> = {
  [K in keyof T]: T[K] extends (...args: infer Params) => infer Result
    ? Params extends [Error] ? (err: Error) => Result
    : Params extends [Error, ...infer Rest]
      ? (err: Error, ...args: FirstWithLabel<MultiplyArray<Rest>>) => Result
    : Params extends [] ? () => Result
    : (...args: FirstWithLabel<MultiplyArray<Params>>) => Result
    : T[K];
};

/** The event map with acks answering one array entry per receiver (broadcasts). */
export type DecorateAcknowledgementsWithMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: ExpectMultipleResponses<Params>) => Result
    : E[K];
};

/** Broadcast acks with an error first and one response per receiver. */
export type DecorateAcknowledgementsWithTimeoutAndMultipleResponses<E> = {
  [K in keyof E]: E[K] extends (...args: infer Params) => infer Result
    ? (...args: ExpectMultipleResponses<PrependTimeoutError<Params>>) => Result
    : E[K];
};

/** `emitWithAck`'s promise type: the ack's first non-error argument. */
export type AckResult<Map extends EventsMap, Ev extends EventNames<Map>> = FirstNonErrorArg<
  Last<EventParams<Map, Ev>>
>;
