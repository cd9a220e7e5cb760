/**
 * The in-memory adapter, for a single server. Browser compatible.
 *
 * Mirrors `Adapter` from `socket.io-adapter@2.5.x`: rooms live in two maps, broadcasts are
 * encoded once and the same chunks go to every receiver, and `serverSideEmit` is not supported
 * (there is no other server).
 *
 * @module
 */

import type {
  Adapter,
  AdapterEvents,
  AdapterNamespace,
  AdapterSocket,
  BroadcastOptions,
  Packet,
  PrivateSessionId,
  Room,
  Session,
  SessionToPersist,
  SocketDetails,
  SocketId,
  WriteOptions,
} from "./adapter.ts";
import type { AdapterFanOut } from "./fanout.ts";

type Listener = (...args: unknown[]) => void;
type Chunks = readonly (string | Uint8Array | Blob)[];

// Shared by broadcasts without an except room, so they allocate no set.
const NO_SIDS: ReadonlySet<SocketId> = new Set();

/**
 * The in-memory adapter: the default adapter of every namespace, and the base class of cluster
 * adapters.
 *
 * @example Tracking rooms
 * ```ts
 * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
 *
 * const adapter = new InMemoryAdapter({
 *   name: "/",
 *   sockets: new Map(),
 *   encoder: { encode: (packet) => [JSON.stringify(packet)] },
 *   nextAckId: () => 0,
 * });
 * adapter.on("create-room", (room) => console.log("created", room));
 * adapter.addAll("abc", new Set(["abc", "news"]));
 * console.log(adapter.socketRooms("abc")); // Set { "abc", "news" }
 * ```
 */
export class InMemoryAdapter implements Adapter {
  /** The namespace this adapter serves. */
  readonly nsp: AdapterNamespace;
  /** Room name to the ids of the sockets in it. Empty rooms are deleted. */
  readonly rooms: Map<Room, Set<SocketId>> = new Map();
  /** Socket id to the rooms it is in. */
  readonly sids: Map<SocketId, Set<Room>> = new Map();
  /**
   * The runtime's native fan-out for this namespace, which the server sets where there is one
   * (Bun): rooms joined and left are subscribed and unsubscribed there, and a text broadcast to
   * the namespace or to one room goes to the sockets it covers in one call.
   */
  fanOut: AdapterFanOut | undefined;
  // Arrays are replaced, never mutated, so emit can iterate without copying.
  #listeners = new Map<string, Listener[]>();

  /**
   * Build the adapter of a namespace.
   *
   * @param nsp The namespace this adapter serves.
   */
  constructor(nsp: AdapterNamespace) {
    this.nsp = nsp;
  }

  /**
   * Called once when the namespace is created. Nothing to do in memory.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * await adapter.init();
   * ```
   */
  init(): void | Promise<void> {}

  /**
   * Called when the server closes. Nothing to do in memory.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * await adapter.close();
   * ```
   */
  close(): void | Promise<void> {}

  /**
   * The number of servers in the cluster: always 1.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * console.log(await adapter.serverCount()); // 1
   * ```
   */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  /**
   * Add socket `id` to `rooms`, emitting `create-room` for new rooms and `join-room` for each
   * room it was not in yet.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.addAll("abc", new Set(["abc", "news"]));
   * console.log(adapter.rooms.get("news")); // Set { "abc" }
   * ```
   */
  addAll(id: SocketId, rooms: Set<Room>): void | Promise<void> {
    this.#unshare(id);
    let joined = this.sids.get(id);
    if (joined === undefined) {
      if (rooms.size === 1 && rooms.has(id) && !this.rooms.has(id)) {
        // A new socket in its own room: both maps hold the same Set {id} (each socket would
        // otherwise keep two), until either side changes (#unshare).
        joined = new Set([id]);
        this.sids.set(id, joined);
        this.rooms.set(id, joined);
        this.emit("create-room", id);
        this.emit("join-room", id, id);
        return;
      }
      joined = new Set();
      this.sids.set(id, joined);
    }
    for (const room of rooms) {
      joined.add(room);
      this.#unshare(room);
      let members = this.rooms.get(room);
      if (members === undefined) {
        members = new Set();
        this.rooms.set(room, members);
        this.emit("create-room", room);
      }
      if (!members.has(id)) {
        members.add(id);
        this.emit("join-room", room, id);
      }
    }
    this.fanOut?.subscribe(id, rooms);
  }

