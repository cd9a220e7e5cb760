/**
 * The engine on Bun: a Bun process serves tests/fixtures/bun_engine.ts, and Deno talks to it with
 * `fetch` and `WebSocket`. Skipped (and passing) when no `bun` is found.
 */
import assert from "node:assert/strict";
import { findBun, startBunFixture } from "./helpers/bun.ts";
import { delay, handshake, poll, post, request } from "./helpers/engine.ts";
import { rawRequest, rawUpgrade, WsClient } from "./helpers/raw.ts";

const FIXTURE = new URL("./fixtures/bun_engine.ts", import.meta.url).pathname;
const startBun = (bun: string) => startBunFixture(bun, FIXTURE);

Deno.test("engine on Bun: polling, websocket and the upgrade", async (t) => {
  const bun = await findBun();
  if (!bun) {
    console.log("SKIPPED: bun not installed");
    return;
  }
  const { port, stop } = await startBun(bun);
  const base = `http://127.0.0.1:${port}/engine.io/`;
  const wsBase = `ws://127.0.0.1:${port}/engine.io/`;
  try {
    await t.step("polling handshake and echo", async () => {
      const res = await request(`${base}?EIO=4&transport=polling`);
      assert.equal(res.status, 200);
      const { sid } = JSON.parse(res.body.slice(1));
      assert.match(sid, /^[A-Za-z0-9_-]{20}$/);
      assert.equal(
        res.body,
        `0{"sid":"${sid}","upgrades":["websocket"],"pingInterval":1000,"pingTimeout":1000,` +
          `"maxPayload":1000000}`,
      );
      assert.equal((await post(base, sid, "4hello\x1ebAQID")).body, "ok");
      assert.equal(await poll(base, sid), "4hello\x1ebAQID");
      await post(base, sid, "1");
    });

    await t.step("an aborted poll ends the session", async () => {
      const { sid } = await handshake(base);
      const abort = new AbortController();
      const pending = fetch(`${base}?EIO=4&transport=polling&sid=${sid}`, { signal: abort.signal })
        .then((res) => res.text());
      await delay(50);
      abort.abort();
      await assert.rejects(pending);
      // The session goes away once Bun reports the abort.
      let status = 200;
      for (let i = 0; i < 100 && status === 200; i++) {
        await delay(10);
        status = (await post(base, sid, "4x")).status;
      }
      assert.equal(status, 400);
      // And its request is answered (to no one), not left pending with what it holds.
      let left = "";
      for (let i = 0; i < 100 && left !== "0"; i++) {
        left = (await request(`http://127.0.0.1:${port}/pending`)).body;
        if (left !== "0") await delay(10);
      }
      assert.equal(left, "0");
    });

    await t.step("middleware and initial_headers headers, over polling and the 101", async () => {
      const res = await request(`${base}?EIO=4&transport=polling`);
      assert.equal(res.headers.get("x-middleware"), "yes");
      assert.equal(res.headers.get("x-initial"), "yes");
      const { sid } = JSON.parse(res.body.slice(1));
      const posted = await post(base, sid, "1");
      assert.equal(posted.headers.get("x-middleware"), "yes");
      assert.equal(posted.headers.get("x-initial"), null);
      const answer = await rawUpgrade(port, "/engine.io/?EIO=4&transport=websocket");
      assert.equal(answer.status, 101);
      assert.equal(answer.headers["x-middleware"], "yes");
      assert.equal(answer.headers["x-initial"], "yes");
    });

    await t.step("errors", async () => {
      const res = await request(`${base}?EIO=4&transport=polling&sid=nope`);
      assert.equal(res.status, 400);
      assert.equal(res.body, '{"code":1,"message":"Session ID unknown"}');
    });

    await t.step("a request line whose URL does not parse gets 400, quietly", async () => {
      // Bun hands these over as they came, and `new URL()` throws on them; the fixture's output
      // is checked for log lines at the end.
      for (const target of ["*?EIO=4&transport=polling", "127.0.0.1:80"]) {
        const res = await rawRequest(port, `CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.equal(res.status, 400, target);
        assert.equal(res.body, "Bad Request", target);
      }
      // A URL of scheme `example.com:`, outside the engine's path.
      const other = await rawRequest(port, "CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal(other.status, 404);
      // The server goes on.
      assert.equal((await request(`${base}?EIO=4&transport=polling`)).status, 200);
    });

    await t.step("websocket echo", async () => {
      const ws = new WsClient(`${wsBase}?EIO=4&transport=websocket`);
      const open = await ws.next();
      assert.match(String(open), /^0\{"sid":"[A-Za-z0-9_-]{20}","upgrades":\[\],/);
      ws.send("4hi");
      assert.equal(await ws.next(), "4hi");
      ws.send(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await ws.next(), new Uint8Array([1, 2, 3]));
      // The server's heartbeat arrives and a pong keeps the session.
      assert.equal(await ws.next(), "2");
      ws.send("3");
      ws.send("4still");
      assert.equal(await ws.next(), "4still");
      await ws.close();
    });

    await t.step("an oversized message closes the WebSocket with 1009", async () => {
      const ws = new WsClient(`${wsBase}?EIO=4&transport=websocket`);
      await ws.next();
      ws.send("4" + "a".repeat(1e6));
      const close = await ws.closed;
      assert.equal(close.code, 1009);
    });

    await t.step("upgrade from polling", async () => {
      const { sid } = await handshake(base);
      const pending = poll(base, sid);
      const ws = new WsClient(`${wsBase}?EIO=4&transport=websocket&sid=${sid}`);
      ws.send("2probe");
      assert.equal(await ws.next(), "3probe");
      assert.equal(await pending, "6");
      assert.equal(await poll(base, sid), "6");
      ws.send("5");
      ws.send("4over ws");
      assert.equal(await ws.next(), "4over ws");
      const late = await request(`${base}?EIO=4&transport=polling&sid=${sid}`);
      assert.equal(late.status, 400);
      // A second websocket for the upgraded sid is accepted and closed.
      const extra = new WsClient(`${wsBase}?EIO=4&transport=websocket&sid=${sid}`);
      await extra.closed;
      assert.equal(extra.didOpen, true);
      await ws.close();
    });
  } finally {
    const output = await stop();
    assert.doesNotMatch(output, /error|warn/i, output);
  }
});
