// Mixed clusters on the classic Redis adapter: the official socket.io 4.8.4 with
// @socket.io/redis-adapter@8.3.0 on Node beside our server on Deno (and on Bun), and two of ours,
// with node-redis and with ioredis; official socket.io-client on each node.
import assert from "node:assert/strict";
import { redisTest } from "../helpers/redis.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  next,
  officialClient,
  receivedDuring,
  settle,
  within,
} from "../helpers/socketio.ts";
import { bin, type Selection } from "./control.ts";
import { type ClusterNode, type NodeRuntime, startNode, unavailable } from "./nodes.ts";
import { connectRedis, REDIS_CLIENT_KINDS } from "./redis_clients.ts";
import { Server } from "../../mod.ts";
import { createAdapter, type RedisAdapter } from "../../adapter/redis/mod.ts";

const CLUSTERS: [NodeRuntime, NodeRuntime][] = [
  ["official", "deno"],
  ["deno", "deno"],
  ["bun", "official"],
];

interface Cluster {
  x: ClusterNode;
  y: ClusterNode;
  clients: ClientSocket[];
}

function connect(node: ClusterNode, rooms: string[], data?: unknown): Promise<ClientSocket> {
  const socket = officialClient(node.url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth: { rooms, data },
  });
  return connected(socket).then(() => socket);
}

