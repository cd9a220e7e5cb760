/**
 * The Redis Streams adapter in this process, with the sanitizers on, on a real redis-server and
 * npm `redis` / `ioredis`: `close()` ends the blocked `XREAD` and every connection the adapter
 * opened; a failing `XREAD` is reported and retried, and the adapter reads on once Redis answers
 * again; what it writes to Redis is the official 0.3.1 layout, read here with `@msgpack/msgpack`
 * (the official adapter's codec): the entry fields and the stored session.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decode } from "@msgpack/msgpack";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { Server } from "../../mod.ts";
import { createStreamsAdapter, type StreamsAdapterOptions } from "../../adapter/redis/mod.ts";
import { type RedisServer, redisTest } from "../helpers/redis.ts";
import { serve, type TestServer } from "../helpers/serve.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  next,
  officialClient,
  settle,
  within,
} from "../helpers/socketio.ts";
import { connectRedis, REDIS_CLIENT_KINDS, type RedisClientKind } from "./redis_clients.ts";

/** Waits (bounded) until `check` holds, looking again every few milliseconds. */
async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!await check()) await new Promise((r) => setTimeout(r, 10));
    })(),
    what,
  );
}

/** The test's own connection to Redis, to look at what the adapters did. */
async function watcher(redis: RedisServer) {
  const watch = createClient({ url: redis.url });
  await watch.connect();
  return watch;
}

type Watch = Awaited<ReturnType<typeof watcher>>;

/** The connections Redis has, by the last command they sent (`cmd=`). */
async function commands(watch: Watch): Promise<string[]> {
  const list = await watch.sendCommand(["CLIENT", "LIST"]) as string;
  return list.trim().split("\n").map((line) => /cmd=(\S+)/.exec(line)?.[1] ?? "?");
}

/** Our server with the Streams adapter on its own Redis clients, served on a free port. */
async function node(
  redis: RedisServer,
  kind: RedisClientKind,
  opts: StreamsAdapterOptions = {},
  recovery = false,
) {
  const clients = await connectRedis(kind, redis.url);
  const io = new Server({
    adapter: createStreamsAdapter(clients.pub, opts),
    ...(recovery ? { connectionStateRecovery: { maxDisconnectionDuration: 60_000 } } : {}),
  });
  const http: TestServer = serve(io.handler());
  // The adapter of "/" exists from the start; init() is the promise of its connections.
  await io.of("/").adapter.init();
  return {
    io,
    url: http.origin,
    async close() {
      await io.close();
      await http.close();
      await clients.close();
    },
  };
}

for (const kind of REDIS_CLIENT_KINDS) {
  redisTest(
    `streams adapter (${kind}): close() ends the blocked XREAD and its connections`,
    async (redis) => {
      const watch = await watcher(redis);
      const reported: unknown[] = [];
      const onError = (e: ErrorEvent) => {
        e.preventDefault();
        reported.push(e.error);
      };
      addEventListener("error", onError);
      try {
        const before = (await commands(watch)).length;
        const a = await node(redis, kind); // XREAD blocks 5 s by default
        await a.io.of("/custom").adapter.init();
        // The reader is blocked in XREAD, the subscriber subscribed.
        await until(async () => (await commands(watch)).includes("xread"), "a blocked XREAD");
        const open = await commands(watch);
        assert.ok(open.includes("subscribe"), `a subscribed connection among ${open}`);
        await a.close();
        // Only the test's connections remain (the sanitizers check this process's side).
        await until(
          async () => (await commands(watch)).length === before,
          "the adapter's connections closed",
        );
        assert.ok(!(await commands(watch)).includes("xread"));
        // The XREAD that the close fails is no error of the app's.
        assert.deepEqual(reported, []);
      } finally {
        removeEventListener("error", onError);
        await watch.close();
      }
    },
  );

  redisTest(
    `streams adapter (${kind}): a failing XREAD is reported and retried, then reads on`,
    async (redis) => {
      const watch = await watcher(redis);
      const reported: unknown[] = [];
      const onError = (e: ErrorEvent) => {
        e.preventDefault();
        reported.push(e.error);
      };
      addEventListener("error", onError);
      let client: ClientSocket | undefined;
      const nodes: Awaited<ReturnType<typeof node>>[] = [];
      try {
        const opts = { blockTimeInMs: 50 };
        const a = await node(redis, kind, opts);
        nodes.push(a);
        const b = await node(redis, kind, opts);
        nodes.push(b);
        client = officialClient(a.url, { transports: ["websocket"], reconnection: false });
        await within(connected(client), "connection");

        // The stream's key becomes a string: every XREAD fails (WRONGTYPE) until it is deleted.
        await watch.set("socket.io", "not a stream");
        const start = performance.now();
        await until(() => reported.length >= 4, "failed reads reported, again and again");
        // Paced: after a failure a node waits 100 ms, then twice as long after each further one,
        // so by `elapsed` each of the two has failed at most 2 + log2(elapsed / 100 + 1) times
        // (a slower machine fails fewer times, never more); a loop retrying at once, far more.
        const elapsed = performance.now() - start;
        const most = 2 * (2 + Math.floor(Math.log2(elapsed / 100 + 1)));
        assert.ok(reported.length <= most, `${reported.length} failures in ${elapsed} ms: spins`);
        assert.ok(
          reported.every((e) => /WRONGTYPE/.test(String((e as Error)?.message ?? e))),
          `only the failed reads are reported: ${reported}`,
        );
        await watch.del("socket.io");

        const got = next(client, "m");
        b.io.emit("m", "after the outage");
        assert.equal(await within(got, "a broadcast after the outage"), "after the outage");
      } finally {
        if (client) await closeClients([client]);
        await settle();
        for (const n of nodes) await n.close();
        removeEventListener("error", onError);
        await watch.close();
      }
    },
  );
}

