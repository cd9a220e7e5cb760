// The classic Redis adapter on a real redis-server: two of our servers in this process, each with
// its own Redis connections, official clients on each, with node-redis and with ioredis. The
// mixed clusters with official nodes are in tests/cluster/classic_test.ts.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { createClient } from "redis";
import type { Server, Socket } from "../mod.ts";
import {
  createAdapter,
  type RedisAdapter,
  type RedisAdapterOptions,
} from "../adapter/redis/mod.ts";
import { officialRedisModules } from "./helpers/official_redis.ts";
import { type RedisServer, redisTest } from "./helpers/redis.ts";
import {
  connectRedis,
  REDIS_CLIENT_KINDS,
  type RedisClientKind,
  type RedisClients,
} from "./cluster/redis_clients.ts";
import {
  type ClientSocket,
  delay,
  Fixture,
  next,
  nextArgs,
  receivedDuring,
  within,
} from "./helpers/socketio.ts";

interface Node {
  fx: Fixture;
  io: Server;
  adapter: RedisAdapter;
  redis: RedisClients;
}

async function startNode(
  redis: RedisServer,
  kind: RedisClientKind,
  opts: RedisAdapterOptions = {},
): Promise<Node> {
  const clients = await connectRedis(kind, redis.url);
  const fx = new Fixture("websocket", { adapter: createAdapter(clients.pub, clients.sub, opts) });
  const adapter = fx.io.of("/").adapter as unknown as RedisAdapter;
  await adapter.init();
  return { fx, io: fx.io, adapter, redis: clients };
}

async function stopNode(node: Node): Promise<void> {
  await node.fx.close();
  await node.redis.close();
}

/** Runs `fn` with two of our nodes on one Redis, for each client kind. */
function clusterTest(
  name: string,
  fn: (nodes: [Node, Node], redis: RedisServer) => Promise<void>,
  opts: RedisAdapterOptions = {},
): void {
  for (const kind of REDIS_CLIENT_KINDS) {
    redisTest(`classic adapter (${kind}): ${name}`, async (redis) => {
      const a = await startNode(redis, kind, opts);
      const b = await startNode(redis, kind, opts);
      try {
        await fn([a, b], redis);
      } finally {
        await stopNode(a);
        await stopNode(b);
      }
    });
  }
}

/** Resolves on the adapter's next `ev`. */
function adapterEvent(adapter: RedisAdapter, ev: "join-room" | "leave-room"): Promise<void> {
  return new Promise((resolve) => {
    const listener = () => {
      adapter.off(ev, listener);
      resolve();
    };
    adapter.on(ev, listener);
  });
}

async function connectWith(node: Node, auth: Record<string, unknown> = {}) {
  const server = next<Socket>(node.io.of("/"), "connection");
  const client = await node.fx.connect("/", { auth });
  const socket = await server;
  const rooms = auth.rooms as string[] | undefined;
  if (rooms) socket.join(rooms);
  return { client, socket };
}

/** A raw subscriber counting the messages on every channel of the key "socket.io". */
async function countPublishes(redis: RedisServer) {
  const sub = createClient({ url: redis.url });
  sub.on("error", () => {});
  await sub.connect();
  const channels: string[] = [];
  let onMarker = () => {};
  await sub.pSubscribe("socket.io*", (_message, channel) => {
    channels.push(channel);
    if (channel === "socket.io-marker") onMarker();
  });
  return {
    channels,
    /**
     * The channels published to so far, once `node`'s connection published a marker (after
     * what it published before); then forgotten.
     */
    async flush(node: Node): Promise<string[]> {
      const seen = new Promise<void>((resolve) => (onMarker = resolve));
      await (node.redis.pub as { publish(c: string, m: string): Promise<unknown> })
        .publish("socket.io-marker", "");
      await within(seen, "marker");
      return channels.splice(0).filter((c) => c !== "socket.io-marker");
    },
    close: () => sub.close(),
  };
}

clusterTest("serverCount is the number of servers", async ([a, b]) => {
  assert.equal(await a.adapter.serverCount(), 2);
  assert.equal(await b.adapter.serverCount(), 2);
});

