/**
 * The Engine.IO server: a fetch handler that runs handshakes, polls and upgrades, like npm
 * `engine.io`. Runs on Deno and Bun through the same handler.
 *
 * @module
 */
import { Emitter } from "../../parser/emitter.ts";
import { bunWebSocket, type Publisher, runtimeFor, type Upgraded } from "../runtime/mod.ts";
import { applyCors } from "./cors.ts";
import { codecFor } from "./codec.ts";
import { ERROR_MESSAGES, ErrorCode, errorResponse, upgradeErrorResponse } from "./errors.ts";
import { Heartbeat } from "./heartbeat.ts";
import { type EngineOptions, resolveEngineOptions } from "./options.ts";
import { PollingTransport } from "./polling.ts";
import { type RequestSnapshot, snapshotRequest } from "./request.ts";
import { EngineSocket, type SessionHost } from "./session.ts";
import { WebSocketTransport } from "./websocket.ts";
import type { HeartbeatTarget } from "./heartbeat.ts";
import type { TransportOwner } from "./transport.ts";

/** A refused request, as the official `connection_error` event reports it. */
export interface ConnectionError {
  /** What the request carried. */
  req: RequestSnapshot;
  /** The official error code. */
  code: ErrorCode;
  /** The official message. */
  message: string;
  /** Details: which transport, sid or method was refused. */
  context: Record<string, unknown>;
}

/** Events of an Engine.IO {@linkcode Server}. */
export interface EngineServerEvents {
  /** A session opened. */
  connection: [socket: EngineSocket];
  /** A request was refused. */
  connection_error: [error: ConnectionError];
}

/**
 * A fetch handler for `Deno.serve`, and for `Bun.serve` when spread into its options
 * (`Bun.serve({ ...handler })` also passes the `websocket` handlers and `idleTimeout` Bun needs).
 */
export interface FetchHandler {
  (req: Request, info?: unknown): Promise<Response>;
  /** The same function, for `Bun.serve({ ...handler })`. */
  fetch: (req: Request, info?: unknown) => Promise<Response>;
  /** Bun's WebSocket handlers. */
  websocket: Record<string, unknown>;
  /** Bun's HTTP idle timeout in seconds, above pingInterval so polls are not cut. */
  idleTimeout: number;
}

const NOOP_OWNER: TransportOwner = {
  onPacket() {},
  onTextMessage() {},
  onTransportError() {},
  onTransportClose() {},
  onWritable() {},
};

/** 20 URL-safe random characters. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(15));
  let s = "";
  for (let i = 0; i < 15; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * An Engine.IO server, usable alone like npm `engine.io`.
 *
 * @example An echo server
 * ```ts ignore
 * import { Server } from "@socketio-edge/core/engine";
 *
 * const engine = new Server({ path: "/engine.io/" });
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 * });
 * Deno.serve(engine.handler());
 * ```
 */
export class Server extends Emitter<EngineServerEvents> implements SessionHost {
  /** The resolved options. */
  readonly opts: EngineOptions;
  /** Open sessions by id. */
  readonly clients: Map<string, EngineSocket> = new Map();
  /**
   * @internal the runtime's native fan-out (Bun's `server.publish`), known from the first
   * WebSocket upgrade; undefined elsewhere.
   */
  publisher: Publisher | undefined;
  #heartbeat: Heartbeat;
  #closed = false;

  /**
   * Creates an engine; serve it with {@linkcode Server.handler}.
   *
   * @param opts options, each defaulting to the official server's
   */
  constructor(opts: Partial<EngineOptions> = {}) {
    super();
    this.opts = resolveEngineOptions(opts);
    this.#heartbeat = new Heartbeat(this.opts.pingInterval, this.opts.pingTimeout);
  }

  /** How many sessions are open. */
  get clientsCount(): number {
    return this.clients.size;
  }

  /** @internal */
  upgrades(transport: string): string[] {
    if (!this.opts.allowUpgrades || transport !== "polling") return [];
    return this.opts.transports.includes("websocket") ? ["websocket"] : [];
  }

  /** @internal */
  watch(target: HeartbeatTarget): void {
    this.#heartbeat.add(target);
  }

  /** @internal */
  forget(session: EngineSocket): void {
    if (this.clients.get(session.id) === session) this.clients.delete(session.id);
    this.#heartbeat.delete(session);
  }

