/**
 * socketio-edge: a Socket.IO v4 server on web standards (`Request`, `Response`, `WebSocket`),
 * wire-compatible with every official client, for Deno, Bun and the edge.
 *
 * The API mirrors npm `socket.io`: port a server by changing the import and the serve line.
 *
 * @example A chat server
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * io.on("connection", (socket) => {
 *   socket.join("lobby");
 *   socket.on("chat", (text, ack) => {
 *     socket.to("lobby").emit("chat", { from: socket.id, text });
 *     ack?.("ok");
 *   });
 * });
 *
 * Deno.serve({ port: 3000 }, io.handler());
 * // Bun: Bun.serve({ port: 3000, ...io.handler() });
 * ```
 *
 * @module
 */
export {
  type NamespaceName,
  type ParserModule,
  type RecoveryOptions,
  Server,
  type ServerOptions,
  type ServerReservedEvents,
} from "./server/server.ts";
export {
  type ExtendedError,
  type Middleware,
  Namespace,
  type NamespaceReservedEvents,
} from "./server/namespace.ts";
export { ParentNamespace, type ParentNspNameMatchFn } from "./server/parent_namespace.ts";
export {
  type AnyListener,
  type Broadcast,
  type DisconnectReason,
  type Handshake,
  type PacketMiddleware,
  RESERVED_EVENTS,
  Socket,
  type SocketFlags,
  type SocketReservedEvents,
} from "./server/socket.ts";
export { BroadcastOperator, type OperatorHost } from "./server/broadcast.ts";
export { RemoteSocket } from "./server/remote_socket.ts";
export { Client } from "./server/client.ts";
export type * from "./server/typed_events.ts";
export type { Packet, PacketType } from "./parser/socket.ts";
export { type EnginePacket, type EnginePacketType, PACKET_TYPES } from "./parser/engine.ts";
export type { Emitter, EventMap, Listener } from "./parser/emitter.ts";
export type {
  AddressRateLimit,
  AdmissionLimit,
  AdmissionRefusal,
  AllowRequestCallback,
  Answer,
  CloseReason,
  ConnectionError,
  CookieOptions,
  CorsOptions,
  CreatedPacket,
  EngineMiddleware,
  EngineOptions,
  EngineServerEvents,
  EngineSocket,
  EngineSocketEvents,
  FanOut,
  FetchHandler,
  HandshakeRateOptions,
  HeaderValue,
  HeartbeatTarget,
  MiddlewareResponse,
  OriginFunction,
  OutgoingHeaders,
  OutPacket,
  PacketOptions,
  RateLimit,
  RawSocket,
  RawSocketEvents,
  ReadyState,
  RequestSnapshot,
  RestoredSession,
  Runtime,
  Scheduler,
  SendOptions,
  Server as EngineServer,
  SessionHost,
  SessionSnapshot,
  StaticOrigin,
  TimerHandle,
  Transport,
  TransportName,
  TransportOwner,
  Upgraded,
} from "./server/engine/mod.ts";
export { ERROR_MESSAGES, ErrorCode } from "./server/engine/mod.ts";
export { InMemoryAdapter } from "./adapter/memory.ts";
export { SessionAwareAdapter } from "./adapter/session_aware.ts";
export type {
  Adapter,
  AdapterConstructor,
  AdapterEvents,
  AdapterNamespace,
  AdapterSocket,
  AdapterTimers,
  BroadcastFlags,
  BroadcastOptions,
  PrivateSessionId,
  Room,
  Session,
  SessionToPersist,
  SocketDetails,
  SocketId,
  WriteOptions,
} from "./adapter/adapter.ts";
export type { AdapterFanOut } from "./adapter/fanout.ts";
export {
  type MissingNodes,
  missingOf,
  type PartialAnswers,
  withMissing,
} from "./adapter/partial.ts";
