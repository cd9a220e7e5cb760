/**
 * The mixed-cluster scenarios on clusters of official nodes (socket.io 4.8.4 on Node) with each
 * official Redis adapter, on node-redis and on ioredis: what the scenarios assert is what the
 * official packages do, before any node of ours joins. One cluster of three checks that the
 * scenarios hold beyond two nodes.
 */
import { clusterTests } from "./cluster.ts";

for (const adapter of ["classic", "sharded", "streams"]) {
  clusterTests({ adapter, nodes: ["official", "official"] });
}
clusterTests({
  adapter: "classic",
  nodes: ["official", "official", "official"],
  clients: ["ioredis"],
});