/** Polls `check` until it holds (each round a request to a node), bounded. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  await within(
    (async () => {
      while (!await check()) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    what,
  );
}

const sortedIds = (sockets: { id: string }[]) => sockets.map((s) => s.id).sort();

for (const [rx, ry] of CLUSTERS) {
  for (const kind of REDIS_CLIENT_KINDS) {
    redisTest(`classic cluster ${rx} + ${ry} (${kind})`, async (redis, t) => {
      for (const runtime of [rx, ry]) {
        const why = await unavailable(runtime);
        if (why) return console.log(`SKIPPED: ${why}`);
      }
      const config = (name: string) => ({
        name,
        adapter: "classic",
        client: kind,
        redisUrl: redis.url,
        adapterOptions: { requestsTimeout: 3000 },
      });
      const [x, y] = await Promise.all([startNode(rx, config("x")), startNode(ry, config("y"))]);
      const clients: ClientSocket[] = [];
      try {
        const cluster: Cluster = { x, y, clients };
        await scenarios(t, cluster, { emitter: rx === "official" || ry === "official" });
      } finally {
        await closeClients(clients);
        await settle();
        await Promise.all([x, y].map((n) => n.stop()));
      }
    });
  }
}

async function scenarios(
  t: Deno.TestContext,
  { x, y, clients }: Cluster,
  can: { emitter: boolean },
): Promise<void> {
  await eventually("both nodes subscribed", async () => {
    const [a, b] = await Promise.all([x, y].map((n) => n.control({ op: "serverCount" })));
    return a.count === 2 && b.count === 2;
  });
  const x1 = await connect(x, ["news"], { who: "x1" });
  const y1 = await connect(y, ["news", "muted"], { who: "y1" });
  const y2 = await connect(y, ["sports"], { who: "y2" });
  clients.push(x1, y1, y2);
  for (const c of clients) c.on("ping", (cb: (v: unknown) => void) => cb(c.id));

  // What each client got of `ev` ("msg") while `from` emitted with `sel`, then the marker.
  const during = (from: ClusterNode, sel: Selection & { args?: unknown[] }) =>
    receivedDuring(clients, async () => {
      await from.control({ op: "emit", ev: "msg", ...sel });
      await from.control({ op: "emit", ev: "marker" });
    });

  await t.step("broadcasts from each node: all, one room, rooms, except, local", async () => {
    for (const from of [x, y]) {
      assert.deepStrictEqual(await during(from, { args: ["a"] }), ["0:a", "1:a", "2:a"]);
      assert.deepStrictEqual(await during(from, { rooms: ["news"], args: ["n"] }), [
        "0:n",
        "1:n",
      ]);
      assert.deepStrictEqual(await during(from, { rooms: ["news", "sports"], args: ["r"] }), [
        "0:r",
        "1:r",
        "2:r",
      ]);
      assert.deepStrictEqual(await during(from, { except: ["muted"], args: ["e"] }), [
        "0:e",
        "2:e",
      ]);
      const local = from === x ? ["0:l"] : ["1:l", "2:l"];
      assert.deepStrictEqual(await during(from, { local: true, args: ["l"] }), local);
    }
  });

  await t.step("binary from each node arrives as binary", async () => {
    for (const from of [x, y]) {
      const got = clients.map((c) => next<ArrayBuffer>(c, "bin"));
      await from.control({ op: "emit", ev: "bin", args: [bin(1, 2, 255)] });
      for (const bytes of await within(Promise.all(got), "binary broadcast")) {
        assert.deepStrictEqual(new Uint8Array(bytes), new Uint8Array([1, 2, 255]));
      }
    }
  });

  await t.step("broadcast with acks: every client of both nodes answers", async () => {
    for (const from of [x, y]) {
      const result = await from.control({ op: "emitWithAck", ev: "ping", timeout: 3000 });
      assert.equal(result.err, null);
      assert.deepStrictEqual(
        (result.responses as string[]).sort(),
        clients.map((c) => c.id!).sort(),
      );
    }
  });

  await t.step("broadcast with acks: a client that does not answer times it out", async () => {
    const silent = await connect(y, ["quiet"]);
    const result = await x.control({
      op: "emitWithAck",
      ev: "ping",
      rooms: ["news", "quiet"],
      timeout: 500,
    });
    assert.equal(result.err, "operation has timed out");
    assert.deepStrictEqual((result.responses as string[]).sort(), [x1.id, y1.id].sort());
    await closeClients([silent]);
  });

  await t.step("fetchSockets from each node: both nodes' sockets, rooms, data", async () => {
    for (const from of [x, y]) {
      const { sockets } = await from.control({ op: "fetchSockets", rooms: ["news"] });
      assert.deepStrictEqual(sortedIds(sockets), [x1.id!, y1.id!].sort());
      const remote = sockets.find((s) => s.id === (from === x ? y1.id : x1.id))!;
      assert.deepStrictEqual(remote.auth, {
        rooms: from === x ? ["news", "muted"] : ["news"],
        data: { who: from === x ? "y1" : "x1" },
      });
      assert.ok(remote.rooms.includes("news"));
    }
  });

  await t.step("a RemoteSocket: emit, and emit with an ack", async () => {
    const got = next(y1, "direct");
    assert.deepStrictEqual(
      await x.control({ op: "remoteSocket", id: y1.id!, action: "emit", ev: "direct", args: [1] }),
      { found: true },
    );
    assert.equal(await within(got, "RemoteSocket emit"), 1);
    const acked = await x.control({
      op: "remoteSocket",
      id: y1.id!,
      action: "emitWithAck",
      ev: "ping",
      timeout: 3000,
    });
    assert.equal(acked.err, null);
    assert.equal(acked.responses as unknown, y1.id);
  });

  await t.step("socketsJoin, socketsLeave, disconnectSockets across nodes", async () => {
    await x.control({ op: "socketsJoin", rooms: ["news"], room: "joined" });
    await eventually("remote join", async () => {
      const { sockets } = await y.control({ op: "fetchSockets", rooms: ["joined"], local: true });
      return sockets.length === 1;
    });
    await y.control({ op: "socketsLeave", rooms: ["joined"], room: "joined" });
    await eventually("remote leave", async () => {
      const { sockets } = await x.control({ op: "fetchSockets", rooms: ["joined"], local: true });
      return sockets.length === 0;
    });
    const gone = next(y2, "disconnect");
    await x.control({ op: "disconnectSockets", rooms: ["sports"] });
    assert.equal(await within(gone, "remote disconnect"), "io server disconnect");
    clients.splice(clients.indexOf(y2), 1);
  });

  await t.step("serverSideEmit, with and without an ack", async () => {
    for (const [from, to] of [[x, y], [y, x]]) {
      await from.control({ op: "serverSideEmit", ev: "sse", args: [1, "two"] });
      await eventually("serverSideEmit", async () => {
        const { events } = await to.control({ op: "observed" });
        return events.some((e) => e.ev === "sse" && JSON.stringify(e.args) === '[1,"two"]');
      });
      const result = await from.control({ op: "serverSideEmitWithAck", ev: "sse-ack", args: [3] });
      assert.equal(result.err, null);
      assert.deepStrictEqual(result.responses, [{ node: to.name, args: [3] }]);
    }
  });

  if (can.emitter) {
    await t.step("@socket.io/redis-emitter reaches every node's clients", async () => {
      const official = x.runtime === "official" ? x : y;
      const got = await receivedDuring(clients, async () => {
        await official.control({ op: "emitter", ev: "msg", rooms: ["news"], args: ["em"] });
        await official.control({ op: "emitter", ev: "marker" });
      });
      assert.deepStrictEqual(got, ["0:em", "1:em"]);
    });
  }

  await t.step("one node stops: the other answers alone, never hangs", async () => {
    await y.kill();
    await eventually("the stopped node no longer counted", async () => {
      const { count } = await x.control({ op: "serverCount" });
      return count === 1;
    });
    const { sockets } = await x.control({ op: "fetchSockets" });
    assert.deepStrictEqual(sortedIds(sockets), [x1.id!]);
    const acked = await x.control({ op: "serverSideEmitWithAck", ev: "sse-ack" });
    assert.deepStrictEqual(acked, { err: null, responses: [] });
  });
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
      await eventually("both nodes counted", async () => await adapter.serverCount() === 2);
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
