/**
 * `deno task fuzz`: hostile inputs against our server on Deno (in this process) and on Bun (a
 * child process), over real HTTP and WebSocket on 127.0.0.1, while official clients echo.
 *
 * Usage: deno task fuzz [--runtime deno|bun|both] [--count N] [--seed N] [--time-limit S]
 *                       [--concurrency N] [--show INDEX] [--pinpoint I,J,...] [--out DIR]
 *
 * - `--count` inputs (requests and frames) per runtime, default 1,000,000; `--time-limit`
 *   seconds per runtime, default 1800, ends a run earlier.
 * - `--seed` makes the run again (it is printed at the start); default a random one.
 * - `--show INDEX` prints scenario INDEX of the seed as JSON (to keep as a regression input).
 * - `--pinpoint I,J` plays those scenarios of the seed one at a time on a fresh server and says
 *   which fail alone; a failed run ends with the command line that does this for its suspects.
 * - `--out DIR` writes each failing run's report there as JSON.
 *
 * Exits with 1 when a run failed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { makeScenario } from "./inputs.ts";
import { inputSeed } from "./prng.ts";
import { fuzz, type FuzzReport, pinpoint } from "./run.ts";
import type { Runtime } from "./targets.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runtime: { type: "string", default: "both" },
    count: { type: "string", default: "1000000" },
    seed: { type: "string" },
    "time-limit": { type: "string", default: "1800" },
    concurrency: { type: "string", default: "16" },
    show: { type: "string" },
    pinpoint: { type: "string" },
    out: { type: "string" },
  },
});

const seed = values.seed !== undefined
  ? Number(values.seed) >>> 0
  : (Math.random() * 2 ** 32) >>> 0;
const runtimes: Runtime[] = values.runtime === "both"
  ? ["deno", "bun"]
  : [values.runtime as Runtime];
for (const r of runtimes) {
  if (r !== "deno" && r !== "bun") throw new Error(`--runtime: deno, bun or both, not ${r}`);
}

if (values.show !== undefined) {
  console.log(JSON.stringify(makeScenario(inputSeed(seed, Number(values.show))), null, 2));
  Deno.exit(0);
}

if (values.pinpoint !== undefined) {
  const indices = values.pinpoint.split(",").map(Number);
  let found = false;
  for (const runtime of runtimes) {
    for (const p of await pinpoint(runtime, seed, indices)) {
      if (!p.failed) continue;
      found = true;
      console.log(`${runtime}: scenario ${p.index} of seed ${seed} fails alone:`);
      for (const m of p.messages) console.log(`  ${m.split("\n").slice(0, 8).join("\n  ")}`);
      console.log(JSON.stringify(p.scenario));
    }
  }
  if (!found) console.log("none fails alone (a combination may; run them again together)");
  Deno.exit(found ? 1 : 0);
}

console.log(`fuzz: seed ${seed}, ${values.count} inputs per runtime on ${runtimes.join(" and ")}`);
const reports: FuzzReport[] = [];
for (const runtime of runtimes) {
  const report = await fuzz({
    runtime,
    seed,
    count: Number(values.count),
    timeLimitMs: Number(values["time-limit"]) * 1000,
    concurrency: Number(values.concurrency),
    log: (line) => console.log(line),
    progressMs: 10_000,
  });
  reports.push(report);
  print(report);
  if (!report.passed && values.out) {
    await Deno.mkdir(values.out, { recursive: true });
    await Deno.writeTextFile(
      `${values.out}/fuzz-${runtime}-${seed}.json`,
      JSON.stringify(report, null, 2),
    );
  }
}
Deno.exit(reports.every((r) => r.passed) ? 0 : 1);

function print(r: FuzzReport): void {
  const h = r.health;
  console.log(
    [
      `== ${r.runtime}: ${r.passed ? "PASSED" : "FAILED"} (seed ${r.seed})`,
      `inputs ${r.inputs} in ${r.scenarios} scenarios, ${r.seconds} s, ${r.inputsPerSecond} inputs/s`,
      `failures ${r.failures.length} (crashes ${
        r.failures.filter((f) => f.kind === "crash").length
      })`,
      `healthy clients: ${h.echoes} echoes, ${h.hangs} hangs, ${h.disconnects} disconnects, ` +
      `round trip p50 ${h.p50} ms, p99 ${h.p99} ms, max ${h.max} ms`,
      `accepts new clients at the end: ${r.acceptsNewClients}`,
      `server RSS: ${r.rss.start} MB at start, ${r.rss.peak} MB peak, ${r.rss.end} MB at the end` +
      (r.runtime === "deno" ? " (the fuzzer's own process)" : ""),
    ].join("\n"),
  );
  for (const f of r.failures.slice(0, 20)) {
    console.log(
      `- ${f.kind}: ${f.messages.map((m) => m.split("\n").slice(0, 4).join(" / ")).join(" | ")}`,
    );
    console.log(`  suspects: ${f.suspects.join(",")}`);
  }
  if (!r.passed && r.failures.length) {
    const all = [...new Set(r.failures.flatMap((f) => f.suspects))].slice(0, 200);
    console.log(
      `pin them down: deno task fuzz --runtime ${r.runtime} --seed ${r.seed} --pinpoint ${
        all.join(",")
      }`,
    );
  }
}
