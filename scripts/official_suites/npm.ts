/**
 * Installs the npm tools of a suite into its scratch folder, at pinned versions, once: a stamp
 * file remembers what was installed, so a second run reuses it.
 *
 * @module
 */
import { mustRun } from "./process.ts";

/**
 * Writes `package.json` with exactly these dependencies and runs `npm install` in `dir`,
 * unless the same set is installed there already.
 *
 * @param dir the scratch folder (created when missing)
 * @param deps package name → exact version (or `npm:` alias)
 * @param log where npm's output goes
 */
export async function npmInstall(
  dir: string,
  deps: Record<string, string>,
  log: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const manifest = JSON.stringify({ private: true, dependencies: deps }, null, 2);
  const stamp = `${dir}/.installed`;
  if ((await Deno.readTextFile(stamp).catch(() => "")) === manifest) return;
  await Deno.writeTextFile(`${dir}/package.json`, manifest);
  await mustRun("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: dir,
    log,
  });
  await Deno.writeTextFile(stamp, manifest);
}

/**
 * `npm ci` from a suite's own `package-lock.json` (copied to `dir` with its `package.json`),
 * unless that lock is installed there already.
 */
export async function npmCi(dir: string, log: string): Promise<void> {
  const lock = await Deno.readTextFile(`${dir}/package-lock.json`);
  const stamp = `${dir}/.installed`;
  if ((await Deno.readTextFile(stamp).catch(() => "")) === lock) return;
  await mustRun("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, log });
  await Deno.writeTextFile(stamp, lock);
}

/** The `version` of a package of the snapshot, e.g. `packages/socket.io-client`. */
export async function snapshotVersion(snapshotDir: string, pkg: string): Promise<string> {
  const json = JSON.parse(await Deno.readTextFile(`${snapshotDir}/${pkg}/package.json`));
  return json.version;
}

/**
 * The version the snapshot's root `package-lock.json` resolved for `name` (a devDependency of
 * the monorepo), so the tools match the ones the suites were run with.
 */
export async function lockedVersion(snapshotDir: string, name: string): Promise<string> {
  const lock = JSON.parse(await Deno.readTextFile(`${snapshotDir}/package-lock.json`));
  const version = lock.packages?.[`node_modules/${name}`]?.version;
  if (typeof version !== "string") throw new Error(`${name} is not in the snapshot's lock`);
  return version;
}
