/**
 * The users' Redis clients, as our cluster nodes get them: npm `redis` (node-redis) or
 * `ioredis`, a publishing and a subscribing connection to one server, and a `close()` that ends
 * both. Runs under Deno (the `npm:` versions pinned in deno.json) and under Bun (the same
 * versions installed into `.artifacts/official-redis/`, found through `NODE_PATH`).
 *
 * @module
 */
import { createClient } from "redis";
import { Redis } from "ioredis";

/** Which npm client. */
export type RedisClientKind = "node-redis" | "ioredis";

/** Every client kind, in the order the tests run them. */
export const REDIS_CLIENT_KINDS: readonly RedisClientKind[] = ["node-redis", "ioredis"];

/** A node-redis client (v5), as the tests use it. */
export type NodeRedisClient = ReturnType<typeof createClient>;

/** Two connected clients of one kind: `pub` for commands and publishing, `sub` to subscribe. */
export type RedisClients =
  | { kind: "node-redis"; pub: NodeRedisClient; sub: NodeRedisClient; close(): Promise<void> }
  | { kind: "ioredis"; pub: Redis; sub: Redis; close(): Promise<void> };

/** Connects a publishing and a subscribing client of `kind` to `url` (`redis://host:port`). */
export async function connectRedis(kind: RedisClientKind, url: string): Promise<RedisClients> {
  if (kind === "node-redis") {
    const pub = createClient({ url });
    // An error event without a listener would throw; the commands reject with it anyway.
    pub.on("error", () => {});
    const sub = pub.duplicate();
    sub.on("error", () => {});
    await Promise.all([pub.connect(), sub.connect()]);
    return {
      kind,
      pub,
      sub,
      async close() {
        await Promise.all([pub, sub].map((c) => c.isOpen ? c.close() : undefined));
      },
    };
  }
  const pub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  pub.on("error", () => {});
  const sub = pub.duplicate();
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  return {
    kind,
    pub,
    sub,
    async close() {
      await Promise.all([pub, sub].map(quitIoredis));
    },
  };
}

/** Ends an ioredis connection and resolves once its socket has closed. */
async function quitIoredis(client: Redis): Promise<void> {
  if (client.status === "end") return;
  const ended = new Promise<void>((resolve) => client.once("end", () => resolve()));
  await client.quit().catch(() => client.disconnect());
  await ended;
}
