/**
 * What the client's transports share: state, events, and the request URL. Browser compatible.
 *
 * @module
 */

import type { BinaryType, EnginePacket } from "../../parser/engine.ts";
import { Emitter } from "../../parser/emitter.ts";
import { decodePacket } from "../codec.ts";
import type { CookieJar } from "../cookies/mod.ts";
import type { Unref } from "../unref/mod.ts";
import { uncaught } from "../uncaught.ts";

/**
 * Why a transport failed, as the official client reports it in `connect_error`: `message` is
 * the reason (`"websocket error"`, `"fetch read error"`...), `description` and `context` the
 * detail (a status code, the underlying error or event). A handshake the server refused with
 * `503` and `Retry-After` (its `maxClients` or `handshakeRate`; or a `429` with `Retry-After`,
 * from a rate-limiting proxy) over polling is `"server busy"`, with the wait in `retryAfter`.
 *
 * @example
 * ```ts ignore
 * import { io, type TransportError } from "@socketio-edge/core/client";
 *
 * io("https://example.com").on("connect_error", (err) => {
 *   console.log(err.message, (err as TransportError).description);
 * });
 * ```
 */
export interface TransportError extends Error {
  /** Always `"TransportError"`. */
  type: "TransportError";
  /** A status code or the underlying error. */
  description?: unknown;
  /** The response, event or request behind the error. */
  context?: unknown;
  /**
   * Milliseconds the server asked to wait (`"server busy"`): the next reconnection attempt waits
   * at least this long.
   */
  retryAfter?: number;
}

/**
 * How a transport ended: its own words and the event behind it.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * io("https://example.com").on("disconnect", (reason, details) => {
 *   if (details && !(details instanceof Error)) console.log(reason, details.description);
 * });
 * ```
 */
export interface CloseDetails {
  /** What happened, e.g. `"websocket connection closed"`. */
  description: string;
  /** The close event or response, when there is one. */
  context?: unknown;
}

/**
 * The events of a transport.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const socket = io("https://example.com");
 * socket.io.engine.transport.on("packet", (packet) => console.log(packet.type));
 * ```
 */
export type TransportEvents = {
  open: [];
  packet: [packet: EnginePacket];
  /** A {@linkcode TransportError}, or what the `WebSocket` constructor threw. */
  error: [err: TransportError | Error];
  close: [details?: CloseDetails];
  drain: [];
  poll: [];
  pollComplete: [];
};

/**
 * The options a transport reads: the Engine.IO socket's, resolved.
 *
 * @example
 * ```ts ignore
 * import type { TransportOptions } from "@socketio-edge/core/client";
 *
 * const opts: Partial<TransportOptions> = { path: "/socket.io/", withCredentials: true };
 * ```
 */
export interface TransportOptions {
  /** The host name. */
  hostname: string;
  /** The port. */
  port: string;
  /** Whether to use TLS. */
  secure: boolean;
  /** The Engine.IO path, with its trailing slash when asked. */
  path: string;
  /** Query parameters of every request. */
  query: Record<string, unknown>;
  /** Send cookies (and, outside browsers, keep those the server sets). */
  withCredentials: boolean;
  /** Headers of every request where the runtime allows them. */
  extraHeaders?: Record<string, string>;
  /** Add a random parameter against caches (polling: unless `false`; WebSocket: if `true`). */
  timestampRequests?: boolean;
  /** The name of that parameter (default `t`). */
  timestampParam: string;
  /** Send binary as base64 text even where frames could carry it. */
  forceBase64?: boolean;
  /** WebSocket sub-protocols. */
  protocols?: string | string[];
  /** The WebSocket class, instead of the runtime's. */
  WebSocket?: WebSocketConstructor;
}

/**
 * A WebSocket class for the `WebSocket` option: npm `ws`'s `WebSocket`, or one shaped like the
 * standard `WebSocket` (a runtime's own, a wrapper). The constructor is called as
 * `new WebSocket(url, protocols)`; with headers to send (`extraHeaders`, kept cookies), as
 * `new WebSocket(url, protocols, { headers })` when it declares three parameters (as npm `ws`'s
 * does), else as `new WebSocket(url, { protocols, headers })`, as Deno's, Bun's and Node's own
 * take them.
 *
 * @example
 * ```ts ignore
 * import { io, type WebSocketConstructor } from "@socketio-edge/core/client";
 * import { WebSocket } from "ws";
 *
 * const impl: WebSocketConstructor = WebSocket;
 * io("https://example.com", { WebSocket: impl });
 * ```
 */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

/**
 * What the WebSocket transport uses of a socket made by a {@linkcode WebSocketConstructor}:
 * the standard `WebSocket`'s handler properties, `binaryType`, `send` and `close`.
 *
 * @example
 * ```ts ignore
 * import type { WebSocketLike } from "@socketio-edge/core/client";
 *
 * const ws: WebSocketLike = new WebSocket("wss://example.com/socket.io/?EIO=4&transport=websocket");
 * ```
 */
