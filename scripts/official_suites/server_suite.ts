/**
 * The official socket.io server suite (`packages/socket.io/test/index.ts`, mocha with tsx, as
 * its `test:unit` script runs it, less `--bail`) against our server on Node, through the Node
 * entry (`node/mod.ts`) built by `scripts/build_node.ts`.
 *
 * The suite imports its package as `..` (and `../..` from its fixtures): the scratch folder lays
 * out a package `socket.io` whose `main` is our CommonJS build, with the suite's tests inside it
 * as in the monorepo, so no test file is changed. The tools are those of the snapshot's lock;
 * `socket.io-client` and `socket.io-adapter` at the snapshot's versions; npm `ws` at the version
 * our Node entry pins. `uWebSockets.js` is not on npm: a stub stands in so that `uws.ts` loads,
 * and its tests are not applicable.
 *
 * Standalone: deno run -A scripts/official_suites/server_suite.ts <snapshot> [work dir]
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import type { NotApplicable } from "./mocha.ts";
import { runMocha } from "./mocha.ts";
import { lockedVersion, npmInstall, snapshotVersion } from "./npm.ts";
import { copyTree, ROOT } from "./process.ts";
import { buildNode } from "../build_node.ts";

const UWS = "socket.io socket.io with uWebSocket.js-based engine ";
const UWS_REASON =
  "tests the official uWebSockets.js engine (`io.attachApp(app)`): socketio-edge " +
  "has no uWebSockets.js binding, and uWebSockets.js is not on npm";
const UWS_TESTS = [
  "should broadcast",
  "should broadcast in a namespace",
  "should broadcast in a dynamic namespace",
  "should broadcast binary content",
  "should broadcast volatile packet with binary content",
  "should broadcast in a room",
  "should broadcast in multiple rooms",
  "should broadcast in all but a given room",
  "should work when joining a room in a middleware",
  "should work even after leaving room",
  "should not crash when socket is disconnected before the upgrade",
  "static files should serve socket.io.js",
  "static files should serve socket.io.js (with query params)",
  "static files should serve socket.io.js.map",
  "static files should serve socket.io.min.js",
  "static files should serve socket.io.min.js.map",
  "static files should serve socket.io.msgpack.min.js",
  "static files should serve socket.io.msgpack.min.js.map",
  "static files should not serve unknown files from the Socket.IO path",
  "static files should return 404 for mismatching path",
  "static files should return 304 when If-None-Match matches ETag",
  "static files should return 200 when If-None-Match does not match ETag",
];

const LEAVE_ALL = "calls the official private method `socket.leaveAll()` (joining, leaving and " +
  "`socket.rooms` up to that call pass)";
const OPERATOR_FIELDS = "reads the official private fields `rooms`, `exceptRooms` and `flags` " +
  "of BroadcastOperator";

// The served client is ours, not the official one: its ETag is each file's content hash, where
// these tests compare it with the package version (and send that version as If-None-Match).
const VERSION_ETAG = "expects the official package version as the client files' ETag; ours is " +
  "each file's content hash (our bundle is not the official one), and If-None-Match with it, " +
  "strong or weak, gets 304 (tests/server_serve_client_test.ts)";
const VERSION_ETAG_TESTS = [
  "should serve client",
  "should serve client with query string",
  "should serve source map",
  "should serve client (min)",
  "should serve source map (min)",
  "should serve bundle with msgpack parser",
  "should serve source map for bundle with msgpack parser",
  "should serve the ESM bundle",
  "should serve the source map for the ESM bundle",
  "should handle 304",
];

/** The server suite's tests that do not apply to us, by full title, with why. */
export const SERVER_NOT_APPLICABLE: NotApplicable = {
  ...Object.fromEntries(
    VERSION_ETAG_TESTS.map((t) => [`socket.io server attachment http.Server ${t}`, VERSION_ETAG]),
  ),
  ...Object.fromEntries(UWS_TESTS.map((t) => [UWS + t, UWS_REASON])),
  "socket.io server attachment http.Server should work with #attach (and merge options)":
    "reads the official private field `server.eio`; ours merges the options the same way, " +
    "seen in `io.engine.opts` (tests/server_node_test.ts)",
  "socket.io namespaces should return an immutable broadcast operator": OPERATOR_FIELDS,
  "socket.io messaging many should return an immutable broadcast operator": OPERATOR_FIELDS,
  "socket.io messaging many keeps track of rooms": LEAVE_ALL,
  "socket.io messaging many should properly cleanup left rooms": LEAVE_ALL,
  "socket.io messaging many should precompute the WebSocket frame when broadcasting":
    "reads the engine.io internal `packet.options.wsPreEncodedFrame`",
  "socket.io socket should handle transport null messages":
    "calls the official private method `socket.client.ondata(null)`",
  "socket.io socket should ignore a packet received after disconnection":
    "asserts that an event the client sent BEFORE its DISCONNECT, in the same read, is dropped: " +
    "the official server defers dispatch by two ticks, so the DISCONNECT overtakes it; we " +
    "deliver what the client sent before leaving and drop only packets after the DISCONNECT " +
    "(tests/server_protocol_close_test.ts); README lists the difference",
  "socket.io middleware should only set `connected` to true after the middleware execution":
    "reads the official private field `namespace._preConnectSockets`",
  "socket.io socket should handshake a client without access to the Engine.IO request (WebTransport-only connection)":
    "simulates a WebTransport-only session by deleting the engine socket's `request`; " +
    "socketio-edge has no WebTransport",
};

