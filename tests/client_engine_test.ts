/**
 * The client's Engine.IO layer: heartbeat watchdog, connection timeout, transports options,
 * cookies and headers, payload splitting, bad input, beforeunload. Uses our server, or a raw
 * hand-written one where the server must misbehave.
 */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { Engine, io, type Socket } from "../client/mod.ts";
import { Server } from "../mod.ts";
import { Server as EngineServer } from "../server/engine/mod.ts";
import { once, recordingServer, track } from "./fixtures/client_env.ts";
import { setup } from "./fixtures/client_handlers.mjs";
import * as msgpack from "socket.io-msgpack-parser";
import * as strict from "../parser/socket.ts";
import { Buffer } from "node:buffer";

/** A server whose WebSocket endpoint is scripted by the test. */
function rawServer(onSocket: (ws: WebSocket) => void) {
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    onSocket(socket);
    return response;
  });
  return { url: `http://127.0.0.1:${http.addr.port}`, close: () => http.shutdown() };
}

const OPEN = (pingInterval: number, pingTimeout: number) =>
  "0" + JSON.stringify({ sid: "raw", upgrades: [], pingInterval, pingTimeout, maxPayload: 1e6 });

/** A raw Socket.IO server: handshake, namespace connect, then `then(ws)`. */
function rawSocketIO(pingInterval: number, pingTimeout: number, then?: (ws: WebSocket) => void) {
  const received: string[] = [];
  const server = rawServer((ws) => {
    ws.onopen = () => ws.send(OPEN(pingInterval, pingTimeout));
    ws.onmessage = (ev) => {
      received.push(ev.data);
      if (ev.data === "40") {
        ws.send('40{"sid":"nsp-sid"}');
        then?.(ws);
      }
    };
  });
  return { ...server, received };
}

Deno.test("client heartbeat: a ping resets the watchdog; silence closes with ping timeout", async () => {
  const tracker = track();
  let peer: WebSocket | undefined;
  const server = rawSocketIO(100, 50, (ws) => peer = ws);
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  let socket: Socket | undefined;
  try {
    socket = io(server.url, { transports: ["websocket"], reconnection: false, forceNew: true });
    await once(socket, "connect");
    clock.tick(140);
    const pinged = once(socket.io, "ping");
    peer!.send("2");
    await pinged;
    // The watchdog restarted at the ping: pingInterval + pingTimeout from now.
    clock.tick(149);
    assert.equal(socket.connected, true);
    const disconnected = once<[string]>(socket, "disconnect");
    clock.tick(1);
    assert.equal((await disconnected)[0], "ping timeout");
  } finally {
    clock.uninstall();
    socket?.disconnect();
    await tracker.drained();
    tracker.restore();
    await server.close();
  }
});

Deno.test("client heartbeat: a real ping from the server is answered with a pong", async () => {
  const tracker = track();
  let pong: (data: string) => void;
  const ponged = new Promise<string>((resolve) => pong = resolve);
  const server = rawServer((ws) => {
    ws.onopen = () => ws.send(OPEN(25000, 20000));
    ws.onmessage = (ev) => {
      if (ev.data === "40") {
        ws.send('40{"sid":"x"}');
        ws.send("2");
      } else if (ev.data === "3") pong(ev.data);
    };
  });
  const socket = io(server.url, { transports: ["websocket"], reconnection: false, forceNew: true });
  const pinged = once(socket.io, "ping");
  assert.equal(await ponged, "3");
  await pinged;
  socket.disconnect();
  await tracker.drained();
  tracker.restore();
  await server.close();
});

Deno.test("client emits while the ping expired (device sleep) are buffered", async () => {
  const tracker = track();
  const server = rawSocketIO(1000, 1000);
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  let socket: Socket | undefined;
  try {
    socket = io(server.url, { transports: ["websocket"], reconnection: false, forceNew: true });
    await once(socket, "connect");
    // Time moved on, but no timer ran (as after a sleep).
    clock.setSystemTime(Date.now() + 5000);
    const disconnected = once<[string]>(socket, "disconnect");
    socket.emit("late", 1);
    assert.equal(socket.sendBuffer.length, 1);
    assert.equal((await disconnected)[0], "ping timeout");
  } finally {
    clock.uninstall();
    socket?.disconnect();
    await tracker.drained();
    tracker.restore();
    await server.close();
  }
});

