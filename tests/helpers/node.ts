/**
 * Our server under Node: the Node entry built with esbuild into a temporary folder, npm `ws`
 * installed once into `.artifacts/node-bridge/`, and Node fixture processes that print their
 * port and stop when their stdin closes.
 *
 * @module
 */
import { buildNode, bundleForNode } from "../../scripts/build_node.ts";
import { startServerProcess } from "./process.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DEPS = `${ROOT}.artifacts/node-bridge`;

/** The `ws` version the Node entry pins in deno.json. */
async function wsVersion(): Promise<string> {
  const deno = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  return String(deno.imports.ws).replace(/^npm:ws@/, "");
}

let installed: Promise<void> | undefined;

/** Installs npm `ws` (the Node entry's dependency) into `.artifacts/node-bridge` once, quietly. */
function installDeps(): Promise<void> {
  return installed ??= (async () => {
    const version = await wsVersion();
    try {
      const pkg = JSON.parse(await Deno.readTextFile(`${DEPS}/node_modules/ws/package.json`));
      if (pkg.version === version) return;
    } catch { /* not installed yet */ }
    await Deno.mkdir(DEPS, { recursive: true });
    const { success, stderr } = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        DEPS,
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--loglevel=error",
        `ws@${version}`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`npm install failed: ${new TextDecoder().decode(stderr)}`);
  })();
}

/** A build of the Node entry and the bridge fixture, in a folder of its own. */
export interface NodeBuild {
  /** The folder (with a `node_modules` link to the installed `ws`). */
  dir: string;
  /** The Node entry as an ES module. */
  entry: string;
  /** `tests/fixtures/node_bridge.ts` built, a plain fetch handler behind the bridge. */
  bridge: string;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/** A new temporary folder where Node finds the installed `ws`. */
async function nodeDir(): Promise<string> {
  await installDeps();
  const dir = await Deno.makeTempDir({ prefix: "socketio-edge-node-" });
  await Deno.symlink(`${DEPS}/node_modules`, `${dir}/node_modules`);
  return dir;
}

/** Builds the Node entry (and the bridge fixture) into a new temporary folder. */
export async function buildForNode(): Promise<NodeBuild> {
  const dir = await nodeDir();
  const { esm } = await buildNode(dir);
  const bridge = `${dir}/bridge.mjs`;
  await bundleForNode(
    new URL("../fixtures/node_bridge.ts", import.meta.url).pathname,
    bridge,
    "esm",
  );
  return {
    dir,
    entry: esm,
    bridge,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A TypeScript fixture built for Node. */
export interface NodeScript {
  /** The built ES module. */
  file: string;
  /** Removes it (and its folder). */
  remove(): Promise<void>;
}

/**
 * Bundles a TypeScript fixture (which may import the Node entry, `node/mod.ts`) into an ES
 * module for Node, in a new temporary folder beside the installed `ws`.
 *
 * @param source the fixture's path
 */
export async function buildNodeScript(source: string): Promise<NodeScript> {
  const dir = await nodeDir();
  const file = `${dir}/main.mjs`;
  await bundleForNode(source, file, "esm");
  return { file, remove: () => Deno.remove(dir, { recursive: true }) };
}

/** A Node fixture process. */
export interface NodeProcess {
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Closes its stdin and waits for it to exit; returns what it printed after the port line. */
  stop(): Promise<string>;
  /** What it wrote to stderr, once {@linkcode NodeProcess.stop} resolved. */
  readonly stderr: string;
}

/**
 * Runs `node <script> ...args`; the script prints `PORT <n>` once listening, and ends when its
 * stdin closes. `stop()` fails the test when it exits non-zero or does not exit within 10 s
 * (something it started is still open).
 */
export async function startNode(script: string, args: string[]): Promise<NodeProcess> {
  const { port, url, stop } = await startServerProcess("node", [script, ...args]);
  let stderr = "";
  return {
    port,
    url,
    stop: async () => {
      const { out, err } = await stop();
      stderr = err;
      return out;
    },
    get stderr() {
      return stderr;
    },
  };
}
