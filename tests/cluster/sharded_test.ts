/**
 * The sharded Redis adapter (Redis 7 sharded Pub/Sub): the mixed-cluster scenarios
 * (scenarios.ts) with ours beside the official `createShardedAdapter` of
 * `@socket.io/redis-adapter@8.3.0` on Node, ours alone, and ours on Bun beside the official one,
 * on node-redis and on ioredis; the official node beside ours in the other subscription modes,
 * whose room channels both sides must agree on. Then what Redis sees: the same shard channels
 * subscribed as by the official adapter in each mode, as rooms come and go, and one SPUBLISH per
 * broadcast whatever the number of receivers (none for a local one).
 */
import assert from "node:assert/strict";
import { closeClients, connected, officialClient, within } from "../helpers/socketio.ts";
import { redisTest } from "../helpers/redis.ts";
import { Server } from "../../mod.ts";
import { createShardedAdapter } from "../../adapter/redis/mod.ts";
import { clusterTests, until } from "./cluster.ts";
import { type NodeRuntime, startNode } from "./nodes.ts";
import { connectRedis, type RedisClients } from "./redis_clients.ts";

/** A command of the test's own (node-redis) connection. */
async function command(redis: RedisClients, ...args: string[]): Promise<unknown> {
  if (redis.kind !== "node-redis") throw new Error("the tests' own connection is node-redis");
  return await redis.pub.sendCommand(args);
}

clusterTests({ adapter: "sharded", nodes: ["official", "deno"] });
clusterTests({ adapter: "sharded", nodes: ["deno", "deno"] });
clusterTests({ adapter: "sharded", nodes: ["bun", "official"] });
for (const subscriptionMode of ["static", "dynamic-private"]) {
  clusterTests({
    adapter: "sharded",
    nodes: ["official", "deno"],
    clients: ["ioredis"],
    adapterOptions: { subscriptionMode },
  });
}

type Mode = "static" | "dynamic" | "dynamic-private";

/** A public room whose name has a socket id's length: "dynamic" gives it a channel, yet
 * publishes to it on the namespace's channel. */
const TWENTY = "room-of-twenty-chars";

/**
 * The shard channels of the one node on `url`, while one client is in "news" and TWENTY, then
 * after it left: its adapters' uids shown as `<uid>`, the socket's id as `<sid>`, sorted.
 */
