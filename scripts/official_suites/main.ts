/**
 * Runs the official socket.io test suites against our server and client, as an outside
 * measure: the protocol suites, the socket.io-client and engine.io-client suites (with the
 * official clients, and with ours swapped in) and the socket.io server suite.
 *
 * The suites come from a snapshot folder of the official monorepo; nothing of it goes into this
 * repository. Tools are installed, and suite files copied and patched, in a scratch folder
 * (`<snapshot>/.run/` unless `--work <dir>`). Everything listens on loopback.
 *
 * Usage: deno task official-suites <snapshot-dir> [suite ...] [--work <dir>]
 * Suites: engine-protocol, socketio-protocol, client, client-ours, engine-client,
 * engine-client-ours, server (default: all). Exits non-zero when an applicable test failed.
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";

/** A suite runner: the snapshot folder and a scratch folder of its own in, results out. */
type Runner = (snapshotDir: string, workDir: string) => Promise<SuiteResult>;

/** Every suite by its command-line name, loaded only when it runs. */
const SUITES: Record<string, () => Promise<{ run: Runner }>> = {
  "engine-protocol": () => import("./engine_protocol_suite.ts"),
  "socketio-protocol": () => import("./socketio_protocol_suite.ts"),
  "client": () => import("./client_suite.ts"),
  "client-ours": () => import("./client_suite_ours.ts"),
  "engine-client": () => import("./engine_client_suite.ts"),
  "engine-client-ours": () => import("./engine_client_suite_ours.ts"),
  "server": () => import("./server_suite.ts"),
};

const args = [...Deno.args];
let workRoot: string | undefined;
const workAt = args.indexOf("--work");
if (workAt >= 0) {
  workRoot = args[workAt + 1];
  args.splice(workAt, 2);
}
const [snapshot, ...names] = args;
if (!snapshot) {
  console.log("SKIPPED: no snapshot folder given");
  Deno.exit(0);
}
const snapshotDir = await Deno.realPath(snapshot);
if (!(await Deno.stat(`${snapshotDir}/packages`).catch(() => null))?.isDirectory) {
  console.error(`${snapshotDir} is not a snapshot of the socket.io monorepo (no packages/)`);
  Deno.exit(2);
}
const unknown = names.filter((n) => !(n in SUITES));
if (unknown.length) {
  console.error(
    `unknown suite(s): ${unknown.join(", ")}; known: ${Object.keys(SUITES).join(", ")}`,
  );
  Deno.exit(2);
}
workRoot ??= `${snapshotDir}/.run`;

const results: SuiteResult[] = [];
for (const id of names.length ? names : Object.keys(SUITES)) {
  const workDir = `${workRoot}/${id}`;
  await Deno.mkdir(workDir, { recursive: true });
  const started = performance.now();
  console.error(`running ${id} (scratch: ${workDir}) ...`);
  let result: SuiteResult;
  try {
    result = await (await SUITES[id]()).run(snapshotDir, workDir);
  } catch (err) {
    // A runner that cannot set up (an install, a build) is one failure, not the end of the run.
    result = {
      name: id,
      passed: [],
      failed: [{ title: "(the suite)", error: String(err instanceof Error ? err.message : err) }],
      notApplicable: [],
    };
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.error(
    `  ${result.passed.length} passed, ${result.failed.length} failed, ` +
      `${result.notApplicable.length} not applicable (${seconds} s)`,
  );
  results.push(result);
}

console.log(table(results));
for (const r of results) {
  if (!r.failed.length) continue;
  console.log(`\n## ${r.name}: ${r.failed.length} failed`);
  for (const f of r.failed) console.log(`- ${f.title}\n    ${f.error}`);
}
for (const r of results) {
  if (!r.notApplicable.length) continue;
  console.log(`\n## ${r.name}: ${r.notApplicable.length} not applicable`);
  for (const n of r.notApplicable) console.log(`- ${n.title}\n    ${n.reason}`);
}
const passed = results.reduce((n, r) => n + r.passed.length, 0);
const failed = results.reduce((n, r) => n + r.failed.length, 0);
console.log(`\n${passed} passed, ${failed} failed`);
Deno.exit(failed ? 1 : 0);

/** The summary: one row per suite and a total. */
function table(rs: SuiteResult[]): string {
  const rows = rs.map((r) => [r.name, r.passed.length, r.failed.length, r.notApplicable.length]);
  rows.push([
    "total",
    ...[1, 2, 3].map((i) => rows.reduce((n, row) => n + (row[i] as number), 0)),
  ]);
  const head = ["suite", "passed", "failed", "not applicable"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]) =>
    "| " +
    cells.map((c, i) => i ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))
      .join(" | ") +
    " |";
  return [line(head), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)]
    .join("\n");
}
