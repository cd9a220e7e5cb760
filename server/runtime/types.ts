/**
 * The runtime boundary: how a `Request` becomes a server-side WebSocket, and where a runtime
 * fans out natively. Browser compatible (types only).
 *
 * An engine has one {@linkcode Runtime}, chosen when it is constructed (the `runtime` option,
 * else detected once: see `mod.ts`). Each runtime module maps its own socket to
 * {@linkcode RawSocket}, and pushes frames to the {@linkcode RawSocketEvents} the engine gives it.
 * The engine never waits for an `open` event: on Workers there is none, and with hibernation
 * frames arrive as method calls.
 *
 * @module
 */

/** A server-side WebSocket as the engine sees it. */
export interface RawSocket {
  /**
   * Sends one text or binary frame; frames sent before the runtime reports the socket open are
   * queued. Returns false where the runtime refused the frame because more than its limit is
   * buffered for the socket already (Bun past `backpressureLimit`, which the engine sets to
   * `maxBufferedBytes`): the engine then drops the connection as a slow consumer.
   */
  send(data: string | Uint8Array): boolean | void;
  /** Closes the socket (idempotent). */
  close(code?: number, reason?: string): void;
  /**
   * Drops the connection at once, with no closing handshake, freeing what is buffered for it: for
   * a peer that stopped reading, whose close frame would wait behind everything queued. Where
   * the runtime has no such call (Deno's `WebSocket`), it closes with `code` and `reason`;
   * where this is missing (workerd), the engine calls `close`.
   */
  terminate?(code?: number, reason?: string): void;
  /**
   * Bytes the runtime holds for the socket and has not written yet (exactly where it tells:
   * Deno's `bufferedAmount`, Bun's `getBufferedAmount()`, npm ws's `bufferedAmount`), 0 when it
   * cannot tell (workerd). Read for volatile packets (nothing may be ahead of one) and, once
   * what was sent since it was last read could pass `maxBufferedBytes`, for that limit.
   */
  readonly bufferedAmount: number;
}

/** What the runtime pushes to the engine. */
export interface RawSocketEvents {
  /** One frame arrived. */
  onMessage(data: string | Uint8Array): void;
  /** The socket closed, by either side; called once. */
  onClose(code: number, reason: string): void;
  /** The socket failed; `onClose` follows. */
  onError(error: unknown): void;
}

/** A runtime's upgrade: the socket, and the response to hand back to the runtime's server. */
export interface Upgraded {
  /** The server-side socket. */
  socket: RawSocket;
  /**
   * What the fetch handler returns (`101` on Deno; ignored by Bun); undefined where the runtime
   * answered the handshake on the connection itself (Node, where `ws` writes the `101`) or cannot
   * build a `101` (workerd hands back its own).
   */
  response?: Response;
}

/**
 * A runtime's native fan-out (Bun's WebSocket topics): one call sends a frame to every socket
 * subscribed to a topic. One per engine ({@linkcode Runtime.fanOut}); topics are the caller's
 * strings, each fan-out keeps them apart from those of other engines. The Socket.IO layer decides
 * which sockets subscribe to what (`server/fanout.ts`).
 */
export interface FanOut {
  /**
   * Subscribes `socket` (one of this runtime's) to `topic`; false when it cannot (not open yet,
   * or closing), and then it is not subscribed.
   */
  subscribe(socket: RawSocket, topic: string): boolean;
  /** Undoes {@linkcode FanOut.subscribe}; nothing when it was not subscribed. */
  unsubscribe(socket: RawSocket, topic: string): void;
  /**
   * Sends the text `frame` to every socket subscribed to `topic` but `except`, in one call;
   * `compress` allows per-message compression where the runtime has it on. Returns false when
   * the frame may have missed a subscriber: the runtime dropped it for a socket with more than
   * its limit buffered (Bun past `backpressureLimit`), or nobody got it (Bun does not tell these
   * apart). The caller then looks for sockets over the limit, and drops them.
   */
  publish(topic: string, frame: string, compress: boolean, except?: RawSocket): boolean;
}

/**
 * Answers one request with a body the engine has whole (the polling transport's answers): builds
 * the `Response` the fetch handler returns, or, where the runtime's server takes such answers
 * directly ({@linkcode Runtime.answer}), writes it there and returns a placeholder that server
 * ignores. `headers` are final: `headers` listeners and middleware have had their say.
 */
export type Answer = (
  status: number,
  headers: Headers,
  body: string | Uint8Array | null,
) => Response;

/**
 * How one runtime serves WebSockets and tells who is calling. `info` is the fetch handler's
 * second argument as the runtime's server passes it (Bun's server, Deno's connection info, the
 * Node bridge's `NodeServeInfo`).
 */
export interface Runtime {
  /** A short name, for logs and errors ("deno", "bun", "node"). */
  readonly name: string;
  /** Whether this runtime can upgrade this request (it carries `Upgrade: websocket`). */
  canUpgrade(req: Request, info: unknown): boolean;
  /** The caller's IP address, or `""` when the runtime does not say. Read before any upgrade. */
  remoteAddress(req: Request, info: unknown): string;
  /**
   * Calls `fn` once if the client goes away before the answer to `req` is written (at once when
   * it is gone already), so that a held poll is let go; returns whether it will. Undefined, or
   * false, where the runtime cannot tell that from the end of an answer (Deno aborts
   * `req.signal` after successful answers too) or tells it another way (Workers cancel the
   * answer's body stream): a held poll then answers with a stream and watches it. A callback
   * rather than an `AbortSignal`: on Node a signal and its listener cost more than the rest of
   * holding a poll.
   */
  onDisconnect?(req: Request, info: unknown, fn: () => void): boolean;
  /**
   * Where there is no `onDisconnect`: milliseconds a held poll waits unwatched, answered with a
   * plain deferred body, before it is answered with a stream, which tells when the client goes
   * away (its grace lasts one to two such periods). Undefined streams every held poll at once.
   * For runtimes where a stream costs more than the rest of a poll (Deno: about 40 µs a poll),
   * most polls being answered within milliseconds.
   */
  readonly pollGrace?: number;
  /**
   * Upgrades the request; `events` receive the socket's frames from now on. `headers` go out on
   * the upgrade's response (`101 Switching Protocols`).
   *
   * @throws when the runtime refuses the upgrade (a malformed handshake): the engine answers 400
   * and reports the cause in `connection_error`
   */
  upgrade(req: Request, info: unknown, events: RawSocketEvents, headers?: Headers): Upgraded;
  /**
   * How to answer this request with a whole body, where the runtime's server can write one
   * without a `Response` (the Node bridge, which writes it with `res.end(body)`: making a
   * `Response` and reading its body stream back cost most of a poll there). Undefined answers
   * with a `Response`, as for any caller of the handler other than that server.
   */
  answer?(info: unknown): Answer | undefined;
  /** Creates the native fan-out of one engine, where the runtime has one (Bun). */
  fanOut?(): FanOut;
}
