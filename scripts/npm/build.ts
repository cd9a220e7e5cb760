/**
 * Builds the npm package `@socketio-edge/core` from the sources into `.artifacts/npm/package/`
 * and packs it there with `npm pack`: one ES module (`.js`) and one declaration file (`.d.ts`)
 * per source module, emitted by TypeScript (pinned in `tools.ts`) with `.ts` imports rewritten
 * to `.js`; a `package.json` with an `exports` entry for each of deno.json's, and a `browser`
 * field that has bundlers (esbuild, and esm.sh, which builds with it) take a client folder's
 * `browser.ts` for its `mod.ts`; the README and the licence.
 *
 * The build is also the check that the sources type-check without Deno's types: with lib.dom
 * and `@types/node`, `skipLibCheck` off; an error fails it.
 *
 * Usage: deno run --allow-all scripts/npm/build.ts (`deno task npm`)
 *
 * @module
 */
import { importMapVersions, installTools, npm, ROOT, TYPES_NODE, TYPESCRIPT } from "./tools.ts";

/** Where the build goes. */
export const OUT: string = `${ROOT}.artifacts/npm/`;
/** The package folder. */
export const PACKAGE: string = `${OUT}package/`;

/** The npm packages the sources import (only `./node` and `./redis` do). */
const DEPENDENCIES = ["ws", "@msgpack/msgpack"];

const DESCRIPTION = "A Socket.IO server and client on web standards (Request, Response, " +
  "WebSocket), wire-compatible with the official packages: Deno, Bun, Node, Cloudflare Workers";

const KEYWORDS = [
  "socket.io",
  "engine.io",
  "websocket",
  "realtime",
  "deno",
  "bun",
  "node",
  "cloudflare-workers",
  "edge",
];

/** What a build made. */
export interface NpmBuild {
  /** The packed tarball's path. */
  tarball: string;
  /** Its size in bytes. */
  size: number;
  /** The size of the files packed, in bytes. */
  unpackedSize: number;
  /** How many files it holds. */
  files: number;
  /** The package's version. */
  version: string;
}

/** Every file under `dir`, relative to it. */
async function filesOf(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir + prefix)) {
    const path = prefix + entry.name;
    if (entry.isDirectory) out.push(...await filesOf(dir, path + "/"));
    else out.push(path);
  }
  return out.sort();
}

/**
 * The npm packages whose types come from a declaration file of ours (`// @ts-types="./x.d.ts"`
 * above the import, as `node/server.ts` gives npm `ws` the part of it the entry uses), with that
 * file's path relative to the root.
 */
