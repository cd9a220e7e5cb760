/**
 * An app written the usual way, under `Bun.serve` (tests/fixtures/bun_app.ts), against the
 * official `socket.io-client@4.8.4` over polling and WebSocket: hostile room values, object
 * rooms and throwing listeners never take the process down, and binary arguments arrive as
 * `Buffer`. Bun comes from npm when it is not installed; without it the test prints SKIPPED.
 */
import assert from "node:assert/strict";
import { findBun, startBunFixture } from "./helpers/bun.ts";
import {
  type ClientSocket,
  connected,
  delay,
  next,
  officialClient,
  settle,
} from "./helpers/socketio.ts";

const FIXTURE = new URL("./fixtures/bun_app.ts", import.meta.url).pathname;
type Transport = "polling" | "websocket";

/**
 * A test per transport against a fresh Bun fixture, skipped where Bun cannot be had. `fn`
 * returns the errors the app must have logged; nothing else may be logged.
 */
function bunAppTest(
  name: string,
  fn: (open: (nsp?: string, query?: Record<string, string>) => ClientSocket) => Promise<string[]>,
  transports: Transport[] = ["polling", "websocket"],
): void {
  for (const transport of transports) {
    Deno.test(`Socket.IO on Bun, a usual app: ${name} [${transport}]`, async () => {
      const bun = await findBun();
      if (!bun) {
        console.log("SKIPPED: bun not installed and could not be installed from npm");
        return;
      }
      const server = await startBunFixture(bun, FIXTURE);
      const clients: ClientSocket[] = [];
      const open = (nsp = "/", query?: Record<string, string>) => {
        const url = `http://127.0.0.1:${server.port}${nsp}`;
        const c = officialClient(url, {
          transports: [transport],
          forceNew: true,
          reconnection: false,
          query,
        });
        clients.push(c);
        return c;
      };
      let expected: string[] = [];
      try {
        expected = await fn(open);
      } finally {
        const engines = new Set(clients.map((c) => c.io.engine));
        const closed = [...engines].filter((e) => e && e.readyState !== "closed")
          .map((e) => next(e, "close"));
        for (const c of clients) c.disconnect();
        await Promise.all(closed);
        await settle();
        // stop() fails when Bun exited on its own (a crash).
        const out = await server.stop();
        for (const message of expected) assert.match(out, new RegExp(message), out);
        const rest = expected.reduce((o, m) => o.replaceAll(m, ""), out);
        assert.doesNotMatch(rest, /TypeError|No default value/, out);
      }
    });
  }
}

bunAppTest("a room sent as an object is a room, and the server serves on", async (open) => {
  const a = open();
  await connected(a);
  // 42["join",{"toString":"x"}]: a room whose toString is not a function.
  a.emit("join", { toString: "x" });
  assert.deepEqual(await a.timeout(2000).emitWithAck("rooms"), ["object"]);
  const b = open();
  await next(b, "welcome");
  const said = next(b, "said");
  b.emit("join", "lobby");
  b.emit("say", "lobby", "still here");
  assert.equal(await said, "still here");
  return [];
});

bunAppTest("io.to(an object whose toString says 'x') is not the room 'x'", async (open) => {
  const inObject = open();
  const inX = open();
  await Promise.all([connected(inObject), connected(inX)]);
  await inObject.timeout(2000).emitWithAck("join-object");
  inX.emit("join", "x");
  assert.deepEqual(await inX.timeout(2000).emitWithAck("rooms"), ["string"]);
  const wrong: unknown[] = [];
  inX.on("object-room", (m: unknown) => wrong.push(m));
  const got = next(inObject, "object-room");
  inX.emit("to-object");
  assert.equal(await got, "hi");
  await delay(100); // a wrong delivery would have come by now
  assert.deepEqual(wrong, []);
  return [];
});

bunAppTest("listeners that throw are logged, and the process serves on", async (open) => {
  const a = open();
  await connected(a);
  a.emit("throw");
  assert.deepEqual(await a.timeout(2000).emitWithAck("rooms"), []);
  // A connection listener that throws: the client connected before it ran.
  const throws = open("/throws");
  await connected(throws);
  await a.timeout(2000).emitWithAck("throw-on-disconnect");
  const gone = next(a.io.engine, "close");
  a.disconnect();
  await gone;
  const b = open();
  await next(b, "welcome");
  assert.deepEqual(await b.timeout(2000).emitWithAck("rooms"), []);
  return [
    "listener failed on purpose",
    "connection listener failed on purpose",
    "disconnect listener failed on purpose",
  ];
});

// Errors thrown inside the engine (here by its listener) stop at the runtime's WebSocket
// handler. (Over polling they end the POST's request instead, which the runtime survives.)
bunAppTest(
  "an Engine.IO listener that throws is logged, and the process serves on",
  async (open) => {
    const a = open();
    await connected(a);
    await a.timeout(2000).emitWithAck("arm-packet-throw");
    a.emit("lost"); // the packet the listener failed on
    assert.deepEqual(await a.timeout(2000).emitWithAck("rooms"), []);
    const b = open();
    await next(b, "welcome");
    return ["packet listener failed on purpose"];
  },
  ["websocket"],
);

bunAppTest(
  "socket.handshake headers and query are plain objects; __proto__ stays a key",
  async (open) => {
    // The client puts own keys in the URL: ?__proto__=...
    const a = open("/", JSON.parse('{"__proto__":"{\\"polluted\\":1}"}'));
    await connected(a);
    assert.deepEqual(await a.timeout(2000).emitWithAck("handshake"), {
      plain: true,
      host: true,
      proto: [["__proto__", '{"polluted":1}']],
    });
    return [];
  },
);

bunAppTest("binary arguments and acks arrive as Buffer", async (open) => {
  const a = open();
  await connected(a);
  const kinds = await a.timeout(2000).emitWithAck(
    "binary",
    new Uint8Array([1, 2]),
    { nested: new Uint8Array([3]).buffer },
  );
  assert.deepEqual(kinds, ["Buffer 0102", { nested: "Buffer 03" }]);
  a.once("give-binary", (ack: (b: Uint8Array) => void) => ack(new Uint8Array([4, 5])));
  const answer = next(a, "binary-answer");
  a.emit("ask-binary");
  assert.equal(await answer, "Buffer 0405");
  return [];
});
