/**
 * The messages cluster adapters exchange, as `socket.io-adapter`'s `ClusterAdapter` defines them
 * (types 1 to 13, the same objects and fields), so that an adapter that puts them on a wire
 * (Redis, a BroadcastChannel) interoperates with the official ones. Browser compatible.
 *
 * @module
 */
import type { BroadcastFlags, BroadcastOptions, Room, SocketDetails } from "../adapter.ts";

/**
 * The unique id of an adapter (one per namespace and server), as the official `ServerId`.
 *
 * @example
 * ```ts
 * import type { ServerId } from "@socketio-edge/core/cluster";
 *
 * const uid: ServerId = "3f2a9c0b1d4e5f60";
 * ```
 */
export type ServerId = string;

/**
 * Where a message sits in a durable log (a Redis stream), for connection state recovery.
 *
 * @example
 * ```ts
 * import type { Offset } from "@socketio-edge/core/cluster";
 *
 * const offset: Offset = "1700000000000-0";
 * ```
 */
export type Offset = string;

/**
 * The message types, with the official numbers.
 *
 * @example
 * ```ts
 * import { MessageType } from "@socketio-edge/core/cluster";
 *
 * console.log(MessageType.BROADCAST); // 3
 * ```
 */
export const MessageType = {
  /** A node starts: every other node answers with a heartbeat. */
  INITIAL_HEARTBEAT: 1,
  /** A node is alive. */
  HEARTBEAT: 2,
  /** A packet for the matching sockets (with `requestId`: acks expected). */
  BROADCAST: 3,
  /** The matching sockets join rooms. */
  SOCKETS_JOIN: 4,
  /** The matching sockets leave rooms. */
  SOCKETS_LEAVE: 5,
  /** The matching sockets are disconnected. */
  DISCONNECT_SOCKETS: 6,
  /** A request for the details of the matching sockets. */
  FETCH_SOCKETS: 7,
  /** The details of one node's matching sockets. */
  FETCH_SOCKETS_RESPONSE: 8,
  /** A server-side event (with `requestId`: acks expected). */
  SERVER_SIDE_EMIT: 9,
  /** One node's acknowledgement of a server-side event. */
  SERVER_SIDE_EMIT_RESPONSE: 10,
  /** How many clients of one node got a broadcast with acks. */
  BROADCAST_CLIENT_COUNT: 11,
  /** One client's acknowledgement of a broadcast. */
  BROADCAST_ACK: 12,
  /** A node's adapter closed. */
  ADAPTER_CLOSE: 13,
} as const;

/**
 * A message type number.
 *
 * @example
 * ```ts
 * import { MessageType } from "@socketio-edge/core/cluster";
 *
 * const type: MessageType = MessageType.HEARTBEAT;
 * ```
 */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/**
 * Broadcast options as they travel: rooms as arrays, flags as they are (the official
 * `encodeOptions`).
 *
 * @example
 * ```ts
 * import type { EncodedOptions } from "@socketio-edge/core/cluster";
 *
 * const opts: EncodedOptions = { rooms: ["news"], except: [], flags: { volatile: true } };
 * ```
 */
export interface EncodedOptions {
  /** Target rooms; empty means all sockets. */
  rooms: Room[];
  /** Rooms whose sockets are excluded. */
  except: Room[];
  /** Broadcast modifiers (never `local`: local operations are not published). */
  flags?: BroadcastFlags;
}

/**
 * A packet as it travels in a BROADCAST: the event's type and data (the receiving node sets the
 * namespace and, for acks, its own id).
 *
 * @example
 * ```ts
 * import type { WirePacket } from "@socketio-edge/core/cluster";
 *
 * const packet: WirePacket = { type: 2, data: ["news", { hello: "world" }] };
 * ```
 */
export interface WirePacket {
  /** The Socket.IO packet type (2, an event). */
  type: number;
  /** The event name and arguments. */
  data: unknown;
  /** The sender's ack id, when it has one (never used by the receiver). */
  id?: number;
  /** The namespace, when the sender set it (the receiver uses its own). */
  nsp?: string;
}

/**
 * What every message carries: its sender and namespace.
 *
 * @example
 * ```ts
 * import type { MessageHeader } from "@socketio-edge/core/cluster";
 *
 * const header: MessageHeader = { uid: "3f2a9c0b1d4e5f60", nsp: "/" };
 * ```
 */
