/**
 * Picks the runtime that serves a request, from the shape of the fetch handler's second
 * argument: Bun passes its server, the Node bridge a {@linkcode NodeServeInfo}, Deno connection
 * info.
 *
 * @module
 */
import { bunRuntime, isBunServer } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import { isNodeInfo, nodeRuntime } from "./node.ts";
import type { Runtime } from "./types.ts";

export type { Publisher, RawSocket, RawSocketEvents, Runtime, Upgraded } from "./types.ts";
export { bunWebSocket } from "./bun.ts";

/** The runtime serving this request. */
export function runtimeFor(info: unknown): Runtime {
  return isBunServer(info) ? bunRuntime : isNodeInfo(info) ? nodeRuntime : denoRuntime;
}
