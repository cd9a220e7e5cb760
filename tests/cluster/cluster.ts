/**
 * The mixed-cluster runner: every scenario (scenarios.ts) on one cluster of nodes (any mix of the
 * official server on Node and ours under Deno or Bun, nodes.ts) sharing one real redis-server,
 * with official `socket.io-client` clients on each node. One test per Redis client kind; the
 * cluster is started once per test and every scenario runs as a step in it, with a room of its
 * own (`run.room`, which all its clients join) as the scope of what it asks of the nodes.
 *
 * A runner file is one call: `clusterTests({ adapter: "classic", nodes: ["official", "deno"] })`.
 * `SCENARIO=<part of a name>` runs only the scenarios whose names contain it.
 *
 * @module
 */
import {
  type ClientSocket,
  closeClients,
  connected,
  officialClient,
  settle,
  upgraded,
  within,
} from "../helpers/socketio.ts";
import { portOf, RoundRobinProxy } from "../helpers/round_robin_proxy.ts";
import { io as ourClient } from "../../client/mod.ts";
import { redisUnavailable, startRedis } from "../helpers/redis.ts";
import {
  type ClusterNode,
  type NodeConfig,
  type NodeRuntime,
  startNode,
  unavailable,
} from "./nodes.ts";
import { REDIS_CLIENT_KINDS, type RedisClientKind } from "./redis_clients.ts";
import { type Scenario, SCENARIOS } from "./scenarios.ts";

/** A cluster to run the scenarios on. */
export interface ClusterSpec {
  /**
   * The adapter of every node: "classic" (`@socket.io/redis-adapter` `createAdapter`),
   * "sharded" (`createShardedAdapter`) or "streams" (`@socket.io/redis-streams-adapter`) on
   * official nodes, and ours of the same name (our_adapters.ts) on ours; "memory" (ours only,
   * one node, no Redis) checks the rig itself.
   */
  adapter: string;
  /** The runtime of each node, e.g. `["official", "deno"]`. */
  nodes: NodeRuntime[];
  /**
   * Whether the cluster has a redis-server (default: unless the adapter is "memory" or
   * "broadcast-channel"); the
   * nodes then connect their Redis clients to it, whatever their adapter.
   */
  redis?: boolean;
  /** The Redis clients to run with, one test each (default both). */
  clients?: readonly RedisClientKind[];
  /** Options of every node's adapter, over the rig's defaults ({@linkcode ADAPTER_DEFAULTS}). */
  adapterOptions?: Record<string, unknown>;
  /**
   * Options of every node's server (JSON), e.g. `connectionStateRecovery` (with which the
   * official client sees each packet's offset as a last argument: give `scenarios` too).
   */
  serverOptions?: NodeConfig["serverOptions"];
  /** Which scenarios to run, when not all that apply. */
  scenarios?: (scenario: Scenario) => boolean;
  /**
   * Starts a node (default {@linkcode startNode}: a process): another way to run one, e.g. a
   * worker answering the same control API, for adapters that do not cross processes.
   */
  launch?: (runtime: NodeRuntime, config: NodeConfig) => Promise<ClusterNode>;
  /**
   * No sticky sessions: every node forwards the requests of other nodes' sessions
   * (`NodeConfig.forward`), and every client reaches the cluster through a round-robin proxy
   * (../helpers/round_robin_proxy.ts) that spreads each request over the running nodes; only the
   * handshake goes to the node the scenario names. Clients poll only (`"polling"`), or poll and
   * upgrade (`"upgrade"`, each client waiting for its upgrade), instead of alternating.
   */
  roundRobin?: "polling" | "upgrade";
  /** Whose client the scenarios use: the official `socket.io-client` (default), or ours. */
  client?: "official" | "ours";
}

/**
 * What the rig gives every adapter: short waits, so that timeouts are tested quickly. (The
 * official sharded and streams adapters take no `requestsTimeout`: their serverSideEmit waits a
 * fixed 5 s and their fetchSockets `io.timeout(ms)`, which the scenarios give; the streams one
 * passes no heartbeat options to its base either, but counts servers with PUBSUB NUMSUB.)
 */
