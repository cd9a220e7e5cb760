/**
 * The npm tools of the npm package's build and tests, at pinned versions, each set installed
 * once into a folder of `.artifacts/npm/` named for it and reinstalled when its versions change.
 *
 * @module
 */

/** The repository's root folder. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** The TypeScript that builds the package: the oldest the package's types are checked with. */
export const TYPESCRIPT = "5.9.3";

/** The Node types the build and the tests check with: Node 20, the oldest Node it serves. */
export const TYPES_NODE = "20.19.43";

/** The Bun types the tests check with. */
export const TYPES_BUN = "1.4.5";

/** The TypeScript versions a user project is checked with. */
export const USER_TYPESCRIPTS: readonly string[] = ["5.9.3", "6.0.3", "7.0.2"];

/** A set of npm packages: name (as installed) → what npm installs (`1.2.3`, `npm:x@1.2.3`). */
export type Packages = Record<string, string>;

/** The versions of deno.json's import map: `npm:<name>@<version>` entries, by name. */
export async function importMapVersions(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const versions: Record<string, string> = {};
  for (const target of Object.values(config.imports as Record<string, string>)) {
    const match = /^npm:((?:@[^/@]+\/)?[^/@]+)@([^/]+)$/.exec(target);
    if (match) versions[match[1]] ??= match[2];
  }
  return versions;
}

const installs = new Map<string, Promise<string>>();

/**
 * Installs `packages` into `.artifacts/npm/<name>/` (its `package.json` lists them), unless that
 * folder holds them already; returns its `node_modules` path. npm takes them from the registry
 * (or its own cache).
 *
 * @param name the folder's name under `.artifacts/npm/`
 * @param packages what to install
 */
export function installTools(name: string, packages: Packages): Promise<string> {
  const dir = `${ROOT}.artifacts/npm/${name}`;
  const manifest = JSON.stringify({ private: true, dependencies: packages }, null, 2) + "\n";
  const key = `${dir}\n${manifest}`;
  let installed = installs.get(key);
  if (!installed) {
    installed = install(dir, manifest);
    installs.set(key, installed);
  }
  return installed;
}

async function install(dir: string, manifest: string): Promise<string> {
  const stamp = `${dir}/node_modules/.installed.json`;
  const current = await Deno.readTextFile(stamp).catch(() => "");
  if (current === manifest) return `${dir}/node_modules`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/package.json`, manifest);
  await npm(["install", "--no-audit", "--no-fund", "--loglevel=error"], dir);
  await Deno.writeTextFile(stamp, manifest);
  return `${dir}/node_modules`;
}

/**
 * Runs `npm args...` in `cwd`; throws with its output when it fails.
 *
 * @returns what it printed on stdout
 */
export async function npm(args: string[], cwd: string): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command("npm", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  if (!success) {
    throw new Error(`npm ${args.join(" ")} failed:\n${out}${new TextDecoder().decode(stderr)}`);
  }
  return out;
}
