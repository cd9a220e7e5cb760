/**
 * The mixed-cluster scenarios with the Redis Streams adapter: the official
 * `@socket.io/redis-streams-adapter@0.3.1` on Node beside ours under Deno, ours alone (two Deno
 * nodes), and ours under Bun beside the official one; each on node-redis and on ioredis. Then
 * official and Deno again with sharded Pub/Sub and two streams, and the rig's recovery scenario
 * both ways (the thorough recovery tests are in streams_recovery_test.ts).
 */
import { clusterTests } from "./cluster.ts";

clusterTests({ adapter: "streams", nodes: ["official", "deno"] });
clusterTests({ adapter: "streams", nodes: ["deno", "deno"] });
clusterTests({ adapter: "streams", nodes: ["bun", "official"] });
// The official options that change the wire: sharded Pub/Sub for the ephemeral messages, and
// two streams ("/" and "/custom" each routed to one by the hash of its name).
clusterTests({
  adapter: "streams",
  nodes: ["official", "deno"],
  adapterOptions: { useShardedPubSub: true, streamCount: 2 },
});
// The rig's recovery scenario: a client of the first node restored by the second, both ways.
for (const nodes of [["official", "deno"], ["deno", "official"]] as const) {
  clusterTests({
    adapter: "streams",
    nodes: [...nodes],
    serverOptions: { connectionStateRecovery: { maxDisconnectionDuration: 10_000 } },
    scenarios: (s) => s.name.startsWith("connection state recovery"),
  });
}
