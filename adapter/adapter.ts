/**
 * The adapter contract and its shared types. Browser compatible.
 *
 * An adapter tracks which sockets are in which rooms of one namespace and fans packets out to
 * them. The names and semantics mirror `socket.io-adapter@2.5.x`, so an adapter written for
 * Socket.IO ports by changing its imports. The server gives each adapter a narrow
 * {@linkcode AdapterNamespace}, not the whole namespace.
 *
 * @module
 */

/** A public socket id, sent to the client when it connects and used for private messaging. */
export type SocketId = string;

/**
 * A private session id, sent to the client when it connects and used for connection state
 * recovery upon reconnection.
 */
export type PrivateSessionId = string;

/** A room name. Every socket is in a room named after its own id. */
export type Room = string;

import type { Packet } from "../parser/socket.ts";
import type { MissingNodes } from "./partial.ts";
/** A Socket.IO packet, as handed to the encoder (the parser's type). */
export type { Packet };

/**
 * How encoded chunks are written to a connection.
 *
 * @example Options for a broadcast
 * ```ts
 * import type { WriteOptions } from "@socketio-edge/core/adapter";
 *
 * const opts: WriteOptions = { volatile: false, compress: true, preEncoded: true };
 * ```
 */
export interface WriteOptions {
  /** Drop the packet rather than buffer it when the connection is not writable. */
  volatile?: boolean;
  /** Allow compression of the packet. */
  compress?: boolean;
  /** The encoded chunks are shared by many receivers: the receiver must not mutate them. */
  preEncoded?: boolean;
}

/**
 * What the client sent at handshake, as the official `socket.handshake`. Plain data (JSON-able),
 * so that a cluster adapter can send it to another node.
 *
 * @example
 * ```ts
 * import type { Handshake } from "@socketio-edge/core/adapter";
 *
 * const handshake: Handshake = {
 *   headers: { host: "example.com" },
 *   time: new Date(0).toString(),
 *   address: "127.0.0.1",
 *   xdomain: false,
 *   secure: true,
 *   issued: 0,
 *   url: "/socket.io/?EIO=4&transport=websocket",
 *   query: { EIO: "4", transport: "websocket" },
 *   auth: {},
 * };
 * ```
 */
export interface Handshake {
  /** Request headers, as a plain object with lower-case names. */
  headers: Record<string, string>;
  /** When the handshake happened, as a date string. */
  time: string;
  /** The caller's address. */
  address: string;
  /** Whether the request was cross-origin (it carried an `Origin`). */
  xdomain: boolean;
  /** Whether the request came over TLS. */
  secure: boolean;
  /** When the handshake happened, in ms since the epoch. */
  issued: number;
  /** The request URL (path and query). */
  url: string;
  /** Query parameters, as a plain object. */
  query: Record<string, string>;
  /** The CONNECT packet's payload (`auth` option of the client). */
  auth: Record<string, unknown>;
}

/**
 * A socket of another node, as a cluster adapter's `fetchSockets` gets it from there: plain
 * data, which the server wraps in a `RemoteSocket`.
 *
 * @example
 * ```ts
 * import type { SocketDetails } from "@socketio-edge/core/adapter";
 *
 * const details: SocketDetails = {
 *   id: "abc",
 *   handshake: {
 *     headers: {},
 *     time: "",
 *     address: "127.0.0.1",
 *     xdomain: false,
 *     secure: false,
 *     issued: 0,
 *     url: "/",
 *     query: {},
 *     auth: {},
 *   },
 *   rooms: ["abc", "news"],
 *   data: { user: "ann" },
 * };
 * ```
 */
export interface SocketDetails<SocketData = unknown> {
  /** The socket id. */
  id: SocketId;
  /** Its handshake. */
  handshake: Handshake;
  /** The rooms it is in. */
  rooms: Room[];
  /** Its `data` attribute. */
  data: SocketData;
}