async function channelsOf(runtime: NodeRuntime, url: string, mode: Mode) {
  const redis = await connectRedis("node-redis", url);
  const node = await startNode(runtime, {
    name: `${runtime}-channels`,
    adapter: "sharded",
    client: "ioredis",
    redisUrl: url,
    adapterOptions: { subscriptionMode: mode },
  });
  try {
    const list = async (sid?: string) =>
      ((await command(redis, "PUBSUB", "SHARDCHANNELS")) as string[])
        .map((c) => c.replace(/#[0-9a-f]{16}#$/, "#<uid>#").replace(`#${sid}#`, "#<sid>#"))
        .sort();
    // Every namespace of the app: the channel of all, and this node's responses.
    const base = ["/", "/custom"].flatMap((n) => [`socket.io#${n}#`, `socket.io#${n}#<uid>#`])
      .sort();
    await until(async () => (await list()).length === base.length, "the namespaces' channels");
    const socket = officialClient(node.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: { rooms: ["news", TWENTY] },
    });
    let joined: string[];
    try {
      await within(connected(socket), "connection");
      const sid = socket.id!;
      const wanted = (n: number) => async () => (await list(sid)).length === n;
      const extra = mode === "static" ? 0 : mode === "dynamic" ? 2 : 3;
      await until(wanted(base.length + extra), "the rooms' channels");
      joined = await list(sid);
    } finally {
      await closeClients([socket]);
    }
    await until(async () => (await list()).length === base.length, "the rooms' unsubscription");
    return { base, joined, left: await list() };
  } finally {
    await node.stop();
    await redis.close();
  }
}

for (const mode of ["static", "dynamic", "dynamic-private"] as const) {
  redisTest(
    `sharded, ${mode}: the shard channels of the official adapter, as rooms come and go`,
    async (redis) => {
      const official = await channelsOf("official", redis.url, mode);
      const ours = await channelsOf("deno", redis.url, mode);
      assert.deepEqual(ours, official);
      const rooms = {
        static: [],
        dynamic: ["news", TWENTY],
        "dynamic-private": ["news", "<sid>", TWENTY],
      }[mode];
      assert.deepEqual(
        official.joined,
        [...official.base, ...rooms.map((r) => `socket.io#/#${r}#`)].sort(),
      );
      assert.deepEqual(official.left, official.base);
    },
  );
}

/** The SPUBLISH commands the server has run. */
async function spublishes(redis: RedisClients): Promise<number> {
  const info = String(await command(redis, "INFO", "commandstats"));
  return Number(/cmdstat_spublish:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

redisTest(
  "sharded: one SPUBLISH per broadcast whatever the number of receivers, none when local",
  async (redis) => {
    const client = await connectRedis("node-redis", redis.url);
    const nodes = await Promise.all(
      ["deno", "deno"].map((runtime, i) =>
        startNode(runtime as NodeRuntime, {
          name: `deno-${i}`,
          adapter: "sharded",
          client: "node-redis",
          redisUrl: redis.url,
        })
      ),
    );
    const sockets = nodes.flatMap((node) =>
      [["news"], ["news"], []].map((rooms) =>
        officialClient(node.url, {
          transports: ["websocket"],
          forceNew: true,
          reconnection: false,
          auth: { rooms },
        })
      )
    );
    try {
      await within(Promise.all(sockets.map(connected)), "connections");
      await until(
        async () =>
          (await nodes[1].control({ op: "fetchSockets", rooms: ["news"] })).sockets.length === 4,
        "the room on both nodes",
      );
      /** Runs `send`, waits for `receivers` to get "msg", and returns the SPUBLISHes it cost. */
      const cost = async (receivers: typeof sockets, send: () => Promise<unknown>) => {
        const before = await spublishes(client);
        const got = receivers.map((s) => new Promise((r) => s.once("msg", r)));
        await send();
        await within(Promise.all(got), "every receiver's message");
        return (await spublishes(client)) - before;
      };
      assert.equal(await cost(sockets, () => nodes[0].control({ op: "emit", ev: "msg" })), 1);
      const inNews = sockets.filter((_, i) => i % 3 !== 2);
      assert.equal(
        await cost(inNews, () => nodes[0].control({ op: "emit", rooms: ["news"], ev: "msg" })),
        1,
      );
      assert.equal(
        await cost(
          sockets.slice(0, 3),
          () => nodes[0].control({ op: "emit", local: true, ev: "msg" }),
        ),
        0,
      );
    } finally {
      await closeClients(sockets);
      for (const node of nodes) {
        await node.stop();
      }
      await client.close();
    }
  },
);

redisTest(
  "sharded: what is not a message on the node's channels is ignored, and it serves on",
  async (redis) => {
    const client = await connectRedis("node-redis", redis.url);
    const node = await startNode("deno", {
      name: "deno-garbage",
      adapter: "sharded",
      client: "ioredis",
      redisUrl: redis.url,
    });
    const socket = officialClient(node.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: { rooms: ["news"] },
    });
    let out = "";
    try {
      await within(connected(socket), "connection");
      const channels = (await command(client, "PUBSUB", "SHARDCHANNELS")) as string[];
      assert.ok(channels.includes("socket.io#/#news#"));
      const garbage = [
        "{not json",
        "\xc1", // a byte msgpack never uses
        "\x93\x01\x02\x03", // msgpack, but no message
        JSON.stringify({ uid: "other", nsp: "/", type: 3, data: null }),
        JSON.stringify({ uid: "other", nsp: "/", type: 8, data: { requestId: 1 } }),
      ];
      for (const channel of channels) {
        for (const payload of garbage) await command(client, "SPUBLISH", channel, payload);
      }
      // What one connection sends arrives in order: once "msg" is here, so was all of the above.
      const got = new Promise((r) => socket.once("msg", r));
      await command(
        client,
        "SPUBLISH",
        "socket.io#/#",
        JSON.stringify({
          uid: "other",
          nsp: "/",
          type: 3,
          data: {
            packet: { type: 2, data: ["msg", 1] },
            opts: { rooms: [], except: [], flags: {} },
          },
        }),
      );
      assert.equal(await within(got, "the message after the garbage"), 1);
    } finally {
      await closeClients([socket]);
      out = await node.stop();
      await client.close();
    }
    assert.ok(!out.includes("uncaught"), out);
  },
);

redisTest("sharded: the docs' example runs as it says", async (redis) => {
  const example = new URL("../../docs/examples/sharded_redis.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", example, redis.url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(
    out,
    [
      `A got the answers: ["B's client: are you there?"]`,
      `A sees in "news": B's client`,
      "the client of B got: hello from A",
      "",
    ].join("\n"),
  );
});

for (const kind of ["node-redis", "ioredis"] as const) {
  redisTest(
    `sharded, ${kind}: io.close() after the Redis clients were closed resolves`,
    async (redis) => {
      const watcher = await connectRedis("node-redis", redis.url);
      const clients = await connectRedis(kind, redis.url);
      const io = new Server({ adapter: createShardedAdapter(clients.pub, clients.sub) });
      const reported: unknown[] = [];
      const listener = (e: ErrorEvent) => {
        e.preventDefault();
        reported.push(e.error);
      };
      addEventListener("error", listener);
      try {
        io.of("/").adapter.addAll("a", new Set(["a", "news"]));
        // The namespace's channel, its responses' and the room's.
        await until(
          async () =>
            ((await command(watcher, "PUBSUB", "SHARDCHANNELS")) as string[]).length === 3,
          "the subscriptions",
        );
        await clients.close();
        await within(io.close(), "io.close()");
      } finally {
        removeEventListener("error", listener);
        await watcher.close();
      }
      assert.deepEqual(reported, []);
    },
  );
}
