/**
 * The `launch` of BroadcastChannel clusters (cluster.ts): each node a Worker running
 * worker_node.ts, answering the same control API as a process node. `deno` nodes are our
 * server in Deno Workers of the test's process, `official` nodes the official socket.io in
 * Deno Workers too (on the same channels), `bun` nodes our server in the Workers of one Bun
 * process (bun_workers.ts), started with the cluster's first Bun node and ended with its last:
 * a BroadcastChannel spans one process, so a cluster is Deno's or Bun's, not both.
 *
 * @module
 */
import { findBun } from "../helpers/bun.ts";
import { spawnJsonLines } from "../helpers/process.ts";
import { within } from "../helpers/socketio.ts";
import { type ClusterNode, control, type NodeConfig, type NodeRuntime } from "./nodes.ts";
import type { WorkerCommand, WorkerReport } from "./worker_node.ts";

/**
 * Bound of a worker's start: a wait for its port, not a timing. Under `deno test`, the first
 * Worker of a module type-checks its graph before it runs (seconds, more on a loaded machine);
 * the rig starts nodes one at a time, so the later ones find the check cached.
 */
const READY_BOUND = 60_000;

/** Bound of a worker's stop (its server's close). */
const STOP_BOUND = 10_000;

const WORKER = new URL("./worker_node.ts", import.meta.url).href;

/** How a node's worker is reached: send a command, end it at once. */
interface Port {
  send(command: WorkerCommand): void;
  /** Ends the worker; resolves once it is gone (with the Bun process of the last Bun node). */
  terminate(): Promise<void>;
}

/** A node in a worker, once its port says what the worker reports. */
function workerNode(
  runtime: NodeRuntime,
  config: NodeConfig,
  open: (receive: (report: WorkerReport | { type: "error"; error: string }) => void) => Port,
): Promise<ClusterNode> {
  let ready!: (port: number) => void;
  let failed!: (err: Error) => void;
  let stopped!: () => void;
  const started = new Promise<number>((res, rej) => (ready = res, failed = rej));
  const done = new Promise<void>((res) => stopped = res);
  const errors: string[] = [];
  const port = open((report) => {
    switch (report.type) {
      case "ready":
        return ready(report.port);
      case "failed":
        return failed(new Error(`${config.name} did not start: ${report.error}`));
      case "stopped":
        return stopped();
      case "error":
        // What the worker did not catch: the runner fails the test on it at the stop.
        errors.push(`socketio-edge: uncaught ${report.error}`);
        return failed(new Error(`${config.name}: ${report.error}`));
    }
  });
  port.send({ type: "start", runtime, config });
  let gone: Promise<void> | undefined;
  const end = () => gone ??= port.terminate();
  return within(started, `${config.name} listening`, READY_BOUND).then(
    (number) => {
      const url = `http://127.0.0.1:${number}`;
      return {
        name: config.name,
        runtime,
        url,
        running: () => gone === undefined,
        control: (op) => control(url, config.name, op),
        async stop() {
          if (!gone) {
            port.send({ type: "stop" });
            await within(done, `${config.name} closing`, STOP_BOUND).finally(end);
          }
          await end();
          return errors.join("\n");
        },
        kill: end,
      };
    },
    async (err) => {
      await end();
      throw err;
    },
  );
}

/** A Deno Worker of this process. */
function denoWorker(
  receive: (report: WorkerReport | { type: "error"; error: string }) => void,
): Port {
  const worker = new Worker(WORKER, { type: "module" });
  worker.onmessage = (event: MessageEvent<WorkerReport>) => receive(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    receive({ type: "error", error: event.message });
  };
  return {
    send: (command: WorkerCommand) => worker.postMessage(command),
    terminate: () => Promise.resolve(worker.terminate()),
  };
}

/** The Bun process of the running Bun nodes, and how many of them it runs. */
let bunHost:
  | {
    send(line: unknown): void;
    receivers: Map<number, (msg: never) => void>;
    end(): Promise<void>;
  }
  | undefined;
let bunNodes = 0;

async function startBunHost(): Promise<NonNullable<typeof bunHost>> {
  const bun = await findBun();
  if (!bun) throw new Error("bun not installed and could not be installed from npm");
  const receivers = new Map<number, (msg: never) => void>();
  const child = spawnJsonLines(
    bun,
    ["run", new URL("./bun_workers.ts", import.meta.url).pathname],
    ({ node, msg }) => receivers.get(node as number)?.(msg as never),
  );
  return { receivers, send: child.send, end: child.end };
}

let bunIds = 0;

/** A Bun Worker of the cluster's Bun process (started with the first). */
async function bunWorker(
  receive: (report: WorkerReport | { type: "error"; error: string }) => void,
): Promise<Port> {
  bunNodes++;
  const host = bunHost ??= await startBunHost();
  const node = ++bunIds;
  let terminated!: () => void;
  const gone = new Promise<void>((resolve) => terminated = resolve);
  host.receivers.set(
    node,
    (msg: WorkerReport | { type: "error"; error: string } | { type: "terminated" }) => {
      if (msg.type === "terminated") terminated();
      else receive(msg);
    },
  );
  host.send({ node, spawn: true });
  let ended: Promise<void> | undefined;
  return {
    send: (msg) => host.send({ node, msg }),
    terminate: () =>
      ended ??= (async () => {
        host.send({ node, terminate: true });
        await gone;
        host.receivers.delete(node);
        // The last Bun node ends the process.
        if (--bunNodes === 0 && bunHost === host) {
          bunHost = undefined;
          await host.end();
        }
      })(),
  };
}

/**
 * Starts a node of `runtime` as a Worker ({@linkcode ClusterSpec.launch}): `deno` and `official`
 * in Deno Workers, `bun` in the Bun process of the cluster's Bun nodes.
 */
export async function launchWorker(
  runtime: NodeRuntime,
  config: NodeConfig,
): Promise<ClusterNode> {
  if (runtime !== "bun") return await workerNode(runtime, config, denoWorker);
  // The Bun process starts first; then the worker's port exists at once.
  let port: Port | undefined;
  const pending: WorkerCommand[] = [];
  let forward: (report: WorkerReport | { type: "error"; error: string }) => void = () => {};
  const ready = bunWorker((report) => forward(report)).then((p) => {
    port = p;
    for (const command of pending.splice(0)) p.send(command);
  });
  const node = workerNode(runtime, config, (receive) => {
    forward = receive;
    return {
      send: (command) => port ? port.send(command) : void pending.push(command),
      terminate: () => ready.then(() => port?.terminate()),
    };
  });
  await ready;
  return await node;
}