/**
 * What the adapter needs from a server-side socket.
 *
 * @example A socket that logs what it is sent
 * ```ts
 * import type { AdapterSocket, Handshake } from "@socketio-edge/core/adapter";
 *
 * const handshake: Handshake = {
 *   headers: {},
 *   time: new Date(0).toString(),
 *   address: "127.0.0.1",
 *   xdomain: false,
 *   secure: false,
 *   issued: 0,
 *   url: "/",
 *   query: {},
 *   auth: {},
 * };
 * const socket: AdapterSocket = {
 *   id: "abc",
 *   handshake,
 *   rooms: new Set(["abc"]),
 *   data: {},
 *   writable: true,
 *   writeEncoded: (chunks) => console.log(chunks),
 *   registerAck: () => {},
 *   join: () => {},
 *   leave: () => {},
 *   disconnect: () => {},
 * };
 * ```
 */
export interface AdapterSocket {
  /** The socket id. */
  readonly id: SocketId;
  /** What the client sent at handshake (sent to other nodes by `fetchSockets`). */
  readonly handshake: Handshake;
  /** The rooms the socket is in. */
  readonly rooms: Set<Room>;
  /** The socket's free-form `data` attribute. */
  readonly data: unknown;
  /**
   * The private session id, when connection state recovery is on: an adapter that keeps
   * sessions itself (Redis Streams) writes the session of a connected socket under it.
   */
  readonly pid?: PrivateSessionId;
  /**
   * Write already-encoded Socket.IO packet chunks (first a string, then binary attachments) to
   * this socket's connection.
   */
  writeEncoded(chunks: readonly (string | Uint8Array | Blob)[], opts: WriteOptions): void;
  /** Register an ack callback under a packet id (for broadcasts with acks). */
  registerAck(id: number, ack: (...args: unknown[]) => void): void;
  /** Join one or more rooms. */
  join(rooms: Room | Room[]): void | Promise<void>;
  /** Leave a room. */
  leave(room: Room): void | Promise<void>;
  /** Disconnect this socket; with `close`, also close the underlying connection. */
  disconnect(close?: boolean): void;
  /** Whether the underlying connection is writable now (for volatile packets). */
  readonly writable: boolean;
  /**
   * Called with each packet broadcast to this socket, before it is written, so that
   * `socket.onAnyOutgoing()` listeners see broadcasts too.
   */
  notifyOutgoingListeners?(packet: Packet): void;
}

/**
 * The timers an adapter arms (a cluster adapter's heartbeats and request timeouts): the
 * engine's scheduler, so that a test's manual clock or a Durable Object's alarm drives them too.
 * Structurally the engine's `Scheduler`.
 *
 * @example Timers on `setTimeout`
 * ```ts
 * import type { AdapterTimers } from "@socketio-edge/core/adapter";
 *
 * const timers: AdapterTimers = {
 *   now: () => Date.now(),
 *   set: (fn, ms) => setTimeout(fn, ms),
 *   clear: (handle) => clearTimeout(handle as number),
 * };
 * ```
 */
export interface AdapterTimers {
  /** The current time in milliseconds. */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now, unless cleared first. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer; handles that fired or were cleared already are ignored. */
  clear(handle: unknown): void;
}

/**
 * What the adapter needs from a namespace.
 *
 * @example A namespace with a JSON encoder
 * ```ts
 * import type { AdapterNamespace, AdapterSocket } from "@socketio-edge/core/adapter";
 *
 * let ids = 0;
 * const nsp: AdapterNamespace = {
 *   name: "/",
 *   sockets: new Map<string, AdapterSocket>(),
 *   encoder: { encode: (packet) => [`${packet.type}${JSON.stringify(packet.data)}`] },
 *   nextAckId: () => ids++,
 * };
 * ```
 */
export interface AdapterNamespace {
  /** The namespace name, such as `"/"`. */
  readonly name: string;
  /** The connected sockets of this namespace on this node. */
  readonly sockets: ReadonlyMap<SocketId, AdapterSocket>;
  /** The server's encoder (custom parsers allowed). */
  readonly encoder: { encode(packet: Packet): unknown[] };
  /**
   * The namespace-wide ack id source, shared with `socket.emit()` acknowledgements (and by the
   * children of a dynamic parent namespace): the adapter takes the id of each broadcast with
   * acks from it, so one id never means two callbacks on a socket, even for a broadcast relayed
   * from another node.
   */
  nextAckId(): number;
  /**
   * The server's timers (its engine's scheduler); adapters fall back to `setTimeout` without.
   */
  readonly timers?: AdapterTimers;
  /**
   * The server's connection state recovery, when it is on: a cluster adapter that stores
   * sessions itself (Redis Streams) keeps them this long and tags broadcasts with offsets only
   * then, as the official adapters read `server.opts.connectionStateRecovery`.
   */
  readonly recovery?: { readonly maxDisconnectionDuration: number };
  /**
   * Called with `serverSideEmit` args received from another node (a function last when the
   * sender waits for an acknowledgement). The in-memory adapter never calls it: like
   * `socket.io-adapter`, a single node does not deliver to itself.
   */
  onServerSideEmit?(args: unknown[]): void;
}

