/**
 * A raw Engine.IO v4 server on `Request` / `Response` / `WebSocket`, usable alone like npm
 * `engine.io`: handshakes, long-polling as a streamed `Response`, WebSocket and the upgrade
 * between them, heartbeat, CORS. Runs on Deno and Bun through one handler; the
 * {@linkcode Runtime} is chosen once per server (the `runtime` option, else Bun or Deno).
 *
 * @example An echo server
 * ```ts ignore
 * import { Server } from "@socketio-edge/core/engine";
 *
 * const engine = new Server();
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 * });
 * Deno.serve({ port: 3000 }, engine.handler());
 * ```
 *
 * @module
 */
export {
  type ConnectionError,
  type EngineServerEvents,
  type FetchHandler,
  type OutgoingHeaders,
  type RestoredSession,
  Server,
} from "./server.ts";
export { EngineEmitter } from "./emitter.ts";
export type {
  ForwardCall,
  ForwardedAnswer,
  ForwardedRequest,
  ForwardedUpgrade,
  ForwardingHost,
  SessionForwarder,
} from "./forwarding.ts";
export { type EngineMiddleware, type HeaderValue, MiddlewareResponse } from "./middleware.ts";
export {
  type CloseReason,
  type CreatedPacket,
  EngineSocket,
  type EngineSocketEvents,
  type ReadyState,
  type SendOptions,
  type SessionHost,
  type SessionSnapshot,
} from "./session.ts";
export {
  type AllowRequestCallback,
  type CookieOptions,
  DEFAULT_ENGINE_OPTIONS,
  type EngineOptions,
  type TransportName,
} from "./options.ts";
export type {
  AddressRateLimit,
  AdmissionLimit,
  AdmissionRefusal,
  HandshakeRateOptions,
  RateLimit,
} from "./admission.ts";
export type { CorsOptions, OriginFunction, StaticOrigin } from "./cors.ts";
export { ERROR_MESSAGES, ErrorCode } from "./errors.ts";
export type { RequestSnapshot } from "./request.ts";
export type { OutPacket, PacketOptions, Transport, TransportOwner } from "./transport.ts";
export type { HeartbeatTarget } from "./heartbeat.ts";
export type {
  Answer,
  FanOut,
  RawSocket,
  RawSocketEvents,
  Runtime,
  Upgraded,
} from "../runtime/types.ts";
export { defaultScheduler, type Scheduler, type TimerHandle } from "../runtime/scheduler.ts";
