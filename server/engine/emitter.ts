/**
 * The engine's event emitter: the shared {@linkcode Emitter} plus the names of Node's
 * `EventEmitter` that code written for npm `engine.io` calls on its server and sessions (the
 * admin UI removes a session's `close` listener with `removeListener`). Kept out of the shared
 * emitter, which the client bundles carry. Browser compatible.
 *
 * @module
 */
import { Emitter, type EventMap, type Listener } from "../../parser/emitter.ts";

/**
 * An {@linkcode Emitter} that also answers to Node's `EventEmitter` names: the engine's server
 * and sessions are ones.
 *
 * @example Code written for npm `engine.io`
 * ```ts
 * import { Server } from "@socketio-edge/core/engine";
 *
 * const engine = new Server();
 * let polling = 0;
 * engine.on("connection", (socket) => {
 *   if (socket.transport.name !== "polling") return;
 *   polling++;
 *   const done = () => polling--;
 *   socket.once("close", done);
 *   socket.once("upgrade", () => {
 *     socket.removeListener("close", done);
 *     done();
 *   });
 * });
 * ```
 */
export class EngineEmitter<Events extends EventMap<Events>> extends Emitter<Events> {
  /**
   * Alias of `on`, as on Node's `EventEmitter`.
   *
   * @param event the event name
   * @param listener called with the event's arguments
   * @returns this emitter, for chaining
   */
  addListener<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.on(event, listener);
  }

  /**
   * Alias of `off(event, listener)`, as on Node's `EventEmitter`.
   *
   * @param event the event name
   * @param listener the listener to remove (added by `on` or `once`)
   * @returns this emitter, for chaining
   */
  removeListener<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    return this.off(event, listener);
  }

  /**
   * Removes every listener of `event`, or of every event without one, as on Node's
   * `EventEmitter`.
   *
   * @param event the event name; omit to remove every listener
   * @returns this emitter, for chaining
   */
  removeAllListeners<K extends keyof Events>(event?: K): this {
    return this.off(event);
  }
}