Deno.test("client connection timeout: connect_error 'timeout' when no handshake comes", async () => {
  const tracker = track();
  const server = rawServer(() => {}); // accepts the WebSocket, says nothing
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  let socket: Socket | undefined;
  try {
    socket = io(server.url, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      timeout: 5000,
    });
    const failed = once<[Error]>(socket, "connect_error");
    clock.tick(5000);
    assert.equal((await failed)[0].message, "timeout");
    assert.equal(socket.io.engine.readyState, "closed");
  } finally {
    clock.uninstall();
    socket?.disconnect();
    await tracker.drained();
    tracker.restore();
    await server.close();
  }
});

Deno.test("client closes with 'parse error' on a bad Socket.IO packet", async () => {
  const tracker = track();
  const server = rawSocketIO(25000, 20000, (ws) => ws.send("42garbage"));
  const socket = io(server.url, { transports: ["websocket"], reconnection: false, forceNew: true });
  const [reason] = await once<[string]>(socket, "disconnect");
  assert.equal(reason, "parse error");
  socket.disconnect();
  await tracker.drained();
  tracker.restore();
  await server.close();
});

Deno.test("client closes with 'transport error' on a bad Engine.IO packet", async () => {
  const tracker = track();
  const server = rawSocketIO(25000, 20000, (ws) => ws.send("9"));
  const socket = io(server.url, { transports: ["websocket"], reconnection: false, forceNew: true });
  const errors: unknown[] = [];
  socket.io.on("error", (err) => errors.push(err.message));
  const [reason] = await once<[string]>(socket, "disconnect");
  assert.equal(reason, "transport error");
  assert.deepEqual(errors, ["parse error"]);
  socket.disconnect();
  await tracker.drained();
  tracker.restore();
  await server.close();
});

Deno.test("client withCredentials keeps the server's cookie outside browsers", async () => {
  const tracker = track();
  const server = recordingServer({ cookie: { name: "sticky" } });
  const socket = io(server.url, { forceNew: true, withCredentials: true, upgrade: false });
  await once(socket, "connect");
  assert.equal(await socket.emitWithAck("echo", 1), 1);
  const sid = socket.io.engine.id;
  assert.equal(server.seen[0].cookie, null);
  assert.ok(server.seen.length > 2);
  for (const req of server.seen.slice(1)) assert.equal(req.cookie, `sticky=${sid}`);
  // Without withCredentials, nothing is kept.
  const plain = io(server.url, { forceNew: true, upgrade: false });
  await once(plain, "connect");
  assert.equal(await plain.emitWithAck("echo", 2), 2);
  const mine = server.seen.filter((r) => r.sid === plain.io.engine.id);
  assert.ok(mine.length > 1);
  for (const req of mine) assert.equal(req.cookie, null);
  socket.disconnect();
  plain.disconnect();
  await tracker.drained();
  tracker.restore();
  await server.close();
});

/**
 * An Engine.IO server whose handshakes set `cookies()`, recording the cookie header, transport,
 * method and arrival time of every request of a session, and when each session began.
 */
function cookieServer(cookies: () => string[]) {
  const engine = new EngineServer();
  engine.on("connection", (conn) => conn.on("message", (data) => conn.send(data)));
  const handler = engine.handler();
  const seen: {
    sid: string;
    transport: string;
    cookie: string | null;
    method: string;
    at: number;
  }[] = [];
  const began = new Map<string, number>();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req, info) => {
    const params = new URL(req.url).searchParams;
    const sid = params.get("sid");
    if (sid) {
      const [cookie, at] = [req.headers.get("cookie"), Date.now()];
      seen.push({ sid, transport: params.get("transport")!, cookie, method: req.method, at });
      return handler(req, info);
    }
    const res = await handler(req, info);
    const text = await res.text();
    began.set(/"sid":"([^"]+)"/.exec(text)![1], Date.now());
    const headers = new Headers(res.headers);
    for (const cookie of cookies()) headers.append("set-cookie", cookie);
    return new Response(text, { status: res.status, headers });
  });
  return {
    url: `http://127.0.0.1:${http.addr.port}`,
    seen,
    began,
    async close() {
      await engine.close();
      await http.shutdown();
    },
  };
}