redisTest("streams adapter: entries and sessions in the official layout", async (redis) => {
  const watch = await watcher(redis);
  let client: ClientSocket | undefined;
  const a = await node(redis, "node-redis", {}, true);
  try {
    client = officialClient(a.url, { transports: ["websocket"], reconnection: false });
    await within(connected(client), "connection");
    const first = next(client, "m");
    a.io.emit("m", 1);
    await within(first, "a broadcast");
    const second = next(client, "b");
    a.io.to(client.id!).emit("b", new Uint8Array([1, 2]));
    await within(second, "a binary broadcast");

    const [plain, binary] = await watch.xRange("socket.io", "-", "+");
    assert.deepEqual(Object.keys(plain.message), ["uid", "nsp", "type", "data"]);
    assert.equal(plain.message.nsp, "/");
    assert.equal(plain.message.type, "3");
    const data = JSON.parse(plain.message.data);
    assert.deepEqual(data.packet.data, ["m", 1]);
    assert.deepEqual(data.opts, { rooms: [], except: [], flags: data.opts.flags });
    // Binary: base64 msgpack, `bin` for the bytes.
    assert.equal(binary.message.type, "3");
    const decoded = decode(Buffer.from(binary.message.data, "base64")) as typeof data;
    const [name, bytes] = decoded.packet.data as [string, Uint8Array];
    assert.deepEqual([name, [...bytes]], ["b", [1, 2]]);
    assert.deepEqual(decoded.opts.rooms, [client.id]);

    // A dropped connection: its session is stored under its pid for maxDisconnectionDuration.
    const [socket] = a.io.of("/").sockets.values();
    const gone = next(socket, "disconnect");
    socket.join("news");
    socket.data = { user: "ann" };
    client.io.engine.close();
    await gone;
    let keys: string[] = [];
    // Our checkpoint of the connected socket is there already (longer-lived: PX
    // maxDisconnectionDuration plus two checkpoint intervals); the disconnection's write follows.
    const persisted = async () =>
      (keys = await watch.keys("sio:session:*")).length === 1 &&
      await watch.pTTL(keys[0]) <= 60_000;
    await until(persisted, "a session");
    assert.equal(keys[0], `sio:session:${socket.pid}`);
    const ttl = await watch.pTTL(keys[0]);
    assert.ok(ttl > 0 && ttl <= 60_000, `PX maxDisconnectionDuration, ${ttl} ms left`);
    const session = decode(Buffer.from((await watch.get(keys[0]))!, "base64")) as {
      node?: unknown;
    };
    // The official fields, and the uid of the node that wrote it (ours: official nodes ignore it).
    assert.equal(typeof session.node, "string");
    delete session.node;
    assert.deepEqual(session, {
      sid: socket.id,
      pid: socket.pid,
      rooms: [socket.id, "news"],
      data: { user: "ann" },
    });
  } finally {
    if (client) await closeClients([client]);
    await settle();
    await a.close();
    await watch.close();
  }
});

