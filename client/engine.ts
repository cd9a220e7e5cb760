/**
 * The Engine.IO v4 client socket: handshake, transports, upgrade by probe, and the heartbeat
 * watchdog. Browser compatible.
 *
 * It behaves as npm `engine.io-client`'s `Socket`: the first transport of `transports` opens the
 * session; when the server offers an upgrade, a WebSocket is probed (`2probe` / `3probe`), polling
 * is paused and the session moves over. The server pings every `pingInterval`; a socket that
 * hears nothing for `pingInterval + pingTimeout` closes with `ping timeout`.
 *
 * @module
 */

import type { BinaryType, EnginePacket, EnginePacketType } from "../parser/engine.ts";
import { Emitter } from "../parser/emitter.ts";
import { cancel, later, type Timer } from "./timers.ts";
import { CookieJar, cookieJars } from "./cookies/mod.ts";
import { type Unref, unrefRuntime, unrefs } from "./unref/mod.ts";
import { parse } from "./url.ts";
import { Polling } from "./transports/polling.ts";
import { WS } from "./transports/websocket.ts";
import type {
  CloseDetails,
  Transport,
  TransportError,
  TransportOptions,
  WebSocketConstructor,
} from "./transports/transport.ts";

/**
 * Options of the Engine.IO socket (also accepted by `io()` and the `Manager`).
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * io("https://example.com", { transports: ["websocket", "polling"], tryAllTransports: true });
 * ```
 */
export interface EngineOptions {
  /** Host and optional port, when no URL is given. */
  host: string;
  /** The host name (default: `location`'s, else `localhost`). */
  hostname: string;
  /** Whether to use TLS (default: `location` is https). */
  secure: boolean;
  /** The port (default: `location`'s, else 443 or 80). */
  port: string | number;
  /** Query parameters sent with every request. */
  query: string | Record<string, unknown>;
  /** The Engine.IO path (default `/engine.io`; the Manager's is `/socket.io`). */
  path: string;
  /** Keep a trailing slash on the path (default true). */
  addTrailingSlash: boolean;
  /** Transports to use, first one first (default `["polling", "websocket"]`). */
  transports: Array<"polling" | "websocket" | "webtransport">;
  /** Move to a better transport when the server offers one (default true). */
  upgrade: boolean;
  /** Start with WebSocket when the last connection upgraded to it (default false). */
  rememberUpgrade: boolean;
  /** When a transport cannot open, try the next one (default false). */
  tryAllTransports: boolean;
  /** Add a cache-busting parameter (polling: unless `false`; WebSocket: if `true`). */
  timestampRequests: boolean;
  /** The name of that parameter (default `t`). */
  timestampParam: string;
  /** Send cookies cross-origin; outside browsers, keep the cookies the server sets. */
  withCredentials: boolean;
  /** Headers of every request, where the runtime allows them (not on browser WebSockets). */
  extraHeaders: Record<string, string>;
  /** Close silently on `beforeunload`, so a page reload is no disconnection (default false). */
  closeOnBeforeunload: boolean;
  /** Send binary as base64 text (default false). */
  forceBase64: boolean;
  /** WebSocket sub-protocols. */
  protocols: string | string[];
  /**
   * The WebSocket class the WebSocket transport uses instead of the runtime's: npm `ws`'s on
   * Node 20, which has none (Node 22+, Deno, Bun and browsers have one). Headers
   * (`extraHeaders`, kept cookies) go in its constructor's options; see
   * {@linkcode WebSocketConstructor}. With `autoUnref`, this class is still used, and its
   * connection unref'd where it shows it as npm `ws` does (the official client unrefs the same
   * socket); without the option, `autoUnref` brings a WebSocket of its own on `node:net`.
   *
   * Without it, in a runtime with no `WebSocket`, `transports: ["websocket"]` fails at once
   * with a `connect_error` that says so; with polling first, the session stays on polling and
   * the Engine.IO socket emits `upgradeError` with the same words, as the official client
   * does when it cannot make its WebSocket.
   *
   * @example Node 20
   * ```ts ignore
   * import { io } from "@socketio-edge/core/client";
   * import { WebSocket } from "ws";
   *
   * const socket = io("https://example.com", { WebSocket, transports: ["websocket"] });
   * ```
   */
  WebSocket: WebSocketConstructor;
  /** Options for one transport only, by transport name. */
  transportOptions: Record<string, Partial<EngineOptions>>;
  /**
   * Use the timer functions there were when the client loaded, not those of the moment (fake
   * timers a test installs later), as the official option (default false).
   */
  useNativeTimers: boolean;
  /**
   * Let the process exit while the connection is open (Deno, Bun, Node; default false): the
   * timers are unref'd and the transports go over unref'd `node:http` and `node:net`
   * connections. In browsers it changes nothing.
   */
  autoUnref: boolean;
}

