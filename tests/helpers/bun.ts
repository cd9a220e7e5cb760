/**
 * Finds a `bun` executable for the Bun interop tests.
 *
 * @module
 */

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * The path of a `bun` executable: `$BUN`, then `bun` on `PATH`, then `node_modules/.bin/bun`
 * of this repository or of `/tmp`; undefined when there is none.
 */
export async function findBun(): Promise<string | undefined> {
  const candidates: string[] = [];
  const env = Deno.env.get("BUN");
  if (env) candidates.push(env);
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir) candidates.push(`${dir}/bun`);
  }
  const repo = new URL("../../", import.meta.url).pathname;
  candidates.push(`${repo}node_modules/.bin/bun`, "/tmp/node_modules/.bin/bun");
  for (const path of candidates) {
    if (await isFile(path)) return path;
  }
  return undefined;
}