  /**
   * The fetch handler; requests outside `path` get `fallback`'s answer, or 404.
   *
   * @param fallback answers requests outside the engine's path
   */
  handler(fallback?: (req: Request, info?: unknown) => Response | Promise<Response>): FetchHandler {
    const path = this.opts.path;
    const fetch = (req: Request, info?: unknown): Promise<Response> => {
      const url = new URL(req.url);
      if (url.pathname === path || url.pathname + "/" === path) {
        return this.handleRequest(req, info, url);
      }
      return Promise.resolve(
        fallback ? fallback(req, info) : new Response("Not Found", { status: 404 }),
      );
    };
    const secs = Math.ceil((this.opts.pingInterval + this.opts.pingTimeout) / 1000) + 5;
    return Object.assign(fetch, {
      fetch,
      websocket: bunWebSocket({ idleTimeout: Math.min(960, secs) }),
      idleTimeout: Math.min(255, secs),
    });
  }

  /** Answers one Engine.IO request (the path was already matched). */
  async handleRequest(
    req: Request,
    info?: unknown,
    url: URL = new URL(req.url),
  ): Promise<Response> {
    let headers: Headers;
    if (this.opts.cors) {
      try {
        const cors = await applyCors(this.opts.cors, req);
        if (cors.preflight) return cors.preflight;
        headers = cors.headers;
      } catch {
        return errorResponse(ErrorCode.BAD_REQUEST, undefined, new Headers());
      }
    } else headers = new Headers();

    const runtime = runtimeFor(info);
    // Taken when needed (a refusal, a handshake) and before any upgrade: the polls and POSTs of
    // a session need none, and copying every header costs them a good part of their CPU.
    let snap: RequestSnapshot | undefined;
    const snapshot = () => (snap ??= snapshotRequest(req, url, runtime.remoteAddress(req, info)));
    const isUpgrade = runtime.canUpgrade(req, info);
    const q = url.searchParams;
    const refuse = (code: ErrorCode, context: Record<string, unknown> = {}, message?: string) => {
      this.emit("connection_error", {
        req: snapshot(),
        code,
        message: message ?? ERROR_MESSAGES[code],
        context,
      });
      if (isUpgrade) {
        req.body?.cancel().catch(() => {});
        return upgradeErrorResponse(code, message);
      }
      req.body?.cancel().catch(() => {});
      return errorResponse(code, message, headers);
    };

    const transports = q.getAll("transport");
    const transport = transports[0];
    if (
      transports.length !== 1 ||
      !(this.opts.transports as string[]).includes(transport)
    ) return refuse(ErrorCode.UNKNOWN_TRANSPORT, { transport });
    if (this.#closed) return refuse(ErrorCode.BAD_REQUEST, { name: "SERVER_CLOSED" });

    const eio = q.getAll("EIO");
    const protocol = eio.length === 1
      ? (eio[0] === "4" ? 4 : eio[0] === "3" && this.opts.allowEIO3 ? 3 : 0)
      : 0;
    const sids = q.getAll("sid");
    // An empty sid is no sid, as for the official server.
    if (sids.length === 0 || (sids.length === 1 && sids[0] === "")) {
      // Checked in the official order: method, transport, allowRequest, then protocol.
      if (req.method !== "GET") {
        return refuse(ErrorCode.BAD_HANDSHAKE_METHOD, { method: req.method });
      }
      if (transport === "websocket" && !isUpgrade) {
        return refuse(ErrorCode.BAD_REQUEST, { name: "TRANSPORT_HANDSHAKE_ERROR" });
      }
      if (this.opts.allowRequest) {
        const [message, ok] = await allow(this.opts.allowRequest, snapshot());
        if (!ok) return refuse(ErrorCode.FORBIDDEN, { message }, message || undefined);
      }
      if (!protocol) {
        return refuse(ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol: eio[0] });
      }
      return this.#handshake(req, info, snapshot(), transport, protocol, headers);
    }

    const sid = sids.join(",");
    const session = this.clients.get(sid);
    if (!session) return refuse(ErrorCode.UNKNOWN_SID, { sid });
    if (protocol !== session.protocol) {
      return refuse(ErrorCode.BAD_REQUEST, { name: "PROTOCOL_MISMATCH" });
    }
    if (transport === "websocket" && isUpgrade) return this.#upgrade(req, info, session);
    if (session.transport.name !== transport || transport !== "polling") {
      return refuse(ErrorCode.BAD_REQUEST, {
        name: "TRANSPORT_MISMATCH",
        transport,
        previousTransport: session.transport.name,
      });
    }
    const polling = session.transport as PollingTransport;
    if (req.method === "GET") {
      return polling.onGet(headers, runtime.disconnectSignal(req));
    }
    if (req.method === "POST") return polling.onPost(req, headers);
    return refuse(ErrorCode.BAD_REQUEST, { name: "BAD_METHOD", method: req.method });
  }

