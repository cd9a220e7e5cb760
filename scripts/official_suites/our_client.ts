/**
 * Our client built as a CommonJS package, to swap in for an official one in its suite: the
 * suites `require("..")` their package and, for a few tests, a file of its `build/cjs/`.
 * Built with esbuild as `scripts/bundle.ts` builds the browser bundles.
 *
 * @module
 */
import * as esbuild from "esbuild";
import { ROOT } from "./process.ts";

/** A module of `build/cjs/` of the package: its path there and the file of ours it holds. */
export interface CjsEntry {
  /** The path under the package, e.g. `build/cjs/index.js`. */
  out: string;
  /** Our source, relative to the repository, e.g. `client/mod.ts`. */
  entry: string;
}

/**
 * Writes a package into `dir`: `package.json` (`main` is the first entry) and each entry
 * bundled as CommonJS.
 *
 * @param dir the package folder (created)
 * @param name the package's name in `package.json`
 * @param entries the modules; the first is the package's main
 */
export async function writeOurPackage(
  dir: string,
  name: string,
  entries: CjsEntry[],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const pkg = { name, version: "0.0.0-socketio-edge", main: `./${entries[0].out}` };
  await Deno.writeTextFile(`${dir}/package.json`, JSON.stringify(pkg, null, 2));
  try {
    for (const { out, entry } of entries) {
      await esbuild.build({
        entryPoints: [new URL(entry, ROOT).pathname],
        outfile: `${dir}/${out}`,
        bundle: true,
        format: "cjs",
        // Web standards only: fetch and WebSocket come from the global object.
        platform: "neutral",
        target: "es2022",
        sourcemap: "inline",
        logLevel: "error",
      });
    }
  } finally {
    await esbuild.stop();
  }
}
