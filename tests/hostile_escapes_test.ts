/**
 * Nothing thrown escapes the library: what an application's listener, middleware or callback
 * throws (or rejects with, when async) in a timer, a microtask, a request or an adapter's
 * message is reported (`server/runtime/report.ts`: an `error` event on `globalThis`, else a
 * log) where it would otherwise end the process (an uncaught exception or an unhandled
 * rejection, on Deno, Bun and Node) or turn a request into a 500; and the server serves on.
 *
 * `reported()` takes what `report()` dispatches. An uncaught error is dispatched too, as
 * "Uncaught ...": it is left alone, so that it fails the test as it would end the process.
 */
import assert from "node:assert/strict";
import { type AdapterNamespace, InMemoryAdapter, type ParserModule, type Session } from "../mod.ts";
import {
  ClusterAdapterWithHeartbeat,
  type ClusterMessage,
  type ClusterResponse,
  MessageType,
} from "../adapter/cluster/mod.ts";
import { handshake, nextConnection, pollingUrl, request, startEngine } from "./helpers/engine.ts";
import msgpackParser from "socket.io-msgpack-parser";
import { encode as msgpack } from "notepack.io";
import { WsClient } from "./helpers/raw.ts";
import { delay, eachMode, Fixture, next, within } from "./helpers/socketio.ts";

/** What `report()` dispatched until `stop()` (default cancelled); uncaught errors are not it. */
function reported(): { messages: string[]; stop: () => void } {
  const messages: string[] = [];
  const listener = (e: ErrorEvent) => {
    if (e.message.startsWith("Uncaught")) return; // left to fail the test
    e.preventDefault();
    messages.push(e.error instanceof Error ? e.error.message : String(e.error));
  };
  globalThis.addEventListener("error", listener);
  return { messages, stop: () => globalThis.removeEventListener("error", listener) };
}

/** Resolves once `messages` holds `n` entries (reports may come a turn later). */
async function reports(messages: string[], n: number): Promise<string[]> {
  await within(
    (async () => {
      while (messages.length < n) await delay(5);
    })(),
    `${n} reports`,
  );
  return messages;
}

// --- The engine: timers, microtasks and requests -------------------------------------------

Deno.test("a listener that throws in a timer is reported (the join deadline closing a session)", async () => {
  // The session joins no namespace: connectTimeout closes it from a timer, and its `close`
  // listener throws there, where nothing caught it (an uncaught exception ends Deno).
  const fx = new Fixture("websocket", { connectTimeout: 100 });
  const log = reported();
  try {
    fx.io.engine.once("connection", (session) => {
      session.on("close", () => {
        throw new Error("close listener failed");
      });
    });
    const raw = new WsClient(
      `${fx.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`,
    );
    await raw.closed;
    assert.deepEqual(await reports(log.messages, 1), ["close listener failed"]);
    const [client] = await fx.pair();
    assert.ok(client.connected);
  } finally {
    log.stop();
    await fx.close();
  }
});

Deno.test("upgrading and upgrade listeners that throw are reported; the upgrade completes", async () => {
  // The `upgrade` listener ran between the switch of transports and the flush of what waited:
  // a throw there left packets buffered and the session half upgraded.
  const fx = new Fixture("upgrade");
  const log = reported();
  try {
    fx.io.engine.once("connection", (session) => {
      session.on("upgrading", () => {
        throw new Error("upgrading listener failed");
      });
      session.on("upgrade", () => {
        throw new Error("upgrade listener failed");
      });
    });
    const [client, socket] = await fx.pair();
    if (client.io.engine.transport.name !== "websocket") {
      await within(next(client.io.engine, "upgrade"), "the client's upgrade");
    }
    assert.deepEqual((await reports(log.messages, 2)).sort(), [
      "upgrade listener failed",
      "upgrading listener failed",
    ]);
    assert.equal(socket.conn.transport.name, "websocket");
    socket.on("ping", (ack: (v: string) => void) => ack("pong"));
    assert.equal(await client.timeout(2000).emitWithAck("ping"), "pong");
    const got = next(client, "news");
    socket.emit("news", "after the upgrade");
    assert.equal(await within(got, "news"), "after the upgrade");
  } finally {
    log.stop();
    await fx.close();
  }
});

