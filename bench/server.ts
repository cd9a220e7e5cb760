/**
 * The server bench (issues #6 and #11): our server on Deno, Bun and Node, the official npm
 * `socket.io` on Node and on Bun (bun-engine), and raw ceilings, one after the other on the
 * same port, against one load generator that speaks the wire protocol itself
 * (bench/server/load.ts).
 *
 * Rounds interleave the servers (A, B, ..., then A, B, ... again) so that a noisy moment of a
 * shared machine does not hit a single server; the best round is kept and the spread reported.
 *
 *   deno run -A bench/server.ts [--quick] [--rounds=N] [--servers=key,key]   prints the markdown
 *
 * @module
 */
import {
  BENCH_DIR,
  buildNodeFixtures,
  bunPath,
  ensureBenchPackages,
  type NodeFixtures,
} from "./server/install.ts";
import { nodeTable, type Rounds, tables } from "./server/report.ts";
import type { LoadConfig, LoadResult } from "./server/scenarios.ts";
import {
  freePort,
  runGenerator,
  type Running,
  runtimeVersion,
  type ServerDef,
  SERVERS,
  startServer,
} from "./server/servers.ts";
import { removeWorkers } from "./server/workers.ts";

type Scenario = LoadConfig["scenario"];
type Sizes = Record<Scenario, Omit<LoadConfig, "port" | "pid">>;

/** Full run: about 8 s per scenario (warm-up included); 2 rounds of 9 servers, ~9 minutes. */
const FULL: Sizes = {
  acks: { scenario: "acks", clients: 50, inflight: 10, warmupMs: 1500, measureMs: 6500 },
  fanout: { scenario: "fanout", clients: 1000, inflight: 4, warmupMs: 1500, measureMs: 6500 },
  storm: { scenario: "storm", clients: 2000, inflight: 100, warmupMs: 500, measureMs: 1500 },
  polling: { scenario: "polling", clients: 50, inflight: 4, warmupMs: 1500, measureMs: 6500 },
  polling1: { scenario: "polling1", clients: 50, inflight: 1, warmupMs: 1500, measureMs: 6500 },
};

/** Quick run (a smoke test): smaller loads, 2 s windows, one round; about a minute. */
const QUICK: Sizes = {
  acks: { scenario: "acks", clients: 20, inflight: 10, warmupMs: 500, measureMs: 2000 },
  fanout: { scenario: "fanout", clients: 200, inflight: 4, warmupMs: 500, measureMs: 2000 },
  storm: { scenario: "storm", clients: 500, inflight: 100, warmupMs: 300, measureMs: 500 },
  polling: { scenario: "polling", clients: 20, inflight: 4, warmupMs: 500, measureMs: 2000 },
  polling1: { scenario: "polling1", clients: 20, inflight: 1, warmupMs: 500, measureMs: 2000 },
};

const ORDER: Scenario[] = ["acks", "fanout", "storm", "polling", "polling1"];
const LOAD = new URL("./server/load.ts", import.meta.url).pathname;

/** Runs the generator in its own process; a failure comes back as a string. */
function runLoad(cfg: LoadConfig): Promise<LoadResult | string> {
  return runGenerator<LoadResult>(LOAD, cfg, 60_000 + cfg.warmupMs + 2 * cfg.measureMs);
}

function summary(r: LoadResult | string): string {
  if (typeof r === "string") return `FAILED: ${r}`;
  const rate = (r.ops / r.seconds).toFixed(0);
  const cpu = r.ops > 0 ? (r.cpuUs / r.ops).toFixed(1) : "-";
  const lat = r.p50Ms !== undefined && Number.isFinite(r.p50Ms)
    ? ` p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms?.toFixed(2)} ms`
    : "";
  const rss = r.rssPerConnKiB !== undefined ? ` rss/conn ${r.rssPerConnKiB.toFixed(1)} KiB` : "";
  const errs = r.errors > 0 ? ` errors ${r.errors}` : "";
  return `${rate}/s cpu ${cpu} µs/op${lat}${rss}${errs}`;
}

async function environment(): Promise<string> {
  const date = new Date().toISOString().slice(0, 10);
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown CPU";
  const node = await runtimeVersion("node");
  const bun = await runtimeVersion(bunPath());
  return `Measured ${date} on ${navigator.hardwareConcurrency} cores (${cpu}), ` +
    `${Deno.build.os}/${Deno.build.arch}: Deno ${Deno.version.deno}, Bun ${bun}, Node ${node}; ` +
    "npm socket.io@4.8.4, @socket.io/bun-engine@0.1.2, ws@8.23.1.";
}

