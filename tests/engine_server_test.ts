/**
 * Engine.IO v4 conformance of the server, walked with plain `fetch` and `WebSocket`: what a
 * client observes (status codes, bodies, frames) and the close reasons the server reports.
 */
import assert from "node:assert/strict";
import type { EngineOptions, EngineSocket } from "../server/engine/mod.ts";
import {
  closeOf,
  delay,
  type EngineFixture,
  handshake,
  nextConnection,
  nextMessage,
  poll,
  pollingUrl,
  post,
  request,
  startEngine,
} from "./helpers/engine.ts";
import { rawUpgrade, WsClient } from "./helpers/raw.ts";

const SID = /^[A-Za-z0-9_-]{20}$/;

/** Whether a promise settled within `ms` (to show a poll is held open, not to time it). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  await delay(ms);
  return settled;
}

// ---------------------------------------------------------------------------------------------
// Handshake

/** A test with an engine and one polling session already open on it. */
function sessionTest(
  name: string,
  fn: (ctx: { f: EngineFixture; sid: string; socket: EngineSocket }) => Promise<void>,
  opts: Partial<EngineOptions> = {},
): void {
  Deno.test(name, async () => {
    const f = startEngine(opts);
    try {
      const connected = nextConnection(f.engine);
      const { sid } = await handshake(f.base);
      await fn({ f, sid, socket: await connected });
    } finally {
      await f.close();
    }
  });
}

Deno.test("handshake over polling sends the official open packet", async () => {
  const f = startEngine({ pingInterval: 300, pingTimeout: 200 });
  try {
    const connected = nextConnection(f.engine);
    const res = await request(`${f.base}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
    const sid = JSON.parse(res.body.slice(1)).sid;
    assert.match(sid, SID);
    assert.equal(
      res.body,
      `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,` +
        `"maxPayload":1000000}`,
    );
    const socket = await connected;
    assert.equal(socket.id, sid);
    assert.equal(socket.transport.name, "polling");
    assert.equal(socket.readyState, "open");
    assert.equal(socket.protocol, 4);
    assert.equal(socket.request.query.EIO, "4");
    assert.equal(socket.request.method, "GET");
    assert.equal(socket.request.address, "127.0.0.1");
    assert.equal(f.engine.clientsCount, 1);
  } finally {
    await f.close();
  }
});

Deno.test("handshake straight over websocket advertises no upgrades", async () => {
  const f = startEngine({ maxHttpBufferSize: 5000 });
  try {
    const connected = nextConnection(f.engine);
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket`);
    const open = await ws.next();
    const socket = await connected;
    assert.equal(
      open,
      `0{"sid":"${socket.id}","upgrades":[],"pingInterval":25000,"pingTimeout":20000,` +
        `"maxPayload":5000}`,
    );
    assert.match(socket.id, SID);
    assert.equal(socket.transport.name, "websocket");
    const closed = closeOf(socket);
    await ws.close();
    assert.equal((await closed)[0], "transport close");
  } finally {
    await f.close();
  }
});

Deno.test("a path outside the engine gets the fallback, or 404", async () => {
  const f = startEngine();
  try {
    const res = await request(`${f.http.origin}/other?EIO=4&transport=polling`);
    assert.equal(res.status, 404);
  } finally {
    await f.close();
  }
});

