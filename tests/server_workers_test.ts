/**
 * The Socket.IO server on Cloudflare Workers, in real workerd (npm `workerd` through miniflare,
 * installed by the test): tests/fixtures/workers_app.ts, the Durable Object of
 * `@socketio-edge/core/workers` behind its Worker entry, with hibernatable WebSockets and with
 * plain ones. The official client and ours chat through it over polling, WebSocket and the
 * upgrade; the client bundle is served as the Deno server serves it; and a Durable Object that
 * leaves memory while its clients are idle comes back with every session, socket, room and
 * `socket.data`, the clients never noticing. Without npm the test prints SKIPPED.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import ioV2 from "socket.io-client-v2";
import { io as ourClient } from "../client/mod.ts";
import { Server } from "../mod.ts";
import { installWorkerd, startWorkerd, type WorkerdApp } from "./helpers/workerd.ts";
import {
  type ClientOptions,
  type ClientSocket,
  connected,
  delay,
  type Mode,
  MODES,
  next,
  nextArgs,
  officialClient,
  settle,
  upgraded,
} from "./helpers/socketio.ts";

const APP = new URL("./fixtures/workers_app.ts", import.meta.url).pathname;

/** The fixture with hibernatable WebSockets (`hibernate`), or plain ones. */
type Kind = "hibernate" | "plain";

/** Starts the fixture in workerd, or says why it cannot (the test then prints SKIPPED). */
async function startApp(kind: Kind, env: Record<string, string> = {}): Promise<WorkerdApp> {
  return await startWorkerd({
    entry: APP,
    durableObjects: { SOCKET_IO: "SocketIO" },
    bindings: { HIBERNATE: kind === "hibernate" ? "1" : "0", ...env },
  });
}

/** A test against a fresh fixture in workerd, skipped with a message where it cannot run. */
function workersTest(
  name: string,
  // Returns what the Worker must have logged (errors it reports); nothing else may be logged.
  fn: (app: WorkerdApp, t: Deno.TestContext) => Promise<string[] | void>,
  kinds: Kind[] = ["hibernate", "plain"],
  env: Record<string, string> = {},
): void {
  for (const kind of kinds) {
    Deno.test(`Socket.IO on Workers (${kind}): ${name}`, async (t) => {
      const why = await installWorkerd();
      if (why) {
        console.log(`SKIPPED: workerd could not be installed from npm: ${why}`);
        return;
      }
      const app = await startApp(kind, env);
      let out = "";
      let expected: string[] = [];
      try {
        expected = await fn(app, t) ?? [];
      } finally {
        out = await app.stop();
      }
      for (const message of expected) assert.ok(out.includes(message), out);
      // Nothing else: no error of ours, no uncaught exception.
      const rest = expected.reduce((o, m) => o.replaceAll(m, ""), out).replace(/^ +at .*$/gm, "");
      assert.doesNotMatch(rest, /error|uncaught/i, out);
    });
  }
}

/** The client's transports in each mode. */
const TRANSPORTS: Record<Mode, string[]> = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

/** Makes clients and closes them all at the end. */
class Clients {
  readonly all: ClientSocket[] = [];

  constructor(readonly url: string, readonly make: typeof officialClient) {}

  open(nsp = "/", opts: ClientOptions = {}): ClientSocket {
    const c = this.make(this.url + nsp, { forceNew: true, reconnection: false, ...opts });
    this.all.push(c);
    return c;
  }

  async close(): Promise<void> {
    const engines = new Set(this.all.map((c) => c.io.engine));
    const closed = [...engines].filter((e) => e && e.readyState !== "closed")
      .map((e) => next(e, "close"));
    for (const c of this.all) c.disconnect();
    for (const e of engines) e?.close();
    await Promise.all(closed);
    await settle();
  }
}

