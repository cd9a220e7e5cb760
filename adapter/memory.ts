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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
    if (chunks.length !== 1 || typeof text !== "string") return false;
    const except = this.#soleSocket(opts.except);
    const room = this.#namedRoom(opts.rooms);
    return room !== null && except !== null &&
      fanOut.publish(text, writeOpts.compress !== false, room, except);
  }

  /**
   * Like {@linkcode InMemoryAdapter.broadcast}, registering `ack` on each receiver under
   * `packet.id`, then reporting the number of receivers to `clientCountCallback`.
   *
   * The caller sets `packet.id` from the namespace's ack id counter: that counter is shared with
   * `socket.emit()` acknowledgements, so one id never means two callbacks on a socket.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
   * adapter.broadcastWithAck(
   *   { type: 2, nsp: "/", data: ["ping"], id: 0 },
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
    const id = packet.id;
    if (typeof id !== "number") {
      throw new TypeError("broadcastWithAck: set packet.id from the namespace's ack id counter");
    }
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
   * const sockets = await adapter.fetchSockets({ rooms: new Set(["news"]) });
   * console.log(sockets.length); // 0
   * ```
   */
  fetchSockets(opts: BroadcastOptions): Promise<AdapterSocket[]> {
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
   * adapter.serverSideEmit(["hello", "world"]); // warns
   * ```
   */
  serverSideEmit(_packet: unknown[]): void | Promise<void> {
    console.warn("this adapter does not support the serverSideEmit() functionality");
  }

  /**
   * Save a disconnected socket's state. The in-memory adapter keeps nothing; see
   * {@linkcode SessionAwareAdapter}.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
   * adapter.persistSession({ sid: "abc", pid: "secret", rooms: [], data: {} });
   * ```
   */
  persistSession(_session: SessionToPersist): void | Promise<void> {}

  /**
   * Restore a session: always `null` for the in-memory adapter; see
   * {@linkcode SessionAwareAdapter}.
   *
   * @example
   * ```ts
   * import { InMemoryAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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
   * const adapter = new InMemoryAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
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

/** Options of {@linkcode SessionAwareAdapter}. */
export interface SessionAwareAdapterOptions {
  /**
   * How long, in milliseconds, a disconnected session and the packets broadcast meanwhile are
   * kept. Default: 120000 (2 minutes), as in Socket.IO.
   */
  maxDisconnectionDuration?: number;
}

interface StoredPacket {
  offset: string;
  opts: BroadcastOptions;
  data: unknown[];
  emittedAt: number;
}

interface StoredSession extends SessionToPersist {
  disconnectedAt: number;
}

// How often expired sessions are swept (lazily, on persist: no timer keeps the process alive).
const SWEEP_INTERVAL = 60_000;

/**
 * The in-memory adapter with connection state recovery, as `SessionAwareAdapter` from
 * `socket.io-adapter`: it keeps disconnected sessions and the event packets broadcast for
 * `maxDisconnectionDuration`, tags each such packet with an offset (appended to its data), and
 * replays what a client missed after its last offset.
 *
 * Packets with an ack id or the `volatile` flag are not stored. Expired state is dropped lazily,
 * without timers.
 *
 * @example
 * ```ts
 * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
 *
 * const adapter = new SessionAwareAdapter(
 *   { name: "/", sockets: new Map(), encoder: { encode: () => [] } },
 *   { maxDisconnectionDuration: 60_000 },
 * );
 * adapter.persistSession({ sid: "abc", pid: "secret", rooms: ["abc"], data: {} });
 * ```
 */
export class SessionAwareAdapter extends InMemoryAdapter {
  readonly #maxDisconnectionDuration: number;
  readonly #sessions = new Map<PrivateSessionId, StoredSession>();
  // Oldest first; live packets are #packets[#head..]. Dead ones are compacted away in bulk.
  #packets: StoredPacket[] = [];
  #head = 0;
  // Offset to the packet's absolute sequence number; #base is that of #packets[0].
  readonly #seqs = new Map<string, number>();
  #base = 0;
  #nextSeq = 0;
  readonly #epoch = Date.now().toString(36);
  #lastSweep = Date.now();

  /**
   * Build the adapter of a namespace.
   *
   * @param nsp The namespace this adapter serves.
   * @param options How long sessions are kept.
   */
  constructor(nsp: AdapterNamespace, options: SessionAwareAdapterOptions = {}) {
    super(nsp);
    this.#maxDisconnectionDuration = options.maxDisconnectionDuration ?? 120_000;
  }

  /**
   * Save a disconnected socket's state until `maxDisconnectionDuration` has passed.
   *
   * @example
   * ```ts
   * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new SessionAwareAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
   * adapter.persistSession({ sid: "abc", pid: "secret", rooms: ["abc"], data: {} });
   * ```
   */
  override persistSession(session: SessionToPersist): void | Promise<void> {
    const now = Date.now();
    this.#sweepSessions(now);
    this.#sessions.set(session.pid, { ...session, disconnectedAt: now });
  }

  /**
   * Restore the session saved under `pid` with the packets broadcast after
   * `offset` that reached its rooms, or `null` when the session or the offset has expired or is
   * unknown.
   *
   * @example
   * ```ts
   * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new SessionAwareAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
   * console.log(await adapter.restoreSession("secret", "unknown")); // null
   * ```
   */
  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session | null> {
    const stored = this.#sessions.get(pid);
    if (stored === undefined) return Promise.resolve(null);
    const now = Date.now();
    if (stored.disconnectedAt + this.#maxDisconnectionDuration < now) {
      this.#sessions.delete(pid);
      return Promise.resolve(null);
    }
    this.#dropExpiredPackets(now);
    const seq = this.#seqs.get(offset);
    if (seq === undefined) return Promise.resolve(null);
    const missedPackets: unknown[][] = [];
    for (let i = seq - this.#base + 1; i < this.#packets.length; i++) {
      const packet = this.#packets[i];
      if (reaches(stored.rooms, packet.opts)) missedPackets.push(packet.data);
    }
    const { disconnectedAt: _, ...session } = stored;
    return Promise.resolve({ ...session, missedPackets });
  }

  /**
   * Broadcast `packet`; an event without ack id or `volatile` flag is first stored and its
   * offset appended to its data, so that clients can resume after it.
   *
   * @example
   * ```ts
   * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new SessionAwareAdapter({ name: "/", sockets: new Map(), encoder: { encode: () => [] } });
   * const packet = { type: 2 as const, nsp: "/", data: ["hello"] };
   * adapter.broadcast(packet, { rooms: new Set() });
   * console.log(packet.data.length); // 2: the offset was appended
   * ```
   */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    // Packets with an ack are not stored: the callback cannot be restored on reconnection.
    if (
      packet.type === 2 && packet.id === undefined && !opts.flags?.volatile &&
      Array.isArray(packet.data)
    ) {
      const now = Date.now();
      this.#dropExpiredPackets(now);
      const seq = this.#nextSeq++;
      const offset = `${this.#epoch}.${seq.toString(36)}`;
      // The offset goes last in the data, so the client knows the last packet it processed.
      packet.data.push(offset);
      this.#packets.push({ offset, opts, data: packet.data, emittedAt: now });
      this.#seqs.set(offset, seq);
    }
    super.broadcast(packet, opts);
  }

  #dropExpiredPackets(now: number): void {
    const threshold = now - this.#maxDisconnectionDuration;
    const packets = this.#packets;
    while (this.#head < packets.length && packets[this.#head].emittedAt < threshold) {
      this.#seqs.delete(packets[this.#head].offset);
      this.#head++;
    }
    // Compact when at least half the array is dead, so the work stays amortized O(1).
    if (this.#head > 0 && this.#head * 2 >= packets.length) {
      this.#packets = packets.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }

  #sweepSessions(now: number): void {
    if (now - this.#lastSweep < SWEEP_INTERVAL) return;
    this.#lastSweep = now;
    const threshold = now - this.#maxDisconnectionDuration;
    for (const [pid, session] of this.#sessions) {
      if (session.disconnectedAt < threshold) this.#sessions.delete(pid);
    }
  }
}

function reaches(rooms: Room[], opts: BroadcastOptions): boolean {
  const included = opts.rooms.size === 0 || rooms.some((room) => opts.rooms.has(room));
  const except = opts.except;
  return included && (except === undefined || rooms.every((room) => !except.has(room)));
}
