/** The client's URL resolution, and its typed events (checked at compile time). */
import assert from "node:assert/strict";
import { url } from "../client/url.ts";
import { Engine, io, Manager, type Socket } from "../client/mod.ts";
import defaultIo, { connect } from "../client/mod.ts";
import { Server as EngineServer } from "../server/engine/mod.ts";
import { once, track } from "./fixtures/client_env.ts";

const loc = { protocol: "https:", host: "example.com:8443" };

Deno.test("client url: absolute URLs, default ports, manager ids", () => {
  const u = url("http://localhost/chat?token=abc&x", "/socket.io");
  assert.equal(u.source, "http://localhost/chat?token=abc&x");
  assert.equal(u.protocol, "http");
  assert.equal(u.host, "localhost");
  assert.equal(u.port, "80");
  assert.equal(u.path, "/chat");
  assert.equal(u.query, "token=abc&x");
  assert.deepEqual(u.queryKey, { token: "abc", x: "" });
  assert.equal(u.id, "http://localhost:80/socket.io");
  assert.equal(url("http://localhost:80", "/socket.io").id, u.id);
  assert.equal(url("wss://h.io", "/p").id, "wss://h.io:443/p");
  assert.equal(url("https://h.io:3000/").path, "/");
  assert.equal(url("https://h.io:3000").path, "/");
});

Deno.test("client url: IPv6 hosts keep their brackets only in the id", () => {
  const u = url("http://[::1]:3000/admin", "/socket.io");
  assert.equal(u.host, "::1");
  assert.equal(u.port, "3000");
  assert.equal(u.id, "http://[::1]:3000/socket.io");
});

/** An Engine.IO echo server on the IPv6 loopback, or undefined where the machine has none. */
function ipv6Server() {
  const engine = new EngineServer();
  engine.on("connection", (conn) => conn.on("message", (data) => conn.send(data)));
  try {
    const http = Deno.serve({ hostname: "::1", port: 0, onListen() {} }, engine.handler());
    return { engine, http };
  } catch {
    return undefined;
  }
}

Deno.test("client Engine: an IPv6 host without brackets, as the official client takes it", async (t) => {
  // Brackets or none, a host or a URL: the host name is the address.
  for (const host of ["::1", "[::1]"]) {
    const engine = new Engine({ host, port: 9, transports: [] });
    assert.equal(engine.opts.hostname, "::1");
    assert.equal(engine.opts.port, "9");
  }
  assert.equal(new Engine("http://::1", { transports: [] }).opts.hostname, "::1");
  assert.equal(url("http://::1/admin").host, "::1");
  assert.equal(url("http://::1/admin").path, "/admin");
  assert.equal(url("::1", "/socket.io").id, "https://[::1]:443/socket.io");
  // A name with one colon is a host and a port.
  assert.equal(url("http://abc:3000").host, "abc");
  // (Engines without a transport report "No transports available" from a timer: let it run.)
  await new Promise((resolve) => setTimeout(resolve, 0));

  const server = ipv6Server();
  if (!server) return console.log("no IPv6 loopback here: connection not tried");
  try {
    for (const transports of [["polling" as const], ["websocket" as const]]) {
      await t.step(`connects to ::1 over ${transports[0]}`, async () => {
        const tracker = track();
        const client = new Engine({ host: "::1", port: server.http.addr.port, transports });
        try {
          await once(client, "open");
          client.send("over IPv6");
          const [data] = await once(client, "message");
          assert.equal(data, "over IPv6");
        } finally {
          client.close();
          await tracker.drained();
          tracker.restore();
        }
      });
    }
  } finally {
    await server.engine.close();
    await server.http.shutdown();
  }
});

Deno.test("client url: relative to location, or https without one", () => {
  assert.equal(url(undefined, "", loc).source, "https://example.com:8443");
  assert.equal(url("/admin", "", loc).source, "https://example.com:8443/admin");
  assert.equal(url("//other.io/x", "", loc).source, "https://other.io/x");
  assert.equal(url("other.io:81/y", "", loc).source, "https://other.io:81/y");
  assert.equal(url("other.io", "", undefined).source, "https://other.io");
  assert.equal(url("/ns", "", { protocol: "http:", host: "h" }).id, "http://h:80");
});

Deno.test("client url: the namespace is the decoded path", () => {
  assert.equal(url("http://h/caf%C3%A9").path, "/café");
});

Deno.test("client exports: io, connect, default, io.Manager, io.Socket", () => {
  assert.equal(defaultIo, io);
  assert.equal(connect, io);
  assert.equal(io.connect, io);
  assert.equal(io.io, io);
  assert.equal(io.Manager, Manager);
  const socket = io("http://127.0.0.1:9", { autoConnect: false, forceNew: true });
  assert.ok(socket instanceof io.Socket);
  assert.equal(socket.active, false);
});

// Typed events, as with the official client: these only need to compile.
interface ServerToClientEvents {
  news: (headline: string, at: number) => void;
  question: (q: number, answer: (a: number) => void) => void;
}
interface ClientToServerEvents {
  hello: (name: string) => void;
  ask: (q: number, ack: (answer: number) => void) => void;
}

// Never called: the body only has to type-check.
function _typed(socket: Socket<ServerToClientEvents, ClientToServerEvents>): Promise<number> {
  socket.on("news", (headline, at) => void [headline.toUpperCase(), at.toFixed()]);
  socket.on("question", (q, answer) => answer(q * 2));
  socket.on("connect_error", (err) => void err.message);
  socket.on("disconnect", (reason) => void reason.length);
  socket.emit("hello", "me");
  socket.emit("ask", 1, (answer) => void answer.toFixed());
  socket.timeout(10).emit("ask", 1, (err, answer) => void [err?.message, answer.toFixed()]);
  // @ts-expect-error: wrong argument type
  socket.emit("hello", 42);
  // @ts-expect-error: unknown event
  socket.emit("nope");
  return socket.emitWithAck("ask", 2);
}

Deno.test("client typed events: io() returns a socket assignable to a typed one", () => {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(
    "http://127.0.0.1:9",
    { autoConnect: false, forceNew: true },
  );
  socket.emit("hello", "me");
  assert.equal(socket.sendBuffer.length, 1);
  assert.equal(typeof _typed, "function");
});
