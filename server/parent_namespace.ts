/**
 * Dynamic namespaces: `io.of(/^\/room-\d+$/)` or `io.of((name, auth, next) => ...)` creates
 * child namespaces on demand, each with the parent's middleware and listeners. Browser compatible.
 *
 * @module
 */
import type {
  AdapterNamespace,
  AdapterSocket,
  BroadcastOptions,
  Packet,
  Room,
  SocketDetails,
} from "../adapter/adapter.ts";
import { InMemoryAdapter } from "../adapter/memory.ts";
import { Namespace } from "./namespace.ts";
import type { Server } from "./server.ts";
import type { DefaultEventsMap, EventsMap } from "./typed_events.ts";

/** Decides whether a dynamic namespace may be created: `next(err, allow)`. */
export type ParentNspNameMatchFn = (
  name: string,
  auth: Record<string, unknown>,
  next: (err: Error | null, success: boolean) => void,
) => void;

let count = 0;

/**
 * The parent of dynamically created namespaces. Its `use` and `on("connection")` apply to every
 * child created afterwards; its broadcasts (`emit`, `to(room).emit`, ...) reach every child.
 *
 * @example
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * const workspaces = io.of(/^\/workspace-\d+$/);
 * workspaces.on("connection", (socket) => {
 *   socket.emit("hello", socket.nsp.name);
 * });
 * workspaces.to("admins").emit("notice", "maintenance at noon");
 * ```
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  /** The namespaces created from this parent. */
  readonly children: Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> =
    new Set();

  /**
   * Use `io.of(regexp)` or `io.of(fn)` rather than this.
   *
   * @param server the server
   */
  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    super(server, `/_${count++}`);
  }

  /** @internal the parent's adapter relays to the children's adapters. */
  override _initAdapter(): void {
    this.adapter = new ParentAdapter(this as unknown as ParentNamespace);
  }

  /** @internal */
  override _dropAck(ack: (...args: unknown[]) => void): void {
    for (const nsp of this.children) nsp._dropAck(ack);
  }

  /**
   * Not supported on a parent namespace, as with the official server: fetch from a child, or
   * use `parent.in(room).fetchSockets()`.
   *
   * @throws always
   */
  override fetchSockets(): never {
    throw new Error("fetchSockets() is not supported on parent namespaces");
  }

  /** @internal creates the child `name`. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const nsp = new Namespace(this.server, name);
    nsp._fns = this._fns.slice();
    // One ack id counter for the family, so a broadcast's id is free in every child.
    nsp._ids = this._ids;
    for (const ev of ["connect", "connection"] as const) {
      for (const listener of this.listeners(ev)) nsp.on(ev, listener);
    }
    this.children.add(nsp);
    this.server._addChild(nsp);
    return nsp;
  }
}

/** Fans the parent's operations out to each child's adapter. */
class ParentAdapter extends InMemoryAdapter {
  readonly #parent: ParentNamespace;

  constructor(parent: ParentNamespace) {
    super(parent as unknown as AdapterNamespace);
    this.#parent = parent;
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    // Each child stamps its name (and maybe an offset) on the packet: each gets its own copy.
    for (const nsp of this.#parent.children) nsp.adapter.broadcast(copy(packet), opts);
  }

  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    let total = 0;
    for (const nsp of this.#parent.children) {
      nsp.adapter.broadcastWithAck(copy(packet), opts, (n) => (total += n), ack);
    }
    clientCountCallback(total);
  }

  override async sockets(rooms: Set<Room>): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const nsp of this.#parent.children) {
      for (const id of await nsp.adapter.sockets(rooms)) ids.add(id);
    }
    return ids;
  }

  override async fetchSockets(
    opts: BroadcastOptions,
  ): Promise<(AdapterSocket | SocketDetails)[]> {
    const all: (AdapterSocket | SocketDetails)[] = [];
    for (const nsp of this.#parent.children) all.push(...await nsp.adapter.fetchSockets(opts));
    return all;
  }

  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const nsp of this.#parent.children) nsp.adapter.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const nsp of this.#parent.children) nsp.adapter.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const nsp of [...this.#parent.children]) nsp.adapter.disconnectSockets(opts, close);
  }
}

function copy(packet: Packet): Packet {
  return { ...packet, data: Array.isArray(packet.data) ? packet.data.slice() : packet.data };
}
