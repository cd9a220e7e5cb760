/**
 * The users' Redis clients under our runtimes, against a real redis-server: npm `redis`
 * (node-redis) and `ioredis` do what the Redis adapters need of them (pub/sub, pattern and
 * sharded pub/sub, streams, PUBSUB NUMSUB, binary messages) under Deno with the sanitizers on,
 * and under Bun.
 */
import assert from "node:assert/strict";
import { findBun } from "./helpers/bun.ts";
import { officialRedisModules } from "./helpers/official_redis.ts";
import { redisTest } from "./helpers/redis.ts";
import { REDIS_CLIENT_KINDS } from "./cluster/redis_clients.ts";
import { checkRedisClients, EXPECTED } from "./fixtures/redis_clients_check.ts";

const BUN_SCRIPT = new URL("./fixtures/bun_redis_clients.ts", import.meta.url).pathname;

for (const kind of REDIS_CLIENT_KINDS) {
  redisTest(`redis clients: ${kind} under Deno does what the adapters need`, async (redis) => {
    assert.deepEqual(await checkRedisClients(kind, redis.url), EXPECTED);
  });
}

redisTest(
  "redis clients: node-redis and ioredis under Bun do what the adapters need",
  async (redis) => {
    const bun = await findBun();
    if (!bun) {
      console.log("SKIPPED: bun not installed and could not be installed from npm");
      return;
    }
    const { success, stdout, stderr } = await new Deno.Command(bun, {
      args: ["run", BUN_SCRIPT, redis.url],
      env: { NODE_PATH: await officialRedisModules() },
      stdin: "null",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.ok(success, `bun failed: ${text}${new TextDecoder().decode(stderr)}`);
    assert.deepEqual(
      JSON.parse(text),
      Object.fromEntries(REDIS_CLIENT_KINDS.map((kind) => [kind, EXPECTED])),
    );
  },
);