/**
 * Modifiers of a broadcast, set by the broadcast operator.
 *
 * @example A volatile broadcast
 * ```ts
 * import type { BroadcastFlags } from "@socketio-edge/core/adapter";
 *
 * const flags: BroadcastFlags = { volatile: true };
 * ```
 */
export interface BroadcastFlags {
  /** Skip receivers whose connection is not writable now. */
  volatile?: boolean;
  /** Allow compression. */
  compress?: boolean;
  /** Only this node's sockets (cluster adapters). */
  local?: boolean;
  /** The packet is a broadcast. */
  broadcast?: boolean;
  /** The packet has binary content. */
  binary?: boolean;
  /** Milliseconds to wait for acknowledgements. */
  timeout?: number;
  /** Acknowledge with the single response rather than an array (remote socket emits). */
  expectSingleResponse?: boolean;
}

/**
 * Which sockets a broadcast or a bulk operation targets.
 *
 * Empty `rooms` means every socket of the namespace; sockets in any `except` room are left out.
 *
 * @example Everyone in "news" but not in "muted"
 * ```ts
 * import type { BroadcastOptions } from "@socketio-edge/core/adapter";
 *
 * const opts: BroadcastOptions = { rooms: new Set(["news"]), except: new Set(["muted"]) };
 * ```
 */
export interface BroadcastOptions {
  /** Target rooms; empty means all sockets. */
  rooms: Set<Room>;
  /** Rooms whose sockets are excluded. */
  except?: Set<Room>;
  /** Broadcast modifiers. */
  flags?: BroadcastFlags;
}

/**
 * The state of a disconnected socket, saved for connection state recovery.
 *
 * @example
 * ```ts
 * import type { SessionToPersist } from "@socketio-edge/core/adapter";
 *
 * const session: SessionToPersist = { sid: "abc", pid: "secret", rooms: ["abc"], data: {} };
 * ```
 */
export interface SessionToPersist {
  /** The public socket id. */
  sid: SocketId;
  /** The private session id. */
  pid: PrivateSessionId;
  /** The rooms the socket was in. */
  rooms: Room[];
  /** The socket's `data` attribute. */
  data: unknown;
}

/**
 * A restored session: the saved state plus the packets the client missed, oldest first. Each
 * missed packet is the event's data array (`[eventName, ...args, offset]`).
 *
 * @example
 * ```ts
 * import type { Session } from "@socketio-edge/core/adapter";
 *
 * const session: Session = {
 *   sid: "abc",
 *   pid: "secret",
 *   rooms: ["abc"],
 *   data: {},
 *   missedPackets: [["hello", "world", "offset-1"]],
 * };
 * ```
 */
export interface Session extends SessionToPersist {
  /** The packets broadcast while the client was away. */
  missedPackets: unknown[][];
}

/**
 * The events an adapter emits, with their listener signatures.
 *
 * @example
 * ```ts
 * import type { AdapterEvents } from "@socketio-edge/core/adapter";
 *
 * const onJoin: AdapterEvents["join-room"] = (room, id) => console.log(id, "joined", room);
 * ```
 */
export interface AdapterEvents {
  /** A room got its first socket. */
  "create-room": (room: Room) => void;
  /** A room lost its last socket and was deleted. */
  "delete-room": (room: Room) => void;
  /** A socket joined a room. */
  "join-room": (room: Room, id: SocketId) => void;
  /** A socket left a room. */
  "leave-room": (room: Room, id: SocketId) => void;
}

