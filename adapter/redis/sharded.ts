/**
 * The sharded Redis adapter: Redis 7's sharded Pub/Sub (`SPUBLISH` / `SSUBSCRIBE`), on the wire
 * of the official `createShardedAdapter` of `@socket.io/redis-adapter@8.3.0`, so our nodes and
 * official Node nodes share one Redis (or Redis Cluster).
 *
 * Channels, for the channel prefix `socket.io` and the namespace `/`:
 * - `socket.io#/#`: every message to every node (each node's one subscription: the server count);
 * - `socket.io#/#<uid>#`: the responses to the requests of node `<uid>`;
 * - `socket.io#/#<room>#`: the broadcasts to that one room, in the `dynamic` subscription modes,
 *   subscribed to only by the nodes where the room has sockets.
 *
 * Messages are JSON, or msgpack when they may carry binary (broadcasts, their acks, fetched
 * sockets, server-side emits and their acks) and do.
 *
 * @module
 */
import { hasBinary } from "../../parser/binary.ts";
import type { AdapterConstructor, AdapterNamespace, Room } from "../adapter.ts";
import { report } from "../../server/runtime/report.ts";
import { ClusterAdapter, type ClusterAdapterOptions } from "../cluster/cluster_adapter.ts";
import { type ClusterMessage, type ClusterResponse, MessageType } from "../cluster/messages.ts";
import { decode, encode } from "./msgpack.ts";
import { unsubscribed } from "./clients.ts";
import {
  type ShardedListener,
  type ShardedRedisClient,
  shardNumSub,
  sPublish,
  sSubscribe,
  sUnsubscribe,
} from "./sharded_clients.ts";

/**
 * Options of {@linkcode createShardedAdapter}, as officially.
 *
 * @example
 * ```ts
 * import type { ShardedRedisAdapterOptions } from "@socketio-edge/core/redis";
 *
 * const opts: ShardedRedisAdapterOptions = { channelPrefix: "my-app", subscriptionMode: "static" };
 * ```
 */
export interface ShardedRedisAdapterOptions extends ClusterAdapterOptions {
  /**
   * The prefix of every channel.
   *
   * @default "socket.io"
   */
  channelPrefix?: string;
  /**
   * How many channels a namespace uses:
   * - `"static"`: two (everything, and this node's responses); for many dynamic namespaces;
   * - `"dynamic"`: two plus one per public room (not a socket's own room), so that a broadcast
   *   to one room reaches only the nodes where it has sockets (a broadcast to a 20-character
   *   room name, which looks like a socket id, still goes to every node);
   * - `"dynamic-private"`: like `"dynamic"`, with a channel for each socket's own room too
   *   (for much 1:1 messaging with `io.to(socketId).emit()`).
   *
   * @default "dynamic"
   */
  subscriptionMode?: "static" | "dynamic" | "dynamic-private";
}

/** The message types whose data may hold binary, hence msgpack when it does. */
const MAY_CONTAIN_BINARY = new Set<MessageType>([
  MessageType.BROADCAST,
  MessageType.BROADCAST_ACK,
  MessageType.FETCH_SOCKETS_RESPONSE,
  MessageType.SERVER_SIDE_EMIT,
  MessageType.SERVER_SIDE_EMIT_RESPONSE,
]);

const LEFT_BRACE = 0x7b;
const decoder = new TextDecoder();

/** The official adapter's test for a socket id: 20 characters. */
function looksLikeASocketId(room: Room): boolean {
  return typeof room === "string" && room.length === 20;
}

/**
 * Encodes `message` for the wire, as officially: msgpack when it may carry binary and does,
 * else JSON.
 */
export function encodeShardedMessage(
  message: ClusterMessage | ClusterResponse,
): string | Uint8Array {
  const data = (message as { data?: unknown }).data;
  return MAY_CONTAIN_BINARY.has(message.type) && hasBinary(data)
    ? encode(message)
    : JSON.stringify(message);
}

/** Decodes a message from the wire: JSON when it starts with `{`, else msgpack. */
export function decodeShardedMessage(raw: Uint8Array | string): unknown {
  if (typeof raw === "string") return JSON.parse(raw);
  return raw[0] === LEFT_BRACE ? JSON.parse(decoder.decode(raw)) : decode(raw);
}

/**
 * The adapter of one namespace on sharded Pub/Sub. Made by {@linkcode createShardedAdapter}.
 */
export class ShardedRedisAdapter extends ClusterAdapter {
  readonly #pub: ShardedRedisClient;
  readonly #sub: ShardedRedisClient;
  readonly #mode: "static" | "dynamic" | "dynamic-private";
  /** `${prefix}#${nsp}#`: every node's channel, and the stem of the others. */
  readonly #channel: string;
  /** This node's responses. */
  readonly #responseChannel: string;
  readonly #onMessage: ShardedListener = (raw) => this.#receive(raw, false);
  readonly #onResponse: ShardedListener = (raw) => this.#receive(raw, true);