export interface MessageHeader {
  /** The sending adapter's id. */
  uid: ServerId;
  /** The namespace. */
  nsp: string;
}

/**
 * A message from one node to all others, as the official `ClusterMessage`.
 *
 * @example A broadcast to a room
 * ```ts
 * import { type ClusterMessage, MessageType } from "@socketio-edge/core/cluster";
 *
 * const message: ClusterMessage = {
 *   type: MessageType.BROADCAST,
 *   data: {
 *     packet: { type: 2, data: ["news", "hello"] },
 *     opts: { rooms: ["room1"], except: [], flags: {} },
 *   },
 *   uid: "3f2a9c0b1d4e5f60",
 *   nsp: "/",
 * };
 * ```
 */
export type ClusterMessage =
  & MessageHeader
  & (
    | {
      type:
        | typeof MessageType.INITIAL_HEARTBEAT
        | typeof MessageType.HEARTBEAT
        | typeof MessageType.ADAPTER_CLOSE;
      data?: undefined;
    }
    | {
      type: typeof MessageType.BROADCAST;
      data: { packet: WirePacket; requestId?: string; opts: EncodedOptions };
    }
    | {
      type: typeof MessageType.SOCKETS_JOIN | typeof MessageType.SOCKETS_LEAVE;
      data: { opts: EncodedOptions; rooms: Room[] };
    }
    | {
      type: typeof MessageType.DISCONNECT_SOCKETS;
      data: { opts: EncodedOptions; close?: boolean };
    }
    | {
      type: typeof MessageType.FETCH_SOCKETS;
      data: { opts: EncodedOptions; requestId: string };
    }
    | {
      type: typeof MessageType.SERVER_SIDE_EMIT;
      data: { requestId?: string; packet: unknown[] };
    }
  );

/**
 * A node's answer to one request of another, as the official `ClusterResponse`.
 *
 * @example
 * ```ts
 * import { type ClusterResponse, MessageType } from "@socketio-edge/core/cluster";
 *
 * const response: ClusterResponse = {
 *   type: MessageType.BROADCAST_CLIENT_COUNT,
 *   data: { requestId: "a1b2c3d4e5f60718", clientCount: 3 },
 *   uid: "3f2a9c0b1d4e5f60",
 *   nsp: "/",
 * };
 * ```
 */
export type ClusterResponse =
  & MessageHeader
  & (
    | {
      type: typeof MessageType.FETCH_SOCKETS_RESPONSE;
      data: { requestId: string; sockets: SocketDetails[] };
    }
    | {
      type: typeof MessageType.SERVER_SIDE_EMIT_RESPONSE;
      data: { requestId: string; packet: unknown };
    }
    | {
      type: typeof MessageType.BROADCAST_CLIENT_COUNT;
      data: { requestId: string; clientCount: number };
    }
    | {
      type: typeof MessageType.BROADCAST_ACK;
      data: { requestId: string; packet: unknown };
    }
  );

/**
 * Options as they travel: the rooms as arrays (the official `encodeOptions`).
 *
 * @example
 * ```ts
 * import { encodeOptions } from "@socketio-edge/core/cluster";
 *
 * console.log(encodeOptions({ rooms: new Set(["a"]), except: new Set(["b"]), flags: {} }));
 * // { rooms: ["a"], except: ["b"], flags: {} }
 * ```
 */
export function encodeOptions(opts: BroadcastOptions): EncodedOptions {
  return {
    rooms: [...opts.rooms],
    except: opts.except === undefined ? [] : [...opts.except],
    flags: opts.flags,
  };
}

/**
 * Options as they travelled, back to sets; `undefined` when they are not well-formed (a message
 * of something else on the same channel).
 *
 * @example
 * ```ts
 * import { decodeOptions } from "@socketio-edge/core/cluster";
 *
 * console.log(decodeOptions({ rooms: ["a"], except: [], flags: {} })?.rooms); // Set { "a" }
 * ```
 */
export function decodeOptions(opts: unknown): BroadcastOptions | undefined {
  const o = opts as Partial<EncodedOptions> | null;
  if (typeof o !== "object" || o === null) return undefined;
  const rooms = o.rooms ?? [];
  const except = o.except ?? [];
  if (!Array.isArray(rooms) || !Array.isArray(except)) return undefined;
  const flags = typeof o.flags === "object" && o.flags !== null ? o.flags : undefined;
  return { rooms: new Set(rooms), except: new Set(except), flags };
}
