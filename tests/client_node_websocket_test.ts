/**
 * The client outside browsers: under Node 20, which has no global `WebSocket`, it says so at
 * once (WebSocket only: a `connect_error` naming the `WebSocket` option; polling first: the
 * session stays on polling, and the engine's `upgradeError` says why), and with npm `ws`'s class
 * as the `WebSocket` option it connects over WebSocket, upgrades, carries binary, sends
 * `extraHeaders` and kept cookies, and lets the process exit with `autoUnref`. The option works
 * the same under Deno and Bun, which have a `WebSocket` of their own. A constructor that throws
 * fails the connection at once with its error (it was lost, and the connection timed out).
 *
 * The client runs as a real program (`fixtures/client_node_websocket.ts`, built for Node with
 * esbuild as the Node tests build theirs) against our server in this process.
 */
import assert from "node:assert/strict";
import { WebSocket as NodeWebSocket } from "ws";
import { io, type ManagerOptions, type WebSocketConstructor } from "../client/mod.ts";
import { findBun } from "./helpers/bun.ts";
import { buildNodeScript } from "./helpers/node.ts";
import { once, recordingServer, startOfficial, track } from "./fixtures/client_env.ts";

const FIXTURE = new URL("./fixtures/client_node_websocket.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

// The option takes npm ws's class and the standard one as they are, with no cast.
const _types: Array<Partial<ManagerOptions>> = [
  { WebSocket: NodeWebSocket },
  { WebSocket: WebSocket },
  { transportOptions: { websocket: { WebSocket: NodeWebSocket } } },
];
const _standard: WebSocketConstructor = globalThis.WebSocket;

type Runtime = "node" | "deno" | "bun";

/**
 * The fixture's command line under `runtime`: Deno runs the TypeScript as it is; Node and Bun
 * the build for Node, beside the installed npm `ws`.
 */
async function commandOf(runtime: Runtime): Promise<{ cmd: string[]; remove(): Promise<void> }> {
  if (runtime === "deno") {
    return {
      cmd: [Deno.execPath(), "run", "--allow-net", "--allow-env", FIXTURE],
      remove: () => Promise.resolve(),
    };
  }
  const bun = runtime === "bun" ? await findBun() : "node";
  assert.ok(bun, "bun is needed (tests/helpers/bun.ts installs it)");
  const { file, remove } = await buildNodeScript(FIXTURE);
  return { cmd: [bun, file], remove };
}

/**
 * Runs the fixture's `scenario` to its end; returns what it reported. A program still running
 * after 30 s fails the test (something it opened holds it).
 */
async function run(
  [cmd, ...args]: string[],
  url: string,
  scenario: string,
): Promise<Record<string, unknown>> {
  const child = new Deno.Command(cmd, {
    args: [...args, url, scenario],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const hang = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const { code, signal, stdout, stderr } = await child.output();
  clearTimeout(hang);
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  assert.equal(signal, null, `${cmd} ${scenario} still running after 30 s: ${out} ${err}`);
  assert.equal(code, 0, `${cmd} ${scenario}: ${out} ${err}`);
  return JSON.parse(out.trim().split("\n").pop()!);
}

Deno.test("client under Node 20 with no WebSocket option: WebSocket only fails at once, saying so; polling first stays on polling", async () => {
  const { stdout } = await new Deno.Command("node", { args: ["-p", "typeof WebSocket"] }).output();
  assert.equal(new TextDecoder().decode(stdout).trim(), "undefined", "this Node has a WebSocket");
  const server = recordingServer();
  const node = await commandOf("node");
  try {
    const failed = await run(node.cmd, server.url, "no-option-websocket");
    // Not "timeout": the transport failed, and the reason says what to do.
    assert.match(String(failed.message), /^No WebSocket in this runtime/);
    assert.match(String(failed.message), /"WebSocket" option/);
    assert.equal(failed.engineClose, "transport error");
    assert.equal(server.seen.length, 0);

    const polling = await run(node.cmd, server.url, "no-option-default");
    assert.equal(polling.ack, "hello");
    assert.equal(polling.transport, "polling");
    assert.equal(polling.serverTransport, "polling");
    assert.equal(polling.upgrades, 0);
    assert.deepEqual(polling.upgradeErrors, [
      `probe error: Error: ${failed.message}`,
    ]);
    // No WebSocket request was tried.
    assert.ok(server.seen.every((r) => r.transport === "polling"));
  } finally {
    await server.close();
    await node.remove();
  }
});

for (const runtime of ["node", "deno", "bun"] as const) {
  Deno.test(`client under ${runtime} with npm ws as the WebSocket option: WebSocket, upgrade, binary, headers, cookies, autoUnref`, async () => {
    const server = recordingServer({ cookie: { name: "sticky" } });
    const { cmd, remove } = await commandOf(runtime);
    try {
      const direct = await run(cmd, server.url, "ws-websocket");
      assert.deepEqual(direct, {
        transport: "websocket",
        serverTransport: "websocket",
        header: "from-node",
        bytes: [1, 2, 3],
        theOption: true,
      });
      const wsRequests = server.seen.filter((r) => r.transport === "websocket");
      assert.ok(wsRequests.length >= 1);
      for (const req of wsRequests) assert.equal(req.custom, "from-node");

      server.seen.length = 0;
      const upgraded = await run(cmd, server.url, "ws-upgrade");
      const { sid, ...rest } = upgraded;
      assert.deepEqual(rest, {
        transport: "websocket",
        serverTransport: "websocket",
        header: "from-node",
        bytes: [1, 2, 3],
        theOption: true,
      });
      const probe = server.seen.filter((r) => r.transport === "websocket");
      assert.equal(probe.length, 1);
      // The upgrade request carries the extra headers and the cookie polling kept.
      assert.deepEqual(probe[0], {
        sid,
        transport: "websocket",
        cookie: `sticky=${sid}`,
        custom: "from-node",
      });

      // The program exits on its own while connected: the option's connection is unref'd.
      assert.deepEqual(await run(cmd, server.url, "ws-autounref"), {
        connected: true,
        theOption: true,
      });
    } finally {
      await server.close();
      await remove();
    }
  });
}

Deno.test("client under Node 20 with npm ws as the WebSocket option: sub-protocols and extra headers together (official server)", async () => {
  // Ours answers no sub-protocol, which npm ws refuses; the official one (on npm ws) picks one.
  const official = await startOfficial();
  const node = await commandOf("node");
  try {
    assert.deepEqual(await run(node.cmd, official.url, "ws-protocols"), {
      protocol: "chat",
      transport: "websocket",
      serverTransport: "websocket",
      header: "from-node",
      bytes: [1, 2, 3],
      theOption: true,
    });
  } finally {
    await official.close();
    await node.remove();
  }
});

Deno.test("client: a WebSocket constructor that throws fails the connection at once with its error, as the official client reports it", async () => {
  const tracker = track();
  const server = recordingServer();
  try {
    // Deno's WebSocket refuses a protocol with a space (SyntaxError), in the engine's constructor.
    const socket = io(server.url, {
      forceNew: true,
      transports: ["websocket"],
      protocols: ["not a token"],
      reconnection: false,
    });
    const [err] = await once<[Error]>(socket, "connect_error");
    assert.equal(err.name, "SyntaxError");
    assert.equal(err.message, "Invalid protocol value");
    socket.disconnect();
    await tracker.drained();
  } finally {
    tracker.restore();
    await server.close();
  }
});
