/**
 * The Deno runtime: `Deno.upgradeWebSocket`, `info.remoteAddr`. Deno only.
 *
 * @module
 */
import { QueuedSocket } from "./queued_socket.ts";
import { report } from "./report.ts";
import type { RawSocketEvents, Runtime, Upgraded } from "./types.ts";

interface DenoServeInfo {
  remoteAddr?: { hostname?: string };
}

/** The part of Deno's upgraded `WebSocket` the runtime uses (it sends any byte view). */
interface DenoWebSocket extends EventTarget {
  binaryType: BinaryType;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

// The part of `Deno` the runtime uses, declared here so that the package's types check without
// Deno's (on Node and Bun, with TypeScript and `@types/node` or `@types/bun`). Looked up when
// called, as the global is: only Deno calls `upgrade`.
declare const Deno: {
  upgradeWebSocket(
    req: Request,
    options: { idleTimeout: number },
  ): { socket: DenoWebSocket; response: Response };
};

/**
 * One Deno socket's queue and listener in one object. It listens with `addEventListener` and
 * `handleEvent` rather than `onmessage` & co: each `on*` property costs Deno a wrapper closure
 * and a per-socket handler map, retained by every idle connection, and a call per frame.
 */
class DenoSocket extends QueuedSocket {
  constructor(readonly ws: DenoWebSocket, readonly events: RawSocketEvents) {
    super();
  }

  handleEvent(e: Event): void {
    // An exception escaping a WebSocket listener ends Deno's process: it is reported instead.
    try {
      this.#handle(e);
    } catch (err) {
      report(err);
    }
  }

  #handle(e: Event): void {
    switch (e.type) {
      case "message": {
        const d = (e as MessageEvent).data;
        this.events.onMessage(typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer));
        break;
      }
      case "open":
        // Deno keeps a listener and its options per socket and type: drop one that is done.
        this.ws.removeEventListener("open", this);
        this.open(this.ws);
        break;
      case "error":
        this.events.onError((e as ErrorEvent).error ?? e);
        break;
      case "close":
        this.gone();
        this.events.onClose((e as CloseEvent).code, (e as CloseEvent).reason);
        break;
    }
  }
}

/** Upgrades with `Deno.upgradeWebSocket`; Deno's own pings are off (Engine.IO has its own). */
export const denoRuntime: Runtime = {
  name: "deno",
  canUpgrade(req: Request): boolean {
    return req.headers.get("upgrade")?.toLowerCase() === "websocket";
  },
  // No `onDisconnect`: Deno aborts `req.signal` after successful responses too, and watching it
  // costs a poll about as much as a stream (and a warning), so polls watch their stream instead:
  // once 50-100 ms old, as most are answered sooner, and a stream costs about 40 µs.
  pollGrace: 50,
  remoteAddress(_req: Request, info: unknown): string {
    return (info as DenoServeInfo | undefined)?.remoteAddr?.hostname ?? "";
  },
  upgrade(req: Request, _info: unknown, events: RawSocketEvents, headers?: Headers): Upgraded {
    const { socket: ws, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    // Deno sends the headers of the 101 response it returns.
    headers?.forEach((value, name) => response.headers.append(name, value));
    ws.binaryType = "arraybuffer";
    const socket = new DenoSocket(ws, events);
    ws.addEventListener("open", socket);
    ws.addEventListener("message", socket);
    ws.addEventListener("error", socket);
    ws.addEventListener("close", socket);
    return { socket, response };
  },
};
