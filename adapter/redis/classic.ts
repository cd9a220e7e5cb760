/**
 * The classic Redis adapter: Redis pub/sub in the format of `@socket.io/redis-adapter@8.3.0`, so
 * that our servers and official ones (and `@socket.io/redis-emitter`) share one Redis.
 *
 * On the wire, per namespace `nsp` and key prefix `key` (default `"socket.io"`):
 * - broadcasts on `${key}#${nsp}#` (or `${key}#${nsp}#${room}#` when they target one room),
 *   as msgpack `[uid, packet, { rooms, except, flags }]`; every node `PSUBSCRIBE`s
 *   `${key}#${nsp}#*`;
 * - requests on `${key}-request#${nsp}#`, in JSON except a broadcast with acks (msgpack); the
 *   answers on `${key}-response#${nsp}#` (or `${key}-response#${nsp}#${uid}#`, the requester's,
 *   with `publishOnSpecificResponseChannel`), in JSON except acks (msgpack);
 * - the number of servers is the number of subscribers of the request channel (`PUBSUB NUMSUB`).
 *
 * Every request type (0 to 9) is answered, `SOCKETS` and `ALL_ROOMS` included.
 *
 * @module
 */
import type {
  AdapterNamespace,
  AdapterSocket,
  AdapterTimers,
  BroadcastFlags,
  BroadcastOptions,
  Packet,
  Room,
  SocketDetails,
} from "../adapter.ts";
import { InMemoryAdapter } from "../memory.ts";
import { report } from "../../server/runtime/report.ts";
import {
  numsub,
  publish,
  type RedisClient,
  subscribe,
  type Subscription,
  unsubscribed,
  watchErrors,
} from "./clients.ts";
import { decode, encode } from "./msgpack.ts";

/**
 * How messages between nodes are encoded: msgpack (notepack's bytes) by default. Every node of
 * a cluster must use the same.
 *
 * @example JSON instead (binary would not survive)
 * ```ts
 * import type { RedisParser } from "@socketio-edge/core/redis";
 *
 * const parser: RedisParser = {
 *   encode: (value) => JSON.stringify(value),
 *   decode: (bytes) => JSON.parse(new TextDecoder().decode(bytes)),
 * };
 * ```
 */
export interface RedisParser {
  /** Encodes a message to publish. */
  encode(value: unknown): string | Uint8Array;
  /** Decodes a received message. */
  decode(bytes: Uint8Array): unknown;
}

/**
 * Options of {@linkcode createAdapter}, as those of `@socket.io/redis-adapter`.
 *
 * @example
 * ```ts
 * import type { RedisAdapterOptions } from "@socketio-edge/core/redis";
 *
 * const opts: RedisAdapterOptions = { key: "my-app", requestsTimeout: 3000 };
 * ```
 */
export interface RedisAdapterOptions {
  /** The prefix of every channel. Default: `"socket.io"`. */
  key?: string;
  /**
   * How long, in milliseconds, to wait for every node's answer to a request (`fetchSockets`,
   * `allRooms`, `serverSideEmit` with an ack). Default: 5000.
   */
  requestsTimeout?: number;
  /**
   * Answer each request on the requester's own response channel rather than the shared one
   * (less traffic for the other nodes). Default: false.
   */
  publishOnSpecificResponseChannel?: boolean;
  /** The codec of broadcasts and of acks. Default: msgpack. */
  parser?: RedisParser;
}

const defaultParser: RedisParser = { encode, decode };

// Request types, as numbered by the official adapter.
const SOCKETS = 0;
const ALL_ROOMS = 1;
const REMOTE_JOIN = 2;
const REMOTE_LEAVE = 3;
const REMOTE_DISCONNECT = 4;
const REMOTE_FETCH = 5;
const SERVER_SIDE_EMIT = 6;
const BROADCAST = 7;
const BROADCAST_CLIENT_COUNT = 8;
const BROADCAST_ACK = 9;

const JSON_START = 0x7b; // "{": a JSON request or response, else the parser's
const textDecoder = new TextDecoder();

