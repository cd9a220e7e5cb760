/**
 * Sharded Pub/Sub (Redis 7: `SSUBSCRIBE`, `SPUBLISH`, `PUBSUB SHARDNUMSUB`) on the user's own
 * Redis client, node-redis (v4, v5) or ioredis, told apart by their methods as the official
 * `@socket.io/redis-adapter@8.3.0` does: node-redis has `sSubscribe`. Both clients run on the
 * Node APIs (`node:net`), so `node:buffer` is there wherever they are.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { attempt, isClosed, type RedisMethod } from "./clients.ts";

/** A message listener: the payload and the channel, as bytes (Node `Buffer`s in practice). */
export type ShardedListener = (message: Uint8Array, channel: Uint8Array) => void;

/**
 * What the sharded adapter uses of a node-redis client (npm `redis` v4 or v5: `createClient()`,
 * or `createCluster()`); methods typed loosely, as the clients' overloads differ by version.
 *
 * @example
 * ```ts
 * import type { NodeRedisShardedClient } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const client: NodeRedisShardedClient = createClient({ url: "redis://127.0.0.1:6379" });
 * ```
 */
export interface NodeRedisShardedClient {
  /** `SSUBSCRIBE`, with a listener of `(message, channel)` (bytes in buffer mode). */
  sSubscribe: RedisMethod;
  /** `SUNSUBSCRIBE` (of one listener: node-redis counts listeners per channel). */
  sUnsubscribe: RedisMethod;
  /** `SPUBLISH`. */
  sPublish: RedisMethod;
}

/**
 * What the sharded adapter uses of an ioredis client (`new Redis()` or `new Cluster()`).
 *
 * @example
 * ```ts
 * import type { IoRedisShardedClient } from "@socketio-edge/core/redis";
 * import { Redis } from "npm:ioredis@5.11.1";
 *
 * const client: IoRedisShardedClient = new Redis("redis://127.0.0.1:6379", { lazyConnect: true });
 * ```
 */
export interface IoRedisShardedClient {
  /** `SSUBSCRIBE`. */
  ssubscribe: RedisMethod;
  /** `SUNSUBSCRIBE`. */
  sunsubscribe: RedisMethod;
  /** `SPUBLISH`. */
  spublish: RedisMethod;
  /** Any command. */
  call: RedisMethod;
  /** Listen to `smessageBuffer`. */
  on: RedisMethod;
  /** Stop listening. */
  off: RedisMethod;
}

/** Either client. */
export type ShardedRedisClient = NodeRedisShardedClient | IoRedisShardedClient;

function isNodeRedis(client: ShardedRedisClient): client is NodeRedisShardedClient {
  return typeof (client as Partial<NodeRedisShardedClient>).sSubscribe === "function";
}

const decoder = new TextDecoder();

/** ioredis emits one event per client for every channel: each client's channel table. */
interface IoRedisRoutes {
  handlers: Map<string, Set<ShardedListener>>;
  listener: (channel: Uint8Array, message: Uint8Array) => void;
}
const ioRoutes = new WeakMap<IoRedisShardedClient, IoRedisRoutes>();

function routesOf(client: IoRedisShardedClient): IoRedisRoutes {
  let routes = ioRoutes.get(client);
  if (routes === undefined) {
    const handlers = new Map<string, Set<ShardedListener>>();
    const listener = (channel: Uint8Array, message: Uint8Array) => {
      const set = handlers.get(decoder.decode(channel));
      if (set !== undefined) { for (const handler of set) handler(message, channel); }
    };
    routes = { handlers, listener };
    ioRoutes.set(client, routes);
    client.on("smessageBuffer", listener);
  }
  return routes;
}

/**
 * `SSUBSCRIBE channel`, `listener` getting its messages as bytes. Several listeners of one
 * channel on one client share the subscription.
 */
export function sSubscribe(
  client: ShardedRedisClient,
  channel: string,
  listener: ShardedListener,
): Promise<unknown> {
  if (isNodeRedis(client)) return attempt(() => client.sSubscribe(channel, listener, true));
  const { handlers } = routesOf(client);
  let set = handlers.get(channel);
  if (set === undefined) handlers.set(channel, set = new Set());
  set.add(listener);
  return set.size === 1 ? attempt(() => client.ssubscribe(channel)) : Promise.resolve();
}

/** Removes `listener` from `channel`; `SUNSUBSCRIBE` once the channel has no listener left. */
export function sUnsubscribe(
  client: ShardedRedisClient,
  channel: string,
  listener: ShardedListener,
): Promise<unknown> {
  if (isNodeRedis(client)) {
    return isClosed(client)
      ? Promise.resolve()
      : attempt(() => client.sUnsubscribe(channel, listener, true));
  }
  const routes = ioRoutes.get(client);
  const set = routes?.handlers.get(channel);
  if (routes === undefined || set === undefined || !set.delete(listener)) {
    return Promise.resolve();
  }
  if (set.size > 0) return Promise.resolve();
  routes.handlers.delete(channel);
  if (routes.handlers.size === 0) {
    client.off("smessageBuffer", routes.listener);
    ioRoutes.delete(client);
  }
  return isClosed(client) ? Promise.resolve() : attempt(() => client.sunsubscribe(channel));
}

/**
 * The payload as the clients take bytes: a `Buffer` (node-redis throws on other views, ioredis
 * would send their `toString()`), sharing the view's memory.
 */
function asBuffer(payload: string | Uint8Array): string | Uint8Array {
  return typeof payload === "string" || Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** `SPUBLISH channel payload`. */
export function sPublish(
  client: ShardedRedisClient,
  channel: string,
  payload: string | Uint8Array,
): Promise<unknown> {
  const bytes = asBuffer(payload);
  return attempt(() =>
    isNodeRedis(client) ? client.sPublish(channel, bytes) : client.spublish(channel, bytes)
  );
}

/** The count of a `PUBSUB SHARDNUMSUB channel` reply (`[channel, count]`). */
function countOf(reply: unknown): number {
  if (!Array.isArray(reply)) throw new Error(`unexpected PUBSUB SHARDNUMSUB reply: ${reply}`);
  return Number.parseInt(String(reply[1]), 10);
}

/**
 * `PUBSUB SHARDNUMSUB channel`: the number of subscribers of `channel`, summed over the
 * nodes of a cluster.
 */
export async function shardNumSub(client: ShardedRedisClient, channel: string): Promise<number> {
  const args = ["PUBSUB", "SHARDNUMSUB", channel];
  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  const cluster = client as {
    isCluster?: boolean;
    nodes?: () => { call: RedisMethod }[];
    masters?: { client?: { sendCommand: RedisMethod } }[];
    sendCommand?: RedisMethod;
  };
  if (isNodeRedis(client)) {
    if (Array.isArray(cluster.masters)) {
      return sum(
        await Promise.all(
          cluster.masters.map(async (m) =>
            m.client ? countOf(await m.client.sendCommand(args)) : 0
          ),
        ),
      );
    }
    if (typeof cluster.sendCommand !== "function") {
      throw new TypeError("this node-redis client has no sendCommand()");
    }
    return countOf(await cluster.sendCommand(args));
  }
  if (cluster.isCluster === true && typeof cluster.nodes === "function") {
    // Every node, replicas too, as the official adapter counts.
    return sum(await Promise.all(cluster.nodes().map(async (n) => countOf(await n.call(...args)))));
  }
  return countOf(await client.call(...args));
}
