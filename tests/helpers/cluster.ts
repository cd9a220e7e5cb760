/**
 * Clusters for the cluster adapter tests: nodes of our server with the BroadcastChannel
 * adapter, each in a Worker of its own on its own port (tests/fixtures/cluster_node.ts), in Deno
 * or in a Bun process (tests/fixtures/bun_cluster.ts), driven by commands.
 *
 * @module
 */
import { findBun } from "./bun.ts";
import { spawnJsonLines } from "./process.ts";
import { within } from "./socketio.ts";

/** What a node sends its parent. */
type NodeMessage =
  | { type: "ready"; port: number }
  | { type: "result"; id: number; value?: unknown; error?: string }
  | { type: "terminated" }
  | { type: "error"; error: string };

/** One node of a cluster: our server in a worker. */
export class ClusterNode {
  /** `http://127.0.0.1:<port>`, once ready. */
  url = "";
  /** The node's name (`a`, `b`, ...), in the answers of its "question" listener. */
  readonly name: string;
  readonly #send: (msg: unknown) => void;
  readonly #kill: () => void;
  readonly #calls = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  #ready!: () => void;
  /** Resolves once the node listens. */
  readonly ready: Promise<void> = new Promise((resolve) => (this.#ready = resolve));
  #ids = 0;
  #gone = false;

  constructor(name: string, send: (msg: unknown) => void, kill: () => void) {
    this.name = name;
    this.#send = send;
    this.#kill = kill;
  }

  /** @internal a message of the node. */
  receive(msg: NodeMessage): void {
    switch (msg.type) {
      case "ready":
        this.url = `http://127.0.0.1:${msg.port}`;
        this.#ready();
        return;
      case "result": {
        const call = this.#calls.get(msg.id);
        this.#calls.delete(msg.id);
        if (msg.error !== undefined) call?.reject(new Error(`node ${this.name}: ${msg.error}`));
        else call?.resolve(msg.value);
        return;
      }
      case "error":
        for (const call of this.#calls.values()) call.reject(new Error(msg.error));
        this.#calls.clear();
    }
  }

  /** Runs a command of tests/fixtures/cluster_node.ts on the node. */
  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#ids++;
    const done = new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.#send({ type: "call", id, cmd, args });
    return within(done, `answer of node ${this.name} to ${cmd}`, 20_000);
  }

  /** Ends the node at once, as a crash would: no ADAPTER_CLOSE, no goodbye. */
  terminate(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#kill();
  }

  /** Closes the node's server (its adapter says goodbye), then ends it. */
  async close(): Promise<void> {
    if (this.#gone) return;
    await this.call("close");
    this.terminate();
  }
}

/** A cluster of nodes and how to end it. */
export interface Cluster {
  /** The nodes, named `a`, `b`, ... */
  nodes: ClusterNode[];
  /** Ends every node and what runs them. */
  stop(): Promise<void>;
}

/**
 * Adapter options for every node: a channel of the test's own, quick heartbeats (but a timeout
 * that a busy machine's stalls of a worker do not reach).
 */
function nodeOptions(options: Record<string, unknown>): Record<string, unknown> {
  return {
    channel: `test-${crypto.randomUUID()}`,
    heartbeatInterval: 200,
    heartbeatTimeout: 2_000,
    requestsTimeout: 5_000,
    ...options,
  };
}

/**
 * Bound of the workers' start: a wait for their ports, not a timing. Under `deno test`, a
 * Worker's module graph is type-checked when the first Worker of it starts (seconds when the
 * check is not cached, more on a loaded machine).
 */
const READY_BOUND = 60_000;

/** Waits until every node counts all the others (their heartbeats went round). */
async function joined(nodes: ClusterNode[]): Promise<void> {
  for (const node of nodes) {
    while ((await node.call<number>("serverCount")) !== nodes.length) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * `count` nodes in Deno Workers; `kinds` says which run the official server (with the official
 * adapter) rather than ours.
 */
export async function startDenoCluster(
  count: number,
  options: Record<string, unknown> = {},
  kinds: ("ours" | "official")[] = [],
): Promise<Cluster> {
  const opts = nodeOptions(options);
  const url = new URL("../fixtures/cluster_node.ts", import.meta.url).href;
  const nodes: ClusterNode[] = [];
  const cluster = {
    nodes,
    stop: async () => {
      await Promise.allSettled(nodes.map((n) => n.close()));
      for (const n of nodes) n.terminate();
    },
  };
  try {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(url, { type: "module" });
      const node = new ClusterNode(
        String.fromCharCode(97 + i),
        (msg) => worker.postMessage(msg),
        () => worker.terminate(),
      );
      worker.onmessage = (event: MessageEvent) => node.receive(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        node.receive({ type: "error", error: event.message });
      };
      worker.postMessage({ type: "start", name: node.name, kind: kinds[i], options: opts });
      nodes.push(node);
      // The first worker type-checks the fixture's graph (under `deno test`) and caches it; the
      // others, started once it listens, find the check done rather than all running it at once.
      if (i === 0) await within(node.ready, "the first Deno worker listening", READY_BOUND);
    }
    await within(Promise.all(nodes.map((n) => n.ready)), "Deno workers listening", READY_BOUND);
    await within(joined(nodes), "nodes counting each other", 20_000);
  } catch (err) {
    for (const n of nodes) n.terminate();
    throw err;
  }
  return cluster;
}

/**
 * `count` nodes in the Workers of one Bun process; undefined when Bun cannot be had (the
 * caller prints SKIPPED).
 */
export async function startBunCluster(
  count: number,
  options: Record<string, unknown> = {},
): Promise<Cluster | undefined> {
  const bun = await findBun();
  if (bun === undefined) return undefined;
  const opts = nodeOptions(options);
  const fixture = new URL("../fixtures/bun_cluster.ts", import.meta.url).pathname;
  const nodes: ClusterNode[] = [];
  const child = spawnJsonLines(bun, ["run", fixture, String(count)], ({ node, msg }) => {
    nodes[node as number]?.receive(msg as never);
  });
  const send = child.send;
  for (let i = 0; i < count; i++) {
    nodes.push(
      new ClusterNode(
        String.fromCharCode(97 + i),
        (msg) => send({ node: i, msg }),
        () => send({ node: i, terminate: true }),
      ),
    );
  }
  const cluster = {
    nodes,
    stop: async () => {
      await Promise.allSettled(nodes.map((n) => n.close()));
      await child.end();
    },
  };
  nodes.forEach((node, i) =>
    send({ node: i, msg: { type: "start", name: node.name, options: opts } })
  );
  try {
    await within(Promise.all(nodes.map((n) => n.ready)), "Bun workers listening", READY_BOUND);
    await within(joined(nodes), "nodes counting each other", 20_000);
  } catch (err) {
    child.child.kill("SIGKILL");
    await cluster.stop().catch(() => {});
    throw new Error(`${err}: ${await child.stderr}`);
  }
  return cluster;
}