clusterTest("broadcasts reach the other node's clients: all, one room, rooms, except", async (
  [a, b],
) => {
  const { client: a1 } = await connectWith(a, { rooms: ["news"] });
  const { client: b1 } = await connectWith(b, { rooms: ["news", "muted"] });
  const { client: b2 } = await connectWith(b, { rooms: ["sports"] });
  const clients = [a1, b1, b2];
  // The marker leaves from the node that broadcast, after it on the same connection: a marker
  // from another node would reach that node's own clients before the broadcast comes back.
  const mark = (from: Node = a) => from.io.emit("marker");
  assert.deepStrictEqual(
    await receivedDuring(clients, () => (a.io.emit("msg", "all"), mark())),
    ["0:all", "1:all", "2:all"],
  );
  assert.deepStrictEqual(
    await receivedDuring(clients, () => (a.io.to("news").emit("msg", "news"), mark())),
    ["0:news", "1:news"],
  );
  assert.deepStrictEqual(
    await receivedDuring(clients, () => (b.io.to(["news", "sports"]).emit("msg", "2"), mark(b))),
    ["0:2", "1:2", "2:2"],
  );
  assert.deepStrictEqual(
    await receivedDuring(clients, () => (a.io.except("muted").emit("msg", "x"), mark())),
    ["0:x", "2:x"],
  );
  assert.deepStrictEqual(
    await receivedDuring(clients, () => (a.io.local.emit("msg", "local"), mark())),
    ["0:local"],
  );
});

clusterTest("binary survives the hop, as binary", async ([a, b]) => {
  const { client } = await connectWith(b);
  const got = nextArgs<[ArrayBuffer, { nested: ArrayBuffer; n: number }]>(client, "bin");
  a.io.emit("bin", new Uint8Array([1, 2, 3]), { nested: new Uint8Array([4]).buffer, n: 2 ** 40 });
  const [bytes, obj] = await within(got, "binary event");
  assert.deepStrictEqual(new Uint8Array(bytes), new Uint8Array([1, 2, 3]));
  assert.deepStrictEqual(new Uint8Array(obj.nested), new Uint8Array([4]));
  assert.equal(obj.n, 2 ** 40);
});

redisTest("classic adapter: one PUBLISH per broadcast, whatever the number of receivers", async (
  redis,
) => {
  const counter = await countPublishes(redis);
  const a = await startNode(redis, "node-redis");
  const b = await startNode(redis, "node-redis");
  try {
    const clients: ClientSocket[] = [];
    for (let i = 0; i < 4; i++) clients.push((await connectWith(i % 2 ? a : b)).client);
    const marker = () => counter.flush(a);
    await marker();
    const got = clients.map((c) => next(c, "done"));
    a.io.emit("done");
    await within(Promise.all(got), "broadcast to all");
    assert.deepStrictEqual(await marker(), ["socket.io#/#"]);
    a.io.to("room").emit("x");
    a.io.local.emit("y");
    assert.deepStrictEqual(await marker(), ["socket.io#/#room#"]);
  } finally {
    await stopNode(a);
    await stopNode(b);
    await counter.close();
  }
});

clusterTest("broadcast with acks: every client of both nodes answers", async ([a, b]) => {
  for (const node of [a, a, b]) {
    const { client } = await connectWith(node);
    client.on("ping", (n: number, cb: (v: string) => void) => cb(`pong${n}`));
  }
  const [err, responses] = await within(
    new Promise<[Error | null, string[]]>((resolve) =>
      a.io.timeout(5000).emit("ping", 1, (e: Error | null, r: string[]) => resolve([e, r]))
    ),
    "acks",
  );
  assert.equal(err, null);
  assert.deepStrictEqual(responses, ["pong1", "pong1", "pong1"]);
});

clusterTest("broadcast with acks: times out with the answers so far", async ([a, b]) => {
  const { client: answering } = await connectWith(b);
  answering.on("ping", (cb: (v: string) => void) => cb("pong"));
  await connectWith(b); // never answers
  const [err, responses] = await within(
    new Promise<[Error | null, string[]]>((resolve) =>
      a.io.timeout(300).emit("ping", (e: Error | null, r: string[]) => resolve([e, r]))
    ),
    "ack timeout",
  );
  assert.equal(err?.message, "operation has timed out");
  assert.deepStrictEqual(responses, ["pong"]);
});

clusterTest("fetchSockets: the other node's sockets, with handshake, rooms, data", async (
  [a, b],
) => {
  const { socket: local } = await connectWith(a, { rooms: ["news"] });
  const { client, socket: remote } = await connectWith(b, { rooms: ["news"], who: "bob" });
  remote.data = { user: "bob" };
  await connectWith(b, { rooms: ["other"] });
  const sockets = await a.io.in("news").fetchSockets();
  assert.deepStrictEqual(sockets.map((s) => s.id).sort(), [local.id, remote.id].sort());
  const found = sockets.find((s) => s.id === remote.id)!;
  assert.deepStrictEqual(found.data, { user: "bob" });
  assert.deepStrictEqual([...found.rooms].sort(), [remote.id, "news"].sort());
  assert.deepStrictEqual(found.handshake.auth, { rooms: ["news"], who: "bob" });
  // The RemoteSocket reaches its client through the cluster.
  const got = next(client, "direct");
  found.emit("direct", "hi");
  assert.equal(await within(got, "direct emit"), "hi");
  assert.deepStrictEqual(
    (await a.io.local.fetchSockets()).map((s) => s.id),
    [local.id],
  );
});

