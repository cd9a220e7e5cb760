/**
 * The Socket.IO server (`io`): namespaces, middleware and broadcasts over the Engine.IO server,
 * served by one fetch handler on Deno and Bun.
 *
 * @module
 */
import type { AdapterConstructor, Room } from "../adapter/adapter.ts";
import type { PartialAnswers } from "../adapter/partial.ts";
import { InMemoryAdapter } from "../adapter/memory.ts";
import { SessionAwareAdapter } from "../adapter/session_aware.ts";
import { Encoder, type Packet } from "../parser/socket.ts";
import * as defaultParser from "../parser/socket.ts";
import type { BroadcastOperator } from "./broadcast.ts";
import { clientFile, serveClientFile } from "../client/serve.ts";
import { Client } from "./client.ts";
import { applyCors, type CorsOptions } from "./engine/cors.ts";
import type { EngineOptions } from "./engine/options.ts";
import { type FetchHandler, Server as Engine } from "./engine/server.ts";
import { type Middleware, Namespace, type NamespaceReservedEvents } from "./namespace.ts";
import { nodeFormError, validateServerOptions } from "./options.ts";
import { report, reportRejection } from "./runtime/report.ts";
import type { Scheduler, TimerHandle } from "./runtime/scheduler.ts";
import { ParentNamespace, type ParentNspNameMatchFn } from "./parent_namespace.ts";
import type { RemoteSocket } from "./remote_socket.ts";
import type { Socket } from "./socket.ts";
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
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "./typed_events.ts";

/** A parser module, as npm `socket.io-parser` or `socket.io-msgpack-parser` export it. */
export interface ParserModule {
  /** Encodes packets to chunks. */
  Encoder: new () => { encode(packet: Packet): unknown[] };
  /** Decodes chunks, emitting "decoded". */
  Decoder: new () => {
    add(chunk: unknown): unknown;
    on(event: "decoded", fn: (packet: Packet) => void): unknown;
    destroy(): void;
  };
}

/** Connection state recovery options. */
export interface RecoveryOptions {
  /** How long a disconnected session may be restored (ms, default 120000). */
  maxDisconnectionDuration?: number;
  /** Whether a restored socket skips connection middleware (default true). */
  skipMiddlewares?: boolean;
}

/** Options of the Socket.IO server: the Engine.IO options plus these. */
export interface ServerOptions extends EngineOptions {
  /** Serve the client bundle at `<path>/socket.io.js` (default true). */
  serveClient: boolean;
  /** The adapter class (default the in-memory adapter). */
  adapter: AdapterConstructor;
  /** The parser module (default ours, wire-compatible with npm `socket.io-parser`). */
  parser: ParserModule;
  /** Milliseconds a client may take to join a namespace before it is closed (default 45000). */
  connectTimeout: number;
  /** Restores a client's id, rooms, data and missed broadcasts after a short disconnection. */
  connectionStateRecovery: RecoveryOptions;
  /** Removes dynamic child namespaces once their last socket leaves (default false). */
  cleanupEmptyChildNamespaces: boolean;
}

/** The events the server emits locally. */
export interface ServerReservedEvents<
  L extends EventsMap,
  E extends EventsMap,
  S extends EventsMap,
  D,
> extends NamespaceReservedEvents<L, E, S, D> {
  /** A namespace was created (statically or dynamically). */
  new_namespace: (nsp: Namespace<L, E, S, D>) => void;
}

/** What `io.of()` takes: a name, or a RegExp or function matching dynamic names. */
export type NamespaceName = string | RegExp | ParentNspNameMatchFn;

