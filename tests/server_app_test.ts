/**
 * A usual app on Deno against the official `socket.io-client@4.8.4`, over polling, WebSocket
 * and the upgrade: what reaches its handlers (rooms of any value, data with `constructor` keys,
 * plain handshake objects, binary as `Buffer`), and that listeners that throw never end the
 * process. tests/server_bun_app_test.ts runs the same app on Bun.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { io as ourClient } from "../client/mod.ts";
import { WsClient } from "./helpers/raw.ts";
import { delay, eachMode, Fixture, next, nextArgs } from "./helpers/socketio.ts";

/** Collects what `report` dispatches on `globalThis` until `stop()`, cancelling the default. */
function reported(): { errors: unknown[]; stop: () => void } {
  const errors: unknown[] = [];
  const listener = (e: ErrorEvent) => {
    e.preventDefault();
    errors.push(e.error);
  };
  globalThis.addEventListener("error", listener);
  return { errors, stop: () => globalThis.removeEventListener("error", listener) };
}

const messages = (errors: unknown[]) => errors.map((e) => (e as Error).message);

/** `promise`, or a failure as soon as `socket` (either side's) disconnects. */
function unlessDisconnected<T>(
  promise: Promise<T>,
  socket: Parameters<typeof next>[0],
): Promise<T> {
  const gone = next(socket, "disconnect").then((reason) => {
    throw new Error(`disconnected first: ${reason}`);
  });
  return Promise.race([promise, gone]);
}

// --- Rooms ----------------------------------------------------------------------------------

eachMode("a room sent as an object is a room of its own (a map key)", async (fx) => {
  const [client, socket] = await fx.pair();
  socket.on("join", (room: string) => socket.join(room));
  const joined = next(socket, "join");
  client.emit("join", { toString: "x" }); // 42["join",{"toString":"x"}]
  await joined;
  const rooms = [...socket.rooms].filter((r) => r !== socket.id);
  assert.deepEqual(rooms, [{ toString: "x" }]);
  socket.on("ping", (ack: (v: string) => void) => ack("pong"));
  assert.equal(await client.emitWithAck("ping"), "pong");
});

eachMode("io.to(an object whose toString says 'x') is not the room 'x'", async (fx) => {
  const objectRoom = { toString: () => "x" } as unknown as string;
  const [inObject, a] = await fx.pair();
  const [inX, b] = await fx.pair();
  a.join(objectRoom);
  b.join("x");
  const wrong: unknown[] = [];
  inX.on("msg", (m: unknown) => wrong.push(m));
  const got = next(inObject, "msg");
  fx.io.to(objectRoom).emit("msg", "to the object");
  assert.equal(await got, "to the object");
  await delay(50); // a wrong delivery would have come by now
  assert.deepEqual(wrong, []);
});

// --- Listeners that throw -------------------------------------------------------------------

eachMode(
  "connection and disconnect listeners that throw are reported; the socket leaves",
  async (fx) => {
    const { errors, stop } = reported();
    try {
      fx.io.of("/throws").on("connection", () => {
        throw new Error("connection listener failed");
      });
      await fx.connect("/throws");
      const [client, socket] = await fx.pair();
      socket.join("room");
      const gone = next(socket, "disconnect");
      socket.on("disconnecting", () => {
        throw new Error("disconnecting listener failed");
      });
      socket.on("disconnect", () => {
        throw new Error("disconnect listener failed");
      });
      client.disconnect();
      await gone;
      // It left its rooms and its namespace all the same.
      assert.equal(fx.io.of("/").adapter.rooms.has("room"), false);
      assert.equal(fx.io.of("/").sockets.size, 0);
      assert.deepEqual(messages(errors), [
        "connection listener failed",
        "disconnecting listener failed",
        "disconnect listener failed",
      ]);
      const [again] = await fx.pair();
      assert.ok(again.connected);
    } finally {
      stop();
    }
  },
);

