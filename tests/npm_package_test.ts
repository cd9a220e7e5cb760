/**
 * The npm package `@socketio-edge/core`, from its packed tarball installed into a scratch
 * project (helpers/npm_package.ts), as npm users get it: the server under Node
 * (`@socketio-edge/core/node`), Bun and Deno (`npm:` specifiers) reached by the official
 * `socket.io-client`; our client from the package under Node, Bun and Deno, and bundled by
 * esbuild for the browser as esm.sh bundles npm packages, in Chromium; and `tsc` over a user's
 * project (tests/npm/user_project.ts) with TypeScript 5.9, 6.0 and 7.0, lib.dom, `@types/node` or
 * `@types/bun` and `skipLibCheck` off, then over the sources themselves with the same types.
 */
import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import type { Browser } from "playwright-core";
import { Server } from "../mod.ts";
import { body as esmBundle } from "../client/dist/socket.io.esm.min.js.ts";
import { runTsc, sourcesTsconfig } from "../scripts/npm/build.ts";
import { TYPESCRIPT, USER_TYPESCRIPTS } from "../scripts/npm/tools.ts";
import { findBun } from "./helpers/bun.ts";
import { browserTest, launchChromium } from "./helpers/chromium.ts";
import {
  denoForm,
  installTypes,
  installTypeScripts,
  type NpmProject,
  npmProject,
  userProject,
  type UserTypes,
} from "./helpers/npm_package.ts";
import { startServerProcess } from "./helpers/process.ts";
import { serve } from "./helpers/serve.ts";
import { next, officialClient, settle } from "./helpers/socketio.ts";

const TRANSPORTS = ["polling", "websocket"] as const;

/** What the fixtures' `echo` answers to `echo("hi", { n: 1 })` on `transport`. */
const answer = (transport: string) => ({ args: ["hi", { n: 1 }], transport });

/** The official client's round trip on each transport: an emit and its ack. */
async function officialRoundTrips(url: string): Promise<void> {
  for (const transport of TRANSPORTS) {
    const c = officialClient(url, { transports: [transport], forceNew: true, reconnection: false });
    try {
      assert.deepEqual(
        await c.timeout(10_000).emitWithAck("echo", "hi", { n: 1 }),
        answer(transport),
      );
    } finally {
      const engine = c.io.engine;
      const closed = engine && engine.readyState !== "closed" ? next(engine, "close") : undefined;
      c.disconnect();
      await closed;
      await settle();
    }
  }
}

/**
 * Runs a server fixture of the project (`cmd args...`), the official client against it, and
 * fetches the client bundle it serves (a module of the package's `client/dist/`).
 */
async function serverRoundTrips(cmd: string, args: string[], cwd: string): Promise<void> {
  const server = await startServerProcess(cmd, args, cwd);
  try {
    await officialRoundTrips(server.url);
    const served = await fetch(`${server.url}/socket.io/socket.io.esm.min.js`);
    assert.equal(served.status, 200);
    assert.equal(await served.text(), esmBundle);
  } finally {
    await server.stop();
  }
}

/** Deno in the scratch project: its `node_modules` as npm installed it, no lock file. */
const DENO_RUN = ["run", "--allow-net", "--allow-env", "--allow-read", "--no-lock"];
const DENO_NODE_MODULES = "--node-modules-dir=manual";

Deno.test("npm package: the server under Node (@socketio-edge/core/node), with the official client", async () => {
  const p = await npmProject();
  await serverRoundTrips("node", ["server_node.mjs"], p.dir);
});

Deno.test("npm package: the server under Bun, with the official client", async () => {
  const bun = await findBun();
  if (!bun) {
    console.log("SKIPPED: bun not installed and could not be installed from npm");
    return;
  }
  const p = await npmProject();
  await serverRoundTrips(bun, ["run", "server.mjs"], p.dir);
});

Deno.test("npm package: the server under Deno (npm: specifiers), with the official client", async () => {
  const p = await npmProject();
  const fixture = await denoForm(p, "server.mjs");
  await serverRoundTrips(Deno.execPath(), [...DENO_RUN, DENO_NODE_MODULES, fixture], p.dir);
});

/** Our server in this process, with the fixtures' `echo`. */
function echoServer() {
  const io = new Server();
  io.on("connection", (socket) => {
    socket.on("echo", (...args: unknown[]) => {
      const ack = args.pop() as (answer: unknown) => void;
      ack({ args, transport: socket.conn.transport.name });
    });
  });
  const http = serve(io.handler());
  return {
    url: http.origin,
    close: async () => {
      await io.close();
      await http.close();
    },
  };
}

