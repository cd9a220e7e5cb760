/**
 * The connection benches of issue 14, for `deno task bench --only=idle` and `--only=rooms`:
 * idle WebSocket connections (RSS per connection and heartbeat CPU at several counts, in one
 * process: bench/conns/idle.ts) and the room path (a broadcast to one room among 1,000 rooms of
 * 10 sockets, bench/server/rooms.ts) beside the whole-namespace fan-out, on our server on Deno
 * and Bun and the official server on Node, rounds interleaved.
 *
 *   deno run -A bench/conns.ts [--only=idle,rooms] [--quick] [--rounds=N]
 *     [--connections=2500,5000,10000,19000] [--servers=official_node,ours_deno,ours_bun]
 *
 * prints the markdown (`deno task bench` writes it into BENCHMARKS.md).
 *
 * @module
 */
import { type IdleReading, runIdle } from "./conns/idle.ts";
import { type Figure, rate, small, table } from "./conns/report.ts";
import type { RoomsConfig } from "./server/rooms.ts";
import type { LoadConfig, LoadResult } from "./server/scenarios.ts";
import { bunPath, ensureBenchPackages } from "./server/install.ts";
import {
  type FixturePaths,
  freePort,
  runGenerator,
  runtimeVersion,
  type ServerDef,
  SERVERS,
  startServer,
} from "./server/servers.ts";

/** The servers compared by default: the official one on Node (the baseline), ours on Deno and Bun. */
export const CONNS_SERVERS = ["official_node", "ours_deno", "ours_bun"];

/**
 * Counts reached in one server process here: the largest stays under the hard limit of 20,000
 * open files per process of this machine (a server holds one per connection, plus a few).
 */
export const DEFAULT_COUNTS = [2_500, 5_000, 10_000, 19_000];

/** What the connection benches run. */
export interface ConnsOptions {
  quick: boolean;
  rounds?: number;
  /** Server keys, the first the baseline (default {@linkcode CONNS_SERVERS}). */
  servers?: string[];
  /** Idle counts, ascending (default {@linkcode DEFAULT_COUNTS}; quick: 1,000 and 2,000). */
  counts?: number[];
  /** The heartbeat's `pingInterval` for the idle bench (default 4,000 ms). */
  pingIntervalMs?: number;
}

function pick(keys: string[]): ServerDef[] {
  return keys.map((k) => {
    const def = SERVERS.find((s) => s.key === k);
    if (!def) throw new Error(`no server ${k}: ${SERVERS.map((s) => s.key).join(", ")}`);
    return def;
  });
}

/** Paths for the fixtures run here (none of them is our Node build). */
function paths(): FixturePaths {
  return {
    bun: bunPath(),
    node: {
      get entry(): string {
        throw new Error("our Node build is not part of the connection benches");
      },
      raw: "",
      remove: () => Promise.resolve(),
    },
  };
}

async function environment(): Promise<string> {
  const date = new Date().toISOString().slice(0, 10);
  const cpu = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown CPU";
  return `Measured ${date} on ${navigator.hardwareConcurrency} cores (${cpu}): ` +
    `Deno ${Deno.version.deno}, Bun ${await runtimeVersion(bunPath())}, Node ${await runtimeVersion(
      "node",
    )}; npm socket.io@4.8.4.`;
}

const n = (x: number) => x.toLocaleString("en-US");

/** RSS growth per joined connection over RSS0, in KiB. */
const perConn = (r: IdleReading) => (r.rssKiB - r.rss0KiB) / Math.max(1, r.joined);

