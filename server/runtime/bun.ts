/**
 * The Bun runtime: `server.upgrade(req, { data })` and the `websocket` handlers given to
 * `Bun.serve`. Bun only.
 *
 * @module
 */
import { QueuedSocket } from "./queued_socket.ts";
import type { OpenSocket } from "./queued_socket.ts";
import { report } from "./report.ts";
import type { FanOut, RawSocket, RawSocketEvents, Runtime, Upgraded } from "./types.ts";

/** The part of Bun's `Server` the fetch handler receives as its second argument. */
export interface BunServer {
  upgrade(req: Request, options: { data: BunSocketData; headers?: Headers }): boolean;
  publish?(topic: string, data: string, compress?: boolean): number;
  requestIP?(req: Request): { address: string } | null;
  timeout?(req: Request, seconds: number): void;
}

/**
 * What each Bun socket carries in `ws.data`: its queue, holding the engine's events and the
 * server it came through too (one object per connection rather than two, retained as long as it
 * is open).
 */
export class BunSocketData extends QueuedSocket {
  #ws: BunWebSocket | undefined;

  constructor(readonly events: RawSocketEvents, readonly server: BunServer) {
    super();
  }

  override open(ws: BunWebSocket): void {
    this.#ws = ws;
    super.open(ws);
  }

  override gone(): void {
    this.#ws = undefined;
    super.gone();
  }

  override close(code?: number, reason?: string): void {
    this.#ws = undefined;
    super.close(code, reason);
  }

  override terminate(code?: number, reason?: string): void {
    this.#ws = undefined;
    super.terminate(code, reason);
  }

  /** False when Bun dropped the frame: more than its `backpressureLimit` was buffered already. */
  override send(data: string | Uint8Array): boolean | void {
    const ws = this.#ws;
    // Bun's answer: bytes written, -1 when queued behind backpressure, 0 when dropped (or when
    // the frame is empty: an empty binary attachment).
    if (ws !== undefined) {
      return ws.send(data) !== 0 ||
        (typeof data === "string" ? data.length : data.byteLength) === 0;
    }
    super.send(data);
  }

  /** Bun writes a frame at once when it can: what it holds back waits for backpressure. */
  override get bufferedAmount(): number {
    return this.#ws?.getBufferedAmount() ?? super.bufferedAmount;
  }

  /** Subscribes the open socket to `topic`; false before it opened, or once closing. */
  subscribe(topic: string): boolean {
    if (this.#ws === undefined) return false;
    try {
      this.#ws.subscribe(topic);
      return true;
    } catch {
      return false; // closing: the socket gets nothing more anyway
    }
  }

  /**
   * Sends `frame` to the other subscribers of `topic`: Bun's answer (0 when it dropped the frame
   * for one of them, or reached none), or undefined when this socket cannot publish.
   */
  publish(topic: string, frame: string, compress: boolean): number | undefined {
    if (this.#ws === undefined) return undefined;
    try {
      return this.#ws.publish(topic, frame, compress);
    } catch {
      return undefined;
    }
  }

  /** Undoes {@linkcode BunSocketData.subscribe}. */
  unsubscribe(topic: string): void {
    try {
      this.#ws?.unsubscribe(topic);
    } catch {
      // closing: Bun drops its subscriptions itself
    }
  }
}

interface BunWebSocket extends OpenSocket {
  data: BunSocketData;
  send(data: string | Uint8Array): number;
  terminate(): void;
  getBufferedAmount(): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, data: string, compress?: boolean): number;
}

/** Whether `info` is Bun's server object. */
export function isBunServer(info: unknown): info is BunServer {
  return typeof (info as BunServer | undefined)?.upgrade === "function";
}

// Numbers the fan-outs of this process: each keeps its engine's topics apart from the others'
// (two engines may share one Bun server, one in the other's fallback).
let fanOuts = 0;

/**
 * Bun's topics for one engine: sockets subscribe with `ws.subscribe`, a broadcast goes out with
 * `server.publish`, or with `ws.publish` from the socket it leaves out (Bun skips the publisher).
 * Topics are per Bun server: it publishes on each server its sockets came through (usually one).
 */
class BunFanOut implements FanOut {
  readonly #prefix = `e${++fanOuts}:`;
  #servers: BunServer[] = [];