export const ADAPTER_DEFAULTS: Record<string, Record<string, unknown>> = {
  classic: { requestsTimeout: 1_000 },
  sharded: { requestsTimeout: 1_000 },
  streams: { requestsTimeout: 1_000 },
  memory: {},
  // Quick heartbeats (the official ClusterAdapterWithHeartbeat takes them too), so that a killed
  // node is noticed soon; a timeout that a loaded machine's stalls of a worker do not reach.
  "broadcast-channel": { requestsTimeout: 1_000, heartbeatInterval: 200, heartbeatTimeout: 2_000 },
};

/**
 * What a cluster has that some scenarios need; a scenario whose {@linkcode Scenario.requires}
 * the cluster lacks is listed as an ignored step, so that what a cluster does not run shows.
 */
export type Capability =
  /** A redis-server the nodes use (the official `@socket.io/redis-emitter` publishes there). */
  | "redis"
  /** Sessions kept by the adapter, restored on another node (connection state recovery). */
  | "recovery";

/** The capabilities of each adapter, beyond "redis" (which the spec's `redis` says). */
const ADAPTER_CAPABILITIES: Record<string, readonly Capability[]> = {
  streams: ["recovery"],
};

/** Adapters whose clusters have no redis-server unless the spec says so. */
const WITHOUT_REDIS = ["memory", "broadcast-channel"];

/** Options of a client of a run. */
export interface ConnectOptions {
  /** Rooms it joins on connection (besides the run's room). */
  rooms?: string[];
  /** Its `socket.data`. */
  data?: unknown;
  /** Its namespace ("/" by default, or "/custom"). */
  nsp?: string;
  /** Its transport (by default the clients alternate: polling, websocket, polling...). */
  transport?: "polling" | "websocket";
  /** More of its `auth` (e.g. the `pid` and `offset` of a session to restore). */
  auth?: Record<string, unknown>;
  /** Called with the socket before it connects (to listen to what comes at once). */
  setup?: (socket: ClientSocket) => void;
}

/** What a scenario gets: the nodes, and clients connected to them. */
export interface Run {
  /** The cluster's adapter name. */
  readonly adapter: string;
  /** The nodes, in the order of the spec. */
  readonly nodes: readonly ClusterNode[];
  /** This run's room: every client of the run joins it, and the run's requests use it. */
  readonly room: string;
  /** The requests timeout of the nodes' adapters (ms). */
  readonly requestsTimeout: number;
  /** A connected official client of `node` (an index in `nodes`, or an added node). */
  connect(node: number | ClusterNode, opts?: ConnectOptions): Promise<ClientSocket>;
  /**
   * Resolves once what every other node sends to each of `rooms` reaches `client` (bounded):
   * an adapter may subscribe to a room's channel after the join (the sharded one's dynamic
   * mode), and what is published before that never arrives. `connect` waits so for the
   * client's rooms; a scenario does it for rooms joined later.
   */
  reachable(client: ClientSocket, rooms: string[], nsp?: string): Promise<void>;
  /** Another node, of `runtime` (the last node's by default), ready; stopped after the run. */
  addNode(runtime?: NodeRuntime): Promise<ClusterNode>;
  /** Resolves once every running node counts `n` servers (bounded). */
  counted(n: number): Promise<void>;
}

/** Bound of one run (a safety net, not a timing). */
const RUN_BOUND = 30_000;

/** Polls `check` until it returns true, within `ms` (a wait for the cluster, not a timing). */
export async function until(
  check: () => Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  await within(
    (async () => {
      while (!await check()) await new Promise((r) => setTimeout(r, 25));
    })(),
    what,
    ms,
  );
}

let runs = 0;
let probes = 0;
let names = 0;

/** The nodes of a cluster and how to start more. */
class Nodes {
  readonly all: ClusterNode[] = [];
  constructor(
    readonly spec: ClusterSpec,
    readonly client: RedisClientKind,
    readonly redisUrl: string | undefined,
    readonly adapterOptions: Record<string, unknown>,
  ) {}

