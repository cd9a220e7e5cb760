/**
 * Slow consumers (`maxBufferedBytes`): a client that stopped reading while it is sent to is cut
 * off with reason `"slow consumer"` once more than the limit waits for it, on Deno (in this
 * process), Bun and Node (child processes, tests/fixtures/*_slow_consumer.ts), while healthy
 * official clients in the same broadcasts get every one of them; below the limit nothing is cut.
 *
 * The client that stopped reading is a WebSocket on a bare TCP connection that no longer reads
 * its socket but still writes Engine.IO pongs (so the heartbeat keeps it: its pings go unread),
 * or a long-polling client that stopped polling but still posts pongs.
 */
import assert from "node:assert/strict";
import { Server } from "../mod.ts";
import { findBun, startBunFixture } from "./helpers/bun.ts";
import { buildNodeScript, startNode } from "./helpers/node.ts";
import { TcpWsClient } from "./helpers/raw.ts";
import { serve } from "./helpers/serve.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  officialClient,
  settle,
  within,
} from "./helpers/socketio.ts";
import { LIMIT, OPTIONS, slowConsumerApp } from "./fixtures/slow_consumer_app.ts";

const BUN_FIXTURE = new URL("./fixtures/bun_slow_consumer.ts", import.meta.url).pathname;
const NODE_FIXTURE = new URL("./fixtures/node_slow_consumer.ts", import.meta.url).pathname;

/** Broadcasts per burst, and the size of each: 256 KiB a burst, well below the limit. */
const COUNT = 32;
const SIZE = 8 * 1024;
/** Past this much sent to a client that does not read, without a cut, the test fails. */
const CAP = 32 * 1024 * 1024;
/** A safety net for each wait (not a timing assertion). */
const WAIT = 30_000;

/** A healthy official client, counting the broadcasts it receives. */
class Healthy {
  first = -1;
  last = -1;
  count = 0;
  #waiters: { seq: number; resolve: () => void }[] = [];

  constructor(readonly socket: ClientSocket) {
    socket.on("b", (seq: number) => {
      if (this.first === -1) this.first = seq;
      this.last = seq;
      this.count++;
      this.#waiters = this.#waiters.filter((w) => {
        if (seq < w.seq) return true;
        w.resolve();
        return false;
      });
    });
  }

  /** Resolves once broadcast `seq` arrived. */
  got(seq: number): Promise<void> {
    if (this.last >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }
}

/** Two WebSocket clients and one long-polling client; the first one drives the bursts. */
async function healthyClients(port: number): Promise<Healthy[]> {
  const url = `http://127.0.0.1:${port}`;
  const opts = { forceNew: true, reconnection: false };
  const sockets = [
    officialClient(url, { ...opts, transports: ["websocket"] }),
    officialClient(url, { ...opts, transports: ["websocket"] }),
    officialClient(url, { ...opts, transports: ["polling"] }),
  ];
  await Promise.all(sockets.map((s) => within(connected(s), "connect", WAIT)));
  return sockets.map((s) => new Healthy(s));
}

/** A WebSocket client that reads its Socket.IO id, then stops reading (pongs go on). */
async function stalledWebSocket(port: number): Promise<{ client: TcpWsClient; sid: string }> {
  const client = await TcpWsClient.open(port, "/socket.io/?EIO=4&transport=websocket");
  const open = await client.next();
  assert.ok(typeof open === "string" && open.startsWith("0{"), String(open));
  await client.send("40");
  for (;;) {
    const frame = await client.next();
    if (frame === null) throw new Error("closed before the Socket.IO connect");
    if (typeof frame === "string" && frame.startsWith("40{")) {
      client.pongEvery(200);
      return { client, sid: JSON.parse(frame.slice(2)).sid };
    }
  }
}

/** A long-polling client that polls until it has its Socket.IO id, then posts pongs only. */
class StalledPolling {
  #posting: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(readonly base: string, readonly sid: string) {}

  static async open(port: number): Promise<StalledPolling> {
    const base = `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`;
    const open = await (await fetch(base)).text();
    const engineSid = JSON.parse(open.slice(1)).sid;
    const url = `${base}&sid=${engineSid}`;
    assert.equal(await (await fetch(url, { method: "POST", body: "40" })).text(), "ok");
    for (;;) {
      const packets = (await (await fetch(url)).text()).split("\x1e");
      const connect = packets.find((p) => p.startsWith("40{"));
      if (connect) {
        const client = new StalledPolling(url, JSON.parse(connect.slice(2)).sid);
        client.#timer = setInterval(() => client.#post("3"), 200);
        return client;
      }
    }
  }

