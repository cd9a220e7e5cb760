/**
 * What `autoUnref` runs on outside browsers: timers and connections that do not keep a Deno,
 * Bun or Node process alive, as the official client's (whose Node build runs on `node:http` and
 * the `ws` package, and unrefs their sockets). Standard `fetch` and `WebSocket` have no such
 * switch on any runtime, so with `autoUnref` the transports go over the runtime's `node:http`
 * and `node:net` instead, found with `process.getBuiltinModule` (Deno, Bun, Node 20.16+). A
 * class given as the `WebSocket` option is used all the same, its connection unref'd where it
 * shows it, as npm `ws` does (`client/open_websocket/`).
 *
 * The browser bundles are built with `browser.ts` in this module's place (`scripts/bundle.ts`):
 * a browser has nothing to unref.
 *
 * @module
 */
import type * as nodeCrypto from "node:crypto";
import type * as http from "node:http";
import type * as net from "node:net";
import type * as tls from "node:tls";
import { unrefFetch } from "./http.ts";
import { unrefWebSocket } from "./websocket.ts";

/** Timers and connections that do not keep the process alive. */
export interface Unref {
  /** Unrefs a timer: `Deno.unrefTimer` on Deno, `timer.unref()` on Node and Bun. */
  timer(timer: unknown): void;
  /** `fetch` on unref'd connections (what polling needs of it). */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** `WebSocket` on an unref'd connection (what the WebSocket transport needs of it). */
  WebSocket: typeof WebSocket;
}

/**
 * Whether this build can unref: `false` in the browser bundles, where esbuild then drops the
 * code it guards.
 */
export const unrefs = true;

type Get = <T>(id: string) => T;

let runtime: Unref | null | undefined;

/**
 * The runtime's unref'd timers and connections; undefined where there is no
 * `process.getBuiltinModule` (browsers, workers). Looked up on first use, so that a client
 * without `autoUnref` never loads `node:http`.
 *
 * @returns them, or undefined
 */
export function unrefRuntime(): Unref | undefined {
  if (runtime === undefined) {
    const process = (globalThis as { process?: { getBuiltinModule?: Get } }).process;
    const get = process?.getBuiltinModule?.bind(process) as Get | undefined;
    const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
    runtime = get
      ? {
        timer: (timer) =>
          typeof timer === "number"
            ? deno?.unrefTimer?.(timer)
            : (timer as { unref?(): void } | undefined)?.unref?.(),
        fetch: unrefFetch(get<typeof http>("node:http"), get<typeof http>("node:https")),
        WebSocket: unrefWebSocket(
          get<typeof net>("node:net"),
          get<typeof tls>("node:tls"),
          get<typeof nodeCrypto>("node:crypto"),
        ),
      }
      : null;
  }
  return runtime ?? undefined;
}
