/**
 * The browser bundles: up to date with the sources, working when loaded (as a script and as an
 * ES module), and served with ETag, cache headers and gzip.
 */
import assert from "node:assert/strict";
import { clientFile, serveClientFile } from "../client/serve.ts";
import * as esm from "../client/dist/socket.io.esm.min.js.ts";
import * as script from "../client/dist/socket.io.min.js.ts";
import type { io as ioType } from "../client/mod.ts";
import { once, startOurs, track } from "./fixtures/client_env.ts";

Deno.test("client bundles are up to date with the sources (scripts/bundle.ts --check)", async () => {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "scripts/bundle.ts", "--check"],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
});

/** Connects with `io` over each transport setup and checks an echo. */
async function roundTrip(io: typeof ioType): Promise<void> {
  const target = await startOurs();
  const tracker = track();
  try {
    for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]] as const) {
      const socket = io(target.url, { forceNew: true, transports: [...transports] });
      await once(socket, "connect");
      const bytes = await socket.emitWithAck("echo", new Uint8Array([1, 2]));
      assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [1, 2]);
      socket.disconnect();
      await tracker.drained();
    }
  } finally {
    tracker.restore();
    await target.close();
  }
}

Deno.test("client ESM bundle loads and connects", async () => {
  const mod = await import(`data:text/javascript;base64,${btoa(esm.body)}`);
  assert.equal(mod.default, mod.io);
  assert.equal(mod.protocol, 5);
  await roundTrip(mod.io);
});

Deno.test("client script bundle puts io on the global object and connects", async () => {
  const global = globalThis as { io?: typeof ioType };
  new Function(script.body)();
  try {
    const io = global.io!;
    assert.equal(typeof io, "function");
    assert.equal(io.connect, io);
    assert.equal(typeof io.Manager, "function");
    assert.equal(typeof io.Socket, "function");
    await roundTrip(io);
  } finally {
    delete global.io;
  }
});

Deno.test("client files are served with ETag, cache headers and gzip", async () => {
  assert.equal(clientFile("/socket.io/socket.io.js"), "socket.io.js");
  assert.equal(clientFile("/socket.io/socket.io.esm.min.js.map"), "socket.io.esm.min.js.map");
  assert.equal(clientFile("/custom/socket.io.min.js", "/custom/"), "socket.io.min.js");
  assert.equal(clientFile("/socket.io/"), undefined);
  assert.equal(clientFile("/socket.io/toString"), undefined);
  assert.equal(clientFile("/other/socket.io.js"), undefined);
  await assert.rejects(serveClientFile(new Request("http://h/"), "nope.js"), TypeError);

  const url = "http://h/socket.io/socket.io.min.js";
  const plain = await serveClientFile(new Request(url), "socket.io.min.js");
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("content-type"), "application/javascript; charset=utf-8");
  assert.equal(plain.headers.get("cache-control"), "public, max-age=0");
  assert.equal(plain.headers.get("content-encoding"), null);
  const etag = plain.headers.get("etag")!;
  assert.equal(etag, script.etag);
  assert.match(etag, /^"[0-9a-f]+"$/);
  assert.equal(await plain.text(), script.body);

  const gzipped = await serveClientFile(
    new Request(url, { headers: { "accept-encoding": "br, gzip;q=0.8" } }),
    "socket.io.min.js",
  );
  assert.equal(gzipped.headers.get("content-encoding"), "gzip");
  const unzipped = gzipped.body!.pipeThrough(new DecompressionStream("gzip"));
  assert.equal(await new Response(unzipped).text(), script.body);

  const refused = await serveClientFile(
    new Request(url, { headers: { "accept-encoding": "gzip;q=0" } }),
    "socket.io.min.js",
  );
  assert.equal(refused.headers.get("content-encoding"), null);
  await refused.body?.cancel();

  for (const match of [etag, `W/${etag}`]) {
    const cached = await serveClientFile(
      new Request(url, { headers: { "if-none-match": match } }),
      "socket.io.min.js",
    );
    assert.equal(cached.status, 304);
    assert.equal(cached.body, null);
  }

  const map = await serveClientFile(new Request(url + ".map"), "socket.io.min.js.map");
  assert.equal(map.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(JSON.parse(await map.text()).version, 3);

  const head = await serveClientFile(new Request(url, { method: "HEAD" }), "socket.io.min.js");
  assert.equal(head.body, null);
});
