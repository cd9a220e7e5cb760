/**
 * The Engine.IO server: a fetch handler that runs handshakes, polls and upgrades, like npm
 * `engine.io`. Runs on Deno and Bun through the same handler, on Node and Workers through their
 * entries.
 *
 * @module
 */
import { EngineEmitter } from "./emitter.ts";
import {
  bunWebSocket,
  detectRuntime,
  type FanOut,
  type Runtime,
  type Upgraded,
} from "../runtime/mod.ts";
import { Admission } from "./admission.ts";
import type { AdmissionRefusal } from "./admission.ts";
import { report } from "../runtime/report.ts";
import { applyCors } from "./cors.ts";
import { codecFor } from "./codec.ts";
import { ERROR_MESSAGES, ErrorCode, errorResponse, upgradeErrorResponse } from "./errors.ts";
import { Heartbeat } from "./heartbeat.ts";
import { randomId } from "./ids.ts";
import { type EngineMiddleware, MiddlewareResponse, runMiddlewares } from "./middleware.ts";
import { type EngineOptions, resolveEngineOptions } from "./options.ts";
import { PollingTransport } from "./polling.ts";
import { type RequestSnapshot, snapshotRequest } from "./request.ts";
import { EngineSocket, type SessionHost, type SessionSnapshot } from "./session.ts";
import { WebSocketTransport } from "./websocket.ts";
import type { HeartbeatTarget } from "./heartbeat.ts";
import type { TransportOwner } from "./transport.ts";
import type { Answer, RawSocket, RawSocketEvents } from "../runtime/types.ts";
import type {
  ForwardedAnswer,
  ForwardedRequest,
  ForwardedUpgrade,
  ForwardingHost,
  SessionForwarder,
} from "./forwarding.ts";

/** A session brought back by {@linkcode Server.restore}. */
export interface RestoredSession {
  /** The session, open on its WebSocket. */
  session: EngineSocket;
  /** Where the runtime pushes the socket's frames from now on. */
  events: RawSocketEvents;
}

/** A refused request, as the official `connection_error` event reports it. */
export interface ConnectionError {
  /** What the request carried. */
  req: RequestSnapshot;
  /** The official error code, or ours (`SERVER_BUSY`, admission control). */
  code: ErrorCode;
  /** The official message, or ours. */
  message: string;
  /**
   * Details: which transport, sid or method was refused; for `SERVER_BUSY`, an
   * {@linkcode AdmissionRefusal} (the limit, and the `Retry-After` seconds).
   */
  context: Record<string, unknown>;
}

/**
 * Headers a `headers` / `initial_headers` listener may add to a response, as on the official
 * server: `headers["x-name"] = "value"`; an array sends the header once per value.
 */
export type OutgoingHeaders = Record<string, string | number | string[]>;

/** Events of an Engine.IO {@linkcode Server}. */
export interface EngineServerEvents {
  /** A session opened. */
  connection: [socket: EngineSocket];
  /** A request was refused. */
  connection_error: [error: ConnectionError];
  /**
   * The answer to a handshake (polling, or the WebSocket upgrade) is about to go out: add
   * headers, such as a `Set-Cookie`, to `headers` (which holds the `io` cookie when it is on).
   */
  initial_headers: [headers: OutgoingHeaders, req: RequestSnapshot];
  /**
   * Any answer of a session is about to go out (handshakes, polls, POSTs, WebSocket upgrades):
   * add headers to `headers`. Refusals do not fire it.
   */
  headers: [headers: OutgoingHeaders, req: RequestSnapshot];
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

// The path each handler answers, to catch a fallback that can never be reached (two servers on
// one path).
const handlerPaths = new WeakMap<object, string>();

/**
 * Whether the engine at `path` answers a request for `pathname`: everything under the path, as
 * the official server matches, and the path without its trailing slash.
 */
export function ownsPath(path: string, pathname: string): boolean {
  return pathname.startsWith(path) || pathname + "/" === path;
}

/**
 * Refuses a fallback that is the handler of a server whose requests all go to the server at
 * `path` first: it would never be called.
 *
 * @throws Error naming both paths
 */
export function checkFallback(fallback: unknown, path: string): void {
  const other = typeof fallback === "function" ? handlerPaths.get(fallback) : undefined;
  if (other === undefined || !ownsPath(path, other)) return;
  throw new Error(
    `handler(fallback): the fallback is the handler of another server on ${JSON.stringify(other)}` +
      `, and this server answers every request under ${JSON.stringify(path)} itself, so it ` +
      "would never get one; give each server its own `path`",
  );
}

/** Adds what `headers` listeners set. */
function addHeaders(to: Headers, extra: OutgoingHeaders): void {
  for (const name in extra) {
    const value = extra[name];
    if (Array.isArray(value)) {
      to.delete(name);
      for (const v of value) to.append(name, v);
    } else if (name.toLowerCase() === "set-cookie") {
      // Cookies add up: the official server sends both `Set-Cookie` and `set-cookie` keys.
      to.append(name, String(value));
    } else to.set(name, String(value));
  }
}

/**
 * An Engine.IO server, usable alone like npm `engine.io`. Its runtime is chosen once, when it is
 * constructed: the `runtime` option, else Bun or Deno, found by themselves.
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
export class Server extends EngineEmitter<EngineServerEvents>
  implements SessionHost, ForwardingHost {
  /** The resolved options. */
  readonly opts: EngineOptions;
  /** Open sessions by id. */
  readonly clients: Map<string, EngineSocket> = new Map();
  /** The runtime serving it: the `runtime` option, else the one it runs on (Bun or Deno). */
  readonly runtime: Runtime;
  /** @internal the runtime's native fan-out for this engine (Bun's topics); undefined elsewhere. */
  readonly fanOut: FanOut | undefined;
  #heartbeat: Heartbeat;
  #closed = false;
  #middlewares: EngineMiddleware[] = [];
  #admission: Admission | undefined;

