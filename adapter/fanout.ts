/**
 * What an adapter may broadcast through where the runtime fans out natively (Bun's WebSocket
 * topics): one call delivers a text packet to every socket of the namespace, or of one room,
 * that it covers. Not part of the adapter contract: the server hands one to the in-memory
 * adapter (`InMemoryAdapter.fanOut`) where the runtime has a native fan-out, and
 * adapters that extend it use it as it does. Browser compatible (types only).
 *
 * @module
 */
import type { Room, SocketId } from "./adapter.ts";

/**
 * A namespace's native fan-out, as the adapter uses it. The socket ids it covers are those whose
 * connection gets what it publishes (an open WebSocket); the adapter writes to every other
 * receiver as usual, and to none of these.
 *
 * @example A fan-out that covers nobody (every receiver is written to)
 * ```ts
 * import type { AdapterFanOut } from "@socketio-edge/core/adapter";
 *
 * const none: AdapterFanOut = {
 *   subscribe() {},
 *   unsubscribe() {},
 *   publish: () => true,
 *   covers: () => false,
 *   coversAll: () => false,
 * };
 * ```
 */
export interface AdapterFanOut {
  /** Socket `id` joined `rooms` (which may hold rooms it was in already). */
  subscribe(id: SocketId, rooms: Iterable<Room>): void;
  /** Socket `id` left `room`. */
  unsubscribe(id: SocketId, room: Room): void;
  /**
   * Sends an encoded text packet to every covered socket of `room` (of the namespace when
   * undefined) but socket `except`, in one call. False when it cannot (`room` is no string, or
   * `except` no socket of the namespace), and then nobody got it.
   */
  publish(text: string, compress: boolean, room?: Room, except?: SocketId): boolean;
  /** Whether what {@linkcode AdapterFanOut.publish} sends reaches socket `id`. */
  covers(id: SocketId): boolean;
  /**
   * Whether it covers every socket of the namespace now (everyone on a WebSocket, the usual
   * case): then a broadcast it published needs no {@linkcode AdapterFanOut.covers} per receiver.
   */
  coversAll(): boolean;
}
