/**
 * The socketio-edge client: a drop-in for npm `socket.io-client` on web standards (`fetch`,
 * `WebSocket`), for browsers, Deno, Bun, Node 22+ and workers, with no dependencies; on Node 20,
 * which has no `WebSocket`, give it npm `ws`'s as the `WebSocket` option. Browser compatible.
 *
 * It speaks Engine.IO v4 / Socket.IO v5 exactly as the official client does, so it talks to
 * our server and to the official Node one alike. Port a script by changing its import.
 *
 * @example Connect, listen, emit with an ack
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const socket = io("https://example.com", { auth: { token: "abc" } });
 * socket.on("connect", () => console.log("connected", socket.id));
 * socket.on("chat", (msg) => console.log(msg));
 * const reply = await socket.timeout(5000).emitWithAck("hello", "world");
 * ```
 *
 * @example On Node 20, with npm `ws`
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 * import { WebSocket } from "ws";
 *
 * const socket = io("https://example.com", { WebSocket });
 * ```
 *
 * @module
 */

import type { DefaultEventsMap, EventsMap } from "../parser/typed_events.ts";
import { Manager, type ManagerOptions } from "./manager.ts";
import { Socket, type SocketOptions } from "./socket.ts";
import { url } from "./url.ts";

export { Emitter, type EventMap, type Listener } from "../parser/emitter.ts";
export type { Packet, PacketType } from "../parser/socket.ts";
export type { BinaryType, EnginePacket, EnginePacketType, PACKET_TYPES } from "../parser/engine.ts";
export { Manager } from "./manager.ts";
export type { ClientParser, ManagerOptions, ManagerReservedEvents } from "./manager.ts";
export { Socket } from "./socket.ts";
export type {
  AnyListener,
  DisconnectDescription,
  DisconnectReason,
  ExtendedError,
  SocketOptions,
  SocketPacket,
  SocketReservedEvents,
} from "./socket.ts";
export { Engine } from "./engine.ts";
export type {
  EngineEvents,
  EngineOptions,
  HandshakeData,
  ResolvedEngineOptions,
  WritePacket,
} from "./engine.ts";
export { Transport } from "./transports/transport.ts";
export type {
  CloseDetails,
  TransportError,
  TransportEvents,
  TransportHost,
  TransportOptions,
  WebSocketConstructor,
  WebSocketLike,
} from "./transports/transport.ts";
export type { CookieJar } from "./cookies/mod.ts";
export { TypedEmitter } from "./typed_events.ts";
export type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  FallbackToUntypedListener,
  FirstArg,
  Last,
  PrependTimeoutError,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../parser/typed_events.ts";

/**
 * The Socket.IO protocol version the client speaks.
 *
 * @example
 * ```ts
 * import { protocol } from "@socketio-edge/core/client";
 *
 * console.log(protocol); // 5
 * ```
 */
export const protocol = 5;

const cache: Record<string, Manager> = {};

/**
 * Connects to a namespace: `io(url?, opts?)`. Namespaces of one server share a Manager (one
 * connection) unless `forceNew` or `multiplex: false` is given, or the namespace is taken there.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const main = io("https://example.com");
 * const admin = io("https://example.com/admin", { auth: { token: "abc" } }); // same connection
 * ```
 */
export interface Lookup {
  /**
   * @param opts options; the URL is `location`'s origin
   * @returns the socket of the namespace
   */
  <ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
    opts?: Partial<ManagerOptions & SocketOptions>,
  ): Socket<ListenEvents, EmitEvents>;
  /**
   * @param uri the server URL and namespace, e.g. `https://example.com/admin`
   * @param opts options
   * @returns the socket of the namespace
   */
  <ListenEvents extends EventsMap = DefaultEventsMap, EmitEvents extends EventsMap = ListenEvents>(
    uri?: string,
    opts?: Partial<ManagerOptions & SocketOptions>,
  ): Socket<ListenEvents, EmitEvents>;
  /** The Manager class. */
  Manager: typeof Manager;
  /** The Socket class. */
  Socket: typeof Socket;
  /** This function. */
  io: Lookup;
  /** This function. */
  connect: Lookup;
}

function lookup(
  uri?: string | Partial<ManagerOptions & SocketOptions>,
  opts?: Partial<ManagerOptions & SocketOptions>,
): Socket {
  if (typeof uri === "object") {
    opts = uri;
    uri = undefined;
  }
  opts = opts || {};
  const parsed = url(uri, opts.path || "/socket.io");
  const id = parsed.id;
  const newConnection = opts.forceNew || opts.multiplex === false || cache[id]?.nsps[parsed.path];
  const manager = newConnection
    ? new Manager(parsed.source, opts)
    : (cache[id] ||= new Manager(parsed.source, opts));
  if (parsed.query && !opts.query) opts.query = parsed.queryKey;
  return manager.socket(parsed.path, opts);
}

/**
 * Connects to a namespace; see {@linkcode Lookup}. Also has `io.Manager`, `io.Socket` and
 * `io.connect`, as the official script's global `io` has.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const socket = io("http://localhost:3000", { transports: ["websocket"] });
 * socket.on("connect", () => socket.emit("hello"));
 * ```
 */
export const io: Lookup = Object.assign(lookup as Lookup, { Manager, Socket });
io.io = io.connect = io;

/**
 * Alias of {@linkcode io}.
 *
 * @example
 * ```ts ignore
 * import { connect } from "@socketio-edge/core/client";
 *
 * const socket = connect("http://localhost:3000");
 * ```
 */
export const connect: Lookup = io;

export default io;