/** What every client must be able to do through the Durable Object, in one transport mode. */
async function chat(clients: Clients, mode: Mode): Promise<void> {
  const transports = TRANSPORTS[mode];
  const a = clients.open("/", { transports });
  const [id, transport] = await nextArgs<[string, string]>(a, "welcome");
  assert.equal(id, a.id);
  assert.equal(transport, mode === "websocket" ? "websocket" : "polling");
  if (mode === "upgrade") await upgraded(a);

  // Acks both ways, mixed and binary arguments: binary arrives as a Buffer (nodejs_compat).
  assert.equal(await a.timeout(3000).emitWithAck("echo", "text", { n: 1 }), "text");
  const [kinds, bytes] = await new Promise<unknown[]>((resolve) =>
    a.emit("binary", new Uint8Array([1, 2, 3]), "x", (...args: unknown[]) => resolve(args))
  );
  assert.deepEqual(kinds, ["Buffer 010203", "string"]);
  assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [7, 8, 9]);
  a.once("question", (_q: string, ack: (answer: string) => void) => ack("42"));
  a.emit("ask-me");
  assert.equal(await next(a, "answered"), "42");

  // Rooms and broadcasts between two clients.
  const b = clients.open("/", { transports });
  await connected(b);
  if (mode === "upgrade") await upgraded(b);
  await a.timeout(3000).emitWithAck("join", "r1");
  const roomMsg = next(a, "room-msg");
  b.emit("to-room", "r1", "hello room");
  assert.equal(await roomMsg, "hello room");
  const got = Promise.all([next(a, "bcast"), next(b, "bcast")]);
  b.emit("broadcast", { p: 1 });
  assert.deepEqual(await got, [{ p: 1 }, { p: 1 }]);
  await a.timeout(3000).emitWithAck("leave", "r1");
  const rooms = await a.timeout(3000).emitWithAck("whoami") as { rooms: string[] };
  assert.deepEqual(rooms.rooms, []);

  // A namespace with middleware, on the same connection: its error and data reach the client.
  const denied = clients.open("/admin", { transports, forceNew: false, auth: { token: "no" } });
  const err = await next<Error & { data?: unknown }>(denied, "connect_error");
  assert.equal(err.message, "not authorized");
  assert.deepEqual(err.data, { code: 42 });
  const admin = clients.open("/admin", { transports, auth: { token: "ok" } });
  await next(admin, "admin-welcome");

  // A server-side disconnect reaches the client with the official reason.
  const reason = next(a, "disconnect");
  a.emit("disconnect-me");
  assert.equal(await reason, "io server disconnect");
}

workersTest("the official client over polling, websocket and upgrade", async (app, t) => {
  for (const mode of MODES) {
    await t.step(mode, async () => {
      const clients = new Clients(app.url, officialClient);
      try {
        await chat(clients, mode);
      } finally {
        await clients.close();
      }
    });
  }
});

workersTest("our client over polling, websocket and upgrade", async (app, t) => {
  for (const mode of MODES) {
    await t.step(mode, async () => {
      const clients = new Clients(app.url, ourClient as unknown as typeof officialClient);
      try {
        await chat(clients, mode);
      } finally {
        await clients.close();
      }
    });
  }
});

/** A GET with Node's client, which hands the body over as it came (no decompression). */
function rawGet(url: string, headers: Record<string, string>): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("end", () => {
        const body = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const c of chunks) body.set(c, (at += c.byteLength) - c.byteLength);
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

workersTest("the client bundle is served as on Deno, compressed once", async (app) => {
  const io = new Server();
  const deno = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, io.handler());
  try {
    const denoUrl = `http://127.0.0.1:${deno.addr.port}`;
    for (const file of ["socket.io.js", "socket.io.min.js"]) {
      const plain = await rawGet(`${denoUrl}/socket.io/${file}`, {});
      for (const coding of ["br", "gzip", "identity"]) {
        const headers = { "accept-encoding": coding };
        const want = await rawGet(`${denoUrl}/socket.io/${file}`, headers);
        const got = await rawGet(`${app.url}/socket.io/${file}`, headers);
        assert.equal(got.status, 200);
        assert.equal(got.headers["content-type"], want.headers["content-type"]);
        assert.equal(got.headers["etag"], want.headers["etag"]);
        assert.equal(got.headers["content-encoding"], want.headers["content-encoding"]);
        if (coding === "gzip") {
          // gzip by each runtime's own zlib: one decompression gives the script.
          assert.deepEqual(gunzipSync(got.body), gunzipSync(want.body), `${file} ${coding}`);
        } else {
          assert.deepEqual(got.body, want.body, `${file} ${coding}`);
        }
      }
      assert.ok(new TextDecoder().decode(plain.body).includes("socketio-edge"));
    }
  } finally {
    await deno.shutdown();
    await io.close();
  }
}, ["hibernate"]);

