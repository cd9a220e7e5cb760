/**
 * A node of a mixed cluster, our side, as a process: our app (our_app.ts) with one of our
 * adapters (our_adapters.ts, by name) and the same control API (control.ts) as the official node
 * (tests/fixtures/official_redis_node.mjs). Runs under Deno and, from these sources, under Bun:
 *
 *   deno run -A tests/cluster/our_node.ts '<config JSON>'
 *   NODE_PATH=.artifacts/official-redis/node_modules bun run tests/cluster/our_node.ts '<config>'
 *
 * config: {@linkcode NodeConfig}. Prints `PORT <n>` once listening on 127.0.0.1 (Socket.IO under
 * /socket.io/, the control API at POST /control); when its stdin closes it closes the server, the
 * adapters and the Redis clients, and exits by itself: an adapter that leaves a timer or a
 * connection open makes the test's stop() fail (it waits 10 s for the exit).
 *
 * @module
 */
import { type NodeConfig, startApp } from "./our_app.ts";
import { OUR_ADAPTERS } from "./our_adapters.ts";
import { connectRedis, type RedisClients } from "./redis_clients.ts";
import { createRedisForwarder } from "../../adapter/redis/mod.ts";

export type { NodeConfig };

// Just what this script uses of Bun's globals, so that `deno check` accepts the file.
declare const Bun:
  | { stdin: { stream(): ReadableStream<Uint8Array> }; argv: string[] }
  | undefined;

const onBun = typeof Bun !== "undefined";
const config: NodeConfig = JSON.parse(onBun ? Bun!.argv[2] : Deno.args[0]);

const factory = OUR_ADAPTERS[config.adapter];
if (!factory) throw new Error(`no adapter of ours named ${config.adapter}`);
let redis: RedisClients | undefined;
if (config.redisUrl) redis = await connectRedis(config.client ?? "node-redis", config.redisUrl);
const forwarder = config.forward && redis ? createRedisForwarder(redis.pub, redis.sub) : undefined;
const app = startApp(config, await factory(redis, config.adapterOptions ?? {}), forwarder);
console.log(`PORT ${app.port}`);
const stdin = onBun ? Bun!.stdin.stream() : Deno.stdin.readable;
for await (const _ of stdin) { /* runs until the test closes stdin */ }
await app.close();
await redis?.close();