/**
 * The handshake data of the `open` packet.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * io("https://example.com").io.engine.on("handshake", (data) => console.log(data.pingInterval));
 * ```
 */
export interface HandshakeData {
  /** The session id. */
  sid: string;
  /** Transports the session may upgrade to. */
  upgrades: string[];
  /** How often the server pings (ms). */
  pingInterval: number;
  /** How long the server waits for a pong (ms). */
  pingTimeout: number;
  /** The largest payload the server takes (bytes). */
  maxPayload: number;
}

/**
 * The events of the Engine.IO socket.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const { engine } = io("https://example.com").io;
 * engine.on("upgrade", (transport) => console.log("now on", transport.name));
 * ```
 */
export type EngineEvents = {
  open: [];
  handshake: [data: HandshakeData];
  packet: [packet: EnginePacket];
  packetCreate: [packet: WritePacket];
  data: [data: string | ArrayBuffer | Uint8Array];
  message: [data: string | ArrayBuffer | Uint8Array];
  drain: [];
  flush: [];
  heartbeat: [];
  ping: [];
  pong: [];
  error: [err: string | Error];
  upgrading: [transport: Transport];
  upgrade: [transport: Transport];
  upgradeError: [err: Error];
  close: [reason: string, description?: CloseDetails | Error];
};

/**
 * The Engine.IO socket's options once resolved: what its transports read.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * console.log(io("https://example.com").io.engine.opts.path); // "/socket.io/"
 * ```
 */
export type ResolvedEngineOptions =
  & TransportOptions
  & Omit<Partial<EngineOptions>, keyof TransportOptions>;

/**
 * An outgoing Engine.IO packet, with its write options.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * io("https://example.com").io.engine.on("packetCreate", (p) => console.log(p.type));
 * ```
 */
export type WritePacket = EnginePacket & { options?: { compress: boolean } };

const TRANSPORTS = { polling: Polling, websocket: WS } as const;
const listen = typeof addEventListener === "function";

/**
 * An Engine.IO v4 client connection, as npm `engine.io-client`'s `Socket`.
 *
 * @example
 * ```ts ignore
 * import { Engine } from "@socketio-edge/core/client";
 *
 * const engine = new Engine("http://localhost:3000", { path: "/engine.io" });
 * engine.on("open", () => engine.send("hello"));
 * engine.on("message", (data) => console.log(data));
 * ```
 */
export class Engine extends Emitter<EngineEvents> {
  /** Whether the last connection upgraded to WebSocket (read by `rememberUpgrade`). */
  static priorWebsocketSuccess = false;
  /** The Engine.IO protocol version. */
  static readonly protocol = 4;

  /** The session id, once open. */
  id: string | null = null;
  /** The current transport. */
  declare transport: Transport;
  /** Where the connection is in its life. */
  readyState: "opening" | "open" | "closing" | "closed" = "opening";
  /** The form of received binary data (default `"arraybuffer"`, as in browsers). */
  binaryType: BinaryType = "arraybuffer";
  /** Whether an upgrade is being completed (writes wait). */
  upgrading = false;
  /** Packets waiting to be sent. */
  writeBuffer: WritePacket[] = [];
  /** The transports to use, in order. */
  declare transports: string[];
  /** The resolved options. */
  declare readonly opts: ResolvedEngineOptions;
  /** @internal cookies kept outside browsers, when `withCredentials` is on. */
  declare cookies?: CookieJar;
  /** @internal unref'd timers and connections (`autoUnref`), where the runtime has them. */
  declare _unref?: Unref;
  #prevBufferLen = 0;
  #upgrades: string[] = [];
  // pingInterval + pingTimeout: the longest silence before `ping timeout`.
  #pingWindow = -1;
  #maxPayload = -1;
  #pingTimeoutTime = Infinity;
  #pingTimer?: Timer;
  #onUnload?: () => void;