eachMode("a listener that throws without an error handler is logged, not fatal", async (fx) => {
  const [client, socket] = await fx.pair();
  const logged: unknown[][] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const boomed = next(socket, "boom");
    socket.on("boom", () => {
      throw new Error("nobody handles this");
    });
    client.emit("boom");
    await boomed;
  } finally {
    console.error = error;
  }
  assert.equal(logged.length, 1);
  assert.equal((logged[0][1] as Error).message, "nobody handles this");
  socket.on("still", (ack: (v: string) => void) => ack("here"));
  assert.equal(await client.emitWithAck("still"), "here");
});

// Errors thrown inside the engine (here by its listener) stop at the runtime's WebSocket
// listener. (Over polling, at the POST's reading of its payload: tests/hostile_escapes_test.ts.)
Deno.test("an Engine.IO listener that throws is reported, the server serves on [websocket]", async () => {
  const fx = new Fixture("websocket");
  const { errors, stop } = reported();
  try {
    const [client, socket] = await fx.pair();
    socket.conn.once("packet", () => {
      throw new Error("packet listener failed");
    });
    client.emit("lost"); // the packet the listener failed on
    socket.on("still", (ack: (v: string) => void) => ack("here"));
    assert.equal(await client.emitWithAck("still"), "here");
    assert.deepEqual(messages(errors), ["packet listener failed"]);
  } finally {
    stop();
    await fx.close();
  }
});

// --- Data with keys named like Object.prototype's -------------------------------------------

eachMode("data with constructor and prototype keys is delivered, both ways", async (fx) => {
  const [client, socket] = await fx.pair();
  const message = { constructor: "Ford", car: { constructor: { name: "Ford" } } };
  const words = { prototype: "a first model", constructor: "one who builds", toString: 3 };
  const got = unlessDisconnected(nextArgs(socket, "chat"), socket);
  client.emit("chat", message, words);
  assert.deepEqual(await got, [message, words]);
  const back = unlessDisconnected(nextArgs(client, "chat"), client);
  socket.emit("chat", message, words);
  assert.deepEqual(await back, [message, words]);
});

eachMode("event data leading to a prototype closes that connection, as before", async (fx) => {
  const [client, socket] = await fx.pair();
  const reason = next(socket, "disconnect");
  client.emit("chat", JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'));
  // The official server closes cleanly on a packet it cannot decode: "forced close".
  assert.equal(await reason, "forced close");
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
});

eachMode(
  "an auth leading to a prototype gets a CONNECT_ERROR; the connection stays",
  async (fx) => {
    const seen: unknown[] = [];
    fx.io.use((socket, next) => {
      seen.push(socket.handshake.auth);
      next();
    });
    fx.io.of("/other").on("connection", (socket) => {
      socket.on("ping", (ack: (v: string) => void) => ack("pong"));
    });
    for (
      const auth of [
        '{"__proto__":{"admin":true}}',
        '{"user":{"constructor":{"prototype":{"admin":true}}}}',
      ]
    ) {
      // Another namespace first, on the same connection: it shows the connection stays.
      const other = await fx.connect("/other");
      const engine = other.io.engine;
      const client = fx.track(other.io.socket("/", { auth: JSON.parse(auth) }));
      client.connect();
      const closed = next(engine, "close").then(() =>
        new Error("the connection closed") as Error & { data?: unknown }
      );
      const err = await Promise.race([
        next<Error & { data?: unknown }>(client, "connect_error"),
        closed,
      ]);
      assert.equal(err.message, "Invalid auth");
      assert.match((err.data as { reason: string }).reason, /^forbidden key/);
      assert.equal(other.io.engine, engine);
      assert.equal(engine.readyState, "open");
      assert.equal(await other.timeout(2000).emitWithAck("ping"), "pong");
    }
    assert.deepEqual(seen, []); // the app never saw them
    assert.equal(({} as { admin?: unknown }).admin, undefined);
    // A constructor key alone is data: the middleware sees it.
    await fx.connect("/", { auth: { constructor: "x" } });
    assert.deepEqual(seen, [{ constructor: "x" }]);
  },
);

// --- Binary ---------------------------------------------------------------------------------

/** How a value looks to code ported from Node. */
function describe(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `Buffer ${value.toString("hex")}`;
  if (value instanceof Uint8Array) return "Uint8Array";
  if (value instanceof ArrayBuffer) return `ArrayBuffer ${Buffer.from(value).toString("hex")}`;
  if (Array.isArray(value)) return value.map(describe);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
  }
  return typeof value;
}