  /**
   * Creates an engine; serve it with {@linkcode Server.handler}.
   *
   * @param opts options, each defaulting to the official server's
   * @throws TypeError or RangeError naming a wrong option; Error on a runtime it does not know
   * by itself (Node, Workers) when no `runtime` is given, naming the entry to import there
   */
  constructor(opts: Partial<EngineOptions> = {}) {
    super();
    this.opts = resolveEngineOptions(opts);
    this.runtime = this.opts.runtime ?? detectRuntime();
    this.fanOut = this.runtime.fanOut?.();
    const o = this.opts;
    this.#heartbeat = new Heartbeat(o.pingInterval, o.pingTimeout, o.scheduler);
    if (o.maxClients !== undefined || o.handshakeRate) {
      this.#admission = new Admission(o.maxClients ?? Infinity, o.handshakeRate);
    }
    o.forwarder?.bind(this);
  }

  /** How many sessions are open. */
  get clientsCount(): number {
    return this.clients.size;
  }

  /**
   * Adds an Express/Connect-style middleware, run on every request of the engine (handshakes,
   * polls, POSTs, upgrades) before it is checked, in the order added, as npm `engine.io` runs
   * them. `req` is the request snapshot: what middleware attaches to a handshake's (`req.session`)
   * shows on `socket.request`. `next(err)` refuses the request with 400.
   *
   * @example A cookie session
   * ```ts
   * import { Server } from "@socketio-edge/core/engine";
   *
   * const engine = new Server();
   * engine.use((req, res, next) => {
   *   if (!/(^|; )sid=/.test(req.headers.cookie ?? "")) res.setHeader("Set-Cookie", "sid=1");
   *   req.session = { user: "ann" };
   *   next();
   * });
   * ```
   *
   * @param fn `(req, res, next) => void`
   */
  use(fn: EngineMiddleware): this;
  /**
   * Adds a middleware typed for Node (express-session, passport, helmet): it gets the same `req`
   * and `res` as any other, see the README for their shape.
   *
   * @param fn `(req, res, next) => void`
   */
  // deno-lint-ignore no-explicit-any
  use(fn: (req: any, res: any, next: (err?: any) => void) => void): this;
  use(fn: EngineMiddleware): this {
    if (typeof fn !== "function") {
      throw new TypeError(`use(fn): fn must be a function, got ${typeof fn}`);
    }
    this.#middlewares.push(fn);
    return this;
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
  beat(target: HeartbeatTarget): void {
    this.#heartbeat.beat(target);
  }

  /** @internal */
  roundStart(target: HeartbeatTarget): number {
    return this.#heartbeat.roundStart(target);
  }

  /**
   * Brings back a WebSocket session that an earlier process of this server kept (a Durable
   * Object that hibernated: its WebSockets stay open while its memory goes), from its
   * {@linkcode EngineSocket.snapshot} and the socket the runtime still holds. The session is open
   * at once, keeps its id, protocol, handshake request and heartbeat deadlines, and sends
   * nothing (no open packet: the client is connected all along). No `connection` event fires:
   * the caller attaches what listened to the session before (the Socket.IO server restores its
   * sockets with `restoreConnection`). Restore sessions in the order of their `beat`, before
   * new ones open, so the heartbeat takes them in order.
   *
   * @param snapshot what {@linkcode EngineSocket.snapshot} gave
   * @param socket the runtime's socket; its frames go to the returned `events`
   * @returns the session, or undefined when its heartbeat deadline passed meanwhile (the client
   * has given up or is gone): `socket` is then closed
   * @throws Error when a session with this id is open already
   */
  restore(snapshot: SessionSnapshot, socket: RawSocket): RestoredSession | undefined {
    if (this.clients.has(snapshot.id)) {
      throw new Error(`restore(snapshot): session ${snapshot.id} is open already`);
    }
    const transport = new WebSocketTransport(
      NOOP_OWNER,
      this.opts.maxHttpBufferSize,
      codecFor(snapshot.protocol, false),
      this.opts.maxBufferedBytes,
    );
    transport.socket = socket;
    const session = new EngineSocket(
      snapshot.id,
      this,
      transport,
      snapshot.request,
      snapshot.protocol,
    );
    session.readyState = "open";
    session.upgraded = snapshot.upgraded;
    if (!this.#heartbeat.restore(session, snapshot.beat)) {
      session.readyState = "closed";
      transport.close();
      return undefined;
    }
    this.clients.set(snapshot.id, session);
    return { session, events: transport };
  }

  /**
   * Whether session `sid` is open on this engine (a {@linkcode SessionForwarder} asks).
   *
   * @param sid a session id
   */
  has(sid: string): boolean {
    return this.clients.has(sid);
  }

  /**
   * Serves a GET or POST of session `sid` that landed on another node of the cluster, as if it
   * had come here (the `headers` event fires here, where the session is); undefined when the
   * session is not here. Called by the {@linkcode SessionForwarder}, with what to do if the
   * client goes away meanwhile.
   *
   * @param sid the session
   * @param req the request, as the other node read it
   * @param watch takes what to call if the client leaves before the answer
   */
  serveForwarded(
    sid: string,
    req: ForwardedRequest,
    watch?: (gone: () => void) => void,
  ): Promise<ForwardedAnswer> | undefined {
    const session = this.clients.get(sid);
    return session && this.#serveForwarded(session, req, watch);
  }

  async #serveForwarded(
    session: EngineSocket,
    fwd: ForwardedRequest,
    watch: ((gone: () => void) => void) | undefined,
  ): Promise<ForwardedAnswer> {
    const url = new URL(fwd.url, FORWARDED_ORIGIN);
    const q = url.searchParams;
    const headers = new Headers();
    let snap: RequestSnapshot | undefined;
    const snapshot = () =>
      snap ??= snapshotRequest(
        new Request(url, { method: fwd.method, headers: fwd.headers }),
        url,
        fwd.address,
      );
    const refuse = (context: Record<string, unknown>) => {
      this.#emitError({
        req: snapshot(),
        code: ErrorCode.BAD_REQUEST,
        message: ERROR_MESSAGES[ErrorCode.BAD_REQUEST],
        context,
      });
      return answerOf(errorResponse(ErrorCode.BAD_REQUEST, undefined, headers));
    };
    if (protocolOf(q, this.opts.allowEIO3) !== session.protocol) {
      return refuse({ name: "PROTOCOL_MISMATCH" });
    }
    const transport = q.get("transport");
    if (session.transport.name !== transport || transport !== "polling") {
      return refuse({
        name: "TRANSPORT_MISMATCH",
        transport,
        previousTransport: session.transport.name,
      });
    }
    if (fwd.method !== "GET" && fwd.method !== "POST") {
      return refuse({ name: "BAD_METHOD", method: fwd.method });
    }
    // The answer is taken whole, as it would have been written: no Response is made.
    let out: ForwardedAnswer | undefined;
    const answer: Answer = (status, h, body) => {
      out = { status, headers: [...h], body };
      return FORWARDED_PLACEHOLDER;
    };
    this.#emitHeaders(headers, snapshot, false);
    const polling = session.transport as PollingTransport;
    let res: Response;
    if (fwd.method === "GET") {
      res = await polling.onGet(headers, watch && ((gone) => (watch(gone), true)), answer);
    } else {
      const type = fwd.headers.find(([name]) => name.toLowerCase() === "content-type");
      const post = new Request(url, {
        method: "POST",
        headers: type ? [type] : [],
        body: (fwd.body ?? "") as BodyInit,
      });
      res = await polling.onPost(post, headers, answer);
    }
    return out ?? answerOf(res);
  }

  /**
   * Upgrades session `sid` onto a WebSocket that another node of the cluster holds: `socket`
   * relays frames to it, and the returned events take the frames it relays back. Undefined when
   * the session is not here or cannot upgrade now (closed, upgraded, upgrading): the caller
   * closes the socket, as a refused upgrade is closed here.
   *
   * @param sid the session
   * @param req the upgrade request, as the other node read it
   * @param socket the relay to the WebSocket
   */
  adoptWebSocket(
    sid: string,
    req: ForwardedUpgrade,
    socket: RawSocket,
  ): RawSocketEvents | undefined {
    const session = this.clients.get(sid);
    if (
      !session || !this.opts.allowUpgrades || session.upgrading || session.upgraded ||
      session.readyState !== "open" ||
      protocolOf(new URL(req.url, FORWARDED_ORIGIN).searchParams, this.opts.allowEIO3) !==
        session.protocol
    ) return undefined;
    const transport = new WebSocketTransport(
      NOOP_OWNER,
      this.opts.maxHttpBufferSize,
      codecFor(session.protocol, false),
      this.opts.maxBufferedBytes,
    );
    transport.socket = socket;
    session.maybeUpgrade(transport);
    return transport;
  }

  /** Hands a request for a session of another node to the forwarder. */
  #forward(
    forwarder: SessionForwarder,
    req: Request,
    info: unknown,
    url: URL,
    sid: string,
    headers: Headers,
    snapshot: () => RequestSnapshot,
    isUpgrade: boolean,
  ): Promise<Response | undefined> {
    const runtime = this.runtime;
    const upgrade = isUpgrade && url.searchParams.get("transport") === "websocket"
      ? (events: RawSocketEvents) => {
        this.#emitHeaders(headers, snapshot, false);
        const upgraded = this.#runtimeUpgrade(req, info, events, headers, snapshot);
        if (!upgraded) return { response: upgradeErrorResponse(ErrorCode.BAD_REQUEST) };
        return { socket: upgraded.socket, response: upgradeResponse(upgraded) };
      }
      : undefined;
    return forwarder.forward({
      sid,
      req,
      url,
      headers,
      address: runtime.remoteAddress(req, info),
      upgrade,
      onDisconnect: (fn) => runtime.onDisconnect?.(req, info, fn) ?? false,
    });
  }

  /** @internal */
  forget(session: EngineSocket): void {
    if (this.clients.get(session.id) === session) this.clients.delete(session.id);
    this.#heartbeat.delete(session);
  }

  /**
   * The fetch handler. Like the official server it answers every request under its path
   * (`/engine.io/` answers `/engine.io/anything?EIO=4&...`); requests outside it get
   * `fallback`'s answer, or 404, and a request whose URL does not parse (Bun hands `CONNECT
   * host:port` over as it came) a plain 400. After {@linkcode Server.close}, calling it again
   * (serving the engine again) reopens the engine to new sessions, as the official server serves
   * again once attached or listening again.
   *
   * @param fallback answers requests outside the engine's path
   * @param before looks at each request first, with its parsed URL, and answers the ones it
   * returns a response for (the Socket.IO server serves its client bundles under the engine's
   * path with it)
   * @throws Error when `fallback` is the handler of another server on the same path
   */
  handler(
    fallback?: (req: Request, info?: unknown) => Response | Promise<Response>,
    before?: (req: Request, url: URL) => Response | Promise<Response> | undefined,
  ): FetchHandler {
    const path = this.opts.path;
    checkFallback(fallback, path);
    this.#closed = false;
    const fetch = (req: Request, info?: unknown): Promise<Response> => {
      const url = URL.parse(req.url);
      if (url === null) return Promise.resolve(badUrl());
      const early = before?.(req, url);
      if (early !== undefined) return Promise.resolve(early);
      if (ownsPath(path, url.pathname)) return this.handleRequest(req, info, url);
      return Promise.resolve(
        fallback ? fallback(req, info) : new Response("Not Found", { status: 404 }),
      );
    };
    const secs = Math.ceil((this.opts.pingInterval + this.opts.pingTimeout) / 1000) + 5;
    handlerPaths.set(fetch, path);
    return Object.assign(fetch, {
      fetch,
      websocket: bunWebSocket({
        idleTimeout: Math.min(960, secs),
        maxBufferedBytes: this.opts.maxBufferedBytes,
      }),
      idleTimeout: Math.min(255, secs),
    });
  }

  /**
   * Whether a request for `pathname` is the engine's: it starts with the path, as the official
   * server matches (so with `addTrailingSlash: false`, `/engine.iofoo` too). The path without its
   * trailing slash is taken as well, as it always was here.
   *
   * @param pathname a request URL's pathname
   */
  owns(pathname: string): boolean {
    return ownsPath(this.opts.path, pathname);
  }

  /** Answers one Engine.IO request (the path was already matched). */
  async handleRequest(req: Request, info?: unknown, parsed?: URL): Promise<Response> {
    const url = parsed ?? URL.parse(req.url);
    if (url === null) return badUrl();
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

    const runtime = this.runtime;
    // Taken when needed (a refusal, a handshake) and before any upgrade: the polls and POSTs of
    // a session need none, and copying every header costs them a good part of their CPU.
    let snap: RequestSnapshot | undefined;
    const snapshot = () => (snap ??= snapshotRequest(req, url, runtime.remoteAddress(req, info)));
    const isUpgrade = runtime.canUpgrade(req, info);
    const q = url.searchParams;
    const refuse = (
      code: ErrorCode,
      context: Record<string, unknown> = {},
      message?: string,
      extra?: Record<string, string>,
    ) => {
      this.#emitError({ req: snapshot(), code, message: message ?? ERROR_MESSAGES[code], context });
      if (isUpgrade) {
        req.body?.cancel().catch(() => {});
        return upgradeErrorResponse(code, message, extra);
      }
      req.body?.cancel().catch(() => {});
      for (const name in extra) headers.set(name, extra[name]);
      return errorResponse(code, message, headers);
    };

    if (this.#middlewares.length !== 0) {
      const res = new MiddlewareResponse(headers);
      const outcome = await runMiddlewares(this.#middlewares, snapshot(), res);
      if (outcome instanceof Response) {
        req.body?.cancel().catch(() => {});
        return outcome;
      }
      if (outcome) return refuse(ErrorCode.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE" });
      // Headers go out now: middleware that waits for this to add its own (express-session's
      // cookie) does so, as the official server calls it before a WebSocket upgrade.
      res.writeHead();
    }

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
      // Admission comes before allowRequest, so that a flood never reaches the app's checks.
      const admission = this.#admission;
      if (admission) {
        let refusal: AdmissionRefusal | undefined;
        try {
          refusal = admission.admit(snapshot(), this.clients.size, this.opts.scheduler.now());
        } catch (error) {
          return refuse(ErrorCode.BAD_REQUEST, { name: "ADMISSION_KEY_ERROR", error });
        }
        if (refusal) {
          const extra: Record<string, string> = { "Retry-After": String(refusal.retryAfter) };
          // A cross-origin page reads the header only when it is exposed.
          if (headers.has("access-control-allow-origin")) {
            const exposed = headers.get("access-control-expose-headers");
            extra["Access-Control-Expose-Headers"] = exposed
              ? exposed + ", Retry-After"
              : "Retry-After";
          }
          return refuse(ErrorCode.SERVER_BUSY, { ...refusal }, undefined, extra);
        }
      }
      try {
        if (this.opts.allowRequest) {
          const [message, ok] = await allow(this.opts.allowRequest, snapshot());
          if (!ok) return refuse(ErrorCode.FORBIDDEN, { message }, message || undefined);
        }
        if (!protocol) {
          return refuse(ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol: eio[0] });
        }
        return await this.#handshake(req, info, snapshot(), transport, protocol, headers);
      } finally {
        // Open by now (counted in `clients`) or refused: either way no longer pending.
        if (admission) admission.pending--;
      }
    }

    const sid = sids.join(",");
    const session = this.clients.get(sid);
    if (!session) {
      // Another node's session, when a forwarder knows the cluster.
      const forwarded = this.opts.forwarder &&
        await this.#forward(this.opts.forwarder, req, info, url, sid, headers, snapshot, isUpgrade);
      return forwarded ?? refuse(ErrorCode.UNKNOWN_SID, { sid });
    }
    if (protocol !== session.protocol) {
      return refuse(ErrorCode.BAD_REQUEST, { name: "PROTOCOL_MISMATCH" });
    }
    if (transport === "websocket" && isUpgrade) {
      this.#emitHeaders(headers, snapshot, false);
      return this.#upgrade(req, info, session, headers, snapshot);
    }
    if (session.transport.name !== transport || transport !== "polling") {
      return refuse(ErrorCode.BAD_REQUEST, {
        name: "TRANSPORT_MISMATCH",
        transport,
        previousTransport: session.transport.name,
      });
    }
    const polling = session.transport as PollingTransport;
    if (req.method === "GET") {
      this.#emitHeaders(headers, snapshot, false);
      const watch = runtime.onDisconnect &&
        ((gone: () => void) => runtime.onDisconnect!(req, info, gone));
      return polling.onGet(headers, watch, runtime.answer?.(info));
    }
    if (req.method === "POST") {
      this.#emitHeaders(headers, snapshot, false);
      return polling.onPost(req, headers, runtime.answer?.(info));
    }
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
    } catch (error) {
      this.#refused(snapshot, "ID_GENERATION_ERROR", error);
      return errorResponse(ErrorCode.BAD_REQUEST, undefined, headers);
    }
    if (transportName === "polling") {
      const transport = new PollingTransport(
        NOOP_OWNER,
        this.opts.maxHttpBufferSize,
        codecFor(protocol, snapshot.query.b64 !== undefined),
      );
      this.#emitHeaders(headers, () => snapshot, true, this.#cookie(id));
      this.#open(id, transport, snapshot, protocol);
      return transport.onGet(headers, undefined, this.runtime.answer?.(info));
    }
    const transport = new WebSocketTransport(
      NOOP_OWNER,
      this.opts.maxHttpBufferSize,
      codecFor(protocol, false),
      this.opts.maxBufferedBytes,
    );
    // The official server sends no `io` cookie on a WebSocket handshake.
    this.#emitHeaders(headers, () => snapshot, true);
    const upgraded = this.#runtimeUpgrade(req, info, transport, headers, () => snapshot);
    if (!upgraded) return upgradeErrorResponse(ErrorCode.BAD_REQUEST);
    transport.socket = upgraded.socket;
    this.#open(id, transport, snapshot, protocol);
    return upgradeResponse(upgraded);
  }

  /**
   * Fires `initial_headers` (for a handshake) and `headers`, and adds to `headers` what their
   * listeners set, and the `io` cookie. Allocates nothing when nobody listens.
   */
  #emitHeaders(
    headers: Headers,
    req: () => RequestSnapshot,
    initial: boolean,
    cookie?: string,
  ): void {
    if (!(initial && this.listenerCount("initial_headers")) && !this.listenerCount("headers")) {
      if (cookie !== undefined) headers.append("Set-Cookie", cookie);
      return;
    }
    const extra: OutgoingHeaders = cookie === undefined ? {} : { "Set-Cookie": [cookie] };
    const snap = req();
    // The application's listeners: what they throw is reported, and the answer goes out with
    // what they set. (A value `Headers` refuses, with CR or LF, still fails the request.)
    if (initial) {
      try {
        this.emit("initial_headers", extra, snap);
      } catch (err) {
        report(err);
      }
    }
    try {
      this.emit("headers", extra, snap);
    } catch (err) {
      report(err);
    }
    addHeaders(headers, extra);
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
    try {
      this.emit("connection", session);
    } catch (err) {
      report(err); // the application's listener: the session is open all the same
    }
    return session;
  }

  #upgrade(
    req: Request,
    info: unknown,
    session: EngineSocket,
    headers: Headers,
    snapshot: () => RequestSnapshot,
  ): Response {
    const transport = new WebSocketTransport(
      NOOP_OWNER,
      this.opts.maxHttpBufferSize,
      codecFor(session.protocol, false),
      this.opts.maxBufferedBytes,
    );
    const upgraded = this.#runtimeUpgrade(req, info, transport, headers, snapshot);
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

  /**
   * Upgrades through the runtime; undefined when it refused (it threw: a malformed handshake,
   * an upgrade it cannot make), reported as the official server reports a transport it could not
   * create.
   */
  #runtimeUpgrade(
    req: Request,
    info: unknown,
    transport: RawSocketEvents,
    headers: Headers,
    snapshot: () => RequestSnapshot,
  ): Upgraded | undefined {
    // The first sub-protocol the client offers, as npm ws picks it for the official server: a
    // client that asks for one fails unless the 101 names one. Chosen here for every runtime.
    const offered = req.headers.get("sec-websocket-protocol");
    if (offered && !headers.has("sec-websocket-protocol")) {
      const first = offered.split(",", 1)[0].trim();
      if (first) headers.set("sec-websocket-protocol", first);
    }
    try {
      return this.runtime.upgrade(req, info, transport, headers);
    } catch (error) {
      this.#refused(snapshot(), "TRANSPORT_HANDSHAKE_ERROR", error);
      return undefined;
    }
  }

  /** Emits `connection_error` for a handshake or upgrade that failed with `error`. */
  #refused(req: RequestSnapshot, name: string, error: unknown): void {
    this.#emitError({
      req,
      code: ErrorCode.BAD_REQUEST,
      message: ERROR_MESSAGES[ErrorCode.BAD_REQUEST],
      context: { name, error },
    });
  }

  /** Emits `connection_error`; what a listener throws is reported, and the refusal goes out. */
  #emitError(error: ConnectionError): void {
    try {
      this.emit("connection_error", error);
    } catch (err) {
      report(err);
    }
  }

  /** The `io` cookie of session `id`, when the option is on. */
  #cookie(id: string): string | undefined {
    const c = this.opts.cookie;
    if (!c) return undefined;
    const o = c === true ? {} : c;
    // Attribute order and defaults of npm `cookie`, as the official server serializes it.
    let cookie = `${o.name ?? "io"}=${o.encode ? o.encode(id) : id}`;
    if (o.maxAge !== undefined) cookie += `; Max-Age=${Math.floor(o.maxAge)}`;
    if (o.domain) cookie += `; Domain=${o.domain}`;
    if (o.path !== false) cookie += `; Path=${o.path ?? "/"}`;
    if (o.expires) cookie += `; Expires=${o.expires.toUTCString()}`;
    if (o.httpOnly ?? o.path !== false) cookie += "; HttpOnly";
    if (o.secure) cookie += "; Secure";
    if (o.partitioned) cookie += "; Partitioned";
    if (o.priority) cookie += `; Priority=${cap(o.priority)}`;
    const sameSite = o.sameSite ?? "lax";
    if (sameSite) cookie += `; SameSite=${sameSite === true ? "Strict" : cap(sameSite)}`;
    return cookie;
  }

  /**
   * Closes every session and stops the heartbeat; resolves when all are closed. New sessions are
   * refused (400) until {@linkcode Server.handler} is called again to serve the engine anew.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const session of [...this.clients.values()]) session.destroy("forced close");
    this.#heartbeat.stop();
    await this.opts.forwarder?.close();
  }
}

/**
 * What the handler returns for an accepted upgrade: the runtime's response, or, where the runtime
 * answered the handshake itself (Node), an empty one that its bridge does not send.
 */
