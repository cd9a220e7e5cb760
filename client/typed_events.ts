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
import type {
  EventsMap,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../parser/typed_events.ts";

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
