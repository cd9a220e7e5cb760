/**
 * Builds the Node entry (`node/mod.ts`) to JavaScript with esbuild, for Node, which cannot run
 * our TypeScript: `index.mjs` (an ES module) and `index.cjs` (CommonJS, whose `module.exports` is
 * also callable as `require("socket.io")(srv, opts)` is). npm `ws` stays an import, to be
 * installed beside the output.
 *
 * Usage: deno run --allow-all scripts/build_node.ts <out dir>
 *
 * @module
 */
import * as esbuild from "esbuild";

const ENTRY = new URL("../node/mod.ts", import.meta.url).pathname;

// `require("socket.io")(srv, opts)`: the official CommonJS export is a function too.
const CALLABLE = "{ const m = module.exports; " +
  "module.exports = Object.assign((srv, opts) => new m.Server(srv, opts), m); }";

/** The files written by {@linkcode buildNode}. */
export interface NodeBuild {
  /** The ES module. */
  esm: string;
  /** The CommonJS module. */
  cjs: string;
}

/**
 * Bundles one TypeScript entry for Node, npm `ws` left as an import.
 *
 * @param entry the entry's path
 * @param outfile the file to write
 * @param format ES module or CommonJS
 * @param footer code appended to the output
 */
export async function bundleForNode(
  entry: string,
  outfile: string,
  format: "esm" | "cjs",
  footer?: string,
): Promise<void> {
  try {
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format,
      target: "node20",
      external: ["ws"],
      footer: footer ? { js: footer } : undefined,
      logLevel: "error",
    });
  } finally {
    await esbuild.stop();
  }
}

/**
 * Writes `index.mjs` and `index.cjs` of the Node entry into `outDir`.
 *
 * @param outDir where to write (created when missing)
 */
export async function buildNode(outDir: string): Promise<NodeBuild> {
  await Deno.mkdir(outDir, { recursive: true });
  const out = { esm: `${outDir}/index.mjs`, cjs: `${outDir}/index.cjs` };
  await bundleForNode(ENTRY, out.esm, "esm");
  await bundleForNode(ENTRY, out.cjs, "cjs", CALLABLE);
  return out;
}

if (import.meta.main) {
  const [outDir] = Deno.args;
  if (!outDir) {
    console.error("usage: deno run --allow-all scripts/build_node.ts <out dir>");
    Deno.exit(2);
  }
  const { esm, cjs } = await buildNode(outDir);
  console.log(`${esm}\n${cjs}`);
}
