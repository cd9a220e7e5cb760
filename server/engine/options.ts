/**
 * Engine.IO server options, with the official names and defaults. Browser compatible.
 *
 * @module
 */
import { defaultScheduler, type Scheduler } from "../runtime/scheduler.ts";
import type { Runtime } from "../runtime/types.ts";
import type { SessionForwarder } from "./forwarding.ts";
import type { HandshakeRateOptions } from "./admission.ts";
import type { CorsOptions } from "./cors.ts";
import type { RequestSnapshot } from "./request.ts";
import {
  bool,
  date,
  delay,
  flagOrObject,
  fn,
  ignored,
  MAX_DELAY,
  methods,
  num,
  object,
  oneOf,
  rangeError,
  type Rule,
  type Rules,
  str,
  strings,
  typeError,
  unsupported,
  validateOptions,
} from "./validate.ts";

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
  /** Adds `Expires=`. */
  expires?: Date;
  /** Adds `Partitioned`. */
  partitioned?: boolean;
  /** Adds `Priority=`. */
  priority?: "low" | "medium" | "high";
  /** Encodes the value (the session id, URL-safe already; default `encodeURIComponent`). */
  encode?: (value: string) => string;
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
  /**
   * The most bytes that may wait to be sent to one client (default 4e6, 4 MB; `Infinity`: no
   * limit, as the official server, which has no such option). Over WebSocket that is what the
   * runtime still buffers for the socket (Deno's and npm ws's `bufferedAmount`, Bun's
   * `getBufferedAmount()`), over long-polling the packets no poll has taken yet. A send that
   * finds more than this waiting drops the connection: the session closes with reason
   * `"slow consumer"` (and a description naming the limit), which is also the Socket.IO
   * `disconnect` reason, so that a client that stopped reading (one that still answers pings
   * included) cannot make the server hold ever more memory. The check comes before each packet
   * is queued, so one message larger than the limit still goes out to a client that keeps up.
   * Volatile packets are dropped, not counted, whenever anything is waiting. workerd does not
   * tell what it buffers: on Cloudflare Workers there is no limit.
   *
   * @example A lower limit, for clients on slow links that get many small updates
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server({ maxBufferedBytes: 1e6 });
   * io.on("connection", (socket) => {
   *   socket.on("disconnect", (reason, description) => {
   *     if (reason === "slow consumer") console.log(socket.id, description);
   *   });
   * });
   * ```
   */
  maxBufferedBytes: number;
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
  /**
   * The clock and timers of every deadline of the server (heartbeat, upgrade, namespace join,
   * ack timeouts): `setTimeout` by default, looked up at each call so that fake timers work; a
   * Durable Object's alarm on Workers, a manual clock in a test.
   */
  scheduler: Scheduler;
  /** Accepted for ported code and ignored: compression is the runtime's business here. */
  perMessageDeflate?: boolean | Record<string, unknown>;
  /** Accepted for ported code and ignored: compression is the runtime's business here. */
  httpCompression?: boolean | Record<string, unknown>;
  /** Accepted for ported code and ignored: the runtime provides the WebSocket server. */
  wsEngine?: unknown;
  /** Accepted for ported code and ignored: the runtime's server owns unhandled upgrades. */
  destroyUpgrade?: boolean;
  /** Accepted for ported code and ignored: the runtime's server owns unhandled upgrades. */
  destroyUpgradeTimeout?: number;
  /**
   * Sessions open at once, at most (ours, off by default). Past it a handshake, over polling or
   * WebSocket, gets `503 Service Unavailable` with `Retry-After: 1` (a slot frees whenever a
   * session closes) and `connection_error` fires with `context`
   * `{ name: "SERVER_BUSY", limit: "maxClients", retryAfter: 1 }`; the requests of open sessions
   * are never refused. Handshakes under way count, so concurrent ones cannot overshoot it.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core/engine";
   *
   * const engine = new Server({ maxClients: 10_000 });
   * ```
   */
  maxClients?: number;
  /**
   * How fast handshakes may come, for the whole server (`perServer`) and per client address
   * (`perAddress`), each `{ count, windowMs }`: `count` at once, then `count` per `windowMs`
   * (a token bucket). Ours, off by default. A handshake past a rate gets `503` with
   * `Retry-After` (seconds until a token frees for it, after those refused before it: a
   * reconnect storm is spread over the time the rate needs to let it in, a minute at most) and
   * `connection_error` fires with `context`
   * `{ name: "SERVER_BUSY", limit: "handshakeRate.perServer" | "handshakeRate.perAddress",
   * retryAfter }`. Only handshakes count. Addresses are remembered in bounded memory
   * (`perAddress.maxAddresses`, default 10000, those heard from least recently forgotten first).
   *
   * @example 500 handshakes a second, and 10 per address in 10 s
   * ```ts
   * import { Server } from "@socketio-edge/core/engine";
   *
   * const engine = new Server({
   *   handshakeRate: {
   *     perServer: { count: 500, windowMs: 1000 },
   *     perAddress: { count: 10, windowMs: 10_000 },
   *   },
   * });
   * ```
   */
  handshakeRate?: HandshakeRateOptions;
  /**
   * How requests become WebSockets here. By default it is found once, when the server is
   * constructed: Bun, else Deno. The Node and Workers entries pass their own; elsewhere, pass
   * one (see {@linkcode Runtime}).
   */
  runtime?: Runtime;
  /**
   * Serves the requests of sessions that other nodes of a cluster hold (no sticky sessions
   * needed): a poll, a POST or an upgrade whose sid is not here is carried to its node. Made by
   * `createBroadcastChannelForwarder()` (workers of one process) or `createRedisForwarder()`
   * (processes and machines); unset, such a request gets `Session ID unknown`, as officially.
   */
  forwarder?: SessionForwarder;
}

