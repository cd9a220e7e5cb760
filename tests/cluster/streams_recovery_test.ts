/**
 * Connection state recovery across the nodes of a Redis Streams cluster: a client (the official
 * socket.io-client, or ours) connected to one node through a switching proxy loses its
 * connection, broadcasts go on meanwhile, and it reconnects to the same URL, which now leads to
 * ANOTHER node (as a load balancer may send it), which restores it from Redis: `recovered`, the
 * same id, its rooms and data, and every packet it missed, in order, once. Both ways between the
 * official `@socket.io/redis-streams-adapter@0.3.1` on Node and ours (Deno, Bun), and ours to
 * ours, on npm `redis` and `ioredis`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { io as ourClient, type Socket as OurSocket } from "../../client/mod.ts";
import { redisTest } from "../helpers/redis.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  next,
  officialClient,
  settle,
  within,
} from "../helpers/socketio.ts";
import { TcpSwitch } from "../helpers/tcp_switch.ts";
import { bin } from "./control.ts";
import { type ClusterNode, type NodeRuntime, startNode, unavailable } from "./nodes.ts";
import { createClient } from "redis";
import type { RedisClientKind } from "./redis_clients.ts";

const SERVER_OPTIONS = { connectionStateRecovery: { maxDisconnectionDuration: 60_000 } };
const STREAM = "socket.io";

/** Which socket.io-client: the official one or ours. */
type ClientKind = "official" | "ours";

/**
 * Who persists the session (first node) and who restores it (second), their Redis clients, the
 * transport, and the Socket.IO client.
 */
const CASES: [
  NodeRuntime,
  RedisClientKind,
  NodeRuntime,
  RedisClientKind,
  "websocket" | "polling",
  ClientKind,
][] = [
  ["official", "node-redis", "deno", "ioredis", "websocket", "official"],
  ["deno", "ioredis", "official", "node-redis", "polling", "official"],
  ["official", "ioredis", "deno", "node-redis", "polling", "official"],
  ["deno", "node-redis", "official", "ioredis", "websocket", "official"],
  ["deno", "node-redis", "deno", "ioredis", "websocket", "official"],
  ["bun", "ioredis", "official", "node-redis", "websocket", "official"],
  ["official", "node-redis", "bun", "ioredis", "polling", "official"],
  ["official", "ioredis", "deno", "node-redis", "websocket", "ours"],
  ["deno", "node-redis", "official", "ioredis", "polling", "ours"],
  ["deno", "ioredis", "bun", "node-redis", "websocket", "ours"],
];

/** What the test uses of a client, the official one's or ours. */
interface TestClient {
  readonly id: string | undefined;
  readonly recovered: boolean;
  auth: unknown;
  readonly io: { engine: { close(): void } };
  onAny(fn: (ev: string, ...args: unknown[]) => void): unknown;
  once(ev: string, fn: (...args: never[]) => void): unknown;
  off(ev: string, fn?: (...args: never[]) => void): unknown;
  connect(): unknown;
  emitWithAck(ev: string): Promise<unknown>;
}

/** A client of `kind`, not reconnecting by itself. */
function clientOf(kind: ClientKind, url: string, opts: Record<string, unknown>): TestClient {
  const options = { reconnection: false, forceNew: true, ...opts };
  return kind === "official"
    ? officialClient(url, options) as unknown as TestClient
    : ourClient(url, options) as unknown as TestClient;
}

/** Disconnects `client` and resolves once its connection is closed. */
async function closeClient(kind: ClientKind, client: TestClient): Promise<void> {
  if (kind === "official") return await closeClients([client as unknown as ClientSocket]);
  const socket = client as unknown as OurSocket;
  const engine = socket.io.engine;
  const closed = engine && engine.readyState !== "closed" ? next(engine, "close") : undefined;
  socket.disconnect();
  await closed;
}

