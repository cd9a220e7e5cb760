/**
 * Adapters: room bookkeeping and broadcasting for a namespace. Browser compatible.
 *
 * {@linkcode InMemoryAdapter} is the default adapter of every namespace;
 * {@linkcode SessionAwareAdapter} adds connection state recovery. Both mirror
 * `socket.io-adapter@2.5.x`, whose `Adapter` class is the in-memory one.
 *
 * @example Logging room changes
 * ```ts
 * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
 *
 * const adapter = new InMemoryAdapter({
 *   name: "/",
 *   sockets: new Map(),
 *   encoder: { encode: (packet) => [JSON.stringify(packet)] },
 *   nextAckId: () => 0,
 * });
 * adapter.on("join-room", (room, id) => console.log(id, "joined", room));
 * adapter.addAll("abc", new Set(["news"]));
 * ```
 *
 * @module
 */

export type {
  Adapter,
  AdapterConstructor,
  AdapterEvents,
  AdapterNamespace,
  AdapterSocket,
  AdapterTimers,
  BroadcastFlags,
  BroadcastOptions,
  Handshake,
  Packet,
  PrivateSessionId,
  Room,
  Session,
  SessionToPersist,
  SocketDetails,
  SocketId,
  WriteOptions,
} from "./adapter.ts";
export type { AdapterFanOut } from "./fanout.ts";
export { type MissingNodes, missingOf, type PartialAnswers, withMissing } from "./partial.ts";
export { InMemoryAdapter } from "./memory.ts";
export { SessionAwareAdapter, type SessionAwareAdapterOptions } from "./session_aware.ts";