  subscribe(socket: RawSocket, topic: string): boolean {
    // Where the server cannot publish, the socket stays unsubscribed, and is written to.
    if (!(socket instanceof BunSocketData) || typeof socket.server.publish !== "function") {
      return false;
    }
    if (!socket.subscribe(this.#prefix + topic)) return false;
    if (!this.#servers.includes(socket.server)) this.#servers = [...this.#servers, socket.server];
    return true;
  }

  unsubscribe(socket: RawSocket, topic: string): void {
    if (socket instanceof BunSocketData) socket.unsubscribe(this.#prefix + topic);
  }

  publish(topic: string, frame: string, compress: boolean, except?: RawSocket): boolean {
    const t = this.#prefix + topic;
    // Bun answers 0 when it dropped the frame for a subscriber over `backpressureLimit` (and
    // when nobody got it): the caller then looks for that subscriber.
    let reached = true;
    // From the socket left out, when it can still publish; then its server is done.
    const sent = except instanceof BunSocketData ? except.publish(t, frame, compress) : undefined;
    if (sent === 0) reached = false;
    const skip = sent === undefined ? undefined : (except as BunSocketData).server;
    for (const server of this.#servers) {
      if (server === skip) continue;
      try {
        if (server.publish!(t, frame, compress) === 0) reached = false;
      } catch {
        // A stopped server: its sockets are gone with it.
        this.#servers = this.#servers.filter((s) => s !== server);
      }
    }
    return reached;
  }
}

/** Upgrades with `server.upgrade`; frames arrive through {@linkcode bunWebSocket}. */
export const bunRuntime: Runtime = {
  name: "bun",
  canUpgrade(req: Request): boolean {
    return req.headers.get("upgrade")?.toLowerCase() === "websocket";
  },
  onDisconnect(req: Request, _info: unknown, fn: () => void): boolean {
    // Bun aborts a request's signal only when its client goes away.
    const signal = req.signal;
    if (signal.aborted) fn();
    else signal.addEventListener("abort", fn, { once: true });
    return true;
  },
  remoteAddress(req: Request, info: unknown): string {
    return (info as BunServer | undefined)?.requestIP?.(req)?.address ?? "";
  },
  upgrade(req: Request, info: unknown, events: RawSocketEvents, headers?: Headers): Upgraded {
    if (!isBunServer(info)) {
      throw new TypeError(
        "the handler got no Bun server as its second argument: serve it with " +
          "Bun.serve({ ...io.handler() }), or pass (req, server) on",
      );
    }
    const socket = new BunSocketData(events, info);
    if (!info.upgrade(req, { data: socket, headers })) {
      throw new Error("Bun refused the WebSocket upgrade");
    }
    // Bun ignores the returned response once the upgrade succeeded.
    return { socket, response: new Response(null, { status: 101 }) };
  },
  fanOut(): FanOut {
    return new BunFanOut();
  },
};

/** Options for {@linkcode bunWebSocket}. */
export interface BunWebSocketOptions {
  /** Seconds without traffic before Bun closes a socket; kept above pingInterval + pingTimeout. */
  idleTimeout: number;
  /** The engine's `maxBufferedBytes` (`Infinity`: no limit). */
  maxBufferedBytes: number;
}

/** The `websocket` handlers to pass to `Bun.serve` (`io.handler()` carries them). */
export function bunWebSocket(opts: BunWebSocketOptions): Record<string, unknown> {
  const limit = opts.maxBufferedBytes;
  return {
    idleTimeout: opts.idleTimeout,
    // Engine.IO has its own heartbeat: Bun's pings would only add traffic.
    sendPings: false,
    // Past the limit (more than it buffered before a send), Bun drops what it is given for the
    // socket, frames published to a topic too, which the engine never counts per socket: it
    // tells by send's and publish's answers (0), and the engine then drops the connection as a
    // slow consumer at once, so that no gap is left in what the client receives. (Bun's default,
    // 16 MiB, dropped frames silently. Its `closeOnBackpressureLimit` would close such a socket
    // itself, without a reason and without publish's answer saying so.) 0 is no limit.
    backpressureLimit: limit === Infinity ? 0 : Math.ceil(limit),
    // An exception escaping these handlers ends Bun's process: it is reported instead.
    open(ws: BunWebSocket) {
      try {
        ws.data.open(ws);
      } catch (err) {
        report(err);
      }
    },
    message(ws: BunWebSocket, message: string | Uint8Array) {
      try {
        ws.data.events.onMessage(
          typeof message === "string"
            ? message
            : new Uint8Array(message.buffer, message.byteOffset, message.byteLength),
        );
      } catch (err) {
        report(err);
      }
    },
    close(ws: BunWebSocket, code: number, reason: string) {
      ws.data.gone();
      try {
        ws.data.events.onClose(code, reason);
      } catch (err) {
        report(err);
      }
    },
  };
}
