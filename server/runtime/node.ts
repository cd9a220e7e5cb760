/**
 * The Node runtime: requests that came through a `node:http` server, each carried by a
 * {@linkcode NodeServeInfo}, and WebSocket upgrades by npm `ws`. Nothing here imports Node or
 * `ws`: the Node entry (`node/mod.ts`) creates the `ws` server and hands it over in the info, so
 * Deno, Bun and Workers load this file without loading either.
 *
 * @module
 */
import { QueuedSocket } from "./queued_socket.ts";
import { report } from "./report.ts";
import type { Answer, RawSocketEvents, Runtime, Upgraded } from "./types.ts";

/** The part of a `node:net` socket the runtime uses. */
export interface NodeSocketLike {
  /** The peer's address, as Node reports it (`::ffff:127.0.0.1` on a dual-stack socket). */
  readonly remoteAddress?: string;
}

/** The part of a `node:net` socket that batches writes: Node counts nested corks. */
export interface NodeCorkable {
  /** Holds writes in memory until as many `uncork()` calls. */
  cork(): void;
  /** Releases one `cork()`; the last one writes what was held, in one system call. */
  uncork(): void;
}

/** The part of an `http.IncomingMessage` the runtime uses. */
export interface NodeRequestLike {
  /** The connection. */
  readonly socket: NodeSocketLike;
}

/** The part of an `http.ServerResponse` the runtime uses. */
export interface NodeResponseLike {
  /** Whether the response's connection or stream closed. */
  readonly closed: boolean;
  /** Whether the whole response was handed to the system. */
  readonly writableFinished: boolean;
  /** Listens to the close, once: before the end when the client went away. */
  once(ev: "close", fn: () => void): unknown;
}

/** A Node `Buffer`: bytes whose `toString()` decodes UTF-8. */
export interface NodeBuffer extends Uint8Array {
  /** The bytes decoded as UTF-8. */
  toString(): string;
}

/** The part of an npm `ws` WebSocket the runtime uses. */
export interface NodeWebSocket {
  /** Sends a text (string) or binary frame; `cb` runs once it is written (or failed). */
  send(data: string | Uint8Array, cb?: (err?: Error) => void): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Destroys the connection at once. */
  terminate(): void;
  /** Bytes queued and not yet written. */
  readonly bufferedAmount: number;
  /** Listens to frames, the close and errors. */
  on(ev: "message", fn: (data: NodeBuffer, isBinary: boolean) => void): unknown;
  /** Listens to the close (the reason comes as bytes). */
  on(ev: "close", fn: (code: number, reason: NodeBuffer) => void): unknown;
  /** Listens to errors; `close` follows. */
  on(ev: "error", fn: (err: Error) => void): unknown;
}

/**
 * The part of an npm `ws` `WebSocketServer` the runtime uses, created with `noServer: true`,
 * `clientTracking: false` and a `wsClientError` listener (so that a refused handshake leaves the
 * connection to the bridge, which sends the engine's error response on it).
 */
export interface NodeWebSocketServer {
  /** Completes the handshake on `socket` and calls `cb` with the open WebSocket, synchronously. */
  handleUpgrade(
    req: NodeRequestLike,
    socket: NodeCorkable,
    head: Uint8Array,
    cb: (ws: NodeWebSocket) => void,
  ): void;
  /** Listens to refused handshakes (`ws` then leaves the connection to the listener). */
  on(ev: "wsClientError", fn: (err: Error) => void): unknown;
  /**
   * Listens to the lines of each `101` (status line first), which `ws` emits just before it
   * writes them: lines pushed onto `lines` go out too.
   */
  on(ev: "headers", fn: (lines: string[]) => void): unknown;
  /** Stops listening to refused handshakes. */
  off(ev: "wsClientError", fn: (err: Error) => void): unknown;
  /** Stops listening to the lines of each `101`. */
  off(ev: "headers", fn: (lines: string[]) => void): unknown;
}

/** Writes a whole answer to a Node response (the bridge's, which knows Node). */
export type NodeAnswerWriter = (
  res: NodeResponseLike,
  status: number,
  headers: Headers,
  body: string | Uint8Array | null,
) => void;

/** What the handler returns once the answer was written: the bridge ignores it. */
let written: Response | undefined;

/**
 * What the Node bridge passes as the fetch handler's second argument: the Node request, and for
 * an `upgrade` event, its socket and first bytes and the `ws` server that takes them over.
 */
export class NodeServeInfo {
  /** Set once `ws` took the connection over: the bridge must then write nothing on it. */
  upgraded = false;
  /**
   * Set once the engine's answer was written through {@linkcode NodeServeInfo.writeAnswer}: the
   * bridge then ignores the `Response` the handler returns.
   */
  answered = false;

  /**
   * @param req the Node request
   * @param upgrade for an `upgrade` event: the socket, its first bytes and the `ws` server
   * @param res for a plain request: its Node response
   * @param writeAnswer for a plain request: writes a whole answer to `res`
   */
  constructor(
    readonly req: NodeRequestLike,
    readonly upgrade?: {
      readonly socket: NodeCorkable;
      readonly head: Uint8Array;
      readonly webSockets: NodeWebSocketServer;
    },
    readonly res?: NodeResponseLike,
    readonly writeAnswer?: NodeAnswerWriter,
  ) {}
}

/** Whether `info` came from the Node bridge. */
export function isNodeInfo(info: unknown): info is NodeServeInfo {
  return info instanceof NodeServeInfo;
}

