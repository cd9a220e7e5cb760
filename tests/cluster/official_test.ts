/**
 * The mixed-cluster scenarios on clusters of two official nodes (socket.io 4.8.4 on Node) with
 * each official Redis adapter, on node-redis and on ioredis: what the scenarios assert is what
 * the official packages do, before any node of ours joins.
 */
import { clusterTests } from "./cluster.ts";

for (const adapter of ["classic", "sharded", "streams"]) {
  clusterTests({ adapter, nodes: ["official", "official"] });
}
