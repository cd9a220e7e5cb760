/**
 * The Cloudflare Workers runtime, inside a Durable Object: a `WebSocketPair` per upgrade, either
 * accepted plainly (`accept()`, frames as events) or through the Hibernation API
 * (`ctx.acceptWebSocket`, frames as calls of the object's `webSocketMessage`,
 * `webSocketClose`, `webSocketError`, which the Workers entry forwards here). Nothing here
 * imports a Workers module: the globals are looked up when used, so other runtimes load the
 * file without them.
 *
 * @module
 */
import { report } from "./report.ts";
import type { RawSocket, RawSocketEvents, Runtime, Upgraded } from "./types.ts";

/** The server end of a workerd `WebSocketPair`, as far as the runtime uses it. */
export interface WorkerdWebSocket {
  /** Starts delivering events (plain, not hibernatable, sockets). */
  accept(): void;
  /** Sends a text or binary frame. */
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  /** Closes, or answers the peer's close. */
  close(code?: number, reason?: string): void;
  /** `"arraybuffer"`, or `"blob"` (the default with recent compatibility dates). */
  binaryType?: string;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Listens (plain sockets). */
  addEventListener(type: string, listener: (event: Event) => void): void;
  /** Keeps a small value (at most 2 KiB serialized) with a hibernatable socket. */
  serializeAttachment(value: unknown): void;
  /** The value kept by `serializeAttachment`, or null. */
  deserializeAttachment(): unknown;
}

/** The part of a Durable Object's `ctx` that accepts hibernatable WebSockets. */
export interface HibernationHost {
  /** Accepts the socket through the Hibernation API. */
  acceptWebSocket(ws: WorkerdWebSocket, tags?: string[]): void;
}

type WebSocketPairClass = new () => { 0: WorkerdWebSocket; 1: WorkerdWebSocket };

/**
 * One workerd socket as the engine sees it. Answers the peer's close (workerd leaves that to
 * the application, and refuses to send 1005 or 1006 back).
 */
export class WorkersSocket implements RawSocket {
  #closed = false;

  /**
   * @param ws the server end of the pair
   * @param events where its frames go; set later for a socket restored after hibernation
   */
  constructor(readonly ws: WorkerdWebSocket, public events: RawSocketEvents | undefined) {}

  send(data: string | Uint8Array): void {
    if (this.#closed) return;
    try {
      this.ws.send(data);
    } catch {
      // closed by the peer meanwhile: its close event follows
    }
  }

  close(code?: number, reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.ws.close(code, reason);
    } catch {
      // closed already
    }
  }

  /**
   * workerd does not tell: every frame is handed to it at once. So `maxBufferedBytes` never cuts
   * a WebSocket client off here, and a volatile packet over WebSocket is never dropped.
   */
  get bufferedAmount(): number {
    return 0;
  }

  /** Keeps `value` with the socket across hibernation (at most 2 KiB serialized). */
  attach(value: unknown): void {
    this.ws.serializeAttachment(value);
  }

  /** @internal the peer closed: answers it, then tells the engine. */
  _onclose(code: number, reason: string): void {
    if (!this.#closed) {
      this.#closed = true;
      answerClose(this.ws, code, reason);
    }
    this.events?.onClose(code, reason);
  }
}

/**
 * Answers a peer's close frame with its code, as RFC 6455 asks; 1005 (no code) and 1006 (no
 * close frame) are never sent, 1000 goes instead, as for any code workerd refuses to send.
 */
function answerClose(ws: WorkerdWebSocket, code: number, reason: string): void {
  if (ws.readyState === 3) return; // answered already (the auto-reply compatibility flag)
  try {
    if (code === 1005 || code === 1006) ws.close(1000);
    else ws.close(code, reason);
  } catch {
    try {
      ws.close(1000);
    } catch {
      // closed meanwhile
    }
  }
}

/** Frames of a plain (not hibernatable) socket, from its events. */
function listen(socket: WorkersSocket): void {
  const ws = socket.ws;
  ws.addEventListener("message", (e) => {
    try {
      const data = (e as MessageEvent).data;
      socket.events?.onMessage(
        typeof data === "string" ? data : new Uint8Array(data as ArrayBuffer),
      );
    } catch (err) {
      report(err);
    }
  });
  ws.addEventListener("close", (e) => {
    try {
      socket._onclose((e as CloseEvent).code, (e as CloseEvent).reason);
    } catch (err) {
      report(err);
    }
  });
  ws.addEventListener("error", (e) => {
    try {
      socket.events?.onError((e as ErrorEvent).error ?? e);
    } catch (err) {
      report(err);
    }
  });
}