Deno.test("a drain listener that throws in the flush of a poll is reported; the poll is answered", async () => {
  const f = startEngine();
  const log = reported();
  try {
    const opened = nextConnection(f.engine);
    const { sid } = await handshake(f.base);
    const session = await opened;
    session.on("drain", () => {
      throw new Error("drain listener failed");
    });
    const answer = request(pollingUrl(f.base, sid));
    await delay(20);
    // Sent from a timer: flushed in a microtask of its own.
    setTimeout(() => session.send("hello"), 0);
    assert.deepEqual(await answer, { ...await answer, status: 200, body: "4hello" });
    assert.deepEqual(await reports(log.messages, 1), ["drain listener failed"]);
  } finally {
    log.stop();
    await f.close();
  }
});

Deno.test("listeners of the engine that throw are reported; the requests are answered as without them", async () => {
  // `connection` (was a 500 for the handshake), `headers` and `initial_headers` (a 500),
  // `connection_error` (a 500 instead of the refusal).
  const f = startEngine();
  const log = reported();
  try {
    f.engine.on("connection", () => {
      throw new Error("connection listener failed");
    });
    f.engine.on("initial_headers", () => {
      throw new Error("initial_headers listener failed");
    });
    f.engine.on("headers", () => {
      throw new Error("headers listener failed");
    });
    f.engine.on("connection_error", () => {
      throw new Error("connection_error listener failed");
    });
    const hs = await request(`${f.base}?EIO=4&transport=polling`);
    assert.equal(hs.status, 200);
    assert.equal(hs.body[0], "0");
    const refused = await request(`${f.base}?EIO=9&transport=polling`);
    assert.deepEqual([refused.status, refused.body], [
      400,
      '{"code":5,"message":"Unsupported protocol version"}',
    ]);
    assert.deepEqual((await reports(log.messages, 4)).sort(), [
      "connection listener failed",
      "connection_error listener failed",
      "headers listener failed",
      "initial_headers listener failed",
    ]);
    // The session opened all the same: a poll is answered (by its first ping, or at once).
    const { sid } = JSON.parse(hs.body.slice(1));
    const sent = request(pollingUrl(f.base, sid), { method: "POST", body: "1" });
    assert.equal((await sent).status, 200);
  } finally {
    log.stop();
    await f.close();
  }
});

Deno.test("a message listener that throws on a POST is reported; the payload's other packets are read", async () => {
  const f = startEngine();
  const log = reported();
  try {
    const opened = nextConnection(f.engine);
    const { sid } = await handshake(f.base);
    const session = await opened;
    const got: unknown[] = [];
    session.on("message", (data) => {
      got.push(data);
      if (data === "first") throw new Error("message listener failed");
    });
    const res = await request(pollingUrl(f.base, sid), {
      method: "POST",
      body: "4first\x1e4second",
    });
    assert.equal(res.status, 200); // was a 500, the second message lost
    assert.deepEqual(got, ["first", "second"]);
    assert.deepEqual(await reports(log.messages, 1), ["message listener failed"]);
  } finally {
    log.stop();
    await f.close();
  }
});

// --- Socket.IO: async listeners, middleware and callbacks ----------------------------------

eachMode(
  "an async connection middleware that rejects refuses the socket with its message",
  async (fx) => {
    fx.io.of("/guarded").use(async () => {
      await Promise.resolve();
      throw new Error("not today");
    });
    const client = fx.client("/guarded");
    // Was an unhandled rejection (the end of a Deno process), the client left waiting.
    const err = await within(next<Error>(client, "connect_error"), "connect_error");
    assert.equal(err.message, "not today");
    const [again] = await fx.pair();
    assert.ok(again.connected);
  },
);

