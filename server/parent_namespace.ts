/**
 * Dynamic namespaces: `io.of(/^\/room-\d+$/)` or `io.of((name, auth, next) => ...)` creates
 * child namespaces on demand, each with the parent's middleware and listeners. Browser compatible.
 *
 * @module
 */
import type { Room } from "../adapter/adapter.ts";
import { Namespace } from "./namespace.ts";
import type { Server } from "./server.ts";
import type { DefaultEventsMap, EventNames, EventParams, EventsMap } from "./typed_events.ts";

/** Decides whether a dynamic namespace may be created: `next(err, allow)`. */
export type ParentNspNameMatchFn = (
  name: string,
  auth: Record<string, unknown>,
  next: (err: Error | null, success: boolean) => void,
) => void;

let count = 0;

/**
 * The parent of dynamically created namespaces. Its `use` and `on("connection")` apply to every
 * child; `emit` reaches every child's sockets.
 *
 * @example
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * io.of(/^\/workspace-\d+$/).on("connection", (socket) => {
 *   socket.emit("hello", socket.nsp.name);
 * });
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

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    super(server, `/_${count++}`);
  }

  /** Emits to every socket of every child. */
  override emit<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EventParams<EmitEvents, Ev>
  ): boolean {
    for (const nsp of this.children) nsp.emit(ev, ...args);
    return true;
  }

  /** Targets rooms in every child. */
  override to(room: Room | Room[]): never {
    throw new Error(`to(${room}) is not supported on a parent namespace: use a child`);
  }

  /** @internal creates the child `name`. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const nsp = new Namespace(this.server, name);
    nsp._fns = this._fns.slice();
    for (const ev of ["connect", "connection"] as const) {
      for (const listener of this.listeners(ev)) nsp.on(ev, listener);
    }
    this.children.add(nsp);
    return nsp;
  }
}
