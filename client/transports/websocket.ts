/**
 * The WebSocket transport, on the standard `WebSocket`. Browser compatible.
 *
 * The socket is made by `client/open_websocket/`: with the `WebSocket` option's class, else the
 * runtime's, and the headers (`extraHeaders`, kept cookies) where the class takes them (Deno,
 * Bun, Node, npm `ws`); browsers cannot send them.
 *
 * @module
 */

import type { EnginePacket } from "../../parser/engine.ts";
import { encodePacket } from "../codec.ts";
import { openWebSocket } from "../open_websocket/mod.ts";
import { randomString, Transport } from "./transport.ts";

/**
 * The WebSocket transport. One packet per frame; binary as binary frames.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * // WebSocket only, no polling first:
 * io("https://example.com", { transports: ["websocket"] });
 * ```
 */
export class WS extends Transport {
  /** Always `"websocket"`. */
  readonly name = "websocket" as const;
  /** The socket, while open. */
  ws: WebSocket | null = null;

  /** @internal */
  protected doOpen(): void {
    const opts = this.opts;
    const query = this.query;
    if (opts.timestampRequests) query[opts.timestampParam] = randomString();
    if (opts.forceBase64) query.b64 = 1;
    let ws: WebSocket;
    try {
      ws = openWebSocket(opts, this.socket, this.uri("ws", query));
    } catch (err) {
      // What the constructor threw (no WebSocket in this runtime, a bad URL), as the official
      // client reports it; later, as the Engine.IO socket opens its first transport in its
      // constructor, before the Manager listens.
      return queueMicrotask(() => this.emit("error", err as Error));
    }
    this.ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => this.onOpen();
    ws.onclose = (ev) => this.onClose({ description: "websocket connection closed", context: ev });
    ws.onmessage = (ev) => this.onData(ev.data);
    ws.onerror = (ev) => this.onError("websocket error", ev);
  }

  /** @internal one frame per packet; drain once the batch is handed to the socket. */
  protected write(packets: EnginePacket[]): void {
    this.writable = false;
    const binary = !this.opts.forceBase64;
    for (const packet of packets) {
      try {
        // Typed for TypeScript 6's lib.dom, whose `send` takes ArrayBuffer-backed views only.
        this.ws!.send(encodePacket(packet, binary) as string | Uint8Array<ArrayBuffer>);
      } catch {
        // Closed under us: the close event follows.
      }
    }
    // Later, so that the Engine.IO socket empties its buffer first.
    queueMicrotask(() => {
      this.writable = true;
      this.emit("drain");
    });
  }

  /** @internal */
  protected doClose(): void {
    const ws = this.ws;
    if (ws) {
      ws.onerror = ws.onclose = ws.onmessage = null;
      ws.close();
      this.ws = null;
    }
  }
}
