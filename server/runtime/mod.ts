/**
 * Picks the runtime that serves a request, from the shape of the fetch handler's second
 * argument: Bun passes its server, the Node bridge a {@linkcode NodeServeInfo}, the Workers
 * entry a {@linkcode ServeInfo} naming its runtime, Deno connection info.
 *
 * @module
 */
import { bunRuntime, isBunServer } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import { isNodeInfo, nodeRuntime } from "./node.ts";
import type { Runtime } from "./types.ts";

export type { Publisher, RawSocket, RawSocketEvents, Runtime, Upgraded } from "./types.ts";
export { bunWebSocket } from "./bun.ts";

/** A fetch handler's second argument that names the runtime serving the request. */
export class ServeInfo {
  /** @param runtime the runtime */
  constructor(readonly runtime: Runtime) {}
}

/** The runtime serving this request. */
export function runtimeFor(info: unknown): Runtime {
  if (info instanceof ServeInfo) return info.runtime;
  return isBunServer(info) ? bunRuntime : isNodeInfo(info) ? nodeRuntime : denoRuntime;
}