  /** The round-robin proxy in front of the nodes (`spec.roundRobin`). */
  proxy: RoundRobinProxy | undefined;

  async start(runtime: NodeRuntime): Promise<ClusterNode> {
    const node = await (this.spec.launch ?? startNode)(runtime, {
      name: `${runtime}-${++names}`,
      forward: this.spec.roundRobin !== undefined,
      adapter: this.spec.adapter,
      client: this.client,
      redisUrl: this.redisUrl,
      adapterOptions: this.adapterOptions,
      serverOptions: this.spec.serverOptions,
    });
    this.all.push(node);
    return node;
  }

  /** Resolves once each running node counts `n` servers. */
  counted(n: number): Promise<void> {
    return until(
      async () => {
        for (const node of this.all.filter((x) => x.running())) {
          if ((await node.control({ op: "serverCount" })).count !== n) return false;
        }
        return true;
      },
      `count of ${n} servers on every node`,
    );
  }
}

/** One scenario once on the cluster; its clients and extra nodes are gone when it resolves. */
async function runOnce(
  scenario: (run: Run) => Promise<void>,
  nodes: Nodes,
  base: number,
): Promise<void> {
  const clients: ClientSocket[] = [];
  const owners = new Map<ClientSocket, ClusterNode>();
  const extra: ClusterNode[] = [];
  const room = `run-${++runs}`;
  const main = nodes.all.slice(0, base);
  for (const node of main) await node.control({ op: "observed" });
  const run: Run = {
    adapter: nodes.spec.adapter,
    nodes: main,
    room,
    requestsTimeout: Number(nodes.adapterOptions.requestsTimeout ?? 5_000),
    async connect(node, opts = {}) {
      const transport = opts.transport ?? (clients.length % 2 ? "websocket" : "polling");
      const target = typeof node === "number" ? main[node] : node;
      const mode = nodes.spec.roundRobin;
      const url = nodes.proxy ? nodes.proxy.entry(portOf(target.url)) : target.url;
      const io = nodes.spec.client === "ours"
        ? ourClient as unknown as typeof officialClient
        : officialClient;
      const socket = io(url + (opts.nsp ?? "/"), {
        transports: mode === "polling"
          ? ["polling"]
          : mode === "upgrade"
          ? ["polling", "websocket"]
          : [transport],
        forceNew: true,
        reconnection: false,
        auth: { ...opts.auth, rooms: [room, ...opts.rooms ?? []], data: opts.data },
      });
      opts.setup?.(socket);
      clients.push(socket);
      owners.set(socket, target);
      await within(connected(socket), `connection to ${target.name}`);
      if (mode === "upgrade") await within(upgraded(socket), `upgrade on ${target.name}`);
      await run.reachable(socket, [room, ...opts.rooms ?? []], opts.nsp);
      return socket;
    },
    async reachable(client, rooms, nsp = "/") {
      const owner = owners.get(client);
      for (const node of nodes.all) {
        if (node === owner || !node.running()) continue;
        for (const r of rooms) {
          await until(async () => {
            const token = `probe-${++probes}`;
            const got = new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => done(false), 200);
              const on = (t: string) => t === token && done(true);
              const done = (v: boolean) => {
                clearTimeout(timer);
                client.off("probe", on);
                resolve(v);
              };
              client.on("probe", on);
            });
            await node.control({ op: "emit", nsp, rooms: [r], ev: "probe", args: [token] });
            return await got;
          }, `${r} of ${owner?.name} reachable from ${node.name}`);
        }
      }
    },
    async addNode(runtime = main[main.length - 1].runtime) {
      const node = await nodes.start(runtime);
      extra.push(node);
      await nodes.counted(base + extra.length);
      return node;
    },
    counted: (n) => nodes.counted(n),
  };
  try {
    await within(scenario(run), "end of the scenario", RUN_BOUND);
  } finally {
    await within(closeClients(clients), "close of every client");
    await settle();
    for (const node of extra) {
      await node.stop();
      nodes.all.splice(nodes.all.indexOf(node), 1);
    }
    // The next run starts on a cluster that counts its own nodes and has none of these sockets.
    await nodes.counted(base);
    for (const node of main) {
      await until(
        async () =>
          (await node.control({ op: "fetchSockets", local: true, rooms: [room] })).sockets
            .length === 0,
        `end of ${room}'s sockets on ${node.name}`,
      );
    }
  }
}

