/**
 * Cluster nodes as processes: the official socket.io on Node (tests/fixtures/
 * official_redis_node.mjs) or ours (our_node.ts) under Deno or Bun, each told what to do through
 * the control API (control.ts). Each prints `PORT <n>` once listening and ends when its stdin
 * closes; `kill()` ends one abruptly, as a crash would.
 *
 * @module
 */
import { findBun } from "../helpers/bun.ts";
import { officialRedisModules } from "../helpers/official_redis.ts";
import { within } from "../helpers/socketio.ts";
import type { Op, OpName, Ops } from "./control.ts";
import type { NodeConfig } from "./our_node.ts";

export type { NodeConfig };

/** Where a node runs: the official server on Node, or ours under Deno or Bun. */
export type NodeRuntime = "official" | "deno" | "bun";

/** A running node. */
export interface ClusterNode {
  /** Its name (`<runtime>-<n>`), which its app puts in its acks. */
  readonly name: string;
  /** Where it runs. */
  readonly runtime: NodeRuntime;
  /** `http://127.0.0.1:<port>`: Socket.IO under /socket.io/, the control API at /control. */
  readonly url: string;
  /** Runs an operation on the node; throws the node's error when it fails. */
  control<K extends OpName>(op: { op: K } & Ops[K][0]): Promise<Ops[K][1]>;
  /**
   * Closes its stdin and waits for it to exit: what it printed. Throws when it exits non-zero
   * or not within 10 s (something stayed open).
   */
  stop(): Promise<string>;
  /** Kills it (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
  /** Sends it `signal` (SIGSTOP freezes it, SIGCONT lets it go on); processes only. */
  signal?(signal: Deno.Signal): void;
  /** Whether it still runs. */
  running(): boolean;
}

const OFFICIAL = new URL("../fixtures/official_redis_node.mjs", import.meta.url).pathname;
const OURS = new URL("./our_node.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Bound of one control request (a safety net, not a timing). */
const CONTROL_BOUND = 15_000;

/** Runs `op` on the node `name` at `url` (its control API); throws the node's error. */
export async function control<K extends OpName>(
  url: string,
  name: string,
  op: { op: K } & Ops[K][0],
): Promise<Ops[K][1]> {
  const res = await within(
    fetch(`${url}/control`, { method: "POST", body: JSON.stringify(op as Op) }),
    `answer of ${name} to ${op.op}`,
    CONTROL_BOUND,
  );
  const body = await res.json();
  if (!res.ok) throw new Error(`${name} failed ${op.op}: ${body.error}`);
  return body;
}

/** The command that runs a node of `runtime` with `config`, or why it cannot run here. */
async function command(
  runtime: NodeRuntime,
  config: NodeConfig,
): Promise<{ cmd: string; args: string[]; env?: Record<string, string> } | string> {
  const json = JSON.stringify(config);
  switch (runtime) {
    case "official":
      return { cmd: "node", args: [OFFICIAL, await officialRedisModules(), json] };
    case "deno":
      return {
        cmd: Deno.execPath(),
        args: [
          "run",
          "--allow-net",
          "--allow-read",
          "--allow-env",
          "--allow-sys",
          "--config",
          CONFIG,
          OURS,
          json,
        ],
      };
    case "bun": {
      const bun = await findBun();
      if (!bun) return "bun not installed and could not be installed from npm";
      // Bun finds npm `redis` and `ioredis` (the versions deno.json pins) through NODE_PATH.
      return {
        cmd: bun,
        args: ["run", OURS, json],
        env: { NODE_PATH: await officialRedisModules() },
      };
    }
  }
}

/** Whether `runtime` can run here: undefined, or why not (for `SKIPPED: <why>`). */
export async function unavailable(runtime: NodeRuntime): Promise<string | undefined> {
  if (runtime !== "bun") return undefined;
  return await findBun() ? undefined : "bun not installed and could not be installed from npm";
}

/** Starts a node of `runtime` with `config` and resolves once it listens. */
export async function startNode(runtime: NodeRuntime, config: NodeConfig): Promise<ClusterNode> {
  const how = await command(runtime, config);
  if (typeof how === "string") throw new Error(how);
  const child = new Deno.Command(how.cmd, {
    args: how.args,
    env: how.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let port = 0;
  while (!port) {
    const { done, value } = await reader.read();
    if (done) {
      await status;
      throw new Error(`${runtime} node exited before listening: ${out}${await stderr}`);
    }
    out += value;
    const match = /PORT (\d+)\n/.exec(out);
    if (match) {
      port = Number(match[1]);
      out = out.slice(match.index + match[0].length);
    }
  }
  // Read the rest as it comes, so the pipe never fills up.
  const rest = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out += value;
    }
  })();
  const url = `http://127.0.0.1:${port}`;
  const name = config.name;
  let ended: Promise<void> | undefined;
  return {
    name,
    runtime,
    url,
    running: () => !exited,
    control: (op) => control(url, name, op),
    async stop() {
      let killed = false;
      if (!exited) {
        await child.stdin.close().catch(() => {});
        const timer = setTimeout(() => {
          killed = true;
          child.kill("SIGKILL");
        }, 10_000);
        await status;
        clearTimeout(timer);
      } else {
        await child.stdin.close().catch(() => {});
      }
      await rest;
      const err = await stderr;
      const { code, signal } = await status;
      if (killed) throw new Error(`${name} did not exit within 10 s of its stdin closing: ${err}`);
      if (code !== 0 && !ended) {
        throw new Error(`${name} exited with ${code} (${signal ?? "no signal"}): ${out}${err}`);
      }
      return out + err;
    },
    signal(signal) {
      if (!exited) child.kill(signal);
    },
    kill() {
      return ended ??= (async () => {
        if (!exited) child.kill("SIGKILL");
        await status;
        await child.stdin.close().catch(() => {});
      })();
    },
  };
}
