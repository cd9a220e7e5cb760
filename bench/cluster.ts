/**
 * The cluster bench (issue #12): two nodes on one redis-server, clients split across them,
 * broadcasts to everyone and to one room; deliveries/s, server CPU per delivery and Redis
 * publishes per broadcast, for our nodes on Deno and on Bun and the official socket.io with
 * `@socket.io/redis-adapter` on Node (the classic adapter on all, npm `redis` as the client).
 * Then the BroadcastChannel adapter between two Deno workers of one process against the same
 * broadcast in one worker. Rounds interleave the setups; the best round is kept.
 *
 *   deno run -A bench/cluster.ts [--quick] [--rounds=N] [--adapter=classic|sharded] [--only=k,k]
 *
 * prints the markdown (`deno task bench` writes it into BENCHMARKS.md).
 *
 * @module
 */
import { officialRedisModules } from "../tests/helpers/official_redis.ts";
import { type RedisServer, redisUnavailable, startRedis } from "../tests/helpers/redis.ts";
import type { ClusterLoadConfig, ClusterLoadResult } from "./cluster/load.ts";
import { redisPid } from "./cluster/redis_info.ts";
import { bunPath, ensureBenchPackages } from "./server/install.ts";
import {
  type FixturePaths,
  freePort,
  runGenerator,
  type Running,
  runtimeVersion,
  startServer,
} from "./server/servers.ts";

type Scenario = ClusterLoadConfig["scenario"];
type Size = Pick<
  ClusterLoadConfig,
  "clients" | "inflight" | "warmupMs" | "measureMs" | "checkBroadcasts"
>;

const FULL: Size = {
  clients: 400,
  inflight: 4,
  warmupMs: 1500,
  measureMs: 5000,
  checkBroadcasts: 200,
};
const QUICK: Size = {
  clients: 100,
  inflight: 4,
  warmupMs: 500,
  measureMs: 2000,
  checkBroadcasts: 50,
};

const fixture = (name: string) => new URL(`./cluster/fixtures/${name}`, import.meta.url).pathname;
const LOAD = new URL("./cluster/load.ts", import.meta.url).pathname;

/** What a setup's processes are started with. */
interface Context {
  redis?: RedisServer;
  adapter: string;
  modules: string;
  bun: string;
}

/** One setup under test: its processes, each serving some of the ports. */
interface ClusterDef {
  key: string;
  label: string;
  /** Whether its nodes share the redis-server. */
  redis: boolean;
  scenarios: Scenario[];
  /** The processes to start for `ports`: each an argv and the port it takes as PORT. */
  processes(ports: number[], ctx: Context): { argv: string[]; port: number }[];
  /** How many ports it serves. */
  nodes: number;
}

const env = (ctx: Context, extra: string[] = []) => [
  "env",
  `REDIS_URL=${ctx.redis?.url ?? ""}`,
  `ADAPTER=${ctx.adapter}`,
  `MODULES=${ctx.modules}`,
  `NODE_PATH=${ctx.modules}`,
  ...extra,
];
// CLUSTER_DENO_FLAGS (space-separated, such as `--v8-flags=--perf-basic-prof` for `perf`) go to
// every Deno node: for profiling a setup, never set by the bench itself.
const denoFlags = (Deno.env.get("CLUSTER_DENO_FLAGS") ?? "").split(" ").filter((f) => f !== "");
const deno = (name: string) => [
  Deno.execPath(),
  "run",
  "-A",
  "--no-prompt",
  ...denoFlags,
  fixture(name),
];

/** The Redis setups, official first: every ratio is taken against it. */
const REDIS_SETUPS: ClusterDef[] = [
  {
    key: "official_node",
    label: "official, Node",
    redis: true,
    scenarios: ["all", "room"],
    nodes: 2,
    processes: (ports, ctx) =>
      ports.map((port) => ({ argv: [...env(ctx), "node", fixture("official_node.mjs")], port })),
  },
  {
    key: "ours_deno",
    label: "socketio-edge, Deno",
    redis: true,
    scenarios: ["all", "room"],
    nodes: 2,
    processes: (ports, ctx) =>
      ports.map((port) => ({ argv: [...env(ctx), ...deno("ours_deno.ts")], port })),
  },
  {
    key: "raw_deno",
    label: "raw ceiling, Deno",
    redis: true,
    scenarios: ["all", "room"],
    nodes: 2,
    processes: (ports, ctx) =>
      ports.map((port) => ({ argv: [...env(ctx), ...deno("raw_deno.ts")], port })),
  },
  {
    key: "ours_bun",
    label: "socketio-edge, Bun",
    redis: true,
    scenarios: ["all", "room"],
    nodes: 2,
    processes: (ports, ctx) =>
      ports.map((port) => ({
        argv: [...env(ctx), ctx.bun, "run", fixture("ours_bun.ts")],
        port,
      })),
  },
  {
    key: "raw_bun",
    label: "raw ceiling, Bun",
    redis: true,
    scenarios: ["all", "room"],
    nodes: 2,
    processes: (ports, ctx) =>
      ports.map((port) => ({
        argv: [...env(ctx), ctx.bun, "run", fixture("raw_bun.ts")],
        port,
      })),
  },
];