  /**
   * Remove socket `id` from `room`, emitting `leave-room`, then `delete-room` if it emptied.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.addAll("abc", new Set(["news"]));
   * adapter.del("abc", "news");
   * console.log(adapter.rooms.has("news")); // false
   * ```
   */
  del(id: SocketId, room: Room): void | Promise<void> {
    this.#unshare(id);
    this.#unshare(room);
    this.sids.get(id)?.delete(room);
    this.#leave(room, id);
    this.fanOut?.unsubscribe(id, room);
  }

  /**
   * Remove socket `id` from all its rooms and forget it.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.addAll("abc", new Set(["abc", "news"]));
   * adapter.delAll("abc");
   * console.log(adapter.socketRooms("abc")); // undefined
   * ```
   */
  delAll(id: SocketId): void {
    this.#unshare(id);
    const joined = this.sids.get(id);
    if (joined === undefined) return;
    const fanOut = this.fanOut;
    for (const room of joined) {
      this.#leave(room, id);
      fanOut?.unsubscribe(id, room);
    }
    this.sids.delete(id);
  }

  /**
   * The socket that `except` leaves out when it is one socket's own room and nobody else is in
   * it; undefined when it is empty; null otherwise.
   */
  #soleSocket(except: ReadonlySet<Room> | undefined): SocketId | undefined | null {
    if (except === undefined || except.size === 0) return undefined;
    if (except.size !== 1) return null;
    const [room] = except;
    const members = this.rooms.get(room);
    return members?.size === 1 && members.has(room) ? room : null;
  }

  /**
   * The one room `rooms` targets when it is a named room (not a socket's own); undefined for
   * the whole namespace; null otherwise.
   */
  #namedRoom(rooms: ReadonlySet<Room>): Room | undefined | null {
    if (rooms.size === 0) return undefined;
    if (rooms.size !== 1) return null;
    const [room] = rooms;
    return this.sids.has(room) ? null : room;
  }

  /** Gives the socket `id` a Set of rooms of its own before its rooms or room change. */
  #unshare(id: SocketId): void {
    const joined = this.sids.get(id);
    if (joined !== undefined && joined === this.rooms.get(id)) this.sids.set(id, new Set(joined));
  }

  #leave(room: Room, id: SocketId): void {
    const members = this.rooms.get(room);
    if (members === undefined) return;
    if (members.delete(id)) this.emit("leave-room", room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emit("delete-room", room);
  }

  /**
   * Encode `packet` once and write the same chunks to every matching socket. With the
   * `volatile` flag, sockets whose connection is not writable are skipped.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.broadcast({ type: 2, nsp: "/", data: ["hello"] }, { rooms: new Set(["news"]) });
   * ```
   */
  broadcast(packet: Packet, opts: BroadcastOptions): void {
    const writeOpts = writeOptions(opts);
    packet.nsp = this.nsp.name;
    const chunks = this.nsp.encoder.encode(packet) as Chunks;
    // To the whole namespace or one named room (or all of it but one socket, as
    // socket.broadcast), text only: where the runtime fans out natively (Bun), the sockets it
    // covers get it in one call; the others (long-polling, v3, mid-upgrade) below.
    const fanOut = this.fanOut;
    const published = fanOut !== undefined && this.#publish(fanOut, chunks, opts, writeOpts);
    // Asked once rather than per receiver where it covers them all.
    const all = published && fanOut.coversAll();
    this.apply(opts, (socket) => {
      if (writeOpts.volatile && !socket.writable) return;
      socket.notifyOutgoingListeners?.(packet);
      if (all || (published && fanOut.covers(socket.id))) return;
      socket.writeEncoded(chunks, writeOpts);
    });
  }

  /** Publishes a one-text broadcast through `fanOut` when it targets what a topic holds. */
  #publish(
    fanOut: AdapterFanOut,
    chunks: Chunks,
    opts: BroadcastOptions,
    writeOpts: WriteOptions,
  ): boolean {
    const text = chunks[0];
    // A volatile packet is for the receivers that can take it at once, each asked below: a
    // runtime's publish would queue it for the others too (and count it against their limit).
    if (chunks.length !== 1 || typeof text !== "string" || writeOpts.volatile) return false;
    const except = this.#soleSocket(opts.except);
    const room = this.#namedRoom(opts.rooms);
    return room !== null && except !== null &&
      fanOut.publish(text, writeOpts.compress !== false, room, except);
  }

  /**
   * Like {@linkcode InMemoryAdapter.broadcast}, registering `ack` on each receiver under a new
   * `packet.id`, then reporting the number of receivers to `clientCountCallback`.
   *
   * The id comes from the namespace's counter ({@linkcode AdapterNamespace.nextAckId}), shared
   * with `socket.emit()` acknowledgements, so one id never means two callbacks on a socket; a
   * packet relayed from another node gets a local id the same way.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * let ids = 0;
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => ids++,
   * });
   * adapter.broadcastWithAck(
   *   { type: 2, nsp: "/", data: ["ping"] },
   *   { rooms: new Set() },
   *   (count) => console.log("expecting", count, "responses"),
   *   (response) => console.log(response),
   * );
   * ```
   */
  broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    const id = this.nsp.nextAckId();
    packet.id = id;
    const writeOpts = writeOptions(opts);
    packet.nsp = this.nsp.name;
    const chunks = this.nsp.encoder.encode(packet) as Chunks;
    let clientCount = 0;
    this.apply(opts, (socket) => {
      if (writeOpts.volatile && !socket.writable) return;
      clientCount++;
      socket.registerAck(id, ack);
      socket.notifyOutgoingListeners?.(packet);
      socket.writeEncoded(chunks, writeOpts);
    });
    clientCountCallback(clientCount);
  }

  /**
   * The ids of the sockets in any of `rooms` (all sockets when empty).
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * console.log(await adapter.sockets(new Set(["news"]))); // Set {}
   * ```
   */
  sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  /**
   * The rooms socket `id` is in, or `undefined` when it is in none.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.addAll("abc", new Set(["abc"]));
   * console.log(adapter.socketRooms("abc")); // Set { "abc" }
   * ```
   */
  socketRooms(id: SocketId): Set<Room> | undefined {
    return this.sids.get(id);
  }

  /**
   * The matching local sockets.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * const sockets = await adapter.fetchSockets({ rooms: new Set(["news"]) });
   * console.log(sockets.length); // 0
   * ```
   */
  fetchSockets(opts: BroadcastOptions): Promise<(AdapterSocket | SocketDetails)[]> {
    const sockets: AdapterSocket[] = [];
    this.apply(opts, (socket) => sockets.push(socket));
    return Promise.resolve(sockets);
  }

  /**
   * Make the matching sockets join `rooms`.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.addSockets({ rooms: new Set(["news"]) }, ["sports"]);
   * ```
   */
  addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this.apply(opts, (socket) => void socket.join(rooms));
  }

  /**
   * Make the matching sockets leave `rooms`.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.delSockets({ rooms: new Set(["news"]) }, ["sports"]);
   * ```
   */
  delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this.apply(opts, (socket) => {
      for (const room of rooms) void socket.leave(room);
    });
  }

  /**
   * Disconnect the matching sockets; with `close`, also close their connections.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.disconnectSockets({ rooms: new Set(["banned"]) }, true);
   * ```
   */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    this.apply(opts, (socket) => socket.disconnect(close));
  }

  /**
   * Call `callback` once for each local socket in any of `opts.rooms` (every socket when empty)
   * and in none of `opts.except`. Cluster adapters use it for requests from other nodes.
   *
   * @example Counting matching sockets in a subclass
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   * import type { BroadcastOptions } from "@socketio-edge/core/adapter";
   *
   * class CountingAdapter extends InMemoryAdapter {
   *   count(opts: BroadcastOptions): number {
   *     let n = 0;
   *     this.apply(opts, () => n++);
   *     return n;
   *   }
   * }
   * ```
   */
  protected apply(opts: BroadcastOptions, callback: (socket: AdapterSocket) => void): void {
    const { rooms } = opts;
    const except = this.#exceptSids(opts.except);
    const sockets = this.nsp.sockets;
    if (rooms.size === 0) {
      // Every connected socket is in its own room, hence in `sids`.
      for (const id of this.sids.keys()) {
        if (except.has(id)) continue;
        const socket = sockets.get(id);
        if (socket !== undefined) callback(socket);
      }
      return;
    }
    // One room cannot hold a socket twice: only unions of rooms need a "seen" set.
    const seen = rooms.size > 1 ? new Set<SocketId>() : undefined;
    for (const room of rooms) {
      const members = this.rooms.get(room);
      if (members === undefined) continue;
      for (const id of members) {
        if (except.has(id) || seen?.has(id)) continue;
        const socket = sockets.get(id);
        if (socket === undefined) continue;
        seen?.add(id);
        callback(socket);
      }
    }
  }

  #exceptSids(except: Set<Room> | undefined): ReadonlySet<SocketId> {
    if (except === undefined || except.size === 0) return NO_SIDS;
    const sids = new Set<SocketId>();
    for (const room of except) {
      const members = this.rooms.get(room);
      if (members !== undefined) { for (const id of members) sids.add(id); }
    }
    return sids;
  }

  /**
   * Not supported by the in-memory adapter: it warns, like `socket.io-adapter`. There is no
   * other server, so nothing is delivered (not even locally) and an acknowledgement callback is
   * never called.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.serverSideEmit(["hello", "world"]); // warns
   * ```
   */
  serverSideEmit(_packet: unknown[]): void | Promise<void> {
    console.warn("this adapter does not support the serverSideEmit() functionality");
  }

  /**
   * Save a disconnected socket's state. The in-memory adapter keeps nothing; see
   * `SessionAwareAdapter`.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.persistSession({ sid: "abc", pid: "secret", rooms: [], data: {} });
   * ```
   */
  persistSession(_session: SessionToPersist): void | Promise<void> {}

  /**
   * Restore a session: always `null` for the in-memory adapter; see
   * `SessionAwareAdapter`.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * console.log(await adapter.restoreSession("secret", "offset")); // null
   * ```
   */
  restoreSession(_pid: PrivateSessionId, _offset: string): Promise<Session | null> {
    return Promise.resolve(null);
  }

  /**
   * Listen to an adapter event.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.on("delete-room", (room) => console.log("deleted", room));
   * ```
   */
  on<E extends keyof AdapterEvents>(event: E, listener: AdapterEvents[E]): this {
    const list = this.#listeners.get(event);
    const added = listener as Listener;
    this.#listeners.set(event, list === undefined ? [added] : [...list, added]);
    return this;
  }

  /**
   * Stop listening to an adapter event (the last registration of `listener` is removed).
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * const listener = (room: string) => console.log(room);
   * adapter.on("create-room", listener).off("create-room", listener);
   * ```
   */
  off<E extends keyof AdapterEvents>(event: E, listener: AdapterEvents[E]): this {
    const list = this.#listeners.get(event);
    const index = list === undefined ? -1 : list.lastIndexOf(listener as Listener);
    if (list === undefined || index === -1) return this;
    if (list.length === 1) this.#listeners.delete(event);
    else this.#listeners.set(event, list.toSpliced(index, 1));
    return this;
  }

  /**
   * Emit an adapter event; returns whether it had listeners.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * console.log(adapter.emit("create-room", "news")); // false
   * ```
   */
  emit<E extends keyof AdapterEvents>(event: E, ...args: Parameters<AdapterEvents[E]>): boolean {
    const list = this.#listeners.get(event);
    if (list === undefined) return false;
    for (const listener of list) listener(...args);
    return true;
  }
}

function writeOptions(opts: BroadcastOptions): WriteOptions {
  const flags = opts.flags;
  return { preEncoded: true, volatile: flags?.volatile, compress: flags?.compress };
}
