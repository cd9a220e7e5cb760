/**
 * Runs an official mocha suite in Node and reads its results test by test, through a reporter
 * of ours that writes one JSON line per event to a file: every test known at the start, then
 * each pass, failure and skip. A test that never ran (a failed hook, a killed run) is then still
 * listed, as failed with why.
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { runLogged } from "./process.ts";

/** The reporter, as CommonJS for every mocha version the suites pin (9 and 10). */
const REPORTER = `"use strict";
const fs = require("fs");
const Mocha = require("mocha");
const { EVENT_RUN_BEGIN, EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } =
  Mocha.Runner.constants;
module.exports = function LineReporter(runner, options) {
  Mocha.reporters.Base.call(this, runner, options);
  const out = process.env.SUITE_RESULTS;
  const line = (o) => fs.appendFileSync(out, JSON.stringify(o) + "\\n");
  const firstLine = (err) => String((err && (err.message || err)) || "failed").split("\\n")[0];
  runner.once(EVENT_RUN_BEGIN, () => {
    const all = [];
    const walk = (suite) => {
      for (const t of suite.tests) all.push(t.fullTitle());
      for (const s of suite.suites) walk(s);
    };
    walk(runner.suite);
    line({ all });
  });
  runner.on(EVENT_TEST_PASS, (t) => line({ pass: t.fullTitle() }));
  runner.on(EVENT_TEST_PENDING, (t) => line({ pending: t.fullTitle() }));
  runner.on(EVENT_TEST_FAIL, (t, err) => {
    if (t.type === "hook") {
      line({ hook: t.fullTitle(), error: firstLine(err) });
    } else {
      line({ fail: t.fullTitle(), error: firstLine(err) });
    }
  });
  runner.once(EVENT_RUN_END, () => line({ end: true }));
};
`;

/**
 * A root hook that uninstalls a fake clock a failed test left installed (the suites install
 * `@sinonjs/fake-timers` in a test and uninstall it at its end, not in a hook): without it one
 * failure there fakes the timers of every later test, and they all time out. It changes no
 * assertion; each test is then judged on its own.
 */
const ISOLATION = `"use strict";
exports.mochaHooks = {
  afterEach() {
    const clock = globalThis.setTimeout && globalThis.setTimeout.clock;
    if (clock && typeof clock.uninstall === "function") clock.uninstall();
  },
};
`;

/** Which tests do not apply to us, by full title, with why. */
export type NotApplicable = Record<string, string>;

/** Options of {@link runMocha}. */
export interface MochaRun {
  /** The suite's name in the table. */
  name: string;
  /** The folder mocha runs in (its `node_modules` holds mocha). */
  cwd: string;
  /** Node's flags before mocha's script, e.g. `--experimental-websocket`. */
  nodeArgs?: string[];
  /** Mocha's arguments: spec files, `--require`, `--import`, `--exit`... */
  mochaArgs: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Where mocha's output goes. */
  log: string;
  /** Tests that read an official internal, by full title. */
  notApplicable: NotApplicable;
  /** Kills the run after this long (default 10 minutes). */
  timeoutMs?: number;
}

/** Runs mocha and sorts its tests into passed, failed and not applicable. */
export async function runMocha(run: MochaRun): Promise<SuiteResult> {
  const reporter = `${run.cwd}/line-reporter.cjs`;
  const results = `${run.cwd}/results.jsonl`;
  const isolation = `${run.cwd}/isolation-hooks.cjs`;
  await Deno.writeTextFile(reporter, REPORTER);
  await Deno.writeTextFile(isolation, ISOLATION);
  await Deno.remove(results).catch(() => {});
  // Mocha 9 names its script `bin/mocha`, 10 `bin/mocha.js`: ask its package.json.
  const pkg = JSON.parse(await Deno.readTextFile(`${run.cwd}/node_modules/mocha/package.json`));
  const ran = await runLogged("node", [
    ...(run.nodeArgs ?? []),
    `node_modules/mocha/${pkg.bin.mocha ?? pkg.bin._mocha}`,
    "--reporter",
    reporter,
    "--require",
    isolation,
    ...skipArgs(run.notApplicable),
    ...run.mochaArgs,
  ], {
    cwd: run.cwd,
    env: { ...run.env, SUITE_RESULTS: results },
    log: run.log,
    timeoutMs: run.timeoutMs,
  });
  const text = await Deno.readTextFile(results).catch(() => "");
  return sortResults(run.name, text, run.notApplicable, ran.timedOut, run.log);
}

/**
 * Mocha arguments that leave the not-applicable tests out of the run: they would otherwise still
 * run, and an error they throw late (from a callback reading a private field) lands on the test
 * that runs next.
 */
function skipArgs(notApplicable: NotApplicable): string[] {
  const titles = Object.keys(notApplicable);
  if (!titles.length) return [];
  const escape = (t: string) => t.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return ["--grep", `^(?:${titles.map(escape).join("|")})$`, "--invert"];
}

/** Builds the result from the reporter's lines. */
function sortResults(
  name: string,
  text: string,
  notApplicable: NotApplicable,
  timedOut: boolean,
  log: string,
): SuiteResult {
  const all: string[] = [];
  const outcome = new Map<string, { ok: boolean; error?: string } | "pending">();
  const hookErrors: string[] = [];
  let ended = false;
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    const line = JSON.parse(raw);
    if (line.all) all.push(...line.all);
    else if (line.pass) outcome.set(line.pass, { ok: true });
    else if (line.fail) {
      // A test that failed after passing (a late error, `done` twice) counts as failed.
      outcome.set(line.fail, { ok: false, error: line.error });
    } else if (line.pending) outcome.set(line.pending, "pending");
    else if (line.hook) hookErrors.push(`${line.hook}: ${line.error}`);
    else if (line.end) ended = true;
  }
  const result: SuiteResult = { name, passed: [], failed: [], notApplicable: [] };
  if (all.length === 0) {
    result.failed.push({ title: "(the suite)", error: `no test ran; see ${log}` });
    return result;
  }
  const why = timedOut
    ? "did not run: the run timed out"
    : !ended
    ? "did not run: mocha exited early"
    : hookErrors.length
    ? `did not run: ${hookErrors[0]}`
    : "did not run";
  for (const title of new Set(all)) {
    const reason = notApplicable[title];
    if (reason !== undefined) {
      result.notApplicable.push({ title, reason });
      continue;
    }
    const o = outcome.get(title);
    if (o === "pending") {
      // Skipped by the suite itself (browser-only, `this.skip()`): not applicable as the suite says.
      result.notApplicable.push({ title, reason: "skipped by the suite itself" });
    } else if (o?.ok) result.passed.push(title);
    else result.failed.push({ title, error: o?.error ?? why });
  }
  for (const title of Object.keys(notApplicable)) {
    if (!all.includes(title)) {
      result.failed.push({ title, error: "listed as not applicable but not in the suite" });
    }
  }
  return result;
}
