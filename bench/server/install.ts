/**
 * The npm packages the server bench compares against, installed on first run into
 * `.artifacts/bench/` (gitignored), where the Node and Bun fixtures look for them.
 *
 * @module
 */

/** The folder holding `node_modules` for the fixtures run by Node and Bun. */
export const BENCH_DIR = new URL("../../.artifacts/bench/", import.meta.url).pathname;

/** Exact versions: the figures compare against these. */
const PACKAGES: Record<string, string> = {
  "socket.io": "4.8.4",
  "@socket.io/bun-engine": "0.1.2",
  "bun": "1.4.4",
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

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
