/**
 * The runtime boundary: how a `Request` becomes a server-side WebSocket. Browser compatible
 * (types only).
 *
 * Each runtime module maps its own socket to {@linkcode RawSocket}, and pushes frames to the
 * {@linkcode RawSocketEvents} the engine gives it. The engine never waits for an `open` event:
 * on Workers there is none, and with hibernation frames arrive as method calls.
 *
 * @module
 */

/** A server-side WebSocket as the engine sees it. */
export interface RawSocket {
  /** Sends one text or binary frame; frames sent before the runtime reports the socket open are queued. */
  send(data: string | Uint8Array): void;
  /** Closes the socket (idempotent). */
  close(code?: number, reason?: string): void;
  /** Bytes queued by the runtime and not yet sent, 0 when the runtime cannot tell. */
  readonly bufferedAmount: number;
  /**
   * Where the runtime fans out natively (Bun): subscribes the open socket to `topic` and
   * returns true; false when it cannot (not open yet, or closed).
   */
  subscribe?(topic: string): boolean;
  /** Undoes {@linkcode RawSocket.subscribe}. */
  unsubscribe?(topic: string): void;
  /** Sends `frame` to every socket subscribed to `topic` but this one; false if it cannot. */
  publish?(topic: string, frame: string, compress: boolean): boolean;
}

/** A runtime's native fan-out: one call sends a frame to every socket subscribed to a topic. */
export interface Publisher {
  /** Sends `frame` to every socket subscribed to `topic`. */
  publish(topic: string, frame: string, compress: boolean): void;
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
   * answered the handshake on the connection itself (Node, where `ws` writes the `101`).
   */
  response?: Response;
}

/** How one runtime serves WebSockets and tells who is calling. */
export interface Runtime {
  /** A short name, for logs and tests. */
  readonly name: string;
  /** Whether this runtime can upgrade this request (it carries `Upgrade: websocket`). */
  canUpgrade(req: Request, info: unknown): boolean;
  /** The caller's IP address, or `""` when the runtime does not say. Read before any upgrade. */
  remoteAddress(req: Request, info: unknown): string;
  /**
   * The request's signal when it aborts only if the client goes away, so a held poll may listen
   * to it; undefined where it also aborts after a successful response (Deno).
   */
  disconnectSignal(req: Request): AbortSignal | undefined;
  /**
   * Upgrades the request; `events` receive the socket's frames from now on. `headers` go out on
   * the upgrade's response (`101 Switching Protocols`).
   */
  upgrade(req: Request, info: unknown, events: RawSocketEvents, headers?: Headers): Upgraded;
  /** The runtime's native fan-out for the server behind `info`, where there is one. */
  publisher?(info: unknown): Publisher | undefined;
}