Deno.test("the engine answers everything under its path, as the official server", async () => {
  const f = startEngine();
  try {
    const polling = await request(`${f.base}default/?EIO=4&transport=polling`);
    assert.equal(polling.status, 200, polling.body);
    assert.match(polling.body, /^0\{"sid":/);
    const ws = new WsClient(`${f.wsBase}default/?EIO=4&transport=websocket`);
    assert.match(String(await ws.next()), /^0\{"sid":/);
    await ws.close();
    // Under the path, not beside it.
    const beside = await request(`${f.http.origin}/engine.iox?EIO=4&transport=polling`);
    assert.equal(beside.status, 404);
    // Still answered without the trailing slash, as before.
    const bare = await request(`${f.http.origin}/engine.io?EIO=4&transport=polling`);
    assert.equal(bare.status, 200, bare.body);
  } finally {
    await f.close();
  }
});

Deno.test("addTrailingSlash: false matches the bare path as a prefix, as the official server", async () => {
  const f = startEngine({ addTrailingSlash: false });
  try {
    assert.equal(f.engine.opts.path, "/engine.io");
    for (const path of ["/engine.io", "/engine.iox", "/engine.io/x/"]) {
      const res = await request(`${f.http.origin}${path}?EIO=4&transport=polling`);
      assert.equal(res.status, 200, path);
      assert.match(res.body, /^0\{"sid":/);
    }
    const outside = await request(`${f.http.origin}/other?EIO=4&transport=polling`);
    assert.equal(outside.status, 404);
  } finally {
    await f.close();
  }
});

Deno.test("transports and allowUpgrades decide the advertised upgrades", async () => {
  const pollingOnly = startEngine({ transports: ["polling"] });
  try {
    assert.deepEqual((await handshake(pollingOnly.base)).upgrades, []);
    const ws = await rawUpgrade(pollingOnly.http.port, "/engine.io/?EIO=4&transport=websocket");
    assert.equal(ws.status, 400);
    assert.equal(ws.body, "Transport unknown");
  } finally {
    await pollingOnly.close();
  }
  const wsOnly = startEngine({ transports: ["websocket"] });
  try {
    const res = await request(`${wsOnly.base}?EIO=4&transport=polling`);
    assert.equal(res.body, '{"code":0,"message":"Transport unknown"}');
  } finally {
    await wsOnly.close();
  }
  const noUpgrades = startEngine({ allowUpgrades: false });
  try {
    const { sid, upgrades } = await handshake(noUpgrades.base);
    assert.deepEqual(upgrades, []);
    // An upgrade attempt is accepted, then closed at once; polling goes on.
    const ws = new WsClient(`${noUpgrades.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    await ws.closed;
    assert.equal(ws.didOpen, true);
    noUpgrades.engine.clients.get(sid)?.send("x");
    assert.equal(await poll(noUpgrades.base, sid), "4x");
  } finally {
    await noUpgrades.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Errors

Deno.test("refused requests get the official JSON errors", async () => {
  const f = startEngine();
  const errors: number[] = [];
  f.engine.on("connection_error", (e) => errors.push(e.code));
  const json = (code: number, message: string) => JSON.stringify({ code, message });
  const cases: [string, RequestInit | undefined, number, string][] = [
    ["EIO=4&transport=foo", undefined, 400, json(0, "Transport unknown")],
    ["EIO=4", undefined, 400, json(0, "Transport unknown")],
    ["EIO=4&transport=polling&transport=polling", undefined, 400, json(0, "Transport unknown")],
    ["EIO=4&transport=polling&transport=websocket", undefined, 400, json(0, "Transport unknown")],
    ["EIO=4&transport=__proto__", undefined, 400, json(0, "Transport unknown")],
    ["EIO=4&transport=polling&sid=nope", undefined, 400, json(1, "Session ID unknown")],
    ["EIO=4&transport=polling&sid=__proto__", undefined, 400, json(1, "Session ID unknown")],
    ["EIO=4&transport=polling&sid=constructor", undefined, 400, json(1, "Session ID unknown")],
    ["EIO=4&transport=polling&sid=toString", undefined, 400, json(1, "Session ID unknown")],
    [
      "EIO=4&transport=polling&sid=hasOwnProperty",
      { method: "POST", body: "4x" },
      400,
      json(
        1,
        "Session ID unknown",
      ),
    ],
    [
      "EIO=4&transport=polling",
      { method: "POST", body: "4x" },
      400,
      json(2, "Bad handshake method"),
    ],
    [
      "EIO=4&transport=polling",
      { method: "PUT", body: "4x" },
      400,
      json(2, "Bad handshake method"),
    ],
    ["EIO=4&transport=websocket", undefined, 400, json(3, "Bad request")],
    ["EIO=3&transport=polling", undefined, 400, json(5, "Unsupported protocol version")],
    ["EIO=5&transport=polling", undefined, 400, json(5, "Unsupported protocol version")],
    ["transport=polling", undefined, 400, json(5, "Unsupported protocol version")],
    ["EIO=4&EIO=4&transport=polling", undefined, 400, json(5, "Unsupported protocol version")],
  ];
  try {
    for (const [query, init, status, body] of cases) {
      const res = await request(`${f.base}?${query}`, init);
      assert.equal(res.status, status, query);
      assert.equal(res.body, body, query);
      assert.equal(res.headers.get("content-type"), "application/json", query);
    }
    assert.equal(errors.length, cases.length);
    assert.equal(f.engine.clientsCount, 0);
  } finally {
    await f.close();
  }
});

Deno.test("allowRequest denies a handshake with 403 and its message", async () => {
  const seen: string[] = [];
  const f = startEngine({
    allowRequest(req, fn) {
      seen.push(req.headers["x-token"] ?? "");
      if (req.headers["x-token"] === "ok") fn(null, true);
      else if (req.headers["x-token"] === "silent") fn(null, false);
      else fn("not welcome", false);
    },
  });
  try {
    const url = `${f.base}?EIO=4&transport=polling`;
    const denied = await request(url, { headers: { "x-token": "bad" } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body, '{"code":4,"message":"not welcome"}');
    const silent = await request(url, { headers: { "x-token": "silent" } });
    assert.equal(silent.status, 403);
    assert.equal(silent.body, '{"code":4,"message":"Forbidden"}');
    // Checked before the protocol version, as the official server does.
    const old = await request(`${f.base}?EIO=3&transport=polling`, { headers: { "x-token": "x" } });
    assert.equal(old.status, 403);
    const ok = await request(url, { headers: { "x-token": "ok" } });
    assert.equal(ok.status, 200);
    assert.equal(ok.body[0], "0");
    assert.deepEqual(seen, ["bad", "silent", "x", "ok"]);
    assert.equal(f.engine.clientsCount, 1);
  } finally {
    await f.close();
  }
});

Deno.test("a request on another transport than the session's is refused (code 3)", async () => {
  const f = startEngine();
  try {
    const { sid } = await handshake(f.base);
    const res = await request(`${f.base}?EIO=4&transport=websocket&sid=${sid}`);
    assert.equal(res.status, 400);
    assert.equal(res.body, '{"code":3,"message":"Bad request"}');
    // The session is not hurt by a refused request.
    assert.equal(f.engine.clients.get(sid)?.readyState, "open");
  } finally {
    await f.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Polling

sessionTest("polling carries messages both ways", async ({ f, sid, socket }) => {
  const received: (string | Uint8Array)[] = [];
  socket.on("message", (d) => received.push(d));

  const ok = await post(f.base, sid, "4hello\x1e4\x1ebAQID\x1e4é ☃");
  assert.equal(ok.status, 200);
  assert.equal(ok.body, "ok");
  assert.equal(ok.headers.get("content-type"), "text/html");
  // Binary arrives as a Buffer where the runtime has one, as npm engine.io gives it.
  assert.deepEqual(received, ["hello", "", Buffer.from([1, 2, 3]), "é ☃"]);

  socket.send("a");
  socket.send("b");
  socket.send(new Uint8Array([1, 2, 3]));
  socket.send(new Uint8Array([0xff, 0]).buffer);
  // Everything sent in one tick leaves as one payload.
  assert.equal(await poll(f.base, sid), "4a\x1e4b\x1ebAQID\x1eb/wA=");
});

sessionTest("a poll is held open until a packet comes", async ({ f, sid, socket }) => {
  const pending = poll(f.base, sid);
  assert.equal(await settlesWithin(pending, 100), false);
  let sent = false;
  socket.send("late", () => (sent = true));
  assert.equal(await pending, "4late");
  assert.equal(sent, true);
});

sessionTest(
  "two concurrent polls: the second gets 400, the first is answered, session closes",
  async ({ f, sid, socket }) => {
    const closed = closeOf(socket);
    const first = request(pollingUrl(f.base, sid));
    await settlesWithin(first, 50);
    const second = await request(pollingUrl(f.base, sid));
    assert.equal(second.status, 400);
    const answered = await first;
    assert.equal(answered.status, 200);
    assert.equal(answered.body, "1");
    assert.deepEqual(await closed, ["transport error", "overlap from client"]);
    assert.equal(f.engine.clientsCount, 0);
    const after = await request(pollingUrl(f.base, sid));
    assert.equal(after.body, '{"code":1,"message":"Session ID unknown"}');
  },
);

sessionTest("an aborted pending poll closes the session", async ({ f, sid, socket }) => {
  const closed = closeOf(socket);
  const abort = new AbortController();
  const pending = fetch(pollingUrl(f.base, sid), { signal: abort.signal })
    .then((res) => res.text());
  await settlesWithin(pending, 50);
  abort.abort();
  await assert.rejects(pending);
  assert.deepEqual(await closed, ["transport error", "poll connection closed prematurely"]);
  assert.equal(f.engine.clientsCount, 0);
});

/** A body of `chunks` chunks of 300 bytes (starting with `4`), counting how many were pulled. */
function bigBody(chunks: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  const chunk = new TextEncoder().encode("a".repeat(300));
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (++pulled > chunks) controller.close();
      else controller.enqueue(pulled === 1 ? new TextEncoder().encode("4") : chunk.slice());
    },
  }, { highWaterMark: 0 });
  return { body, pulled: () => pulled };
}

Deno.test("a POST over maxHttpBufferSize gets 413 without being read whole; the session goes on", async () => {
  const f = startEngine({ maxHttpBufferSize: 1000 });
  try {
    // As the official server: the request is refused, the session goes on (the client closes it
    // on the refusal, with "transport error"), and takes a payload that fits.
    const goesOn = async (socket: EngineSocket, sid: string) => {
      assert.equal(socket.readyState, "open");
      const got = nextMessage(socket);
      assert.equal((await post(f.base, sid, "4fits")).status, 200);
      assert.equal(await got, "fits");
    };

    // Declared too large: refused before reading.
    let connected = nextConnection(f.engine);
    let { sid } = await handshake(f.base);
    let socket = await connected;
    const declared = await post(f.base, sid, "4" + "a".repeat(1000));
    assert.equal(declared.status, 413);
    await goesOn(socket, sid);

    // Streamed (no Content-Length): refused once the count passes the limit.
    connected = nextConnection(f.engine);
    ({ sid } = await handshake(f.base));
    socket = await connected;
    const messages: unknown[] = [];
    socket.on("message", (m) => messages.push(m));
    const res = await request(pollingUrl(f.base, sid), {
      method: "POST",
      body: bigBody(1000).body,
    });
    assert.equal(res.status, 413);
    assert.deepEqual(messages, []);
    await goesOn(socket, sid);

    // The engine stops pulling the body past the limit (the HTTP server may drain the rest).
    connected = nextConnection(f.engine);
    ({ sid } = await handshake(f.base));
    socket = await connected;
    const big = bigBody(1000);
    const direct = await f.engine.handler()(
      new Request(pollingUrl(f.base, sid), {
        method: "POST",
        body: big.body,
        duplex: "half",
      } as RequestInit),
    );
    assert.equal(direct.status, 413);
    await direct.body?.cancel();
    assert.ok(big.pulled() <= 6, `the engine pulled ${big.pulled()} chunks`);
    await goesOn(socket, sid);

    // Exactly at the limit (in UTF-8 bytes) is fine.
    connected = nextConnection(f.engine);
    ({ sid } = await handshake(f.base));
    const got = nextMessage(await connected);
    const fits = await post(f.base, sid, "4" + "é".repeat(499) + "a");
    assert.equal(fits.status, 200);
    assert.equal(await got, "é".repeat(499) + "a");
  } finally {
    await f.close();
  }
});

Deno.test("a binary POST is refused with 400 and closes the session", async () => {
  const f = startEngine();
  try {
    const connected = nextConnection(f.engine);
    const { sid } = await handshake(f.base);
    const closed = closeOf(await connected);
    const res = await request(pollingUrl(f.base, sid), {
      method: "POST",
      body: new Uint8Array([4, 1, 2, 3]),
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await closed, ["transport error", "invalid content"]);
  } finally {
    await f.close();
  }
});

Deno.test("a malformed payload closes the session with parse error", async () => {
  const f = startEngine();
  try {
    for (const payload of ["9oops", "4a\x1e\x1e4b", "", "bnot base64!"]) {
      const connected = nextConnection(f.engine);
      const { sid } = await handshake(f.base);
      const socket = await connected;
      const messages: unknown[] = [];
      socket.on("message", (m) => messages.push(m));
      const closed = closeOf(socket);
      const res = await post(f.base, sid, payload);
      assert.equal(res.status, 200, JSON.stringify(payload));
      assert.equal((await closed)[0], "parse error", JSON.stringify(payload));
      assert.deepEqual(messages, []);
    }
    // Invalid UTF-8 never reaches the parser.
    const connected = nextConnection(f.engine);
    const { sid } = await handshake(f.base);
    const closed = closeOf(await connected);
    const res = await post(f.base, sid, new Uint8Array([0x34, 0xff, 0xfe]));
    assert.equal(res.status, 400);
    assert.equal((await closed)[0], "transport error");
  } finally {
    await f.close();
  }
});

sessionTest(
  "overlapping POSTs: the second gets 400 and the session closes",
  async ({ f, sid, socket }) => {
    const closed = closeOf(socket);
    const messages: unknown[] = [];
    socket.on("message", (m) => messages.push(m));
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const slow = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        c.enqueue(new TextEncoder().encode("4slow"));
      },
    });
    const first = fetch(pollingUrl(f.base, sid), { method: "POST", body: slow })
      .then(async (r) => ({ status: r.status, body: await r.text() }))
      .catch((e) => ({ status: 0, body: String(e) }));
    // Give the server time to start reading the first body.
    assert.equal(await settlesWithin(first, 100), false);
    const second = await post(f.base, sid, "4fast");
    assert.equal(second.status, 400);
    assert.deepEqual(await closed, ["transport error", "data request overlap from client"]);
    try {
      controller.close();
    } catch {
      // the server cancelled the upload already
    }
    const answer = await first;
    assert.equal(answer.status, 400, answer.body);
    assert.deepEqual(messages, []);
  },
);

// ---------------------------------------------------------------------------------------------
// Heartbeat

Deno.test("heartbeat: pings every pingInterval, pongs keep the session", async () => {
  const f = startEngine({ pingInterval: 60, pingTimeout: 200 });
  try {
    const connected = nextConnection(f.engine);
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket`);
    assert.equal((await ws.next())[0], "0");
    const socket = await connected;
    let beats = 0;
    socket.on("heartbeat", () => beats++);
    for (let i = 0; i < 4; i++) {
      assert.equal(await ws.next(), "2");
      ws.send("3");
    }
    assert.equal(socket.readyState, "open");
    assert.ok(beats >= 3);
    const closed = closeOf(socket);
    await ws.close();
    assert.equal((await closed)[0], "transport close");
  } finally {
    await f.close();
  }
});

sessionTest(
  "heartbeat over polling: a pong keeps the session, silence ends it",
  async ({ f, sid, socket }) => {
    const closed = closeOf(socket);
    assert.equal(await poll(f.base, sid), "2");
    assert.equal((await post(f.base, sid, "3")).body, "ok");
    assert.equal(await poll(f.base, sid), "2");
    // No pong this time.
    assert.deepEqual(await closed, ["ping timeout", undefined]);
    assert.equal(f.engine.clientsCount, 0);
  },
  { pingInterval: 60, pingTimeout: 120 },
);

Deno.test("heartbeat: a client pinging a v4 server is an error", async () => {
  const f = startEngine();
  try {
    const connected = nextConnection(f.engine);
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket`);
    await ws.next();
    const closed = closeOf(await connected);
    ws.send("2");
    assert.deepEqual(await closed, ["transport error", "invalid heartbeat direction"]);
    await ws.closed;
  } finally {
    await f.close();
  }
});

// ---------------------------------------------------------------------------------------------
// WebSocket

async function wsSession(
  f: ReturnType<typeof startEngine>,
): Promise<{ ws: WsClient; socket: EngineSocket }> {
  const connected = nextConnection(f.engine);
  const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket`);
  const open = await ws.next();
  assert.equal(typeof open === "string" && open[0], "0");
  return { ws, socket: await connected };
}

Deno.test("websocket carries text and binary frames both ways", async () => {
  const f = startEngine();
  try {
    const { ws, socket } = await wsSession(f);
    const received: (string | Uint8Array)[] = [];
    socket.on("message", (d) => {
      received.push(d);
      socket.send(d);
    });
    ws.send("4hello");
    assert.equal(await ws.next(), "4hello");
    ws.send(new Uint8Array([1, 2, 3]));
    assert.deepEqual(await ws.next(), new Uint8Array([1, 2, 3]));
    ws.send("bAQID");
    assert.deepEqual(await ws.next(), new Uint8Array([1, 2, 3]));
    ws.send("4");
    assert.equal(await ws.next(), "4");
    assert.deepEqual(received, ["hello", Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]), ""]);
    socket.send(new Uint16Array([1]));
    assert.deepEqual(await ws.next(), new Uint8Array([1, 0]));
    const closed = closeOf(socket);
    await ws.close();
    assert.equal((await closed)[0], "transport close");
  } finally {
    await f.close();
  }
});

Deno.test("websocket: packetCreate, drain and send callbacks see every message", async () => {
  const f = startEngine();
  try {
    const { ws, socket } = await wsSession(f);
    let drains = 0;
    socket.on("drain", () => drains++);
    socket.send("a");
    assert.equal(await ws.next(), "4a");
    assert.equal(drains, 1);
    const created: unknown[] = [];
    socket.on("packetCreate", (p) => created.push(p.type === "message" ? p.data : p.type));
    const sent = new Promise<void>((resolve) => socket.send("b", resolve));
    socket.send("c");
    assert.equal(await ws.next(), "4b");
    assert.equal(await ws.next(), "4c");
    await sent;
    assert.deepEqual(created, ["b", "c"]);
    assert.equal(drains, 3);
  } finally {
    await f.close();
  }
});

/** Sends three messages, the last two with options; what `packetCreate` saw of each. */
function sendWithOptions(socket: EngineSocket): unknown[] {
  const created: unknown[] = [];
  socket.on("packetCreate", (p) => created.push([p.type, p.data, p.options]));
  socket.send("a");
  socket.send("b", { compress: false });
  // `write` is `send`, as on the official socket.
  socket.write("c", { compress: false }, () => {});
  return created;
}

const SENT_WITH_OPTIONS = [
  ["message", "a", { compress: true }],
  ["message", "b", { compress: false }],
  ["message", "c", { compress: false }],
];

sessionTest("polling: packetCreate sees each message's options", async ({ f, sid, socket }) => {
  assert.deepEqual(sendWithOptions(socket), SENT_WITH_OPTIONS);
  assert.equal(await poll(f.base, sid), "4a\x1e4b\x1e4c");
});

Deno.test("websocket: packetCreate sees each message's options", async () => {
  const f = startEngine();
  try {
    const { ws, socket } = await wsSession(f);
    assert.deepEqual(sendWithOptions(socket), SENT_WITH_OPTIONS);
    for (const m of ["4a", "4b", "4c"]) assert.equal(await ws.next(), m);
    await ws.close();
  } finally {
    await f.close();
  }
});

/**
 * With maxHttpBufferSize 100: `fits` is delivered, then `over` closes the session as too big.
 * Bounded, so that a server letting `over` through fails instead of hanging.
 */
async function sizeLimitTest(fits: string, over: string | Uint8Array): Promise<void> {
  const f = startEngine({ maxHttpBufferSize: 100 });
  try {
    const { ws, socket } = await wsSession(f);
    const closed = closeOf(socket);
    const messages: unknown[] = [];
    socket.on("message", (m) => messages.push(m));
    ws.send("4" + fits);
    ws.send(over);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      closed,
      new Promise((resolve) => timer = setTimeout(() => resolve("still open"), 3000)),
    ]);
    clearTimeout(timer);
    assert.deepEqual(outcome, ["transport error", "message too big"]);
    // 1009 (message too big), as the official server's `ws` closes it.
    const close = await ws.closed;
    assert.equal(close.code, 1009);
    assert.deepEqual(messages, [fits]);
  } finally {
    await f.close();
  }
}