clusterTest("socketsJoin, socketsLeave and disconnectSockets act on both nodes", async (
  [a, b],
) => {
  const { socket: sa } = await connectWith(a, { rooms: ["news"] });
  const { client: cb, socket: sb } = await connectWith(b, { rooms: ["news"] });
  const joined = adapterEvent(b.adapter, "join-room");
  a.io.in("news").socketsJoin("sports");
  assert.ok(sa.rooms.has("sports")); // this node's at once
  await within(joined, "remote join");
  assert.ok(sb.rooms.has("sports"));
  const left = adapterEvent(a.adapter, "leave-room");
  b.io.in("sports").socketsLeave("news");
  await within(left, "remote leave");
  assert.ok(!sa.rooms.has("news") && !sb.rooms.has("news"));
  const gone = next(cb, "disconnect");
  a.io.in("sports").except(sa.id).disconnectSockets();
  assert.equal(await within(gone, "remote disconnect"), "io server disconnect");
  assert.ok(sa.connected);
});

clusterTest("serverSideEmit, with and without an ack", async ([a, b]) => {
  const got = nextArgs(b.io, "hello");
  a.io.serverSideEmit("hello", "world", 1);
  assert.deepStrictEqual(await within(got, "serverSideEmit"), ["world", 1]);
  (b.io as unknown as { on(ev: string, fn: (...a: unknown[]) => void): void }).on(
    "question",
    (n, cb) => (cb as (v: unknown) => void)(`answer ${n}`),
  );
  const [err, responses] = await within(
    new Promise<[Error | null, unknown[]]>((resolve) =>
      a.io.serverSideEmit("question", 42, (e: Error | null, r: unknown[]) => resolve([e, r]))
    ),
    "serverSideEmit ack",
  );
  assert.equal(err, null);
  assert.deepStrictEqual(responses, ["answer 42"]);
});

clusterTest("allRooms: the rooms of every node", async ([a, b]) => {
  const { socket: sa } = await connectWith(a, { rooms: ["news"] });
  const { socket: sb } = await connectWith(b, { rooms: ["sports"] });
  const rooms = await a.adapter.allRooms();
  assert.deepStrictEqual([...rooms].sort(), [sa.id, sb.id, "news", "sports"].sort());
});

for (const specific of [false, true]) {
  clusterTest(`publishOnSpecificResponseChannel ${specific}: where answers go`, async (
    [a, b],
    redis,
  ) => {
    const counter = await countPublishes(redis);
    try {
      const { socket: sb } = await connectWith(b, { rooms: ["news"] });
      const sockets = await a.io.in("news").fetchSockets();
      assert.deepStrictEqual(sockets.map((s) => s.id), [sb.id]);
      const responses = (await counter.flush(b)).filter((c) => c.startsWith("socket.io-response"));
      assert.deepStrictEqual(responses, [
        specific ? a.adapter.specificResponseChannel : "socket.io-response#/#",
      ]);
    } finally {
      await counter.close();
    }
  }, { publishOnSpecificResponseChannel: specific });
}

