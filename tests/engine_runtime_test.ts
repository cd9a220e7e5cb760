/**
 * The runtime boundary on Deno: the runtime is chosen once per engine (the `runtime` option, else
 * the one it runs on), a wrong `runtime` is refused at construction, and a WebSocket upgrade the
 * runtime refuses is reported in `connection_error` with its cause, as the official server
 * reports a transport it could not create.
 */
import assert from "node:assert/strict";
import { Server as SocketServer } from "../mod.ts";
import { type ConnectionError, type Runtime, Server as Engine } from "../server/engine/mod.ts";
import { handshake, poll, startEngine } from "./helpers/engine.ts";
import { rawRequest } from "./helpers/raw.ts";

/** A WebSocket upgrade request without `Sec-WebSocket-Key`, which Deno refuses to upgrade. */
function keylessUpgrade(port: number, pathAndQuery: string): ReturnType<typeof rawRequest> {
  return rawRequest(
    port,
    `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
}

Deno.test("the runtime is found once, at construction: Deno here", () => {
  const engine = new Engine();
  assert.equal(engine.runtime.name, "deno");
  const io = new SocketServer();
  assert.equal(io.engine.runtime.name, "deno");
});

Deno.test("a runtime given as an option is the one the engine uses", async () => {
  const deno = new Engine().runtime;
  const seen: string[] = [];
  // Deno's own runtime, looked through: every upgrade goes through the option's object.
  const runtime: Runtime = {
    ...deno,
    name: "mine",
    upgrade(req, info, events, headers) {
      seen.push(new URL(req.url).searchParams.get("transport") ?? "");
      return deno.upgrade(req, info, events, headers);
    },
  };
  const f = startEngine({ runtime });
  try {
    assert.equal(f.engine.runtime, runtime);
    const ws = new WebSocket(`${f.wsBase}?EIO=4&transport=websocket`);
    const open = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("no WebSocket"));
    });
    assert.match(open, /^0\{"sid"/);
    const closed = new Promise((resolve) => (ws.onclose = resolve));
    ws.close();
    await closed;
    assert.deepEqual(seen, ["websocket"]);
  } finally {
    await f.close();
  }
});

Deno.test("a runtime's answer takes polling answers for its own server's requests only", async () => {
  // A server that writes answers itself (as the Node bridge does) marks its requests' info.
  const mine = { server: "mine" };
  type Seen = Record<"cookie" | "extra" | "middleware", string | null>;
  const answers: (Seen & { status: number; body: string })[] = [];
  const runtime: Runtime = {
    ...new Engine().runtime,
    answer: (info) =>
      info === mine
        ? (status, headers, body) => {
          answers.push({
            status,
            cookie: headers.get("set-cookie"),
            extra: headers.get("x-extra"),
            middleware: headers.get("x-middleware"),
            body: String(body),
          });
          return new Response(null, { status: 204 });
        }
        : undefined,
  };
  const engine = new Engine({ runtime, cookie: true });
  engine.on("headers", (headers) => (headers["x-extra"] = "from a listener"));
  engine.on("connection", (socket) => socket.on("message", (data) => socket.send(`echo:${data}`)));
  engine.use((_req, res, next) => {
    res.setHeader("x-middleware", "yes");
    next();
  });
  const fetch = engine.handler();
  try {
    const url = "http://localhost/engine.io/?EIO=4&transport=polling";
    const written = await fetch(new Request(url), mine);
    assert.equal(written.status, 204);
    assert.equal(answers.length, 1);
    assert.equal(answers[0].status, 200);
    assert.match(answers[0].body, /^0\{"sid":"[^"]+"/);
    assert.match(answers[0].cookie ?? "", /^io=/);
    assert.equal(answers[0].extra, "from a listener");
    assert.equal(answers[0].middleware, "yes");
    const sid = JSON.parse(answers[0].body.slice(1)).sid;
    const post = { method: "POST", body: "40", headers: { "content-length": "2" } };
    await fetch(new Request(`${url}&sid=${sid}`, post), mine);
    assert.deepEqual(answers[1], {
      status: 200,
      cookie: null,
      extra: "from a listener",
      middleware: "yes",
      body: "ok",
    });
    // Any other caller of the handler gets a real Response.
    const polled = await fetch(new Request(`${url}&sid=${sid}`));
    assert.equal(polled.status, 200);
    assert.equal(polled.headers.get("x-extra"), "from a listener");
    assert.equal(await polled.text(), "4echo:0");
    assert.equal(answers.length, 2);
  } finally {
    engine.close();
  }
});

Deno.test("a wrong runtime option is refused at construction, naming it", () => {
  const wrong: [unknown, RegExp][] = [
    ["node", /option "runtime" must be a Runtime object, not its name.*@socketio-edge\/core\/node/],
    [{}, /option "runtime" must be a Runtime \(an object with the methods canUpgrade/],
    [42, /option "runtime" must be a Runtime/],
    [
      { ...new Engine().runtime, upgrade: "yes" },
      /option "runtime" must be a Runtime .*got an object/,
    ],
    [{ ...new Engine().runtime, fanOut: 1 }, /option "runtime" must be a Runtime/],
    [{ ...new Engine().runtime, answer: 1 }, /option "runtime" must be a Runtime/],
    [{ ...new Engine().runtime, name: 1 }, /option "runtime.name" must be a string, got 1/],
  ];
  for (const [runtime, message] of wrong) {
    assert.throws(() => new Engine({ runtime: runtime as Runtime }), TypeError);
    assert.throws(() => new Engine({ runtime: runtime as Runtime }), message);
    // The Socket.IO server passes it on, checked the same way.
    assert.throws(() => new SocketServer({ runtime: runtime as Runtime }), message);
  }
});

Deno.test("an upgrade the runtime refuses is a connection_error with its cause", async () => {
  const f = startEngine();
  const errors: ConnectionError[] = [];
  f.engine.on("connection_error", (e) => errors.push(e));
  try {
    // A WebSocket handshake: Deno refuses a request without a key, and no session opens.
    const refused = await keylessUpgrade(f.http.port, "/engine.io/?EIO=4&transport=websocket");
    assert.equal(refused.status, 400);
    assert.equal(f.engine.clientsCount, 0);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 3);
    assert.equal(errors[0].message, "Bad request");
    assert.equal(errors[0].context.name, "TRANSPORT_HANDSHAKE_ERROR");
    assert.ok(errors[0].context.error instanceof Error);
    assert.match(String(errors[0].context.error), /sec-websocket-key/i);
    assert.equal(errors[0].req.query.transport, "websocket");

    // The upgrade of a polling session: refused the same way, and polling goes on.
    const { sid } = await handshake(f.base);
    const upgrade = await keylessUpgrade(
      f.http.port,
      `/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
    );
    assert.equal(upgrade.status, 400);
    assert.equal(errors.length, 2);
    assert.equal(errors[1].context.name, "TRANSPORT_HANDSHAKE_ERROR");
    assert.match(String(errors[1].context.error), /sec-websocket-key/i);
    assert.equal(errors[1].req.query.sid, sid);
    f.engine.clients.get(sid)!.send("still here");
    assert.equal(await poll(f.base, sid), "4still here");
  } finally {
    await f.close();
  }
});

Deno.test("a generateId that throws is a connection_error with its cause", async () => {
  const cause = new Error("no ids today");
  const f = startEngine({
    generateId: () => {
      throw cause;
    },
  });
  const errors: ConnectionError[] = [];
  f.engine.on("connection_error", (e) => errors.push(e));
  try {
    const res = await fetch(`${f.base}?EIO=4&transport=polling`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 3, message: "Bad request" });
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 3);
    assert.deepEqual(errors[0].context, { name: "ID_GENERATION_ERROR", error: cause });
  } finally {
    await f.close();
  }
});