  /**
   * Opens an Engine.IO connection.
   *
   * @param uri the server URL; omit for `opts.host` or `location`
   * @param opts options
   */
  constructor(uri?: string | Partial<EngineOptions>, opts: Partial<EngineOptions> = {}) {
    super();
    if (uri && typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    opts = { ...opts };
    const loc = globalThis.location;
    if (uri) {
      const u = parse(uri);
      opts.hostname = u.host;
      opts.secure = /s$/.test(u.protocol); // https, wss
      opts.port = u.port;
      if (u.query) opts.query = u.query;
    } else if (opts.host) {
      opts.hostname = parse("http://" + opts.host).host;
    }
    const secure = opts.secure ?? loc?.protocol === "https:";
    const port = opts.port || (!opts.hostname && loc?.port) || (secure ? "443" : "80");
    this.transports = (opts.transports ?? ["polling", "websocket"]).filter((t) => t in TRANSPORTS);
    // Defaults that are not falsy (withCredentials, rememberUpgrade... are off when absent).
    const o = this.opts = {
      path: "/engine.io",
      upgrade: true,
      timestampParam: "t",
      addTrailingSlash: true,
      transportOptions: {},
      ...opts,
      hostname: opts.hostname || loc?.hostname || "localhost",
      secure,
      port: String(port),
      query: {},
    } as ResolvedEngineOptions;
    o.path = o.path.replace(/\/$/, "") + (o.addTrailingSlash ? "/" : "");
    let query = opts.query ?? {};
    if (typeof query === "string") {
      const q: Record<string, string> = {};
      for (const pair of query.split("&")) {
        const [k, ...v] = pair.split("=");
        q[decodeURIComponent(k)] = decodeURIComponent(v.join("="));
      }
      query = q;
    }
    o.query = query;
    if (cookieJars && o.withCredentials) this.cookies = new CookieJar();
    if (unrefs && o.autoUnref) this._unref = unrefRuntime();
    if (listen && o.closeOnBeforeunload) {
      // Some browsers close the connection on beforeunload, others not: close silently in all,
      // so a reload is no "disconnect".
      this.#onUnload = () => {
        if (this.transport) {
          this.transport.off();
          this.transport.close();
        }
      };
      addEventListener("beforeunload", this.#onUnload, false);
    }
    this.#open();
  }

  #createTransport(name: string): Transport {
    const query: Record<string, unknown> = { ...this.opts.query, EIO: 4, transport: name };
    if (this.id) query.sid = this.id;
    const opts = {
      ...this.opts,
      query,
      ...this.opts.transportOptions![name],
    } as ResolvedEngineOptions;
    return new TRANSPORTS[name as keyof typeof TRANSPORTS](opts, this);
  }

