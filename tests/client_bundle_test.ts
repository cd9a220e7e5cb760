/**
 * The browser bundles: up to date with the sources, working when loaded (as a script and as an
 * ES module), and served with ETag, cache headers and gzip.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { brotliDecompressSync } from "node:zlib";
import fc from "fast-check";
import * as msgpack from "socket.io-msgpack-parser";
import { clientFile, preferredCoding, serveClientFile } from "../client/serve.ts";
import * as esm from "../client/dist/socket.io.esm.min.js.ts";
import * as script from "../client/dist/socket.io.min.js.ts";
import * as msgpackScript from "../client/dist/socket.io.msgpack.min.js.ts";
import type { io as ioType } from "../client/mod.ts";
import { Server } from "../mod.ts";
// @ts-types="./fixtures/client_handlers.d.ts"
import { setup } from "./fixtures/client_handlers.mjs";
import { installOfficial, once, startOurs, type TestTarget, track } from "./fixtures/client_env.ts";

Deno.test("client bundles are up to date with the sources (scripts/bundle.ts --check)", async () => {
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "scripts/bundle.ts", "--check"],
    cwd: new URL("../", import.meta.url).pathname,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
});

/**
 * Connects with `io` over each transport setup and checks an echo of bytes (as `binary` makes
 * them from a Uint8Array) against `to` (default: our server).
 */
