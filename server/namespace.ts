/**
 * A namespace: its sockets, middleware, adapter and broadcasts. Browser compatible.
 *
 * @module
 */
import type {
  Adapter,
  AdapterNamespace,
  AdapterTimers,
  BroadcastFlags,
  Room,
} from "../adapter/adapter.ts";
import { InMemoryAdapter } from "../adapter/memory.ts";
import { PacketType } from "../parser/socket.ts";
import { BroadcastOperator } from "./broadcast.ts";
import type { Client } from "./client.ts";
import { NamespaceFanOut } from "./fanout.ts";
import { report, reportRejection } from "./runtime/report.ts";
import type { RemoteSocket } from "./remote_socket.ts";
import { type PartialAnswers, withMissing } from "../adapter/partial.ts";
import type { Server } from "./server.ts";
import { type DisconnectReason, Socket } from "./socket.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses as Multi,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed_events.ts";
import { TypedListeners } from "./typed_events.ts";

/** A connection error with optional `data`, as middleware passes to `next(err)`. */
export interface ExtendedError extends Error {
  /** Sent to the client's `connect_error` as `err.data`. */
  data?: unknown;
}

/** A connection middleware: `(socket, next) => ...`. */
export type Middleware<
  L extends EventsMap = DefaultEventsMap,
  E extends EventsMap = DefaultEventsMap,
  S extends EventsMap = DefaultEventsMap,
  D = unknown,
> = (socket: Socket<L, E, S, D>, next: (err?: ExtendedError) => void) => void;

/** The events a namespace emits locally. */
export interface NamespaceReservedEvents<
  L extends EventsMap,
  E extends EventsMap,
  S extends EventsMap,
  D,
> {
  /** A socket connected. */
  connect: (socket: Socket<L, E, S, D>) => void;
  /** A socket connected (alias). */
  connection: (socket: Socket<L, E, S, D>) => void;
}

/** Disconnect reasons after which a session may be restored. */
const RECOVERABLE: ReadonlySet<string> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "server shutting down",
  "forced server close",
]);

/**
 * A namespace, as `io.of("/admin")` gives it.
 *
 * @example
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * const admin = io.of("/admin");
 * admin.use((socket, next) => {
 *   if (socket.handshake.auth.token === "secret") return next();
 *   const err = Object.assign(new Error("not authorized"), { data: { hint: "log in" } });
 *   next(err);
 * });
 * admin.on("connection", (socket) => socket.emit("welcome"));
 * ```
 */
export class Namespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> extends TypedListeners<
  ServerSideEvents,
  NamespaceReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
