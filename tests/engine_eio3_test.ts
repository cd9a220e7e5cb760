/**
 * Engine.IO v3 (`allowEIO3`): the official v3 client, npm `engine.io-client@3.5.6`, over polling
 * (binary and base64 payloads), WebSocket, and the upgrade between them.
 */
import assert from "node:assert/strict";
import eioc from "engine.io-client-v3";
import { Server } from "../server/engine/mod.ts";
import type { EngineSocket } from "../server/engine/mod.ts";
import { serve } from "./helpers/serve.ts";

interface V3Client {
  on(ev: string, fn: (...args: unknown[]) => void): void;
  once(ev: string, fn: (...args: unknown[]) => void): void;
  send(data: unknown): void;
  close(): void;
  transport: { name: string };
}

const cases: [string, Record<string, unknown>][] = [
  ["polling, binary payloads", { transports: ["polling"] }],
  ["polling, base64 payloads", { transports: ["polling"], forceBase64: true }],
  ["websocket", { transports: ["websocket"] }],
  ["polling then upgrade", { transports: ["polling", "websocket"] }],
];

for (const [name, opts] of cases) {
  Deno.test(`EIO3 ${name}: text and binary echo`, async () => {
    const engine = new Server({ allowEIO3: true, pingInterval: 300, pingTimeout: 200 });
    const http = serve(engine.handler());
    let serverSocket: EngineSocket | undefined;
    engine.on("connection", (socket) => {
      serverSocket = socket;
      socket.on("message", (data) => socket.send(data));
    });
    const client = eioc(http.origin, { path: "/engine.io", ...opts }) as unknown as V3Client;
    try {
      const messages: unknown[] = [];
      const got = (n: number) =>
        new Promise<void>((resolve) => {
          const check = () => (messages.length >= n ? resolve() : setTimeout(check, 10));
          check();
        });
      client.on("message", (m) => messages.push(m));
      await new Promise<void>((resolve, reject) => {
        client.once("open", () => resolve());
        client.once("error", (e) => reject(e));
      });
      if ((opts.transports as string[]).length === 2 && client.transport.name !== "websocket") {
        await new Promise<void>((resolve) => client.once("upgrade", () => resolve()));
      }
      assert.equal(serverSocket?.protocol, 3);
      client.send("héllo €");
      client.send(new Uint8Array([1, 2, 3, 250]));
      await got(2);
      assert.equal(messages[0], "héllo €");
      const bytes = new Uint8Array(messages[1] as ArrayBuffer);
      assert.deepEqual([...bytes], [1, 2, 3, 250]);
      // A v3 client pings the server: wait past one interval, the session must still be open.
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(serverSocket?.readyState, "open");
    } finally {
      const closed = new Promise((r) => client.once("close", r));
      client.close();
      await closed;
      // The v3 client's XHR reports its last request on a zero timer after close: let it run.
      await new Promise((r) => setTimeout(r, 50));
      await engine.close();
      await http.close();
    }
  });
}
