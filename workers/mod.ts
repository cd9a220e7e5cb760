/**
 * socketio-edge on Cloudflare Workers: the whole API of `@socketio-edge/core`, with a Durable
 * Object class that hosts the {@linkcode Server} and runs your code, and the Worker entry that
 * sends Socket.IO's requests to it. Long-polling is held in the object; WebSockets go through
 * the Hibernation API, so an idle object leaves memory while its clients stay connected, and
 * comes back with every session, its sockets, their `data` and rooms. The server's timers are
 * one Durable Object alarm.
 *
 * @example A Worker (`src/index.ts`)
 * ```ts ignore
 * import { SocketIODurableObject, socketIOWorker } from "@socketio-edge/core/workers";
 * import type { Server } from "@socketio-edge/core/workers";
 *
 * export class SocketIO extends SocketIODurableObject {
 *   override setup(io: Server) {
 *     io.on("connection", (socket) => {
 *       socket.on("chat", (text) => io.emit("chat", text));
 *     });
 *   }
 * }
 *
 * export default socketIOWorker({ binding: "SOCKET_IO" });
 * ```
 *
 * and its `wrangler.jsonc`:
 *
 * ```jsonc
 * {
 *   "main": "src/index.ts",
 *   "compatibility_date": "2026-04-26",
 *   "compatibility_flags": ["nodejs_compat"],
 *   "durable_objects": { "bindings": [{ "name": "SOCKET_IO", "class_name": "SocketIO" }] },
 *   "migrations": [{ "tag": "v1", "new_sqlite_classes": ["SocketIO"] }]
 * }
 * ```
 *
 * @module
 */
export * from "../mod.ts";
export {
  defineSocketIO,
  type SocketIODefinition,
  SocketIODurableObject,
  type WorkersServerOptions,
} from "./durable_object.ts";
export { socketIOWorker, type SocketIOWorkerOptions, type WorkerHandler } from "./worker.ts";
export type {
  DurableObjectNamespaceLike,
  DurableObjectStateLike,
  DurableObjectStorageLike,
  HibernationHost,
  WorkerdWebSocket,
} from "./types.ts";