// A request as an older official adapter (or any node) sends it: SOCKETS is answered too, as
// are ALL_ROOMS and REMOTE_FETCH, in the official JSON.
redisTest(
  "classic adapter: SOCKETS, ALL_ROOMS and REMOTE_FETCH requests get the official answers",
  async (
    redis,
  ) => {
    const node = await startNode(redis, "ioredis");
    const pub = createClient({ url: redis.url });
    const sub = pub.duplicate();
    pub.on("error", () => {});
    sub.on("error", () => {});
    await Promise.all([pub.connect(), sub.connect()]);
    try {
      const { socket } = await connectWith(node, { rooms: ["news"] });
      socket.data = { a: 1 };
      const responses: Record<string, unknown>[] = [];
      let arrived: () => void = () => {};
      await sub.subscribe("socket.io-response#/#", (message) => {
        responses.push(JSON.parse(message));
        arrived();
      });
      const ask = async (request: Record<string, unknown>) => {
        const answered = new Promise<void>((resolve) => (arrived = resolve));
        await pub.publish("socket.io-request#/#", JSON.stringify({ uid: "other", ...request }));
        await within(answered, `answer to ${JSON.stringify(request)}`);
        return responses.pop()!;
      };
      assert.deepStrictEqual(await ask({ type: 0, requestId: "r0", rooms: ["news"] }), {
        requestId: "r0",
        sockets: [socket.id],
      });
      const all = await ask({ type: 1, requestId: "r1" }) as { requestId: string; rooms: string[] };
      assert.deepStrictEqual(all.rooms.sort(), [socket.id, "news"].sort());
      const fetched = await ask({
        type: 5,
        requestId: "r5",
        opts: { rooms: ["news"], except: [] },
      }) as { requestId: string; sockets: Record<string, unknown>[] };
      assert.equal(fetched.requestId, "r5");
      assert.equal(fetched.sockets.length, 1);
      const [details] = fetched.sockets;
      assert.equal(details.id, socket.id);
      assert.deepStrictEqual((details.rooms as string[]).sort(), [socket.id, "news"].sort());
      assert.deepStrictEqual(details.data, { a: 1 });
      assert.deepStrictEqual((details.handshake as { auth: unknown }).auth, { rooms: ["news"] });
    } finally {
      await stopNode(node);
      await Promise.all([pub.close(), sub.close()]);
    }
  },
);

redisTest("classic adapter: a malformed message is reported, and the node serves on", async (
  redis,
) => {
  const node = await startNode(redis, "node-redis");
  const pub = createClient({ url: redis.url });
  pub.on("error", () => {});
  await pub.connect();
  const reported: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    reported.push(e.error);
  };
  addEventListener("error", onError);
  try {
    const messages: [string, string | Buffer][] = [
      ["socket.io#/#", Buffer.from([0xc1, 0x01])],
      ["socket.io#/#", Buffer.from([0x93, 0xa1, 0x78, 0xc0, 0xc0])], // [ "x", nil, nil ]
      ["socket.io-request#/#", "{not json"],
      ["socket.io-request#/#", '{"type":6,"data":"not an array"}'],
      ["socket.io-response#/#", Buffer.from([0xc1])],
    ];
    for (const [channel, message] of messages) await pub.publish(channel, message);
    const got = nextArgs(node.io, "after");
    await pub.publish("socket.io-request#/#", '{"type":6,"uid":"x","data":["after","ok"]}');
    assert.deepStrictEqual(await within(got, "serverSideEmit after the malformed ones"), ["ok"]);
    assert.equal(reported.length, 5, String(reported));
    assert.ok(reported.every((e) => e instanceof Error));
  } finally {
    removeEventListener("error", onError);
    await stopNode(node);
    await pub.close();
  }
});

redisTest("classic adapter: close() unsubscribes and fails what still waits for answers", async (
  redis,
) => {
  const a = await startNode(redis, "node-redis", { requestsTimeout: 60_000 });
  const b = await startNode(redis, "ioredis");
  try {
    // b answers nothing once it stopped listening, so a's requests are pending at close().
    await b.adapter.close();
    assert.equal(await a.adapter.serverCount(), 1);
    const c = await startNode(redis, "ioredis");
    try {
      await c.adapter.close(); // counted as a server no more
      assert.equal(await a.adapter.serverCount(), 1);
    } finally {
      await stopNode(c);
    }
    // Hold a request open with a silent subscriber counted as a server.
    const silent = createClient({ url: redis.url });
    silent.on("error", () => {});
    await silent.connect();
    await silent.subscribe("socket.io-request#/#", () => {});
    try {
      const fetching = a.io.fetchSockets().then(() => null, (e: Error) => e);
      const emitted = new Promise<[Error | null, unknown[]]>((resolve) =>
        a.io.serverSideEmit("x", (e: Error | null, r: unknown[]) => resolve([e, r]))
      );
      await delay(100);
      await a.adapter.close();
      assert.match(String(await fetching), /closed/);
      const [err, responses] = await emitted;
      assert.match(String(err), /closed/);
      assert.deepStrictEqual(responses, []);
    } finally {
      await silent.close();
    }
  } finally {
    await stopNode(a);
    await stopNode(b);
  }
});

