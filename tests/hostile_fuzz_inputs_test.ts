/**
 * What the fuzzer (scripts/fuzz/) found, kept as fixed inputs: each scenario of
 * `tests/fixtures/fuzz/*.json` is played alone against the fuzz app on Deno (in this process)
 * and on Bun (a child process), and must leave nothing reported (no error escaping the library,
 * no unhandled rejection, no answer of 500 or more) and the server alive. Bun comes from npm
 * when it is not installed; without it the Bun runs print SKIPPED.
 *
 * To keep a new one: `deno task fuzz --seed S --pinpoint I,J` names the scenario that fails
 * alone, `deno task fuzz --seed S --show I` prints it; save it as `{ found, what, scenario }`.
 */
import assert from "node:assert/strict";
import { findBun } from "./helpers/bun.ts";
import type { Scenario } from "../scripts/fuzz/inputs.ts";
import { playAlone } from "../scripts/fuzz/run.ts";
import { type Runtime, startTarget } from "../scripts/fuzz/targets.ts";

interface Kept {
  /** The run that found it. */
  found: string;
  /** What it did. */
  what: string;
  scenario: Scenario;
}

const DIR = new URL("./fixtures/fuzz/", import.meta.url);
const kept: [string, Kept][] = [];
for (const entry of Deno.readDirSync(DIR)) {
  if (!entry.name.endsWith(".json")) continue;
  kept.push([entry.name, JSON.parse(Deno.readTextFileSync(new URL(entry.name, DIR)))]);
}
kept.sort(([a], [b]) => a.localeCompare(b));

for (const runtime of ["deno", "bun"] as Runtime[]) {
  for (const [name, { scenario }] of kept) {
    Deno.test(`a kept fuzz input: ${name} [${runtime}]`, async () => {
      if (runtime === "bun" && !(await findBun())) {
        console.log("SKIPPED: bun not installed and could not be installed from npm");
        return;
      }
      const target = await startTarget(runtime);
      try {
        const { failed, messages } = await playAlone(target, scenario, 300);
        assert.ok(!failed, messages.join("\n"));
        assert.ok(target.alive());
      } finally {
        await target.stop();
      }
    });
  }
}
