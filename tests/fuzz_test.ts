/**
 * A short fuzz run (scripts/fuzz/, as `deno task fuzz` runs it for a million inputs): a few
 * thousand hostile inputs over HTTP and WebSocket against our server on Deno (in this process)
 * and on Bun (a child process) while official clients echo. It passes with nothing reported
 * (no error escaping the library, no unhandled rejection, no handler failure, no 5xx), no hang
 * nor disconnect of a healthy client, and new clients accepted at the end.
 *
 * The seed is fixed, so a failure here is made again with `deno task fuzz --seed <seed>`;
 * `FUZZ_SEED` and `FUZZ_COUNT` change them. Bun comes from npm when it is not installed;
 * without it the Bun run prints SKIPPED.
 */
import assert from "node:assert/strict";
import { findBun } from "./helpers/bun.ts";
import { settle } from "./helpers/socketio.ts";
import { fuzz, type FuzzReport } from "../scripts/fuzz/run.ts";
import type { Runtime } from "../scripts/fuzz/targets.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20260) >>> 0;
const COUNT = Number(Deno.env.get("FUZZ_COUNT") ?? 10_000);

function explain(r: FuzzReport): string {
  const lines = r.failures.slice(0, 10).map((f) =>
    `${f.kind}: ${f.messages.join(" | ").slice(0, 600)} (suspects ${f.suspects.join(",")})`
  );
  return [
    `seed ${r.seed} on ${r.runtime}: ${r.failures.length} failures, ${r.health.hangs} hangs, ` +
    `${r.health.disconnects} disconnects, accepts new clients: ${r.acceptsNewClients}`,
    ...lines,
    `again: deno task fuzz --runtime ${r.runtime} --seed ${r.seed} --count ${COUNT}`,
  ].join("\n");
}

for (const runtime of ["deno", "bun"] as Runtime[]) {
  Deno.test(`fuzzing: ${COUNT} hostile inputs on ${runtime}, healthy clients answered`, async () => {
    if (runtime === "bun" && !(await findBun())) {
      console.log("SKIPPED: bun not installed and could not be installed from npm");
      return;
    }
    const report = await fuzz({
      runtime,
      seed: SEED,
      count: COUNT,
      timeLimitMs: 120_000,
      concurrency: 32,
    });
    await settle();
    console.log(
      `${runtime}: ${report.inputs} inputs in ${report.seconds} s (${report.inputsPerSecond}/s), ` +
        `RSS ${report.rss.start} MB -> ${report.rss.end} MB (peak ${report.rss.peak} MB), ` +
        `healthy echoes ${report.health.echoes}, p99 ${report.health.p99} ms`,
    );
    assert.ok(report.passed, explain(report));
    assert.ok(report.inputs >= COUNT, `only ${report.inputs} inputs within the time limit`);
    assert.ok(report.health.echoes > 0, "the healthy clients echoed");
  });
}