/** Runs the client fixture (`cmd args... <url> <transports>`) in the project; its answers. */
async function clientAnswers(
  p: NpmProject,
  cmd: string,
  args: string[],
  transports: readonly string[],
  extra: string[] = [],
): Promise<unknown[]> {
  const server = echoServer();
  try {
    const { code, stdout, stderr } = await new Deno.Command(cmd, {
      args: [...args, server.url, ...transports, ...extra],
      cwd: p.dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, `${cmd} exited with ${code}: ${out}${new TextDecoder().decode(stderr)}`);
    return out.trim().split("\n").map((line) => JSON.parse(line));
  } finally {
    await server.close();
  }
}

Deno.test("npm package: our client under Node, over polling", async () => {
  const p = await npmProject();
  assert.deepEqual(await clientAnswers(p, "node", ["client.mjs"], ["polling"]), [
    answer("polling"),
  ]);
});

Deno.test("npm package: our client under Node, over WebSocket with npm ws as the WebSocket option", async () => {
  const p = await npmProject();
  assert.deepEqual(
    await clientAnswers(p, "node", ["client.mjs"], ["websocket"], ["--ws"]),
    [answer("websocket")],
  );
});

Deno.test("npm package: our client under Bun, over polling and WebSocket", async () => {
  const bun = await findBun();
  if (!bun) {
    console.log("SKIPPED: bun not installed and could not be installed from npm");
    return;
  }
  const p = await npmProject();
  assert.deepEqual(
    await clientAnswers(p, bun, ["run", "client.mjs"], TRANSPORTS),
    TRANSPORTS.map(answer),
  );
});

Deno.test("npm package: our client under Deno (npm: specifiers), over polling and WebSocket", async () => {
  const p = await npmProject();
  const fixture = await denoForm(p, "client.mjs");
  assert.deepEqual(
    await clientAnswers(p, Deno.execPath(), [...DENO_RUN, DENO_NODE_MODULES, fixture], TRANSPORTS),
    TRANSPORTS.map(answer),
  );
});

// The page: the bundle as a module, an emit with an ack on each transport, the answers as title.
const PAGE = `<!doctype html>
<script type="module">
  import { io } from "/client.js";
  const answers = [];
  for (const transport of ${JSON.stringify(TRANSPORTS)}) {
    const socket = io({ transports: [transport], forceNew: true, reconnection: false });
    answers.push(await socket.timeout(10000).emitWithAck("echo", "hi", { n: 1 }));
    socket.disconnect();
  }
  document.title = "answers:" + JSON.stringify(answers);
</script>`;

browserTest(
  "npm package: our client bundled from the package as esm.sh does (esbuild, browser), in Chromium",
  async (chromium) => {
    const p = await npmProject();
    // As esm.sh builds `esm.sh/@socketio-edge/core/client`: esbuild for the browser, which
    // honours the package's `browser` field and conditions.
    const built = await esbuild.build({
      stdin: {
        contents: 'export * from "@socketio-edge/core/client";',
        resolveDir: p.dir,
        loader: "js",
      },
      bundle: true,
      write: false,
      platform: "browser",
      format: "esm",
      target: "es2022",
      metafile: true,
      logLevel: "error",
    });
    await esbuild.stop();
    const inputs = Object.keys(built.metafile.inputs);
    for (const folder of ["unref", "cookies"]) {
      assert.ok(inputs.some((i) => i.endsWith(`/core/client/${folder}/browser.js`)), folder);
      assert.ok(!inputs.some((i) => i.endsWith(`/core/client/${folder}/mod.js`)), folder);
    }
    const bundle = built.outputFiles[0].text;

    const io = new Server();
    io.on("connection", (socket) => {
      socket.on("echo", (...args: unknown[]) => {
        const ack = args.pop() as (answer: unknown) => void;
        ack({ args, transport: socket.conn.transport.name });
      });
    });
    const handler = io.handler((req) => {
      const path = new URL(req.url).pathname;
      return path === "/client.js"
        ? new Response(bundle, { headers: { "content-type": "text/javascript" } })
        : new Response(PAGE, { headers: { "content-type": "text/html" } });
    });
    const http = serve(handler);
    let browser: Browser | undefined;
    try {
      browser = await launchChromium(chromium);
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (err) => errors.push(String(err)));
      await page.goto(http.origin);
      await page.waitForFunction(`document.title.startsWith("answers:")`, undefined, {
        timeout: 30_000,
      }).catch((err) => {
        throw new Error(`${err}; page errors: ${errors.join("; ")}`);
      });
      assert.deepEqual(
        JSON.parse((await page.title()).slice("answers:".length)),
        TRANSPORTS.map(answer),
      );
    } finally {
      await browser?.close();
      await io.close();
      await http.close();
    }
  },
);

/** A check to run: which TypeScript over what, and its tsconfig. */
interface Check {
  name: string;
  tsc: string;
  config: string;
}

/** Runs the checks two at a time (tsc is single-threaded); the failures with tsc's output. */
async function runChecks(checks: Check[]): Promise<string[]> {
  const failures: string[] = [];
  const queue = [...checks];
  const worker = async () => {
    for (let check = queue.shift(); check; check = queue.shift()) {
      const errors = await runTsc(check.tsc, check.config);
      if (errors !== undefined) failures.push(`${check.name}:\n${errors}`);
    }
  };
  await Promise.all([worker(), worker()]);
  return failures;
}

Deno.test("npm package: tsc over a user project (every entry, typed events) and over the sources, with @types/node or @types/bun and no Deno types", async () => {
  const p = await npmProject();
  const tscs = await installTypeScripts(USER_TYPESCRIPTS);
  const checks: Check[] = [];
  for (const types of ["node", "bun"] as UserTypes[]) {
    const config = await userProject(p, types);
    // The sources, as a Bun user (or a Node one on another TypeScript) compiles them: the build
    // checked them with its own TypeScript and the Node types already.
    const modules = await installTypes(types);
    const sources = `${p.dir}/sources-${types}.json`;
    await Deno.writeTextFile(
      sources,
      JSON.stringify(await sourcesTsconfig({ typeRoots: [`${modules}/@types`], types: [types] })),
    );
    USER_TYPESCRIPTS.forEach((version, i) => {
      checks.push({ name: `user project, TypeScript ${version}, ${types}`, tsc: tscs[i], config });
      if (types === "bun" || version !== TYPESCRIPT) {
        checks.push({
          name: `sources, TypeScript ${version}, ${types}`,
          tsc: tscs[i],
          config: sources,
        });
      }
    });
  }
  const failures = await runChecks(checks);
  assert.deepEqual(failures, [], failures.join("\n\n"));
});