Deno.test("websocket: an oversized frame closes the session", () =>
  sizeLimitTest("a".repeat(99), new Uint8Array(101)));

Deno.test("websocket: the size limit counts UTF-8 bytes, as the official server", () =>
  // 1 + 33 × 3 = 100 bytes: in. 1 + 25 × 4 = 101 bytes in 51 UTF-16 units: out.
  sizeLimitTest("€".repeat(33), "4" + "😀".repeat(25)));

Deno.test("websocket: a garbage frame closes the session with parse error", async () => {
  const f = startEngine();
  try {
    for (const frame of ["x", "", "7", "b!!"]) {
      const { ws, socket } = await wsSession(f);
      const closed = closeOf(socket);
      ws.send(frame);
      assert.equal((await closed)[0], "parse error", JSON.stringify(frame));
      await ws.closed;
    }
  } finally {
    await f.close();
  }
});

Deno.test("websocket: a close packet or close frame from the client is a transport close", async () => {
  const f = startEngine();
  try {
    let { ws, socket } = await wsSession(f);
    let closed = closeOf(socket);
    ws.send("1");
    assert.equal((await closed)[0], "transport close");
    await ws.closed;

    ({ ws, socket } = await wsSession(f));
    closed = closeOf(socket);
    await ws.close();
    assert.equal((await closed)[0], "transport close");
    assert.equal(f.engine.clientsCount, 0);
  } finally {
    await f.close();
  }
});