async function roundTrip(
  io: typeof ioType,
  to?: TestTarget,
  binary: (bytes: Uint8Array<ArrayBuffer>) => unknown = (bytes) => bytes,
): Promise<void> {
  const target: TestTarget = to ?? await startOurs();
  const tracker = track();
  try {
    for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]] as const) {
      const socket: ReturnType<typeof ioType> = io(target.url, {
        forceNew: true,
        transports: [...transports],
      });
      await once(socket, "connect");
      const bytes: unknown = await socket.emitWithAck("echo", binary(new Uint8Array([1, 2])));
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

/** Runs a script bundle as a script tag does; returns the `io` it puts on the global object. */
function runScript(body: string): typeof ioType {
  const global = globalThis as { io?: typeof ioType };
  new Function(body)();
  const io = global.io!;
  delete global.io;
  return io;
}

// npm's msgpack parser reads Node Buffers on the server (its browser build, in the bundle, reads
// the ArrayBuffers browsers give).
const msgpackOnDeno = {
  Encoder: msgpack.Encoder,
  Decoder: class extends msgpack.Decoder {
    override add(chunk: unknown): void {
      super.add(chunk instanceof ArrayBuffer ? Buffer.from(chunk) : chunk);
    }
  },
};

Deno.test("client msgpack script bundle speaks msgpack to a server with the msgpack parser", async () => {
  const io = runScript(msgpackScript.body);
  assert.equal(typeof io, "function");
  assert.equal(io.connect, io);
  assert.equal(typeof io.Manager, "function");
  assert.equal(typeof io.Socket, "function");
  const server = new Server({ parser: msgpackOnDeno as never });
  setup(server);
  // What the client sends: msgpack frames are binary, never Socket.IO's text.
  const frames = new Set<string>();
  server.engine.on("connection", (conn) => {
    conn.on("packet", (p) => p.type === "message" && frames.add(typeof p.data));
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.handler());
  const url = `http://127.0.0.1:${http.addr.port}`;
  await roundTrip(io, {
    url,
    port: http.addr.port,
    server,
    close: async () => {
      await server.close();
      await http.shutdown();
    },
    restart: () => Promise.reject(new Error("not needed")),
  }, (bytes) => bytes.buffer); // npm's msgpack parser in browsers encodes ArrayBuffers only
  assert.deepEqual([...frames], ["object"]);
});

const FILE_NAMES = ["js", "min.js", "esm.min.js", "msgpack.min.js"]
  .flatMap((kind) => [`socket.io.${kind}`, `socket.io.${kind}.map`]);

Deno.test("client files are served with ETag, cache headers, and brotli, gzip or deflate", async () => {
  for (const name of FILE_NAMES) assert.equal(clientFile(`/socket.io/${name}`), name);
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

  // Each coding as the official server offers them, for every file; the body is the text.
  const inflate: Record<string, (res: Response) => Promise<string>> = {
    br: async (res) =>
      new TextDecoder().decode(brotliDecompressSync(new Uint8Array(await res.arrayBuffer()))),
    gzip: (res) => new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text(),
    deflate: (res) =>
      new Response(res.body!.pipeThrough(new DecompressionStream("deflate"))).text(),
  };
  for (const name of FILE_NAMES) {
    const plain = await (await serveClientFile(new Request(url), name)).text();
    for (const coding of ["br", "gzip", "deflate"]) {
      const res = await serveClientFile(
        new Request(url, { headers: { "accept-encoding": coding } }),
        name,
      );
      // Maps carry no brotli bytes: asked for br alone, they go plain.
      const expected = coding === "br" && name.endsWith(".map") ? null : coding;
      assert.equal(res.headers.get("content-encoding"), expected, `${name} ${coding}`);
      const text = expected ? await inflate[coding](res) : await res.text();
      assert.equal(text, plain, `${name} ${coding}`);
    }
    if (name.endsWith(".map")) {
      // Each map holds the texts of its own sources (they are shared between the modules).
      const map = JSON.parse(plain);
      assert.equal(map.sourcesContent.length, map.sources.length, name);
      for (const [i, source] of map.sources.entries()) {
        if (source.startsWith("node_modules/")) continue;
        const file = await Deno.readTextFile(new URL(`../${source}`, import.meta.url));
        assert.equal(map.sourcesContent[i], file, `${name}: ${source}`);
      }
      const etag = (await serveClientFile(new Request(url), name)).headers.get("etag");
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(plain));
      const hex = [...new Uint8Array(digest).slice(0, 12)]
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      assert.equal(etag, `"${hex}"`, `${name}: the ETag is the whole map's`);
    } else {
      assert.equal(plain, (await import(`../client/dist/${name}.ts`)).body);
    }
  }
  const mapGzip = await serveClientFile(
    new Request(url, { headers: { "accept-encoding": "br, gzip" } }),
    "socket.io.js.map",
  );
  assert.equal(mapGzip.headers.get("content-encoding"), "gzip");
  await mapGzip.body?.cancel();
  // Chrome's header: gzip is listed first, and the official server takes the first of equals.
  const chrome = await serveClientFile(
    new Request(url, { headers: { "accept-encoding": "gzip, deflate, br, zstd" } }),
    "socket.io.min.js",
  );
  assert.equal(chrome.headers.get("content-encoding"), "gzip");
  await chrome.body?.cancel();

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

Deno.test("client files: the coding is the one npm accepts picks, as the official server asks", async () => {
  await installOfficial();
  const accepts = createRequire(import.meta.url)(
    new URL("../.artifacts/official/node_modules/accepts/index.js", import.meta.url).pathname,
  );
  const official = (header: string | undefined) =>
    accepts({ headers: header === undefined ? {} : { "accept-encoding": header } })
      .encodings(["br", "gzip", "deflate"]) || undefined;
  const coding = fc.constantFrom(
    "br",
    "gzip",
    "deflate",
    "identity",
    "*",
    "BR",
    "Gzip",
    "zstd",
    "",
  );
  const param = fc.constantFrom(
    "",
    ";q=0",
    ";q=1",
    ";q=0.5",
    ";q=0.50",
    ";q=0.8",
    " ; q=0.2",
    ";q=",
    ";q=x",
    ";Q=1",
    ";level=1;q=0.3",
    ";q=1.5",
  );
  const header = fc.array(fc.tuple(coding, param, fc.constantFrom(",", ", ", " ,")), {
    maxLength: 6,
  })
    .map((parts) => parts.map(([c, p, sep], i) => (i ? sep : "") + c + p).join(""));
  for (const fixed of [undefined, "", "*", "gzip, deflate, br", "br;q=0.9, *", "identity"]) {
    assert.equal(preferredCoding(fixed ?? null), official(fixed), String(fixed));
  }
  fc.assert(
    fc.property(header, (h) => preferredCoding(h) === official(h)),
    { numRuns: 2000 },
  );
});