Deno.test("client withCredentials drops expired cookies: past Expires, Max-Age <= 0, Max-Age wins, checked on each request", async () => {
  const tracker = track();
  const date = (ms: number) => new Date(ms).toUTCString();
  const day = 86_400_000;
  const server = cookieServer(() => [
    // The official suite's four: only 1 and 2 go back.
    "1=1; Max-Age=86400",
    "2=2; Path=/; HttpOnly; Secure; SameSite=Strict",
    "3=3; Max-Age=0",
    `4=4; Expires=${date(Date.now())}`,
    "5=5; Max-Age=-1",
    `6=6; Expires=${date(Date.now() - day)}`,
    `7=7; Expires=${date(Date.now() + day)}`,
    // Max-Age has precedence over Expires, either way round.
    `8=8; Expires=${date(Date.now() - day)}; Max-Age=100`,
    `9=9; Max-Age=0; Expires=${date(Date.now() + day)}`,
    // Expires while the session runs.
    "10=10; Max-Age=1",
  ]);
  const kept = "1=1; 2=2; 7=7; 8=8";
  try {
    // Polling, then the WebSocket upgrade: both send the kept cookies.
    const upgrading = new Engine(server.url, { withCredentials: true });
    await once(upgrading, "open");
    upgrading.send("a");
    await once(upgrading, "message");
    if (upgrading.transport.name !== "websocket") await once(upgrading, "upgrade");
    const sid = upgrading.id!;
    upgrading.close();
    // Requests that came before 10=10 expired (the client checked them earlier still).
    const early = server.seen.filter((r) => r.sid === sid && r.at < server.began.get(sid)! + 1000);
    assert.ok(early.some((r) => r.transport === "websocket"));
    assert.ok(early.some((r) => r.method === "POST"));
    for (const req of early) assert.equal(req.cookie, `${kept}; 10=10`, req.transport);

    // Polling after 10=10 expired: the next request goes without it.
    const polling = new Engine(server.url, { withCredentials: true, transports: ["polling"] });
    await once(polling, "open");
    // The client read Max-Age=1 before "open".
    const at = Date.now() + 1000;
    while (Date.now() <= at) {
      await new Promise((resolve) => setTimeout(resolve, at + 1 - Date.now()));
    }
    polling.send("after");
    await once(polling, "message");
    // (No ping comes in a second: "after" is the session's only POST.)
    const posts = server.seen.filter((r) => r.sid === polling.id && r.method === "POST");
    assert.deepEqual(posts.map((r) => r.cookie), [kept]);
    polling.close();
    await tracker.drained();
  } finally {
    tracker.restore();
    await server.close();
  }
});

Deno.test("client sends extraHeaders on every polling request and the WebSocket", async () => {
  const tracker = track();
  const server = recordingServer();
  const socket = io(server.url, { forceNew: true, extraHeaders: { "x-custom": "v" } });
  await once(socket, "connect");
  if (socket.io.engine.transport.name !== "websocket") await once(socket.io.engine, "upgrade");
  assert.equal(await socket.emitWithAck("echo", 1), 1);
  assert.ok(server.seen.some((r) => r.transport === "websocket"));
  for (const req of server.seen) assert.equal(req.custom, "v");
  socket.disconnect();
  await tracker.drained();
  tracker.restore();
  await server.close();
});

Deno.test("client transports options: tryAllTransports, rememberUpgrade, upgrade, path", async (t) => {
  const tracker = track();
  const pollingOnly = recordingServer({ transports: ["polling"] });
  const full = recordingServer({ path: "/custom/" });
  try {
    await t.step("without tryAllTransports, a refused WebSocket is an error", async () => {
      const socket = io(pollingOnly.url, {
        forceNew: true,
        transports: ["websocket", "polling"],
        reconnection: false,
      });
      const [err] = await once<[Error]>(socket, "connect_error");
      assert.equal(err.message, "websocket error");
      socket.disconnect();
      await tracker.drained();
    });

    await t.step("with tryAllTransports, the next transport is tried", async () => {
      const socket = io(pollingOnly.url, {
        forceNew: true,
        transports: ["websocket", "polling"],
        tryAllTransports: true,
      });
      await once(socket, "connect");
      assert.equal(socket.io.engine.transport.name, "polling");
      socket.disconnect();
      await tracker.drained();
    });

    await t.step("path, and upgrade: false stays on polling", async () => {
      const socket = io(full.url, { forceNew: true, path: "/custom", upgrade: false });
      await once(socket, "connect");
      assert.equal(await socket.emitWithAck("transport"), "polling");
      assert.ok(full.seen.every((r) => r.transport === "polling"));
      socket.disconnect();
      await tracker.drained();
    });

    await t.step("rememberUpgrade starts on WebSocket after a successful upgrade", async () => {
      const first = io(full.url, { forceNew: true, path: "/custom" });
      await once(first.io.engine, "upgrade");
      first.disconnect();
      await tracker.drained();
      assert.equal(Engine.priorWebsocketSuccess, true);
      const from = full.seen.length;
      const second = io(full.url, { forceNew: true, path: "/custom", rememberUpgrade: true });
      await once(second, "connect");
      assert.equal(second.io.engine.transport.name, "websocket");
      assert.deepEqual(full.seen.slice(from).map((r) => r.transport), ["websocket"]);
      second.disconnect();
      await tracker.drained();
    });

    await t.step("no usable transport is an error", async () => {
      const socket = io(full.url, {
        forceNew: true,
        path: "/custom",
        transports: ["webtransport"],
        reconnection: false,
      });
      const [err] = await once<[unknown]>(socket.io, "error");
      assert.equal(err, "No transports available");
      socket.disconnect();
    });
  } finally {
    tracker.restore();
    await pollingOnly.close();
    await full.close();
  }
});

