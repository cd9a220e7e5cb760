/**
 * `deno task bench`: runs the benchmarks and writes their tables into BENCHMARKS.md, each
 * between its own markers, so that one section can be refreshed without touching the others.
 *
 * Options: `--quick` (shorter measurements, for a smoke run), `--no-write` (print only),
 * `--parser-only` (skip the server scenarios, which take about 9 minutes), `--rounds=N`,
 * `--servers=key,key` (only those servers, the first the baseline; see bench/server/servers.ts),
 * `--scenarios=name,name` (only those server scenarios: acks, fanout, storm, polling, polling1),
 * `--no-cluster` (skip the cluster bench of bench/cluster.ts, about 4 minutes), `--cluster-only`.
 *
 * `--only=part,part` runs just those parts: `parser` (with the bundle sizes), `server`,
 * `cluster`, and the connection benches of issue 14 (bench/conns.ts): `idle` (idle WebSocket
 * connections at several counts, about 12 minutes; `--connections=2500,5000,...` sets the
 * counts, `--ping-interval=ms` the heartbeat) and `rooms` (the room path beside the fan-out,
 * about 5 minutes). Without it every part runs but as the flags above leave out.
 *
 * @module
 */
import { formatOps, type Row } from "./measure.ts";
import { runParserBench } from "./parser.ts";
import {
  argValue,
  pickScenarios,
  pickServers,
  runServerBench,
  type ServerBenchResult,
} from "./server.ts";
import { runClusterBench } from "./cluster.ts";
import { runIdleBench, runRoomsBench } from "./conns.ts";

const quick = Deno.args.includes("--quick");
const write = !Deno.args.includes("--no-write");
const only = argValue(Deno.args, "only")?.split(",");
const PARTS = ["parser", "server", "cluster", "idle", "rooms"];
for (const p of only ?? []) {
  if (!PARTS.includes(p)) throw new Error(`no part ${p}: ${PARTS.join(", ")}`);
}
const clusterOnly = Deno.args.includes("--cluster-only");
const parserOnly = Deno.args.includes("--parser-only");
/** Whether a part runs: as `--only` lists, else as the older flags leave it. */
function runs(part: string): boolean {
  if (only) return only.includes(part);
  if (clusterOnly) return part === "cluster";
  if (parserOnly) return part === "parser";
  return part !== "cluster" || !Deno.args.includes("--no-cluster");
}
const cluster = runs("cluster");
const FILE = new URL("../BENCHMARKS.md", import.meta.url);

function environment(): string {
  const date = new Date().toISOString().slice(0, 10);
  return `Measured ${date} on Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ` +
    `${navigator.hardwareConcurrency} cores, ${Deno.build.os}/${Deno.build.arch}.`;
}

function parserTable(rows: Row[]): string {
  const lines = [
    "| case | socketio-edge (ops/s) | official (ops/s) | ratio | spread |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${formatOps(r.ours)} | ${formatOps(r.official)} | ${r.ratio.toFixed(2)}x | ` +
        `${(r.spread * 100).toFixed(0)}% |`,
    );
  }
  return lines.join("\n");
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i === -1 || j === -1) return `${doc.trimEnd()}\n\n${start}\n${body}\n${end}\n`;
  return doc.slice(0, i + start.length) + "\n" + body + "\n" + doc.slice(j);
}

let table: string | undefined;
let bundles: string | undefined;
let server: ServerBenchResult | undefined;
if (runs("parser")) {
  console.log("parser micro-benchmarks (ours vs engine.io-parser@5.2.3 + socket.io-parser@4.2.7)");
  const rows = runParserBench(quick ? 100 : 400, quick ? 2 : 3);
  table = `${environment()}\n\n${parserTable(rows)}`;
  console.log(table);

  console.log("\nclient bundle sizes (minified, gzip -9), beside the official ones");
  const sizes = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../scripts/bundle.ts", import.meta.url).pathname,
      "--check",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  bundles = new TextDecoder().decode(sizes.stdout).trim();
  if (!sizes.success) throw new Error("the bundles are out of date: run deno task bundle");
  console.log(bundles);
}

if (runs("server")) {
  console.log(
    "\nserver scenarios (ours on Deno, Bun and Node, official on Node and Bun, raw ceilings)",
  );
  const rounds = argValue(Deno.args, "rounds");
  server = await runServerBench({
    quick,
    rounds: rounds ? Number(rounds) : undefined,
    servers: pickServers(argValue(Deno.args, "servers")?.split(",")),
    scenarios: pickScenarios(argValue(Deno.args, "scenarios")?.split(",")),
  });
  console.log(server.node ? `${server.server}\n\n${server.node}` : server.server);
}

let idleTable: string | undefined;
let roomsTable: string | undefined;
{
  const rounds = argValue(Deno.args, "rounds");
  const counts = argValue(Deno.args, "connections");
  const ping = argValue(Deno.args, "ping-interval");
  const opts = {
    quick,
    rounds: rounds ? Number(rounds) : undefined,
    counts: counts ? counts.split(",").map(Number) : undefined,
    pingIntervalMs: ping ? Number(ping) : undefined,
  };
  if (runs("idle")) {
    console.log("\nidle WebSocket connections (ours on Deno and Bun, official on Node)");
    idleTable = await runIdleBench(opts);
    console.log(idleTable);
  }
  if (runs("rooms")) {
    console.log("\nthe room path beside the fan-out (ours on Deno and Bun, official on Node)");
    roomsTable = await runRoomsBench(opts);
    console.log(roomsTable);
  }
}

let clusterTable: string | undefined;
if (cluster) {
  console.log(
    "\ncluster: two nodes on one Redis (ours on Deno and Bun, official on Node), BroadcastChannel",
  );
  const rounds = argValue(Deno.args, "rounds");
  clusterTable = await runClusterBench({ quick, rounds: rounds ? Number(rounds) : undefined });
  console.log(clusterTable);
}

if (write) {
  let doc: string;
  try {
    doc = await Deno.readTextFile(FILE);
  } catch {
    doc = "# Benchmarks\n";
  }
  if (table) doc = replaceSection(doc, "parser", table);
  if (bundles) doc = replaceSection(doc, "bundles", bundles);
  // A subset of the servers (--servers) or scenarios (--scenarios) leaves the full table as it was.
  if (server?.complete) doc = replaceSection(doc, "server", server.server);
  if (server?.node) doc = replaceSection(doc, "node", server.node);
  if (clusterTable) doc = replaceSection(doc, "cluster", clusterTable);
  if (idleTable) doc = replaceSection(doc, "idle", idleTable);
  if (roomsTable) doc = replaceSection(doc, "rooms", roomsTable);
  await Deno.writeTextFile(FILE, doc);
  console.log(`\nwritten to ${FILE.pathname}`);
}