redisTest(
  "streams adapter: io.adapter() with the same factory again, then close()",
  async (redis) => {
    const watch = await watcher(redis);
    let client: ClientSocket | undefined;
    const clients = await connectRedis("ioredis", redis.url);
    const b = await node(redis, "node-redis");
    const before = (await commands(watch)).length;
    const factory = createStreamsAdapter(clients.pub);
    const io = new Server({ adapter: factory });
    const http = serve(io.handler());
    try {
      await io.of("/").adapter.init();
      // A new adapter of the same factory for "/": the old one closes, the connections stay.
      io.adapter(factory);
      await io.of("/").adapter.init();
      client = officialClient(http.origin, { transports: ["websocket"], reconnection: false });
      await within(connected(client), "connection");
      const got = next(client, "m");
      b.io.emit("m", "through the new adapter");
      assert.equal(
        await within(got, "a broadcast from the other server"),
        "through the new adapter",
      );
      await closeClients([client]);
      client = undefined;
      await settle();
      await io.close();
      await until(async () => (await commands(watch)).length === before, "connections closed");
    } finally {
      if (client) await closeClients([client]);
      await settle();
      await io.close();
      await http.close();
      await clients.close();
      await b.close();
      await watch.close();
    }
  },
);

/**
 * A client of a server with recovery on (`maxDisconnectionDuration` of `ttl`) gets a broadcast,
 * loses its connection, and comes back once `meanwhile` is done: whether it was recovered.
 */
async function dropAndReturn(
  redis: RedisServer,
  ttl: number,
  meanwhile: (watch: Watch) => Promise<void>,
): Promise<{ recovered: boolean; sameId: boolean }> {
  const watch = await watcher(redis);
  const clients = await connectRedis("node-redis", redis.url);
  const io = new Server({
    adapter: createStreamsAdapter(clients.pub),
    connectionStateRecovery: { maxDisconnectionDuration: ttl },
  });
  const http = serve(io.handler());
  let client: ClientSocket | undefined;
  try {
    await io.of("/").adapter.init();
    client = officialClient(http.origin, { transports: ["websocket"], reconnection: false });
    await within(connected(client), "connection");
    const got = next(client, "m");
    io.emit("m", 1);
    await within(got, "a broadcast");
    const id = client.id;
    const gone = next(client, "disconnect");
    client.io.engine.close();
    await gone;
    await until(async () => (await watch.keys("sio:session:*")).length === 1, "a session");
    await meanwhile(watch);
    client.connect();
    await within(connected(client), "reconnection");
    return { recovered: client.recovered, sameId: client.id === id };
  } finally {
    if (client) await closeClients([client]);
    await settle();
    await io.close();
    await http.close();
    await clients.close();
    await watch.close();
  }
}

redisTest("streams adapter: no recovery once the session expired", async (redis) => {
  // PX maxDisconnectionDuration: Redis deletes the session.
  const expired = await dropAndReturn(
    redis,
    200,
    (watch) =>
      until(async () => (await watch.keys("sio:session:*")).length === 0, "the session expired"),
  );
  assert.deepEqual(expired, { recovered: false, sameId: false });
});

redisTest(
  "streams adapter: no recovery once the stream lost the client's offset",
  async (redis) => {
    // The session is there, but the stream was trimmed past the offset: packets may be missing.
    const trimmed = await dropAndReturn(redis, 60_000, async (watch) => {
      await watch.xTrim("socket.io", "MAXLEN", 0);
    });
    assert.deepEqual(trimmed, { recovered: false, sameId: false });
  },
);

redisTest("streams adapter: recovery on the same server, for comparison", async (redis) => {
  const kept = await dropAndReturn(redis, 60_000, async () => {});
  assert.deepEqual(kept, { recovered: true, sameId: true });
});