/** One `ws` socket's queue and listeners. */
class NodeSocket extends QueuedSocket {
  // Frames `ws` has not yet reported written. `ws` hands a frame to the kernel at once, so its
  // own bufferedAmount is mostly 0; the official engine counts the socket unwritable until the
  // send's callback, and drops a volatile packet sent meanwhile: so does this count.
  #frames = 0;
  #written = () => {
    this.#frames--;
  };
  readonly #conn: NodeCorkable;
  #corked = false;

  // The sockets corked during this turn of the event loop, uncorked together once it ends.
  static #corkedNow: NodeSocket[] = [];
  static #uncorkAll = () => {
    const list = NodeSocket.#corkedNow;
    NodeSocket.#corkedNow = [];
    for (let i = 0; i < list.length; i++) {
      list[i].#corked = false;
      list[i].#conn.uncork();
    }
  };

  /**
   * @param conn the connection under `ws`: the frames sent in one turn of the event loop (the
   *   answers to every message one read brought) leave in one write instead of one each
   * @param corked whether `conn` is corked already (once, for this turn), which this socket then
   *   uncorks with the others
   */
  constructor(ws: NodeWebSocket, events: RawSocketEvents, conn: NodeCorkable, corked: boolean) {
    super();
    // An exception escaping a `ws` listener ends Node's process (an uncaught exception): it is
    // reported instead, as on Deno and Bun.
    this.#conn = conn;
    if (corked) this.#held();
    ws.on("message", (data, isBinary) => {
      try {
        // A plain view of ws's Buffer (no copy): the engine hands binary on as Uint8Array.
        events.onMessage(
          isBinary
            ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
            : data.toString(),
        );
      } catch (err) {
        report(err);
      }
    });
    ws.on("error", (err) => {
      try {
        events.onError(err);
      } catch (e) {
        report(e);
      }
    });
    ws.on("close", (code, reason) => {
      this.gone();
      try {
        events.onClose(code, reason.toString());
      } catch (err) {
        report(err);
      }
    });
    // deno-lint-ignore no-this-alias
    const self = this;
    this.open({
      send(data) {
        if (!self.#corked) self.#cork(conn);
        self.#frames++;
        ws.send(data, self.#written);
      },
      close: (code, reason) => ws.close(code, reason),
      terminate: () => ws.terminate(),
      // The bytes ws still holds (what maxBufferedBytes limits), and 1 while frames it handed to
      // the kernel wait for their callbacks (unwritable for volatile packets, as officially).
      get bufferedAmount() {
        return ws.bufferedAmount || (self.#frames > 0 ? 1 : 0);
      },
    });
  }

  #cork(conn: NodeCorkable): void {
    conn.cork();
    this.#held();
  }

  /** Notes that the connection is corked once, to be uncorked once this turn ends. */
  #held(): void {
    this.#corked = true;
    const now = NodeSocket.#corkedNow;
    if (now.length === 0) queueMicrotask(NodeSocket.#uncorkAll);
    now.push(this);
  }
}

/** Upgrades through the `ws` server in the info; knows only requests of the Node bridge. */
export const nodeRuntime: Runtime = {
  name: "node",
  canUpgrade(req: Request, info: unknown): boolean {
    return isNodeInfo(info) && info.upgrade !== undefined &&
      req.headers.get("upgrade")?.toLowerCase() === "websocket";
  },
  onDisconnect(_req: Request, info: unknown, fn: () => void): boolean {
    const res = isNodeInfo(info) ? info.res : undefined;
    if (!res) return false;
    // A response closes once written too; closed before it was, the client went away.
    if (res.closed) {
      if (!res.writableFinished) fn();
    } else {
      res.once("close", () => {
        if (!res.writableFinished) fn();
      });
    }
    return true;
  },
  answer(info: unknown): Answer | undefined {
    const write = isNodeInfo(info) ? info.writeAnswer : undefined;
    if (!write) return undefined;
    const node = info as NodeServeInfo;
    return (status, headers, body) => {
      node.answered = true;
      write(node.res!, status, headers, body);
      // Never read: one bodiless `Response` serves every request.
      return (written ??= new Response(null));
    };
  },
  remoteAddress(_req: Request, info: unknown): string {
    return isNodeInfo(info) ? info.req.socket.remoteAddress ?? "" : "";
  },
  upgrade(_req: Request, info: unknown, events: RawSocketEvents, headers?: Headers): Upgraded {
    const node = info as NodeServeInfo;
    const up = isNodeInfo(info) ? info.upgrade : undefined;
    if (!up) throw new Error("not an upgrade event of the Node bridge");
    let socket: NodeSocket | undefined;
    // `ws` completes a valid handshake at once, and reports an invalid one at once, leaving the
    // connection to the bridge: its reason is the refusal's cause. Corked from here, `ws`'s `101`
    // and the engine's first packet leave in one write.
    let refusal: Error | undefined;
    const refused = (err: Error) => (refusal = err);
    const conn = up.socket;
    // `ws` writes its own `101`: the engine's headers (the app's, its listeners', CORS) join its
    // lines, after them, as the official server adds them. `Headers` holds no CR or LF, and
    // gives each Set-Cookie a line of its own.
    const addLines = headers && ((lines: string[]) => {
      headers.forEach((value, name) => lines.push(`${name}: ${value}`));
    });
    conn.cork();
    up.webSockets.on("wsClientError", refused);
    if (addLines) up.webSockets.on("headers", addLines);
    try {
      up.webSockets.handleUpgrade(node.req, conn, up.head, (ws) => {
        socket = new NodeSocket(ws, events, conn, true);
      });
    } finally {
      up.webSockets.off("wsClientError", refused);
      if (addLines) up.webSockets.off("headers", addLines);
      if (!socket) conn.uncork();
    }
    if (!socket) throw refusal ?? new Error("ws refused the WebSocket handshake");
    node.upgraded = true;
    return { socket };
  },
};
