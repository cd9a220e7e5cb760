/**
 * The Deno runtime: `Deno.upgradeWebSocket`, `info.remoteAddr`. Deno only.
 *
 * @module
 */
import { QueuedSocket } from "./queued_socket.ts";
import type { RawSocketEvents, Runtime, Upgraded } from "./types.ts";

interface DenoServeInfo {
  remoteAddr?: { hostname?: string };
}

/** Upgrades with `Deno.upgradeWebSocket`; Deno's own pings are off (Engine.IO has its own). */
export const denoRuntime: Runtime = {
  name: "deno",
  canUpgrade(req: Request): boolean {
    return req.headers.get("upgrade")?.toLowerCase() === "websocket";
  },
  remoteAddress(_req: Request, info: unknown): string {
    return (info as DenoServeInfo | undefined)?.remoteAddr?.hostname ?? "";
  },
  upgrade(req: Request, _info: unknown, events: RawSocketEvents): Upgraded {
    const { socket: ws, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    ws.binaryType = "arraybuffer";
    const socket = new QueuedSocket();
    ws.onopen = () => socket.open(ws);
    ws.onmessage = (e) => {
      const d = e.data;
      events.onMessage(typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer));
    };
    ws.onerror = (e) => events.onError((e as ErrorEvent).error ?? e);
    ws.onclose = (e) => {
      socket.gone();
      events.onClose(e.code, e.reason);
    };
    return { socket, response };
  },
};
