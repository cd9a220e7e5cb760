/**
 * The demo's Redis side (`REDIS_URL`): the Redis Streams adapter, so a page comes back to any
 * process with its session (connection state recovery), and the Redis forwarder for polling
 * requests that reach a process that does not hold their session. The npm `redis` client is only
 * loaded here.
 *
 * @module
 */
import { createRedisForwarder, createStreamsAdapter } from "../adapter/redis/mod.ts";
import { createClient } from "redis";
import type { Cluster } from "./node.ts";

/** Connects to `url` and makes the cluster of a node on it. */
export async function redisCluster(url: string): Promise<Cluster> {
  const client = createClient({ url });
  const sub = client.duplicate();
  await Promise.all([client.connect(), sub.connect()]);
  return {
    kind: "redis",
    options: {
      adapter: createStreamsAdapter(client, { streamName: "demo" }),
      forwarder: createRedisForwarder(client, sub, { key: "demo" }),
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
    },
    close: async () => {
      await Promise.all([client.quit(), sub.quit()]);
    },
  };
}
