/**
 * The Worker entry: sends Socket.IO's requests to the Durable Object that hosts the server.
 *
 * @module
 */
import { ownsPath } from "../server/engine/server.ts";
import type { DurableObjectNamespaceLike } from "./types.ts";

/** Options of {@linkcode socketIOWorker}. */
export interface SocketIOWorkerOptions<Env> {
  /** The name of the Durable Object binding in your wrangler config (`env[binding]`). */
  binding: string;
  /** The server's path (default `/socket.io/`); give the server the same `path` option. */
  path?: string;
  /**
   * Which object serves a request (default `"socket.io"`: one object for the whole app). Every
   * request of one client must get the same name: derive it from what the client sends each
   * time, such as its URL's query (the client's `query` option) or the path.
   */
  name?: (req: Request, env: Env) => string | Promise<string>;
  /** Answers the requests outside the path (default 404). */
  fetch?: (req: Request, env: Env, ctx: unknown) => Response | Promise<Response>;
}

/** A Worker's default export. */
export interface WorkerHandler<Env> {
  /** The Worker's fetch handler. */
  fetch(req: Request, env: Env, ctx: unknown): Promise<Response>;
}

/**
 * The Worker's `export default`: requests under the path go to the Durable Object
 * ({@linkcode SocketIOWorkerOptions.name} chooses which), others to your `fetch`.
 *
 * @example One object per room name, from the client's query
 * ```ts ignore
 * import { socketIOWorker } from "@socketio-edge/core/workers";
 *
 * export default socketIOWorker({
 *   binding: "CHAT",
 *   // the client: io(url, { query: { room: "blue" } })
 *   name: (req) => new URL(req.url).searchParams.get("room") ?? "lobby",
 *   fetch: () => new Response("the app"),
 * });
 * ```
 *
 * @param opts the binding, path, object name and fallback
 * @returns the handler to export
 */
export function socketIOWorker<Env = Record<string, unknown>>(
  opts: SocketIOWorkerOptions<Env>,
): WorkerHandler<Env> {
  if (typeof opts?.binding !== "string") {
    throw new TypeError("socketIOWorker(opts): opts.binding must be the binding's name");
  }
  const path = (opts.path ?? "/socket.io/").replace(/\/?$/, "/");
  return {
    async fetch(req: Request, env: Env, ctx: unknown): Promise<Response> {
      const url = URL.parse(req.url);
      if (url !== null && ownsPath(path, url.pathname)) {
        const ns = (env as Record<string, unknown>)[opts.binding] as
          | DurableObjectNamespaceLike
          | undefined;
        if (typeof ns?.idFromName !== "function") {
          throw new Error(
            `socketIOWorker: env.${opts.binding} is not a Durable Object binding; declare it ` +
              "under durable_objects.bindings in your wrangler config",
          );
        }
        const name = opts.name ? await opts.name(req, env) : "socket.io";
        return ns.get(ns.idFromName(name)).fetch(req);
      }
      if (opts.fetch) return opts.fetch(req, env, ctx);
      return new Response("Not Found", { status: 404 });
    },
  };
}
