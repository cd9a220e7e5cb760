/**
 * The Bun runtime: `server.upgrade(req, { data })` and the `websocket` handlers given to
 * `Bun.serve`. Bun only.
 *
 * @module
 */
import { QueuedSocket } from "./queued_socket.ts";
import type { OpenSocket } from "./queued_socket.ts";
import { report } from "./report.ts";
import type { Publisher, RawSocketEvents, Runtime, Upgraded } from "./types.ts";

/** The part of Bun's `Server` the fetch handler receives as its second argument. */
export interface BunServer {
  upgrade(req: Request, options: { data: BunSocketData; headers?: Headers }): boolean;
  publish?(topic: string, data: string, compress?: boolean): number;
  requestIP?(req: Request): { address: string } | null;
  timeout?(req: Request, seconds: number): void;
}

/**
 * What each Bun socket carries in `ws.data`: its queue, holding the engine's events too (one
 * object per connection rather than two, retained as long as it is open).
 */
export class BunSocketData extends QueuedSocket {
  #ws: BunWebSocket | undefined;

  constructor(readonly events: RawSocketEvents) {
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

  /** Bun writes a frame at once when it can: what it holds back waits for backpressure. */
  override get bufferedAmount(): number {
    return this.#ws?.getBufferedAmount() ?? super.bufferedAmount;
  }

  subscribe(topic: string): boolean {
    if (this.#ws === undefined) return false;
    try {
      this.#ws.subscribe(topic);
      return true;
    } catch {
      return false; // closing: the socket gets nothing more anyway
    }
  }

  publish(topic: string, frame: string, compress: boolean): boolean {
    if (this.#ws === undefined) return false;
    try {
      this.#ws.publish(topic, frame, compress);
      return true;
    } catch {
      return false;
    }
  }

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
  getBufferedAmount(): number;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, data: string, compress?: boolean): number;
}

/** Whether `info` is Bun's server object. */
export function isBunServer(info: unknown): info is BunServer {
  return typeof (info as BunServer | undefined)?.upgrade === "function";
}

/** Upgrades with `server.upgrade`; frames arrive through {@linkcode bunWebSocket}. */
export const bunRuntime: Runtime = {
  name: "bun",
  canUpgrade(req: Request): boolean {
    return req.headers.get("upgrade")?.toLowerCase() === "websocket";
  },
  disconnectSignal(req: Request): AbortSignal {
    return req.signal;
  },
  remoteAddress(req: Request, info: unknown): string {
    return (info as BunServer).requestIP?.(req)?.address ?? "";
  },
  upgrade(req: Request, info: unknown, events: RawSocketEvents, headers?: Headers): Upgraded {
    const socket = new BunSocketData(events);
    if (!(info as BunServer).upgrade(req, { data: socket, headers })) {
      throw new Error("Bun refused the WebSocket upgrade");
    }
    // Bun ignores the returned response once the upgrade succeeded.
    return { socket, response: new Response(null, { status: 101 }) };
  },
  publisher(info: unknown): Publisher | undefined {
    const server = info as BunServer;
    if (typeof server.publish !== "function") return undefined;
    return { publish: (topic, frame, compress) => void server.publish!(topic, frame, compress) };
  },
};

/** Options for {@linkcode bunWebSocket}. */
export interface BunWebSocketOptions {
  /** Seconds without traffic before Bun closes a socket; kept above pingInterval + pingTimeout. */
  idleTimeout: number;
}

/** The `websocket` handlers to pass to `Bun.serve` (`io.handler()` carries them). */
export function bunWebSocket(opts: BunWebSocketOptions): Record<string, unknown> {
  return {
    idleTimeout: opts.idleTimeout,
    // Engine.IO has its own heartbeat: Bun's pings would only add traffic.
    sendPings: false,
    open(ws: BunWebSocket) {
      ws.data.open(ws);
    },
    // An exception escaping these handlers ends Bun's process: it is reported instead.
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
