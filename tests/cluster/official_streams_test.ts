/**
 * The mixed-cluster scenarios on official nodes only (socket.io 4.8.4 on Node) with
 * `@socket.io/redis-streams-adapter@0.3.1`, on node-redis and on ioredis: the official behaviour
 * the scenarios assert; and its connection state recovery across nodes, in clusters of its own
 * (with it, the official client sees each packet's offset as a last argument).
 */
import { clusterTests } from "./cluster.ts";

clusterTests({ adapter: "streams", nodes: ["official", "official"] });
clusterTests({
  adapter: "streams",
  nodes: ["official", "official"],
  serverOptions: { connectionStateRecovery: { maxDisconnectionDuration: 10_000 } },
  scenarios: (s) => s.name.startsWith("connection state recovery"),
});
