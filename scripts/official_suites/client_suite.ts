/**
 * The official socket.io-client suite (`packages/socket.io-client/test`, mocha with tsx)
 * against our server: its support server rewritten on our API (`fixtures/client_support.ts`),
 * with the official client (this module) or ours swapped in (`client_suite_ours.ts`).
 *
 * The official client is npm `socket.io-client` at the snapshot's version (the suite imports
 * `..` and `../build/cjs/url`, so the package's files are laid out beside the copied tests);
 * ours is `client/mod.ts` built as CommonJS into the same layout. Node 20 has no global
 * WebSocket, so ours runs under `node --experimental-websocket` (also through `NODE_OPTIONS`, for
 * the suite's child processes); the official client brings `ws`.
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { runMocha } from "./mocha.ts";
import { lockedVersion, npmInstall, snapshotVersion } from "./npm.ts";
import { copyTree, freePort, patchFile, startFixture } from "./process.ts";
import { writeOurPackage } from "./our_client.ts";
import { CLIENT_NOT_APPLICABLE, CLIENT_OURS_NOT_APPLICABLE } from "./not_applicable.ts";

/** Whose client runs the suite. */
export type ClientVariant = "official" | "ours";

/** Runs the suite with the official client. */
export function run(snapshotDir: string, workDir: string): Promise<SuiteResult> {
  return runClientSuite(snapshotDir, workDir, "official");
}

/** Runs the socket.io-client suite with `variant`'s client against our server. */
export async function runClientSuite(
  snapshotDir: string,
  workDir: string,
  variant: ClientVariant,
): Promise<SuiteResult> {
  const log = `${workDir}/run.log`;
  await Deno.writeTextFile(log, "");
  const pkgDir = `${snapshotDir}/packages/socket.io-client`;
  const locked = (name: string) => lockedVersion(snapshotDir, name);
  await npmInstall(workDir, {
    "socket.io-client": await snapshotVersion(snapshotDir, "packages/socket.io-client"),
    "engine.io-client": await snapshotVersion(snapshotDir, "packages/engine.io-client"),
    "socket.io-parser": await snapshotVersion(snapshotDir, "packages/socket.io-parser"),
    "@socket.io/component-emitter": await snapshotVersion(
      snapshotDir,
      "packages/socket.io-component-emitter",
    ),
    "mocha": await locked("mocha"),
    "tsx": await locked("tsx"),
    "expect.js": await locked("expect.js"),
    "@sinonjs/fake-timers": await locked("@sinonjs/fake-timers"),
    "has-cors": await locked("has-cors"),
    "text-blob-builder": await locked("text-blob-builder"),
    "base64-arraybuffer": await locked("base64-arraybuffer"),
  }, log);

  // The package under test, with the suite's tests inside it as in the monorepo.
  const pkg = `${workDir}/pkg`;
  if (variant === "official") {
    await copyTree(`${workDir}/node_modules/socket.io-client`, pkg);
  } else {
    await Deno.remove(pkg, { recursive: true }).catch(() => {});
    await writeOurPackage(pkg, "socket.io-client", [
      { out: "build/cjs/index.js", entry: "client/mod.ts" },
      { out: "build/cjs/url.js", entry: "client/url.ts" },
    ]);
  }
  await copyTree(`${pkgDir}/test`, `${pkg}/test`);

  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  await patchFile(
    `${pkg}/test/support/util.ts`,
    `"http://localhost:3210"`,
    `"${base}"`,
  );
  for (const name of ["unref.ts", "unref-polling-only.ts", "unref-websocket-only.ts"]) {
    await patchFile(`${pkg}/test/fixtures/${name}`, `"http://localhost:3210"`, `"${base}"`);
  }

  const fixture = await startFixture("client_support.ts", `${workDir}/fixture.log`, port);
  try {
    const websocket = variant === "ours" ? ["--experimental-websocket"] : [];
    return await runMocha({
      name: variant === "official" ? "socket.io-client (official)" : "socket.io-client (ours)",
      cwd: workDir,
      nodeArgs: websocket,
      // The suite's own `test:node` flags, less `--require test/support/hooks.ts`: the runner
      // starts our support server instead.
      mochaArgs: ["--import=tsx", "--exit", "pkg/test/index.ts"],
      env: websocket.length ? { NODE_OPTIONS: websocket.join(" ") } : {},
      log,
      notApplicable: variant === "official" ? CLIENT_NOT_APPLICABLE : CLIENT_OURS_NOT_APPLICABLE,
    });
  } finally {
    await fixture.stop();
  }
}
