/**
 * Our adapters as the cluster tests run them, by name: each entry turns the node's Redis
 * clients (when the cluster has a Redis) and the test's adapter options into the `adapter`
 * option of our `Server`. An adapter joins the mixed-cluster tests with one entry here and one
 * test file (see README.md).
 *
 * @module
 */
import { type AdapterConstructor, InMemoryAdapter } from "../../mod.ts";
import {
  createAdapter,
  createShardedAdapter,
  type RedisAdapterOptions,
  type ShardedRedisAdapterOptions,
} from "../../adapter/redis/mod.ts";
import type { RedisClients } from "./redis_clients.ts";

/** Makes the `adapter` option of a node; `redis` is undefined when the cluster has no Redis. */
export type OurAdapterFactory = (
  redis: RedisClients | undefined,
  opts: Record<string, unknown>,
) => AdapterConstructor | Promise<AdapterConstructor>;

/** Every adapter of ours the cluster tests know, by name. */
export const OUR_ADAPTERS: Record<string, OurAdapterFactory> = {
  // One node alone: a sanity run of the rig (our_node.ts and the control API) without a cluster.
  memory: () => InMemoryAdapter,
  // The classic Redis adapter (@socket.io/redis-adapter's format).
  classic: (redis, opts) => {
    if (!redis) throw new Error("the classic adapter needs a Redis");
    return createAdapter(redis.pub, redis.sub, opts as RedisAdapterOptions);
  },
  // The sharded Redis adapter (createShardedAdapter: SPUBLISH / SSUBSCRIBE).
  sharded: (redis, opts) => {
    if (!redis) throw new Error("the sharded adapter needs a Redis");
    return createShardedAdapter(redis.pub, redis.sub, opts as ShardedRedisAdapterOptions);
  },
};