eachMode("binary arguments and acks arrive as Buffer, as on Node", async (fx) => {
  const [client, socket] = await fx.pair("/", { auth: { bin: new Uint8Array([9]) } });
  const got = nextArgs(socket, "bin");
  client.emit("bin", new Uint8Array([1, 2]), { nested: [new Uint8Array([3]).buffer] });
  assert.deepEqual((await got).map(describe), ["Buffer 0102", { nested: ["Buffer 03"] }]);
  client.on("give", (ack: (b: Uint8Array) => void) => ack(new Uint8Array([4, 5])));
  assert.equal(describe(await socket.emitWithAck("give")), "Buffer 0405");
  // The auth travels as JSON (the client stringifies it), so binary there is what JSON makes.
  assert.deepEqual(socket.handshake.auth, { bin: { "0": 9 } });
});

eachMode("the Engine.IO session's binary messages are Buffers too, as on Node", async (fx) => {
  const [client, socket] = await fx.pair();
  const messages: unknown[] = [];
  socket.conn.on("message", (data) => typeof data !== "string" && messages.push(data));
  const got = nextArgs(socket, "bin");
  client.emit("bin", new Uint8Array([8, 9]));
  await got;
  assert.deepEqual(messages.map(describe), ["Buffer 0809"]);
});

eachMode("our client still gets binary as ArrayBuffer, as the official client", async (fx) => {
  fx.io.on("connection", (socket) => {
    socket.on("echo", (bin: Uint8Array, ack: (b: Uint8Array) => void) => ack(bin));
  });
  const transports = fx.options().transports as ("polling" | "websocket")[];
  const client = ourClient(fx.url, { transports, forceNew: true, reconnection: false });
  try {
    const echoed = await client.timeout(2000).emitWithAck("echo", new Uint8Array([6, 7]));
    assert.equal(describe(echoed), "ArrayBuffer 0607");
  } finally {
    client.disconnect();
  }
});

// --- Handshake ------------------------------------------------------------------------------

eachMode("socket.handshake.headers and query are plain objects, as on Node", async (fx) => {
  const [, socket] = await fx.pair("/", {
    extraHeaders: { "x-custom": "yes" },
    query: { token: "abc" },
  });
  const { headers, query } = socket.handshake;
  assert.equal(Object.getPrototypeOf(headers), Object.prototype);
  assert.equal(Object.getPrototypeOf(query), Object.prototype);
  // What ported code does with them.
  // deno-lint-ignore no-prototype-builtins
  assert.equal(headers.hasOwnProperty("host"), true);
  // deno-lint-ignore no-prototype-builtins
  assert.equal(headers.hasOwnProperty("x-custom"), true);
  // deno-lint-ignore no-prototype-builtins
  assert.equal(query.hasOwnProperty("token"), true);
  assert.equal(`${headers["x-custom"]} ${query.token}`, "yes abc");
  assert.deepEqual({ ...query }, Object.assign({}, query));
});

/**
 * Sends a polling handshake by hand, with `headers` lines, and returns the session's request
 * snapshot as the server keeps it (`socket.request`, the source of `socket.handshake`).
 */