/**
 * The contract between a namespace and its adapter, as in `socket.io-adapter@2.5.x`.
 *
 * {@linkcode InMemoryAdapter} from `./memory.ts` implements it for a single node; a cluster
 * adapter extends that class and overrides what crosses nodes.
 *
 * @example Counting the sockets in a room
 * ```ts
 * import type { Adapter } from "@socketio-edge/core/adapter";
 *
 * async function roomSize(adapter: Adapter, room: string): Promise<number> {
 *   return (await adapter.sockets(new Set([room]))).size;
 * }
 * ```
 */
export interface Adapter {
  /** The namespace this adapter serves. */
  readonly nsp: AdapterNamespace;
  /** Room name to the ids of the sockets in it. Empty rooms are deleted. */
  readonly rooms: Map<Room, Set<SocketId>>;
  /** Socket id to the rooms it is in. */
  readonly sids: Map<SocketId, Set<Room>>;

  /** Called once when the namespace is created; connect to a backend here. */
  init(): void | Promise<void>;
  /** Called when the server closes. */
  close(): void | Promise<void>;
  /** The number of Socket.IO servers in the cluster. */
  serverCount(): Promise<number>;
  /** Add socket `id` to `rooms`. */
  addAll(id: SocketId, rooms: Set<Room>): void | Promise<void>;
  /** Remove socket `id` from `room`. */
  del(id: SocketId, room: Room): void | Promise<void>;
  /** Remove socket `id` from all its rooms. */
  delAll(id: SocketId): void;
  /** Encode `packet` once and write it to every matching socket. */
  broadcast(packet: Packet, opts: BroadcastOptions): void;
  /**
   * Like {@linkcode Adapter.broadcast}, expecting an acknowledgement from each receiver. The
   * adapter sets `packet.id` from {@linkcode AdapterNamespace.nextAckId} (the caller reads it
   * afterwards). `clientCountCallback` is called (once per server) with the number of receivers
   * and `ack` once per client response.
   */
  broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void;
  /**
   * Optional (cluster adapters): for a broadcast with acks whose timeout fired, the nodes that
   * never said how many clients got it, when the adapter resolves such broadcasts with the live
   * nodes' answers; undefined to fail it as officially.
   */
  missingForAck?(ack: (...args: unknown[]) => void): MissingNodes | undefined;
  /** The ids of the sockets in any of `rooms` (all sockets when empty). */
  sockets(rooms: Set<Room>): Promise<Set<SocketId>>;
  /** The rooms socket `id` is in, or `undefined` when it is in none. */
  socketRooms(id: SocketId): Set<Room> | undefined;
  /** The matching sockets: this node's, and the details of other nodes' (cluster adapters). */
  fetchSockets(opts: BroadcastOptions): Promise<(AdapterSocket | SocketDetails)[]>;
  /** Make the matching sockets join `rooms`. */
  addSockets(opts: BroadcastOptions, rooms: Room[]): void;
  /** Make the matching sockets leave `rooms`. */
  delSockets(opts: BroadcastOptions, rooms: Room[]): void;
  /** Disconnect the matching sockets; with `close`, also close their connections. */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void;
  /**
   * Send `[eventName, ...args]` to the other servers of the cluster; a function as last item
   * asks for their acknowledgements.
   */
  serverSideEmit(packet: unknown[]): void | Promise<void>;
  /** Save a disconnected socket's state for connection state recovery. */
  persistSession(session: SessionToPersist): void | Promise<void>;
  /** Restore a session and the packets missed after `offset`, or `null` if impossible. */
  restoreSession(pid: PrivateSessionId, offset: string): Promise<Session | null>;

  /** Listen to an adapter event. */
  on<E extends keyof AdapterEvents>(event: E, listener: AdapterEvents[E]): this;
  /** Stop listening to an adapter event. */
  off<E extends keyof AdapterEvents>(event: E, listener: AdapterEvents[E]): this;
  /** Emit an adapter event; returns whether it had listeners. */
  emit<E extends keyof AdapterEvents>(event: E, ...args: Parameters<AdapterEvents[E]>): boolean;
}

/**
 * A class that builds an adapter for a namespace: the server's `adapter` option.
 *
 * @example Passing the in-memory adapter
 * ```ts
 * import { type AdapterConstructor, InMemoryAdapter } from "@socketio-edge/core/adapter";
 *
 * const adapter: AdapterConstructor = InMemoryAdapter;
 * ```
 */
export type AdapterConstructor = new (nsp: AdapterNamespace) => Adapter;