/** Ours against the raw ceiling of the same runtime: [ours, ceiling]. */
const CEILINGS: [string, string][] = [["ours_deno", "raw_deno"], ["ours_bun", "raw_bun"]];

/** BroadcastChannel: two workers of one Deno process against one worker alone. */
const CHANNEL_SETUPS: ClusterDef[] = [
  {
    key: "one_worker",
    label: "one Deno worker",
    redis: false,
    scenarios: ["all"],
    nodes: 1,
    processes: (ports, ctx) => [{
      argv: [...env(ctx, [`PORTS=${ports.join(",")}`]), ...deno("channel_deno.ts")],
      port: ports[0],
    }],
  },
  {
    key: "two_workers",
    label: "two Deno workers, BroadcastChannel",
    redis: false,
    scenarios: ["all"],
    nodes: 2,
    processes: (ports, ctx) => [{
      argv: [...env(ctx, [`PORTS=${ports.join(",")}`]), ...deno("channel_deno.ts")],
      port: ports[0],
    }],
  },
];

/** Runs the generator in its own process; a failure comes back as a string. */
function runLoad(cfg: ClusterLoadConfig): Promise<ClusterLoadResult | string> {
  return runGenerator<ClusterLoadResult>(LOAD, cfg, 90_000 + cfg.warmupMs + 2 * cfg.measureMs);
}

/** Starts a setup's processes; all or none. */
async function startSetup(def: ClusterDef, ports: number[], ctx: Context): Promise<Running[]> {
  const running: Running[] = [];
  try {
    for (const p of def.processes(ports, ctx)) {
      // The argv is complete: the fixture paths of the server bench are not needed.
      const server = { key: def.key, label: def.label, command: () => p.argv };
      running.push(await startServer(server, p.port, { bun: ctx.bun } as FixturePaths));
    }
    return running;
  } catch (err) {
    await Promise.all(running.map((r) => r.stop()));
    throw err;
  }
}

type Results = Map<string, (ClusterLoadResult | string)[]>;

function summary(r: ClusterLoadResult | string): string {
  if (typeof r === "string") return `FAILED: ${r}`;
  const cpu = r.ops > 0 ? (r.cpuUs / r.ops).toFixed(2) : "-";
  const pub = r.publishesPerBroadcast !== undefined
    ? ` publishes/broadcast ${r.publishesPerBroadcast.toFixed(2)}`
    : "";
  return `${(r.ops / r.seconds).toFixed(0)} deliveries/s cpu ${cpu} µs/delivery${pub}` +
    (r.errors ? ` errors ${r.errors}` : "");
}

/** The best round of a setup's scenario: highest rate, lowest CPU per delivery. */
function best(rounds: (ClusterLoadResult | string)[] | undefined) {
  const ok = (rounds ?? []).filter((r): r is ClusterLoadResult => typeof r !== "string");
  if (ok.length === 0) return undefined;
  const rates = ok.map((r) => r.ops / r.seconds);
  const cpus = ok.filter((r) => r.ops > 0).map((r) => r.cpuUs / r.ops);
  const redis = ok.filter((r) => r.ops > 0 && r.redisCpuUs !== undefined)
    .map((r) => r.redisCpuUs! / r.ops);
  const gen = ok.map((r) => r.loadCpuUs / r.seconds / 1e4);
  const pubs = ok.map((r) => r.publishesPerBroadcast).filter((p) => p !== undefined);
  const spread = (xs: number[]) =>
    xs.length > 1 ? (Math.max(...xs) - Math.min(...xs)) / Math.max(...xs) : 0;
  return {
    rate: Math.max(...rates),
    cpu: cpus.length ? Math.min(...cpus) : NaN,
    redis: redis.length ? Math.min(...redis) : NaN,
    gen: Math.min(...gen),
    publishes: pubs.length ? Math.max(...pubs) : NaN,
    spread: spread(rates),
    errors: ok.reduce((n, r) => n + r.errors, 0),
  };
}

