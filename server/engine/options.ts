/**
 * Engine.IO server options, with the official names and defaults. Browser compatible.
 *
 * @module
 */
import type { CorsOptions } from "./cors.ts";
import type { RequestSnapshot } from "./request.ts";

/** A transport the server can accept. */
export type TransportName = "polling" | "websocket";

/** Answer of {@linkcode EngineOptions.allowRequest}: an error message (or null) and success. */
export type AllowRequestCallback = (err: string | null | undefined, success: boolean) => void;

/** Options of the handshake cookie (off unless set). */
export interface CookieOptions {
  /** Cookie name (default `io`). */
  name?: string;
  /** Cookie path (default `/`). */
  path?: string | false;
  /** Defaults to true. */
  httpOnly?: boolean;
  /** Defaults to `lax`. */
  sameSite?: "strict" | "lax" | "none" | boolean;
  /** Adds `Secure`. */
  secure?: boolean;
  /** Adds `Domain=`. */
  domain?: string;
  /** Max age in seconds. */
  maxAge?: number;
}

/** Options of an Engine.IO server; every field has the official default. */
export interface EngineOptions {
  /**
   * Path the server answers on, and everything under it (default `/engine.io/` for the engine
   * alone, `/socket.io/` for `io`).
   */
  path: string;
  /** Whether `path` ends with `/` (default true), as the official option normalizes it. */
  addTrailingSlash: boolean;
  /** Milliseconds between two pings (default 25000). */
  pingInterval: number;
  /** Milliseconds to wait for a pong before closing (default 20000). */
  pingTimeout: number;
  /** Milliseconds an upgrade may take before it is cancelled (default 10000). */
  upgradeTimeout: number;
  /** Largest message or POST body in bytes (default 1e6). */
  maxHttpBufferSize: number;
  /** Accepted transports, in order (default `["polling", "websocket"]`). */
  transports: TransportName[];
  /** Whether polling sessions may upgrade to WebSocket (default true). */
  allowUpgrades: boolean;
  /** Decides whether a handshake goes ahead; call `fn(message, false)` to deny with 403. */
  allowRequest?: (req: RequestSnapshot, fn: AllowRequestCallback) => void;
  /** CORS, off unless set. */
  cors?: CorsOptions;
  /** The `io` cookie sent at handshake: off by default, `true` for the default cookie. */
  cookie: CookieOptions | boolean;
  /** Accept Engine.IO v3 clients (socket.io-client v2), default false. */
  allowEIO3: boolean;
  /** Generates session ids (default 20 URL-safe random characters). */
  generateId?: (req: RequestSnapshot) => string | Promise<string>;
}

/** The defaults of the official server. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  path: "/engine.io/",
  addTrailingSlash: true,
  pingInterval: 25000,
  pingTimeout: 20000,
  upgradeTimeout: 10000,
  maxHttpBufferSize: 1e6,
  transports: ["polling", "websocket"],
  allowUpgrades: true,
  cookie: false,
  allowEIO3: false,
};

/** Fills in defaults and normalizes the path to end with `/` (unless `addTrailingSlash` is false). */
export function resolveEngineOptions(opts: Partial<EngineOptions> = {}): EngineOptions {
  const o: EngineOptions = { ...DEFAULT_ENGINE_OPTIONS };
  for (const [k, v] of Object.entries(opts)) {
    if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  o.path = o.path.replace(/\/$/, "") + (o.addTrailingSlash ? "/" : "");
  return o;
}
