/**
 * No sticky sessions: the mixed-cluster scenarios (scenarios.ts) with every client behind a
 * round-robin proxy (../helpers/round_robin_proxy.ts) that spreads each request over the
 * nodes, whatever its session, and nodes that forward the requests of other nodes' sessions
 * (the `forwarder` option): over Redis between processes, over BroadcastChannel between the
 * workers of one process (Deno's, and Bun's). Clients poll only, or poll and upgrade (the
 * upgrade lands anywhere too, and is relayed to the session's node).
 */
import { clusterTests } from "./cluster.ts";
import { launchWorker } from "./workers.ts";

// Processes on one Redis: 2 nodes each way, then 4 (Deno and Bun).
clusterTests({
  adapter: "classic",
  nodes: ["deno", "deno"],
  clients: ["node-redis"],
  roundRobin: "polling",
});
clusterTests({
  adapter: "classic",
  nodes: ["deno", "bun"],
  clients: ["ioredis"],
  roundRobin: "upgrade",
});
clusterTests({
  adapter: "classic",
  nodes: ["deno", "deno"],
  clients: ["node-redis"],
  roundRobin: "upgrade",
  client: "ours",
});
clusterTests({
  adapter: "sharded",
  nodes: ["deno", "bun", "deno", "bun"],
  clients: ["node-redis"],
  roundRobin: "polling",
});

// Workers of one process on BroadcastChannel.
for (
  const [nodes, mode] of [
    [["deno", "deno", "deno", "deno"], "upgrade"],
    [["bun", "bun"], "polling"],
  ] as const
) {
  const channel = `rig-${crypto.randomUUID()}`;
  clusterTests({
    adapter: "broadcast-channel",
    nodes: [...nodes],
    roundRobin: mode,
    launch: (runtime, config) =>
      launchWorker(runtime, { ...config, adapterOptions: { ...config.adapterOptions, channel } }),
  });
}
