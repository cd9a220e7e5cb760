/**
 * A listener of the client that throws: the exception escapes as an uncaught error (an `error`
 * event on `globalThis`, as from the official client's XHR handler), never as an unhandled
 * promise rejection, and the connection goes on: the packets after it arrive, polling goes on,
 * sending works. Over polling and WebSocket, on standard and `autoUnref` connections.
 */
import assert from "node:assert/strict";
import { Engine, io } from "../client/mod.ts";
import { Server } from "../mod.ts";
import { Server as EngineServer } from "../server/engine/mod.ts";
import { once, track } from "./fixtures/client_env.ts";

/** What escaped while `run` ran: uncaught errors and unhandled rejections, both cancelled. */
async function escapes(run: () => Promise<void>) {
  const errors: unknown[] = [];
  const rejections: unknown[] = [];
  const onError = (ev: ErrorEvent) => {
    ev.preventDefault();
    errors.push(ev.error);
  };
  const onRejection = (ev: PromiseRejectionEvent) => {
    ev.preventDefault();
    rejections.push(ev.reason);
  };
  addEventListener("error", onError);
  addEventListener("unhandledrejection", onRejection);
  try {
    await run();
    // An error reported from a microtask or a timer of its own: give it a turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    removeEventListener("error", onError);
    removeEventListener("unhandledrejection", onRejection);
  }
  return { errors, rejections };
}

const CASES = [
  { name: "polling", transports: ["polling" as const], autoUnref: false },
  { name: "websocket", transports: ["websocket" as const], autoUnref: false },
  { name: "polling, autoUnref", transports: ["polling" as const], autoUnref: true },
  { name: "websocket, autoUnref", transports: ["websocket" as const], autoUnref: true },
];

Deno.test("client Engine: a message listener that throws is an uncaught error; the connection goes on", async (t) => {
  for (const { name, transports, autoUnref } of CASES) {
    await t.step(name, async () => {
      const tracker = track();
      const engine = new EngineServer();
      const closed = Promise.withResolvers<void>();
      engine.on("connection", (conn) => {
        conn.on("close", () => closed.resolve());
        conn.on("message", (data) => {
          // Two messages at once: the second may share the first one's poll response.
          if (data === "burst") conn.send("boom").send("next");
          else conn.send(data);
        });
      });
      const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, engine.handler());
      const client = new Engine(`http://127.0.0.1:${http.addr.port}`, { transports, autoUnref });
      const got: unknown[] = [];
      client.on("message", (data) => {
        got.push(data);
        if (data === "boom") throw new Error("boom from a listener");
      });
      try {
        const { errors, rejections } = await escapes(async () => {
          await once(client, "open");
          client.send("burst");
          while (!got.includes("next")) await once(client, "message");
          client.send("still there");
          while (!got.includes("still there")) await once(client, "message");
        });
        assert.deepEqual(got, ["boom", "next", "still there"]);
        assert.deepEqual(rejections, []);
        assert.deepEqual(errors.map((e) => (e as Error).message), ["boom from a listener"]);
        assert.equal(client.readyState, "open");
        assert.equal(client.transport.name, transports[0]);
      } finally {
        client.close();
        await closed.promise;
        await tracker.drained();
        tracker.restore();
        await engine.close();
        await http.shutdown();
      }
    });
  }
});

Deno.test("client Socket: an event listener that throws is an uncaught error; the connection goes on", async (t) => {
  for (const { name, transports, autoUnref } of CASES) {
    await t.step(name, async () => {
      const tracker = track();
      const server = new Server();
      const closed = Promise.withResolvers<void>();
      server.on("connection", (socket) => {
        socket.on("disconnect", () => closed.resolve());
        socket.on("burst", () => {
          socket.emit("boom");
          socket.emit("next");
        });
        socket.on("echo", (value, ack) => ack(value));
      });
      const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.handler());
      const socket = io(`http://127.0.0.1:${http.addr.port}`, {
        forceNew: true,
        transports,
        autoUnref,
      });
      socket.on("boom", () => {
        throw new Error("boom from a listener");
      });
      try {
        const { errors, rejections } = await escapes(async () => {
          await once(socket, "connect");
          const next = once(socket, "next");
          socket.emit("burst");
          await next;
          assert.equal(await socket.timeout(10_000).emitWithAck("echo", 1), 1);
        });
        assert.deepEqual(rejections, []);
        assert.deepEqual(errors.map((e) => (e as Error).message), ["boom from a listener"]);
        assert.ok(socket.connected);
      } finally {
        socket.disconnect();
        await closed.promise;
        await tracker.drained();
        tracker.restore();
        await server.close();
        await http.shutdown();
      }
    });
  }
});