function notes(sizes: Sizes, rounds: number, problems: string[]): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const ms = (s: Scenario) =>
    `${sizes[s].warmupMs / 1000} s warm-up + ${sizes[s].measureMs / 1000} s`;
  const { acks, fanout, storm } = sizes;
  const kept = rounds === 1
    ? "One round (quick run), so no spread"
    : `${rounds} rounds, servers interleaved; each figure is the best round (highest rate, ` +
      "lowest latency / CPU / memory)";
  return [
    "Notes:",
    "- Node: our server is the built Node entry (`@socketio-edge/core/node`, scripts/" +
    "build_node.ts) as `new Server(httpServer)`, its fixture the official one's but for the " +
    "import; the raw ceiling on Node is a bare `node:http` server with npm `ws` (the library " +
    "of both Node servers, same version). The Node table gives ours / official and ours / " +
    "ceiling for each figure, from the same rounds.",
    '- Every server runs the same app: "echo" acks its arguments, "broadcast" does ' +
    '`io.emit("bcast", p)`. One Deno process generates the load over raw `WebSocket` and ' +
    "`fetch`, speaking Engine.IO v4 / Socket.IO v5 itself (bench/server/load.ts); servers run " +
    "one after the other on the same loopback port.",
    `- ${kept}. Ratios are to the official server on Node: above 1 is better for rates, ` +
    "below 1 for latency, CPU and memory.",
    "- Server CPU is user + system time of the server's process tree from /proc (10 ms ticks) " +
    "over the measured window. On 2 cores the load generator (its own CPU is shown) is often " +
    "the bottleneck, so CPU per operation is the fairer comparison than the rate.",
    `- Acks: each client keeps ${acks.inflight} \`42<id>["echo",{..}]\` under way ` +
    `(${ms("acks")}). Fan-out: ${fanout.inflight} broadcasts under way, the next one sent as ` +
    `soon as all ${n(fanout.clients)} clients received one; latency per delivery ` +
    `(${ms("fanout")}). Long-polling: one GET always pending per session, queued packets ` +
    `leave in one POST (${ms("polling")}); with ${sizes.polling.inflight} acks in flight per ` +
    "session they batch, with 1 each ack is one POST and one held GET, as a client that waits " +
    `for each answer talks (${ms("polling1")}).`,
    `- Connect storm: ${n(storm.clients)} WebSocket handshakes (open, \`40\`, \`40{sid}\`), ` +
    `${storm.inflight} at once, after a warm-up of a tenth as many. Memory per idle ` +
    "connection is the growth of the tree's VmRSS, each read after a forced full GC (the " +
    "fixtures collect on SIGUSR2), divided by the count: allocator slack included.",
    "- Raw ceilings frame just enough of the protocol by string manipulation, over WebSocket and " +
    "long-polling (no heartbeat, no validation): each runtime's ceiling. The Bun one broadcasts " +
    "with Bun's native `server.publish`. The Deno one with JSON (acks only) runs each echo " +
    "through `JSON.parse` and `JSON.stringify`: the least a server does to hand arguments to " +
    "an app as values.",
    ...problems.map((p) => `- ${p}`),
  ].join("\n");
}

/** What {@linkcode runServerBench} runs. */
export interface ServerBenchOptions {
  /** Shorter loads, one round. */
  quick: boolean;
  /** Rounds (default 2, 1 when quick). */
  rounds?: number;
  /** The servers, in column order (default all); the first is the baseline of the ratios. */
  servers?: ServerDef[];
  /** The scenarios (default all, `--scenarios=polling1,acks`): a subset leaves the rest out. */
  scenarios?: Scenario[];
}

/** The scenarios listed (`--scenarios=polling,polling1`), in the bench's order; all by default. */
export function pickScenarios(names: string[] | undefined): Scenario[] {
  if (!names) return ORDER;
  for (const n of names) {
    if (!(ORDER as string[]).includes(n)) throw new Error(`no scenario ${n}: ${ORDER.join(", ")}`);
  }
  return ORDER.filter((s) => names.includes(s));
}

/** The servers whose keys are listed (`--servers=official_node,ours_node`), in that order. */
export function pickServers(keys: string[] | undefined): ServerDef[] {
  if (!keys) return SERVERS;
  return keys.map((k) => {
    const def = SERVERS.find((s) => s.key === k);
    if (!def) throw new Error(`no server ${k}: ${SERVERS.map((s) => s.key).join(", ")}`);
    return def;
  });
}