/** The idle-connections bench; its markdown. */
export async function runIdleBench(opts: ConnsOptions): Promise<string> {
  await ensureBenchPackages();
  const servers = pick(opts.servers ?? CONNS_SERVERS);
  const counts = opts.counts ?? (opts.quick ? [1_000, 2_000] : DEFAULT_COUNTS);
  const rounds = opts.rounds ?? (opts.quick ? 1 : 2);
  const pingIntervalMs = opts.pingIntervalMs ?? 4000;
  // Three rounds of pings (one when quick), whatever the interval.
  const heartbeatMs = pingIntervalMs * (opts.quick ? 1 : 3);
  const results = await runIdle({
    counts,
    rounds,
    servers,
    paths: paths(),
    pingIntervalMs,
    heartbeatMs,
    perProcess: 10_000,
    perSource: 20_000,
  });
  const ok = (key: string) =>
    (results.get(key) ?? []).filter((r): r is IdleReading[] => typeof r !== "string");
  const at = (key: string, count: number) =>
    ok(key).map((rs) => rs.find((r) => r.count === count)).filter((r): r is IdleReading => !!r);
  const figures: Figure[] = [];
  for (const c of counts) {
    figures.push({
      label: `RSS per connection at ${n(c)} (KiB)`,
      higherIsBetter: false,
      values: (k) => at(k, c).map(perConn),
      format: small,
    });
  }
  for (const c of counts) {
    figures.push({
      label: `heartbeat CPU per 1,000 connections per round at ${n(c)} (µs)`,
      higherIsBetter: false,
      values: (k) => at(k, c).filter((r) => r.pings > 0).map((r) => r.cpuUs / r.pings * 1000),
      format: small,
    });
  }
  const [lo, hi] = counts.slice(-2);
  const marginal = (rs: IdleReading[]) => {
    const a = rs.find((r) => r.count === lo);
    const b = rs.find((r) => r.count === hi);
    return a && b && b.joined > a.joined
      ? (b.rssKiB - a.rssKiB) / (b.joined - a.joined)
      : undefined;
  };
  const marginals = (k: string) => ok(k).map(marginal).filter((x): x is number => x !== undefined);
  if (counts.length > 1) {
    figures.push({
      label: `RSS growth per connection from ${n(lo)} to ${n(hi)} (KiB)`,
      higherIsBetter: false,
      values: marginals,
      format: small,
    });
  }
  figures.push({
    label: `server RSS at ${n(hi)} (MiB)`,
    higherIsBetter: false,
    values: (k) => at(k, hi).map((r) => r.rssKiB / 1024),
    format: small,
  });
  if (hi < 100_000 && counts.length > 1) {
    figures.push({
      label: `<i>extrapolated, not measured:</i> RSS at 100,000 (GiB)`,
      higherIsBetter: false,
      values: (k) =>
        ok(k).flatMap((rs) => {
          const m = marginal(rs);
          const top = rs.find((r) => r.count === hi);
          return m !== undefined && top
            ? [(top.rssKiB + (100_000 - top.joined) * m) / 1024 / 1024]
            : [];
        }),
      format: (x) => x.toFixed(2),
    });
  }
  figures.push({
    label: "clients refused or lost (all counts)",
    higherIsBetter: false,
    ratio: false,
    values: (k) => ok(k).map((rs) => rs.reduce((s, r) => s + r.lost + (r.count - r.joined), 0)),
    format: (x) => x.toFixed(0),
  });
  const failures = [...results].flatMap(([k, rs]) =>
    rs.filter((r): r is string => typeof r === "string").map((r) => `- ${k} failed: ${r}`)
  );
  const notes = [
    `Counts ${counts.map(n).join(" / ")}, reached in turn in one server process; ${rounds} ` +
    `round${rounds > 1 ? "s" : ""}, servers interleaved, best round shown (spread below). ` +
    `pingInterval ${pingIntervalMs} ms for every server; heartbeat CPU is the server's CPU over ` +
    `${heartbeatMs / 1000} s divided by the pings the clients answered in it, times 1,000. ` +
    "RSS per connection is (RSS − RSS0) / N, each read after a forced full GC; RSS0 after a " +
    "warm-up of 500 clients joined and dropped.",
    ...failures,
  ];
  return [await environment(), table(servers, figures), notes.join("\n")].join("\n\n");
}

