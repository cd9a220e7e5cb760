/**
 * Pinned npm packages installed once, quietly, into a folder of `.artifacts/` for the tests that
 * run them outside Deno (Node, Bun, a browser's static files).
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** The version deno.json's import map pins for the npm package `name` (`npm:name@version`). */
export async function pinnedVersion(name: string): Promise<string> {
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  return String(deno.imports[name]).replace(`npm:${name}@`, "");
}

/** Whether `name@version` is installed in `dir`. */
async function has(dir: string, name: string, version: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(await Deno.readTextFile(`${dir}/node_modules/${name}/package.json`));
    return pkg.version === version;
  } catch {
    return false;
  }
}

/**
 * Installs `packages` (name to version) into `dir` unless every one is there at its version;
 * resolves with `dir`'s `node_modules` folder.
 */
export async function installPinned(
  dir: string,
  packages: Record<string, string>,
): Promise<string> {
  const missing = [];
  for (const [name, version] of Object.entries(packages)) {
    if (!await has(dir, name, version)) missing.push(name);
  }
  if (missing.length) {
    await Deno.mkdir(dir, { recursive: true });
    const { success, stderr } = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        dir,
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        // All of them, so that npm keeps them all (it prunes what a call does not name).
        ...Object.entries(packages).map(([name, version]) => `${name}@${version}`),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`npm install failed: ${new TextDecoder().decode(stderr)}`);
  }
  return `${dir}/node_modules`;
}
