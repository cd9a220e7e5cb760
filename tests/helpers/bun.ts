/**
 * Finds a `bun` executable for the Bun interop tests.
 *
 * @module
 */

import { startFixture } from "./process.ts";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

const REPO = new URL("../../", import.meta.url).pathname;
const LOCAL = `${REPO}.artifacts/bun/`;

/**
 * The path of a `bun` executable: `$BUN`, then `bun` on `PATH`, then one this repository
 * installed from npm into `.artifacts/bun/` (installing it there, quietly, when there is none);
 * undefined when none can be had.
 */
export async function findBun(): Promise<string | undefined> {
  const candidates: string[] = [];
  const env = Deno.env.get("BUN");
  if (env) candidates.push(env);
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir) candidates.push(`${dir}/bun`);
  }
  const local = `${LOCAL}node_modules/.bin/bun`;
  candidates.push(`${REPO}node_modules/.bin/bun`, local);
  for (const path of candidates) {
    if (await isFile(path)) return path;
  }
  const npm = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      LOCAL,
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      "bun@1.4.4",
    ],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  return npm?.success && await isFile(local) ? local : undefined;
}

/**
 * Runs a Bun fixture that prints `{"port":N}` once listening and stops when its stdin closes;
 * returns the port, and a function that stops it and returns what it printed.
 */
export async function startBunFixture(
  bun: string,
  fixture: string,
): Promise<{ port: number; stop: () => Promise<string> }> {
  // The fixture's first line is `{"port":n}`.
  const { port, stop } = await startFixture(bun, ["run", fixture], (out) => {
    const end = out.indexOf("\n") + 1;
    return end > 0 ? { port: JSON.parse(out.slice(0, end)).port, end } : undefined;
  });
  return { port, stop: async () => ((r) => r.out + r.err)(await stop()) };
}
