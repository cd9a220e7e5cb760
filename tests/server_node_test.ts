/**
 * The Socket.IO server under Node, through the Node entry (`@socketio-edge/core/node`) built
 * with esbuild: the official client (`socket.io-client@4.8.4`, run by Deno) over polling,
 * WebSocket and the upgrade against `new Server(httpServer)`, `io.listen(port)`,
 * `new Server(port)` and `io.attach(httpServer, opts)`, `io.close()` closing the HTTP server;
 * and the bridge alone (tests/fixtures/node_bridge.ts) for several Set-Cookie headers, streamed
 * bodies, backpressure and clients that go away.
 */
import assert from "node:assert/strict";
import { Server } from "../mod.ts";
import { NodeHeaders } from "../node/headers.ts";
import { buildForNode, type NodeBuild, type NodeProcess, startNode } from "./helpers/node.ts";
import { addAppHeaders } from "./fixtures/client_handlers.mjs";
import { handshake, poll, pollingUrl, post } from "./helpers/engine.ts";
import { rawRequest, rawUpgrade } from "./helpers/raw.ts";
import { serve } from "./helpers/serve.ts";
import {
  type ClientOptions,
  type ClientSocket,
  delay,
  type Mode,
  MODES,
  next,
  nextArgs,
  officialClient,
  settle,
  upgraded,
} from "./helpers/socketio.ts";

const SERVER = new URL("./fixtures/node_server.mjs", import.meta.url).pathname;

function transportsOf(mode: Mode): string[] {
  return mode === "polling"
    ? ["polling"]
    : mode === "websocket"
    ? ["websocket"]
    : ["polling", "websocket"];
}

/** Disconnects a client and waits until its connection is closed. */
async function closeClient(c: ClientSocket): Promise<void> {
  const engine = c.io.engine;
  const closed = engine && engine.readyState !== "closed" ? next(engine, "close") : undefined;
  c.disconnect();
  await closed;
  await settle();
}

/** Stops the Node server: `io.close()` there must close its HTTP server and let Node exit. */
async function stopServer(server: NodeProcess): Promise<string> {
  const out = await server.stop();
  assert.match(out, /CLOSED listening=false/, out);
  return out;
}

/** One client round on `url` in `mode`: welcome, acks with text and binary, server emits. */
async function exercise(url: string, mode: Mode, opts: ClientOptions = {}): Promise<void> {
  const c = officialClient(url, {
    transports: transportsOf(mode),
    forceNew: true,
    reconnection: false,
    ...opts,
  });
  try {
    const [welcome] = await nextArgs<[{ id: string }]>(c, "welcome");
    assert.equal(welcome.id, c.id);
    if (mode === "upgrade") await upgraded(c);
    assert.equal(
      await c.timeout(2000).emitWithAck("transport"),
      mode === "polling" ? "polling" : "websocket",
    );
    const echoed = await new Promise<unknown[]>((resolve) =>
      c.emit("echo", "text", { n: 1 }, new Uint8Array([1, 2, 3]), (...a: unknown[]) => resolve(a))
    );
    assert.equal(echoed[0], "text");
    assert.deepEqual(echoed[1], { n: 1 });
    assert.deepEqual([...new Uint8Array(echoed[2] as ArrayBuffer)], [1, 2, 3]);
    // Binary reaches server code as bytes.
    assert.deepEqual(
      await c.timeout(2000).emitWithAck("binary?", new Uint8Array(300)),
      { bytes: true, length: 300 },
    );
    const back = next(c, "news");
    c.emit("emit-back", "news", "from the server");
    assert.equal(await back, "from the server");
  } finally {
    await closeClient(c);
  }
}

