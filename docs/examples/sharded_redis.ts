/**
 * Two Socket.IO servers sharing rooms through Redis 7's sharded Pub/Sub: a client of server B
 * joins "news", and server A asks the room a question, fetches its sockets and broadcasts to it.
 * An official Node server with `createShardedAdapter` of `@socket.io/redis-adapter` on the same
 * Redis would be one more node of the same cluster.
 *
 *   deno run -A docs/examples/sharded_redis.ts [redis://127.0.0.1:6379]
 *
 * @module
 */
// npm `redis` (deno.json maps it; in a project of your own: `deno add npm:redis`).
import { createClient } from "redis";
import { Server } from "@socketio-edge/core";
import { createShardedAdapter } from "@socketio-edge/core/redis";
import { io as connect } from "@socketio-edge/core/client";

const url = Deno.args[0] ?? "redis://127.0.0.1:6379";

/** One server of the cluster, on a port of its own, with its two Redis connections. */
async function startServer(name: string) {
  const pubClient = createClient({ url });
  const subClient = pubClient.duplicate();
  await Promise.all([pubClient.connect(), subClient.connect()]);
  const io = new Server({ adapter: createShardedAdapter(pubClient, subClient) });
  io.on("connection", (socket) => socket.join("news"));
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, io.handler());
  return {
    name,
    io,
    url: `http://127.0.0.1:${http.addr.port}`,
    async close() {
      await io.close();
      await http.shutdown();
      await Promise.all([pubClient.close(), subClient.close()]);
    },
  };
}

const a = await startServer("A");
const b = await startServer("B");
// Both servers are subscribed once Redis counts them.
while (await a.io.of("/").adapter.serverCount() < 2) await new Promise((r) => setTimeout(r, 20));

const client = connect(b.url, { transports: ["websocket"] });
client.on("question", (text: string, ack: (answer: string) => void) => ack(`B's client: ${text}`));
client.on("news", (text: string) => console.log(`the client of B got: ${text}`));
await new Promise<void>((resolve) => client.once("connect", () => resolve()));

// To every client in "news", on every server, with acks: one SPUBLISH, answers from server B.
const answers = await a.io.to("news").timeout(2_000).emitWithAck("question", "are you there?");
console.log(`A got the answers: ${JSON.stringify(answers)}`);
const sockets = await a.io.in("news").fetchSockets();
console.log(`A sees in "news": ${sockets.map((s) => s.id === client.id ? "B's client" : s.id)}`);
const got = new Promise((resolve) => client.once("news", resolve));
a.io.to("news").emit("news", "hello from A");
await got;

client.close();
await Promise.all([a.close(), b.close()]);