  async #handshake(
    req: Request,
    info: unknown,
    snapshot: RequestSnapshot,
    transportName: string,
    protocol: number,
    headers: Headers,
  ): Promise<Response> {
    let id: string;
    try {
      id = this.opts.generateId ? await this.opts.generateId(snapshot) : randomId();
    } catch {
      return errorResponse(ErrorCode.BAD_REQUEST, undefined, headers);
    }
    if (transportName === "polling") {
      const transport = new PollingTransport(
        NOOP_OWNER,
        this.opts.maxHttpBufferSize,
        codecFor(protocol, snapshot.query.b64 !== undefined),
      );
      this.#open(id, transport, snapshot, protocol);
      this.#setCookie(headers, id);
      return transport.onGet(headers);
    }
    const transport = new WebSocketTransport(
      NOOP_OWNER,
      this.opts.maxHttpBufferSize,
      codecFor(protocol, false),
    );
    const upgraded = upgradeOrNull(req, info, transport);
    if (upgraded) this.publisher ??= publisherOf(info);
    if (!upgraded) return upgradeErrorResponse(ErrorCode.BAD_REQUEST);
    transport.socket = upgraded.socket;
    this.#open(id, transport, snapshot, protocol);
    return upgradeResponse(upgraded);
  }

  #open(
    id: string,
    transport: PollingTransport | WebSocketTransport,
    snapshot: RequestSnapshot,
    protocol: number,
  ): EngineSocket {
    const session = new EngineSocket(id, this, transport, snapshot, protocol);
    this.clients.set(id, session);
    session.open();
    this.emit("connection", session);
    return session;
  }

  #upgrade(req: Request, info: unknown, session: EngineSocket): Response {
    const transport = new WebSocketTransport(
      NOOP_OWNER,
      this.opts.maxHttpBufferSize,
      codecFor(session.protocol, false),
    );
    const upgraded = upgradeOrNull(req, info, transport);
    if (upgraded) this.publisher ??= publisherOf(info);
    if (!upgraded) return upgradeErrorResponse(ErrorCode.BAD_REQUEST);
    transport.socket = upgraded.socket;
    if (
      !this.opts.allowUpgrades || session.upgrading || session.upgraded ||
      session.readyState !== "open"
    ) {
      // Accepted, then closed at once: refusing with 400 makes Node clients error out.
      transport.close();
    } else {
      session.maybeUpgrade(transport);
    }
    return upgradeResponse(upgraded);
  }

  #setCookie(headers: Headers, id: string): void {
    const c = this.opts.cookie;
    if (!c) return;
    const o = c === true ? {} : c;
    // Attribute order and defaults of npm `cookie`, as the official server serializes it.
    let cookie = `${o.name ?? "io"}=${id}`;
    if (o.maxAge !== undefined) cookie += `; Max-Age=${Math.floor(o.maxAge)}`;
    if (o.domain) cookie += `; Domain=${o.domain}`;
    if (o.path !== false) cookie += `; Path=${o.path ?? "/"}`;
    if (o.httpOnly ?? o.path !== false) cookie += "; HttpOnly";
    if (o.secure) cookie += "; Secure";
    const sameSite = o.sameSite ?? "lax";
    if (sameSite) cookie += `; SameSite=${sameSite === true ? "Strict" : cap(sameSite)}`;
    headers.append("Set-Cookie", cookie);
  }

  /** Closes every session; resolves when all are closed. */
  close(): Promise<void> {
    this.#closed = true;
    for (const session of [...this.clients.values()]) session.destroy("forced close");
    this.#heartbeat.stop();
    return Promise.resolve();
  }
}

/** Upgrades, or null when the runtime refuses the request (a malformed WebSocket handshake). */
function upgradeOrNull(
  req: Request,
  info: unknown,
  transport: WebSocketTransport,
): Upgraded | null {
  try {
    return runtimeFor(info).upgrade(req, info, transport);
  } catch {
    return null;
  }
}

/**
 * What the handler returns for an accepted upgrade: the runtime's response, or, where the runtime
 * answered the handshake itself (Node), an empty one that its bridge does not send.
 */
function upgradeResponse(upgraded: Upgraded): Response {
  return upgraded.response ?? new Response(null);
}

/** The runtime's native fan-out behind `info`, if any (Bun's `server.publish`). */
function publisherOf(info: unknown): Publisher | undefined {
  return runtimeFor(info).publisher?.(info);
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function allow(
  fn: NonNullable<EngineOptions["allowRequest"]>,
  req: RequestSnapshot,
): Promise<[string | null | undefined, boolean]> {
  return new Promise((resolve) => {
    try {
      fn(req, (message, ok) => resolve([message, ok]));
    } catch (err) {
      resolve([err instanceof Error ? err.message : String(err), false]);
    }
  });
}