Deno.test("Socket.IO on Node", async (t) => {
  const build: NodeBuild = await buildForNode();
  try {
    await t.step("new Server(httpServer): polling, websocket, upgrade", async (t) => {
      const server = await startNode(SERVER, [build.entry, "http"]);
      try {
        for (const mode of MODES) await t.step(mode, () => exercise(server.url, mode));
        // Other paths get 404 when the HTTP server has no listener of its own.
        const other = await fetch(`${server.url}/somewhere`);
        await other.body?.cancel();
        assert.equal(other.status, 404);
        const bundle = await fetch(`${server.url}/socket.io/socket.io.js`);
        assert.equal(bundle.status, 200);
        assert.match(bundle.headers.get("content-type") ?? "", /javascript/);
        await bundle.body?.cancel();
        // A refused upgrade gets the engine's answer, written on the raw socket.
        const refused = await rawUpgrade(
          server.port,
          "/socket.io/?EIO=4&transport=websocket&sid=nope",
        );
        assert.equal(refused.status, 400);
        assert.equal(refused.body, "Session ID unknown");
        // An upgrade that ws refuses (no key) is answered 400 and reported with ws's reason.
        const keyless = await rawRequest(
          server.port,
          `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
        );
        assert.equal(keyless.status, 400);
      } finally {
        const out = await stopServer(server);
        const errors = [...out.matchAll(/^CONNECTION_ERROR (.*)$/gm)].map((m) => JSON.parse(m[1]));
        assert.deepEqual(errors, [
          { code: 1, message: "Session ID unknown" },
          {
            code: 3,
            message: "Bad request",
            name: "TRANSPORT_HANDSHAKE_ERROR",
            error: "Error: Missing or invalid Sec-WebSocket-Key header",
          },
        ]);
      }
    });

    await t.step("polling answers are sized, with CORS and cookie headers", async () => {
      // The official server sends each polling answer with a Content-Length.
      const opts = { cors: { origin: "http://app.example", credentials: true }, cookie: true };
      const server = await startNode(SERVER, [build.entry, "http", JSON.stringify(opts)]);
      const head = "Host: 127.0.0.1\r\nOrigin: http://app.example\r\n";
      const checkHeaders = (answer: { headers: Record<string, string>; body: string }) => {
        assert.equal(
          answer.headers["content-length"],
          String(new TextEncoder().encode(answer.body).byteLength),
        );
        assert.equal(answer.headers["transfer-encoding"], undefined);
        assert.equal(answer.headers["access-control-allow-origin"], "http://app.example");
        assert.equal(answer.headers["access-control-allow-credentials"], "true");
      };
      try {
        const open = await rawRequest(
          server.port,
          `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n${head}\r\n`,
        );
        assert.equal(open.status, 200);
        assert.equal(open.headers["content-type"], "text/plain; charset=UTF-8");
        checkHeaders(open);
        const sid = JSON.parse(open.body.slice(1)).sid;
        assert.match(open.headers["set-cookie"], new RegExp(`^io=${sid}; Path=/; HttpOnly`));
        const query = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
        const posted = await rawRequest(
          server.port,
          `POST ${query} HTTP/1.1\r\n${head}Content-Length: 2\r\n\r\n40`,
        );
        assert.equal(posted.status, 200);
        assert.equal(posted.body, "ok");
        checkHeaders(posted);
        const polled = await rawRequest(server.port, `GET ${query} HTTP/1.1\r\n${head}\r\n`);
        assert.equal(polled.status, 200);
        assert.match(polled.body, /^40\{"sid":"[^"]+"\}/);
        checkHeaders(polled);
        const unknown = await rawRequest(
          server.port,
          `POST /socket.io/?EIO=4&transport=polling&sid=nope HTTP/1.1\r\n${head}Content-Length: 2\r\n\r\n40`,
        );
        assert.equal(unknown.status, 400);
        assert.equal(unknown.headers["access-control-allow-origin"], "http://app.example");
      } finally {
        await stopServer(server);
      }
    });

    await t.step("a held poll whose client goes away ends the session", async () => {
      const server = await startNode(SERVER, [build.entry, "http"]);
      const base = `${server.url}/socket.io/`;
      try {
        const { sid } = await handshake(base);
        // The first poll takes the connect packet's answer; the second is held.
        assert.equal((await post(base, sid, "40")).body, "ok");
        assert.match(await poll(base, sid), /^40\{"sid"/);
        const abort = new AbortController();
        const held = fetch(pollingUrl(base, sid), { signal: abort.signal });
        await delay(100);
        abort.abort();
        await assert.rejects(held);
        // The session goes once Node reports the response closed early: a noop POST is then
        // refused, long before the heartbeat would have ended the session.
        let status = 200;
        for (let i = 0; i < 100 && status === 200; i++) {
          await delay(10);
          status = (await post(base, sid, "6")).status;
        }
        assert.equal(status, 400);
      } finally {
        await stopServer(server);
      }
    });

    await t.step("the core entry on Node, without the Node runtime, names Node", async () => {
      // The built entry's BaseServer is the core's Server: it finds Deno and Bun only.
      const { stdout, success } = await new Deno.Command("node", {
        args: [
          "--input-type=module",
          "-e",
          `const { BaseServer } = await import(${JSON.stringify(build.entry)});\n` +
          "try { new BaseServer(); console.log('constructed'); } " +
          "catch (err) { console.log(err.message); }",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      assert.ok(success);
      const message = new TextDecoder().decode(stdout);
      assert.match(message, /runs on Node\.js\/20\./);
      assert.match(message, /import \{ Server \} from "@socketio-edge\/core\/node"/);
    });

    await t.step("io.listen(port)", async () => {
      const server = await startNode(SERVER, [build.entry, "listen"]);
      try {
        await exercise(server.url, "upgrade");
      } finally {
        await stopServer(server);
      }
    });

    await t.step("new Server(port): other paths get 404", async () => {
      const server = await startNode(SERVER, [build.entry, "port"]);
      try {
        await exercise(server.url, "websocket");
        const other = await fetch(`${server.url}/somewhere`);
        await other.body?.cancel();
        assert.equal(other.status, 404);
      } finally {
        await stopServer(server);
      }
    });

    await t.step("io.attach(httpServer, opts) under the constructor's options", async () => {
      const server = await startNode(SERVER, [
        build.entry,
        "attach",
        JSON.stringify({ pingInterval: 24000, pingTimeout: 1000 }),
      ]);
      let out: string;
      try {
        await exercise(server.url, "polling");
        // The HTTP server's own listener answers the other paths.
        assert.equal(await (await fetch(`${server.url}/somewhere`)).text(), "the app");
      } finally {
        out = await stopServer(server);
      }
      // As the official server: attach's options apply, the constructor's win.
      const engine = JSON.parse(/ENGINE (.*)\n/.exec(out)![1]);
      assert.deepEqual(engine, { pingInterval: 24000, pingTimeout: 6000, path: "/socket.io/" });
    });

    await t.step("io.close() then io.listen(port) serves again", async () => {
      const server = await startNode(SERVER, [build.entry, "port"]);
      const c = officialClient(server.url, {
        forceNew: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 50,
        reconnectionAttempts: 40,
      });
      try {
        await next(c, "welcome");
        const reconnected = new Promise((resolve, reject) => {
          c.io.once("reconnect", resolve);
          c.io.once("reconnect_failed", () => reject(new Error("no reconnection")));
        });
        c.emit("restart");
        await reconnected;
        assert.deepEqual(await c.timeout(2000).emitWithAck("echo", "again"), "again");
      } finally {
        await closeClient(c);
        await stopServer(server);
      }
    });

    const tls = await selfSignedCert();
    await t.step({
      name: `new Server(httpsServer) on node:https: polling, websocket, upgrade${tls.skipped}`,
      ignore: tls.files === undefined,
      fn: async (t) => {
        const { key, cert, pem } = tls.files!;
        const server = await startNode(SERVER, [build.entry, "https", "{}", key, cert]);
        const url = `https://127.0.0.1:${server.port}`;
        try {
          // The official Node client verifies the certificate against `ca`.
          for (const mode of MODES) {
            await t.step(mode, () => exercise(url, mode, { ca: pem } as ClientOptions));
          }
        } finally {
          await stopServer(server);
        }
      },
    });

    await t.step({
      name: `new Server(http2.createSecureServer({ allowHTTP1: true }))${tls.skipped}`,
      ignore: tls.files === undefined,
      fn: async (t) => {
        const { key, cert, pem } = tls.files!;
        const server = await startNode(SERVER, [build.entry, "http2", "{}", key, cert]);
        const url = `https://127.0.0.1:${server.port}`;
        try {
          // The official Node client speaks HTTP/1.1, which allowHTTP1 serves.
          for (const mode of MODES) {
            await t.step(
              `HTTP/1.1 ${mode}`,
              () => exercise(url, mode, { ca: pem } as ClientOptions),
            );
          }
          await t.step("HTTP/2 polling", () => http2Polling(url, pem));
        } finally {
          await stopServer(server);
        }
      },
    });

    await tls.remove();

    await t.step(
      "the app's headers (middleware, initial_headers, headers, cookie) on the 101, as on Deno",
      async () => {
        const opts = { cookie: true };
        const node = await startNode(SERVER, [
          build.entry,
          "http",
          JSON.stringify({ ...opts, appHeaders: true }),
        ]);
        const io = new Server(opts);
        addAppHeaders(io);
        const deno = serve(io.handler());
        let out = "";
        try {
          const onNode = await appHeadersSeen(node.port);
          assert.deepEqual(onNode, await appHeadersSeen(deno.port));
          assert.deepEqual(onNode.websocket, [
            "set-cookie: a=1; Path=/",
            "set-cookie: b=2; HttpOnly",
            "x-every: without-sid",
            "x-initial: first",
            "x-middleware: mw",
          ]);
          // The io cookie on the polling handshake only, as on the official server.
          assert.deepEqual(onNode.polling, [
            "set-cookie: io=<sid>; Path=/; HttpOnly; SameSite=Lax",
            "set-cookie: a=1; Path=/",
            "set-cookie: b=2; HttpOnly",
            "x-every: without-sid",
            "x-initial: first",
            "x-middleware: mw",
          ]);
          assert.deepEqual(onNode.upgrade, ["x-every: with-sid", "x-middleware: mw"]);
          // A value with CR/LF is refused (no 101, nothing injected), and the server lives on.
          assert.notEqual(onNode.bad.status, 101);
          assert.deepEqual(onNode.bad.lines, []);
          assert.equal((await rawUpgrade(node.port, WS_HANDSHAKE)).status, 101);
        } finally {
          await io.close();
          await deno.close();
          out = await stopServer(node);
        }
        assert.doesNotMatch(out, /Injected/);
      },
    );

    await t.step(
      "a held poll whose app header Node refuses gets 500 when answered later, and Node serves on",
      async () => {
        const node = await startNode(SERVER, [
          build.entry,
          "http",
          JSON.stringify({ appHeaders: true, pingInterval: 200, pingTimeout: 5000 }),
        ]);
        try {
          const open = await rawRequest(
            node.port,
            `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
              "Connection: close\r\n\r\n",
          );
          const { sid } = JSON.parse(open.body.slice(1)) as { sid: string };
          // Held until the heartbeat's ping answers it, from a timer: Node's writeHead then
          // refuses the control character the app's headers listener set.
          const held = await rawRequest(
            node.port,
            `GET /socket.io/?EIO=4&transport=polling&sid=${sid}&ctl=1 HTTP/1.1\r\n` +
              "Host: 127.0.0.1\r\nConnection: close\r\n\r\n",
          );
          assert.equal(held.status, 500);
          assert.deepEqual(appLines(held.lines), []);
          assert.equal((await rawUpgrade(node.port, WS_HANDSHAKE)).status, 101);
        } finally {
          await stopServer(node);
        }
        assert.match(node.stderr, /ERR_INVALID_CHAR/);
      },
    );

    await t.step(
      "the bridge: Set-Cookie, reading requests, streamed bodies, backpressure, a client leaving",
      () => bridgeSteps(build),
    );
  } finally {
    await build.remove();
  }
});

/**
 * A Socket.IO session over long-polling on HTTP/2 (Deno's fetch, HTTP/2 only), as a browser
 * polls a server that speaks it: handshake, CONNECT, an event with an ack, and a held poll
 * answered by the server.
 */
async function http2Polling(url: string, ca: string): Promise<void> {
  const client = Deno.createHttpClient({ caCerts: [ca], http1: false, http2: true });
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  const get = async (q = "") => {
    const res = await fetch(base + q, { client });
    return { status: res.status, body: await res.text(), headers: res.headers };
  };
  const post = async (sid: string, body: string) => {
    const res = await fetch(`${base}&sid=${sid}`, { client, method: "POST", body });
    return { status: res.status, body: await res.text() };
  };
  try {
    const open = await get();
    assert.equal(open.status, 200, open.body);
    assert.equal(open.body[0], "0");
    const { sid } = JSON.parse(open.body.slice(1));
    assert.deepEqual(await post(sid, "40"), { status: 200, body: "ok" });
    const joined = await get(`&sid=${sid}`);
    // The CONNECT's answer, then the handlers' welcome.
    assert.match(joined.body, /^40\{"sid":/);
    if (!joined.body.includes("welcome")) assert.match((await get(`&sid=${sid}`)).body, /welcome/);
    // A held poll, answered when the ack comes back.
    const held = get(`&sid=${sid}`);
    assert.deepEqual(await post(sid, '421["echo","over h2"]'), { status: 200, body: "ok" });
    assert.equal((await held).body, '431["over h2"]');
    assert.deepEqual(await post(sid, "1"), { status: 200, body: "ok" });
  } finally {
    client.close();
  }
}

/** A self-signed certificate for 127.0.0.1, made with `openssl` when it is installed. */
async function selfSignedCert(): Promise<{
  files?: { key: string; cert: string; pem: string };
  /** What the step's name says when there is no `openssl`. */
  skipped: string;
  /** Removes the files. */
  remove(): Promise<void>;
}> {
  const dir = await Deno.makeTempDir({ prefix: "socketio-edge-tls-" });
  const key = `${dir}/key.pem`;
  const cert = `${dir}/cert.pem`;
  const remove = () => Deno.remove(dir, { recursive: true });
  try {
    const { success } = await new Deno.Command("openssl", {
      args: [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        // A leaf, not a CA: rustls (Deno's fetch) refuses a CA certificate as a server's.
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "extendedKeyUsage=serverAuth",
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (success) {
      return { files: { key, cert, pem: await Deno.readTextFile(cert) }, skipped: "", remove };
    }
  } catch { /* no openssl */ }
  return { skipped: " (SKIPPED: no openssl to make a certificate)", remove };
}

/** Polls `fn` until it returns true (the Node side acts on its own schedule). */
async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await fn()) return;
    await delay(20);
  }
  throw new Error(`never: ${what}`);
}

/**
 * POSTs `{"word":"déjà"}` on a raw connection, with a header given twice and the body in two
 * writes that split the "é"; returns the response body.
 */
async function rawPost(port: number, path: string): Promise<string> {
  const body = new TextEncoder().encode('{"word":"déjà"}');
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Twice: a\r\nx-twice: b\r\n` +
      `Content-Length: ${body.byteLength}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(head));
    await conn.write(body.subarray(0, 11));
    await delay(20);
    await conn.write(body.subarray(11));
    const answer = new Uint8Array(await new Response(conn.readable).arrayBuffer());
    const latin1 = new TextDecoder("latin1").decode(answer);
    assert.match(latin1, /^HTTP\/1\.1 200/, latin1);
    let at = latin1.indexOf("\r\n\r\n") + 4;
    if (!/transfer-encoding: chunked/i.test(latin1.slice(0, at))) {
      return new TextDecoder().decode(answer.subarray(at));
    }
    // Chunked: each chunk's size in hex on a line of its own, 0 for the last.
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for (;;) {
      const eol = latin1.indexOf("\r\n", at);
      const size = parseInt(latin1.slice(at, eol), 16);
      if (!size) return new TextDecoder().decode(await new Blob(parts).arrayBuffer());
      parts.push(answer.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  } catch (err) {
    conn.close();
    throw err;
  }
}

const WS_HANDSHAKE = "/socket.io/?EIO=4&transport=websocket";
const APP_HEADERS = /^(set-cookie|x-middleware|x-initial|x-every|x-bad|x-injected):/i;

/** The app's header lines (see addAppHeaders) in an answer, the session id masked. */
function appLines(lines: string[], sid?: string): string[] {
  return lines.filter((line) => APP_HEADERS.test(line)).map((line) =>
    sid ? line.replace(sid, "<sid>") : line
  );
}

/**
 * The app's header lines a server sends: on the 101 of a WebSocket handshake, on a polling
 * handshake and on the 101 of its upgrade; and the status and app lines of an upgrade whose
 * `headers` listener sets a value with CR/LF.
 */
async function appHeadersSeen(port: number) {
  const ws = await rawUpgrade(port, WS_HANDSHAKE);
  assert.equal(ws.status, 101);
  const polling = await rawRequest(
    port,
    `GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      "Connection: close\r\n\r\n",
  );
  assert.equal(polling.status, 200);
  const { sid } = JSON.parse(polling.body.slice(1)) as { sid: string };
  const upgrade = await rawUpgrade(port, `/socket.io/?EIO=4&transport=websocket&sid=${sid}`);
  assert.equal(upgrade.status, 101);
  const bad = await rawUpgrade(port, `${WS_HANDSHAKE}&bad=1`);
  return {
    websocket: appLines(ws.lines),
    polling: appLines(polling.lines, sid),
    upgrade: appLines(upgrade.lines),
    bad: { status: bad.status, lines: appLines(bad.lines) },
  };
}

async function bridgeSteps(build: NodeBuild): Promise<void> {
  const server = await startNode(build.bridge, []);
  const stats = async () =>
    await (await fetch(`${server.url}/bridge/stats`)).json() as {
      produced: number;
      aborted: number;
      cancelled: number;
    };
  try {
    // Every Set-Cookie on its own line, the status and other headers kept.
    const cookies = await fetch(`${server.url}/bridge/cookies`);
    assert.equal(cookies.status, 201);
    assert.deepEqual(cookies.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
    assert.equal(cookies.headers.get("x-kind"), "cookies");
    assert.equal(await cookies.text(), "two cookies");

    // A request body streamed in, answered as it streams.
    const parts = ["first ", "second ", "third"];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const part = parts.shift();
        if (part === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(part));
      },
    });
    const echo = await fetch(`${server.url}/bridge/echo`, {
      method: "POST",
      body,
      duplex: "half",
    } as RequestInit);
    assert.equal(echo.headers.get("x-method"), "POST");
    assert.equal(await echo.text(), "first second third");

    // The request as a handler reads it: repeated headers joined, found in any case; the body
    // whole (a UTF-8 character split between two writes), as JSON, as a stream, cloned.
    for (const how of ["text", "bytes", "json", "stream", "clone"]) {
      const seen = JSON.parse(await rawPost(server.port, `/bridge/read?how=${how}`)) as Record<
        string,
        unknown
      >;
      const text = '{"word":"déjà"}';
      const body = how === "bytes"
        ? [...new TextEncoder().encode(text)]
        : how === "json"
        ? { word: "déjà" }
        : how === "clone"
        ? [text, text]
        : text;
      assert.deepEqual(seen, {
        method: "POST",
        twice: "a, b",
        has: true,
        missing: null,
        names: ["x-twice"],
        hasBody: true,
        body,
        used: true,
        again: "TypeError",
      }, how);
    }

    // Paths outside the bridge's go to the HTTP server's own listener.
    assert.equal(await (await fetch(`${server.url}/elsewhere`)).text(), "the app");

    // A large response to a client that reads nothing: the body is pulled only as Node's
    // buffers drain, so it stops well short of its 64 MiB.
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    try {
      await slow.write(
        new TextEncoder().encode(`GET /bridge/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
      );
      let last = -1;
      let same = 0;
      await until(async () => {
        const { produced } = await stats();
        same = produced === last ? same + 1 : 0;
        last = produced;
        return produced > 0 && same >= 5;
      }, "the large body to stall");
      assert.ok(last < 16 * 1024 * 1024, `produced ${last} bytes unread`);
    } finally {
      slow.close();
    }

    // A held response whose client goes away: its signal aborts and its body is cancelled.
    const held = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    try {
      await held.write(
        new TextEncoder().encode(`GET /bridge/hold HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
      );
      const buf = new Uint8Array(4096);
      let text = "";
      while (!text.includes("held")) {
        const n = await held.read(buf);
        if (n === null) throw new Error(`closed after ${text}`);
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.match(text, /^HTTP\/1\.1 200/);
    } finally {
      held.close();
    }
    await until(async () => {
      const s = await stats();
      return s.aborted === 1 && s.cancelled === 1;
    }, "the held response to be aborted and cancelled");
  } finally {
    await server.stop();
  }
}

Deno.test("new Server(httpServer) outside Node names the Node entry", () => {
  // Anything with listen(), as an http.Server, or a port.
  const httpServer = { listen() {}, on() {} };
  assert.throws(
    () => new Server(httpServer as never),
    (err: Error) => err instanceof TypeError && err.message.includes("@socketio-edge/core/node"),
  );
  assert.throws(() => new Server(3000 as never), /@socketio-edge\/core\/node/);
  // The official io.attach() and io.listen() forms too, on a server made with options.
  const io = new Server();
  assert.throws(
    () => io.attach(httpServer),
    (err: Error) =>
      err instanceof TypeError && /^io\.attach\(httpServer\) is a Node form/.test(err.message) &&
      err.message.includes("@socketio-edge/core/node"),
  );
  assert.throws(() => io.listen(3000), /^TypeError: io\.listen\(port\) is a Node form.*core\/node/);
  return io.close();
});

Deno.test("a Node request's headers iterate as fetch Headers do", () => {
  // Node's raw list as it came: names in any case, repeats, cookies, an HTTP/2 pseudo-header.
  const raw = [
    [":authority", "example.com"],
    ["User-Agent", "test"],
    ["accept", "text/plain"],
    ["X-Multi", "a"],
    ["Cookie", "a=1"],
    ["set-cookie", "s=1"],
    ["Accept", "text/html"],
    ["x-multi", "b"],
    ["Set-Cookie", "s=2"],
    ["cookie", "b=2"],
    ["Host", "example.com"],
  ].flat();
  const real = new Headers();
  for (let i = 2; i < raw.length; i += 2) real.append(raw[i], raw[i + 1]);
  const seen = (h: Headers) => {
    const out: [string, string][] = [];
    h.forEach((value, name, parent) => {
      assert.equal(parent, h);
      out.push([name, value]);
    });
    return out;
  };
  const headers = new NodeHeaders(raw);
  assert.deepEqual(seen(headers), seen(real));
  assert.deepEqual(seen(new NodeHeaders([])), []);
  // Once changed, a real Headers answers.
  headers.set("x-new", "1");
  real.set("x-new", "1");
  assert.deepEqual(seen(headers), seen(real));
});
