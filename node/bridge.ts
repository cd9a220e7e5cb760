/**
 * Serves a fetch handler on a `node:http` (or `node:https`, or `node:http2` secure) server, for
 * the requests under one path, as the official server attaches to one: its `request` listeners
 * get every other request, and `upgrade` requests under the path become WebSockets through npm
 * `ws`. HTTP/2 requests come through Node's compatibility API, whose request and response have
 * the shape of HTTP/1's (pseudo-headers aside); an HTTP/2 server gets `upgrade` events only from
 * HTTP/1.1 clients, with `allowHTTP1`. Node only.
 *
 * @module
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  type NodeAnswerWriter,
  NodeServeInfo,
  type NodeWebSocketServer,
} from "../server/runtime/node.ts";
import { toRequest } from "./request.ts";
import { writeAnswer, writeRawResponse, writeResponse } from "./response.ts";

/** A fetch handler, as `io.handler()` returns it. */
export type Handler = (req: Request, info?: unknown) => Promise<Response>;

/** How {@linkcode attachHandler} serves a server. */
export interface BridgeOptions {
  /** The path the handler answers, with its trailing slash (`/socket.io/`). */
  path: string;
  /** The `ws` server (`noServer: true`) that takes upgraded connections over. */
  webSockets: NodeWebSocketServer;
  /**
   * Whether an `upgrade` outside `path` that nobody answered within `destroyUpgradeTimeout` is
   * ended (default true, as the official server).
   */
  destroyUpgrade?: boolean;
  /** Milliseconds before such an upgrade is ended (default 1000). */
  destroyUpgradeTimeout?: number;
}

/** Whether `url` (path and query) is `path` or under it; `path` ends with `/`. */
function isUnder(url: string, path: string): boolean {
  if (url.startsWith(path)) return true;
  // `/socket.io` and `/socket.io?...` too.
  const bare = path.length - 1;
  return url.startsWith(path.slice(0, bare)) && (url.length === bare || url[bare] === "?");
}

/** Writes a whole answer to the response the bridge put in the info, which is Node's. */
const writeNodeAnswer: NodeAnswerWriter = (res, status, headers, body) =>
  writeAnswer(res as ServerResponse, status, headers, body);

/** Answers one Node request with the handler. */
async function serve(handler: Handler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let response: Response;
  // The engine writes its whole answers (long-polling's) through `writeAnswer`, without a
  // `Response`.
  const info = new NodeServeInfo(req, undefined, res, writeNodeAnswer);
  try {
    response = await handler(toRequest(req, res), info);
  } catch (err) {
    console.error("socketio-edge: the handler failed", err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
    return;
  }
  if (!info.answered) await writeResponse(response, res);
}

/** Answers one `upgrade` event with the handler: `ws` takes the socket, or it gets the refusal. */
async function serveUpgrade(
  handler: Handler,
  webSockets: NodeWebSocketServer,
  req: IncomingMessage,
  socket: Socket,
  head: Uint8Array,
): Promise<void> {
  // Until `ws` takes it over, an error (the client left) must not crash the process.
  const onError = () => socket.destroy();
  socket.on("error", onError);
  const info = new NodeServeInfo(req, { socket, head, webSockets });
  let response: Response;
  try {
    response = await handler(toRequest(req), info);
  } catch (err) {
    // As for other requests (and on Deno): a handler that throws (a header value with CR/LF
    // from the app) gets 500, and the error is logged.
    console.error("socketio-edge: the handler failed", err);
    response = new Response(null, { status: 500 });
  }
  if (info.upgraded) {
    socket.off("error", onError);
    return;
  }
  await writeRawResponse(response, socket);
}

/**
 * Makes `server` answer the requests under `opts.path` with `handler`. The `request` listeners
 * it had get every other request; when it had none and nobody added one since, those get 404.
 *
 * @returns a function that detaches the handler and gives the server its listeners back
 */
export function attachHandler(
  server: HttpServer,
  handler: Handler,
  opts: BridgeOptions,
): () => void {
  const { path, webSockets } = opts;
  const previous = server.listeners("request") as ((...args: unknown[]) => void)[];
  server.removeAllListeners("request");
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (isUnder(req.url ?? "/", path)) {
      void serve(handler, req, res);
      return;
    }
    for (const listener of previous) listener.call(server, req, res);
    if (previous.length === 0 && server.listenerCount("request") === 1) {
      res.writeHead(404).end();
    }
  };
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Uint8Array) => {
    if (isUnder(req.url ?? "/", path)) {
      void serveUpgrade(handler, webSockets, req, socket, head);
      return;
    }
    // Another `upgrade` listener may answer it; if none did in time, the connection is ended.
    if (opts.destroyUpgrade === false) return;
    const timer = setTimeout(() => {
      if (socket.writable && socket.bytesWritten <= 0) {
        socket.on("error", () => {});
        socket.end();
      }
    }, opts.destroyUpgradeTimeout ?? 1000);
    socket.once("close", () => clearTimeout(timer));
  };
  server.on("request", onRequest);
  server.on("upgrade", onUpgrade);
  return () => {
    server.off("request", onRequest);
    server.off("upgrade", onUpgrade);
    for (const listener of previous) server.on("request", listener);
  };
}
