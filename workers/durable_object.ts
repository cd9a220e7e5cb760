/**
 * The Durable Object that hosts a Socket.IO {@linkcode Server} on Cloudflare Workers and runs
 * your code in it.
 *
 * @module
 */
import { sendAsEncoded, type WorkerdWebSocket, WorkersRuntime } from "../server/runtime/workers.ts";
import { AlarmScheduler } from "../server/runtime/workers_alarm.ts";
import { Server, type ServerOptions } from "../server/server.ts";
import type { DefaultEventsMap, EventsMap } from "../server/typed_events.ts";
import { Hibernation } from "./hibernation.ts";
import type { DurableObjectStateLike } from "./types.ts";

/** Options of the server in a Durable Object: those of `new Server(opts)`, and `hibernate`. */
export interface WorkersServerOptions extends Partial<ServerOptions> {
  /**
   * Whether WebSockets go through the Hibernation API (default true): an idle object may then
   * leave memory while its clients stay connected, and comes back with every WebSocket session
   * and its sockets when something happens (a message, the heartbeat's alarm). With `false`,
   * WebSockets are accepted plainly and keep the object in memory while they are open.
   */
  hibernate?: boolean;
}

/**
 * The Durable Object class of a Socket.IO server: extend it, put your `io.on("connection")`
 * code in {@linkcode SocketIODurableObject.setup}, export the class from your Worker and name it
 * in your wrangler config. Long-polling requests are held in the object; WebSockets are
 * hibernatable unless {@linkcode WorkersServerOptions.hibernate} is false.
 *
 * After hibernation, `setup` runs again in the new instance, then every socket comes back (same
 * id, `data`, rooms, handshake) and your `connection` listeners run for it again with
 * `socket.recovered === true` (as after connection state recovery), so that its
 * `socket.on(...)` handlers are there again: skip what must happen only once with
 * `if (!socket.recovered)`. Acks the server was waiting for do not survive the object leaving
 * memory; a late answer to one is dropped.
 *
 * @example A chat room
 * ```ts ignore
 * import { SocketIODurableObject, socketIOWorker } from "@socketio-edge/core/workers";
 * import type { Server } from "@socketio-edge/core";
 *
 * export class Chat extends SocketIODurableObject {
 *   override setup(io: Server) {
 *     io.on("connection", (socket) => {
 *       if (!socket.recovered) socket.join("lobby");
 *       socket.on("chat", (text, ack) => {
 *         socket.to("lobby").emit("chat", text);
 *         ack?.("ok");
 *       });
 *     });
 *   }
 * }
 *
 * export default socketIOWorker({ binding: "CHAT" });
 * ```
 */
