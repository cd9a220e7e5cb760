/**
 * The BroadcastChannel adapter on the mixed-cluster scenarios (scenarios.ts): nodes as Workers
 * (workers.ts) of one process, ours in Deno Workers, ours in the Workers of one Bun process, and
 * ours beside the official socket.io with the official `ClusterAdapterWithHeartbeat` on the same
 * channels. The scenarios of the Redis emitter and of the Streams adapter's recovery need what
 * these clusters lack: they are listed as ignored. What is the adapter's own (the wire of its
 * messages, heartbeat timing, a graceful close, a crash noticed) is in
 * ../adapter_broadcast_channel_test.ts.
 */
import { clusterTests } from "./cluster.ts";
import { launchWorker } from "./workers.ts";

for (const nodes of [["deno", "deno"], ["official", "deno"], ["bun", "bun"]] as const) {
  // Each cluster on a channel of its own.
  const channel = `rig-${crypto.randomUUID()}`;
  clusterTests({
    adapter: "broadcast-channel",
    nodes: [...nodes],
    launch: (runtime, config) =>
      launchWorker(runtime, { ...config, adapterOptions: { ...config.adapterOptions, channel } }),
  });
}
