/**
 * The official cluster side under Node: `socket.io@4.8.4` with `@socket.io/redis-adapter@8.3.0`,
 * `@socket.io/redis-streams-adapter@0.3.1` and `@socket.io/redis-emitter@5.1.0`, on npm `redis`
 * or `ioredis` (the versions deno.json pins, so every runtime uses the same clients), installed
 * once, quietly, into `.artifacts/official-redis/`. Bun finds the clients there too, through
 * `NODE_PATH`.
 *
 * @module
 */

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
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const pinned = (name: string) => String(deno.imports[name]).replace(`npm:${name}@`, "");
  // Our Redis adapters' codec too: under Bun, NODE_PATH must find the version deno.json pins,
  // not the 2.x that the official streams adapter would otherwise hoist there.
  return {
    ...OFFICIAL,
    redis: pinned("redis"),
    ioredis: pinned("ioredis"),
    "@msgpack/msgpack": pinned("@msgpack/msgpack"),
  };
}

/** Whether `name@version` is installed in the folder. */
async function has(name: string, version: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(
      await Deno.readTextFile(`${DIR}/node_modules/${name}/package.json`),
    );
    return pkg.version === version;
  } catch {
    return false;
  }
}

let installed: Promise<string> | undefined;

/**
 * Installs the packages once (nothing when they are there already) and resolves with the
 * `node_modules` folder.
 */
export function officialRedisModules(): Promise<string> {
  return installed ??= (async () => {
    const wanted = await packages();
    const missing = [];
    for (const [name, version] of Object.entries(wanted)) {
      if (!await has(name, version)) missing.push(name);
    }
    if (missing.length) {
      await Deno.mkdir(DIR, { recursive: true });
      const { success, stderr } = await new Deno.Command("npm", {
        args: [
          "install",
          "--prefix",
          DIR,
          "--no-audit",
          "--no-fund",
          "--no-save",
          "--loglevel=error",
          // All of them, so that npm keeps them all (it prunes what a call does not name).
          ...Object.entries(wanted).map(([name, version]) => `${name}@${version}`),
        ],
        stdout: "null",
        stderr: "piped",
      }).output();
      if (!success) throw new Error(`npm install failed: ${new TextDecoder().decode(stderr)}`);
    }
    return `${DIR}/node_modules`;
  })();
}
