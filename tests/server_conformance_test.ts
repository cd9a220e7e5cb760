/**
 * Socket.IO protocol v5 conformance, with hand-written packets over plain WebSocket and fetch
 * (no client library): what the server answers, byte for byte, and how it handles bad input.
 */
import assert from "node:assert/strict";
import { type ExtendedError, Server, type ServerOptions, type Socket } from "../mod.ts";
import * as parser from "../parser/socket.ts";
import { type Frame, WsClient } from "./helpers/raw.ts";
import { serve, type TestServer } from "./helpers/serve.ts";

const SID = "[A-Za-z0-9_-]{20}";

/** A server on a free port. */
class Harness {
  readonly io: Server;
  readonly http: TestServer;
  readonly #clients: RawClient[] = [];

  constructor(opts: Partial<ServerOptions> = {}) {
    this.io = new Server(opts);
    this.http = serve(this.io.handler());
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.http.port}/socket.io/?EIO=4&transport=websocket`;
  }

  get pollUrl(): string {
    return `${this.http.origin}/socket.io/?EIO=4&transport=polling`;
  }

  /** An Engine.IO v4 WebSocket session, open packet read. */
  async ws(): Promise<RawClient> {
    const client = new RawClient(this.wsUrl);
    this.#clients.push(client);
    await client.ws.opened;
    const open = await client.ws.next();
    assert.equal(typeof open, "string");
    assert.equal((open as string)[0], "0");
    return client;
  }

  /** A session joined to `nsp` (answer checked). */
  async joined(nsp = "/"): Promise<RawClient> {
    const client = await this.ws();
    client.send(nsp === "/" ? "0" : `0${nsp},`);
    const reply = await client.next();
    assert.match(
      reply as string,
      new RegExp(`^0${nsp === "/" ? "" : nsp + ","}\\{"sid":"${SID}"\\}$`),
    );
    return client;
  }

  /** The next connection's server-side socket in `nsp`. */
  nextSocket(nsp = "/"): Promise<Socket> {
    return new Promise((resolve) => this.io.of(nsp).once("connection", resolve));
  }

  async close(): Promise<void> {
    await Promise.all(this.#clients.map((c) => c.ws.close()));
    await this.io.close();
    await this.http.close();
  }
}

/** An Engine.IO v4 WebSocket speaking Socket.IO packets: `send("2[...]")` sends `42[...]`. */
class RawClient {
  readonly ws: WsClient;

  constructor(url: string) {
    this.ws = new WsClient(url);
  }

  /** Sends a Socket.IO packet's text (the Engine.IO message prefix is added). */
  send(packet: string): void {
    this.ws.send("4" + packet);
  }

  /** Sends a binary attachment (an Engine.IO v4 binary message is the bare bytes). */
  sendBinary(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  /** The next Socket.IO packet text, or a binary attachment; pings are answered. */
  async next(): Promise<Frame> {
    for (;;) {
      const frame = await this.ws.next();
      if (typeof frame !== "string") return frame;
      if (frame === "2") {
        this.ws.send("3");
        continue;
      }
      assert.equal(frame[0], "4", `expected a message, got ${frame}`);
      return frame.slice(1);
    }
  }

  /** Whether the server closed the WebSocket (waits for it). */
  async closedByServer(): Promise<true> {
    await this.ws.closed;
    return true;
  }
}

function test(
  name: string,
  fn: (h: Harness) => Promise<void>,
  opts: Partial<ServerOptions> = {},
): void {
  Deno.test(name, async () => {
    const h = new Harness(opts);
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  });
}

// --- CONNECT --------------------------------------------------------------------------------

test('CONNECT to / is answered exactly 40{"sid":...} (no pid)', async (h) => {
  const client = await h.ws();
  const socket = h.nextSocket();
  client.send("0");
  const reply = await client.next() as string;
  assert.match(reply, new RegExp(`^0\\{"sid":"${SID}"\\}$`));
  const s = await socket;
  assert.equal(reply, `0{"sid":"${s.id}"}`);
  assert.equal(s.pid, undefined);
});

test("with connectionStateRecovery, CONNECT is answered with sid and pid", async (h) => {
  const client = await h.ws();
  client.send("0");
  const reply = await client.next() as string;
  assert.match(reply, new RegExp(`^0\\{"sid":"${SID}","pid":"${SID}"\\}$`));
}, { connectionStateRecovery: {} });

test('CONNECT to /admin is answered 40/admin,{"sid":...}; auth reaches the handshake', async (h) => {
  h.io.of("/admin");
  const client = await h.ws();
  const socket = h.nextSocket("/admin");
  client.send('0/admin,{"token":"t"}');
  const reply = await client.next() as string;
  assert.match(reply, new RegExp(`^0/admin,\\{"sid":"${SID}"\\}$`));
  assert.deepEqual((await socket).handshake.auth, { token: "t" });
});

test('an unknown namespace gets exactly 44/nope,{"message":"Invalid namespace"}', async (h) => {
  const client = await h.ws();
  client.send("0/nope,");
  assert.equal(await client.next(), '4/nope,{"message":"Invalid namespace"}');
  // The connection stays: "/" can still be joined.
  client.send("0");
  assert.match(await client.next() as string, /^0\{"sid":/);
});

/** A Socket.IO session over raw long-polling: `send("0/a")` POSTs `40/a`; `next()` polls. */
class RawPollingClient {
  readonly #url: string;
  #received: string[] = [];

  constructor(url: string) {
    this.#url = url;
  }

  static async open(h: Harness): Promise<RawPollingClient> {
    const open = await (await fetch(h.pollUrl)).text();
    return new RawPollingClient(`${h.pollUrl}&sid=${JSON.parse(open.slice(1)).sid}`);
  }

  async send(packet: string): Promise<void> {
    const res = await fetch(this.#url, { method: "POST", body: "4" + packet });
    assert.equal(await res.text(), "ok");
  }

  async next(): Promise<string> {
    while (this.#received.length === 0) {
      this.#received = (await (await fetch(this.#url)).text()).split("\x1e");
    }
    const packet = this.#received.shift()!;
    assert.equal(packet[0], "4", `expected a message, got ${packet}`);
    return packet.slice(1);
  }

  async close(): Promise<void> {
    await (await fetch(this.#url, { method: "POST", body: "1" })).text();
  }
}

// The official parser ends the namespace at the end of the packet when the comma is missing,
// and the official protocol test suite sends 40/random and 41/custom.
for (const transport of ["websocket", "polling"]) {
  test(`CONNECT and DISCONNECT without the comma: 40/random, 40/custom, 41/custom [${transport}]`, async (h) => {
    h.io.of("/custom");
    const client = transport === "websocket" ? await h.ws() : await RawPollingClient.open(h);
    try {
      await client.send("0/random");
      assert.equal(await client.next(), '4/random,{"message":"Invalid namespace"}');
      const socket = h.nextSocket("/custom");
      await client.send("0/custom");
      assert.equal(await client.next(), `0/custom,{"sid":"${(await socket).id}"}`);
      const reason = new Promise((resolve) => socket.then((s) => s.once("disconnect", resolve)));
      await client.send("1/custom");
      assert.equal(await reason, "client namespace disconnect");
      // The connection stays.
      assert.equal(h.io.engine.clientsCount, 1);
      await client.send("0");
      assert.match(await client.next() as string, new RegExp(`^0\\{"sid":"${SID}"\\}$`));
    } finally {
      if (client instanceof RawPollingClient) await client.close();
    }
  });
}

// An auth the decoder refuses (a way to a prototype) is refused like a middleware would refuse
// it, without closing the connection (the official server would hand it to the app).
for (const transport of ["websocket", "polling"]) {
  test(`CONNECT with an auth leading to a prototype gets 44 "Invalid auth" [${transport}]`, async (h) => {
    h.io.of("/admin");
    const client = transport === "websocket" ? await h.ws() : await RawPollingClient.open(h);
    try {
      await client.send('0{"__proto__":{"admin":true}}');
      assert.equal(
        await client.next(),
        '4{"message":"Invalid auth","data":{"reason":"forbidden key: __proto__"}}',
      );
      const long = `{"pad":"${"p".repeat(60)}","a":{"constructor":{"prototype":{}}}}`;
      await client.send(`0/admin,${long}`);
      assert.equal(
        await client.next(),
        '4/admin,{"message":"Invalid auth","data":{"reason":"forbidden key: constructor.prototype"}}',
      );
      await client.send('0{"constructor":"x"}');
      assert.match(await client.next() as string, new RegExp(`^0\\{"sid":"${SID}"\\}$`));
      assert.equal(h.io.sockets.sockets.size, 1);
    } finally {
      if (client instanceof RawPollingClient) await client.close();
    }
  });
}

test("a refused auth for a namespace already joined closes, as a second CONNECT does", async (h) => {
  const client = await h.joined();
  client.send('0{"__proto__":1}');
  assert.equal(await client.closedByServer(), true);
});

test("41 on / leaves the namespace and keeps the Engine.IO connection", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const reason = new Promise((resolve) => s.once("disconnect", resolve));
  client.send("1");
  assert.equal(await reason, "client namespace disconnect");
  assert.equal(h.io.engine.clientsCount, 1);
  // Joining again on the same connection works, with a new socket id.
  const again = h.nextSocket();
  client.send("0");
  const reply = await client.next() as string;
  assert.equal(reply, `0{"sid":"${(await again).id}"}`);
  assert.notEqual((await again).id, s.id);
});

test('a middleware error is answered 44{"message":...,"data":...}', async (h) => {
  h.io.use((_socket, next) => {
    const err: ExtendedError = new Error("not authorized");
    err.data = { reason: "no token", retry: false };
    next(err);
  });
  h.io.of("/plain").use((_socket, next) => next(new Error("plain")));
  const client = await h.ws();
  client.send("0");
  assert.equal(
    await client.next(),
    '4{"message":"not authorized","data":{"reason":"no token","retry":false}}',
  );
  client.send("0/plain,");
  assert.equal(await client.next(), '4/plain,{"message":"plain"}');
  assert.equal(h.io.sockets.sockets.size, 0);
});

test("connectTimeout closes a client that never sends CONNECT", async (h) => {
  const client = await h.ws();
  assert.equal(await client.closedByServer(), true);
  assert.equal(h.io.engine.clientsCount, 0);
}, { connectTimeout: 50 });

test("connectTimeout spares a client that joined a namespace", async (h) => {
  const client = await h.joined();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(h.io.engine.clientsCount, 1);
  client.send("1");
}, { connectTimeout: 50 });

// --- EVENT and ACK --------------------------------------------------------------------------

test("events and ack ids, both ways", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  s.on("add", (a: number, b: number, ack: (n: number) => void) => ack(a + b));
  client.send('27["add",1,2]');
  assert.equal(await client.next(), "37[3]");
  // Without an id: no ack argument.
  const args = new Promise((resolve) => s.once("plain", (...a: unknown[]) => resolve(a)));
  client.send('2["plain","x",{"y":[1]}]');
  assert.deepEqual(await args, ["x", { y: [1] }]);
  // Numeric event names are allowed, as by the official parser.
  const numeric = new Promise((resolve) => s.once("42" as string, (...a: unknown[]) => resolve(a)));
  client.send("2[42,1]");
  assert.deepEqual(await numeric, [1]);

  // The server asks: the ack id counts from 0 in each namespace.
  const answered = new Promise((resolve) => s.emit("q", "hi", resolve));
  assert.equal(await client.next(), '20["q","hi"]');
  client.send('30["a"]');
  assert.equal(await answered, "a");
  const second = new Promise((resolve) => s.emit("q", (...a: unknown[]) => resolve(a)));
  assert.equal(await client.next(), '21["q"]');
  // An unknown ack id is ignored; the right one still works.
  client.send("399[1]");
  client.send("31[1,2]");
  assert.deepEqual(await second, [1, 2]);
});

test("listeners get the arguments then the ack, beside onAny and socket.use", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const seen: unknown[][] = [];
  s.on("sum", (a: number, b: number, ack: (n: number) => void) => {
    seen.push([a, b, typeof ack]);
    ack(a + b);
  });
  client.send('21["sum",1,2]');
  assert.equal(await client.next(), "31[3]");
  // With a catch-all listener: it sees the name first, the listener still (a, b, ack).
  const any: unknown[][] = [];
  s.onAny((...args: unknown[]) => any.push(args.map((x) => typeof x === "function" ? "fn" : x)));
  client.send('22["sum",3,4]');
  assert.equal(await client.next(), "32[7]");
  assert.deepEqual(any, [["sum", 3, 4, "fn"]]);
  // With a middleware: it gets [name, ...args, ack] and may change the arguments.
  s.use((event, next) => {
    (event as unknown[])[1] = 10;
    next();
  });
  client.send('23["sum",5,6]');
  assert.equal(await client.next(), "33[16]");
  assert.deepEqual(seen, [[1, 2, "function"], [3, 4, "function"], [10, 6, "function"]]);
});

test("a parser whose Encoder extends ours keeps its own encode", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  s.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
  client.send('24["echo","x"]');
  assert.equal(await client.next(), '34["x","tagged"]');
  s.emit("news", 1);
  assert.equal(await client.next(), '2["news",1,"tagged"]');
}, {
  parser: {
    ...parser,
    Encoder: class extends parser.Encoder {
      override encode(packet: parser.Packet) {
        const data = packet.type === 2 || packet.type === 3
          ? [...packet.data as unknown[], "tagged"]
          : packet.data;
        return super.encode({ ...packet, data });
      }
    },
  },
});

test("events in a namespace carry its name", async (h) => {
  h.io.of("/admin");
  const socket = h.nextSocket("/admin");
  const client = await h.joined("/admin");
  const s = await socket;
  s.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
  client.send('2/admin,5["echo","v"]');
  assert.equal(await client.next(), '3/admin,5["v"]');
  s.emit("news", 1);
  assert.equal(await client.next(), '2/admin,["news",1]');
});

test("a broadcast is the same packet for every receiver", async (h) => {
  const a = await h.joined();
  const b = await h.joined();
  h.io.emit("all", { n: 1 });
  assert.equal(await a.next(), '2["all",{"n":1}]');
  assert.equal(await b.next(), '2["all",{"n":1}]');
});

// --- Binary ---------------------------------------------------------------------------------

test("binary events with attachments, both ways", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const got = new Promise<unknown[]>((resolve) => s.once("file", (...a: unknown[]) => resolve(a)));
  client.send('51-["file",{"_placeholder":true,"num":0},"name"]');
  client.sendBinary(new Uint8Array([1, 2, 3]));
  const [data, name] = await got;
  assert.deepEqual([...new Uint8Array(data as ArrayBuffer)], [1, 2, 3]);
  assert.equal(name, "name");

  // Two attachments in one ack.
  s.on("pair", (ack: (a: Uint8Array, b: Uint8Array) => void) => {
    ack(new Uint8Array([9]), new Uint8Array([8, 7]));
  });
  client.send('23["pair"]');
  assert.equal(
    await client.next(),
    '62-3[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
  );
  assert.deepEqual(await client.next(), new Uint8Array([9]));
  assert.deepEqual(await client.next(), new Uint8Array([8, 7]));

  // Binary from the server.
  s.emit("blob", new Uint8Array([4, 5]), { deep: [new Uint8Array([6]).buffer] });
  assert.equal(
    await client.next(),
    '52-["blob",{"_placeholder":true,"num":0},{"deep":[{"_placeholder":true,"num":1}]}]',
  );
  assert.deepEqual(await client.next(), new Uint8Array([4, 5]));
  assert.deepEqual(await client.next(), new Uint8Array([6]));

  // A binary ack from the client.
  const acked = new Promise((resolve) => s.emit("want", resolve));
  assert.equal(await client.next(), '20["want"]');
  client.send('61-0[{"_placeholder":true,"num":0}]');
  client.sendBinary(new Uint8Array([255]));
  assert.deepEqual([...new Uint8Array(await acked as ArrayBuffer)], [255]);
});

test("binary over polling: base64 attachments in the payload", async (h) => {
  const socket = h.nextSocket();
  const open = await (await fetch(h.pollUrl)).text();
  const { sid } = JSON.parse(open.slice(1));
  const url = `${h.pollUrl}&sid=${sid}`;
  const post = (body: string) => fetch(url, { method: "POST", body }).then((r) => r.text());
  assert.equal(await post("40"), "ok");
  assert.match(await (await fetch(url)).text(), new RegExp(`^40\\{"sid":"${SID}"\\}$`));
  const s = await socket;
  const got = new Promise<unknown[]>((resolve) => s.once("up", (...a: unknown[]) => resolve(a)));
  assert.equal(await post('451-["up",{"_placeholder":true,"num":0}]\x1ebAQID'), "ok");
  assert.deepEqual([...new Uint8Array((await got)[0] as ArrayBuffer)], [1, 2, 3]);
  s.emit("down", new Uint8Array([4, 5]));
  assert.equal(
    await (await fetch(url)).text(),
    '451-["down",{"_placeholder":true,"num":0}]\x1ebBAU=',
  );
  const reason = new Promise((resolve) => s.once("disconnect", resolve));
  assert.equal(await post("41\x1e1"), "ok");
  assert.equal(await reason, "client namespace disconnect");
});

// --- Bad input ------------------------------------------------------------------------------

/**
 * Sends `bad` on a joined client: its socket gets an "error", and the connection closes cleanly
 * ("forced close", as the official server's `conn.close()`); the other client is unharmed.
 */
async function rejects(h: Harness, bad: (client: RawClient) => void): Promise<void> {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const other = await h.joined();
  const reason = new Promise((resolve) => s.once("disconnect", resolve));
  let handled = false;
  s.onAny(() => (handled = true));
  const errors: unknown[] = [];
  s.on("error", (err) => errors.push(err));
  bad(client);
  assert.equal(await client.closedByServer(), true);
  assert.equal(await reason, "forced close");
  assert.equal(errors.length, 1);
  assert.equal(handled, false, "no listener saw the bad packet");
  // The other client is unaffected.
  h.io.emit("still", "here");
  assert.equal(await other.next(), '2["still","here"]');
  other.send('2["x"]');
}

for (
  const [name, packet] of [
    ["an unknown packet type", "9"],
    ["a non-digit packet type", "x"],
    ["invalid JSON", '2["ev"'],
    ["EVENT data that is not an array", '2{"ev":1}'],
    ["an empty EVENT array", "2[]"],
    ["an object as event name", '2[{"name":"ev"}]'],
    ["null as event name", "2[null]"],
    ["an array as event name", '2[["ev"]]'],
    ['the reserved name "disconnect"', '2["disconnect"]'],
    ['the reserved name "connect"', '2["connect"]'],
    ['the reserved name "disconnecting"', '2["disconnecting"]'],
    ['the reserved name "newListener"', '2["newListener"]'],
    ["an ACK without id", "3[1]"],
    ["an ACK whose data is not an array", '31{"a":1}'],
    ["an EVENT whose name, without comma, runs into its data", '2/admin["ev"]'],
    ["an ack id over 2^31-1", '29999999999["ev"]'],
    ["a __proto__ key", '2["ev",{"__proto__":{"polluted":true}}]'],
    ["a DISCONNECT with data", '1{"a":1}'],
    ["CONNECT data that is not an object", '0"str"'],
  ] as const
) {
  test(`invalid packet closes the connection: ${name}`, (h) => rejects(h, (c) => c.send(packet)));
}

test("a CONNECT for a namespace already joined closes the connection", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const reason = new Promise((resolve) => s.once("disconnect", resolve));
  client.send("0");
  assert.equal(await client.closedByServer(), true);
  assert.equal(await reason, "forced server close");
});

test("an event for a namespace never joined closes the connection", async (h) => {
  h.io.of("/admin");
  const client = await h.joined();
  client.send('2/admin,["ev"]');
  assert.equal(await client.closedByServer(), true);
});

test("an argument nested 10,000 levels deep is refused, the server stays up", (h) =>
  rejects(h, (c) => c.send(`2["deep",${"[".repeat(10_000)}${"]".repeat(10_000)}]`)));

test("an object nested 10,000 levels deep is refused", (h) =>
  rejects(h, (c) => c.send(`2["deep",${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}]`)));

test("moderate nesting (50 levels) is fine", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const got = new Promise((resolve) => s.once("deep", resolve));
  client.send(`2["deep",${"[".repeat(50)}${"]".repeat(50)}]`);
  let depth = 0;
  for (let v = await got; Array.isArray(v); v = v[0]) depth++;
  assert.equal(depth, 50);
});

test("attachment bomb: a huge attachment count is refused at once", (h) =>
  rejects(h, (c) => c.send('51000000000-["ev",{"_placeholder":true,"num":0}]')));

test("attachment bomb: more than 10 attachments are refused", (h) =>
  rejects(h, (c) => {
    const ph = Array.from({ length: 11 }, (_, i) => `{"_placeholder":true,"num":${i}}`);
    c.send(`511-["ev",${ph.join(",")}]`);
  }));

test("attachments announced but no placeholder for them are refused", (h) =>
  rejects(h, (c) => c.send('52-["ev",{"_placeholder":true,"num":0}]')));

test("a binary frame nobody announced is refused", (h) =>
  rejects(h, (c) => c.sendBinary(new Uint8Array([1, 2, 3]))));

test("a text packet while attachments are awaited is refused", (h) =>
  rejects(h, (c) => {
    c.send('51-["ev",{"_placeholder":true,"num":0}]');
    c.send('2["other"]');
  }));

test("placeholder injection: a num out of range is refused", (h) =>
  rejects(h, (c) => {
    c.send('51-["ev",{"_placeholder":true,"num":1}]');
    c.sendBinary(new Uint8Array([1]));
  }));

test("placeholder injection: a non-numeric num is refused", (h) =>
  rejects(h, (c) => {
    c.send('51-["ev",{"_placeholder":true,"num":"0"}]');
    c.sendBinary(new Uint8Array([1]));
  }));

test("placeholder injection: one attachment used twice is refused", (h) =>
  rejects(h, (c) => {
    c.send('52-["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]');
    c.sendBinary(new Uint8Array([1]));
    c.sendBinary(new Uint8Array([2]));
  }));

test("placeholder injection: a placeholder in a text EVENT stays a plain object", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const got = new Promise((resolve) => s.once("ev", resolve));
  client.send('2["ev",{"_placeholder":true,"num":0}]');
  assert.deepEqual(await got, { _placeholder: true, num: 0 });
});

test("an oversized message closes the connection", async (h) => {
  const socket = h.nextSocket();
  const client = await h.joined();
  const s = await socket;
  const reason = new Promise((resolve) => s.once("disconnect", resolve));
  client.send(`2["big","${"x".repeat(2000)}"]`);
  assert.equal(await client.closedByServer(), true);
  assert.ok(["transport error", "parse error"].includes(await reason as string));
}, { maxHttpBufferSize: 1000 });

// --- Engine.IO v3 (Socket.IO v2 clients) ----------------------------------------------------

test("EIO=3 clients are joined to / without a CONNECT and get a bare 40", async (h) => {
  const socket = h.nextSocket();
  const ws = new WsClient(h.wsUrl.replace("EIO=4", "EIO=3"));
  try {
    await ws.opened;
    const open = await ws.next() as string;
    const { sid } = JSON.parse(open.slice(1));
    assert.equal(await ws.next(), "40");
    const s = await socket;
    assert.equal(s.id, sid, "v2 sockets use the Engine.IO id");
    // A namespace with auth in its query, as v2 clients send it.
    h.io.of("/admin").use((sock, next) => {
      next(sock.handshake.auth.token === "t" ? undefined : new Error("no"));
    });
    const admin = new Promise<Socket>((resolve) => h.io.of("/admin").once("connection", resolve));
    ws.send("40/admin?token=t,");
    assert.equal(await ws.next(), "40/admin,");
    assert.equal((await admin).id, `/admin#${sid}`);
    // v2 clients get the error's data (or message) alone.
    h.io.of("/other").use((_sock, next) => next(new Error("refused")));
    ws.send("40/other,");
    assert.equal(await ws.next(), '44/other,"refused"');
  } finally {
    await ws.close();
  }
}, { allowEIO3: true });