/** Waits (bounded) until `check` holds, looking again every few milliseconds. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  await within(
    (async () => {
      while (!await check()) await new Promise((r) => setTimeout(r, 10));
    })(),
    what,
  );
}

for (const [first, firstClient, second, secondClient, mode, kind] of CASES) {
  redisTest(
    `streams recovery: persisted by ${first} (${firstClient}), restored by ${second} ` +
      `(${secondClient}) [${mode}, ${kind} client]`,
    async (redis) => {
      for (const runtime of [first, second]) {
        const why = await unavailable(runtime);
        if (why) return console.log(`SKIPPED: ${why}`);
      }
      // The test's own look at Redis: the stream and the session keys.
      const watch = createClient({ url: redis.url });
      await watch.connect();
      const nodes: ClusterNode[] = [];
      let client: TestClient | undefined;
      let proxy: TcpSwitch | undefined;
      try {
        const config = (name: string, client: RedisClientKind) => ({
          name,
          adapter: "streams",
          client,
          redisUrl: redis.url,
          serverOptions: SERVER_OPTIONS,
        });
        const a = await startNode(first, config(`${first}-a`, firstClient));
        nodes.push(a);
        const b = await startNode(second, config(`${second}-b`, secondClient));
        nodes.push(b);
        for (const node of nodes) {
          await until(
            async () => (await node.control({ op: "serverCount" })).count === 2,
            `2 servers seen by ${node.name}`,
          );
        }
        const entries = () => watch.xLen(STREAM);
        // Each broadcast is one entry: wait for it, so that the stream's order is the order of
        // the calls whatever node they went to.
        const broadcast = async (node: ClusterNode, op: Parameters<ClusterNode["control"]>[0]) => {
          const before = await entries();
          await node.control(op);
          await until(async () => await entries() === before + 1, `the entry of ${op.op}`);
        };

        proxy = new TcpSwitch(Number(new URL(a.url).port));
        client = clientOf(kind, proxy.url, {
          transports: [mode],
          auth: { rooms: ["news"], data: { user: "ann" } },
        });
        const got: unknown[][] = [];
        client.onAny((ev: string, ...args: unknown[]) => got.push([ev, ...args]));
        await within(connected(client as unknown as ClientSocket), "first connection");
        assert.deepEqual(client.recovered, false);
        const id = client.id!;
        // A first broadcast gives the client an offset to come back with.
        const first0 = next(client, "m");
        await broadcast(a, { op: "emit", ev: "m", args: [0] });
        await within(first0, "broadcast before the disconnection");

        // The connection drops (not a disconnect() by the app: the session is kept).
        const gone = next(client, "disconnect");
        client.io.engine.close();
        await gone;
        await until(
          async () => (await watch.keys("sio:session:*")).length === 1,
          "the session stored in Redis",
        );

        // Meanwhile, broadcasts from both nodes, some for the client, some not.
        await broadcast(a, { op: "emit", ev: "m", args: [1] });
        await broadcast(b, { op: "emit", ev: "m", args: [2], rooms: ["news"] });
        await broadcast(a, { op: "emit", ev: "m", args: [3], rooms: ["other"] });
        await broadcast(b, { op: "emit", ev: "m", args: [4], except: ["news"] });
        await broadcast(a, { op: "emit", ev: "m", args: [5, bin(1, 2, 3)] });
        await broadcast(b, { op: "emit", ev: "m", args: [6], rooms: [id] });
        await broadcast(a, { op: "emit", ev: "m", args: [7], nsp: "/custom" });
        await broadcast(b, { op: "emit", ev: "m", args: [8], rooms: ["news"], except: [id] });

        const [key] = await watch.keys("sio:session:*");
        const stored = await watch.get(key);

        // Back, to the other node, without the auth that made the first node set rooms and
        // data: what the second node has, it restored.
        got.length = 0;
        await proxy.point(Number(new URL(b.url).port));
        client.auth = {};
        client.connect();
        await within(
          connected(client as unknown as ClientSocket),
          "reconnection to the other node",
        );
        assert.deepEqual(client.recovered, true);
        assert.deepEqual(client.id, id);
        const me = await within(client.emitWithAck("whoami"), "whoami") as {
          node: string;
          rooms: string[];
          data: unknown;
        };
        assert.deepEqual(me.node, b.name);
        assert.deepEqual(me.rooms.sort(), [id, "news"].sort());
        assert.deepEqual(me.data, { user: "ann" });
        // The stored session was taken (read and deleted): our node writes its own again (its
        // checkpoint of the socket it now has), the official one nothing.
        const restoredValue = await watch.get(key);
        assert.notEqual(restoredValue, stored, "a session is restored once");
        if (second === "official") assert.deepEqual(restoredValue, null);

        // A broadcast after the recovery: it comes after the missed ones, and only once.
        const after = next(client, "after");
        await broadcast(b, { op: "emit", ev: "after", args: [9] });
        await within(after, "broadcast after the recovery");

        const names = got.map(([ev, n]) => `${ev}:${n}`);
        assert.deepEqual(names, ["m:1", "m:2", "m:5", "m:6", "after:9"]);
        const binary = got[2][2] as ArrayBuffer | Uint8Array;
        assert.deepEqual([...new Uint8Array(binary as ArrayBuffer)], [1, 2, 3]);
        // Each packet ends with its offset (the stream entry id), increasing.
        const offsets = got.map((args) => args[args.length - 1] as string);
        for (const offset of offsets) assert.match(offset, /^\d+-\d+$/);
        const ids = (await watch.xRange(STREAM, "-", "+")).map((e) => e.id);
        assert.deepEqual(offsets, [ids[1], ids[2], ids[5], ids[6], ids[9]]);
        assert.ok(new Set(offsets).size === offsets.length);
      } finally {
        if (client) await closeClient(kind, client);
        await settle();
        await proxy?.close();
        for (const node of nodes.reverse()) await node.stop();
        await watch.close();
      }
    },
  );
}
