/**
 * WebSocket sub-protocols: a client that offers some gets the first one in the `101`, as npm
 * `ws` answers for the official server (browsers and npm `ws` fail a connection whose answer
 * names none), on Deno, Bun and Node; one that offers none gets none.
 */
import assert from "node:assert/strict";
import { Server } from "../server/engine/mod.ts";
import { findBun, startBunFixture } from "./helpers/bun.ts";
import { buildForNode, startNode } from "./helpers/node.ts";

/** Opens a WebSocket session offering `protocols`; resolves its protocol and first frame. */
async function open(url: string, protocols: string[]): Promise<[string, string]> {
  const ws = new WebSocket(`${url}?EIO=4&transport=websocket`, protocols);
  try {
    const frame = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error(`no connection offering [${protocols}]`));
    });
    return [ws.protocol, frame];
  } finally {
    const closed = new Promise((resolve) => ws.onclose = resolve);
    ws.close();
    await closed;
  }
}

/** The header lines of the `101` to an upgrade offering `chat, superchat`, read raw. */
async function answer(url: string): Promise<string[]> {
  const { port, pathname } = new URL(url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${pathname}?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
    ));
    let head = "";
    const buf = new Uint8Array(4096);
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    return head.split("\r\n\r\n")[0].split("\r\n");
  } finally {
    conn.close();
  }
}

/** The first offered is chosen, named once; none offered, none named; the session opens. */
async function check(url: string): Promise<void> {
  const lines = await answer(url);
  assert.match(lines[0], /^HTTP\/1\.1 101/);
  assert.deepEqual(
    lines.filter((l) => /^sec-websocket-protocol:/i.test(l)).map((l) => l.toLowerCase()),
    ["sec-websocket-protocol: chat"],
  );
  const [chosen, frame] = await open(url, ["chat", "superchat"]);
  assert.equal(chosen, "chat");
  assert.match(frame, /^0\{"sid"/);
  const [none, plain] = await open(url, []);
  assert.equal(none, "");
  assert.match(plain, /^0\{"sid"/);
}

Deno.test("sub-protocols: the first one offered is accepted [Deno]", async () => {
  const engine = new Server();
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, engine.handler());
  try {
    await check(`ws://127.0.0.1:${http.addr.port}/engine.io/`);
  } finally {
    await engine.close();
    await http.shutdown();
  }
});

Deno.test("sub-protocols: the first one offered is accepted [Bun]", async () => {
  const bun = await findBun();
  if (!bun) return console.log("SKIPPED: no Bun");
  const fixture = new URL("./fixtures/bun_engine.ts", import.meta.url).pathname;
  const { port, stop } = await startBunFixture(bun, fixture);
  try {
    await check(`ws://127.0.0.1:${port}/engine.io/`);
  } finally {
    await stop();
  }
});

Deno.test("sub-protocols: the first one offered is accepted [Node]", async () => {
  const build = await buildForNode();
  const server = await startNode(
    new URL("./fixtures/node_server.mjs", import.meta.url).pathname,
    [build.entry, "http"],
  );
  try {
    await check(`ws://127.0.0.1:${server.port}/socket.io/`);
  } finally {
    await server.stop();
    await build.remove();
  }
});
