/**
 * The official cluster side under Node: `socket.io@4.8.4` with `@socket.io/redis-adapter@8.3.0`,
 * `@socket.io/redis-streams-adapter@0.3.1` and `@socket.io/redis-emitter@5.1.0`, on npm `redis`
 * or `ioredis` (the versions deno.json pins, so every runtime uses the same clients), installed
 * once, quietly, into `.artifacts/official-redis/`. Bun finds the clients there too, through
 * `NODE_PATH`.
 *
 * @module
 */

import { installPinned, pinnedVersion } from "./npm_install.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIR = `${ROOT}.artifacts/official-redis`;

/** The official packages, pinned. */
const OFFICIAL: Record<string, string> = {
  "socket.io": "4.8.4",
  "@socket.io/redis-adapter": "8.3.0",
  "@socket.io/redis-streams-adapter": "0.3.1",
  "@socket.io/redis-emitter": "5.1.0",
};

/** Every package with its version: the official ones and the clients of deno.json. */
async function packages(): Promise<Record<string, string>> {
  // Our Redis adapters' codec too: under Bun, NODE_PATH must find the version deno.json pins,
  // not the 2.x that the official streams adapter would otherwise hoist there.
  return {
    ...OFFICIAL,
    redis: await pinnedVersion("redis"),
    ioredis: await pinnedVersion("ioredis"),
    "@msgpack/msgpack": await pinnedVersion("@msgpack/msgpack"),
  };
}

let installed: Promise<string> | undefined;

/**
 * Installs the packages once (nothing when they are there already) and resolves with the
 * `node_modules` folder.
 */
export function officialRedisModules(): Promise<string> {
  return installed ??= packages().then((wanted) => installPinned(DIR, wanted));
}