/**
 * A Socket.IO server, with the API of npm `socket.io`: only the import and the serve line change.
 *
 * @example A chat server on Deno
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server({ cors: { origin: "*" } });
 * io.on("connection", (socket) => {
 *   socket.on("chat", (msg) => io.emit("chat", msg));
 * });
 * Deno.serve({ port: 3000 }, io.handler());
 * ```
 *
 * @example Typed events
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * interface ServerToClientEvents { news: (headline: string) => void }
 * interface ClientToServerEvents { hello: (name: string, ack: (ok: boolean) => void) => void }
 *
 * const io = new Server<ClientToServerEvents, ServerToClientEvents>();
 * io.on("connection", (socket) => {
 *   socket.on("hello", (name, ack) => ack(name.length > 0));
 *   socket.emit("news", "typed!");
 * });
 * ```
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> {
  /** The main namespace (`/`). */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The Engine.IO server underneath (see {@linkcode Server.bind}). */
  engine!: Engine;
  /** The encoder of the chosen parser. */
  readonly encoder: { encode(packet: Packet): unknown[] };
  /** @internal */
  readonly _parser: ParserModule;
  /** @internal the encoder when it is our own, unchanged: packets without binary skip arrays. */
  readonly _textEncoder: Encoder | undefined;
  /** @internal the adapter class of namespaces; see {@linkcode Server.adapter}. */
  _adapter: AdapterConstructor;
  /**
   * The namespaces by name, as the official `io._nsps`: not in the official docs, but tools read
   * it (the admin UI walks it for its namespaces and sockets), so it stays, and stays a `Map`.
   */
  readonly _nsps: Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> =
    new Map();
  /** @internal */
  readonly connectTimeout: number;
  /** @internal recovery options, when on. */
  readonly recovery: Required<RecoveryOptions> | undefined;
  readonly #parents = new Map<
    RegExp | ParentNspNameMatchFn,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  readonly #cleanupChildren: boolean;
  readonly #serveClient: boolean;
  /**
   * Connections that joined no namespace yet, with their deadlines, oldest first. One timer
   * watches them all instead of one timer per connection (timers cost a handshake a good part of
   * its CPU): every deadline is `connectTimeout` after its arrival, so they expire in this order.
   */
  readonly #joining = new Map<Client, number>();
  #joinTimer: TimerHandle;
  // The scheduler the join timer is armed on: the engine's (a later `bind()` may change it).
  #joinScheduler: Scheduler | undefined;
  // Made once: arming the join timer allocates nothing of its own.
  readonly #expire = () => this.#expireJoins();

  /**
   * Creates a server; serve it with `Deno.serve(io.handler())`.
   *
   * @param opts Engine.IO and Socket.IO options, all optional
   * @throws TypeError or RangeError naming a wrong option (an unknown name only warns)
   */
  constructor(opts: Partial<ServerOptions> = {}) {
    const {
      serveClient,
      adapter,
      parser,
      connectTimeout,
      connectionStateRecovery,
      cleanupEmptyChildNamespaces,
      ...engine
    } = validateServerOptions(opts) as Partial<ServerOptions>;
    this._parser = parser ?? defaultParser;
    this.encoder = new this._parser.Encoder();
    this._textEncoder = this.encoder instanceof Encoder &&
        this.encoder.encode === Encoder.prototype.encode
      ? this.encoder
      : undefined;
    this.connectTimeout = connectTimeout ?? 45000;
    this.#serveClient = serveClient ?? true;
    this.#cleanupChildren = cleanupEmptyChildNamespaces ?? false;
    if (connectionStateRecovery) {
      this.recovery = {
        maxDisconnectionDuration: connectionStateRecovery.maxDisconnectionDuration ?? 120000,
        skipMiddlewares: connectionStateRecovery.skipMiddlewares ?? true,
      };
      const max = this.recovery.maxDisconnectionDuration;
      this._adapter = adapter ?? class extends SessionAwareAdapter {
        constructor(nsp: ConstructorParameters<typeof SessionAwareAdapter>[0]) {
          super(nsp, { maxDisconnectionDuration: max });
        }
      };
    } else {
      this._adapter = adapter ?? InMemoryAdapter;
    }
    this.bind(new Engine({ path: "/socket.io/", ...engine }));
    this.sockets = this.of("/") as Namespace<
      ListenEvents,
      EmitEvents,
      ServerSideEvents,
      SocketData
    >;
  }

  /**
   * Serves through `engine` from now on, as the official `io.bind(engine)`; the handler to serve
   * is then a new `io.handler()`.
   *
   * @param engine an Engine.IO server
   */
  bind(engine: Engine): this {
    this.engine = engine;
    engine.on("connection", (conn) => {
      const client = new Client(this as unknown as Server, conn);
      // Socket.IO v2 clients join the main namespace without a CONNECT packet.
      if (conn.protocol === 3) client._connect("/", {});
    });
    return this;
  }

  /** Whether the client bundle is served. */
  get serveClient(): boolean {
    return this.#serveClient;
  }

  /**
   * The adapter class of the namespaces (the `adapter` option).
   *
   * @example Reading it
   * ```ts
   * import { InMemoryAdapter, Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * console.log(io.adapter() === InMemoryAdapter); // true
   * ```
   */
  adapter(): AdapterConstructor;
  /**
   * Sets the adapter class, as `io.adapter(createAdapter(...))` does on the official server:
   * every namespace gets a new adapter of that class, and so do those created later. Meant for
   * start-up; the rooms of sockets already connected move to the new adapters.
   *
   * @example Setting it
   * ```ts
   * import { InMemoryAdapter, Server } from "@socketio-edge/core";
   *
   * const io = new Server().adapter(class extends InMemoryAdapter {});
   * ```
   *
   * @param v the adapter class
   * @returns the server, for chaining
   * @throws TypeError when `v` is not a class
   */
  adapter(v: AdapterConstructor): this;
  adapter(v?: AdapterConstructor): AdapterConstructor | this {
    if (arguments.length === 0) return this._adapter;
    if (typeof v !== "function") {
      throw new TypeError(`adapter(v): v must be an adapter class, got ${typeof v}`);
    }
    this._adapter = v;
    for (const nsp of this._nsps.values()) {
      const old = nsp.adapter;
      nsp._initAdapter();
      // The official server drops them; moving them keeps broadcasts reaching those sockets.
      for (const id of nsp.sockets.keys()) {
        const rooms = old.socketRooms(id);
        if (rooms) reportRejection(nsp.adapter.addAll(id, new Set(rooms)));
      }
      reportRejection(old.close());
    }
    return this;
  }

  /**
   * The fetch handler for `Deno.serve` (and, spread, for `Bun.serve`). Requests outside the
   * server's path get `fallback`'s answer, or 404. After {@linkcode Server.close}, calling it
   * again to serve the server anew (`Deno.serve(io.handler())`) opens it to clients again, as
   * `io.listen()` does after `io.close()` on the official server.
   *
   * @param fallback answers requests outside the server's path
   * @throws Error when `fallback` is the handler of another server on the same path, which would
   * never get a request
   */
  handler(fallback?: (req: Request, info?: unknown) => Response | Promise<Response>): FetchHandler {
    // The client bundles live under the engine's path, and are looked for first, as the official
    // server serves them. The engine's handler refuses a fallback it would starve.
    const dir = this.engine.opts.path.replace(/\/$/, "") + "/";
    return this.engine.handler(fallback, (req, url) => {
      if (!this.serveClient) return undefined;
      const cors = this.engine.opts.cors;
      const method = req.method;
      if (method !== "GET" && method !== "HEAD" && !(cors && method === "OPTIONS")) {
        return undefined;
      }
      const name = clientFile(url.pathname, dir);
      return name ? serveBundle(req, name, cors) : undefined;
    });
  }

  /**
   * A namespace by name; a RegExp or a function creates namespaces on demand.
   *
   * @param name `/admin`, a RegExp, or `(name, auth, next) => next(null, allow)`
   * @param fn a `connection` listener to add
   */
  of(
    name: RegExp | ParentNspNameMatchFn,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /**
   * A namespace by name, created when missing.
   *
   * @param name `/admin` (the leading slash may be left out)
   * @param fn a `connection` listener to add
   */
  of(
    name: NamespaceName,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  of(
    name: NamespaceName,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === "function" || name instanceof RegExp) {
      let parent = this.#parents.get(name);
      if (!parent) {
        if (name instanceof RegExp && (name.global || name.sticky)) {
          // `test` would depend on the previous call through `lastIndex`.
          throw new Error("stateful regular expressions are not supported");
        }
        parent = new ParentNamespace(this);
        this.#parents.set(name, parent);
      }
      if (fn) parent.on("connect", fn);
      return parent;
    }
    if (name[0] !== "/") name = "/" + name;
    let nsp = this._nsps.get(name);
    if (!nsp) {
      // A name a RegExp parent accepts becomes its child, as it would on connection.
      for (const [matcher, parent] of this.#parents) {
        if (matcher instanceof RegExp && matcher.test(name)) {
          nsp = parent.createChild(name);
          if (fn) nsp.on("connect", fn);
          return nsp;
        }
      }
      nsp = new Namespace(this, name);
      this._nsps.set(name, nsp);
      if (name !== "/") this.sockets.emitUntyped("new_namespace", nsp);
    }
    if (fn) nsp.on("connect", fn);
    return nsp;
  }

  /** @internal finds a dynamic parent accepting `name`, and creates the child. */
  _checkNamespace(
    name: string,
    auth: Record<string, unknown>,
    done: (nsp: Namespace | undefined) => void,
  ): void {
    const parents = [...this.#parents];
    const next = (i: number): void => {
      if (i === parents.length) return done(undefined);
      const [matcher, parent] = parents[i];
      let decided = false;
      const decide = (err: Error | null, allow: boolean) => {
        if (decided) return; // a matcher calling back twice
        decided = true;
        if (err || !allow) return next(i + 1);
        // The namespace may have been created while the matcher was deciding.
        const nsp = this._nsps.get(name) ?? parent.createChild(name);
        done(nsp as unknown as Namespace);
      };
      if (matcher instanceof RegExp) {
        decide(null, matcher.test(name));
      } else {
        try {
          matcher(name, auth, decide);
        } catch (err) {
          // The application's error: reported. Before the matcher decided, it refuses the name.
          report(err);
          if (!decided) decide(null, false);
        }
      }
    };
    next(0);
  }

  /** @internal registers a child namespace created by a parent. */
  _addChild(nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    this._nsps.set(nsp.name, nsp);
    try {
      this.sockets.emitUntyped("new_namespace", nsp);
    } catch (err) {
      report(err); // a listener's error: the namespace exists and the client joins it
    }
  }

  /** @internal drops an empty dynamic child when asked to. */
  _onNamespaceEmptied(nsp: Namespace): void {
    if (!this.#cleanupChildren || nsp.sockets.size) return;
    for (const parent of this.#parents.values()) {
      if (parent.children.delete(nsp as never)) {
        this._nsps.delete(nsp.name);
        reportRejection(nsp.adapter.close());
      }
    }
  }

  /**
   * The official `io.attach(httpServer, opts)`: a Node form, which the Node entry
   * (`@socketio-edge/core/node`) has; here the server is served through {@linkcode Server.handler}.
   *
   * @param _srv an HTTP server, or a port
   * @param _opts options
   * @throws TypeError naming the Node entry
   */
  attach(_srv: unknown, _opts?: unknown): this {
    throw nodeFormError("io.attach(httpServer)");
  }

  /**
   * The official `io.listen(port)`: a Node form, which the Node entry (`@socketio-edge/core/node`)
   * has; here the server is served through {@linkcode Server.handler}.
   *
   * @param _srv a port, or an HTTP server
   * @param _opts options
   * @throws TypeError naming the Node entry
   */
  listen(_srv: unknown, _opts?: unknown): this {
    throw nodeFormError("io.listen(port)");
  }

  /**
   * Closes every connection (sockets see "server shutting down") and resolves when done. The
   * HTTP server is the caller's: shut it down after this. New clients are refused until
   * {@linkcode Server.handler} is called again to serve the server anew.
   *
   * @param fn called once closed, as with the official server
   */
  async close(fn?: (err?: Error) => void): Promise<void> {
    await Promise.allSettled(
      [...this._nsps.values()].map(async (nsp) => {
        for (const socket of [...nsp.sockets.values()]) socket._onclose("server shutting down");
        await nsp.adapter.close();
      }),
    );
    await this.engine.close();
    fn?.();
  }

  /** @internal a connection must join a namespace within `connectTimeout`, or it is closed. */
  _awaitJoin(client: Client): void {
    const scheduler = this.#joinScheduler ??= this.engine.opts.scheduler;
    this.#joining.set(client, scheduler.now() + this.connectTimeout);
    this.#joinTimer ??= scheduler.set(this.#expire, this.connectTimeout);
  }

  /** @internal a connection joined a namespace, or closed. */
  _joined(client: Client): void {
    if (this.#joining.delete(client) && this.#joining.size === 0) {
      this.#joinScheduler?.clear(this.#joinTimer);
      this.#joinTimer = this.#joinScheduler = undefined;
    }
  }

  #expireJoins(): void {
    this.#joinTimer = undefined;
    const scheduler = this.#joinScheduler!;
    const now = scheduler.now();
    for (const [client, deadline] of this.#joining) {
      if (deadline > now) {
        this.#joinTimer = scheduler.set(this.#expire, deadline - now);
        return;
      }
      this.#joining.delete(client);
      client._joinTimedOut();
    }
    if (this.#joinTimer === undefined) this.#joinScheduler = undefined;
  }

  // The main namespace's API, on `io`.

  /** Adds a listener to the main namespace (`connection`, server-side events...). */
  on<
    Ev extends ReservedOrUserEventNames<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    ev: Ev,
    listener: ReservedOrUserListener<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents,
      Ev
    >,
  ): this {
    this.sockets.on(ev as never, listener as never);
    return this;
  }

  /** Adds a one-time listener to the main namespace. */
  once<
    Ev extends ReservedOrUserEventNames<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    ev: Ev,
    listener: ReservedOrUserListener<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents,
      Ev
    >,
  ): this {
    this.sockets.once(ev as never, listener as never);
    return this;
  }

  /** Removes a listener from the main namespace. */
  off(ev?: string, listener?: (...args: never[]) => void): this {
    this.sockets.off(ev, listener as never);
    return this;
  }

  /** The listeners of an event of the main namespace. */
  listeners(ev: string): ((...args: never[]) => void)[] {
    return this.sockets.listeners(ev);
  }

  /** Adds a connection middleware to the main namespace. */
  use(fn: Middleware<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): this {
    this.sockets.use(fn);
    return this;
  }

  /** Targets a room or several. */
  to(room: Room | Room[]): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this.sockets.to(room);
  }

  /** Alias of {@linkcode Server.to}. */
  in(room: Room | Room[]): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this.sockets.in(room);
  }

  /** Targets every socket but those in these rooms. */
  except(room: Room | Room[]): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this.sockets.except(room);
  }

  /** Emits to every socket of the main namespace. */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.sockets.emit(ev, ...args);
  }

  /** Sends a `message` event to every socket. */
  send(...args: EventParams<EmitEvents, "message">): this {
    this.sockets.send(...args);
    return this;
  }

  /** Alias of {@linkcode Server.send}. */
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
    return this.sockets.serverSideEmit(ev, ...args);
  }

  /**
   * Emits to the other servers of a cluster and resolves with their acks; with nodes that did
   * not answer in time, with the others' and `missing` naming them (see `PartialAnswers`).
   */
  serverSideEmitWithAck<Ev extends EventNamesWithAck<ServerSideEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<ServerSideEvents, Ev>>
  ): Promise<PartialAnswers<FirstNonErrorArg<Last<EventParams<ServerSideEvents, Ev>>>>> {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  /** The ids of every socket of the main namespace. */
  allSockets(): Promise<Set<string>> {
    return this.sockets.allSockets();
  }

  /** Kept for API compatibility. */
  compress(compress: boolean): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this.sockets.compress(compress);
  }

  /** Skips sockets that cannot take the packet now. */
  get volatile(): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this.sockets.volatile;
  }

  /** Only this node's sockets. */
  get local(): BroadcastOperator<Multi<EmitEvents>, SocketData> {
    return this.sockets.local;
  }

  /** Collects acks for at most `ms`: the ack gets `(err, responses)`. */
  timeout(
    ms: number,
  ): BroadcastOperator<DecorateAcknowledgements<Multi<EmitEvents>>, SocketData> {
    return this.sockets.timeout(ms);
  }

  /**
   * Every socket of the main namespace (a `RemoteSocket` for those of other nodes); with nodes
   * that did not answer in time, the others' and `missing` naming them (see `PartialAnswers`).
   */
  fetchSockets(): Promise<PartialAnswers<RemoteSocket<EmitEvents, SocketData>>> {
    return this.sockets.fetchSockets();
  }

  /** Makes every socket join rooms. */
  socketsJoin(room: Room | Room[]): void {
    this.sockets.socketsJoin(room);
  }

  /** Makes every socket leave rooms. */
  socketsLeave(room: Room | Room[]): void {
    this.sockets.socketsLeave(room);
  }

  /** Disconnects every socket; with `close`, their whole connections. */
  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }
}

/**
 * A client file, under the server's `cors` option as the official server serves it (npm `cors`
 * first): a preflight gets its answer, and an origin function that fails leaves the file served
 * without CORS headers.
 */
async function serveBundle(req: Request, name: string, cors?: CorsOptions): Promise<Response> {
  let headers: Headers | undefined;
  if (cors) {
    const result = await applyCors(cors, req).catch(() => undefined);
    if (result?.preflight) return result.preflight;
    headers = result?.headers;
  }
  return serveClientFile(req, name, headers);
}