async function typesOverrides(files: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const pattern = /\/\/ @ts-types="([^"]+)"\s*\nimport[^;]*?from "([^"]+)"/g;
  for (const file of files) {
    const text = await Deno.readTextFile(ROOT + file);
    for (const [, types, specifier] of text.matchAll(pattern)) {
      const dir = file.slice(0, file.lastIndexOf("/") + 1);
      found.set(specifier, new URL(types, `file:///${dir}`).pathname.slice(1));
    }
  }
  return found;
}

/** The source modules under the folders of the entries (to find `@ts-types` in). */
async function sourceFiles(): Promise<string[]> {
  const dirs = ["adapter/", "client/", "node/", "parser/", "server/", "workers/"];
  const files = ["mod.ts"];
  for (const dir of dirs) {
    for (const file of await filesOf(ROOT, dir)) {
      if (file.endsWith(".ts") && !file.endsWith(".d.ts")) files.push(file);
    }
  }
  return files;
}

/** `git remote get-url origin` as npm's `repository`, when there is one. */
async function repository(): Promise<{ type: string; url: string } | undefined> {
  const { success, stdout } = await new Deno.Command("git", {
    args: ["remote", "get-url", "origin"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => ({ success: false, stdout: new Uint8Array() }));
  const url = new TextDecoder().decode(stdout).trim();
  const github = /github\.com[:/](.+?)(\.git)?$/.exec(url);
  if (!success || !github) return undefined;
  return { type: "git", url: `git+https://github.com/${github[1]}.git` };
}

/** A module's output path: `node/mod.ts` → `node/mod.js` (or `.d.ts`). */
function outputOf(source: string, ext: ".js" | ".d.ts"): string {
  return "./" + source.replace(/^\.\//, "").replace(/\.ts$/, ext);
}

/** The npm packages that the build's TypeScript and the types of the dependencies are in. */
export function buildTools(): Promise<string> {
  return importMapVersions().then((versions) =>
    installTools("build-tools", {
      typescript: TYPESCRIPT,
      "@types/node": TYPES_NODE,
      ...Object.fromEntries(DEPENDENCIES.map((name) => [name, versions[name]])),
    })
  );
}

/** Where the global types of a check come from: `@types` folders, and which of them. */
export interface GlobalTypes {
  /** The `typeRoots` (`node_modules/@types` folders). */
  typeRoots: string[];
  /** The `types` (`["node"]`, `["bun"]`). */
  types: string[];
}

/**
 * The tsconfig of the sources as non-Deno users see them: the entries of deno.json and the
 * client's browser forms, lib.dom and esnext, `skipLibCheck` off, with `types` (by default the
 * build's Node types) and no Deno types; npm dependencies typed by the build's tools or by a
 * declaration file of ours. With `outDir`, it emits the package there; else it only checks.
 */
export async function sourcesTsconfig(types?: GlobalTypes, outDir?: string): Promise<unknown> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const sources = await sourceFiles();
  const overrides = await typesOverrides(sources);
  const entries = [...Object.values(config.exports as Record<string, string>)]
    .map((entry) => entry.replace(/^\.\//, ""));
  const tools = await buildTools();
  const paths: Record<string, string[]> = {};
  for (const name of DEPENDENCIES) {
    paths[name] = [overrides.has(name) ? ROOT + overrides.get(name) : `${tools}/${name}`];
  }
  const emit = outDir
    ? {
      declaration: true,
      rewriteRelativeImportExtensions: true,
      noEmitOnError: true,
      newLine: "lf",
      rootDir: ROOT,
      outDir,
    }
    : { noEmit: true, allowImportingTsExtensions: true };
  return {
    compilerOptions: {
      target: "es2022",
      module: "esnext",
      moduleResolution: "bundler",
      lib: ["dom", "dom.iterable", "esnext"],
      typeRoots: types?.typeRoots ?? [`${tools}/@types`],
      types: types?.types ?? ["node"],
      paths,
      strict: true,
      skipLibCheck: false,
      isolatedModules: true,
      useDefineForClassFields: true,
      ...emit,
    },
    files: [...entries, ...browserForms(sources).values()].map((file) => ROOT + file),
  };
}

/**
 * Runs a TypeScript's `tsc -p <config>` (`tsc` is its `bin/tsc` script) under Node.
 *
 * @returns what it printed, paths of the repository made relative, or undefined when clean
 */
export async function runTsc(tsc: string, config: string): Promise<string | undefined> {
  const { success, stdout, stderr } = await new Deno.Command("node", {
    args: [tsc, "-p", config, "--pretty", "false"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return success && text.trim() === "" ? undefined : text.replaceAll(ROOT, "") || "tsc failed";
}

// `npm:name@version` in the examples of doc comments: the plain name, as npm users import it.
const NPM_SPECIFIER = /(["'])npm:((?:@[^/"'@]+\/)?[^/"'@]+)(?:@[^/"']*)?(\/[^"']*)?\1/g;

/**
 * Rewrites what only Deno reads: `// @ts-types` comments go, `npm:` specifiers in examples become
 * plain names, and a package typed by a declaration file of ours is imported from that file in
 * the declarations (which is copied beside them). `client/dist/` stays as built: its texts are
 * served with their ETags.
 */
async function rewrite(files: string[], overrides: Map<string, string>): Promise<void> {
  const used = new Set<string>();
  for (const file of files) {
    if (file.startsWith("client/dist/") || !/\.(js|d\.ts)$/.test(file)) continue;
    const path = PACKAGE + file;
    let text = await Deno.readTextFile(path);
    text = text.replace(/^[ \t]*\/\/ @ts-types="[^"]*"\n/gm, "")
      .replace(/\/\*\*[\s\S]*?\*\//g, (doc) => doc.replace(NPM_SPECIFIER, "$1$2$3$1"));
    if (file.endsWith(".d.ts")) {
      // TypeScript rewrites the `.ts` of relative imports in the code, not in the declarations.
      text = text.replace(/((?:from|import)\s*\(?\s*"\.\.?\/[^"]*)\.ts"/g, '$1.js"');
      for (const [specifier, types] of overrides) {
        const depth = file.split("/").length - 1;
        const relative = (depth ? "../".repeat(depth) : "./") + types.replace(/\.d\.ts$/, ".js");
        const before = text;
        text = text.replaceAll(`from "${specifier}"`, `from "${relative}"`)
          .replaceAll(`import("${specifier}")`, `import("${relative}")`);
        if (text !== before) used.add(types);
      }
    }
    await Deno.writeTextFile(path, text);
  }
  for (const types of used) {
    await Deno.copyFile(ROOT + types, PACKAGE + types);
  }
}

/** Fails when a relative import of the package names no file of it, or a bare one no dependency. */
async function checkImports(files: string[]): Promise<void> {
  const present = new Set(files);
  const problems: string[] = [];
  // Static imports and exports (a statement's start), and dynamic imports.
  const pattern =
    /^\s*(?:(?:import|export)\b[^;"'`(=]*?\bfrom\s*|import\s*)"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm;
  for (const file of files) {
    if (!file.endsWith(".js") && !file.endsWith(".d.ts")) continue;
    const text = await Deno.readTextFile(PACKAGE + file);
    // Imports only, not the examples of doc comments.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    for (const [, statically, dynamically] of code.matchAll(pattern)) {
      const specifier = statically ?? dynamically;
      if (specifier.startsWith(".")) {
        const target = new URL(specifier, `file:///${file}`).pathname.slice(1);
        const found = present.has(target) ||
          (target.endsWith(".js") && file.endsWith(".d.ts") &&
            present.has(target.replace(/\.js$/, ".d.ts")));
        if (!found) problems.push(`${file}: ${specifier}`);
      } else if (!specifier.startsWith("node:")) {
        const name = specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/");
        if (!DEPENDENCIES.includes(name)) problems.push(`${file}: ${specifier} (no dependency)`);
      }
    }
  }
  if (problems.length) throw new Error(`unresolved imports:\n${problems.join("\n")}`);
}

/**
 * The browser forms of client modules: every client folder's `browser.ts` beside a `mod.ts`,
 * which `scripts/bundle.ts` swaps in for it, by that `mod.ts`.
 */
function browserForms(sources: string[]): Map<string, string> {
  const forms = new Map<string, string>();
  for (const file of sources) {
    const match = /^client\/([^/]+)\/browser\.ts$/.exec(file);
    if (match && sources.includes(`client/${match[1]}/mod.ts`)) {
      forms.set(`client/${match[1]}/mod.ts`, file);
    }
  }
  if (forms.size === 0) throw new Error("no browser.ts found under client/");
  return forms;
}

/** Builds and packs the package. */
export async function buildNpm(): Promise<NpmBuild> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const exports = config.exports as Record<string, string>;
  const versions = await importMapVersions();
  await Deno.remove(OUT + "package", { recursive: true }).catch(() => {});
  await Deno.mkdir(PACKAGE, { recursive: true });

  const sources = await sourceFiles();
  const overrides = await typesOverrides(sources);
  const browser = browserForms(sources);
  const tsconfig = `${OUT}tsconfig.json`;
  await Deno.writeTextFile(
    tsconfig,
    JSON.stringify(await sourcesTsconfig(undefined, PACKAGE), null, 2) + "\n",
  );
  const errors = await runTsc(`${await buildTools()}/typescript/bin/tsc`, tsconfig);
  if (errors !== undefined) throw new Error(`tsc failed (${tsconfig}):\n${errors}`);
  const emitted = await filesOf(PACKAGE);
  await rewrite(emitted, overrides);
  await Deno.copyFile(`${ROOT}README.md`, `${PACKAGE}README.md`);
  await Deno.copyFile(`${ROOT}LICENSE`, `${PACKAGE}LICENSE`);
  const files = await filesOf(PACKAGE);
  await checkImports(files);

  const pkgExports: Record<string, unknown> = {};
  for (const [name, source] of Object.entries(exports)) {
    const types = outputOf(source, ".d.ts");
    const code = outputOf(source, ".js");
    for (const file of [types, code]) {
      if (!files.includes(file.slice(2))) throw new Error(`${name}: ${file} was not built`);
    }
    pkgExports[name] = { types, default: code };
  }
  pkgExports["./package.json"] = "./package.json";
  const manifest = {
    name: config.name,
    version: config.version,
    description: DESCRIPTION,
    keywords: KEYWORDS,
    license: config.license,
    homepage: `https://jsr.io/${config.name}`,
    repository: await repository(),
    type: "module",
    sideEffects: false,
    main: outputOf(exports["."], ".js"),
    types: outputOf(exports["."], ".d.ts"),
    exports: pkgExports,
    browser: Object.fromEntries(
      [...browser].map(([mod, form]) => [outputOf(mod, ".js"), outputOf(form, ".js")]),
    ),
    engines: { node: ">=20" },
    dependencies: Object.fromEntries(DEPENDENCIES.map((name) => [name, versions[name]])),
  };
  await Deno.writeTextFile(`${PACKAGE}package.json`, JSON.stringify(manifest, null, 2) + "\n");

  const [packed] = JSON.parse(
    await npm(["pack", "./package", "--json", "--loglevel=error"], OUT),
  ) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
  const outside = packed.files.filter((f) => /^(tests|bench|demo|scripts)\//.test(f.path));
  if (outside.length) {
    throw new Error(`packed what users do not need: ${outside.map((f) => f.path).join(", ")}`);
  }
  return {
    tarball: OUT + packed.filename,
    size: packed.size,
    unpackedSize: packed.unpackedSize,
    files: packed.files.length,
    version: config.version,
  };
}

if (import.meta.main) {
  const build = await buildNpm();
  const kb = (n: number) => (n / 1000).toFixed(1) + " KB";
  console.log(
    `${build.tarball}\n${kb(build.size)} packed, ${kb(build.unpackedSize)} unpacked, ` +
      `${build.files} files`,
  );
}
