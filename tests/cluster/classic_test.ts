// The mixed-cluster scenarios (scenarios.ts) on the classic Redis adapter: the official
// socket.io 4.8.4 with @socket.io/redis-adapter@8.3.0 on Node beside our server on Deno, two of
// ours, ours on Bun beside the official one, and the three together; each on node-redis and on
// ioredis.
import assert from "node:assert/strict";
import { Server } from "../../mod.ts";
import { createAdapter, type RedisAdapter } from "../../adapter/redis/mod.ts";
import { redisTest } from "../helpers/redis.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  officialClient,
  settle,
  within,
} from "../helpers/socketio.ts";
import { clusterTests, until } from "./cluster.ts";
import { type ClusterNode, startNode } from "./nodes.ts";
import { connectRedis, REDIS_CLIENT_KINDS, type RedisClients } from "./redis_clients.ts";

clusterTests({ adapter: "classic", nodes: ["official", "deno"] });
clusterTests({ adapter: "classic", nodes: ["deno", "deno"] });
clusterTests({ adapter: "classic", nodes: ["bun", "official"] });
// All three at once: every request is answered by two nodes of different kinds.
clusterTests({ adapter: "classic", nodes: ["official", "deno", "bun"] });

async function connect(node: ClusterNode, rooms: string[]): Promise<ClientSocket> {
  const socket = officialClient(node.url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth: { rooms },
  });
  await connected(socket);
  return socket;
}

// allRooms is no operation of the control API: our adapter, in this process, asks an official
// node (ALL_ROOMS), which answers as it answers its own kind.
for (const kind of REDIS_CLIENT_KINDS) {
  redisTest(`classic cluster: our allRooms() gets an official node's rooms (${kind})`, async (
    redis,
  ) => {
    const official = await startNode("official", {
      name: "official",
      adapter: "classic",
      client: kind,
      redisUrl: redis.url,
    });
    const clients = await connectRedis(kind, redis.url);
    const io = new Server({ adapter: createAdapter(clients.pub, clients.sub) });
    const adapter = io.of("/").adapter as unknown as RedisAdapter;
    const remote: ClientSocket[] = [];
    try {
      await adapter.init();
      remote.push(await connect(official, ["news"]));
      await until(async () => await adapter.serverCount() === 2, "both nodes counted");
      const rooms = await adapter.allRooms();
      assert.deepStrictEqual([...rooms].sort(), [remote[0].id!, "news"].sort());
    } finally {
      await closeClients(remote);
      await settle();
      await io.close();
      await clients.close();
      await official.stop();
    }
  });
}

/** A command of the test's own (node-redis) connection. */
async function command(redis: RedisClients, ...args: string[]): Promise<unknown> {
  if (redis.kind !== "node-redis") throw new Error("the tests' own connection is node-redis");
  return await redis.pub.sendCommand(args);
}

// The user closed the Redis clients before io.close(): it resolves (node-redis' UNSUBSCRIBE
// waited for a reconnection that never comes) and nothing is reported (ioredis rejected each
// unsubscription with "Connection is closed").
for (const kind of REDIS_CLIENT_KINDS) {
  redisTest(`classic, ${kind}: io.close() after the Redis clients were closed resolves`, async (
    redis,
  ) => {
    const watcher = await connectRedis("node-redis", redis.url);
    const clients = await connectRedis(kind, redis.url);
    const io = new Server({ adapter: createAdapter(clients.pub, clients.sub) });
    const reported: unknown[] = [];
    const listener = (e: ErrorEvent) => {
      e.preventDefault();
      reported.push(e.error);
    };
    addEventListener("error", listener);
    try {
      await (io.of("/").adapter as unknown as RedisAdapter).init();
      // The request and response channels, this node's own response channel, the pattern.
      await until(async () => {
        const channels = (await command(watcher, "PUBSUB", "CHANNELS")) as string[];
        const patterns = (await command(watcher, "PUBSUB", "NUMPAT")) as number;
        return channels.length === 3 && patterns === 1;
      }, "the subscriptions");
      await clients.close();
      await within(io.close(), "io.close()");
    } finally {
      removeEventListener("error", listener);
      await watcher.close();
    }
    assert.deepEqual(reported, []);
  });
}