/** The value of `--name=value` in `args`. */
export function argValue(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The server bench's markdown. */
export interface ServerBenchResult {
  /** Environment, the tables of every server that ran, and notes. */
  server: string;
  /** Environment and the Node table, when ours ran on Node. */
  node: string | undefined;
  /** Whether every server ran (not a `--servers` subset): only then is `server` the full table. */
  complete: boolean;
}

/** Runs the server bench and returns its markdown (environment, tables, notes). */
export async function runServerBench(opts: ServerBenchOptions): Promise<ServerBenchResult> {
  await ensureBenchPackages();
  // A server that cannot run here (workerd not installable, say) is left out, with why.
  const servers: ServerDef[] = [];
  const skipped: string[] = [];
  for (const def of opts.servers ?? SERVERS) {
    const why = await def.prepare?.();
    if (why) skipped.push(`${def.label} skipped: ${why}`);
    else servers.push(def);
  }
  const sizes = opts.quick ? QUICK : FULL;
  const rounds = opts.rounds ?? (opts.quick ? 1 : 2);
  const node: NodeFixtures = await buildNodeFixtures();
  try {
    const scenarios = opts.scenarios ?? ORDER;
    const result = await run(sizes, rounds, servers, node, skipped, scenarios);
    return {
      ...result,
      complete: SERVERS.every((s) => servers.includes(s)) && scenarios.length === ORDER.length,
    };
  } finally {
    await node.remove();
  }
}

async function run(
  sizes: Sizes,
  rounds: number,
  servers: ServerDef[],
  node: NodeFixtures,
  skipped: string[],
  scenarios: Scenario[],
): Promise<Omit<ServerBenchResult, "complete">> {
  const paths = { bun: bunPath(), node };
  const port = freePort();
  const results = new Map<string, Rounds>();
  const problems: string[] = [];
  const logDir = `${BENCH_DIR}logs/`;
  await Deno.mkdir(logDir, { recursive: true });

  for (let round = 1; round <= rounds; round++) {
    for (const def of servers) {
      const rs = results.get(def.key) ?? new Map();
      results.set(def.key, rs);
      const record = (s: Scenario, r: LoadResult | string) => {
        rs.set(s, [...(rs.get(s) ?? []), r]);
        console.error(`  ${def.key} r${round} ${s}: ${summary(r)}`);
      };
      let server: Running | undefined;
      const logs: string[] = [];
      try {
        for (const s of scenarios) {
          if (def.scenarios && !def.scenarios.includes(s)) continue;
          if (!server) {
            try {
              server = await startServer(def, port, paths);
            } catch (err) {
              record(s, String(err));
              continue;
            }
          }
          const r = await runLoad({ ...sizes[s], port, pid: server.pid });
          if (server.exited()) {
            // A crash: the figures are meaningless, and the next scenario gets a new server.
            const tail = server.log().trim().split("\n").slice(-3).join(" / ").slice(-300);
            problems.push(`${def.label} exited during ${s}, round ${round}: ${tail}`);
            record(s, "server exited");
            await server.stop();
            logs.push(server.log());
            server = undefined;
            continue;
          }
          if (typeof r !== "string" && r.errors > 0) {
            problems.push(`${def.label}, round ${round}, ${s}: ${r.errors} errors.`);
          }
          record(s, r);
        }
      } finally {
        if (server) {
          await server.stop();
          logs.push(server.log());
        }
        await Deno.writeTextFile(`${logDir}${def.key}-r${round}.log`, logs.join("\n---\n"));
      }
    }
  }
  await removeWorkers();
  const cfgs = Object.fromEntries(
    ORDER.map((s) => [s, { ...sizes[s], port, pid: 0 }]),
  ) as Record<Scenario, LoadConfig>;
  const env = await environment();
  const nodeRows = nodeTable(servers, results, cfgs);
  return {
    server: [
      env,
      tables(servers, results, cfgs),
      notes(sizes, rounds, [...problems, ...workersRatio(results), ...skipped]),
    ].join("\n\n"),
    node: nodeRows
      ? [
        env,
        nodeRows,
        `${rounds === 1 ? "One round" : `${rounds} rounds, each figure the best`}; the method ` +
        "is the servers table's (its notes; same fixtures, loads and CPU readings)." +
        (problems.length ? ` ${problems.join(" ")}` : ""),
      ].join("\n\n")
      : undefined,
  };
}

/**
 * Our Durable Object against the bare one, the goal on Workers (at least 0.8): the best round's
 * rate of each, per scenario.
 */
function workersRatio(results: Map<string, Rounds>): string[] {
  const best = (key: string, s: Scenario) => {
    const rates = (results.get(key)?.get(s) ?? [])
      .filter((r): r is LoadResult => typeof r !== "string" && r.ops > 0)
      .map((r) => r.ops / r.seconds);
    return rates.length ? Math.max(...rates) : undefined;
  };
  const out: string[] = [];
  for (const s of ["acks", "fanout"] as const) {
    const ours = best("ours_workers", s);
    const raw = best("raw_workers", s);
    if (ours && raw) {
      out.push(`Workers, ${s}: our Durable Object at ${(ours / raw).toFixed(2)}× the bare one.`);
    }
  }
  return out;
}

if (import.meta.main) {
  const rounds = argValue(Deno.args, "rounds");
  const { server, node } = await runServerBench({
    quick: Deno.args.includes("--quick"),
    rounds: rounds ? Number(rounds) : undefined,
    // `--servers=a,b`: those, in that order (the first is the baseline); `--only=a,b`: those
    // after the official server on Node.
    servers: argValue(Deno.args, "only")
      ? pickServers([SERVERS[0].key, ...argValue(Deno.args, "only")!.split(",")])
      : pickServers(argValue(Deno.args, "servers")?.split(",")),
    scenarios: pickScenarios(argValue(Deno.args, "scenarios")?.split(",")),
  });
  console.log(node ? `${server}\n\n${node}` : server);
}
