/**
 * socketio-edge on Node: the whole API of `@socketio-edge/core`, with a {@linkcode Server} that
 * attaches to a `node:http` server or a port, as npm `socket.io` does. WebSockets go through npm
 * `ws` (a dependency of this entry only).
 *
 * @example Porting a server from npm `socket.io`: change the import
 * ```ts ignore
 * import { createServer } from "node:http";
 * import { Server } from "@socketio-edge/core/node";
 *
 * const httpServer = createServer();
 * const io = new Server(httpServer);
 * io.on("connection", (socket) => {
 *   socket.emit("hello", "world");
 * });
 * httpServer.listen(3000);
 * ```
 *
 * @module
 */
export * from "../mod.ts";
export { type NodeHttpServer, type NodeServerOptions, Server } from "./server.ts";
/** The server of every runtime, which the Node {@linkcode Server} extends. */
export { Server as BaseServer } from "../server/server.ts";
