/**
 * Redis adapters, wire-compatible with the official `@socket.io/redis-adapter@8.3.0` (and
 * `@socket.io/redis-emitter@5.1.0`), on the user's own Redis client (npm `redis` or `ioredis`),
 * and their MessagePack codec (byte-compatible with `notepack.io`, the official adapters'
 * codec). The only entry of the package that loads `@msgpack/msgpack`.
 *
 * @example Two servers, one Redis
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 * import { createAdapter } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const pubClient = createClient({ url: "redis://127.0.0.1:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 * const io = new Server({ adapter: createAdapter(pubClient, subClient) });
 * io.emit("hello"); // reaches the clients of every server on this Redis
 * ```
 *
 * @example Sharded Pub/Sub (Redis 7)
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 * import { createShardedAdapter } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const pubClient = createClient({ url: "redis://127.0.0.1:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 * const io = new Server({ adapter: createShardedAdapter(pubClient, subClient) });
 * ```
 *
 * @example The codec
 * ```ts
 * import { decode, encode } from "@socketio-edge/core/redis";
 *
 * console.log(decode(encode({ rooms: ["news"], data: new Uint8Array([1]) })));
 * ```
 *
 * @module
 */

export {
  createAdapter,
  RedisAdapter,
  type RedisAdapterOptions,
  type RedisParser,
} from "./classic.ts";
export type { IoRedisClient, NodeRedisClient, RedisClient, RedisMethod } from "./clients.ts";
export { createRedisForwarder, type RedisForwarderOptions } from "./forwarder.ts";
export { decode, encode } from "./msgpack.ts";
export {
  createShardedAdapter,
  ShardedRedisAdapter,
  type ShardedRedisAdapterOptions,
} from "./sharded.ts";
export type {
  IoRedisShardedClient,
  NodeRedisShardedClient,
  ShardedRedisClient,
} from "./sharded_clients.ts";
export { createStreamsAdapter, type StreamsAdapterOptions } from "./streams.ts";
// What the Streams adapter's signature names, from the entries that define them.
export type { AdapterConstructor } from "../adapter.ts";
export type { ClusterAdapterOptions } from "../cluster/mod.ts";