/** A raw WebSocket to the server, past the Engine.IO open packet. */
async function rawWebSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  const open = await new Promise<MessageEvent>((resolve, reject) => {
    ws.onmessage = resolve;
    ws.onerror = reject;
  });
  assert.match(String(open.data), /^0\{"sid":/);
  ws.onmessage = null;
  return ws;
}

workersTest("the client's close is answered with its code, and without one", async (app) => {
  for (const [code, reason] of [[4001, "bye"], [1000, ""], [undefined, undefined]] as const) {
    const ws = await rawWebSocket(app.url);
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close(code, reason);
    const event = await closed;
    // A close left unanswered ends as 1006, not clean, after the client's own timeout.
    assert.equal(event.wasClean, true, `close(${code})`);
    // Without a code, the answer has 1000 or none (workerd's own reply, where it makes one).
    if (code === undefined) assert.ok(event.code === 1000 || event.code === 1005, `${event.code}`);
    else assert.equal(event.code, code);
  }
});

workersTest("a listener that throws is reported, and the object serves on", async (app) => {
  const clients = new Clients(app.url, officialClient);
  try {
    const a = clients.open("/", { transports: ["websocket"] });
    await connected(a);
    a.emit("throw");
    assert.equal(await a.timeout(3000).emitWithAck("echo", "still here"), "still here");
    const b = clients.open("/", { transports: ["polling"] });
    await connected(b);
    b.emit("throw");
    assert.equal(await b.timeout(3000).emitWithAck("echo", "still here"), "still here");
  } finally {
    await clients.close();
  }
  return [
    "socketio-edge: uncaught Error: listener failed on purpose",
    "socketio-edge: uncaught Error: listener failed on purpose",
  ];
});

workersTest("the Worker sends each shard of the app to an object of its own", async (app) => {
  const clients = new Clients(app.url, officialClient);
  try {
    const open = (shard: string) => clients.open("/", { query: { shard } });
    const [a1, a2, b] = [open("a"), open("a"), open("b")];
    await Promise.all([a1, a2, b].map(connected));
    const instance = (c: ClientSocket) => c.timeout(3000).emitWithAck("instance");
    const [i1, i2, i3] = await Promise.all([a1, a2, b].map(instance));
    assert.equal(i1, i2);
    assert.notEqual(i1, i3);
    // A broadcast stays in its object: b, in another, gets nothing.
    const bGot: unknown[] = [];
    b.on("bcast", (m: unknown) => bGot.push(m));
    const both = Promise.all([next(a1, "bcast"), next(a2, "bcast")]);
    a1.emit("broadcast", "shard a");
    assert.deepEqual(await both, ["shard a", "shard a"]);
    await b.timeout(3000).emitWithAck("echo", "sync");
    assert.deepEqual(bGot, []);
  } finally {
    await clients.close();
  }
}, ["hibernate"]);

/** Resolves once `c` got `n` events `ev`. */
function messages(c: ClientSocket, ev: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const on = () => {
      if (--left > 0) return;
      c.off(ev, on);
      resolve();
    };
    c.on(ev, on);
  });
}

