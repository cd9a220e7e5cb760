/**
 * The mixed-cluster scenarios on official nodes only (socket.io 4.8.4 on Node) with
 * `@socket.io/redis-adapter@8.3.0`'s `createAdapter`, on node-redis and on ioredis: what the
 * scenarios assert is what the official packages do, before any node of ours joins. A cluster of
 * three checks that the scenarios hold beyond two nodes.
 */
import { clusterTests } from "./cluster.ts";

clusterTests({ adapter: "classic", nodes: ["official", "official"] });
clusterTests({
  adapter: "classic",
  nodes: ["official", "official", "official"],
  clients: ["ioredis"],
});