  /**
   * Subscribes to the namespace's channels on `subClient`.
   *
   * @param nsp the namespace
   * @param pubClient publishes (and counts servers)
   * @param subClient subscribes (a client in subscriber mode)
   * @param opts channel prefix and subscription mode
   */
  constructor(
    nsp: AdapterNamespace,
    pubClient: ShardedRedisClient,
    subClient: ShardedRedisClient,
    opts: ShardedRedisAdapterOptions = {},
  ) {
    super(nsp, opts);
    this.#pub = pubClient;
    this.#sub = subClient;
    this.#mode = opts.subscriptionMode ?? "dynamic";
    this.#channel = `${opts.channelPrefix ?? "socket.io"}#${nsp.name}#`;
    this.#responseChannel = `${this.#channel}${this.uid}#`;
    this.#subscribe(this.#channel, this.#onMessage);
    this.#subscribe(this.#responseChannel, this.#onResponse);
    if (this.#mode !== "static") {
      this.on("create-room", (room) => {
        if (this.#ownChannel(room)) this.#subscribe(this.#roomChannel(room), this.#onMessage);
      });
      this.on("delete-room", (room) => {
        if (this.#ownChannel(room)) this.#unsubscribe(this.#roomChannel(room), this.#onMessage);
      });
    }
  }

  /**
   * Unsubscribes from every channel of this namespace, once. Resolves when Redis confirmed, or
   * after `requestsTimeout` when it does not answer (a client that reconnects); a client's failure
   * is reported. Clients the user closed already are left alone: their subscriptions went with
   * their connections.
   */
  override async close(): Promise<void> {
    if (this.closed) return;
    await super.close();
    const done = [
      sUnsubscribe(this.#sub, this.#channel, this.#onMessage),
      sUnsubscribe(this.#sub, this.#responseChannel, this.#onResponse),
    ];
    if (this.#mode !== "static") {
      for (const room of this.rooms.keys()) {
        if (this.#ownChannel(room)) {
          done.push(sUnsubscribe(this.#sub, this.#roomChannel(room), this.#onMessage));
        }
      }
    }
    await unsubscribed(done, this.timers, this.requestsTimeout);
  }

  /** The number of nodes: the subscribers of the namespace's channel. */
  override serverCount(): Promise<number> {
    return shardNumSub(this.#pub, this.#channel);
  }

  /** Publishes `message` once, on its room's channel or the namespace's. */
  protected override async doPublish(message: ClusterMessage): Promise<undefined> {
    // Encoded before the first await: the caller goes on using the message's objects.
    await sPublish(this.#pub, this.#channelOf(message), encodeShardedMessage(message));
    return undefined;
  }

  /** Publishes `response` on the channel of the node that asked. */
  protected override async doPublishResponse(
    requesterUid: string,
    response: ClusterResponse,
  ): Promise<void> {
    await sPublish(this.#pub, `${this.#channel}${requesterUid}#`, encodeShardedMessage(response));
  }

  /**
   * The channel of `message`: a broadcast without acks to one room goes on that room's channel
   * in the dynamic modes; everything else (acks need every node's client count) on the
   * namespace's.
   */
  #channelOf(message: ClusterMessage): string {
    if (message.type !== MessageType.BROADCAST || this.#mode === "static") return this.#channel;
    const { requestId, opts } = message.data;
    if (requestId !== undefined || opts.rooms.length !== 1) return this.#channel;
    const room = opts.rooms[0];
    if (this.#mode === "dynamic" && looksLikeASocketId(room)) return this.#channel;
    return this.#roomChannel(room);
  }

  #roomChannel(room: Room): string {
    return `${this.#channel}${room}#`;
  }

  /** Whether `room` has a channel of its own: public rooms, or every room in dynamic-private. */
  #ownChannel(room: Room): boolean {
    return this.#mode === "dynamic-private" || (this.#mode === "dynamic" && !this.sids.has(room));
  }

  #subscribe(channel: string, listener: ShardedListener): void {
    sSubscribe(this.#sub, channel, listener).catch((err) => report(err));
  }

  #unsubscribe(channel: string, listener: ShardedListener): void {
    sUnsubscribe(this.#sub, channel, listener).catch((err) => report(err));
  }

  #receive(raw: Uint8Array, isResponse: boolean): void {
    let message: ClusterMessage | ClusterResponse;
    try {
      message = decodeShardedMessage(raw) as ClusterMessage | ClusterResponse;
    } catch {
      return; // not a message of ours: ignored, as officially
    }
    // What escapes here would reach the Redis client's event emitter: report it instead.
    try {
      if (isResponse) this.onResponse(message as ClusterResponse);
      else this.onMessage(message as ClusterMessage);
    } catch (err) {
      report(err);
    }
  }
}

/**
 * Makes the sharded Redis adapter, as `createShardedAdapter` of `@socket.io/redis-adapter`:
 * pass the result as the server's `adapter` option. `pubClient` and `subClient` are two
 * connected clients of npm `redis` (v4 or v5) or `ioredis`; `subClient` is given over to
 * subscriptions (with node-redis, `pubClient.duplicate()`). Needs Redis 7 or later.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "npm:redis@5";
 * import { Server } from "@socketio-edge/core";
 * import { createShardedAdapter } from "@socketio-edge/core/redis";
 *
 * const pubClient = createClient({ url: "redis://127.0.0.1:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 *
 * const io = new Server({ adapter: createShardedAdapter(pubClient, subClient) });
 * io.on("connection", (socket) => socket.join("news"));
 * io.to("news").emit("hello"); // every node's clients in "news"
 * Deno.serve({ port: 3000 }, io.handler());
 * ```
 *
 * @param pubClient publishes (and counts servers)
 * @param subClient subscribes
 * @param opts channel prefix and subscription mode
 * @returns the `adapter` option of the server (a class, which the server makes once per
 * namespace)
 */
export function createShardedAdapter(
  pubClient: ShardedRedisClient,
  subClient: ShardedRedisClient,
  opts: ShardedRedisAdapterOptions = {},
): AdapterConstructor {
  return class extends ShardedRedisAdapter {
    constructor(nsp: AdapterNamespace) {
      super(nsp, pubClient, subClient, opts);
    }
  };
}
