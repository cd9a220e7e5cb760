/**
 * A namespace's broadcasts through the runtime's native fan-out (Bun's topics), as its adapter
 * uses them. Browser compatible.
 *
 * A socket is covered once its connection can take published frames (a v4 session open on a
 * WebSocket, nothing buffered: `EngineSocket._fanOutSocket`), from when it joins the namespace or
 * its session upgrades; it is then subscribed to the namespace's topic and to the topic of each
 * of its string rooms, as long as it is in them. Sockets it does not cover (long-polling, v3,
 * mid-upgrade) are written to as usual, and covered ones never are, so no socket gets a
 * broadcast twice.
 *
 * @module
 */
import type { Adapter, Room, SocketId } from "../adapter/adapter.ts";
import type { AdapterFanOut } from "../adapter/fanout.ts";
import type { FanOut, RawSocket } from "./runtime/types.ts";
import type { Socket } from "./socket.ts";

/** What the fan-out needs of a socket: its session, to check what waits for it. */
export interface FanOutSocket {
  /** Its client's Engine.IO session. */
  readonly client: { readonly conn: { _checkBuffered(): void } };
}

/** What the fan-out needs of its namespace. */
export interface FanOutNamespace {
  /** The namespace name: its topic. */
  readonly name: string;
  /** The connected sockets. */
  readonly sockets: ReadonlyMap<SocketId, FanOutSocket>;
  /** Its adapter, for the rooms of a socket it starts covering. */
  readonly adapter: Adapter;
}

/** One namespace's topics on a runtime's {@linkcode FanOut}. */
export class NamespaceFanOut implements AdapterFanOut {
  readonly #native: FanOut;
  readonly #nsp: FanOutNamespace;
  // The namespace's topic is its name; a room's starts with the name's length, so that no two
  // (namespace, room) pairs share one.
  readonly #rooms: string;
  // The covered sockets and their WebSockets; each one is subscribed to the namespace's topic
  // and to those of all its string rooms but its own.
  readonly #covered = new Map<SocketId, RawSocket>();

  /**
   * @param native the runtime's fan-out, for the engine
   * @param nsp the namespace
   */
  constructor(native: FanOut, nsp: FanOutNamespace) {
    this.#native = native;
    this.#nsp = nsp;
    this.#rooms = `${nsp.name.length}:${nsp.name}`;
  }

  /**
   * Covers `socket` when its connection can take published frames now (it joined the namespace,
   * or its session upgraded): subscribes it to the namespace and to its rooms.
   */
  add(socket: Socket): void {
    const id = socket.id;
    if (this.#covered.has(id)) return;
    const raw = socket.client.conn._fanOutSocket();
    if (raw === undefined || !this.#native.subscribe(raw, this.#nsp.name)) return;
    this.#covered.set(id, raw);
    const rooms = this.#nsp.adapter.socketRooms(id);
    if (rooms !== undefined) this.subscribe(id, rooms);
  }

  /** Stops covering socket `id` (it left the namespace): unsubscribes what it was subscribed to. */
  delete(id: SocketId): void {
    const raw = this.#covered.get(id);
    if (raw === undefined) return;
    this.#covered.delete(id);
    const native = this.#native;
    native.unsubscribe(raw, this.#nsp.name);
    for (const room of this.#nsp.adapter.socketRooms(id) ?? []) {
      const topic = this.#topic(room, id);
      if (topic !== undefined) native.unsubscribe(raw, topic);
    }
  }

  subscribe(id: SocketId, rooms: Iterable<Room>): void {
    const raw = this.#covered.get(id);
    if (raw === undefined) return;
    for (const room of rooms) {
      const topic = this.#topic(room, id);
      // A socket that cannot subscribe (closing) is no longer covered: it is written to.
      if (topic !== undefined && !this.#native.subscribe(raw, topic)) return this.delete(id);
    }
  }

  unsubscribe(id: SocketId, room: Room): void {
    const raw = this.#covered.get(id);
    if (raw === undefined) return;
    const topic = this.#topic(room, id);
    if (topic !== undefined) this.#native.unsubscribe(raw, topic);
  }

  publish(text: string, compress: boolean, room?: Room, except?: SocketId): boolean {
    // Nobody to reach: every receiver is written to, none asked about.
    if (this.#covered.size === 0) return false;
    const topic = room === undefined ? this.#nsp.name : this.#topic(room, undefined);
    if (topic === undefined) return false;
    let from: RawSocket | undefined;
    if (except !== undefined) {
      if (!this.#nsp.sockets.has(except)) return false;
      // A covered sender publishes from its own WebSocket, which the runtime leaves out.
      from = this.#covered.get(except);
    }
    if (!this.#native.publish(topic, "4" + text, compress, from)) this.#dropped(room, except);
    return true;
  }

  /**
   * The runtime dropped a published frame for a subscriber with more than its limit buffered (or
   * the frame reached nobody: Bun answers the same for both): each covered receiver's session
   * asks what waits for it, and one over `maxBufferedBytes` is dropped now as a slow consumer, so
   * that it never goes on with a frame missing. This visits the broadcast's receivers once, as
   * the adapter does after every broadcast.
   */
  #dropped(room: Room | undefined, except: SocketId | undefined): void {
    const ids = room === undefined ? this.#covered.keys() : this.#nsp.adapter.rooms.get(room);
    if (ids === undefined) return;
    const sockets = this.#nsp.sockets;
    for (const id of ids) {
      if (id !== except && this.#covered.has(id)) sockets.get(id)?.client.conn._checkBuffered();
    }
  }

  covers(id: SocketId): boolean {
    return this.#covered.has(id);
  }

  coversAll(): boolean {
    // Covered sockets are sockets of the namespace: as many, and every one is.
    return this.#covered.size === this.#nsp.sockets.size;
  }

  /**
   * The topic of `room`, none for a socket's own room (never published to) and for a room that
   * is not a string: rooms are map keys of any type, as officially (`socket.join(anything)`),
   * and a topic made of an object could throw, or name another room.
   */
  #topic(room: Room, own: SocketId | undefined): string | undefined {
    return typeof room === "string" && room !== own ? this.#rooms + room : undefined;
  }
}