eachMode("an async event listener that rejects is reported; the socket stays", async (fx) => {
  const log = reported();
  try {
    const [client, socket] = await fx.pair();
    socket.on("work", async () => {
      await Promise.resolve();
      throw new Error("async listener failed");
    });
    socket.on("still", (ack: (v: string) => void) => ack("here"));
    client.emit("work");
    assert.deepEqual(await reports(log.messages, 1), ["async listener failed"]);
    assert.equal(await client.emitWithAck("still"), "here");
  } finally {
    log.stop();
  }
});

eachMode(
  "a listener after a packet middleware that calls next later is reported when it throws",
  async (fx) => {
    const log = reported();
    try {
      const [client, socket] = await fx.pair();
      socket.use(async (event, next) => {
        await delay(1);
        if (event[0] === "refused") throw new Error("middleware failed");
        next();
      });
      socket.on("work", () => {
        throw new Error("listener failed");
      });
      socket.on("still", (ack: (v: string) => void) => ack("here"));
      client.emit("work");
      client.emit("refused");
      // Both were unhandled rejections: the first out of the middleware's `await`, the second
      // its own.
      assert.deepEqual((await reports(log.messages, 2)).sort(), [
        "listener failed",
        "middleware failed",
      ]);
      assert.equal(await client.emitWithAck("still"), "here");
    } finally {
      log.stop();
    }
  },
);

eachMode("an async ack callback that rejects is reported", async (fx) => {
  const log = reported();
  try {
    const [client, socket] = await fx.pair();
    client.on("question", (ack: (v: string) => void) => ack("answer"));
    const asked = new Promise<void>((resolve) => {
      socket.emit("question", async (answer: string) => {
        assert.equal(answer, "answer");
        resolve();
        await Promise.resolve();
        throw new Error("ack callback failed");
      });
    });
    await asked;
    assert.deepEqual(await reports(log.messages, 1), ["ack callback failed"]);
  } finally {
    log.stop();
  }
});

eachMode(
  "an error listener that throws on a bad packet is reported; the connection still closes",
  async (fx) => {
    const log = reported();
    try {
      const [client, socket] = await fx.pair();
      socket.on("error", () => {
        throw new Error("error listener failed");
      });
      const gone = next(client, "disconnect");
      // A forbidden key: a decode error, on which the server closes the connection.
      (client.io.engine as unknown as { write(data: string): void }).write(
        '42["x",{"__proto__":1}]',
      );
      assert.equal(await within(gone, "the client's disconnect"), "transport close");
      assert.deepEqual(await reports(log.messages, 1), ["error listener failed"]);
    } finally {
      log.stop();
    }
  },
);

eachMode("an adapter whose promise rejects (persisting a session) is reported", async (fx) => {
  const log = reported();
  try {
    fx.io.of("/").adapter; // the namespace exists
    const [client] = await fx.pair();
    const gone = next(client, "disconnect");
    client.io.engine.close(); // a recoverable disconnect: the session is persisted
    await gone;
    assert.deepEqual(await reports(log.messages, 1), ["the store is down"]);
  } finally {
    log.stop();
  }
}, () => ({
  connectionStateRecovery: {},
  adapter: class extends InMemoryAdapter {
    override persistSession(_session: Omit<Session, "missedPackets">): Promise<void> {
      return Promise.reject(new Error("the store is down"));
    }
  },
}));

eachMode(
  "an event name that is no string nor number (msgpack decodes objects) matches no listener",
  async (fx) => {
    const log = reported();
    try {
      const [client, socket] = await fx.pair("/", { parser: msgpackParser });
      const got: unknown[] = [];
      socket.onAny((...args) => got.push(args.length));
      socket.on("still", (ack: (v: string) => void) => ack("here"));
      // `String()` of this name throws: it was reported for every such packet.
      const write = (client.io.engine as unknown as { write(data: Uint8Array): void }).write;
      write.call(client.io.engine, msgpack({ type: 2, nsp: "/", data: [{ toString: 5 }, "x"] }));
      assert.equal(await client.emitWithAck("still"), "here");
      assert.deepEqual(log.messages, []);
      assert.deepEqual(got, [2, 2]); // catch-all listeners see every event, as officially
    } finally {
      log.stop();
    }
  },
  () => ({ parser: msgpackParser as unknown as ParserModule }),
);

