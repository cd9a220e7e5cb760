/**
 * HTTP long-polling on `fetch`: a GET waits for the server's packets, a POST carries ours.
 * Browser compatible.
 *
 * Every response body is read or cancelled, so no request is left holding a connection.
 *
 * @module
 */

import type { EnginePacket } from "../../parser/engine.ts";
import { decodePayload, encodePayload } from "../codec.ts";
import { cookieJars } from "../cookies/mod.ts";
import { uncaught } from "../uncaught.ts";
import { unrefs } from "../unref/mod.ts";
import { randomString, requestHeaders, Transport } from "./transport.ts";

/**
 * The polling transport. At most one GET and one POST are in flight at a time.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * // Polling only, with a header on every request (where the runtime allows it):
 * io("https://example.com", { transports: ["polling"], extraHeaders: { "x-token": "abc" } });
 * ```
 */
export class Polling extends Transport {
  /** Always `"polling"`. */
  readonly name = "polling" as const;
  #polling = false;

  /** @internal */
  protected doOpen(): void {
    this.#poll();
  }

  /** @internal */
  protected doClose(): void {
    // The pending GET ends when the server answers the close packet.
    const close = () => this.write([{ type: "close" }]);
    if (this.readyState === "open") close();
    else this.once("open", close); // still handshaking: close right after it
  }

  /**
   * Stops polling once the GET and POST in flight are done (before an upgrade).
   *
   * @param onPause called once paused
   */
  override pause(onPause: () => void): void {
    this.readyState = "pausing";
    let total = 0;
    const done = () => {
      if (--total <= 0) {
        this.readyState = "paused";
        onPause();
      }
    };
    if (this.#polling) {
      total++;
      this.once("pollComplete", done);
    }
    if (!this.writable) {
      total++;
      this.once("drain", done);
    }
    if (!total) done();
  }

  #poll(): void {
    this.#polling = true;
    // What listeners throw on the way escapes as uncaught, not as an unhandled rejection.
    this.#request("fetch read error").then((data) => data !== undefined && this.#onPayload(data))
      .catch(uncaught);
    this.emit("poll");
  }

  #onPayload(data: string): void {
    const packets = decodePayload(data, this.socket.binaryType);
    if (!packets) return this.onPacket(packets);
    for (const packet of packets) {
      // The first answer holds the open packet: the transport is up.
      if (this.readyState === "opening" && packet.type === "open") this.onOpen();
      if (packet.type === "close") {
        return this.onClose({ description: "transport closed by the server" });
      }
      this.onPacket(packet);
    }
    if (this.readyState !== "closed") {
      this.#polling = false;
      this.emit("pollComplete");
      if (this.readyState === "open") this.#poll();
    }
  }

  /** @internal sends packets as one POST. */
  protected write(packets: EnginePacket[]): void {
    this.writable = false;
    this.#request("fetch write error", encodePayload(packets)).then((data) => {
      if (data === undefined) return;
      this.writable = true;
      this.emit("drain");
    }).catch(uncaught);
  }

  // One request, its body read to the end (so that the connection is free again); undefined
  // once the failure is reported.
  async #request(reason: string, body?: string): Promise<string | undefined> {
    let res: Response;
    try {
      res = await this.#fetch(body);
      if (res.ok) return await res.text();
    } catch (err) {
      this.onError(reason, err);
      return;
    }
    res.body?.cancel().catch(() => {});
    // A server that admits no more handshakes for now (503, or 429 from a rate-limiting proxy)
    // says for how long, in seconds.
    const wait = +res.headers.get("retry-after")! * 1e3 || 0;
    this.onError(wait ? "server busy" : reason, res.status, res, wait);
  }

  #fetch(body?: string): Promise<Response> {
    const query = this.query;
    if (this.opts.timestampRequests !== false) query[this.opts.timestampParam] = randomString();
    // Outside browsers nobody keeps the cookies the server sets (sticky sessions): the jar does.
    const cookies = cookieJars ? this.socket.cookies : undefined;
    const headers = requestHeaders(this.opts, cookies?.header());
    if (body !== undefined) headers.set("content-type", "text/plain;charset=UTF-8");
    const res = ((unrefs && this.socket._unref?.fetch) || fetch)(this.uri("http", query), {
      method: body === undefined ? "GET" : "POST",
      body,
      headers,
      // Unset, fetch sends same-origin cookies, as XHR (the official browser transport) does.
      credentials: this.opts.withCredentials ? "include" : undefined,
    });
    return cookies ? res.then((res) => (cookies.keep(res), res)) : res;
  }
}