Deno.test("client closeOnBeforeunload closes the transport silently", async () => {
  const tracker = track();
  const server = recordingServer();
  // The engine still believes it is open (as the official one does, in case the page stays):
  // its watchdog timer is left pending, on a fake clock.
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const socket = io(server.url, { forceNew: true, closeOnBeforeunload: true, upgrade: false });
    const other = io(server.url, { forceNew: true, upgrade: false });
    await Promise.all([once(socket, "connect"), once(other, "connect")]);
    let disconnects = 0;
    socket.on("disconnect", () => disconnects++);
    const transport = socket.io.engine.transport;
    dispatchEvent(new Event("beforeunload"));
    assert.equal(transport.readyState, "closed");
    // The other socket did not ask for it: still there.
    assert.equal(await other.emitWithAck("echo", "here"), "here");
    assert.equal(other.io.engine.transport.readyState, "open");
    assert.equal(disconnects, 0);
    socket.disconnect();
    other.disconnect();
    await tracker.drained();
  } finally {
    clock.uninstall();
    tracker.restore();
    await server.close();
  }
});

Deno.test("client Engine: messages, binary, and polling payloads split under maxPayload", async () => {
  const tracker = track();
  const engine = new EngineServer({ maxHttpBufferSize: 200 });
  const got: unknown[] = [];
  engine.on("connection", (conn) => {
    conn.on("message", (data) => {
      got.push(data);
      if (data === "ping me") conn.send(new Uint8Array([7, 8]));
    });
  });
  let posts = 0;
  const handler = engine.handler();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req, info) => {
    if (req.method === "POST") posts++;
    return handler(req, info);
  });
  const client = new Engine(`http://127.0.0.1:${http.addr.port}`, { transports: ["polling"] });
  try {
    await once(client, "open");
    const binary = once<[ArrayBuffer]>(client, "message");
    client.send("ping me");
    const [bytes] = await binary;
    assert.deepEqual([...new Uint8Array(bytes)], [7, 8]);
    const before = posts;
    const messages = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(50, "x"));
    let flushed = 0;
    for (const m of messages) client.write(m, undefined, () => flushed++);
    client.send(new Uint8Array([1, 2, 3]));
    while (got.length < 12) await once(client, "drain");
    assert.deepEqual(got.slice(1, 11), messages);
    assert.deepEqual([...(got[11] as Uint8Array)], [1, 2, 3]);
    // 10 messages of 51 bytes do not fit in one 200-byte payload.
    assert.ok(posts - before >= 3, `${posts - before} POSTs`);
    assert.ok(flushed >= 1);
  } finally {
    client.close();
    await tracker.drained();
    tracker.restore();
    await engine.close();
    await http.shutdown();
  }
});

// npm's msgpack parser reads Node Buffers (its browser build reads ArrayBuffers, as we give).
const msgpackOnDeno = {
  Encoder: msgpack.Encoder,
  Decoder: class extends msgpack.Decoder {
    override add(chunk: unknown): void {
      super.add(chunk instanceof ArrayBuffer ? Buffer.from(chunk) : chunk);
    }
  },
};

Deno.test("client custom parsers: socket.io-msgpack-parser, and our strict parser", async () => {
  const tracker = track();
  for (const [name, parser] of [["msgpack", msgpackOnDeno], ["strict", strict]] as const) {
    const server = new Server({ parser: parser as never });
    setup(server);
    const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.handler());
    const socket = io(`http://127.0.0.1:${http.addr.port}`, {
      forceNew: true,
      parser: parser as never,
    });
    try {
      await once(socket, "connect");
      const answer = await socket.emitWithAck("echo", { n: 1, bytes: new Uint8Array([5]) });
      assert.equal((answer as { n: number }).n, 1, name);
      const bytes = (answer as { bytes: Uint8Array | ArrayBuffer }).bytes;
      assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [5], name);
    } finally {
      socket.disconnect();
      await tracker.drained();
      await server.close();
      await http.shutdown();
    }
  }
  tracker.restore();
});