const num = (n: number, digits = 2) => Number.isFinite(n) ? n.toFixed(digits) : "-";
const rate = (n: number) => n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} k`;

type Best = NonNullable<ReturnType<typeof best>>;

/** One row per figure and scenario, one column per setup, ratios to the first column. */
function table(defs: ClusterDef[], results: Map<string, Results>, scenarios: Scenario[]): string {
  const lines = [
    `| figure | ${defs.map((d) => d.label).join(" | ")} |`,
    `| --- |${defs.map(() => " ---: |").join("")}`,
  ];
  const onRedis = defs.some((d) => d.redis);
  const aside = (label: string) => `&nbsp;&nbsp;<i>${label}</i>`;
  for (const s of scenarios) {
    const what = s === "all" ? "to everyone" : "to one room (half the clients)";
    // [label, value, digits (undefined: a rate), whether a ratio means something]
    const rows: [string, (b: Best) => number, number | undefined, boolean][] = [
      [`deliveries/s, broadcast ${what}`, (b) => b.rate, undefined, true],
      [`server CPU per delivery (µs), ${what}`, (b) => b.cpu, 2, true],
      ...(onRedis
        ? [
          [aside("redis-server CPU per delivery (µs)"), (b: Best) => b.redis, 2, false],
          [aside("Redis publishes per broadcast"), (b: Best) => b.publishes, 2, false],
        ] as [string, (b: Best) => number, number, boolean][]
        : []),
      [aside("load generator CPU (% of a core)"), (b) => b.gen, 0, false],
      [aside("spread of deliveries/s between rounds (%)"), (b) => b.spread * 100, 0, false],
    ];
    const base = best(results.get(defs[0].key)?.get(s));
    for (const [label, value, digits, ratio] of rows) {
      const cells = defs.map((d, i) => {
        const b = best(results.get(d.key)?.get(s));
        if (!b) return "failed";
        const v = value(b);
        const shown = digits === undefined ? rate(v) : num(v, digits);
        const r = base ? v / value(base) : NaN;
        return i > 0 && ratio && Number.isFinite(r) ? `${shown} (${r.toFixed(2)}x)` : shown;
      });
      lines.push(`| ${label} | ${cells.join(" | ")} |`);
    }
  }
  return lines.join("\n");
}

/** Ours against the raw ceiling of its runtime, where both ran: CPU per delivery and rate. */
function ceilingLines(results: Map<string, Results>): string[] {
  const lines: string[] = [];
  const label = (key: string) => REDIS_SETUPS.find((d) => d.key === key)?.label ?? key;
  for (const [ours, raw] of CEILINGS) {
    for (const s of ["all", "room"] as Scenario[]) {
      const a = best(results.get(ours)?.get(s));
      const b = best(results.get(raw)?.get(s));
      if (!a || !b) continue;
      lines.push(
        `- ${label(ours)} against ${label(raw)}, ${s === "all" ? "to everyone" : "to one room"}: ` +
          `${(a.cpu / b.cpu).toFixed(2)}x its CPU per delivery, ` +
          `${(a.rate / b.rate).toFixed(2)}x its deliveries/s.`,
      );
    }
  }
  return lines;
}

/** What {@linkcode runClusterBench} runs. */
export interface ClusterBenchOptions {
  quick: boolean;
  rounds?: number;
  /** The Redis adapter of every node: "classic" (default) or "sharded". */
  adapter?: string;
  /** Only the setups of these keys (a smoke run); default all. */
  only?: string[];
}

/** Runs the cluster bench and returns its markdown, or why it could not run. */
export async function runClusterBench(opts: ClusterBenchOptions): Promise<string> {
  const found = await redisUnavailable();
  if (typeof found === "string") return `Cluster bench skipped: ${found}.`;
  await ensureBenchPackages();
  const modules = await officialRedisModules();
  const size = opts.quick ? QUICK : FULL;
  const rounds = opts.rounds ?? (opts.quick ? 1 : 2);
  const adapter = opts.adapter ?? "classic";
  const ctx: Context = { adapter, modules, bun: bunPath() };
  const results = new Map<string, Results>();
  const problems: string[] = [];
  const ports = [freePort(), freePort()];
  for (let round = 1; round <= rounds; round++) {
    for (const def of [...REDIS_SETUPS, ...CHANNEL_SETUPS]) {
      if (opts.only && !opts.only.includes(def.key)) continue;
      const rs: Results = results.get(def.key) ?? new Map();
      results.set(def.key, rs);
      // A fresh redis-server per setup: nothing left subscribed by the one before.
      const redis = def.redis ? await startRedis(found.exe, found.version) : undefined;
      let running: Running[] = [];
      try {
        const mine = ports.slice(0, def.nodes);
        running = await startSetup(def, mine, { ...ctx, redis });
        for (const s of def.scenarios) {
          const r = await runLoad({
            ...size,
            scenario: s,
            ports: mine,
            pids: running.map((x) => x.pid),
            redis: redis ? { port: redis.port, pid: await redisPid(redis.port) } : undefined,
            checkBroadcasts: redis ? size.checkBroadcasts : 0,
          });
          if (running.some((x) => x.exited())) {
            problems.push(`${def.label} exited during ${s}, round ${round}.`);
          } else if (typeof r !== "string" && r.errors > 0) {
            problems.push(`${def.label}, round ${round}, ${s}: ${r.errors} errors.`);
          }
          rs.set(s, [...(rs.get(s) ?? []), r]);
          console.error(`  ${def.key} r${round} ${s}: ${summary(r)}`);
        }
      } catch (err) {
        problems.push(`${def.label}, round ${round}: ${String(err).slice(0, 300)}`);
        console.error(`  ${def.key} r${round}: ${err}`);
      } finally {
        await Promise.all(running.map((x) => x.stop()));
        await redis?.stop();
      }
    }
  }
  const date = new Date().toISOString().slice(0, 10);
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown CPU";
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")
    .slice(0, 3).join(" ");
  const n = (x: number) => x.toLocaleString("en-US");
  const ran = (def: ClusterDef) => results.has(def.key);
  return [
    `Measured ${date} on ${navigator.hardwareConcurrency} cores (${cpu}), load average ` +
    `${load} at the end: Deno ${Deno.version.deno}, Bun ${await runtimeVersion(ctx.bun)}, ` +
    `Node ${await runtimeVersion("node")}, redis-server ${found.version}; npm socket.io@4.8.4, ` +
    `@socket.io/redis-adapter@8.3.0, redis (node-redis) as every node's client.`,
    `Two nodes on one redis-server (the ${adapter} adapter on each), ${n(size.clients)} ` +
    `WebSocket clients split across them, ${size.inflight} broadcasts under way (each sent by ` +
    "the next client in turn, so from both nodes; the next leaves once every receiver got one); " +
    `${size.warmupMs / 1000} s warm-up + ${size.measureMs / 1000} s.`,
    table(REDIS_SETUPS.filter(ran), results, ["all", "room"]),
    ...(CHANNEL_SETUPS.some(ran)
      ? [
        `BroadcastChannel: the same broadcast to everyone, ${n(size.clients)} clients on one ` +
        "Deno worker (in-memory adapter) against two workers of one process (the " +
        "BroadcastChannel adapter), clients split; CPU is the whole process's.",
        table(CHANNEL_SETUPS.filter(ran), results, ["all"]),
      ]
      : []),
    [
      "Notes:",
      `- ${rounds === 1 ? "One round (quick run)" : `${rounds} rounds, setups interleaved`}; ` +
      "each figure is the best round. Ratios are to the first column.",
      "- Server CPU is user + system time of both nodes' process trees from /proc (10 ms " +
      "ticks) over the window; the redis-server's is shown apart. On 2 shared cores the load " +
      "generator is often the bottleneck: CPU per delivery is the fairer figure.",
      `- Publishes per broadcast: after the window, exactly ${size.checkBroadcasts} broadcasts, ` +
      "all delivered, against the growth of `cmdstat_publish` + `cmdstat_spublish` in " +
      "`INFO commandstats` (nothing else publishes then).",
      ...ceilingLines(results),
      ...problems.map((p) => `- ${p}`),
    ].join("\n"),
  ].join("\n\n");
}

if (import.meta.main) {
  const arg = (name: string) =>
    Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  console.log(
    await runClusterBench({
      quick: Deno.args.includes("--quick"),
      rounds: arg("rounds") ? Number(arg("rounds")) : undefined,
      adapter: arg("adapter"),
      only: arg("only")?.split(","),
    }),
  );
}