eachMode(
  "a Blob argument that cannot be read is reported; the packets after it go out",
  async (fx) => {
    const log = reported();
    try {
      const [client, socket] = await fx.pair();
      class Unreadable extends Blob {
        override arrayBuffer(): Promise<ArrayBuffer> {
          return Promise.reject(new Error("the Blob cannot be read"));
        }
      }
      // Was an unhandled rejection, and every later packet of the socket waited behind it.
      socket.emit("file", new Unreadable(["x"]));
      const after = next(client, "after");
      socket.emit("after", "here");
      assert.equal(await within(after, "the packet after the Blob"), "here");
      assert.deepEqual(await reports(log.messages, 1), ["the Blob cannot be read"]);
    } finally {
      log.stop();
    }
  },
);

// --- Cluster adapters: another node's messages ----------------------------------------------

Deno.test("a cluster message that is not an event, or cannot be sent on, reaches no client and throws nothing", async () => {
  let adapter: Quiet | undefined;
  class Quiet extends ClusterAdapterWithHeartbeat {
    constructor(nsp: AdapterNamespace) {
      super(nsp, { heartbeatInterval: 60_000, heartbeatTimeout: 120_000 });
      adapter ??= this;
    }
    protected doPublish(_message: ClusterMessage): Promise<undefined> {
      return Promise.resolve(undefined);
    }
    protected doPublishResponse(_uid: string, _response: ClusterResponse): Promise<void> {
      return Promise.resolve();
    }
  }
  const fx = new Fixture("websocket", { adapter: Quiet });
  const log = reported();
  try {
    const [client] = await fx.pair();
    const got: unknown[][] = [];
    client.onAny((...args) => got.push(args));
    const broadcast = (packet: unknown) => ({
      type: MessageType.BROADCAST,
      uid: "another node",
      nsp: "/",
      data: { opts: { rooms: [], except: [] }, packet },
    });
    for (
      const packet of [
        { type: 1 }, // a DISCONNECT, which the client would take as a kick
        { type: "4", data: ["x"] }, // a packet type the client cannot parse
        { type: 2, data: "not an array" },
        { type: 2, data: ["big", 1n] }, // the encoder refuses it: reported
      ]
    ) {
      // Was thrown to the transport, or sent on as a frame the client closes on.
      assert.doesNotThrow(() => adapter!.onMessage(broadcast(packet) as never, "1-0"));
    }
    adapter!.onMessage(broadcast({ type: 2, data: ["news", 1] }) as never);
    await within(next(client, "news"), "the well-formed broadcast");
    assert.deepEqual(got, [["news", 1]]);
    assert.ok(client.connected);
    assert.deepEqual(log.messages, ["Do not know how to serialize a BigInt"]);
  } finally {
    log.stop();
    await fx.close();
  }
});

Deno.test("a broadcast delivered once its offset is known (recovery on a cluster) reports what its encoding throws", async () => {
  // With connection state recovery a cluster broadcast is delivered locally once the transport
  // gave its offset: data the encoder refuses (a BigInt) threw there, unhandled.
  class Logged extends ClusterAdapterWithHeartbeat {
    constructor(nsp: AdapterNamespace) {
      super(nsp, { heartbeatInterval: 60_000, heartbeatTimeout: 120_000 });
      this.recoveryOffsets = true;
    }
    protected doPublish(_message: ClusterMessage): Promise<string> {
      return Promise.resolve("1-0");
    }
    protected doPublishResponse(_uid: string, _response: ClusterResponse): Promise<void> {
      return Promise.resolve();
    }
  }
  const fx = new Fixture("websocket", { adapter: Logged, connectionStateRecovery: {} });
  const log = reported();
  try {
    const [client] = await fx.pair();
    fx.io.emit("big", 1n);
    assert.deepEqual(await reports(log.messages, 1), ["Do not know how to serialize a BigInt"]);
    const news = next(client, "news");
    fx.io.emit("news", "still");
    assert.equal(await within(news, "the next broadcast"), "still");
  } finally {
    log.stop();
    await fx.close();
  }
});