Deno.test("polling: a close packet from the client releases the poll and closes", async () => {
  const f = startEngine();
  try {
    const connected = nextConnection(f.engine);
    const { sid } = await handshake(f.base);
    const closed = closeOf(await connected);
    const pending = poll(f.base, sid);
    await settlesWithin(pending, 50);
    assert.equal((await post(f.base, sid, "1")).body, "ok");
    assert.equal(await pending, "6");
    assert.equal((await closed)[0], "transport close");
  } finally {
    await f.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Upgrade

Deno.test("upgrade: probe, noop polls, upgrade, then everything over websocket", async () => {
  const f = startEngine();
  try {
    const connected = nextConnection(f.engine);
    const { sid, upgrades } = await handshake(f.base);
    assert.deepEqual(upgrades, ["websocket"]);
    const socket = await connected;
    const events: string[] = [];
    socket.on("upgrading", (t) => events.push(`upgrading:${t.name}`));
    socket.on("upgrade", (t) => events.push(`upgrade:${t.name}`));
    const received: unknown[] = [];
    socket.on("message", (m) => received.push(m));

    const pending = poll(f.base, sid);
    assert.equal(await settlesWithin(pending, 50), false);

    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    await ws.opened;
    assert.equal(socket.upgrading, true);
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    // The held poll is released so the client can pause polling.
    assert.equal(await pending, "6");
    // And every poll during the upgrade is answered by the next release check.
    assert.equal(await poll(f.base, sid), "6");
    assert.equal(await poll(f.base, sid), "6");
    // Messages still flow over polling until the upgrade completes.
    assert.equal((await post(f.base, sid, "4via polling")).body, "ok");
    socket.send("buffered 1");
    socket.send("buffered 2");
    await delay(10);
    assert.equal(socket.transport.name, "polling");

    ws.send("5");
    assert.equal(await ws.next(), "4buffered 1");
    assert.equal(await ws.next(), "4buffered 2");
    assert.deepEqual(events, ["upgrading:websocket", "upgrade:websocket"]);
    assert.equal(socket.transport.name, "websocket");
    assert.equal(socket.upgraded, true);
    assert.equal(socket.upgrading, false);

    socket.send("after");
    assert.equal(await ws.next(), "4after");
    const got = nextMessage(socket);
    ws.send("4over ws");
    assert.equal(await got, "over ws");
    assert.deepEqual(received, ["via polling", "over ws"]);

    // Polling is over for this session.
    const late = await request(pollingUrl(f.base, sid));
    assert.equal(late.status, 400);
    assert.equal(late.body, '{"code":3,"message":"Bad request"}');

    const closed = closeOf(socket);
    await ws.close();
    assert.equal((await closed)[0], "transport close");
  } finally {
    await f.close();
  }
});

sessionTest(
  "upgrade: the waiting poll gets its noop from the release interval, not with the probe answer",
  async ({ f, sid, socket }) => {
    const pending = poll(f.base, sid);
    while (!socket.transport.writable) await delay(5);
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    // As on the official server, the poll is released by a check every 100 ms, so a client
    // counting its packets just after the probe sees no noop yet.
    assert.equal(await settlesWithin(pending, 10), false);
    assert.equal(await pending, "6");
    const upgraded = new Promise((resolve) => socket.once("upgrade", resolve));
    ws.send("5");
    await upgraded;
    assert.equal(socket.transport.name, "websocket");
    socket.send("over ws");
    assert.equal(await ws.next(), "4over ws");
    await ws.close();
  },
);

sessionTest(
  "upgrade: a message buffered while no poll waits goes over websocket",
  async ({ f, sid, socket }) => {
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    socket.send("one");
    socket.send(new Uint8Array([9]));
    ws.send("5");
    assert.equal(await ws.next(), "4one");
    assert.deepEqual(await ws.next(), new Uint8Array([9]));
    await ws.close();
  },
);

sessionTest(
  "upgrade: upgradeTimeout cancels an upgrade that never completes",
  async ({ f, sid, socket }) => {
    let upgraded = false;
    socket.on("upgrade", () => (upgraded = true));
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    await ws.closed;
    assert.equal(upgraded, false);
    assert.equal(socket.upgrading, false);
    assert.equal(socket.readyState, "open");
    assert.equal(socket.transport.name, "polling");
    // Polling goes on as before.
    const got = nextMessage(socket);
    assert.equal((await post(f.base, sid, "4still here")).body, "ok");
    assert.equal(await got, "still here");
    socket.send("back");
    assert.equal(await poll(f.base, sid), "4back");
  },
  { upgradeTimeout: 100 },
);

sessionTest(
  "upgrade: a bad packet during the upgrade cancels it, the session stays",
  async ({ f, sid, socket }) => {
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    ws.send("4not a probe");
    await ws.closed;
    assert.equal(socket.readyState, "open");
    assert.equal(socket.upgrading, false);
    socket.send("x");
    assert.equal(await poll(f.base, sid), "4x");
  },
);

sessionTest(
  "upgrade: another websocket for an upgraded sid is accepted then closed",
  async ({ f, sid, socket }) => {
    const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    ws.send("2probe");
    assert.equal(await ws.next(), "3probe");
    ws.send("5");
    while (!socket.upgraded) await delay(5);

    const extra = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    await extra.opened;
    const ev = await extra.closed;
    assert.equal(extra.didOpen, true);
    assert.equal(ev.code, 1000);
    assert.deepEqual(extra.pending, []);

    // A second upgrade while one is in progress is refused the same way.
    const f2 = nextConnection(f.engine);
    const other = await handshake(f.base);
    await f2;
    const a = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${other.sid}`);
    await a.opened;
    const b = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${other.sid}`);
    await b.closed;
    assert.equal(b.didOpen, true);
    a.send("2probe");
    assert.equal(await a.next(), "3probe");
    await a.close();

    // The first session still works.
    socket.send("still");
    assert.equal(await ws.next(), "4still");
    await ws.close();
  },
);

sessionTest("upgrade: another or a missing EIO is refused with 400", async ({ f, sid, socket }) => {
  for (const eio of ["EIO=3&", "", "EIO=5&", "EIO=4&EIO=4&"]) {
    const res = await rawUpgrade(f.http.port, `/engine.io/?${eio}transport=websocket&sid=${sid}`);
    assert.equal(res.status, 400, eio);
    assert.equal(res.body, "Bad request");
  }
  // Unknown sid and unknown transport on an upgrade: 400 too.
  const unknown = await rawUpgrade(f.http.port, "/engine.io/?EIO=4&transport=websocket&sid=x");
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body, "Session ID unknown");
  const badTransport = await rawUpgrade(f.http.port, "/engine.io/?EIO=4&transport=nope");
  assert.equal(badTransport.status, 400);
  assert.equal(badTransport.body, "Transport unknown");
  assert.equal(socket.upgrading, false);
  assert.equal(socket.readyState, "open");
  // A well-formed one is accepted.
  const ok = await rawUpgrade(f.http.port, `/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
  assert.equal(ok.status, 101);
  while (socket.upgrading) await delay(5);
});

// ---------------------------------------------------------------------------------------------
// Closing

Deno.test("socket.close() over polling: the poll receives the close packet", async () => {
  const f = startEngine();
  try {
    // A poll waiting.
    let connected = nextConnection(f.engine);
    let { sid } = await handshake(f.base);
    let socket = await connected;
    let closed = closeOf(socket);
    const pending = poll(f.base, sid);
    await settlesWithin(pending, 50);
    socket.close();
    assert.equal(await pending, "1");
    assert.equal((await closed)[0], "forced close");

    // No poll waiting: the next one gets it, behind a noop, as the official server sends it.
    connected = nextConnection(f.engine);
    ({ sid } = await handshake(f.base));
    socket = await connected;
    closed = closeOf(socket);
    socket.close();
    assert.equal(socket.readyState, "closing");
    assert.equal(await poll(f.base, sid), "6\x1e1");
    assert.equal((await closed)[0], "forced close");

    // Buffered messages leave first; the close follows on the next poll, since the official
    // client drops packets that precede a close in one payload.
    connected = nextConnection(f.engine);
    ({ sid } = await handshake(f.base));
    socket = await connected;
    closed = closeOf(socket);
    socket.send("bye");
    socket.close();
    socket.send("dropped");
    assert.equal(await poll(f.base, sid), "4bye");
    assert.equal(await poll(f.base, sid), "6\x1e1");
    assert.equal((await closed)[0], "forced close");
    assert.equal(f.engine.clientsCount, 0);
  } finally {
    await f.close();
  }
});

Deno.test("socket.close() over websocket: buffered frames, then the close", async () => {
  const f = startEngine();
  try {
    const { ws, socket } = await wsSession(f);
    const closed = closeOf(socket);
    socket.send("bye");
    socket.close();
    assert.equal((await closed)[0], "forced close");
    assert.equal(await ws.next(), "4bye");
    const ev = await ws.closed;
    assert.equal(ev.code, 1000);
    assert.deepEqual(ws.pending, []);
  } finally {
    await f.close();
  }
});

Deno.test("engine.close() closes every session and refuses new ones", async () => {
  const f = startEngine();
  try {
    const reasons: string[] = [];
    f.engine.on("connection", (s) => s.on("close", (r) => reasons.push(r)));
    const a = await handshake(f.base);
    const pending = poll(f.base, a.sid);
    await handshake(f.base);
    const { ws } = await wsSession(f);
    const b = await handshake(f.base);
    const upgrading = new WsClient(`${f.wsBase}?EIO=4&transport=websocket&sid=${b.sid}`);
    upgrading.send("2probe");
    assert.equal(await upgrading.next(), "3probe");
    assert.equal(f.engine.clientsCount, 4);

    await f.engine.close();
    assert.deepEqual(reasons, ["forced close", "forced close", "forced close", "forced close"]);
    assert.equal(f.engine.clientsCount, 0);
    assert.equal(await pending, "1");
    await ws.closed;
    await upgrading.closed;
    const refused = await request(`${f.base}?EIO=4&transport=polling`);
    assert.equal(refused.status, 400);
    assert.equal(refused.body, '{"code":3,"message":"Bad request"}');
  } finally {
    await f.close();
  }
});

// ---------------------------------------------------------------------------------------------
// CORS and cookie

Deno.test("CORS: no headers unless the option is set", async () => {
  const f = startEngine();
  try {
    const res = await request(`${f.base}?EIO=4&transport=polling`, {
      headers: { origin: "https://a.example" },
    });
    assert.equal(res.status, 200);
    for (const [name] of res.headers) assert.ok(!name.startsWith("access-control-"), name);
  } finally {
    await f.close();
  }
});

Deno.test("CORS: preflight and a fixed origin", async () => {
  const f = startEngine({ cors: { origin: "https://a.example", maxAge: 60 } });
  try {
    const pre = await request(`${f.base}?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: {
        origin: "https://a.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-thing",
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.body, "");
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://a.example");
    assert.equal(pre.headers.get("access-control-allow-methods"), "GET,HEAD,PUT,PATCH,POST,DELETE");
    assert.equal(pre.headers.get("access-control-allow-headers"), "content-type,x-thing");
    assert.equal(pre.headers.get("access-control-max-age"), "60");
    assert.equal(pre.headers.get("access-control-allow-credentials"), null);
    assert.match(pre.headers.get("vary") ?? "", /Origin/);
    assert.equal(f.engine.clientsCount, 0);

    // A string origin is sent whatever the request's origin.
    const res = await request(`${f.base}?EIO=4&transport=polling`, {
      headers: { origin: "https://other.example" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://a.example");
    const sid = JSON.parse(res.body.slice(1)).sid;
    const ok = await post(f.base, sid, "4x");
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://a.example");
    // Errors carry CORS headers too, so pages can read them.
    const err = await request(`${f.base}?EIO=4&transport=nope`);
    assert.equal(err.headers.get("access-control-allow-origin"), "https://a.example");
  } finally {
    await f.close();
  }
});

Deno.test("CORS: default origin is *, arrays and RegExps reflect matching origins", async () => {
  const star = startEngine({ cors: {} });
  try {
    const res = await request(`${star.base}?EIO=4&transport=polling`, {
      headers: { origin: "https://x.example" },
    });
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
  } finally {
    await star.close();
  }
  for (const origin of [["https://a.example", /\.b\.example$/], /^https:\/\/(a|x\.b)\.example$/]) {
    const f = startEngine({ cors: { origin } });
    try {
      for (
        const [from, allowed] of [
          ["https://a.example", true],
          ["https://x.b.example", true],
          ["https://c.example", false],
        ] as const
      ) {
        const res = await request(`${f.base}?EIO=4&transport=polling`, {
          headers: { origin: from },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("access-control-allow-origin"), allowed ? from : null, from);
        assert.match(res.headers.get("vary") ?? "", /Origin/);
      }
    } finally {
      await f.close();
    }
  }
});

Deno.test("CORS: an origin function and credentials", async () => {
  const asked: (string | undefined)[] = [];
  const f = startEngine({
    cors: {
      origin(origin, callback) {
        asked.push(origin);
        if (origin === "https://boom.example") callback(new Error("boom"));
        else callback(null, origin === "https://ok.example");
      },
      credentials: true,
      exposedHeaders: ["x-a", "x-b"],
    },
  });
  try {
    const url = `${f.base}?EIO=4&transport=polling`;
    const ok = await request(url, { headers: { origin: "https://ok.example" } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("access-control-allow-origin"), "https://ok.example");
    assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
    assert.equal(ok.headers.get("access-control-expose-headers"), "x-a,x-b");
    const no = await request(url, { headers: { origin: "https://no.example" } });
    assert.equal(no.status, 200);
    assert.equal(no.headers.get("access-control-allow-origin"), null);
    const pre = await request(url, {
      method: "OPTIONS",
      headers: { origin: "https://ok.example", "access-control-request-method": "GET" },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "https://ok.example");
    assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
    const boom = await request(url, { headers: { origin: "https://boom.example" } });
    assert.equal(boom.status, 400);
    assert.equal(boom.body, '{"code":3,"message":"Bad request"}');
    assert.deepEqual(asked, [
      "https://ok.example",
      "https://no.example",
      "https://ok.example",
      "https://boom.example",
    ]);
  } finally {
    await f.close();
  }
});

Deno.test("cookie: off by default, the official io cookie when enabled", async () => {
  const off = startEngine();
  try {
    const res = await request(`${off.base}?EIO=4&transport=polling`);
    assert.equal(res.headers.get("set-cookie"), null);
  } finally {
    await off.close();
  }
  const on = startEngine({ cookie: true });
  try {
    const res = await request(`${on.base}?EIO=4&transport=polling`);
    const sid = JSON.parse(res.body.slice(1)).sid;
    assert.equal(res.headers.get("set-cookie"), `io=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    // Only the handshake sets it.
    const later = await request(pollingUrl(on.base, sid), { method: "POST", body: "4x" });
    assert.equal(later.headers.get("set-cookie"), null);
  } finally {
    await on.close();
  }
  const custom = startEngine({
    cookie: { name: "sess", path: "/app", sameSite: "strict", secure: true },
  });
  try {
    const res = await request(`${custom.base}?EIO=4&transport=polling`);
    const sid = JSON.parse(res.body.slice(1)).sid;
    assert.equal(
      res.headers.get("set-cookie"),
      `sess=${sid}; Path=/app; HttpOnly; Secure; SameSite=Strict`,
    );
  } finally {
    await custom.close();
  }
});
