/**
 * Builds the browser bundles of the client with esbuild, as the official package ships them:
 * `socket.io.js` (a script putting `io` on the global object), `socket.io.min.js`,
 * `socket.io.msgpack.min.js` (the same with npm `socket.io-msgpack-parser` as its default
 * parser) and `socket.io.esm.min.js` (an ES module), each with its source map.
 *
 * The files go to `.artifacts/client-dist/` to look at, and into `client/dist/*.ts` modules
 * (the text, its ETag and its brotli bytes) that the server imports to serve them at
 * `/socket.io/<name>`: a module works on every runtime and at the edge, where there may be no
 * file system, and web standards have no brotli compressor (gzip and deflate the server makes
 * with `CompressionStream`).
 *
 * Prints the min+gzip (-9) sizes beside the official bundles of npm `socket.io@4.8.4`
 * (installed into `.artifacts/official` when missing).
 *
 * Usage: deno run --allow-all scripts/bundle.ts [--check]
 * With `--check`, writes nothing under `client/` and fails when `client/dist/` is not up to date.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { linkNpmModules } from "./npm_links.ts";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const ROOT = new URL("../", import.meta.url);
const DIST = new URL("client/dist/", ROOT);
const ARTIFACTS = new URL(".artifacts/client-dist/", ROOT);
const OFFICIAL = new URL(".artifacts/official/", ROOT);
const check = Deno.args.includes("--check");

const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const banner = `/*! socketio-edge v${config.version} MIT */`;

interface Build {
  name: string;
  entry: string;
  format: "iife" | "esm";
  minify: boolean;
  /** The npm package that stands for the default parser (`client/default_parser.ts`). */
  parser?: string;
}

const BUILDS: Build[] = [
  { name: "socket.io.js", entry: "client/browser.ts", format: "iife", minify: false },
  { name: "socket.io.min.js", entry: "client/browser.ts", format: "iife", minify: true },
  {
    name: "socket.io.msgpack.min.js",
    entry: "client/browser.ts",
    format: "iife",
    minify: true,
    parser: "socket.io-msgpack-parser",
  },
  { name: "socket.io.esm.min.js", entry: "client/mod.ts", format: "esm", minify: true },
];

const parsers = [...new Set(BUILDS.flatMap((b) => b.parser ? [b.parser] : []))];
const nodeModules = await linkNpmModules(
  parsers,
  new URL(".artifacts/bundle-modules/", ROOT).pathname,
);

/**
 * What the browser bundles take in the place of some modules: a folder of the client with a
 * `browser.ts` has it stand for its `mod.ts` (`client/unref/`: a browser has no process to keep
 * alive, and no `node:net`; `client/cookies/`: a browser keeps cookies itself;
 * `client/open_websocket/`: a browser always has a `WebSocket`, and it takes no headers), and
 * the npm package of a build's `parser` stands for `client/default_parser.ts`.
 */
const CLIENT = new URL("client/", ROOT).pathname;
const swapPlugin = (parser?: string): esbuild.Plugin => ({
  name: "swap",
  setup(build) {
    build.onResolve({ filter: /\/mod\.ts$/ }, (args) => {
      const path = new URL(args.path, `file://${args.resolveDir}/`).pathname;
      if (!/^[^/]+\/mod\.ts$/.test(path.slice(CLIENT.length)) || !path.startsWith(CLIENT)) return;
      const browser = path.replace(/mod\.ts$/, "browser.ts");
      try {
        if (Deno.statSync(browser).isFile) return { path: browser };
      } catch { /* no browser form: the module as it is */ }
    });
    if (parser) {
      build.onResolve(
        { filter: /\/default_parser\.ts$/ },
        (args) => build.resolve(parser, { kind: args.kind, resolveDir: nodeModules }),
      );
    }
  },
});

/** Every output file by name: the bundles and their maps. */
const files = new Map<string, string>();
for (const build of BUILDS) {
  const result = await esbuild.build({
    plugins: [swapPlugin(build.parser)],
    nodePaths: [nodeModules],
    entryPoints: [new URL(build.entry, ROOT).pathname],
    outfile: build.name,
    bundle: true,
    write: false,
    format: build.format,
    minify: build.minify,
    // Private fields and `??=` as they are: every browser of the last years has them.
    target: "es2022",
    sourcemap: "linked",
    sourcesContent: true,
    legalComments: "none",
    banner: { js: banner },
    // Internal members the official client names with an underscore too.
    mangleProps: build.minify ? /^_/ : undefined,
    reserveProps: /^_placeholder$/,
    logLevel: "error",
  });
  for (const out of result.outputFiles) {
    const name = out.path.slice(out.path.lastIndexOf("/") + 1);
    // Paths in the maps relative to the repository, not to this machine.
    files.set(name, name.endsWith(".map") ? relativeSources(out.text) : out.text);
  }
}
await esbuild.stop();

function relativeSources(map: string): string {
  const json = JSON.parse(map);
  // The repository's files, and npm packages as `node_modules/<name>/...`.
  json.sources = json.sources.map((s: string) =>
    s.replace(/^(\.\.\/)+/, "").replace(
      /^.*\/registry\.npmjs\.org\/((@[^/]+\/)?[^/]+)\/[^/]+\//,
      "node_modules/$1/",
    )
  );
  return JSON.stringify(json);
}

function brotliOf(text: string): string {
  const bytes = brotliCompressSync(new TextEncoder().encode(text), {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: text.length,
    },
  });
  return bytes.toString("base64");
}

async function etagOf(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest).slice(0, 12)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `"${hex}"`;
}