/** What a client saw that it must not see while the server hibernates. */
function watch(c: ClientSocket): string[] {
  const seen: string[] = [];
  c.on("disconnect", (reason: string) => seen.push(`disconnect ${reason}`));
  c.on("connect_error", (err: Error) => seen.push(`connect_error ${err.message}`));
  c.io.on("reconnect_attempt", () => seen.push("reconnect_attempt"));
  c.io.engine.on("close", (reason: string) => seen.push(`engine close ${reason}`));
  return seen;
}

type Who = {
  id: string;
  data: { name?: string; connections: number };
  rooms: string[];
  recovered: boolean;
  sid: string;
  transport: string;
  auth: unknown;
  issued: number;
};

workersTest(
  "an idle object leaves memory and comes back with every session, room and socket.data",
  async (app) => {
    const official = new Clients(app.url, officialClient);
    const ours = new Clients(app.url, ourClient as unknown as typeof officialClient);
    // What the object must have reported.
    const lost: string[] = [];
    try {
      const a = official.open("/", { transports: ["websocket"], auth: { user: "a" } });
      const b = official.open("/", { transports: ["websocket"] });
      const c = ours.open("/", { transports: ["polling", "websocket"] });
      await Promise.all([connected(a), connected(b), connected(c)]);
      await upgraded(c);
      const adminA = official.open("/admin", { forceNew: false, auth: { token: "ok" } });
      await next(adminA, "admin-welcome");
      // A dynamic namespace on a's own connection (the manager's socket connects by itself).
      const dynA = a.io.socket("/dyn-x");
      official.all.push(dynA);
      await connected(dynA);
      const seen = [a, b, c, adminA, dynA].map(watch);
      // A Socket.IO v2 client (Engine.IO v3: it pings the server) over WebSocket.
      const v2 = ioV2(app.url, {
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
      }) as unknown as ClientSocket;
      official.all.push(v2);
      await next(v2, "connect");
      const v2Seen: string[] = [];
      v2.on("disconnect", (reason: string) => v2Seen.push(`disconnect ${reason}`));
      const v2Id = v2.id;
      const pings = { n: 0 };
      for (const x of [a, b, c]) x.io.engine.on("ping", () => pings.n++);

      const ack = (x: ClientSocket, ev: string, ...args: unknown[]) =>
        x.timeout(5000).emitWithAck(ev, ...args);
      // d is in a room storage cannot clone, from before its other changes: those are saved.
      const d = official.open("/", { transports: ["websocket"] });
      await connected(d);
      await ack(d, "join-object");
      for (const [x, name] of [[a, "ann"], [b, "bob"], [c, "cy"], [d, "dee"]] as const) {
        await ack(x, "set-name", name);
      }
      await ack(d, "join", "r3");
      await ack(a, "join", "r1");
      await ack(a, "join", "r2");
      await ack(b, "join", "r1");
      await ack(c, "join", "r2");
      const before = await Promise.all([a, b, c].map((x) => ack(x, "whoami") as Promise<Who>));
      const first = await ack(a, "instance");
      // A question the server waits an answer for, left unanswered while the object goes.
      const question = nextArgs<[string, (answer: string) => void]>(a, "question");
      a.emit("ask-later");
      const [, staleAck] = await question;

      // Idle: no traffic but the heartbeat (every 12 s) until the object is another instance.
      let instance = first;
      for (let i = 0; i < 5 && instance === first; i++) {
        await delay(12_000);
        instance = await ack(a, "instance");
      }
      assert.notEqual(instance, first, "the object never left memory");

      // Every session and socket is back as it was, its connection listeners run again.
      const after = await Promise.all([a, b, c].map((x) => ack(x, "whoami") as Promise<Who>));
      for (const [i, who] of after.entries()) {
        const was = before[i];
        assert.equal(who.recovered, true);
        assert.ok(who.data.connections >= 2, JSON.stringify(who));
        assert.deepEqual(
          { ...who, recovered: false, data: { ...who.data, connections: 1 } },
          { ...was, recovered: false, data: { ...was.data, connections: 1 } },
        );
      }
      assert.deepEqual(after.map((w) => w.rooms), [["r1", "r2"], ["r1"], ["r2"]]);
      assert.deepEqual(after.map((w) => w.data.name), ["ann", "bob", "cy"]);
      // d is back with its data and its other room; the object room it was told it would lose.
      const dWho = await ack(d, "whoami") as Who;
      assert.deepEqual([dWho.id, dWho.data.name, dWho.rooms], [d.id, "dee", ["r3"]]);
      lost.push(
        `socketio-edge: uncaught Error: socket ${d.id} of namespace / is saved without a room ` +
          "that cannot be structured-cloned: after hibernation it is not in it: ",
      );
      assert.equal(await ack(adminA, "instance"), await ack(a, "instance"));
      const where = await new Promise((resolve) =>
        dynA.emit("where", (...args: unknown[]) => resolve(args))
      );
      assert.deepEqual(where, ["/dyn-x", await ack(a, "instance"), true]);

      // Rooms are addressable: socket.to(room) and io.to(room) reach the restored sockets.
      const got = [a, b, c].map((x) => {
        const msgs: unknown[] = [];
        x.on("room-msg", (m: unknown) => msgs.push(m));
        return msgs;
      });
      const arrived = Promise.all([messages(a, "room-msg", 2), messages(c, "room-msg", 1)]);
      b.emit("to-room", "r1", "m1");
      b.emit("room-all", "r2", "m2");
      await arrived;
      // Anything for b would have come before this answer, on the same connection.
      await ack(b, "echo", "sync");
      assert.deepEqual(got, [["m1", "m2"], [], ["m2"]]);

      // The ack awaited before the object went is gone: its late answer is dropped, and a new
      // question's answer is its own.
      const again = nextArgs<[string, (answer: string) => void]>(a, "question");
      a.emit("ask-later");
      const [, freshAck] = await again;
      const answered = next(a, "answered");
      staleAck("stale");
      freshAck("fresh");
      assert.equal(await answered, "fresh");

      // The v2 client too: same socket id, acks, and gone when it leaves.
      const v2Echo = await new Promise((resolve) => v2.emit("echo", "v2", resolve));
      assert.equal(v2Echo, "v2");
      assert.equal(v2.id, v2Id);
      assert.deepEqual(v2Seen, []);
      const v2Closed = next(v2.io.engine, "close");
      v2.close();
      await v2Closed;

      // Acks both ways and binary, on every client.
      for (const x of [a, b, c]) {
        assert.equal(await ack(x, "echo", "after"), "after");
        assert.deepEqual(await ack(x, "binary", new Uint8Array([5])), ["Buffer 05"]);
        x.once("question", (_q: string, reply: (answer: string) => void) => reply("yes"));
        x.emit("ask-me");
        assert.equal(await next(x, "answered"), "yes");
      }

      // Idle again, through heartbeats driven by the object's alarm: it leaves memory between
      // two pings (a ping wakes it, nothing else until the next), and the clients stay.
      const pinged = pings.n;
      let later = instance;
      for (let i = 0; i < 4 && later === instance; i++) {
        await delay(13_000);
        later = await ack(a, "instance");
      }
      assert.ok(pings.n > pinged, "no ping came while idle");
      assert.notEqual(later, instance, "the object never left memory between heartbeats");
      const last = await Promise.all([a, b, c].map((x) => ack(x, "whoami") as Promise<Who>));
      assert.deepEqual(last.map((w) => w.id), before.map((w) => w.id));
      assert.deepEqual(last.map((w) => w.sid), before.map((w) => w.sid));
      assert.deepEqual([a, b, c].map((x) => x.io.engine.id), before.map((w) => w.sid));
      assert.deepEqual(seen, [[], [], [], [], []]);
    } finally {
      await official.close();
      await ours.close();
    }
    return lost;
  },
  ["hibernate"],
  { PING_INTERVAL: "12000", PING_TIMEOUT: "8000" },
);