> implements AdapterNamespace {
  /** The namespace name (`/`, `/admin`, ...). */
  readonly name: string;
  /** The server. */
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** Connected sockets by id. */
  readonly sockets: Map<string, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> =
    new Map();
  /** The adapter: rooms and fan-out. */
  adapter!: Adapter;
  /** @internal connection middleware. */
  _fns: Middleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>[] = [];
  /** @internal the ack id counter (shared by the children of a dynamic parent). */
  _ids: { next: number } = { next: 0 };

  /**
   * Use `io.of(name)` rather than this.
   *
   * @param server the server
   * @param name the namespace name, starting with `/`
   */
  constructor(
    server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    name: string,
  ) {
    super();
    this.server = server;
    this.name = name;
    const native = server.engine.fanOut;
    this._fanOut = native && new NamespaceFanOut(native, this);
    this._initAdapter();
  }

  /**
   * @internal its broadcasts through the runtime's native fan-out (Bun), which the in-memory
   * adapter uses; undefined where the runtime has none.
   */
  readonly _fanOut: NamespaceFanOut | undefined;

  /** @internal (re)creates the adapter. */
  _initAdapter(): void {
    const adapter = new this.server._adapter(this as unknown as AdapterNamespace);
    if (adapter instanceof InMemoryAdapter) adapter.fanOut = this._fanOut;
    this.adapter = adapter;
    reportRejection(adapter.init()); // a custom adapter's failure, reported
  }

  /** The server's encoder (the adapter encodes broadcasts with it). */
  get encoder(): { encode(packet: import("../parser/socket.ts").Packet): unknown[] } {
    return this.server.encoder;
  }

  /**
   * The next ack id, shared by the emits and broadcasts of this namespace (and of its siblings
   * under a dynamic parent): adapters take broadcast ids from it.
   */
  nextAckId(): number {
    return this._ids.next++;
  }

  /** The engine's scheduler, which times the adapter's requests and heartbeats. */
  get timers(): AdapterTimers {
    return this.server.engine.opts.scheduler;
  }

  /** @internal the server's connection state recovery options, when on (adapters read them). */
  get recovery(): { readonly maxDisconnectionDuration: number } | undefined {
    return this.server.recovery;
  }

  /** @internal forgets a timed-out broadcast's ack callback in every socket. */
  _dropAck(ack: (...args: unknown[]) => void): void {
    for (const socket of this.sockets.values()) socket._dropAck(ack);
  }

  /** Adds a connection middleware. */
  use(fn: Middleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this._fns.push(fn);
    return this;
  }

  /** @internal a broadcast operator with these targets. */
  _operator(
    rooms: Set<Room> = new Set(),
    except: Set<Room> = new Set(),
    flags: BroadcastFlags = {},
  ): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return new BroadcastOperator(this, rooms, except, flags);
  }

  /** Targets a room or several. */
  to(room: Room | Room[]): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this._operator().to(room);
  }

  /** Alias of {@linkcode Namespace.to}. */
  in(room: Room | Room[]): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this._operator().in(room);
  }

  /** Targets every socket but those in these rooms. */
  except(room: Room | Room[]): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this._operator().except(room);
  }

  /** Emits to every socket of the namespace. */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return (this._operator().emit as (ev: string, ...a: unknown[]) => boolean)(ev, ...args);
  }

  /** Sends a `message` event to every socket. */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (ev: string, ...a: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** Alias of {@linkcode Namespace.send}. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /**
   * Emits to the other servers of a cluster. The in-memory adapter has no other server: it
   * warns and delivers nothing, as the official one does.
   *
   * @throws when `ev` is a reserved event name
   */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<ServerSideEvents, Ev>
  ): boolean {
    if (ev === "connect" || ev === "connection" || ev === "new_namespace") {
      throw new Error(`"${ev}" is a reserved event name`);
    }
    reportRejection(this.adapter.serverSideEmit([ev, ...args]));
    return true;
  }

  /**
   * Emits to the other servers of a cluster and resolves with their acks. When some did not
   * answer within `requestsTimeout`, resolves with the others' acks and `missing` naming those
   * nodes (see {@linkcode PartialAnswers}); with the adapter's `partialResponses: false`, rejects
   * with the responses so far in `err.responses`, as officially.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * const answers = await io.of("/").serverSideEmitWithAck("ping");
   * console.log(answers.length, answers.missing.count); // 0 0: no other node here
   * ```
   */
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<PartialAnswers<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>>> {
    return new Promise((resolve, reject) => {
      (args as unknown[]).push((err: (Error & { responses?: unknown }) | null, res: never[]) => {
        if (!err) return resolve(withMissing(res));
        err.responses = res;
        reject(err);
      });
      (this.serverSideEmit as (ev: string, ...a: unknown[]) => boolean)(ev, ...args);
    });
  }

  /** @internal adapter: a server-side event from another node. */
  onServerSideEmit(args: unknown[]): void {
    this.emitUntyped(args[0] as string, ...args.slice(1));
  }

  /** The ids of every socket. */
  allSockets(): Promise<Set<string>> {
    return this._operator().allSockets();
  }

  /** Kept for API compatibility. */
  compress(compress: boolean): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this._operator().compress(compress);
  }

  /** Skips sockets that cannot take the packet now. */
  get volatile(): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this._operator().volatile;
  }

  /** Only this node's sockets. */
  get local(): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this._operator().local;
  }

  /** Collects acks for at most `ms`: the ack gets `(err, responses)`. */
  timeout(
    ms: number,
  ): BroadcastOperator<DecorateAcknowledgements<Multi<EmitEvents>>, SocketData> {
    return this._operator().timeout(ms);
  }

  /**
   * Every socket of the namespace: this node's `Socket`s and, with a cluster adapter, a
   * {@linkcode RemoteSocket} for each socket of another node (typed as the official server
   * types it). When some nodes did not answer in time: the others' sockets, and `missing`
   * naming those nodes (see {@linkcode PartialAnswers}).
   */
  fetchSockets(): Promise<PartialAnswers<RemoteSocket<EmitEvents, SocketData>>> {
    return this._operator().fetchSockets() as unknown as Promise<
      PartialAnswers<RemoteSocket<EmitEvents, SocketData>>
    >;
  }

  /** Makes every socket join rooms. */
  socketsJoin(room: Room | Room[]): void {
    this._operator().socketsJoin(room);
  }

  /** Makes every socket leave rooms. */
  socketsLeave(room: Room | Room[]): void {
    this._operator().socketsLeave(room);
  }

  /** Disconnects every socket; with `close`, their whole connections. */
  disconnectSockets(close = false): void {
    this._operator().disconnectSockets(close);
  }

  /** @internal a client asks to join: restore or create its socket, run middleware, connect. */
  async _add(client: Client, auth: Record<string, unknown>): Promise<void> {
    const recovery = this.server.recovery;
    let socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | undefined;
    if (recovery && typeof auth.pid === "string" && typeof auth.offset === "string") {
      const session = await this.adapter.restoreSession(auth.pid, auth.offset).catch(() => null);
      if (session && client.conn.readyState === "open") {
        socket = new Socket(this, client, auth, session);
        await socket.join(session.rooms);
        // The missed packets go out at once, before the middleware and the CONNECT answer, as
        // the official server sends them when it restores the socket.
        for (const data of session.missedPackets) {
          socket._packet({ type: PacketType.EVENT, nsp: this.name, data });
        }
      }
    }
    socket ??= new Socket(this, client, auth);
    const err = socket.recovered && recovery?.skipMiddlewares ? undefined : await this.#run(socket);
    if (client.conn.readyState !== "open") {
      socket._cleanup();
      return;
    }
    if (err) {
      socket._cleanup();
      socket._error({ message: err.message, data: err.data });
      return;
    }
    this.sockets.set(socket.id, socket);
    this._fanOut?.add(socket as unknown as Socket);
    client._onconnect(socket as unknown as Socket);
    socket._onconnect();
    this.emitReserved("connect", socket);
    this.emitReserved("connection", socket);
  }

  /**
   * @internal brings back a socket of `client` after hibernation (see `server/restore.ts`): no
   * middleware, no CONNECT answer; `connection` listeners run with `socket.recovered` true.
   */
  _restore(
    client: Client,
    snapshot: {
      id: string;
      pid?: string;
      auth: Record<string, unknown>;
      data: unknown;
      rooms: readonly Room[];
      issued: number;
    },
  ): Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const socket = new Socket(this, client, snapshot.auth, {
      sid: snapshot.id,
      pid: snapshot.pid,
      data: snapshot.data,
      issued: snapshot.issued,
    });
    this.sockets.set(socket.id, socket);
    client._onconnect(socket as unknown as Socket);
    socket._resume(snapshot.rooms);
    try {
      this.emitReserved("connect", socket);
      this.emitReserved("connection", socket);
    } catch (err) {
      report(err); // the application's: the socket is back all the same
    }
    return socket;
  }

  #run(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
  ): Promise<ExtendedError | undefined> {
    const fns = this._fns.slice();
    if (!fns.length) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const step = (i: number): void => {
        if (i === fns.length) return resolve(undefined);
        let called = false;
        // Thrown (or rejected, by an async middleware) before `next`: the refusal. After: the
        // application's error, reported as uncaught (as on the official server) while the
        // connection goes on.
        const failed = (err: unknown) => {
          if (called) return report(err);
          called = true;
          resolve(err instanceof Error ? err : new Error(String(err)));
        };
        try {
          const result: unknown = fns[i](socket, (err) => {
            if (called) return;
            called = true;
            err ? resolve(err) : step(i + 1);
          });
          if (typeof (result as PromiseLike<unknown> | null)?.then === "function") {
            (result as PromiseLike<unknown>).then(undefined, failed);
          }
        } catch (err) {
          failed(err);
        }
      };
      step(0);
    });
  }

  /** @internal a socket left. */
  _remove(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (this.sockets.get(socket.id) === socket) {
      this.sockets.delete(socket.id);
      this._fanOut?.delete(socket.id);
    }
    this.server._onNamespaceEmptied(this as unknown as Namespace);
  }

  /** @internal keeps a recoverable session when recovery is on. */
  _persist(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    reason: DisconnectReason,
  ): void {
    if (!this.server.recovery || !socket.pid || !RECOVERABLE.has(reason)) return;
    reportRejection(this.adapter.persistSession({
      sid: socket.id,
      pid: socket.pid,
      rooms: [...socket.rooms],
      data: socket.data,
    }));
  }
}