function upgradeResponse(upgraded: Upgraded): Response {
  return upgraded.response ?? (answeredUpgrade ??= new Response(null));
}

/** The one placeholder of {@linkcode upgradeResponse}, never sent nor read. */
let answeredUpgrade: Response | undefined;

/** The base of a forwarded request's path and query (only the query is read). */
const FORWARDED_ORIGIN = "http://forwarded.invalid";

/** What the `Answer` of a forwarded request returns: never sent nor read. */
const FORWARDED_PLACEHOLDER = new Response(null);

/** The protocol a query asks for: 4, 3 (when allowed), else 0. */
function protocolOf(q: URLSearchParams, allowEIO3: boolean): number {
  const eio = q.getAll("EIO");
  if (eio.length !== 1) return 0;
  return eio[0] === "4" ? 4 : eio[0] === "3" && allowEIO3 ? 3 : 0;
}

/** A `Response`'s status, headers and body, to travel back. */
async function answerOf(res: Response): Promise<ForwardedAnswer> {
  const body = res.body ? new Uint8Array(await res.arrayBuffer()) : null;
  const type = res.headers.get("content-type") ?? "";
  return {
    status: res.status,
    headers: [...res.headers],
    body: body && !type.includes("octet-stream") ? new TextDecoder().decode(body) : body,
  };
}

/** The answer to a request whose URL does not parse: bad input, answered without a log line. */
function badUrl(): Response {
  return new Response("Bad Request", { status: 400 });
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
