/**
 * `serveClient`: the server answers `/socket.io/socket.io.js` and friends like the official one.
 */
import assert from "node:assert/strict";
import { Server } from "../mod.ts";
import { serve } from "./helpers/serve.ts";

Deno.test("serveClient (default): the bundles are served with ETag, 304 and gzip", async () => {
  const io = new Server();
  const http = serve(io.handler());
  try {
    for (
      const name of [
        "socket.io.js",
        "socket.io.min.js",
        "socket.io.esm.min.js",
        "socket.io.msgpack.min.js",
      ]
    ) {
      const res = await fetch(`${http.origin}/socket.io/${name}`, {
        headers: { "accept-encoding": "identity" },
      });
      assert.equal(res.status, 200, name);
      assert.match(res.headers.get("content-type")!, /^application\/javascript/);
      assert.equal(res.headers.get("cache-control"), "public, max-age=0");
      const etag = res.headers.get("etag")!;
      assert.ok(etag, "an ETag");
      const body = await res.text();
      assert.ok(body.length > 1000, name);
      if (name === "socket.io.esm.min.js") assert.match(body, /export\s*\{/);
      else assert.match(body, /\bio\b/);

      for (const match of [etag, `W/${etag}`]) {
        const again = await fetch(`${http.origin}/socket.io/${name}`, {
          headers: { "if-none-match": match },
        });
        assert.equal(again.status, 304, match);
        await again.body?.cancel();
      }
    }
    // Deno's fetch asks for gzip and inflates it: the header says what travelled.
    const zipped = await fetch(`${http.origin}/socket.io/socket.io.min.js`);
    assert.equal(zipped.headers.get("content-encoding"), "gzip");
    await zipped.body?.cancel();
    const map = await fetch(`${http.origin}/socket.io/socket.io.min.js.map`);
    assert.match(map.headers.get("content-type")!, /^application\/json/);
    assert.ok(JSON.parse(await map.text()).mappings);
  } finally {
    await io.close();
    await http.close();
  }
});

Deno.test("serveClient: the bundles are served under the cors option, as the official server does", async () => {
  const io = new Server({ cors: { origin: "https://good-origin.com", credentials: true } });
  const http = serve(io.handler());
  try {
    const url = `${http.origin}/socket.io/socket.io.js`;
    const res = await fetch(url, { headers: { origin: "https://good-origin.com" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://good-origin.com");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("vary"), "Accept-Encoding, Origin");
    const etag = res.headers.get("etag")!;
    await res.body?.cancel();

    const cached = await fetch(url, {
      headers: { origin: "https://good-origin.com", "if-none-match": etag },
    });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers.get("access-control-allow-origin"), "https://good-origin.com");
    await cached.body?.cancel();

    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: { origin: "https://good-origin.com", "access-control-request-method": "GET" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://good-origin.com");
    assert.match(preflight.headers.get("access-control-allow-methods")!, /GET/);
    await preflight.body?.cancel();
  } finally {
    await io.close();
    await http.close();
  }

  // No cors option, no CORS headers (as the official server).
  const plain = new Server();
  const http2 = serve(plain.handler());
  try {
    const res = await fetch(`${http2.origin}/socket.io/socket.io.js`, {
      headers: { origin: "https://good-origin.com" },
    });
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    await res.body?.cancel();
  } finally {
    await plain.close();
    await http2.close();
  }
});

Deno.test("serveClient: false serves no bundle; the fallback still answers other paths", async () => {
  const io = new Server({ serveClient: false });
  const http = serve(io.handler(() => new Response("app")));
  try {
    // Everything under the path is the engine's, as on the official server.
    const res = await fetch(`${http.origin}/socket.io/socket.io.js`);
    assert.equal(res.status, 400);
    assert.equal(await res.text(), '{"code":0,"message":"Transport unknown"}');
    const other = await fetch(`${http.origin}/elsewhere`);
    assert.equal(await other.text(), "app");
  } finally {
    await io.close();
    await http.close();
  }
});

Deno.test("the bundles and the engine share the path: files first, then everything under it", async () => {
  for (const opts of [{}, { addTrailingSlash: false }]) {
    const io = new Server(opts);
    const http = serve(io.handler());
    try {
      const bundle = await fetch(`${http.origin}/socket.io/socket.io.js`);
      assert.equal(bundle.status, 200);
      assert.match(bundle.headers.get("content-type")!, /^application\/javascript/);
      await bundle.body?.cancel();
      const res = await fetch(`${http.origin}/socket.io/default/?EIO=4&transport=polling`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^0\{"sid":/);
    } finally {
      await io.close();
      await http.close();
    }
  }
});
