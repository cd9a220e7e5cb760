/**
 * The WebSocket transport, on the standard `WebSocket`. Browser compatible.
 *
 * Headers (`extraHeaders`, kept cookies) go out where the runtime's `WebSocket` takes them (Deno,
 * Bun, Node's undici); browsers cannot send them.
 *
 * @module
 */

import type { EnginePacket } from "../../parser/engine.ts";
import { encodePacket } from "../codec.ts";
import { cookieJars } from "../cookies/mod.ts";
import { unrefs } from "../unref/mod.ts";
import { randomString, requestHeaders, Transport } from "./transport.ts";

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
    const uri = this.uri("ws", query);
    const protocols = opts.protocols;
    const cookie = cookieJars ? this.socket.cookies?.header() : "";
    // autoUnref's WebSocket where there is one (never in the browser bundles).
    const Ws = (unrefs && this.socket._unref?.WebSocket) || WebSocket;
    let ws: WebSocket;
    try {
      ws = opts.extraHeaders || cookie
        ? withHeaders(Ws, uri, protocols, requestHeaders(opts, cookie))
        : new Ws(uri, protocols);
    } catch (err) {
      return this.onError("websocket error", err);
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

// Deno, Bun and Node take headers in an options object; browsers refuse one (SyntaxError).
function withHeaders(
  Ws: typeof WebSocket,
  uri: string,
  protocols: string | string[] | undefined,
  headers: Headers,
): WebSocket {
  try {
    return new Ws(uri, { protocols, headers } as unknown as string);
  } catch {
    return new Ws(uri, protocols);
  }
}