/**
 * Upgrades with a `WebSocketPair`, answering `101` with the client end. With a
 * {@linkcode HibernationHost} (the Durable Object's `ctx`) sockets are hibernatable and their
 * frames come through {@linkcode WorkersRuntime.message} and its siblings.
 *
 * @example Inside a Durable Object (the Workers entry does this)
 * ```ts ignore
 * const runtime = new WorkersRuntime(ctx);
 * // webSocketMessage(ws, data) { runtime.message(ws, data); }
 * ```
 */
export class WorkersRuntime implements Runtime {
  readonly name = "workers";
  readonly #host: HibernationHost | undefined;
  // Hibernatable sockets by workerd socket (their frames arrive as calls naming it), and every
  // socket by the engine's events object (the session's transport), for the Workers entry.
  readonly #byWs = new WeakMap<object, WorkersSocket>();
  readonly #byEvents = new WeakMap<object, WorkersSocket>();

  /**
   * @param host the Durable Object's `ctx`, to accept hibernatable sockets; without it sockets
   * are accepted plainly (and keep the object in memory while open)
   */
  constructor(host?: HibernationHost) {
    this.#host = host;
  }

  /** Whether sockets go through the Hibernation API. */
  get hibernates(): boolean {
    return this.#host !== undefined;
  }

  canUpgrade(req: Request): boolean {
    return req.headers.get("upgrade")?.toLowerCase() === "websocket";
  }

  remoteAddress(req: Request): string {
    // Set by Cloudflare's edge on every request that reaches a Worker.
    return req.headers.get("cf-connecting-ip") ?? "";
  }

  // No `onDisconnect`: a held poll learns that its client left when workerd cancels its body
  // stream.

  upgrade(_req: Request, _info: unknown, events: RawSocketEvents, headers?: Headers): Upgraded {
    const Pair = (globalThis as { WebSocketPair?: WebSocketPairClass }).WebSocketPair;
    if (Pair === undefined) throw new Error("WebSocketPair is missing: not on Cloudflare Workers");
    const pair = new Pair();
    const ws = pair[1];
    // With recent compatibility dates binary frames come as Blob, which only reads async.
    ws.binaryType = "arraybuffer";
    const socket = new WorkersSocket(ws, events);
    this.#byEvents.set(events, socket);
    if (this.#host) {
      this.#host.acceptWebSocket(ws);
      this.#byWs.set(ws, socket);
    } else {
      ws.accept();
      listen(socket);
    }
    const init = { status: 101, webSocket: pair[0], headers } as ResponseInit;
    return { socket, response: new Response(null, init) };
  }

  /**
   * The socket for a hibernatable `ws` that an earlier process accepted (after hibernation);
   * give it its events with {@linkcode WorkersRuntime.route}. Frames that come before are
   * dropped.
   */
  adopt(ws: WorkerdWebSocket): WorkersSocket {
    const socket = new WorkersSocket(ws, undefined);
    this.#byWs.set(ws, socket);
    return socket;
  }

  /** Sends the frames of an adopted `socket` to `events` from now on. */
  route(socket: WorkersSocket, events: RawSocketEvents): void {
    socket.events = events;
    this.#byEvents.set(events, socket);
  }

  /** The socket that pushes its frames to `events` (a session's transport), if any. */
  socketFor(events: unknown): WorkersSocket | undefined {
    return typeof events === "object" && events !== null ? this.#byEvents.get(events) : undefined;
  }

  /** `webSocketMessage(ws, data)` of the Durable Object. */
  message(ws: WorkerdWebSocket, data: string | ArrayBuffer): void {
    const socket = this.#byWs.get(ws);
    if (socket === undefined) return;
    try {
      socket.events?.onMessage(typeof data === "string" ? data : new Uint8Array(data));
    } catch (err) {
      report(err);
    }
  }

  /** `webSocketClose(ws, code, reason)` of the Durable Object. */
  close(ws: WorkerdWebSocket, code: number, reason: string): void {
    const socket = this.#byWs.get(ws);
    if (socket === undefined) return answerClose(ws, code, reason);
    try {
      socket._onclose(code, reason);
    } catch (err) {
      report(err);
    }
  }

  /** `webSocketError(ws, error)` of the Durable Object. */
  error(ws: WorkerdWebSocket, error: unknown): void {
    try {
      this.#byWs.get(ws)?.events?.onError(error);
    } catch (err) {
      report(err);
    }
  }
}

/**
 * `res` as workerd must send it: a body that carries a `Content-Encoding` already (the client
 * bundle, gzip or brotli) is marked `encodeBody: "manual"`, which workerd would otherwise
 * compress a second time.
 */
export function sendAsEncoded(res: Response): Response {
  if (res.body === null || !res.headers.has("content-encoding")) return res;
  const init = {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
    encodeBody: "manual",
  } as ResponseInit;
  return new Response(res.body, init);
}
