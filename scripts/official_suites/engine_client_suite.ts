/**
 * The official engine.io-client suite (`packages/engine.io-client/test`, mocha) against our
 * engine: its support server rewritten on our API (`fixtures/engine_client_support.ts`), with
 * the official engine.io-client (this module) or our client's `Engine` swapped in
 * (`engine_client_suite_ours.ts`).
 *
 * The official client is npm `engine.io-client` at the snapshot's version, laid out with the
 * copied tests as in the monorepo (they `require("..")` and files of `../build/cjs/`). The
 * suite's `test:node` runs `test/index.js` and `test/webtransport.mjs` with `--bail`; this runs
 * `test/index.js` without `--bail`, so every test counts. `webtransport.mjs` starts the official
 * engine.io server itself (over HTTP/3), so it measures nothing of ours: it is listed as not
 * applicable, not run.
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { runMocha } from "./mocha.ts";
import { lockedVersion, npmInstall, snapshotVersion } from "./npm.ts";
import { copyTree, freePort, patchFile, startFixture } from "./process.ts";
import { writeOurPackage } from "./our_client.ts";
import {
  ENGINE_CLIENT_NOT_APPLICABLE,
  ENGINE_CLIENT_OURS_NOT_APPLICABLE,
  WEBTRANSPORT_REASON,
} from "./not_applicable.ts";
import type { ClientVariant } from "./client_suite.ts";

/** Runs the suite with the official engine.io-client. */
export function run(snapshotDir: string, workDir: string): Promise<SuiteResult> {
  return runEngineClientSuite(snapshotDir, workDir, "official");
}

/** Runs the engine.io-client suite with `variant`'s client against our engine. */
export async function runEngineClientSuite(
  snapshotDir: string,
  workDir: string,
  variant: ClientVariant,
): Promise<SuiteResult> {
  const log = `${workDir}/run.log`;
  await Deno.writeTextFile(log, "");
  const pkgDir = `${snapshotDir}/packages/engine.io-client`;
  const locked = (name: string) => lockedVersion(snapshotDir, name);
  await npmInstall(workDir, {
    "engine.io-client": await snapshotVersion(snapshotDir, "packages/engine.io-client"),
    "engine.io-parser": await snapshotVersion(snapshotDir, "packages/engine.io-parser"),
    "mocha": await locked("mocha"),
    "expect.js": await locked("expect.js"),
    "@sinonjs/fake-timers": await locked("@sinonjs/fake-timers"),
  }, log);

  const pkg = `${workDir}/pkg`;
  if (variant === "official") {
    await copyTree(`${workDir}/node_modules/engine.io-client`, pkg);
  } else {
    await Deno.remove(pkg, { recursive: true }).catch(() => {});
    await writeOurPackage(pkg, "engine.io-client", [
      { out: "build/cjs/index.js", entry: "scripts/official_suites/engine_client_shim.ts" },
    ]);
    await writeInternalStubs(pkg);
  }
  await copyTree(`${pkgDir}/test`, `${pkg}/test`);

  // The suite reaches the server as `location` (localhost:3000) and, in a few files, by URL.
  const port = freePort();
  await patchFile(`${pkg}/test/support/env.js`, "port: 3000,", `port: ${port},`);
  await patchFile(`${pkg}/test/node.js`, `"http://localhost:3000"`, `"http://localhost:${port}"`);
  for await (const entry of Deno.readDir(`${pkg}/test/fixtures`)) {
    await patchFile(
      `${pkg}/test/fixtures/${entry.name}`,
      `"http://localhost:3000"`,
      `"http://localhost:${port}"`,
    );
  }

  // Our client polls with fetch and uses the runtime's WebSocket: the suite has a mode for each
  // (USE_FETCH, USE_BUILTIN_WS) in which it expects fetch's error messages and skips the `ws`
  // package's options. Those modes install the official `Fetch` / `WebSocket` transports into
  // its `transports` map; ours are built in, so those two assignments are dropped.
  const modes: Record<string, string> = {};
  if (variant === "ours") {
    await patchFile(`${pkg}/test/support/env.js`, "transports.polling = Fetch;", "");
    await patchFile(`${pkg}/test/support/env.js`, "transports.websocket = WebSocket;", "");
    Object.assign(modes, { USE_FETCH: "1", USE_BUILTIN_WS: "1" });
  }

  const fixture = await startFixture("engine_client_support.ts", `${workDir}/fixture.log`, port);
  let result: SuiteResult;
  try {
    const websocket = variant === "ours" ? ["--experimental-websocket"] : [];
    result = await runMocha({
      name: variant === "official" ? "engine.io-client (official)" : "engine.io-client (ours)",
      cwd: workDir,
      nodeArgs: websocket,
      // `test:node` less `--require test/support/hooks.js` (the runner starts our server),
      // `--bail` and `test/webtransport.mjs`. Its hooks closed the in-process server at the end,
      // which let mocha exit; ours runs in its own process, so `--exit`.
      mochaArgs: ["--exit", "pkg/test/index.js"],
      env: websocket.length ? { ...modes, NODE_OPTIONS: websocket.join(" ") } : modes,
      log,
      notApplicable: variant === "official"
        ? ENGINE_CLIENT_NOT_APPLICABLE
        : ENGINE_CLIENT_OURS_NOT_APPLICABLE,
    });
  } finally {
    await fixture.stop();
  }
  result.notApplicable.push(...await webTransportTests(`${pkg}/test/webtransport.mjs`));
  return result;
}

/** The tests of `webtransport.mjs`, by title, as not applicable (the file is not run). */
async function webTransportTests(file: string): Promise<SuiteResult["notApplicable"]> {
  const text = await Deno.readTextFile(file);
  const titles = [...text.matchAll(/\bit\(\s*"([^"]+)"/g)].map((m) => m[1]);
  return titles.map((t) => ({ title: `WebTransport ${t}`, reason: WEBTRANSPORT_REASON }));
}

/**
 * Official internal modules the suite's files `require` when they load (`../build/cjs/...`):
 * our client has no such files, so each becomes a stub whose functions throw, and only the
 * tests that call them fail (they are listed as not applicable) instead of the whole suite.
 */
const INTERNAL_MODULES: Record<string, string[]> = {
  "build/cjs/globals.node.js": ["parse"],
  "build/cjs/util.js": ["randomString"],
  "build/cjs/transports/polling-xhr.node.js": ["newRequest"],
};

/** Writes the stubs of {@link INTERNAL_MODULES} into our package. */
async function writeInternalStubs(pkg: string): Promise<void> {
  for (const [path, names] of Object.entries(INTERNAL_MODULES)) {
    const lines = names.map((name) =>
      `exports.${name} = () => { throw new Error(${
        JSON.stringify(`${name}() of ${path} is an internal of the official engine.io-client`)
      }); };`
    );
    await Deno.mkdir(`${pkg}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${pkg}/${path}`, `"use strict";\n${lines.join("\n")}\n`);
  }
}