export class SocketIODurableObject<
  Env = unknown,
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> {
  /** The Durable Object's state, as workerd gave it. */
  readonly ctx: DurableObjectStateLike;
  /** The Worker's bindings. */
  readonly env: Env;
  /** The server, from the start of {@linkcode SocketIODurableObject.setup} on. */
  io!: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  #runtime!: WorkersRuntime;
  #handler!: (req: Request, info?: unknown) => Promise<Response>;
  #hibernation: Hibernation | undefined;
  #scheduler: AlarmScheduler | undefined;
  #started = false;
  readonly #ready: Promise<void>;

  /**
   * Called by workerd.
   *
   * @param ctx the object's state
   * @param env the Worker's bindings
   */
  constructor(ctx: DurableObjectStateLike, env: Env) {
    this.ctx = ctx;
    this.env = env;
    // Deferred by a turn, so that a subclass's fields are set when `options` and `setup` run;
    // every event waits for it (and for the sessions to be restored).
    this.#ready = ctx.blockConcurrencyWhile(async () => {
      await null;
      await this.#start();
    });
  }

  /**
   * The server's options; override to set them (`env` holds your bindings).
   *
   * @param _env the Worker's bindings
   */
  options(_env: Env): WorkersServerOptions {
    return {};
  }

  /**
   * Your code: `io.on("connection", ...)`, middleware, namespaces. Runs when the object starts,
   * in each new instance (after hibernation too), before any request or message.
   *
   * @param _io the server
   * @param _env the Worker's bindings
   */
  setup(
    _io: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    _env: Env,
  ): void | Promise<void> {}

  async #start(): Promise<void> {
    const { hibernate = true, ...opts } = this.options(this.env) ?? {};
    this.#runtime = new WorkersRuntime(hibernate ? this.ctx : undefined);
    if (hibernate && opts.scheduler === undefined) {
      // The server's timers on the object's alarm: a pending setTimeout keeps it in memory.
      this.#scheduler = new AlarmScheduler(this.ctx.storage);
      await this.#scheduler.load();
      opts.scheduler = this.#scheduler;
    }
    this.io = new Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>({
      ...opts,
      runtime: this.#runtime,
    });
    this.#handler = this.io.handler();
    await this.setup(this.io, this.env);
    if (hibernate) {
      this.#hibernation = new Hibernation(this.ctx, this.io as unknown as Server, this.#runtime);
      await this.#hibernation.restore();
    }
    this.#started = true;
  }

  /**
   * Answers the requests the Worker sends here: those under the server's path (polls, POSTs,
   * upgrades, the client bundle), and 404 for others. Override it to answer more, and call
   * `super.fetch(req)` for the rest.
   *
   * @param req the request
   */
  async fetch(req: Request): Promise<Response> {
    if (!this.#started) await this.#ready;
    const res = await this.#handler(req);
    this.#hibernation?.touched();
    return sendAsEncoded(res);
  }

  /**
   * A frame on a hibernatable WebSocket (called by workerd).
   *
   * @param ws the socket
   * @param message the frame
   */
  webSocketMessage(ws: WorkerdWebSocket, message: string | ArrayBuffer): void | Promise<void> {
    // Not async: the hot path returns no promise for workerd to wait on.
    if (!this.#started) return this.#ready.then(() => this.webSocketMessage(ws, message));
    this.#runtime.message(ws, message);
    this.#hibernation?.touched(ws);
  }

  /**
   * A hibernatable WebSocket closed (called by workerd); the peer's close is answered.
   *
   * @param ws the socket
   * @param code the close code
   * @param reason the close reason
   */
  async webSocketClose(ws: WorkerdWebSocket, code: number, reason: string): Promise<void> {
    if (!this.#started) await this.#ready;
    this.#runtime.close(ws, code, reason);
    this.#hibernation?.touched();
  }

  /**
   * The object's alarm (called by workerd): the server's timers that are due run. Override it
   * only to add to it, and call `super.alarm()`: the server's timers need it.
   */
  async alarm(): Promise<void> {
    if (!this.#started) await this.#ready;
    this.#scheduler?.fire();
    this.#hibernation?.touched();
  }

  /**
   * A hibernatable WebSocket failed (called by workerd).
   *
   * @param ws the socket
   * @param error what failed
   */
  async webSocketError(ws: WorkerdWebSocket, error: unknown): Promise<void> {
    if (!this.#started) await this.#ready;
    this.#runtime.error(ws, error);
    this.#hibernation?.touched();
  }
}

/** What {@linkcode defineSocketIO} takes. */
export interface SocketIODefinition<
  Env,
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  /** The server's options. */
  options?: WorkersServerOptions | ((env: Env) => WorkersServerOptions);
  /** Your code, as {@linkcode SocketIODurableObject.setup}. */
  setup(
    io: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    env: Env,
  ): void | Promise<void>;
}

/**
 * A Durable Object class running `setup`, for those who prefer a function to a subclass.
 *
 * @example
 * ```ts ignore
 * import { defineSocketIO, socketIOWorker } from "@socketio-edge/core/workers";
 *
 * export const Chat = defineSocketIO({
 *   options: { cors: { origin: "*" } },
 *   setup(io) {
 *     io.on("connection", (socket) => socket.on("ping", (ack) => ack("pong")));
 *   },
 * });
 * export default socketIOWorker({ binding: "CHAT" });
 * ```
 *
 * @param definition the options and the setup function
 * @returns the class to export from your Worker
 */
export function defineSocketIO<
  Env = unknown,
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
>(
  definition: SocketIODefinition<Env, ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
): new (
  ctx: DurableObjectStateLike,
  env: Env,
) => SocketIODurableObject<Env, ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  const { options, setup } = definition;
  return class extends SocketIODurableObject<
    Env,
    ListenEvents,
    EmitEvents,
    ServerSideEvents,
    SocketData
  > {
    override options(env: Env): WorkersServerOptions {
      return typeof options === "function" ? options(env) : options ?? {};
    }

    override setup(
      io: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      env: Env,
    ): void | Promise<void> {
      return setup(io, env);
    }
  };
}