/** `deno fmt` over a generated module's source (so that it stays as written). */
async function formatted(name: string, source: string): Promise<string> {
  const fmt = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=ts", "-"],
    cwd: ROOT.pathname,
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = fmt.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const { success, stdout } = await fmt.output();
  if (!success) throw new Error(`deno fmt failed on ${name}`);
  return new TextDecoder().decode(stdout);
}

const HEADER = "// Generated by scripts/bundle.ts from client/: do not edit.";

/** The module holding a bundle: its text, ETag and brotli bytes. */
async function bundleModule(name: string, text: string): Promise<string> {
  return await formatted(
    name,
    `${HEADER}
/** The text of \`${name}\`. */
export const body: string = ${JSON.stringify(text)};
/** Its ETag. */
export const etag: string = ${JSON.stringify(await etagOf(text))};
/** Its brotli bytes (quality 11), as base64. */
export const br: string = ${JSON.stringify(brotliOf(text))};
`,
  );
}

/**
 * The module holding a source map without the text of its sources, which every map shares from
 * \`sources.ts\` (the four maps were 0.7 MB, mostly four copies of the same sources). The map is
 * \`head\`, the JSON array of its sources' texts in the order of \`sources\`, then \`tail\`.
 */
async function mapModule(name: string, text: string): Promise<string> {
  const { sources, sourcesContent, ...rest } = JSON.parse(text);
  const head = JSON.stringify({ version: rest.version, sources }).slice(0, -1) +
    ',"sourcesContent":';
  const tail = "," + JSON.stringify({ ...rest, version: undefined }).slice(1);
  if (head + JSON.stringify(sourcesContent) + tail !== text) {
    throw new Error(`${name}: unexpected source map layout`);
  }
  for (const [i, source] of (sources as string[]).entries()) {
    const known = shared.get(source);
    if (known !== undefined && known !== sourcesContent[i]) {
      throw new Error(`${name}: two texts of ${source}`);
    }
    shared.set(source, sourcesContent[i]);
  }
  return await formatted(
    name,
    `${HEADER}
/** \`${name}\` up to its sources' texts. */
export const head: string = ${JSON.stringify(head)};
/** The sources whose texts (from \`sources.ts\`) follow \`head\`, as a JSON array. */
export const sources: string[] = ${JSON.stringify(sources)};
/** The rest of the map. */
export const tail: string = ${JSON.stringify(tail)};
/** The ETag of the whole map. */
export const etag: string = ${JSON.stringify(await etagOf(text))};
`,
  );
}

/** The texts of the maps' sources, by path: one copy for every map. */
const shared = new Map<string, string>();

async function sourcesModule(): Promise<string> {
  const entries = [...shared].sort(([a], [b]) => a < b ? -1 : 1);
  return await formatted(
    "sources.ts",
    `${HEADER}
/** The text of every source the bundles' maps name, by path. */
export const texts: Record<string, string> = ${JSON.stringify(Object.fromEntries(entries))};
`,
  );
}

let stale = 0;
if (!check) {
  await Deno.mkdir(DIST, { recursive: true });
  await Deno.mkdir(ARTIFACTS, { recursive: true });
}
const modules = new Map<string, string>();
for (const [name, text] of files) {
  modules.set(
    name,
    name.endsWith(".map") ? await mapModule(name, text) : await bundleModule(name, text),
  );
}
modules.set("sources", await sourcesModule());
for (const [name, module] of modules) {
  const path = new URL(`${name}.ts`, DIST);
  if (check) {
    const current = await Deno.readTextFile(path).catch(() => "");
    if (current !== module) {
      console.error(`client/dist/${name}.ts is out of date`);
      stale++;
    }
  } else {
    await Deno.writeTextFile(path, module);
    if (files.has(name)) await Deno.writeTextFile(new URL(name, ARTIFACTS), files.get(name)!);
  }
}
if (stale) {
  console.error("Run: deno task bundle");
  Deno.exit(1);
}

// Sizes, beside the official bundles.
const officialDist = new URL("node_modules/socket.io/client-dist/", OFFICIAL);
try {
  await Deno.stat(officialDist);
} catch {
  const { success } = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      OFFICIAL.pathname,
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--loglevel=error",
      "socket.io@4.8.4",
    ],
    stdout: "null",
  }).output();
  if (!success) throw new Error("npm install socket.io@4.8.4 failed");
}

const enc = new TextEncoder();
const gz = (text: string) => gzipSync(enc.encode(text), { level: 9 }).byteLength;
const br = (text: string) => atob(brotliOf(text)).length;
const kb = (n: number) => (n / 1000).toFixed(1) + " KB";

console.log(
  "| bundle | ours min | ours gzip -9 | ours brotli | official min | official gzip -9 | ratio (gzip) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const { name } of BUILDS) {
  if (name === "socket.io.js") continue;
  const ours = files.get(name)!.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "");
  const official = (await Deno.readTextFile(new URL(name, officialDist)))
    .replace(/\n\/\/# sourceMappingURL=.*\n?$/, "");
  console.log(
    `| ${name} | ${kb(enc.encode(ours).byteLength)} | ${kb(gz(ours))} | ${kb(br(ours))} | ` +
      `${kb(enc.encode(official).byteLength)} | ${kb(gz(official))} | ` +
      `${(gz(ours) / gz(official)).toFixed(3)}x |`,
  );
}
// The budget: the ESM bundle at most 0.600x the official one, gzip -9.
const esm = (dir: (name: string) => string) =>
  gz(dir("socket.io.esm.min.js").replace(/\n\/\/# sourceMappingURL=.*\n?$/, ""));
const oursEsm = esm((name) => files.get(name)!);
const limit = Math.floor(
  0.6 * esm((name) => Deno.readTextFileSync(new URL(name, officialDist))),
);
console.log(
  `\nESM gzip -9: ${oursEsm} bytes; 0.600x is ${limit}: ${limit - oursEsm} bytes to spare`,
);