export interface WebSocketLike {
  /** Set to `"arraybuffer"`: binary frames then arrive as ArrayBuffers. */
  binaryType: string;
  /** Set by the transport; called once open. */
  onopen: unknown;
  /** Set by the transport; called with an event whose `data` is a string or an ArrayBuffer. */
  onmessage: unknown;
  /** Set by the transport; called on an error. */
  onerror: unknown;
  /** Set by the transport; called once closed. */
  onclose: unknown;
  /**
   * Sends one frame: text as text, bytes as binary.
   *
   * @param data the frame
   */
  send(data: string | ArrayBuffer | Uint8Array): void;
  /** Closes the socket. */
  close(): void;
}

/** What a transport needs from its Engine.IO socket. */
export interface TransportHost {
  /** The form of received binary data. */
  binaryType: BinaryType;
  /** Cookies kept outside browsers, when `withCredentials` is on. */
  cookies?: CookieJar;
  /** @internal unref'd connections (`autoUnref`), where the runtime has them. */
  _unref?: Unref;
}

/**
 * A transport of the Engine.IO client: polling or WebSocket.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const socket = io("https://example.com");
 * socket.on("connect", () => console.log(socket.io.engine.transport.name)); // "polling"
 * ```
 */
export abstract class Transport extends Emitter<TransportEvents> {
  /** `"polling"` or `"websocket"`. */
  abstract readonly name: "polling" | "websocket";
  /** Whether packets may be sent now. */
  writable = false;
  /** Where the transport is in its life. */
  readyState: "" | "opening" | "open" | "closed" | "pausing" | "paused" = "";
  /** Query parameters of its requests; the session id is added after the handshake. */
  declare query: Record<string, unknown>;
  /** Its options. */
  declare readonly opts: TransportOptions;
  /** The Engine.IO socket it belongs to. */
  declare readonly socket: TransportHost;

  /**
   * Makes a transport; `open()` starts it.
   *
   * @param opts the resolved options
   * @param socket the Engine.IO socket
   */
  constructor(opts: TransportOptions, socket: TransportHost) {
    super();
    this.opts = opts;
    this.query = opts.query;
    this.socket = socket;
  }

  /** Opens the transport. */
  open(): this {
    this.readyState = "opening";
    this.doOpen();
    return this;
  }

  /** Closes the transport (politely, where the protocol has a way). */
  close(): this {
    if (this.readyState === "opening" || this.readyState === "open") {
      this.doClose();
      this.onClose();
    }
    return this;
  }

  /** Sends packets, if open. */
  send(packets: EnginePacket[]): void {
    if (this.readyState === "open") this.write(packets);
  }

  /**
   * Stops taking packets, then calls `onPause` (polling waits for its requests).
   *
   * @param onPause called once paused
   */
  pause(onPause: () => void): void {
    onPause();
  }

  /** @internal */
  protected abstract doOpen(): void;
  /** @internal */
  protected abstract doClose(): void;
  /** @internal */
  protected abstract write(packets: EnginePacket[]): void;

  /** @internal the transport is up. */
  protected onOpen(): void {
    this.readyState = "open";
    this.writable = true;
    this.emit("open");
  }

  /** @internal one frame arrived. */
  protected onData(data: string | ArrayBuffer): void {
    this.onPacket(decodePacket(data, this.socket.binaryType));
  }

  /**
   * @internal one packet arrived, or undefined for one that could not be decoded. A listener's
   * exception is reported as uncaught, so that the packets after it still arrive.
   */
  protected onPacket(packet: EnginePacket | undefined): void {
    if (!packet) return this.onError("parse error");
    try {
      this.emit("packet", packet);
    } catch (err) {
      uncaught(err);
    }
  }

  /** @internal the transport ended. */
  protected onClose(details?: CloseDetails): void {
    this.readyState = "closed";
    this.emit("close", details);
  }

  /** @internal the transport failed. */
  protected onError(
    reason: string,
    description?: unknown,
    context?: unknown,
    retryAfter?: number,
  ): void {
    this.emit(
      "error",
      Object.assign(new Error(reason), {
        type: "TransportError" as const,
        description,
        context,
        retryAfter,
      }),
    );
  }

  /** @internal the request URL. */
  protected uri(schema: string, query: Record<string, unknown>): string {
    const { hostname, port, secure, path } = this.opts;
    let qs = "";
    for (const k in query) {
      qs += (qs ? "&" : "?") + encodeURIComponent(k) + "=" +
        encodeURIComponent(query[k] as string);
    }
    return schema + (secure ? "s" : "") + "://" +
      (hostname.includes(":") ? `[${hostname}]` : hostname) +
      (port && +port !== (secure ? 443 : 80) ? ":" + port : "") + path + qs;
  }
}

/** A random cache-busting value, as the official client makes them. */
export function randomString(): string {
  return Date.now().toString(36).slice(3) + Math.random().toString(36).slice(2, 5);
}

/** The request headers: the extra ones, then the kept cookies' `Cookie` header, if any. */
export function requestHeaders(opts: TransportOptions, cookie?: string): Headers {
  const headers = new Headers(opts.extraHeaders);
  if (cookie) headers.set("cookie", cookie);
  return headers;
}
