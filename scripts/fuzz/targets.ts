/**
 * The servers the fuzzer attacks: the fuzz app under `Deno.serve` in this process, or under
 * `Bun.serve` in a child process (`bun_target.ts`), each on 127.0.0.1 and a free port.
 *
 * @module
 */
import { findBun } from "../../tests/helpers/bun.ts";
import { type FixtureProcess, startFixture } from "../../tests/helpers/process.ts";
import { createFuzzApp, type FuzzStats } from "./app.ts";
import { linkNpmModules } from "../npm_links.ts";

/** A running server under attack. */
export interface Target {
  /** `deno` or `bun`. */
  readonly runtime: Runtime;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Whether its process is still running (always true in this process). */
  alive(): boolean;
  /** What went wrong so far, and its memory; undefined when it does not answer. */
  stats(): Promise<FuzzStats | undefined>;
  /** Whether `stats()` costs nothing (in this process): read after each scenario, then. */
  readonly local: boolean;
  /** Stops it; for a child, what it printed on stderr (its crash, if any). */
  stop(): Promise<string>;
}

/** The runtimes the fuzzer attacks. */
export type Runtime = "deno" | "bun";

/** Starts the fuzz app on `runtime`. */
export function startTarget(runtime: Runtime): Promise<Target> {
  return runtime === "deno" ? startDeno() : startBun();
}

/** The app under `Deno.serve` in this process. */
function startDeno(): Promise<Target> {
  const app = createFuzzApp(() => Deno.memoryUsage().rss);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError(err) {
      app.handlerFailed(err);
      return new Response(null, { status: 500 });
    },
  }, app.handler);
  return Promise.resolve({
    runtime: "deno",
    port: server.addr.port,
    local: true,
    alive: () => true,
    stats: () => Promise.resolve(app.stats()),
    async stop() {
      await app.close();
      await server.shutdown();
      return "";
    },
  });
}

const BUN_TARGET = new URL("./bun_target.ts", import.meta.url).pathname;

/** The app under `Bun.serve` in a child process. */
async function startBun(): Promise<Target> {
  const bun = await findBun();
  if (!bun) throw new Error("bun is not installed and could not be installed from npm");
  // The app's npm package (the msgpack parser), found by Bun in a folder of links to Deno's npm
  // cache, at the versions deno.lock has: the same code as under Deno.
  const modules = await npmModules(["socket.io-msgpack-parser"]);
  let child: FixtureProcess;
  try {
    child = await startFixture(bun, ["run", BUN_TARGET], (out) => {
      const end = out.indexOf("\n") + 1;
      return end > 0 ? { port: JSON.parse(out.slice(0, end)).port, end } : undefined;
    }, { env: { NODE_PATH: `${modules}/node_modules` } });
  } catch (err) {
    await Deno.remove(modules, { recursive: true });
    throw err;
  }
  const port = child.port;
  return {
    runtime: "bun",
    port,
    local: false,
    alive: () => child.running(),
    async stats() {
      if (!child.running()) return undefined;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/__fuzz/stats`, {
          signal: AbortSignal.timeout(10_000),
        });
        return await res.json() as FuzzStats;
      } catch {
        return undefined;
      }
    },
    async stop() {
      try {
        const { err } = await child.stop();
        return err;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      } finally {
        await Deno.remove(modules, { recursive: true });
      }
    },
  };
}

/** A new temporary folder whose `node_modules/` links the npm packages `names`. */
async function npmModules(names: string[]): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "socketio-edge-fuzz-" });
  await linkNpmModules(names, root);
  return root;
}