/** Stands in for `uWebSockets.js`, whose tests are left out of the run. */
const UWS_STUB = `"use strict";
const missing = () => { throw new Error("uWebSockets.js is not installed"); };
module.exports = { App: missing, us_socket_local_port: missing, us_listen_socket_close: missing };
`;

/**
 * Fixtures that a partial clone of the monorepo may lack (their blobs are large): made up of
 * the same kind and a like size when missing. The tests only send them back and forth.
 */
const FIXTURES: Record<string, () => Uint8Array> = {
  "big.json": () => {
    const rows = Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `row ${i}`, ok: i % 2 }));
    return new TextEncoder().encode(JSON.stringify(rows));
  },
  "big.jpg": () => {
    // Deterministic bytes (a linear congruential sequence), 400 kB.
    const bytes = new Uint8Array(400_000);
    let x = 1;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return bytes;
  },
};

/** Runs the official server suite against our server on Node. */
export async function run(snapshotDir: string, workDir: string): Promise<SuiteResult> {
  const log = `${workDir}/run.log`;
  await Deno.mkdir(workDir, { recursive: true });
  await Deno.writeTextFile(log, "");
  const locked = (name: string) => lockedVersion(snapshotDir, name);
  const stub = `${workDir}/stubs/uWebSockets.js`;
  await Deno.mkdir(stub, { recursive: true });
  await Deno.writeTextFile(
    `${stub}/package.json`,
    JSON.stringify({ name: "uWebSockets.js", version: "0.0.0-stub", main: "index.js" }),
  );
  await Deno.writeTextFile(`${stub}/index.js`, UWS_STUB);
  const deno = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  await npmInstall(workDir, {
    "socket.io-client": await snapshotVersion(snapshotDir, "packages/socket.io-client"),
    "socket.io-adapter": await snapshotVersion(snapshotDir, "packages/socket.io-adapter"),
    "socket.io-client-v2": `npm:socket.io-client@${await locked("socket.io-client-v2")}`,
    "mocha": await locked("mocha"),
    "tsx": await locked("tsx"),
    "expect.js": await locked("expect.js"),
    "supertest": await locked("supertest"),
    "superagent": await locked("superagent"),
    // Our Node entry's own dependency, at the version it pins.
    "ws": String(deno.imports.ws).replace(/^npm:ws@/, ""),
    "uWebSockets.js": "file:./stubs/uWebSockets.js",
  }, log);

  // Our server as the package under test, with the suite inside it as in the monorepo.
  const pkg = `${workDir}/pkg`;
  await Deno.remove(pkg, { recursive: true }).catch(() => {});
  await buildNode(`${pkg}/dist`);
  await Deno.writeTextFile(
    `${pkg}/package.json`,
    JSON.stringify({ name: "socket.io", version: deno.version, main: "./dist/index.cjs" }, null, 2),
  );
  const suite = `${snapshotDir}/packages/socket.io`;
  await copyTree(`${suite}/test`, `${pkg}/test`);
  await Deno.copyFile(`${suite}/tsconfig.json`, `${pkg}/tsconfig.json`).catch(() => {});
  for (const [name, make] of Object.entries(FIXTURES)) {
    const path = `${pkg}/test/fixtures/${name}`;
    const size = (await Deno.stat(path).catch(() => undefined))?.size ?? 0;
    if (size === 0) await Deno.writeFile(path, make());
  }

  return await runMocha({
    name: "socket.io server",
    cwd: workDir,
    // The suite's `test:unit` flags, without `--bail` (every result is wanted) and with `--exit`
    // (a server one of our failures leaves open must not hold the run).
    mochaArgs: ["--import=tsx", "--timeout", "10000", "--exit", "pkg/test/index.ts"],
    log,
    notApplicable: SERVER_NOT_APPLICABLE,
    timeoutMs: 20 * 60_000,
  });
}

if (import.meta.main) {
  const [snapshot, work = "/tmp/socketio-edge-server-suite"] = Deno.args;
  if (!snapshot) {
    console.error("usage: deno run -A scripts/official_suites/server_suite.ts <snapshot> [work]");
    Deno.exit(2);
  }
  const result = await run(await Deno.realPath(snapshot), work);
  console.log(
    `${result.name}: ${result.passed.length} passed, ${result.failed.length} failed, ` +
      `${result.notApplicable.length} not applicable`,
  );
  for (const { title, error } of result.failed) console.log(`FAIL ${title}\n     ${error}`);
}