/** How many times Redis ran `command` so far (`INFO commandstats`). */
async function calls(watch: Watch, command: string): Promise<number> {
  const info = await watch.sendCommand(["INFO", "commandstats"]) as string;
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

redisTest(
  "streams adapter: one XADD per broadcast, whatever the receivers; none for local",
  async (redis) => {
    const watch = await watcher(redis);
    const a = await node(redis, "node-redis");
    const b = await node(redis, "ioredis");
    const clients: ClientSocket[] = [];
    try {
      for (const n of [a, a, b, b, b]) {
        const c = officialClient(n.url, { transports: ["websocket"], reconnection: false });
        clients.push(c);
        await within(connected(c), "connection");
      }
      const before = await calls(watch, "xadd");
      for (let i = 0; i < 4; i++) {
        const all = Promise.all(clients.map((c) => next(c, "m")));
        (i % 2 ? a : b).io.emit("m", i);
        await within(all, "a broadcast to every client");
      }
      const local = Promise.all(clients.slice(0, 2).map((c) => next(c, "m")));
      a.io.local.emit("m", "local");
      await within(local, "a local broadcast");
      assert.equal(await calls(watch, "xadd") - before, 4);
    } finally {
      await closeClients(clients);
      await settle();
      await a.close();
      await b.close();
      await watch.close();
    }
  },
);

redisTest(
  "streams adapter: an error of the user's client that nobody hears is reported",
  async (redis) => {
    const watch = await watcher(redis);
    const reported: unknown[] = [];
    const onError = (e: ErrorEvent) => {
      e.preventDefault();
      reported.push(e.error);
    };
    addEventListener("error", onError);
    // No `error` listener of the user's: node-redis would throw the event out of its socket code.
    const client = createClient({ url: redis.url });
    await client.connect();
    const io = new Server({ adapter: createStreamsAdapter(client) });
    try {
      await io.of("/").adapter.init();
      const id = await client.sendCommand(["CLIENT", "ID"]) as number;
      await watch.sendCommand(["CLIENT", "KILL", "ID", String(id)]);
      await until(() => reported.length > 0, "the client's error reported");
      // It reconnects by itself, and the adapter goes on with it.
      await until(async () => (await client.ping().catch(() => "")) === "PONG", "a reconnection");
    } finally {
      await io.close();
      await client.close();
      removeEventListener("error", onError);
      await watch.close();
    }
  },
);

for (const kind of REDIS_CLIENT_KINDS) {
  Deno.test(`streams adapter (${kind}): io.close() resolves while Redis does not answer`, async () => {
    // Nothing listens there: node-redis tries again and again, ioredis fails its commands.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const url = `redis://127.0.0.1:${listener.addr.port}`;
    listener.close();
    const reported: unknown[] = [];
    const onError = (e: ErrorEvent) => {
      e.preventDefault();
      reported.push(e.error);
    };
    addEventListener("error", onError);
    const client = kind === "node-redis"
      ? createClient({ url, socket: { reconnectStrategy: 50 } })
      // ioredis ends a socket that never opened on a timer of disconnectTimeout: short here.
      : new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        retryStrategy: () => 50,
        disconnectTimeout: 10,
      });
    client.on("error", () => {});
    // The app's own connect() waits for Redis (node-redis) or fails (ioredis).
    const connecting = (client.connect() as Promise<unknown>).catch(() => {});
    try {
      const io = new Server({ adapter: createStreamsAdapter(client) });
      io.of("/custom");
      // The adapters start, and wait for Redis (or fail and report it).
      await new Promise((resolve) => setTimeout(resolve, 100));
      await within(io.close(), "io.close() with Redis down", 5_000);
    } finally {
      if (kind === "node-redis") (client as ReturnType<typeof createClient>).destroy();
      else (client as Redis).disconnect();
      await connecting;
      // ioredis' disconnectTimeout timers, of the adapter's connections and of the app's.
      await new Promise((resolve) => setTimeout(resolve, 50));
      removeEventListener("error", onError);
    }
  });
}

Deno.test("streams adapter: wrong options and clients are refused with errors naming them", () => {
  // Never connected: only checked.
  const client = createClient();
  assert.throws(() => createStreamsAdapter({} as never), TypeError);
  assert.throws(() => createStreamsAdapter(client, { maxLen: 0 }), /maxLen must be an integer/);
  assert.throws(() => createStreamsAdapter(client, { readCount: 1.5 }), RangeError);
  assert.throws(() => createStreamsAdapter(client, { blockTimeInMs: -1 }), RangeError);
  assert.throws(
    () => createStreamsAdapter(client, { streamName: 1 as never }),
    /streamName must be a string/,
  );
  assert.throws(() => createStreamsAdapter(client, { onlyPlaintext: "no" as never }), TypeError);
  assert.ok(createStreamsAdapter(client, { blockTimeInMs: 0, heartbeatInterval: 1 }));
});

redisTest(
  "streams adapter: docs/examples/streams_redis.ts runs, and the client recovers",
  async (redis) => {
    const demo = new URL("../../docs/examples/streams_redis.ts", import.meta.url).pathname;
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", config, demo, redis.url],
      stdin: "null",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    // Without the ids, which change from run to run.
    const lines = out.trim().split("\n").map((line) =>
      line.replace(/ as [\w-]+/, "").replace(/ ([\w-]+), rooms \1,news$/, "")
    );
    assert.deepEqual(lines.filter((l) => !l.startsWith("redis:")), [
      "client: connected to server 1",
      "client: news 1",
      "client: disconnected (forced close)",
      "server 2: restored",
      "client: news 2",
      "client: news 3",
      "client: reconnected to server 2, recovered: true",
      "client: news 4",
    ]);
  },
);