  #post(body: string): void {
    this.#posting = this.#posting
      .then(() => fetch(this.base, { method: "POST", body }))
      .then((r) => r.body?.cancel())
      .catch(() => {});
  }

  /** Polls once: the packets of the payload, or the status when refused. */
  async poll(): Promise<string[] | number> {
    const res = await fetch(this.base);
    const text = await res.text();
    return res.ok ? text.split("\x1e") : res.status;
  }

  /** Stops the pongs and waits for the last one. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#posting;
  }
}

/**
 * Sends bursts (to everyone, or to socket `to` alone) until socket `sid` disconnected, each
 * once the healthy clients got the one before; returns its reason and description.
 */
async function burstUntilCut(
  healthy: Healthy[],
  sid: string,
  to: string | null,
): Promise<[string, string, string?]> {
  const driver = healthy[0].socket;
  for (let sent = 0; sent < CAP; sent += COUNT * SIZE) {
    const next: number = await within(driver.emitWithAck("burst", COUNT, SIZE, to), "ack", WAIT);
    if (to === null) {
      await Promise.all(healthy.map((h) => within(h.got(next - 1), "the burst", WAIT)));
    }
    const reason = await within(driver.emitWithAck("reason", sid), "reason", WAIT);
    if (reason !== null) return reason;
  }
  throw new Error(`not cut off after ${CAP} bytes sent to a client that does not read`);
}

/** The healthy clients got every broadcast since they connected, and are still connected. */
function assertHealthy(healthy: Healthy[], bursts: number): void {
  for (const h of healthy) {
    assert.ok(h.socket.connected, "a healthy client was disconnected");
    assert.equal(h.count, h.last - h.first + 1, "a healthy client missed a broadcast");
    assert.ok(h.count >= bursts * COUNT, `a healthy client got ${h.count} broadcasts`);
  }
}

/**
 * Reads what the client that stopped reading still gets, up to the end of its connection: the
 * broadcasts in it follow each other with no gap (nothing was dropped before the cut).
 */
async function readToCut(client: TcpWsClient): Promise<void> {
  let last = -1;
  for (;;) {
    const frame = await within(client.next(), "the end of the connection", WAIT);
    if (frame === null) return;
    if (typeof frame === "string" && frame.startsWith('42["b",')) {
      const seq = JSON.parse(frame.slice(2))[1];
      if (last !== -1) assert.equal(seq, last + 1, "a gap before the cut");
      last = seq;
    }
  }
}

/** The Socket.IO `disconnect` reason and the Engine.IO session's close reason say why. */
async function assertSlowConsumer(
  reason: [string, string, string?],
  driver: ClientSocket,
  sid: string,
): Promise<void> {
  assert.equal(reason[0], "slow consumer", reason.join(": "));
  assert.match(reason[1], new RegExp(`maxBufferedBytes \\(${LIMIT}\\)`));
  const [, , engine] = await within(driver.emitWithAck("reason", sid), "reason", WAIT);
  assert.equal(engine, "slow consumer");
}

async function closeHealthy(healthy: Healthy[]): Promise<void> {
  await closeClients(healthy.map((h) => h.socket));
  await settle();
}

