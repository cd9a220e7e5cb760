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
 * Writes `index.mjs` and `index.cjs` into `outDir`.
 *
 * @param outDir where to write (created when missing)
 */
export async function buildNode(outDir: string): Promise<NodeBuild> {
  await Deno.mkdir(outDir, { recursive: true });
  const out = { esm: `${outDir}/index.mjs`, cjs: `${outDir}/index.cjs` };
  try {
    for (const format of ["esm", "cjs"] as const) {
      await esbuild.build({
        entryPoints: [ENTRY],
        outfile: out[format],
        bundle: true,
        platform: "node",
        format,
        target: "node20",
        external: ["ws"],
        footer: format === "cjs" ? { js: CALLABLE } : undefined,
        logLevel: "error",
      });
    }
  } finally {
    await esbuild.stop();
  }
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
