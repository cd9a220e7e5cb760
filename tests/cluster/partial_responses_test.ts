/**
 * Partial answers: three nodes of ours (Deno, Bun, Deno) on one Redis, each with a client; one
 * node is frozen (SIGSTOP: its connections stay open, it answers nothing). `fetchSockets`,
 * `serverSideEmitWithAck` and a broadcast with acks on a live node resolve within the timeout
 * with what the live nodes answered and `missing` naming the frozen node (its uid with the
 * Streams adapter, a count with the sharded one, which only counts nodes); with
 * `partialResponses: false` they fail with the official errors. A node killed is no longer
 * counted at all. The frozen node is let go (SIGCONT) in `finally`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { redisTest } from "../helpers/redis.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  officialClient,
  settle,
  within,
} from "../helpers/socketio.ts";
import { type ClusterNode, type NodeRuntime, startNode, unavailable } from "./nodes.ts";

const TIMEOUT = 1_000;

for (const adapter of ["streams", "sharded"] as const) {
  for (const partial of [true, false]) {
    redisTest(
      `partial responses (${adapter}, partialResponses: ${partial}): one node frozen (SIGSTOP)`,
      async (redis) => {
        const runtimes: NodeRuntime[] = ["deno", await unavailable("bun") ? "deno" : "bun", "deno"];
        const nodes: ClusterNode[] = [];
        const clients: ClientSocket[] = [];
        let frozen: ClusterNode | undefined;
        try {
          for (const [i, runtime] of runtimes.entries()) {
            nodes.push(
              await startNode(runtime, {
                name: `${runtime}-${i}`,
                adapter,
                client: "node-redis",
                redisUrl: redis.url,
                adapterOptions: { requestsTimeout: TIMEOUT, partialResponses: partial },
              }),
            );
          }
          for (const node of nodes) {
            await within(
              (async () => {
                while ((await node.control({ op: "serverCount" })).count !== nodes.length) {
                  await new Promise((r) => setTimeout(r, 20));
                }
              })(),
              `${nodes.length} servers seen by ${node.name}`,
            );
          }
          for (const node of nodes) {
            const client = officialClient(node.url, {
              forceNew: true,
              reconnection: false,
              transports: ["websocket"],
            });
            client.on("question", (q: string, cb: (a: string) => void) => cb(`${client.id}:${q}`));
            clients.push(client);
            await within(connected(client), "connection");
          }
          const [a, b, c] = nodes;
          const uidOfC = (await c.control({ op: "uid" })).uid!;
          const live = [clients[0].id!, clients[1].id!].sort();

          frozen = c;
          c.signal!("SIGSTOP");

          const fetched = await within(
            a.control({ op: "fetchSockets" }).then((r) => r, (e: Error) => e),
            "fetchSockets",
          );
          const sse = await within(
            a.control({ op: "serverSideEmitWithAck", ev: "sse-ack", args: [1] }),
            "serverSideEmitWithAck",
          );
          const acks = await within(
            a.control({ op: "emitWithAck", ev: "question", args: ["q"], timeout: TIMEOUT }),
            "broadcast with acks",
          );
          const named = adapter === "streams" ? [uidOfC] : [];
          if (partial) {
            assert.ok(!(fetched instanceof Error), String(fetched));
            assert.deepEqual(fetched.sockets.map((s) => s.id), live);
            assert.deepEqual(fetched.missing, { count: 1, uids: named });
            assert.equal(sse.err, null);
            assert.deepEqual(sse.responses, [{ node: b.name, args: [1] }]);
            assert.deepEqual(sse.missing, { count: 1, uids: named });
            assert.equal(acks.err, null);
            assert.deepEqual(acks.responses.sort(), live.map((id) => `${id}:q`));
            assert.deepEqual(acks.missing, { count: 1, uids: named });
          } else {
            // The official errors (a count: the official Redis adapters have no heartbeats).
            assert.ok(fetched instanceof Error);
            assert.match(fetched.message, /timeout reached: only 1 responses received out of 2/);
            assert.match(String(sse.err), /timeout reached: only 1 responses received out of 2/);
            assert.deepEqual(sse.responses, [{ node: b.name, args: [1] }]);
            assert.equal(acks.err, "operation has timed out");
            assert.deepEqual(acks.responses.sort(), live.map((id) => `${id}:q`));
          }

          // Gone for good: its connection to Redis closes, so it is counted no more, and the
          // answers are complete at once.
          await c.kill();
          frozen = undefined;
          await within(
            (async () => {
              while ((await a.control({ op: "serverCount" })).count !== 2) {
                await new Promise((r) => setTimeout(r, 20));
              }
            })(),
            "the killed node no longer counted",
          );
          const after = await a.control({ op: "fetchSockets" });
          assert.deepEqual(after.sockets.map((s) => s.id), live);
          if (partial) assert.deepEqual(after.missing, { count: 0, uids: [] });
        } finally {
          frozen?.signal?.("SIGCONT");
          await closeClients(clients);
          await settle();
          for (const node of nodes.reverse()) await node.stop();
        }
      },
    );
  }
}