  #open(): void {
    const transports = this.transports;
    if (!transports.length) {
      this.readyState = "closed";
      // Later, so that the caller can listen first.
      later(this.opts.useNativeTimers, () => this.emit("error", "No transports available"), 0);
      return;
    }
    const name = this.opts.rememberUpgrade && Engine.priorWebsocketSuccess &&
        transports.includes("websocket")
      ? "websocket"
      : transports[0];
    this.readyState = "opening";
    const transport = this.#createTransport(name);
    this.#setTransport(transport);
    transport.open();
  }

  #setTransport(transport: Transport): void {
    this.transport?.off();
    this.transport = transport;
    transport
      .on("drain", () => this.#onDrain())
      .on("packet", (packet) => this.#onPacket(packet))
      .on("error", (err) => this.#onError(err))
      .on("close", (details) => this.#onClose("transport close", details));
  }

  #probe(name: string): void {
    const probeError = (detail: string) =>
      Object.assign(new Error("probe error" + detail), { transport: name });
    let transport: Transport | null = this.#createTransport(name);
    let failed = false;
    Engine.priorWebsocketSuccess = false;

    const onTransportOpen = () => {
      if (failed) return;
      transport!.send([{ type: "ping", data: "probe" }]);
      transport!.once("packet", (msg) => {
        if (failed) return;
        if (msg.type === "pong" && msg.data === "probe") {
          this.upgrading = true;
          this.emit("upgrading", transport!);
          if (!transport) return;
          Engine.priorWebsocketSuccess = true; // only WebSocket is ever probed
          this.transport.pause(() => {
            if (failed || this.readyState === "closed") return;
            cleanup();
            this.#setTransport(transport!);
            transport!.send([{ type: "upgrade" }]);
            this.emit("upgrade", transport!);
            transport = null;
            this.upgrading = false;
            this.flush();
          });
        } else {
          this.emit("upgradeError", probeError(""));
        }
      });
    };
    const freeze = () => {
      if (failed) return;
      failed = true;
      cleanup();
      transport!.close();
      transport = null;
    };
    const onError = (err: unknown) => {
      freeze();
      this.emit("upgradeError", probeError(": " + err));
    };
    const onTransportClose = () => onError("transport closed");
    const onClose = () => onError("socket closed");
    const cleanup = () => {
      transport!.off("open", onTransportOpen).off("error", onError).off("close", onTransportClose);
      this.off("close", onClose);
    };
    transport.once("open", onTransportOpen).once("error", onError).once("close", onTransportClose);
    // (The official client also gives up when another transport wins the upgrade: with
    // WebSocket the only one to upgrade to, that cannot happen.)
    this.once("close", onClose);
    transport.open();
  }

  #onOpen(): void {
    this.readyState = "open";
    Engine.priorWebsocketSuccess = this.transport.name === "websocket";
    this.emit("open");
    this.flush();
    if (this.readyState === "open" && this.opts.upgrade) {
      for (const name of this.#upgrades) this.#probe(name);
    }
  }

  #onPacket(packet: EnginePacket): void {
    const state = this.readyState;
    if (state === "closed") return;
    this.emit("packet", packet);
    // Any packet shows the connection is alive.
    this.emit("heartbeat");
    switch (packet.type) {
      case "open":
        this.#onHandshake(JSON.parse(packet.data as string));
        break;
      case "ping":
        this.#sendPacket("pong");
        this.emit("ping");
        this.emit("pong");
        this.#resetPingTimeout();
        break;
      case "message": {
        const data = packet.data ?? "";
        this.emit("data", data);
        this.emit("message", data);
      }
    }
  }

  #onHandshake(data: HandshakeData): void {
    this.emit("handshake", data);
    this.id = data.sid;
    this.transport.query.sid = data.sid;
    this.#upgrades = data.upgrades.filter((t) => this.transports.includes(t));
    this.#pingWindow = data.pingInterval + data.pingTimeout;
    this.#maxPayload = data.maxPayload;
    this.#onOpen();
    // An `open` listener may have closed the socket.
    if (this.readyState !== "closed") this.#resetPingTimeout();
  }

  #resetPingTimeout(): void {
    const native = this.opts.useNativeTimers;
    cancel(native, this.#pingTimer);
    const delay = this.#pingWindow;
    this.#pingTimeoutTime = Date.now() + delay;
    this.#pingTimer = later(native, () => this.#onClose("ping timeout"), delay);
    if (unrefs) this._unref?.timer(this.#pingTimer);
  }

  #onDrain(): void {
    this.writeBuffer.splice(0, this.#prevBufferLen);
    // Reset, so that a drain after an upgrade does not drop packets.
    this.#prevBufferLen = 0;
    if (this.writeBuffer.length) this.flush();
    else this.emit("drain");
  }

  /** Sends what the buffer holds, if the transport can take it. */
  flush(): void {
    if (
      this.readyState !== "closed" && this.transport.writable && !this.upgrading &&
      this.writeBuffer.length
    ) {
      const packets = this.#writablePackets();
      this.transport.send(packets);
      this.#prevBufferLen = packets.length;
      this.emit("flush");
    }
  }

  // A polling payload must stay under the server's maxPayload: send a prefix that fits.
  #writablePackets(): WritePacket[] {
    const buffer = this.writeBuffer;
    if (!(this.#maxPayload > 0 && this.transport.name === "polling" && buffer.length > 1)) {
      return buffer;
    }
    let size = 1;
    for (let i = 0; i < buffer.length; i++) {
      const data = buffer[i].data;
      if (data) size += byteLength(data);
      if (i > 0 && size > this.#maxPayload) return buffer.slice(0, i);
      size += 2;
    }
    return buffer;
  }

  /**
   * Whether no ping came in time, as after a device sleep where timers did not run: the socket
   * then closes with `ping timeout` right after.
   * @internal
   */
  _hasPingExpired(): boolean {
    if (!this.#pingTimeoutTime) return true;
    const expired = Date.now() > this.#pingTimeoutTime;
    if (expired) {
      this.#pingTimeoutTime = 0;
      queueMicrotask(() => this.#onClose("ping timeout"));
    }
    return expired;
  }

  /**
   * Sends a message.
   *
   * @param msg text or binary
   * @param options `compress` (kept for compatibility; standard transports cannot choose)
   * @param fn called once the message is handed to the transport
   * @returns this socket
   */
  write(
    msg: string | ArrayBuffer | ArrayBufferView,
    options?: { compress?: boolean },
    fn?: () => void,
  ): this {
    this.#sendPacket("message", msg, options, fn);
    return this;
  }

  /**
   * Alias of {@linkcode Engine.write}.
   *
   * @param msg text or binary
   * @param options write options
   * @param fn called once the message is handed to the transport
   * @returns this socket
   */
  send(
    msg: string | ArrayBuffer | ArrayBufferView,
    options?: { compress?: boolean },
    fn?: () => void,
  ): this {
    return this.write(msg, options, fn);
  }

  #sendPacket(
    type: EnginePacketType,
    data?: string | ArrayBuffer | ArrayBufferView,
    options?: { compress?: boolean },
    fn?: () => void,
  ): void {
    if (this.readyState === "closing" || this.readyState === "closed") return;
    const packet: WritePacket = {
      type,
      data: data as EnginePacket["data"],
      options: { compress: options?.compress !== false },
    };
    this.emit("packetCreate", packet);
    this.writeBuffer.push(packet);
    if (fn) this.once("flush", fn);
    this.flush();
  }

  /**
   * Closes the connection once the buffered packets are out (and any upgrade is done).
   *
   * @returns this socket
   */
  close(): this {
    // Closes the transport too.
    const close = () => this.#onClose("forced close");
    const cleanupAndClose = () => {
      this.off("upgrade", cleanupAndClose).off("upgradeError", cleanupAndClose);
      close();
    };
    // Packets cannot be sent while a transport pauses: wait for the upgrade to end.
    const waitForUpgrade = () => {
      this.once("upgrade", cleanupAndClose).once("upgradeError", cleanupAndClose);
    };
    if (this.readyState === "opening" || this.readyState === "open") {
      this.readyState = "closing";
      if (this.writeBuffer.length) {
        this.once("drain", () => this.upgrading ? waitForUpgrade() : close());
      } else if (this.upgrading) waitForUpgrade();
      else close();
    }
    return this;
  }

  #onError(err: TransportError | Error): void {
    Engine.priorWebsocketSuccess = false;
    if (this.opts.tryAllTransports && this.transports.length > 1 && this.readyState === "opening") {
      this.transports.shift();
      return this.#open();
    }
    this.emit("error", err);
    this.#onClose("transport error", err);
  }

  #onClose(reason: string, description?: CloseDetails | Error): void {
    const state = this.readyState;
    if (state === "opening" || state === "open" || state === "closing") {
      cancel(this.opts.useNativeTimers, this.#pingTimer);
      const transport = this.transport;
      // Close the transport without hearing about it again, then ignore it.
      transport.off("close");
      transport.close();
      transport.off();
      if (this.#onUnload) removeEventListener("beforeunload", this.#onUnload, false);
      this.readyState = "closed";
      this.id = null;
      this.emit("close", reason, description);
      // Cleared after the event, so that listeners can still read the buffer.
      this.writeBuffer = [];
      this.#prevBufferLen = 0;
    }
  }
}

// UTF-8 size of text; base64 size of bytes (polling sends them as base64).
const byteLength = (data: string | ArrayBuffer | ArrayBufferView): number =>
  typeof data === "string" ? new Blob([data]).size : Math.ceil(data.byteLength * 1.33);
