/**
 * A Socket.IO server on a free port, driven by hand-written packets over raw long-polling and
 * raw WebSocket, for tests that read the wire byte for byte.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Server, type ServerOptions } from "../../mod.ts";
import { WsClient } from "./raw.ts";
import { serve, type TestServer } from "./serve.ts";

/** The server, its address, and the raw WebSockets a test opened (closed with it). */
export class RawServer {
  readonly io: Server;
  readonly http: TestServer;
  /** The Socket.IO path, for raw polling requests. */
  readonly base: string;
  readonly #ws: WsClient[] = [];

  constructor(opts?: Partial<ServerOptions>) {
    this.io = new Server(opts);
    this.http = serve(this.io.handler());
    this.base = `${this.http.origin}/socket.io/`;
  }

  /** A raw Engine.IO v4 WebSocket, its open packet read. */
  async ws(): Promise<WsClient> {
    const ws = new WsClient(
      `ws://127.0.0.1:${this.http.port}/socket.io/?EIO=4&transport=websocket`,
    );
    this.#ws.push(ws);
    assert.match(await ws.next() as string, /^0\{/);
    return ws;
  }

  async close(): Promise<void> {
    await Promise.all(this.#ws.map((ws) => ws.close()));
    await this.io.close();
    await this.http.close();
  }
}

/** A test that gets a fresh `make()` harness and closes it after, whatever happens. */
export function rawTest<H extends RawServer>(
  name: string,
  make: () => H,
  fn: (h: H) => Promise<void>,
): void {
  Deno.test(name, async () => {
    const h = make();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  });
}