/** The room path beside the whole-namespace fan-out; its markdown. */
export async function runRoomsBench(opts: ConnsOptions): Promise<string> {
  await ensureBenchPackages();
  const servers = pick(opts.servers ?? CONNS_SERVERS);
  const rounds = opts.rounds ?? (opts.quick ? 1 : 2);
  const window = opts.quick
    ? { warmupMs: 500, measureMs: 2000 }
    : { warmupMs: 1500, measureMs: 6500 };
  const fanout: Omit<LoadConfig, "port" | "pid"> = {
    scenario: "fanout",
    clients: opts.quick ? 200 : 1000,
    inflight: 4,
    ...window,
  };
  const room: Omit<RoomsConfig, "port" | "pid"> = {
    scenario: "rooms",
    rooms: opts.quick ? 100 : 1000,
    perRoom: 10,
    clients: opts.quick ? 1000 : 10_000,
    inflight: 64,
    ...window,
  };
  const load = new URL("./server/load.ts", import.meta.url).pathname;
  const results = new Map<string, { fanout: LoadResult[]; rooms: LoadResult[] }>();
  const problems: string[] = [];
  const port = freePort();
  for (let round = 1; round <= rounds; round++) {
    for (const def of servers) {
      const rs = results.get(def.key) ?? { fanout: [], rooms: [] };
      results.set(def.key, rs);
      const server = await startServer(def, port, paths());
      try {
        for (const cfg of [fanout, room]) {
          const r = await runGenerator<LoadResult>(
            load,
            { ...cfg, port, pid: server.pid },
            90_000 + 5 * cfg.clients + cfg.warmupMs + 2 * cfg.measureMs,
          );
          if (typeof r === "string") {
            problems.push(`${def.label}, ${cfg.scenario}, round ${round}: ${r.slice(0, 200)}`);
            continue;
          }
          (cfg.scenario === "rooms" ? rs.rooms : rs.fanout).push(r);
          console.error(
            `  ${def.key} r${round} ${cfg.scenario}: ${rate(r.ops / r.seconds)}/s, ` +
              `${(r.cpuUs / Math.max(1, r.ops)).toFixed(2)} µs/delivery, p50 ` +
              `${r.p50Ms?.toFixed(1)} ms, errors ${r.errors}`,
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
  const of = (k: string, s: "fanout" | "rooms") => results.get(k)?.[s] ?? [];
  const rows = (s: "fanout" | "rooms", title: string): Figure[] => [
    {
      label: title,
      higherIsBetter: true,
      values: (k) => of(k, s).map((r) => r.ops / r.seconds),
      format: rate,
    },
    {
      label: "&nbsp;&nbsp;latency p50 (ms)",
      higherIsBetter: false,
      values: (k) => of(k, s).map((r) => r.p50Ms ?? NaN),
      format: small,
    },
    {
      label: "&nbsp;&nbsp;latency p99 (ms)",
      higherIsBetter: false,
      values: (k) => of(k, s).map((r) => r.p99Ms ?? NaN),
      format: small,
    },
    {
      label: "&nbsp;&nbsp;server CPU per delivery (µs)",
      higherIsBetter: false,
      values: (k) => of(k, s).filter((r) => r.ops > 0).map((r) => r.cpuUs / r.ops),
      format: small,
    },
    {
      label: "&nbsp;&nbsp;<i>load generator CPU (% of a core)</i>",
      higherIsBetter: false,
      ratio: false,
      values: (k) => of(k, s).map((r) => (r.loadCpuUs ?? NaN) / r.seconds / 1e4),
      format: (x) => x.toFixed(0),
    },
    {
      label: "&nbsp;&nbsp;errors (lost clients, abandoned broadcasts)",
      higherIsBetter: false,
      ratio: false,
      values: (k) => of(k, s).map((r) => r.errors),
      format: (x) => x.toFixed(0),
    },
  ];
  const figures = [
    ...rows(
      "fanout",
      `deliveries/s, fan-out to the namespace (${n(fanout.clients)} clients, ` +
        `${fanout.inflight} broadcasts under way)`,
    ),
    ...rows(
      "rooms",
      `deliveries/s, room path (${n(room.rooms)} rooms × ${room.perRoom}, ` +
        `${room.inflight} room broadcasts under way)`,
    ),
  ];
  const notes = [
    `${rounds} round${rounds > 1 ? "s" : ""}, servers interleaved, best round shown. Both ` +
    "loads against the same server process, one after the other; " +
    `${window.warmupMs / 1000} s warm-up + ${window.measureMs / 1000} s each. The room path: ` +
    'each broadcast is `io.to("r<k>").emit("bcast", p)` to the next room in turn, sent by a ' +
    "client (raw WebSocket, bench/server/wire.ts); a new one leaves when every member of its " +
    "room received it.",
    ...problems.map((p) => `- ${p}`),
  ];
  return [await environment(), table(servers, figures), notes.join("\n")].join("\n\n");
}

if (import.meta.main) {
  const arg = (name: string) =>
    Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const only = arg("only")?.split(",") ?? ["idle", "rooms"];
  const opts: ConnsOptions = {
    quick: Deno.args.includes("--quick"),
    rounds: arg("rounds") ? Number(arg("rounds")) : undefined,
    servers: arg("servers")?.split(","),
    counts: arg("connections")?.split(",").map(Number),
    pingIntervalMs: arg("ping-interval") ? Number(arg("ping-interval")) : undefined,
  };
  if (only.includes("idle")) console.log(await runIdleBench(opts));
  if (only.includes("rooms")) console.log(await runRoomsBench(opts));
}