redisTest("classic adapter: requestsTimeout ends a request a node never answers", async (redis) => {
  const a = await startNode(redis, "ioredis", { requestsTimeout: 200 });
  const silent = createClient({ url: redis.url });
  silent.on("error", () => {});
  await silent.connect();
  await silent.subscribe("socket.io-request#/#", () => {});
  try {
    await assert.rejects(a.io.fetchSockets(), /timeout reached while waiting for fetchSockets/);
    await assert.rejects(a.adapter.allRooms(), /timeout reached while waiting for allRooms/);
    const [err] = await new Promise<[Error | null, unknown[]]>((resolve) =>
      a.io.serverSideEmit("x", (e: Error | null, r: unknown[]) => resolve([e, r]))
    );
    assert.match(String(err), /timeout reached: only 0 responses received out of 1/);
  } finally {
    await stopNode(a);
    await silent.close();
  }
});

/** Collects what is reported (errors dispatched on globalThis) while `fn` runs. */
async function reportedDuring(fn: (reported: unknown[]) => Promise<void>): Promise<unknown[]> {
  const reported: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    reported.push(e.error);
  };
  addEventListener("error", onError);
  try {
    await fn(reported);
  } finally {
    removeEventListener("error", onError);
  }
  return reported;
}

redisTest("classic adapter: a client's error event nobody listens to is reported", async (
  redis,
) => {
  // The user's clients without an error listener of their own.
  const pub = createClient({ url: redis.url });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const fx = new Fixture("websocket", { adapter: createAdapter(pub, sub) });
  fx.io.of("/custom"); // two adapters on the same clients: still one report per error
  try {
    const reported = await reportedDuring(async () => {
      pub.emit("error", new Error("connection lost"));
      sub.emit("error", new Error("sub connection lost"));
      await delay(0);
    });
    assert.deepStrictEqual(reported.map((e) => (e as Error).message), [
      "connection lost",
      "sub connection lost",
    ]);
    // With a listener of the user's, the error is theirs.
    const theirs: unknown[] = [];
    pub.on("error", (e) => theirs.push(e));
    const none = await reportedDuring(async () => {
      pub.emit("error", new Error("handled"));
      await delay(0);
    });
    assert.deepStrictEqual(none, []);
    assert.equal(theirs.length, 1);
  } finally {
    await fx.close();
    await Promise.all([pub.close(), sub.close()]);
  }
});

redisTest(
  "classic adapter: a PUBLISH the client refuses is reported, the local clients served",
  async (
    redis,
  ) => {
    const node = await startNode(redis, "node-redis");
    try {
      const { client } = await connectWith(node);
      await (node.redis.pub as { close(): Promise<void> }).close();
      const got = next(client, "msg");
      const reported = await reportedDuring(async () => {
        node.io.emit("msg", "still here");
        assert.equal(await within(got, "local delivery"), "still here");
        await delay(0);
      });
      assert.equal(reported.length, 1);
      assert.ok(reported[0] instanceof Error);
    } finally {
      await stopNode(node);
    }
  },
);

// The official emitter (uid "emitter"), run here from the official packages' folder, on the
// user's node-redis client: what it sends reaches our node.
redisTest(
  "classic adapter: @socket.io/redis-emitter's emit, socketsJoin/Leave, disconnectSockets, serverSideEmit",
  async (
    redis,
  ) => {
    const modules = await officialRedisModules();
    const { Emitter } = createRequire(`${modules}/`)("@socket.io/redis-emitter");
    const node = await startNode(redis, "node-redis");
    const pub = createClient({ url: redis.url });
    pub.on("error", () => {});
    await pub.connect();
    try {
      const emitter = new Emitter(pub);
      const { client, socket } = await connectWith(node, { rooms: ["news"] });
      const got = nextArgs<[string, ArrayBuffer]>(client, "hello");
      emitter.to("news").emit("hello", "world", Buffer.from([7, 8]));
      const [text, bytes] = await within(got, "emitter's emit");
      assert.equal(text, "world");
      assert.deepStrictEqual(new Uint8Array(bytes), new Uint8Array([7, 8]));
      const joined = adapterEvent(node.adapter, "join-room");
      emitter.in("news").socketsJoin("sports");
      await within(joined, "emitter's socketsJoin");
      assert.ok(socket.rooms.has("sports"));
      const left = adapterEvent(node.adapter, "leave-room");
      emitter.in("sports").socketsLeave("news");
      await within(left, "emitter's socketsLeave");
      assert.ok(!socket.rooms.has("news"));
      const event = nextArgs(node.io, "from-emitter");
      emitter.serverSideEmit("from-emitter", 1, { a: 2 });
      assert.deepStrictEqual(await within(event, "emitter's serverSideEmit"), [1, { a: 2 }]);
      const gone = next(client, "disconnect");
      emitter.in("sports").disconnectSockets();
      assert.equal(await within(gone, "emitter's disconnectSockets"), "io server disconnect");
    } finally {
      await stopNode(node);
      await pub.close();
    }
  },
);
