/**
 * The Socket.IO server on Node, with the forms of npm `socket.io` that take a `node:http` server
 * or a port: `new Server(httpServer, opts)`, `new Server(port, opts)`, `io.attach()`,
 * `io.listen()`, `io.httpServer`, and `io.close()` closing the HTTP server too. Node only.
 *
 * @module
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { Http2SecureServer } from "node:http2";
import type { Server as HttpsServer } from "node:https";
// @ts-types="./ws.d.ts"
import { WebSocketServer } from "ws";
import { Server as Engine } from "../server/engine/server.ts";
import { nodeRuntime, type NodeWebSocketServer } from "../server/runtime/node.ts";
import { Server as CoreServer, type ServerOptions } from "../server/server.ts";
import type { DefaultEventsMap, EventsMap } from "../server/typed_events.ts";
import { attachHandler } from "./bridge.ts";

/**
 * A server the Socket.IO server attaches to: `node:http`, `node:https`, or
 * `http2.createSecureServer({ allowHTTP1: true })` (HTTP/2 requests through Node's compatibility
 * API, and WebSockets over HTTP/1.1, which is what `allowHTTP1` is for).
 */
export type NodeHttpServer = HttpServer | HttpsServer | Http2SecureServer;

/** Options of the server on Node: those of every runtime, plus the official attach options. */
export interface NodeServerOptions extends ServerOptions {
  /**
   * Whether an `upgrade` request outside the server's path that no other listener answered
   * within `destroyUpgradeTimeout` is ended (default true).
   */
  destroyUpgrade: boolean;
  /** Milliseconds before such an upgrade request is ended (default 1000). */
  destroyUpgradeTimeout: number;
}

function isOptions(
  srv: NodeHttpServer | number | string | Partial<NodeServerOptions> | undefined,
): srv is Partial<NodeServerOptions> {
  return typeof srv === "object" && srv !== null &&
    typeof (srv as { listen?: unknown }).listen !== "function";
}

/**
 * A Socket.IO server attached to a `node:http` server, with the API of npm `socket.io`: only the
 * import changes.
 *
 * @example On an HTTP server of its own
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { Server } from "@socketio-edge/core/node";
 *
 * const httpServer = createServer();
 * const io = new Server(httpServer, { cors: { origin: "*" } });
 * io.on("connection", (socket) => {
 *   socket.on("chat", (msg) => io.emit("chat", msg));
 * });
 * httpServer.listen(3000);
 * ```
 *
 * @example On a port
 * ```ts ignore
 * import { Server } from "@socketio-edge/core/node";
 *
 * const io = new Server(3000);
 * // later: closes the sockets, then the HTTP server it created
 * await io.close();
 * ```
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> extends CoreServer<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  /** The HTTP server of the last {@linkcode Server.attach}, undefined before. */
  httpServer: NodeHttpServer | undefined;
  readonly #opts: Partial<NodeServerOptions>;
  #detach: (() => void) | undefined;

  /**
   * Creates a server, not attached yet: see {@linkcode Server.attach}.
   *
   * @param opts Engine.IO and Socket.IO options, all optional
   */
  constructor(opts?: Partial<NodeServerOptions>);
  /**
   * Creates a server attached to `srv`: an HTTP server, or a port to listen on with a new one.
   *
   * @param srv an HTTP server, or a port
   * @param opts Engine.IO and Socket.IO options, all optional
   */
  constructor(srv?: NodeHttpServer | number | string, opts?: Partial<NodeServerOptions>);
  constructor(
    srv?: NodeHttpServer | number | string | Partial<NodeServerOptions>,
    opts: Partial<NodeServerOptions> = {},
  ) {
    if (isOptions(srv)) {
      opts = srv;
      srv = undefined;
    }
    const { destroyUpgrade: _d, destroyUpgradeTimeout: _t, ...options } = opts;
    // The runtime is Node's, chosen here rather than found: the core finds only Deno and Bun.
    super({ ...options, runtime: options.runtime ?? nodeRuntime });
    this.#opts = opts;
    if (srv !== undefined && srv !== null) this.attach(srv);
  }

  /**
   * Attaches to an HTTP server, or to a new one listening on a port. Requests under the server's
   * path are its own; the HTTP server's other `request` listeners get the rest.
   *
   * @param srv an HTTP server, or a port
   * @param opts Engine.IO options; those given to the constructor take precedence, as with the
   *   official server
   */
  override attach(
    srv: NodeHttpServer | number | string,
    opts: Partial<NodeServerOptions> = {},
  ): this {
    if (typeof srv === "function") {
      throw new TypeError(
        "You are trying to attach socket.io to an express request handler function. " +
          "Please pass a http.Server instance.",
      );
    }
    if (typeof srv === "number" || typeof srv === "string") {
      const port = Number(srv);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new TypeError(`not a port: ${String(srv)}`);
      }
      srv = createServer((_req, res) => void res.writeHead(404).end());
      srv.listen(port);
    }
    // As the official server, the engine is made at attach time, from the options of attach()
    // under those of the constructor: a closed server attached again serves anew.
    const merged: Partial<NodeServerOptions> = { ...opts, ...this.#opts };
    const {
      serveClient: _s,
      adapter: _a,
      parser: _p,
      connectTimeout: _c,
      connectionStateRecovery: _r,
      cleanupEmptyChildNamespaces: _e,
      destroyUpgrade: _d,
      destroyUpgradeTimeout: _t,
      ...engineOptions
    } = merged;
    this.bind(
      new Engine({
        path: "/socket.io/",
        ...engineOptions,
        runtime: engineOptions.runtime ?? nodeRuntime,
      }),
    );
    if (this.httpServer === srv) this.#detach?.();
    const webSockets = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // The engine names the sub-protocol among the 101's headers, as on every runtime.
      handleProtocols: () => false,
      maxPayload: this.engine.opts.maxHttpBufferSize,
    });
    // A refused handshake is left to the bridge, which sends the engine's error response.
    webSockets.on("wsClientError", () => {});
    this.#detach = attachHandler(srv as HttpServer, this.handler(), {
      path: this.engine.opts.path,
      webSockets: webSockets as NodeWebSocketServer,
      destroyUpgrade: merged.destroyUpgrade,
      destroyUpgradeTimeout: merged.destroyUpgradeTimeout,
    });
    // As the official server: the engine closes with the HTTP server.
    const engine = this.engine;
    srv.once("close", () => void engine.close());
    this.httpServer = srv;
    return this;
  }

  /**
   * Alias of {@linkcode Server.attach}.
   *
   * @param srv an HTTP server, or a port
   * @param opts Engine.IO options
   */
  override listen(
    srv: NodeHttpServer | number | string,
    opts: Partial<NodeServerOptions> = {},
  ): this {
    return this.attach(srv, opts);
  }

  /**
   * Closes every connection, then the HTTP server (the one it was given or the one it created),
   * as the official server does.
   *
   * @param fn called once closed, with the HTTP server's error (`ERR_SERVER_NOT_RUNNING` when it
   *   was not listening)
   */
  override async close(fn?: (err?: Error) => void): Promise<void> {
    await super.close();
    const http = this.httpServer;
    if (!http) {
      fn?.();
      return;
    }
    await new Promise<void>((resolve) => {
      http.close((err) => {
        fn?.(err);
        resolve();
      });
    });
  }
}
