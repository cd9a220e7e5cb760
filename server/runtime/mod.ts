/**
 * The runtimes the core entry finds by itself, detected once per engine: Bun, then Deno. Node
 * and Workers have entries of their own, which pass their runtime as the engine's `runtime`
 * option; nothing here loads them.
 *
 * @module
 */
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import type { Runtime } from "./types.ts";

export type { Answer, FanOut, RawSocket, RawSocketEvents, Runtime, Upgraded } from "./types.ts";
export { bunWebSocket } from "./bun.ts";

interface Globals {
  Bun?: unknown;
  Deno?: { upgradeWebSocket?: unknown };
  navigator?: { userAgent?: unknown };
  process?: { versions?: { node?: unknown } };
}

/** What the environment calls itself: `navigator.userAgent` ("Node.js/22", "Cloudflare-Workers"). */
function environment(g: Globals): string {
  const agent = g.navigator?.userAgent;
  if (typeof agent === "string" && agent !== "") return agent;
  // Node 20 has no navigator.
  const node = g.process?.versions?.node;
  return typeof node === "string" ? `Node.js/${node}` : "an unknown runtime";
}

/**
 * The runtime this process runs on: Bun where `Bun` is defined, else Deno where
 * `Deno.upgradeWebSocket` is.
 *
 * @throws Error naming the environment, and the entry or option to use there
 */
export function detectRuntime(): Runtime {
  const g = globalThis as Globals;
  if (g.Bun !== undefined) return bunRuntime;
  if (typeof g.Deno?.upgradeWebSocket === "function") return denoRuntime;
  throw new Error(
    `socketio-edge: this entry serves Deno and Bun, and runs on ${environment(g)}. On Node, ` +
      'import { Server } from "@socketio-edge/core/node"; on Cloudflare Workers, from ' +
      '"@socketio-edge/core/workers"; elsewhere, pass the server a `runtime` option',
  );
}
