/**
 * The markdown of the server bench: one row per figure, one column per server, each figure the
 * best of the rounds with its ratio to the official server on Node, then the spread between
 * rounds so that readers see the noise.
 *
 * @module
 */
import type { LoadConfig, LoadResult } from "./scenarios.ts";
import type { ServerDef } from "./servers.ts";

/** The rounds of each scenario on one server; a string is a failed round. */
export type Rounds = Map<LoadConfig["scenario"], (LoadResult | string)[]>;

interface Figure {
  label: string;
  scenario: LoadConfig["scenario"];
  higherIsBetter: boolean;
  /** Whether a ratio to the official server means anything (not for the generator's CPU). */
  ratio: boolean;
  value: (r: LoadResult) => number | undefined;
  format: (n: number) => string;
}

function rate(n: number): string {
  if (n >= 1e6) return (n / 1e6).toFixed(2) + " M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + " k";
  return n.toFixed(0);
}

function small(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

const perSecond = (r: LoadResult) => r.ops / r.seconds;
const cpuPerOp = (r: LoadResult) => (r.ops > 0 ? r.cpuUs / r.ops : undefined);
const loadCpu = (r: LoadResult) => (r.loadCpuUs ?? NaN) / r.seconds / 1e4;

/** The table's rows; `sizes` names the loads in the labels. */
function figures(sizes: Record<LoadConfig["scenario"], LoadConfig>): Figure[] {
  const { acks, fanout, storm, polling, polling1 } = sizes;
  const n = (x: number) => x.toLocaleString("en-US");
  const f = (
    label: string,
    scenario: LoadConfig["scenario"],
    higherIsBetter: boolean,
    value: Figure["value"],
    format = small,
  ): Figure => ({ label, scenario, higherIsBetter, ratio: true, value, format });
  const gen = (scenario: LoadConfig["scenario"]): Figure => ({
    label: "&nbsp;&nbsp;<i>load generator CPU (% of a core)</i>",
    scenario,
    higherIsBetter: false,
    ratio: false,
    value: loadCpu,
    format: (n) => n.toFixed(0),
  });
  return [
    f(
      `acks/s over WebSocket (${acks.clients} clients × ${acks.inflight})`,
      "acks",
      true,
      perSecond,
      rate,
    ),
    f("&nbsp;&nbsp;latency p50 (ms)", "acks", false, (r) => r.p50Ms),
    f("&nbsp;&nbsp;latency p99 (ms)", "acks", false, (r) => r.p99Ms),
    f("&nbsp;&nbsp;server CPU per ack (µs)", "acks", false, cpuPerOp),
    gen("acks"),
    f(
      `deliveries/s, fan-out (${n(fanout.clients)} clients, ${fanout.inflight} broadcasts)`,
      "fanout",
      true,
      perSecond,
      rate,
    ),
    f("&nbsp;&nbsp;latency p50 (ms)", "fanout", false, (r) => r.p50Ms),
    f("&nbsp;&nbsp;latency p99 (ms)", "fanout", false, (r) => r.p99Ms),
    f("&nbsp;&nbsp;server CPU per delivery (µs)", "fanout", false, cpuPerOp),
    gen("fanout"),
    f(
      `handshakes/s (${n(storm.clients)}, ${storm.inflight} at once)`,
      "storm",
      true,
      perSecond,
      rate,
    ),
    f("&nbsp;&nbsp;server CPU per handshake (µs)", "storm", false, cpuPerOp),
    f("&nbsp;&nbsp;RSS per idle connection (KiB)", "storm", false, (r) => r.rssPerConnKiB),
    f(
      `acks/s over long-polling (${polling.clients} sessions × ${polling.inflight})`,
      "polling",
      true,
      perSecond,
      rate,
    ),
    f("&nbsp;&nbsp;server CPU per ack (µs)", "polling", false, cpuPerOp),
    gen("polling"),
    f(
      `acks/s over long-polling, 1 in flight (${polling1.clients} sessions × 1)`,
      "polling1",
      true,
      perSecond,
      rate,
    ),
    f("&nbsp;&nbsp;latency p50 (ms)", "polling1", false, (r) => r.p50Ms),
    f("&nbsp;&nbsp;latency p99 (ms)", "polling1", false, (r) => r.p99Ms),
    f("&nbsp;&nbsp;server CPU per ack (µs)", "polling1", false, cpuPerOp),
    gen("polling1"),
  ];
}

/** The figures of the scenarios that ran (a `--scenarios` subset leaves the others out). */
function ranFigures(
  servers: ServerDef[],
  results: Map<string, Rounds>,
  sizes: Record<LoadConfig["scenario"], LoadConfig>,
): Figure[] {
  return figures(sizes).filter((fig) =>
    servers.some((s) => (results.get(s.key)?.get(fig.scenario)?.length ?? 0) > 0)
  );
}

/** The best value over the rounds and the spread between them (0 with a single round). */
function bestOf(fig: Figure, rounds: (LoadResult | string)[] | undefined) {
  const xs = (rounds ?? [])
    .filter((r): r is LoadResult => typeof r !== "string")
    .map(fig.value)
    .filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (xs.length === 0) return undefined;
  const hi = Math.max(...xs);
  const lo = Math.min(...xs);
  return { best: fig.higherIsBetter ? hi : lo, spread: hi > 0 ? (hi - lo) / hi : 0, n: xs.length };
}

/** The two tables: figures with ratios, then spreads. */
export function tables(
  servers: ServerDef[],
  results: Map<string, Rounds>,
  sizes: Record<LoadConfig["scenario"], LoadConfig>,
): string {
  const head = `| | ${servers.map((s) => s.label).join(" | ")} |\n` +
    `| --- | ${servers.map(() => "---:").join(" | ")} |`;
  const main = [head];
  const spread = [head];
  const baseline = servers[0];
  for (const fig of ranFigures(servers, results, sizes)) {
    const base = bestOf(fig, results.get(baseline.key)?.get(fig.scenario));
    const cells: string[] = [];
    const spreads: string[] = [];
    for (const s of servers) {
      const rounds = results.get(s.key)?.get(fig.scenario);
      const b = bestOf(fig, rounds);
      if (!b) {
        const failed = rounds?.some((r) => typeof r === "string");
        cells.push(failed ? "failed" : "–");
        spreads.push("–");
        continue;
      }
      const ratio = fig.ratio && s !== baseline && base && base.best > 0 && b.best > 0
        ? ` (${(b.best / base.best).toFixed(2)}×)`
        : "";
      cells.push(fig.format(b.best) + ratio);
      spreads.push(b.n > 1 ? `${(b.spread * 100).toFixed(0)}%` : "–");
    }
    main.push(`| ${fig.label} | ${cells.join(" | ")} |`);
    spread.push(`| ${fig.label} | ${spreads.join(" | ")} |`);
  }
  const rounds = Math.max(
    ...[...results.values()].flatMap((rs) => [...rs.values()].map((r) => r.length)),
  );
  if (rounds < 2) return `${main.join("\n")}\n\n(One round: no spread to show.)`;
  return `${main.join("\n")}\n\nSpread between rounds ((best − worst) / best):\n\n${
    spread.join("\n")
  }`;
}

/** The Node columns, and the ratios of ours to each of the others. */
const NODE = { official: "official_node", ours: "ours_node", ceiling: "raw_node" };

/**
 * The Node table: the official server, ours and the `ws` ceiling, all on Node, with ours /
 * official and ours / ceiling for every figure (above 1 is better for rates, below 1 for latency,
 * CPU and memory), and the spread between rounds of each. Empty when ours did not run on Node.
 */
export function nodeTable(
  servers: ServerDef[],
  results: Map<string, Rounds>,
  sizes: Record<LoadConfig["scenario"], LoadConfig>,
): string {
  const def = (key: string) => servers.find((s) => s.key === key);
  const [official, ours, ceiling] = [def(NODE.official), def(NODE.ours), def(NODE.ceiling)];
  if (!ours) return "";
  const lines = [
    `| | ${official?.label ?? "official, Node"} | ${ours.label} | ` +
    `${ceiling?.label ?? "raw ceiling, Node"} | ours / official | ours / ceiling | ` +
    "spread (official / ours / ceiling) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const fig of ranFigures(servers, results, sizes)) {
    const of = (key: string) => bestOf(fig, results.get(key)?.get(fig.scenario));
    const [o, u, c] = [of(NODE.official), of(NODE.ours), of(NODE.ceiling)];
    const cell = (x: { best: number } | undefined) => (x === undefined ? "–" : fig.format(x.best));
    const ratio = (x: { best: number } | undefined) =>
      // As in the main table: no ratio of a negative reading (memory that shrank meanwhile).
      fig.ratio && u !== undefined && x !== undefined && x.best > 0 && u.best > 0
        ? `${(u.best / x.best).toFixed(2)}×`
        : "–";
    const spread = [o, u, c].map((x) =>
      x === undefined || x.n < 2 ? "–" : `${(x.spread * 100).toFixed(0)}%`
    ).join(" / ");
    lines.push(
      `| ${fig.label} | ${cell(o)} | ${cell(u)} | ${cell(c)} | ${ratio(o)} | ${ratio(c)} | ` +
        `${spread} |`,
    );
  }
  return lines.join("\n");
}
