/**
 * A socket of another node of a cluster, as `fetchSockets()` gives it: its details, and the
 * operations a cluster adapter carries out where it lives. Browser compatible.
 *
 * @module
 */
import type { Handshake, Room, SocketDetails, SocketId } from "../adapter/adapter.ts";
import type { BroadcastOperator } from "./broadcast.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed_events.ts";

/**
 * A socket as `fetchSockets()` returns it when it is connected to another node (on this node,
 * `fetchSockets()` gives the `Socket` itself, which has the same members). As the official
 * `RemoteSocket`: its id, handshake, rooms and data are a snapshot taken when it was fetched;
 * `emit`, `join`, `leave` and `disconnect` go through the adapter to the node that has it.
 *
 * @example Greeting every socket of the cluster by name
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * for (const socket of await io.fetchSockets()) {
 *   console.log(socket.id, socket.handshake.address, socket.rooms, socket.data);
 *   socket.emit("hello", "from", "the cluster");
 *   socket.join("greeted");
 * }
 * ```
 */
export class RemoteSocket<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = unknown> {
  /** The socket id. */
  readonly id: SocketId;
  /** What the client sent at handshake. */
  readonly handshake: Handshake;
  /** The rooms the socket was in when it was fetched. */
  readonly rooms: Set<Room>;
  /** The socket's `data` when it was fetched. */
  readonly data: SocketData;
  readonly #operator: BroadcastOperator<EmitEvents, SocketData>;

  /**
   * `fetchSockets()` creates these.
   *
   * @param operator a broadcast operator that targets this socket's own room and expects a
   * single response
   * @param details the socket's details, as its node sent them
   */
  constructor(
    operator: BroadcastOperator<EmitEvents, SocketData>,
    details: SocketDetails<SocketData>,
  ) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = new Set(details.rooms);
    this.data = details.data;
    this.#operator = operator;
  }

  /**
   * Emits to this socket; a function as last argument gets its acknowledgement (set a
   * `timeout()` first: without one the callback gets an error at once, as officially).
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * const [socket] = await io.in("ann").fetchSockets();
   * socket?.emit("notice", "you have mail");
   * ```
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator.emit(ev, ...args);
  }

  /**
   * Emits to this socket and resolves with its acknowledgement (set a `timeout()` first).
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * for (const socket of await io.fetchSockets()) {
   *   const answer = await socket.timeout(1000).emitWithAck("ping").catch(() => null);
   *   console.log(socket.id, answer);
   * }
   * ```
   */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    type Result = FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>;
    return new Promise((resolve, reject) => {
      (args as unknown[]).push((err: Error | null, res: unknown) => {
        if (err) reject(err);
        else resolve(res as Result);
      });
      (this.#operator.emit as (ev: string, ...a: unknown[]) => boolean)(
        ev,
        ...(args as unknown[]),
      );
    });
  }

  /**
   * Waits at most `ms` for the acknowledgement of the next emit: the callback gets an error
   * first, then the response.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * for (const socket of await io.fetchSockets()) {
   *   socket.timeout(1000).emit("ping", (err: Error | null, answer: unknown) => {
   *     console.log(socket.id, err ? "no answer" : answer);
   *   });
   * }
   * ```
   */
  timeout(ms: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.#operator.timeout(ms);
  }

  /**
   * Makes this socket join a room or several, where it lives.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * for (const socket of await io.fetchSockets()) socket.join(["lobby", "news"]);
   * ```
   */
  join(room: Room | Room[]): void {
    this.#operator.socketsJoin(room);
  }

  /**
   * Makes this socket leave a room, where it lives.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * for (const socket of await io.in("lobby").fetchSockets()) socket.leave("lobby");
   * ```
   */
  leave(room: Room): void {
    this.#operator.socketsLeave(room);
  }

  /**
   * Disconnects this socket; with `close`, its whole connection.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * for (const socket of await io.in("banned").fetchSockets()) socket.disconnect(true);
   * ```
   */
  disconnect(close = false): this {
    this.#operator.disconnectSockets(close);
    return this;
  }
}