const fallbackTimers: AdapterTimers = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as number),
};

const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function randomId(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let id = "";
  for (const byte of bytes) id += ID_CHARS[byte % ID_CHARS.length];
  return id;
}

interface PendingBase {
  expected: number;
  done(err: Error | null): void;
  timer: unknown;
}

/** A fetchSockets of ours waiting for the other nodes' answers. */
interface PendingFetch extends PendingBase {
  type: typeof REMOTE_FETCH;
  received: number;
  sockets: (AdapterSocket | SocketDetails)[];
}

/** An allRooms of ours waiting for the other nodes' answers. */
interface PendingRooms extends PendingBase {
  type: typeof ALL_ROOMS;
  received: number;
  rooms: Set<Room>;
}

/** A serverSideEmit with an ack of ours waiting for the other nodes' answers. */
interface PendingEmit extends PendingBase {
  type: typeof SERVER_SIDE_EMIT;
  responses: unknown[];
}

type Pending = PendingFetch | PendingRooms | PendingEmit;

interface PendingAck {
  clientCountCallback: (clientCount: number) => void;
  ack: (...args: unknown[]) => void;
  timer: unknown;
}

/** A request as another node (or the emitter) publishes it. */
interface Request {
  type?: unknown;
  uid?: unknown;
  requestId?: unknown;
  rooms?: unknown;
  opts?: { rooms?: unknown; except?: unknown; flags?: unknown };
  sid?: unknown;
  room?: unknown;
  close?: unknown;
  data?: unknown;
  packet?: unknown;
}

/** An answer to a request, as another node publishes it. */
interface Response {
  type?: unknown;
  requestId?: unknown;
  sockets?: unknown;
  rooms?: unknown;
  data?: unknown;
  clientCount?: unknown;
  packet?: unknown;
}

const asRooms = (value: unknown): Set<Room> =>
  new Set(Array.isArray(value) ? value.map(String) : []);

/**
 * Creates the classic Redis adapter: pass the result as the server's `adapter` option. The
 * clients are the user's, connected (node-redis: `await client.connect()`); the subscribing one
 * is put in subscriber mode, so it must be a connection of its own (`duplicate()`). Each server
 * of the cluster needs its own subscribing connection (servers are counted by connection).
 *
 * @param pubClient Publishes, and asks the number of servers.
 * @param subClient Subscribes.
 * @param opts Options, as the official adapter's.
 * @returns The adapter class for the server's `adapter` option.
 *
 * @example With node-redis
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 * import { createAdapter } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const pubClient = createClient({ url: "redis://127.0.0.1:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 *
 * const io = new Server({ adapter: createAdapter(pubClient, subClient) });
 * io.on("connection", (socket) => socket.join("news"));
 * io.to("news").emit("hello"); // to every server's clients in "news"
 * ```
 *
 * @example With ioredis
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 * import { createAdapter } from "@socketio-edge/core/redis";
 * import { Redis } from "npm:ioredis@5.11.1";
 *
 * const pubClient = new Redis("redis://127.0.0.1:6379");
 * const io = new Server({ adapter: createAdapter(pubClient, pubClient.duplicate()) });
 * ```
 */
export function createAdapter(
  pubClient: RedisClient,
  subClient: RedisClient,
  opts: RedisAdapterOptions = {},
): new (nsp: AdapterNamespace) => RedisAdapter {
  return class extends RedisAdapter {
    constructor(nsp: AdapterNamespace) {
      super(nsp, pubClient, subClient, opts);
    }
  };
}

/**
 * The classic Redis adapter of one namespace; see {@linkcode createAdapter}. It extends the
 * in-memory adapter: this node's sockets are reached as without Redis (native fan-out
 * included), and each broadcast is also published once for the other nodes.
 *
 * @example The rooms of every server
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 * import { createAdapter, type RedisAdapter } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const pub = createClient();
 * const sub = pub.duplicate();
 * await Promise.all([pub.connect(), sub.connect()]);
 * const io = new Server({ adapter: createAdapter(pub, sub) });
 * const adapter = io.of("/").adapter as RedisAdapter;
 * console.log(await adapter.allRooms());
 * ```
 */
