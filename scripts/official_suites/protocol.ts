/**
 * Runs one of the official protocol suites (`docs/*-protocol/*-test-suite`: mocha in Node, raw
 * `fetch` and `ws` against a server) against a Deno fixture server of ours.
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { type NotApplicable, runMocha } from "./mocha.ts";
import { npmCi } from "./npm.ts";
import { patchFile, startFixture } from "./process.ts";

/** Which protocol suite, and the fixture that serves what it expects. */
export interface ProtocolSuite {
  /** The name in the table. */
  name: string;
  /** The suite's folder in the snapshot. */
  dir: string;
  /** The fixture's file in `fixtures/`. */
  fixture: string;
  /** Tests that read an official internal, by full title. */
  notApplicable: NotApplicable;
}

/**
 * Copies the suite into `workDir`, installs its locked tools, points its fixed
 * `http://localhost:3000` at the fixture's loopback port, and runs it.
 */
export async function runProtocolSuite(
  suite: ProtocolSuite,
  snapshotDir: string,
  workDir: string,
): Promise<SuiteResult> {
  const dir = `${workDir}/suite`;
  // Keep the installed node_modules between runs; the suite's files are copied afresh.
  await Deno.mkdir(dir, { recursive: true });
  const src = `${snapshotDir}/${suite.dir}`;
  for (const file of ["package.json", "package-lock.json", "node-imports.js", "test-suite.js"]) {
    await Deno.copyFile(`${src}/${file}`, `${dir}/${file}`);
  }
  const log = `${workDir}/run.log`;
  await Deno.writeTextFile(log, "");
  await npmCi(dir, log);
  const fixture = await startFixture(suite.fixture, `${workDir}/fixture.log`);
  try {
    await patchFile(
      `${dir}/test-suite.js`,
      `const URL = "http://localhost:3000";`,
      `const URL = "http://127.0.0.1:${fixture.port}";`,
    );
    return await runMocha({
      name: suite.name,
      cwd: dir,
      mochaArgs: ["test-suite.js"],
      log,
      notApplicable: suite.notApplicable,
    });
  } finally {
    await fixture.stop();
  }
}
