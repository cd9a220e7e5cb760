/**
 * The npm packages the server bench compares against, installed on first run into
 * `.artifacts/bench/` (gitignored), where the Node and Bun fixtures look for them; and the
 * build of our Node entry and the Node ceiling, which Node cannot run as TypeScript.
 *
 * @module
 */
import { buildNode, bundleForNode } from "../../scripts/build_node.ts";

/** The folder holding `node_modules` for the fixtures run by Node and Bun. */
export const BENCH_DIR = new URL("../../.artifacts/bench/", import.meta.url).pathname;

/** The `ws` our Node entry pins (deno.json): our Node server and the Node ceiling run on it. */
const WS_VERSION = String(
  JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url))).imports.ws,
).replace(/^npm:ws@/, "");

/** Exact versions: the figures compare against these. */
const PACKAGES: Record<string, string> = {
  "socket.io": "4.8.4",
  "@socket.io/bun-engine": "0.1.2",
  "bun": "1.4.4",
  "ws": WS_VERSION,
};

async function installedVersion(name: string): Promise<string | undefined> {
  try {
    const pkg = await Deno.readTextFile(`${BENCH_DIR}node_modules/${name}/package.json`);
    return JSON.parse(pkg).version;
  } catch {
    return undefined;
  }
}

/** Installs whatever is missing or at another version; quiet unless npm fails. */
export async function ensureBenchPackages(): Promise<void> {
  const missing: string[] = [];
  for (const [name, version] of Object.entries(PACKAGES)) {
    if (await installedVersion(name) !== version) missing.push(`${name}@${version}`);
  }
  if (missing.length === 0 && await exists(bunPath())) return;
  console.error(`installing ${missing.join(" ") || "bun"} into ${BENCH_DIR}`);
  await Deno.mkdir(BENCH_DIR, { recursive: true });
  const all = Object.entries(PACKAGES).map(([n, v]) => `${n}@${v}`);
  const out = await new Deno.Command("npm", {
    args: ["install", "--prefix", BENCH_DIR, "--save-exact", "--no-audit", "--no-fund", ...all],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  }).output();
  if (!out.success) {
    throw new Error(`npm install failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
  }
}

/** The Bun binary the bench installed (npm `bun` puts the native binary there). */
export function bunPath(): string {
  return `${BENCH_DIR}node_modules/.bin/bun`;
}

/** Our Node entry and the Node ceiling, built for one run of the bench. */
export interface NodeFixtures {
  /** The built Node entry (`@socketio-edge/core/node` as an ES module). */
  entry: string;
  /** bench/server/fixtures/raw_node.ts built. */
  raw: string;
  /** Removes the build. */
  remove(): Promise<void>;
}

/**
 * Builds our Node entry (as tests/helpers/node.ts does) and the Node ceiling into a new folder
 * under {@linkcode BENCH_DIR}, whose `node_modules` gives them `ws`; one folder per run, so that
 * two runs from two checkouts never share a build.
 */
export async function buildNodeFixtures(): Promise<NodeFixtures> {
  const dir = await Deno.makeTempDir({ dir: BENCH_DIR, prefix: "node-build-" });
  const { esm } = await buildNode(dir);
  const raw = `${dir}/raw_node.mjs`;
  await bundleForNode(new URL("./fixtures/raw_node.ts", import.meta.url).pathname, raw, "esm");
  return { entry: esm, raw, remove: () => Deno.remove(dir, { recursive: true }) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