/** The steps, against one running server. */
async function steps(t: Deno.TestContext, port: number): Promise<void> {
  await t.step("a WebSocket client that stopped reading is cut off from broadcasts", async () => {
    const healthy = await healthyClients(port);
    const { client, sid } = await stalledWebSocket(port);
    try {
      await assertSlowConsumer(await burstUntilCut(healthy, sid, null), healthy[0].socket, sid);
      assertHealthy(healthy, 1);
      // The connection itself ends too (on Deno at the next pong, see QueuedSocket.terminate).
      await readToCut(client);
    } finally {
      await client.close();
      await closeHealthy(healthy);
    }
  });

  await t.step("a WebSocket client that stopped reading is cut off from its emits", async () => {
    const healthy = await healthyClients(port);
    const { client, sid } = await stalledWebSocket(port);
    try {
      await assertSlowConsumer(await burstUntilCut(healthy, sid, sid), healthy[0].socket, sid);
      await readToCut(client);
    } finally {
      await client.close();
      await closeHealthy(healthy);
    }
  });

  await t.step("volatile broadcasts to a client that stopped reading are dropped", async () => {
    const healthy = await healthyClients(port);
    const { client, sid } = await stalledWebSocket(port);
    try {
      const driver = healthy[0].socket;
      // As much as the other tests send at most, which would cut it off were they not dropped.
      for (let sent = 0; sent < CAP; sent += COUNT * SIZE) {
        await within(driver.emitWithAck("burst", COUNT, SIZE, "volatile"), "ack", WAIT);
        assert.equal(await driver.emitWithAck("reason", sid), null);
      }
    } finally {
      await client.close();
      await closeHealthy(healthy);
    }
  });

  await t.step("a long-polling client that stopped polling is cut off", async () => {
    const healthy = await healthyClients(port);
    const stalled = await StalledPolling.open(port);
    try {
      await assertSlowConsumer(
        await burstUntilCut(healthy, stalled.sid, null),
        healthy[0].socket,
        stalled.sid,
      );
      assertHealthy(healthy, 1);
      // Its session is gone: a poll now is refused.
      assert.equal(await stalled.poll(), 400);
    } finally {
      await stalled.stop();
      await closeHealthy(healthy);
    }
  });

  await t.step("below the limit nothing is cut: a late reader gets the whole burst", async () => {
    const healthy = await healthyClients(port);
    const ws = await stalledWebSocket(port);
    const polling = await StalledPolling.open(port);
    try {
      const driver = healthy[0].socket;
      // Three bursts, 768 KiB: below the limit for each, the polling one included, which holds
      // them all in its session.
      let next = 0;
      for (let i = 0; i < 3; i++) {
        next = await within(driver.emitWithAck("burst", COUNT, SIZE, null), "ack", WAIT);
        await Promise.all(healthy.map((h) => within(h.got(next - 1), "the burst", WAIT)));
      }
      assert.equal(await driver.emitWithAck("reason", ws.sid), null);
      assert.equal(await driver.emitWithAck("reason", polling.sid), null);
      assertHealthy(healthy, 3);
      const first = next - 3 * COUNT;
      // Both read now, and get every broadcast.
      const seen = new Set<number>();
      while (seen.size < 3 * COUNT) {
        const frame = await within(ws.client.next(), "a frame", WAIT);
        assert.ok(frame !== null, `closed after ${seen.size} broadcasts`);
        if (typeof frame === "string" && frame.startsWith('42["b",')) {
          const seq = JSON.parse(frame.slice(2))[1];
          if (seq >= first) seen.add(seq);
        }
      }
      seen.clear();
      while (seen.size < 3 * COUNT) {
        const packets = await polling.poll();
        assert.ok(typeof packets !== "number", `poll refused with ${packets}`);
        for (const p of packets) {
          if (p.startsWith('42["b",')) seen.add(JSON.parse(p.slice(2))[1]);
        }
      }
    } finally {
      await ws.client.close();
      await polling.stop();
      await closeHealthy(healthy);
    }
  });
}

Deno.test("slow consumers on Deno", async (t) => {
  const io = new Server(OPTIONS);
  slowConsumerApp(io);
  const http = serve(io.handler());
  try {
    await steps(t, http.port);
  } finally {
    await io.close();
    await http.close();
  }
});

Deno.test("slow consumers on Bun", async (t) => {
  const bun = await findBun();
  if (!bun) {
    console.log("SKIPPED: bun not installed and could not be installed from npm");
    return;
  }
  const server = await startBunFixture(bun, BUN_FIXTURE);
  try {
    await steps(t, server.port);
  } finally {
    const out = await server.stop();
    assert.doesNotMatch(out, /error/i, out);
  }
});

Deno.test("slow consumers on Node", async (t) => {
  const { file, remove } = await buildNodeScript(NODE_FIXTURE);
  try {
    const server = await startNode(file, []);
    try {
      await steps(t, server.port);
    } finally {
      await server.stop();
    }
  } finally {
    await remove();
  }
});

Deno.test("maxBufferedBytes: 4e6 by default, Infinity for no limit, anything else refused", () => {
  assert.equal(new Server().engine.opts.maxBufferedBytes, 4e6);
  assert.equal(new Server({ maxBufferedBytes: Infinity }).engine.opts.maxBufferedBytes, Infinity);
  assert.throws(() => new Server({ maxBufferedBytes: 0 }), RangeError);
  assert.throws(() => new Server({ maxBufferedBytes: 2 ** 32 }), RangeError);
  assert.throws(
    () => new Server({ maxBufferedBytes: "4MB" as unknown as number }),
    /option "maxBufferedBytes" must be Infinity or a number of bytes, got "4MB"/,
  );
});
