/**
 * Two servers on one Redis with the Streams adapter and connection state recovery: a client of
 * the first loses its connection, both servers broadcast meanwhile, and it comes back to the
 * second, which restores its session (same id, its rooms) and sends what it missed. It prints:
 *
 *   client: connected to server 1 as <id>
 *   client: news 1
 *   client: disconnected (forced close)
 *   redis: session stored as sio:session:<pid>
 *   server 2: restored <id>, rooms <id>,news
 *   client: news 2
 *   client: news 3
 *   client: reconnected to server 2 as <id>, recovered: true
 *   client: news 4
 *
 * The demo empties the stream "socket.io" and the session keys of that Redis first.
 *
 *   deno run -A docs/examples/streams_redis.ts [redis://127.0.0.1:6379]
 *
 * An official Node server with `@socket.io/redis-streams-adapter` on the same Redis would be one
 * more server of the same cluster, for the client to come back to. The client here is the
 * official `socket.io-client`, whose manager can be pointed at another server between two
 * connections (as a load balancer would send it elsewhere).
 *
 * @module
 */
import { createClient } from "redis";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { Server } from "@socketio-edge/core";
import { createStreamsAdapter } from "@socketio-edge/core/redis";

const url = Deno.args[0] ?? "redis://127.0.0.1:6379";

/** One server: its own Redis client, the Streams adapter, recovery on, on a free port. */
async function startServer(name: string) {
  const redis = createClient({ url });
  await redis.connect();
  const io = new Server({
    adapter: createStreamsAdapter(redis),
    connectionStateRecovery: { maxDisconnectionDuration: 60_000 },
  });
  io.on("connection", (socket) => {
    if (socket.recovered) console.log(`${name}: restored ${socket.id}, rooms ${[...socket.rooms]}`);
    else socket.join("news");
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, io.handler());
  // The adapter reads the stream once init() resolves.
  await io.of("/").adapter.init();
  return {
    io,
    url: `http://127.0.0.1:${http.addr.port}`,
    async close() {
      await io.close();
      await http.shutdown();
      await redis.close();
    },
  };
}

const once = (socket: ClientSocket, ev: string) =>
  new Promise<unknown[]>((resolve) => socket.once(ev, (...args: unknown[]) => resolve(args)));

/** Waits until `check` holds (the demo looks at Redis to show what the adapter stored). */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!await check()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const redis = createClient({ url });
await redis.connect();
await redis.del(["socket.io", ...await redis.keys("sio:session:*")]);

const first = await startServer("server 1");
const second = await startServer("server 2");

const client = connect(first.url, { transports: ["websocket"], reconnection: false });
await once(client, "connect");
console.log(`client: connected to server 1 as ${client.id}`);
client.on("news", (n: number) => console.log(`client: news ${n}`));

// A first broadcast: the client keeps its offset in the stream.
const got = once(client, "news");
first.io.to("news").emit("news", 1);
await got;

// The connection drops; the session is stored in Redis.
const gone = once(client, "disconnect");
client.io.engine.close();
console.log(`client: disconnected (${(await gone)[0]})`);
await until(async () => (await redis.keys("sio:session:*")).length === 1);
console.log(`redis: session stored as ${await redis.keys("sio:session:*")}`);

// Meanwhile, both servers broadcast to the room; each broadcast is an entry of the stream.
for (const [server, n] of [[first, 2], [second, 3]] as const) {
  const entries = await redis.xLen("socket.io");
  server.io.to("news").emit("news", n);
  await until(async () => await redis.xLen("socket.io") === entries + 1);
}

// Back, to the other server.
(client.io as unknown as { uri: string }).uri = second.url;
const back = once(client, "connect");
client.connect();
await back;
console.log(`client: reconnected to server 2 as ${client.id}, recovered: ${client.recovered}`);
// The missed packets came before "connect"; one more broadcast, live this time.
const live = once(client, "news");
second.io.to("news").emit("news", 4);
await live;

client.disconnect();
await first.close();
await second.close();
await redis.close();