export class RedisAdapter extends InMemoryAdapter {
  /** This node's id in the cluster (in each message it publishes). */
  readonly uid: string = randomId(6);
  /** The publishing client. */
  readonly pubClient: RedisClient;
  /** The subscribing client. */
  readonly subClient: RedisClient;
  /** How long requests wait for the other nodes, in milliseconds. */
  readonly requestsTimeout: number;
  /** Whether answers go to the requester's own response channel. */
  readonly publishOnSpecificResponseChannel: boolean;
  /** The codec of broadcasts and acks. */
  readonly parser: RedisParser;
  /** The broadcast channel (`${key}#${nsp}#`), a prefix of the one-room ones. */
  readonly channel: string;
  /** The request channel (`${key}-request#${nsp}#`). */
  readonly requestChannel: string;
  /** The shared response channel (`${key}-response#${nsp}#`). */
  readonly responseChannel: string;
  /** This node's own response channel (`${key}-response#${nsp}#${uid}#`). */
  readonly specificResponseChannel: string;

  readonly #timers: AdapterTimers;
  readonly #requests = new Map<string, Pending>();
  readonly #ackRequests = new Map<string, PendingAck>();
  readonly #subscription: Subscription;
  readonly #ready: Promise<void>;
  readonly #unwatch: (() => void)[];
  #closed = false;

