/**
 * The npm package as a user gets it: built and packed by `scripts/npm/build.ts`, then installed
 * with `npm install <tarball>` into a scratch project in a temporary folder (its dependencies
 * from the npm registry), with the fixtures of `tests/npm/` copied beside. The tools that check
 * it (TypeScript, the Node and Bun types) are installed once under `.artifacts/npm/`, by version.
 *
 * @module
 */
import { buildNpm, type NpmBuild } from "../../scripts/npm/build.ts";
import { installTools, npm, TYPES_BUN, TYPES_NODE } from "../../scripts/npm/tools.ts";

const FIXTURES = new URL("../npm/", import.meta.url).pathname;

/** The scratch project with the package installed. */
export interface NpmProject {
  /** Its folder (a temporary one, removed when the process ends). */
  dir: string;
  /** What the build made. */
  build: NpmBuild;
  /** The installed package's folder. */
  installed: string;
}

let project: Promise<NpmProject> | undefined;

/** Builds, packs and installs the package once per test process. */
export function npmProject(): Promise<NpmProject> {
  return project ??= makeProject();
}

async function makeProject(): Promise<NpmProject> {
  const build = await buildNpm();
  const dir = await Deno.makeTempDir({ prefix: "socketio-edge-npm-" });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ name: "user-project", private: true, type: "module" }) + "\n",
  );
  await npm(
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", build.tarball],
    dir,
  );
  for await (const entry of Deno.readDir(FIXTURES)) {
    if (entry.isFile) await Deno.copyFile(FIXTURES + entry.name, `${dir}/${entry.name}`);
  }
  return { dir, build, installed: `${dir}/node_modules/@socketio-edge/core` };
}

/**
 * Writes the Deno form of a fixture of the project: the same with `npm:` specifiers for the
 * package and npm `ws`, as Deno users import them.
 *
 * @param p the project
 * @param name the fixture (`server.mjs`)
 * @returns the new file's path
 */
export async function denoForm(p: NpmProject, name: string): Promise<string> {
  const text = await Deno.readTextFile(`${p.dir}/${name}`);
  const path = `${p.dir}/${name.replace(/\.mjs$/, "_deno.mjs")}`;
  await Deno.writeTextFile(
    path,
    text.replace(/(["'])(@socketio-edge\/core|ws)(["'/])/g, "$1npm:$2$3"),
  );
  return path;
}

/** The global types of a user project. */
export type UserTypes = "node" | "bun";

/**
 * The npm packages of a user's global types: `@types/node` of Node 20, or `@types/bun` (which
 * brings the latest `@types/node`), installed once into `.artifacts/npm/`.
 *
 * @returns their `node_modules` folder
 */
export function installTypes(types: UserTypes): Promise<string> {
  return types === "node"
    ? installTools(`types-node-${TYPES_NODE}`, { "@types/node": TYPES_NODE })
    : installTools(`types-bun-${TYPES_BUN}`, { "@types/bun": TYPES_BUN });
}

/**
 * The `bin/tsc` of each TypeScript version, installed once into `.artifacts/npm/`.
 *
 * @param versions the versions
 */
export async function installTypeScripts(versions: readonly string[]): Promise<string[]> {
  const modules = await installTools(
    `typescript-${versions.join("-")}`,
    Object.fromEntries(versions.map((v) => [`typescript-${v}`, `npm:typescript@${v}`])),
  );
  return versions.map((v) => `${modules}/typescript-${v}/bin/tsc`);
}

/**
 * A user's TypeScript project in the scratch project: `tests/npm/user_project.ts` as `main.ts`,
 * importing the installed package, beside the global types linked into its `node_modules` as
 * npm would install them there. Node projects resolve as Node does (`nodenext`), Bun projects as
 * `bun init` sets them up (`bundler`); both with lib.dom and `skipLibCheck` off.
 *
 * @returns its `tsconfig.json`
 */
export async function userProject(p: NpmProject, types: UserTypes): Promise<string> {
  const dir = `${p.dir}/types-${types}`;
  const config = `${dir}/tsconfig.json`;
  try {
    await Deno.stat(config);
    return config;
  } catch { /* made below */ }
  await Deno.mkdir(`${dir}/node_modules`, { recursive: true });
  const modules = await installTypes(types);
  for await (const entry of Deno.readDir(modules)) {
    if (!entry.name.startsWith(".")) {
      await Deno.symlink(`${modules}/${entry.name}`, `${dir}/node_modules/${entry.name}`);
    }
  }
  await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify({ type: "module" }) + "\n");
  await Deno.copyFile(`${FIXTURES}user_project.ts`, `${dir}/main.ts`);
  const resolution = types === "node"
    ? { module: "nodenext", moduleResolution: "nodenext" }
    : { module: "preserve", moduleResolution: "bundler" };
  const tsconfig = {
    compilerOptions: {
      target: "es2022",
      ...resolution,
      lib: ["dom", "esnext"],
      types: [types],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files: ["main.ts"],
  };
  await Deno.writeTextFile(config, JSON.stringify(tsconfig, null, 2) + "\n");
  return config;
}