async function rawHandshake(fx: Fixture, query: string, headers: string) {
  const session = next<
    { request: { headers: object; query: object }; close(discard: boolean): void }
  >(
    fx.io.engine,
    "connection",
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: fx.http.port });
  try {
    await conn.write(new TextEncoder().encode(
      `GET /socket.io/?EIO=4&transport=polling&${query} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `${headers}\r\n`,
    ));
    const socket = await session;
    // Read the answer (the open packet) to its end, so that the server has no request left.
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.endsWith("}")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    socket.close(true); // nobody will poll it
    return socket.request;
  } finally {
    conn.close();
  }
}

const POLLUTER = encodeURIComponent('{"polluted":1}');

Deno.test("a query key or header named __proto__ sets no prototype [polling]", async () => {
  const fx = new Fixture("polling");
  try {
    const { headers, query } = await rawHandshake(
      fx,
      `__proto__=${POLLUTER}&constructor=c`,
      '__proto__: {"polluted":1}\r\nconstructor: c\r\n',
    );
    assert.equal(Object.getPrototypeOf(query), Object.prototype);
    assert.equal(Object.getPrototypeOf(headers), Object.prototype);
    // Own keys, as the official Object.fromEntries keeps a query key, on every runtime.
    for (const bag of [query, headers]) {
      const kept = Object.entries(bag).filter(([k]) => k === "__proto__" || k === "constructor");
      assert.deepEqual(kept, [["__proto__", '{"polluted":1}'], ["constructor", "c"]]);
    }
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  } finally {
    await fx.close();
  }
});

Deno.test("a query key named __proto__ sets no prototype [websocket]", async () => {
  const fx = new Fixture("websocket");
  const session = next<{ request: { query: object } }>(fx.io.engine, "connection");
  const ws = new WsClient(
    `ws://127.0.0.1:${fx.http.port}/socket.io/?EIO=4&transport=websocket&__proto__=${POLLUTER}`,
  );
  try {
    const { query } = (await session).request;
    assert.equal(Object.getPrototypeOf(query), Object.prototype);
    assert.equal(Object.hasOwn(query, "__proto__"), true);
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
  } finally {
    await ws.close();
    await fx.close();
  }
});

// --- Dynamic namespaces whose application code throws ----------------------------------------

eachMode(
  "a throwing new_namespace listener is reported; the client joins the child",
  async (fx) => {
    const log = reported();
    try {
      fx.io.of(/^\/dyn-\d+$/);
      fx.io.on("new_namespace", () => {
        throw new Error("listener failed");
      });
      const client = await fx.connect("/dyn-1");
      assert.ok(client.connected);
      assert.ok(fx.io._nsps.has("/dyn-1"));
      assert.deepEqual(messages(log.errors), ["listener failed"]);
    } finally {
      log.stop();
    }
  },
);

eachMode("a throwing namespace matcher is reported and refuses the name", async (fx) => {
  const log = reported();
  try {
    fx.io.of(() => {
      throw new Error("matcher failed");
    });
    const client = fx.client("/other");
    const err = await next<Error>(client, "connect_error");
    assert.equal(err.message, "Invalid namespace");
    assert.equal(fx.io._nsps.has("/other"), false);
    assert.deepEqual(messages(log.errors), ["matcher failed"]);
  } finally {
    log.stop();
  }
});

// --- Ack callbacks that throw ----------------------------------------------------------------

// In a process of its own, with no `error` listener (a listener would also catch an uncaught
// error out of a timer, which otherwise ends a Deno process).
for (const transport of ["polling", "websocket"]) {
  Deno.test(`an ack callback that throws on its timeout does not end the process [${transport}]`, async () => {
    const fixture = new URL("./fixtures/throwing_ack_app.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", fixture, transport],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "alive");
    // Both errors were reported (logged), not lost.
    assert.match(stderr, /socket ack failed/);
    assert.match(stderr, /broadcast ack failed/);
  });
}