/** The defaults of the official server. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  path: "/engine.io/",
  addTrailingSlash: true,
  pingInterval: 25000,
  pingTimeout: 20000,
  upgradeTimeout: 10000,
  maxHttpBufferSize: 1e6,
  maxBufferedBytes: 4e6,
  transports: ["polling", "websocket"],
  allowUpgrades: true,
  cookie: false,
  allowEIO3: false,
  scheduler: defaultScheduler,
};

// Token characters of RFC 7230, as npm `cookie` checks a cookie name.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const COOKIE_RULES: Rules = {
  name: (v, name) => {
    if (typeof v !== "string") throw typeError(name, "a string", v);
    if (!COOKIE_NAME.test(v)) throw rangeError(name, "a cookie name (token characters)", v);
    return v;
  },
  path: (v, name) => (v === false ? false : str(v, name)),
  httpOnly: bool,
  sameSite: oneOf([true, false, "strict", "lax", "none"], true),
  secure: bool,
  domain: str,
  maxAge: num({ min: -Number.MAX_SAFE_INTEGER, what: "a number of seconds" }),
  expires: date,
  partitioned: bool,
  priority: oneOf(["low", "medium", "high"], true),
  encode: fn,
};

const ORIGIN: Rule = (v, name) => {
  const one = (o: unknown) => typeof o === "string" || o instanceof RegExp;
  if (
    typeof v === "boolean" || typeof v === "function" || one(v) ||
    (Array.isArray(v) && v.every(one))
  ) return v;
  throw typeError(name, "a boolean, a string, a RegExp, an array of them, or a function", v);
};

const CORS_RULES: Rules = {
  origin: ORIGIN,
  methods: strings,
  allowedHeaders: strings,
  // npm `cors` reads `headers` when `allowedHeaders` is missing.
  headers: strings,
  exposedHeaders: strings,
  credentials: bool,
  maxAge: num({ min: -Number.MAX_SAFE_INTEGER, what: "a number of seconds" }),
  optionsSuccessStatus: num({ min: 200, max: 299, int: true }),
  preflightContinue: unsupported("preflight requests are always answered by the server"),
};

const corsObject = flagOrObject(CORS_RULES);

/** Every path is absolute; `""` is the default, as the official `opts.path || default`. */
const PATH: Rule = (v, name) => {
  if (typeof v !== "string") throw typeError(name, "a string", v);
  if (v === "") return undefined;
  if (v[0] !== "/") {
    throw new RangeError(
      `option "${name}" must start with "/", got ${JSON.stringify(v)} (did you mean ` +
        `${JSON.stringify("/" + v)}?)`,
    );
  }
  if (/[?#]/.test(v)) throw rangeError(name, "a path without query or fragment", v);
  return v.replace(/\/$/, "") + "/";
};

/** An object with the methods of a {@linkcode Scheduler}. */
const SCHEDULER: Rule = (v, name) => {
  const expected = "a scheduler (an object with now(), set(fn, ms) and clear(handle) methods)";
  if (typeof v !== "object" || v === null) throw typeError(name, expected, v);
  for (const method of ["now", "set", "clear"]) {
    const m = (v as Record<string, unknown>)[method];
    if (typeof m !== "function") {
      throw new TypeError(
        `option "${name}" must be ${expected}, and its "${method}" is ` +
          (m === undefined ? "missing" : `not a function (${typeof m})`),
      );
    }
  }
  return v;
};

const TRANSPORTS: Rule = (v, name) => {
  const expected = 'an array of "polling" and "websocket"';
  if (!Array.isArray(v)) throw typeError(name, expected, v);
  const out: TransportName[] = [];
  for (const t of v) {
    if (t === "webtransport") {
      console.warn(`socketio-edge: transport "webtransport" is not supported; it is ignored`);
    } else if (t === "polling" || t === "websocket") {
      if (!out.includes(t)) out.push(t);
    } else throw rangeError(name, expected, t);
  }
  if (out.length === 0) throw rangeError(name, `a non-empty array of "polling" and "websocket"`, v);
  return out;
};

const runtimeShape = methods("a Runtime", [
  "canUpgrade",
  "remoteAddress",
  "upgrade",
], ["fanOut", "answer", "onDisconnect"]);

/** A {@linkcode Runtime} object; a name ("node") is not one, each runtime's entry passes its own. */
const RUNTIME: Rule = (v, name) => {
  if (typeof v === "string") {
    throw typeError(
      name,
      'a Runtime object, not its name (on Node, import { Server } from "@socketio-edge/core/' +
        'node", which passes its own)',
      v,
    );
  }
  runtimeShape(v, name);
  if (typeof (v as Runtime).name !== "string") {
    throw typeError(name + ".name", "a string", (v as Runtime).name);
  }
  return v;
};

// Up to 4 GiB (Bun's largest `backpressureLimit`): a client that far behind is gone anyway.
const BUFFERED_BYTES = num({
  positive: true,
  max: 2 ** 32 - 1,
  what: "Infinity or a number of bytes",
});

const COUNT = num({ min: 1, int: true, what: "a whole number" });

/** A rate's `{ count, windowMs }`, both required, and what `more` adds. */
function rate(more: Rules = {}): Rule {
  const fields = object({ count: COUNT, windowMs: delay, ...more });
  return (v, name) => {
    const out = fields(v, name) as Record<string, unknown>;
    for (const field of ["count", "windowMs"]) {
      if (out[field] === undefined) {
        throw new TypeError(
          `option "${name}.${field}" is missing (a rate is { count, windowMs }, both required)`,
        );
      }
    }
    return out;
  };
}

const HANDSHAKE_RATE = object({
  perServer: rate(),
  perAddress: rate({
    maxAddresses: num({ min: 2, int: true, what: "a whole number" }),
    key: fn,
  }),
});

/** The rules of every Engine.IO option, official ones this server ignores included. */
export const ENGINE_OPTION_RULES: Rules = {
  path: PATH,
  pingInterval: delay,
  pingTimeout: delay,
  upgradeTimeout: delay,
  maxHttpBufferSize: num({ positive: true, what: "a number of bytes" }),
  maxBufferedBytes: (v, name) => (v === Infinity ? v : BUFFERED_BYTES(v, name)),
  transports: TRANSPORTS,
  allowUpgrades: bool,
  allowRequest: fn,
  cors: (v, name) => {
    if (typeof v === "function") {
      throw typeError(
        name,
        "an object (an options delegate is not supported; `origin` may be a function)",
        v,
      );
    }
    return corsObject(v, name);
  },
  cookie: flagOrObject(COOKIE_RULES),
  allowEIO3: bool,
  generateId: fn,
  scheduler: SCHEDULER,
  perMessageDeflate: ignored,
  httpCompression: ignored,
  wsEngine: ignored,
  destroyUpgrade: ignored,
  destroyUpgradeTimeout: ignored,
  addTrailingSlash: bool,
  initialPacket: unsupported("send a first message on `connection` instead"),
  runtime: RUNTIME,
  forwarder: methods("a SessionForwarder", ["bind", "forward", "close"]),
  maxClients: COUNT,
  handshakeRate: HANDSHAKE_RATE,
};

/**
 * Checks the options (a wrong one throws a `TypeError` or `RangeError` naming it), fills in the
 * defaults and normalizes the path to end with `/` (unless `addTrailingSlash` is false).
 *
 * @throws TypeError or RangeError naming the first wrong option
 */
export function resolveEngineOptions(opts: Partial<EngineOptions> = {}): EngineOptions {
  if (typeof opts !== "object" || opts === null) throw typeError("options", "an object", opts);
  const o = {
    ...DEFAULT_ENGINE_OPTIONS,
    ...validateOptions(opts as Record<string, unknown>, ENGINE_OPTION_RULES),
  } as EngineOptions;
  if (o.pingInterval + o.pingTimeout > MAX_DELAY) {
    // A client waits for a ping this long: past the largest timer it would give up at once.
    throw new RangeError(
      `options "pingInterval" + "pingTimeout" must be at most ${MAX_DELAY} ms, got ` +
        `${o.pingInterval} + ${o.pingTimeout}`,
    );
  }
  if (!o.addTrailingSlash) o.path = o.path.replace(/\/$/, "");
  return o;
}