/**
 * The scenarios on clusters of `spec`: one test per Redis client kind, each scenario a step.
 * Prints `SKIPPED: <why>` (and passes) without a redis-server, or without Bun for Bun nodes.
 */
export function clusterTests(spec: ClusterSpec): void {
  const needsRedis = spec.redis ?? !WITHOUT_REDIS.includes(spec.adapter);
  const capabilities = new Set<Capability>(ADAPTER_CAPABILITIES[spec.adapter] ?? []);
  if (needsRedis) capabilities.add("redis");
  const kinds = needsRedis ? spec.clients ?? REDIS_CLIENT_KINDS : ["node-redis" as const];
  for (const client of kinds) {
    const label = `cluster: ${spec.nodes.join(" + ")} nodes, ${spec.adapter} adapter` +
      (needsRedis ? `, ${client}` : "") +
      Object.keys(spec.serverOptions ?? {}).map((option) => `, ${option}`).join("") +
      Object.entries(spec.adapterOptions ?? {}).map(([k, v]) => `, ${k} ${v}`).join("") +
      (spec.roundRobin ? `, round-robin ${spec.roundRobin}` : "") +
      (spec.client === "ours" ? ", our client" : "");
    Deno.test(label, async (t) => {
      for (const runtime of new Set(spec.nodes)) {
        const why = await unavailable(runtime);
        if (why) return void console.log(`SKIPPED: ${why}`);
      }
      const found = needsRedis ? await redisUnavailable() : undefined;
      if (typeof found === "string") return void console.log(`SKIPPED: ${found}`);
      const redis = found ? await startRedis(found.exe, found.version) : undefined;
      const nodes = new Nodes(spec, client, redis?.url, {
        ...ADAPTER_DEFAULTS[spec.adapter],
        ...spec.adapterOptions,
      });
      let failure: unknown;
      if (spec.roundRobin) {
        nodes.proxy = new RoundRobinProxy(() =>
          nodes.all.filter((node) => node.running()).map((node) => portOf(node.url))
        );
      }
      try {
        for (const runtime of spec.nodes) await nodes.start(runtime);
        await nodes.counted(spec.nodes.length);
        const only = Deno.env.get("SCENARIO");
        for (const scenario of SCENARIOS) {
          if (only && !scenario.name.includes(only)) continue;
          const lacks = scenario.requires?.filter((c) => !capabilities.has(c)) ?? [];
          if (lacks.length) {
            // Shown, not run: `<name> ... ignored`.
            await t.step({ name: `${scenario.name} (needs ${lacks})`, ignore: true, fn() {} });
            continue;
          }
          if ((scenario.nodes ?? 2) > spec.nodes.length) continue;
          if (scenario.adapters && !scenario.adapters.includes(spec.adapter)) continue;
          if (scenario.needs && !scenario.needs(spec)) continue;
          if (spec.scenarios && !spec.scenarios(scenario)) continue;
          await t.step(scenario.name, () => runOnce(scenario.run, nodes, spec.nodes.length));
        }
      } catch (err) {
        failure = err;
      }
      // Every node stops cleanly, and none of ours reported an error it caught.
      const errors: unknown[] = [];
      for (const node of nodes.all) {
        const out = await node.stop().catch((err) => (errors.push(err), ""));
        if (node.runtime !== "official" && out.includes("socketio-edge: uncaught")) {
          errors.push(new Error(`${node.name} reported:\n${out}`));
        }
      }
      await nodes.proxy?.close();
      await redis?.stop();
      if (failure) throw failure;
      if (errors.length) throw new AggregateError(errors, "a node did not stop cleanly");
    });
  }
}