  /**
   * Subscribes to the namespace's channels on `subClient`.
   *
   * @param nsp The namespace.
   * @param pubClient Publishes, and asks the number of servers.
   * @param subClient Subscribes.
   * @param opts Options, as the official adapter's.
   */
  constructor(
    nsp: AdapterNamespace,
    pubClient: RedisClient,
    subClient: RedisClient,
    opts: RedisAdapterOptions = {},
  ) {
    super(nsp);
    this.pubClient = pubClient;
    this.subClient = subClient;
    this.requestsTimeout = opts.requestsTimeout || 5000;
    this.publishOnSpecificResponseChannel = !!opts.publishOnSpecificResponseChannel;
    this.parser = opts.parser ?? defaultParser;
    const key = opts.key || "socket.io";
    this.channel = `${key}#${nsp.name}#`;
    this.requestChannel = `${key}-request#${nsp.name}#`;
    this.responseChannel = `${key}-response#${nsp.name}#`;
    this.specificResponseChannel = `${this.responseChannel}${this.uid}#`;
    this.#timers = nsp.timers ?? fallbackTimers;
    this.#unwatch = [watchErrors(pubClient, report), watchErrors(subClient, report)];
    this.#subscription = subscribe(
      subClient,
      `${this.channel}*`,
      [this.requestChannel, this.responseChannel, this.specificResponseChannel],
      (channel, message) => this.#onMessage(channel, message),
    );
    this.#ready = this.#subscription.ready.catch(report);
  }

  /**
   * Resolves once Redis confirmed the subscriptions (an error of the client is reported, and
   * this resolves all the same).
   *
   * @example
   * ```ts ignore
   * await io.of("/").adapter.init();
   * ```
   */
  override init(): Promise<void> {
    return this.#ready;
  }

  /**
   * Unsubscribes, cancels the timers and fails the requests still waiting for answers.
   * Resolves when Redis confirmed, or after `requestsTimeout` when it does not answer; clients
   * the user closed already are left alone (their subscriptions went with their connections).
   *
   * @example
   * ```ts ignore
   * await io.close(); // closes every namespace's adapter
   * ```
   */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ack of this.#ackRequests.values()) this.#timers.clear(ack.timer);
    this.#ackRequests.clear();
    const pending = [...this.#requests.values()];
    this.#requests.clear();
    for (const request of pending) {
      this.#timers.clear(request.timer);
      request.done(new Error("the adapter was closed"));
    }
    await unsubscribed([this.#subscription.close()], this.#timers, this.requestsTimeout);
    for (const unwatch of this.#unwatch) unwatch();
  }

  /**
   * The number of servers of the cluster: the subscribers of the request channel.
   *
   * @example
   * ```ts ignore
   * console.log(await io.of("/").adapter.serverCount());
   * ```
   */
  override serverCount(): Promise<number> {
    return numsub(this.pubClient, this.requestChannel);
  }

  /**
   * Delivers `packet` to this node's matching sockets and publishes it once for the others
   * (unless the `local` flag is set).
   *
   * @example
   * ```ts ignore
   * io.to("news").emit("hello"); // the server calls adapter.broadcast()
   * ```
   */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    packet.nsp = this.nsp.name;
    if (!opts.flags?.local && !this.#closed) {
      const message = this.parser.encode([this.uid, packet, wireOptions(opts)]);
      const rooms = opts.rooms;
      const channel = rooms.size === 1
        ? `${this.channel}${rooms.values().next().value}#`
        : this.channel;
      this.#publish(channel, message);
    }
    super.broadcast(packet, opts);
  }

  /**
   * Like {@linkcode RedisAdapter.broadcast}, with acks: the other nodes report their number of
   * receivers and relay each ack, until the broadcast's `timeout` flag.
   *
   * @example
   * ```ts ignore
   * io.timeout(1000).emit("ping", (err, responses) => console.log(err, responses));
   * ```
   */
  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    packet.nsp = this.nsp.name;
    if (!opts.flags?.local && !this.#closed) {
      const requestId = randomId(10);
      // Published before super sets the packet's id: each node gives it one of its own.
      const message = this.parser.encode({
        uid: this.uid,
        requestId,
        type: BROADCAST,
        packet,
        opts: wireOptions(opts),
      });
      // As officially, the acks of other nodes are awaited until the timeout, then dropped.
      const timer = this.#timers.set(
        () => this.#ackRequests.delete(requestId),
        opts.flags?.timeout ?? 0,
      );
      this.#ackRequests.set(requestId, { clientCountCallback, ack, timer });
      this.#publish(this.requestChannel, message);
    }
    super.broadcastWithAck(packet, opts, clientCountCallback, ack);
  }

  /**
   * The matching sockets of every server: this node's sockets and the other nodes' details.
   *
   * @throws {Error} When a node does not answer within `requestsTimeout`.
   *
   * @example
   * ```ts ignore
   * const sockets = await io.in("news").fetchSockets(); // the server calls this
   * ```
   */
  override async fetchSockets(opts: BroadcastOptions): Promise<(AdapterSocket | SocketDetails)[]> {
    const local: (AdapterSocket | SocketDetails)[] = await super.fetchSockets(opts);
    if (opts.flags?.local) return local;
    const expected = await this.serverCount();
    if (expected <= 1 || this.#closed) return local;
    const requestId = randomId(10);
    return new Promise((resolve, reject) => {
      const request: PendingFetch = {
        type: REMOTE_FETCH,
        expected,
        received: 1,
        sockets: local,
        done: (err) => err ? reject(err) : resolve(request.sockets),
        timer: this.#timers.set(() => {
          this.#fail(requestId, "timeout reached while waiting for fetchSockets response");
        }, this.requestsTimeout),
      };
      this.#requests.set(requestId, request);
      this.#publishJson(this.requestChannel, {
        uid: this.uid,
        requestId,
        type: REMOTE_FETCH,
        opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])] },
      });
    });
  }

  /**
   * The rooms of every server.
   *
   * @throws {Error} When a node does not answer within `requestsTimeout`.
   *
   * @example
   * ```ts ignore
   * const rooms = await (io.of("/").adapter as RedisAdapter).allRooms();
   * ```
   */
  async allRooms(): Promise<Set<Room>> {
    const rooms = new Set(this.rooms.keys());
    const expected = await this.serverCount();
    if (expected <= 1 || this.#closed) return rooms;
    const requestId = randomId(10);
    return new Promise((resolve, reject) => {
      const request: PendingRooms = {
        type: ALL_ROOMS,
        expected,
        received: 1,
        rooms,
        done: (err) => err ? reject(err) : resolve(rooms),
        timer: this.#timers.set(() => {
          this.#fail(requestId, "timeout reached while waiting for allRooms response");
        }, this.requestsTimeout),
      };
      this.#requests.set(requestId, request);
      this.#publishJson(this.requestChannel, { uid: this.uid, requestId, type: ALL_ROOMS });
    });
  }

  /**
   * Makes the matching sockets of every server join `rooms` (this node's at once).
   *
   * @example
   * ```ts ignore
   * io.in("news").socketsJoin("sports"); // the server calls this
   * ```
   */
  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    super.addSockets(opts, rooms);
    if (!opts.flags?.local) {
      this.#publishJson(this.requestChannel, {
        uid: this.uid,
        type: REMOTE_JOIN,
        opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])] },
        rooms: [...rooms],
      });
    }
  }

  /**
   * Makes the matching sockets of every server leave `rooms` (this node's at once).
   *
   * @example
   * ```ts ignore
   * io.in("news").socketsLeave("sports"); // the server calls this
   * ```
   */
  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    super.delSockets(opts, rooms);
    if (!opts.flags?.local) {
      this.#publishJson(this.requestChannel, {
        uid: this.uid,
        type: REMOTE_LEAVE,
        opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])] },
        rooms: [...rooms],
      });
    }
  }

  /**
   * Disconnects the matching sockets of every server (this node's at once).
   *
   * @example
   * ```ts ignore
   * io.in("banned").disconnectSockets(true); // the server calls this
   * ```
   */
  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    super.disconnectSockets(opts, close);
    if (!opts.flags?.local) {
      this.#publishJson(this.requestChannel, {
        uid: this.uid,
        type: REMOTE_DISCONNECT,
        opts: { rooms: [...opts.rooms], except: [...(opts.except ?? [])] },
        close,
      });
    }
  }

  /**
   * Sends `[event, ...args]` to the other servers; a function last gets `(err, responses)`
   * once every other server answered (or `requestsTimeout` passed).
   *
   * @example
   * ```ts ignore
   * io.serverSideEmit("hello", "world"); // the server calls this
   * ```
   */
  override serverSideEmit(packet: unknown[]): void {
    const last = packet[packet.length - 1];
    if (typeof last !== "function") {
      this.#publishJson(this.requestChannel, {
        uid: this.uid,
        type: SERVER_SIDE_EMIT,
        data: packet,
      });
      return;
    }
    const ack = last as (err: Error | null, responses: unknown[]) => void;
    const data = packet.slice(0, -1);
    const answer = (err: Error | null, responses: unknown[]) => {
      try {
        ack(err, responses);
      } catch (thrown) {
        report(thrown);
      }
    };
    this.serverCount().then((count) => {
      const expected = count - 1; // not this node
      if (expected <= 0 || this.#closed) return answer(null, []);
      const requestId = randomId(10);
      const request: PendingEmit = {
        type: SERVER_SIDE_EMIT,
        expected,
        responses: [],
        done: (err) => answer(err, request.responses),
        timer: this.#timers.set(() => {
          this.#fail(
            requestId,
            `timeout reached: only ${request.responses.length} responses received out of ${expected}`,
          );
        }, this.requestsTimeout),
      };
      this.#requests.set(requestId, request);
      this.#publishJson(this.requestChannel, {
        uid: this.uid,
        requestId,
        type: SERVER_SIDE_EMIT,
        data,
      });
    }, (err) => answer(err instanceof Error ? err : new Error(String(err)), []));
  }

  #fail(requestId: string, message: string): void {
    const request = this.#requests.get(requestId);
    if (request === undefined) return;
    this.#requests.delete(requestId);
    request.done(new Error(message));
  }

  #finish(requestId: string, request: Pending): void {
    this.#requests.delete(requestId);
    this.#timers.clear(request.timer);
    request.done(null);
  }

  #publish(channel: string, message: string | Uint8Array): void {
    publish(this.pubClient, channel, message).catch(report);
  }

  #publishJson(channel: string, message: unknown): void {
    this.#publish(channel, JSON.stringify(message));
  }

  #publishResponse(request: Request, response: string | Uint8Array): void {
    const channel = this.publishOnSpecificResponseChannel
      ? `${this.responseChannel}${request.uid}#`
      : this.responseChannel;
    this.#publish(channel, response);
  }

  // Every message of the subscriptions; nothing escapes to the Redis client.
  #onMessage(channel: string, message: Uint8Array): void {
    if (this.#closed) return;
    try {
      if (channel.startsWith(this.channel)) this.#onBroadcast(channel, message);
      else if (channel.startsWith(this.responseChannel)) this.#onResponse(message);
      else if (channel.startsWith(this.requestChannel)) {
        this.#onRequest(message).catch(report);
      }
    } catch (err) {
      report(err);
    }
  }

  #decode(message: Uint8Array): unknown {
    return message[0] === JSON_START
      ? JSON.parse(textDecoder.decode(message))
      : this.parser.decode(message);
  }

  #onBroadcast(channel: string, message: Uint8Array): void {
    // A one-room broadcast is only decoded where the room has sockets.
    const room = channel.slice(this.channel.length, -1);
    if (room !== "" && !this.rooms.has(room)) return;
    const decoded = this.parser.decode(message);
    if (!Array.isArray(decoded) || decoded.length < 3) throw malformed("broadcast", decoded);
    const [uid, packet, opts] = decoded as [unknown, Packet | null, Record<string, unknown>];
    if (uid === this.uid) return;
    if (packet === null || typeof packet !== "object" || !Array.isArray(packet.data)) {
      throw malformed("broadcast", decoded);
    }
    if (packet.nsp === undefined) packet.nsp = "/";
    if (packet.nsp !== this.nsp.name) return;
    super.broadcast(packet, remoteOptions(opts));
  }

  async #onRequest(message: Uint8Array): Promise<void> {
    const request = this.#decode(message) as Request | null;
    if (request === null || typeof request !== "object") throw malformed("request", request);
    const requestId = request.requestId;
    const ours = request.uid === this.uid;
    switch (request.type) {
      case SOCKETS: {
        if (ours) return;
        const sockets = await super.sockets(asRooms(request.rooms));
        this.#publishResponse(request, JSON.stringify({ requestId, sockets: [...sockets] }));
        return;
      }
      case ALL_ROOMS:
        if (ours) return;
        this.#publishResponse(
          request,
          JSON.stringify({ requestId, rooms: [...this.rooms.keys()] }),
        );
        return;
      case REMOTE_JOIN:
      case REMOTE_LEAVE:
      case REMOTE_DISCONNECT:
        return this.#onRemoteOperation(request, ours);
      case REMOTE_FETCH: {
        if (ours) return;
        const sockets = await super.fetchSockets(remoteOptions(request.opts));
        this.#publishResponse(
          request,
          JSON.stringify({ requestId, sockets: sockets.map(details) }),
        );
        return;
      }
      case SERVER_SIDE_EMIT:
        return this.#onServerSideEmit(request, ours);
      case BROADCAST: {
        if (ours || this.#ackRequests.has(String(requestId))) return;
        const packet = request.packet as Packet | null;
        if (packet === null || typeof packet !== "object" || !Array.isArray(packet.data)) {
          throw malformed("request", request);
        }
        super.broadcastWithAck(packet, remoteOptions(request.opts), (clientCount) => {
          this.#publishResponse(
            request,
            JSON.stringify({ type: BROADCAST_CLIENT_COUNT, requestId, clientCount }),
          );
        }, (arg) => {
          // As officially, an ack's first argument only.
          let response: string | Uint8Array;
          try {
            response = this.parser.encode({ type: BROADCAST_ACK, requestId, packet: arg });
          } catch (err) {
            return report(err);
          }
          this.#publishResponse(request, response);
        });
        return;
      }
      default:
        throw malformed("request", request);
    }
  }

  // socketsJoin / socketsLeave / disconnectSockets (with `opts`), or the older form for one
  // socket (with `sid`), which is answered.
  #onRemoteOperation(request: Request, ours: boolean): void {
    if (request.opts !== undefined && request.opts !== null) {
      // Ours were applied here when sent.
      if (ours) return;
      const opts = remoteOptions(request.opts);
      const rooms = Array.isArray(request.rooms) ? request.rooms.map(String) : [];
      if (request.type === REMOTE_JOIN) super.addSockets(opts, rooms);
      else if (request.type === REMOTE_LEAVE) super.delSockets(opts, rooms);
      else super.disconnectSockets(opts, request.close === true);
      return;
    }
    const socket = this.nsp.sockets.get(String(request.sid));
    if (socket === undefined) return;
    if (request.type === REMOTE_JOIN) void socket.join(String(request.room));
    else if (request.type === REMOTE_LEAVE) void socket.leave(String(request.room));
    else socket.disconnect(request.close === true);
    this.#publishResponse(request, JSON.stringify({ requestId: request.requestId }));
  }

  #onServerSideEmit(request: Request, ours: boolean): void {
    if (ours) return;
    if (!Array.isArray(request.data)) throw malformed("request", request);
    const data = request.data;
    if (request.requestId !== undefined) {
      let called = false;
      data.push((arg: unknown) => {
        // One answer per node: the first.
        if (called) return;
        called = true;
        // Always on the shared channel, as the official adapter answers.
        this.#publishJson(this.responseChannel, {
          type: SERVER_SIDE_EMIT,
          requestId: request.requestId,
          data: arg,
        });
      });
    }
    this.nsp.onServerSideEmit?.(data);
  }

  #onResponse(message: Uint8Array): void {
    const response = this.#decode(message) as Response | null;
    if (response === null || typeof response !== "object") throw malformed("response", response);
    const requestId = String(response.requestId);
    const ack = this.#ackRequests.get(requestId);
    if (ack !== undefined) {
      if (response.type === BROADCAST_CLIENT_COUNT) {
        ack.clientCountCallback(Number(response.clientCount));
      } else if (response.type === BROADCAST_ACK) ack.ack(response.packet);
      return;
    }
    const request = this.#requests.get(requestId);
    if (request === undefined) return; // another node's, or too late
    switch (request.type) {
      case REMOTE_FETCH:
        if (!Array.isArray(response.sockets)) return;
        request.received++;
        for (const socket of response.sockets) request.sockets.push(socket as SocketDetails);
        if (request.received === request.expected) this.#finish(requestId, request);
        return;
      case ALL_ROOMS:
        if (!Array.isArray(response.rooms)) return;
        request.received++;
        for (const room of response.rooms) request.rooms.add(String(room));
        if (request.received === request.expected) this.#finish(requestId, request);
        return;
      case SERVER_SIDE_EMIT:
        request.responses.push(response.data);
        if (request.responses.length === request.expected) this.#finish(requestId, request);
        return;
    }
  }
}

// The options of a broadcast as published: arrays, and the flags as they are.
function wireOptions(opts: BroadcastOptions): {
  rooms: Room[];
  except: Room[];
  flags: BroadcastFlags;
} {
  return { rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags ?? {} };
}

function remoteOptions(opts: unknown): BroadcastOptions {
  const raw = (opts !== null && typeof opts === "object" ? opts : {}) as {
    rooms?: unknown;
    except?: unknown;
    flags?: unknown;
  };
  const flags = raw.flags !== null && typeof raw.flags === "object"
    ? raw.flags as BroadcastFlags
    : {};
  return { rooms: asRooms(raw.rooms), except: asRooms(raw.except), flags };
}

function details(socket: AdapterSocket | SocketDetails): SocketDetails {
  return {
    id: socket.id,
    handshake: socket.handshake,
    rooms: [...socket.rooms],
    data: socket.data,
  };
}

function malformed(what: string, value: unknown): Error {
  let shown: string;
  try {
    shown = JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    shown = typeof value;
  }
  return new Error(`Redis adapter: a malformed ${what} was ignored: ${shown}`);
}
