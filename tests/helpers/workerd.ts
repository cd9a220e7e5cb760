/**
 * Our server in real workerd: Cloudflare's `wrangler` / `miniflare` / `workerd` at pinned
 * versions from npm, installed once into `.artifacts/workers/`; a Worker built from a TypeScript
 * entry with esbuild; and miniflare's Node API running it on 127.0.0.1, in a Node process that
 * prints its port and stops when its stdin closes (tests/fixtures/workerd_runner.mjs).
 *
 * @module
 */
import * as esbuild from "esbuild";
import { startFixture } from "./process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIR = `${ROOT}.artifacts/workers`;
const RUNNER = new URL("../fixtures/workerd_runner.mjs", import.meta.url).pathname;

/** The versions known to run on Node 20 here. */
export const WORKERD_PACKAGES = {
  wrangler: "4.86.0",
  miniflare: "4.20260426.0",
  workerd: "1.20260426.1",
} as const;

/** The compatibility date the Workers run with: the newest that this workerd knows. */
export const COMPATIBILITY_DATE = "2026-04-26";

async function installedVersion(name: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await Deno.readTextFile(`${DIR}/node_modules/${name}/package.json`));
    return pkg.version;
  } catch {
    return undefined;
  }
}

let installing: Promise<string | undefined> | undefined;

/**
 * Installs the pinned packages into `.artifacts/workers/` (quietly, once); returns why it could
 * not, or undefined when they are there.
 */
export function installWorkerd(): Promise<string | undefined> {
  return installing ??= (async () => {
    const missing: string[] = [];
    for (const [name, version] of Object.entries(WORKERD_PACKAGES)) {
      if (await installedVersion(name) !== version) missing.push(`${name}@${version}`);
    }
    if (missing.length === 0) return undefined;
    await Deno.mkdir(DIR, { recursive: true });
    const out = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        DIR,
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        ...Object.entries(WORKERD_PACKAGES).map(([name, version]) => `${name}@${version}`),
      ],
      stdout: "null",
      stderr: "piped",
    }).output().catch((err) => err as Error);
    if (out instanceof Error) return `npm could not run: ${out.message}`;
    if (!out.success) {
      return `npm install failed: ${new TextDecoder().decode(out.stderr).trim().slice(0, 500)}`;
    }
    for (const [name, version] of Object.entries(WORKERD_PACKAGES)) {
      if (await installedVersion(name) !== version) return `${name}@${version} did not install`;
    }
    return undefined;
  })();
}

/**
 * Bundles a Worker's TypeScript entry into one ES module for workerd (`node:*` and
 * `cloudflare:*` imports stay imports, which `nodejs_compat` provides).
 *
 * @param entry the entry's path
 * @param outfile where to write the module
 */
export async function buildWorker(entry: string, outfile: string): Promise<void> {
  try {
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      external: ["node:*", "cloudflare:*"],
      logLevel: "error",
    });
  } finally {
    await esbuild.stop();
  }
}

/** How to run one Worker. */
export interface WorkerdConfig {
  /** The Worker's TypeScript entry. */
  entry: string;
  /** Durable Object bindings: binding name to exported class name (SQLite-backed). */
  durableObjects?: Record<string, string>;
  /** Text bindings (`env.NAME`). */
  bindings?: Record<string, string>;
  /** Compatibility flags (default `nodejs_compat`). */
  compatibilityFlags?: string[];
}

/** A Worker running in workerd. */
export interface WorkerdApp {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** The port. */
  port: number;
  /**
   * Stops workerd and removes the build; returns what the Worker logged (console output) and
   * what the runner printed after the port line. Throws when the runner did not exit cleanly.
   */
  stop(): Promise<string>;
}

/** A Worker built into a folder of its own, ready to run. */
export interface BuiltWorker {
  /** `node` and its arguments: the runner with the Worker's miniflare options. */
  argv: string[];
  /** Removes the build. */
  remove(): Promise<void>;
}

/**
 * Builds `config.entry` into a new temporary folder and returns the command that runs it in
 * workerd on 127.0.0.1, port 0 (or `$PORT`). Call {@linkcode installWorkerd} first.
 */
export async function buildWorkerd(config: WorkerdConfig): Promise<BuiltWorker> {
  const dir = await Deno.makeTempDir({ prefix: "socketio-edge-workerd-" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    const script = `${dir}/worker.mjs`;
    await buildWorker(config.entry, script);
    const options = {
      modules: true,
      scriptPath: script,
      modulesRoot: dir,
      // The `request.cf` object of the default placeholder, not fetched from Cloudflare.
      cf: false,
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: config.compatibilityFlags ?? ["nodejs_compat"],
      durableObjects: Object.fromEntries(
        Object.entries(config.durableObjects ?? {}).map((
          [binding, className],
        ) => [binding, { className, useSQLite: true }]),
      ),
      bindings: config.bindings ?? {},
      host: "127.0.0.1",
      port: 0,
      // Durable Object storage in memory: nothing outlives the run.
      durableObjectsPersist: false,
    };
    return {
      argv: ["node", RUNNER, `${DIR}/node_modules`, JSON.stringify(options)],
      remove,
    };
  } catch (err) {
    await remove();
    throw err;
  }
}

/**
 * Builds `config.entry` and runs it in workerd on 127.0.0.1, port 0. Call
 * {@linkcode installWorkerd} first (and skip when it gives a reason).
 */
export async function startWorkerd(config: WorkerdConfig): Promise<WorkerdApp> {
  const built = await buildWorkerd(config);
  try {
    const [cmd, ...args] = built.argv;
    const { port, stop } = await startFixture(cmd, args, (out) => {
      const match = /PORT (\d+)\n/.exec(out);
      return match ? { port: Number(match[1]), end: match.index + match[0].length } : undefined;
    });
    return {
      url: `http://127.0.0.1:${port}`,
      port,
      stop: async () => {
        try {
          const { out, err } = await stop();
          return (out + err).replace(/^ready\n/, "");
        } finally {
          await built.remove();
        }
      },
    };
  } catch (err) {
    await built.remove();
    throw err;
  }
}
