/**
 * The rules of the Socket.IO server's options: the Engine.IO ones and its own, checked by the
 * engine's validator at construction. Browser compatible.
 *
 * @module
 */
import { ENGINE_OPTION_RULES } from "./engine/options.ts";
import {
  bool,
  delay,
  flagOrObject,
  fn,
  num,
  type Rule,
  type Rules,
  typeError,
  validateOptions,
} from "./engine/validate.ts";

/** A parser module: an object with `Encoder` and `Decoder` classes. */
const PARSER: Rule = (v, name) => {
  const p = v as { Encoder?: unknown; Decoder?: unknown } | null;
  if (
    typeof p !== "object" || p === null || typeof p.Encoder !== "function" ||
    typeof p.Decoder !== "function"
  ) throw typeError(name, "a parser module (an object with Encoder and Decoder classes)", v);
  return v;
};

/** The rules of every Socket.IO server option. */
export const SERVER_OPTION_RULES: Rules = {
  ...ENGINE_OPTION_RULES,
  serveClient: bool,
  adapter: fn,
  parser: PARSER,
  // 0 is the default, as the official `opts.connectTimeout || 45000`.
  connectTimeout: (v, name) => (v === 0 ? undefined : delay(v, name)),
  connectionStateRecovery: flagOrObject({
    maxDisconnectionDuration: num({ what: "a number of milliseconds" }),
    skipMiddlewares: bool,
  }),
  cleanupEmptyChildNamespaces: bool,
};

/** Whether `v` is what the official Node forms take: a port, or a server with `listen()`. */
function isNodeServer(v: unknown): boolean {
  return typeof v === "number" || typeof v === "string" ||
    typeof (v as { listen?: unknown } | null)?.listen === "function";
}

/**
 * The error for a form of the official server that takes a `node:http` server or a port (`new
 * Server(httpServer)`, `io.attach()`, `io.listen()`): here the serve line differs, and the Node
 * entry has them.
 */
export function nodeFormError(form: string): TypeError {
  return new TypeError(
    `${form} is a Node form: import { Server } from "@socketio-edge/core/node" for it; here, ` +
      "create the server with options only and serve its handler, e.g. " +
      "Deno.serve({ port: 3000 }, io.handler()) or Bun.serve({ port: 3000, ...io.handler() })",
  );
}

/**
 * Checks the Socket.IO server's options; returns the known ones, normalized.
 *
 * @throws TypeError or RangeError naming the first wrong option
 */
export function validateServerOptions(opts: unknown): Record<string, unknown> {
  if (isNodeServer(opts)) throw nodeFormError("new Server(port) or new Server(httpServer)");
  if (typeof opts !== "object" || opts === null) throw typeError("options", "an object", opts);
  return validateOptions(opts as Record<string, unknown>, SERVER_OPTION_RULES);
}
