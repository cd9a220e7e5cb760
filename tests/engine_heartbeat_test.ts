/**
 * The heartbeat keeps one schedule per session, as the official server: the first ping
 * `pingInterval` after the session opened (not at some point of a round shared with older
 * sessions), and `pingTimeout` after its own ping a silent session is closed.
 *
 * Times are taken on the server (`connection`, `packetCreate`, `close`, all on one clock), so
 * they say when the engine acted, whatever the load; load only makes a ping later.
 */
import assert from "node:assert/strict";
import type { EngineSocket } from "../server/engine/mod.ts";
import {
  closeOf,
  delay,
  type EngineFixture,
  handshake,
  nextConnection,
  poll,
  startEngine,
} from "./helpers/engine.ts";
import { WsClient } from "./helpers/raw.ts";

const PING_INTERVAL = 400;
const PING_TIMEOUT = 300;

/** A session of `mode` that answers no ping; `firstPing` resolves with the first ping's time. */
async function silentSession(f: EngineFixture, mode: "websocket" | "polling"): Promise<{
  socket: EngineSocket;
  openedAt: number;
  firstPing: Promise<number>;
  /** Reads the client side's first ping frame or poll. */
  clientPing: () => Promise<string>;
  close: () => Promise<void>;
}> {
  let openedAt = 0;
  const connected = new Promise<EngineSocket>((resolve) =>
    f.engine.once("connection", (socket) => {
      openedAt = Date.now();
      resolve(socket);
    })
  );
  let ws: WsClient | undefined;
  let sid = "";
  if (mode === "websocket") {
    ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket`);
    assert.equal(String(await ws.next())[0], "0");
  } else ({ sid } = await handshake(f.base));
  const socket = await connected;
  const firstPing = new Promise<number>((resolve) =>
    socket.on("packetCreate", (p) => p.type === "ping" && resolve(Date.now()))
  );
  return {
    socket,
    openedAt,
    firstPing,
    clientPing: async () => ws ? String(await ws.next()) : await poll(f.base, sid),
    close: async () => {
      await ws?.close();
    },
  };
}

/** A WebSocket session that answers every ping, so the engine's timer keeps running. */
async function pongingSession(f: EngineFixture): Promise<{ ws: WsClient; socket: EngineSocket }> {
  const connected = nextConnection(f.engine);
  const ws = new WsClient(`${f.wsBase}?EIO=4&transport=websocket`);
  await ws.next();
  ws.ws.addEventListener("message", (e) => e.data === "2" && ws.ws.send("3"));
  return { ws, socket: await connected };
}

for (const mode of ["websocket", "polling"] as const) {
  Deno.test(`heartbeat over ${mode}: a session's first ping comes pingInterval after its open`, async () => {
    const f = startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    try {
      // An older session starts the timer; the new one opens well inside its first interval, so
      // a round shared with it would ping the new session early.
      const older = await pongingSession(f);
      await delay(PING_INTERVAL * 0.6);
      const s = await silentSession(f, mode);
      const clientPing = s.clientPing();
      const pingedAt = await s.firstPing;
      // `connection` is emitted within the same call as the heartbeat's start: 1 ms of slack for
      // a clock tick between the two.
      assert.ok(
        pingedAt - s.openedAt >= PING_INTERVAL - 1,
        `first ping ${pingedAt - s.openedAt} ms after open`,
      );
      assert.equal(await clientPing, "2");
      assert.equal(older.socket.readyState, "open");
      await s.close();
      await older.ws.close();
    } finally {
      await f.close();
    }
  });

  Deno.test(`heartbeat over ${mode}: a silent session closes pingTimeout after its own ping`, async () => {
    const f = startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
    try {
      const older = await pongingSession(f);
      await delay(PING_INTERVAL * 0.6);
      const s = await silentSession(f, mode);
      const closed = closeOf(s.socket).then((reason) => [reason, Date.now()] as const);
      const clientPing = s.clientPing();
      const pingedAt = await s.firstPing;
      assert.equal(await clientPing, "2");
      const [reason, closedAt] = await closed;
      assert.deepEqual(reason, ["ping timeout", undefined]);
      assert.ok(closedAt - pingedAt >= PING_TIMEOUT, `closed ${closedAt - pingedAt} ms after ping`);
      // The session that answers its pings lives on.
      assert.equal(older.socket.readyState, "open");
      assert.equal(f.engine.clientsCount, 1);
      await s.close();
      await older.ws.close();
    } finally {
      await f.close();
    }
  });
}

Deno.test("heartbeat: after a pong, the next ping comes pingInterval later", async () => {
  const f = startEngine({ pingInterval: 200, pingTimeout: 200 });
  try {
    const { ws, socket } = await pongingSession(f);
    const pings: number[] = [];
    const beats: number[] = [];
    socket.on("packetCreate", (p) => p.type === "ping" && pings.push(Date.now()));
    socket.on("heartbeat", () => beats.push(Date.now()));
    while (pings.length < 3) await delay(50);
    for (let i = 1; i < pings.length; i++) {
      assert.ok(
        pings[i] - beats[i - 1] >= 199,
        `ping ${i} came ${pings[i] - beats[i - 1]} ms after the pong`,
      );
    }
    assert.equal(socket.readyState, "open");
    await ws.close();
  } finally {
    await f.close();
  }
});

// The deadlines themselves, on a fake clock: a ping exactly `pingInterval` after open or pong,
// a timeout exactly `pingTimeout` after the ping, neither a millisecond early nor late (the
// official protocol suite polls at exactly pingInterval + pingTimeout and expects the session
// gone).
Deno.test("heartbeat deadlines are exact: ping at pingInterval, timeout at pingTimeout after it", async () => {
  const { install } = await import("@sinonjs/fake-timers");
  const { Heartbeat } = await import("../server/engine/heartbeat.ts");
  const clock = install({ now: 1_000_003, toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    const beats = new Heartbeat(300, 200);
    const log: string[] = [];
    const target = (name: string, protocol = 4) => ({
      protocol,
      awaitingPong: false,
      heartbeatDue: -1,
      ping: () => log.push(`${Date.now() - 1_000_003} ping ${name}`),
      timeout: () => log.push(`${Date.now() - 1_000_003} timeout ${name}`),
    });
    const a = target("a");
    const b = target("b");
    const old = target("v3", 3);
    beats.add(a);
    beats.add(old);
    clock.tick(7);
    beats.add(b);
    clock.tick(292); // 299: nothing is due yet
    assert.deepEqual(log, []);
    clock.tick(1);
    assert.deepEqual(log, ["300 ping a"]);
    clock.tick(6);
    assert.deepEqual(log, ["300 ping a"]);
    clock.tick(1);
    assert.deepEqual(log, ["300 ping a", "307 ping b"]);
    clock.tick(50);
    beats.beat(b); // b's pong at 357: its next ping is due at 657
    clock.tick(142); // 499
    assert.equal(log.length, 2);
    clock.tick(1);
    assert.deepEqual(log.slice(2), ["500 timeout a", "500 timeout v3"]);
    clock.tick(156); // 656
    assert.equal(log.length, 4);
    clock.tick(1);
    assert.deepEqual(log.slice(4), ["657 ping b"]);
    beats.delete(b);
    clock.tick(1000);
    assert.equal(log.length, 5);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

// With pingInterval shorter than pingTimeout, the timer is armed for a pong's deadline when the
// pong comes; the next ping, due sooner, must not wait for it.
Deno.test("heartbeat: a pingInterval shorter than pingTimeout still pings pingInterval after the pong", async () => {
  const { install } = await import("@sinonjs/fake-timers");
  const { Heartbeat } = await import("../server/engine/heartbeat.ts");
  const clock = install({ now: 2_000_000, toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    const beats = new Heartbeat(100, 1000);
    const log: string[] = [];
    const a = {
      protocol: 4,
      awaitingPong: false,
      heartbeatDue: -1,
      ping: () => log.push(`${Date.now() - 2_000_000} ping`),
      timeout: () => log.push(`${Date.now() - 2_000_000} timeout`),
    };
    beats.add(a);
    clock.tick(100);
    assert.deepEqual(log, ["100 ping"]);
    clock.tick(10);
    beats.beat(a); // the pong at 110: the next ping is due at 210
    clock.tick(99);
    assert.deepEqual(log, ["100 ping"]);
    clock.tick(1);
    assert.deepEqual(log, ["100 ping", "210 ping"]);
    beats.delete(a);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("heartbeat: a close listener that throws on a ping timeout is reported, and the other sessions are still pinged", async () => {
  const f = startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
  const reported: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    reported.push(e.error);
  };
  addEventListener("error", onError);
  try {
    const s = await silentSession(f, "websocket");
    const closed = closeOf(s.socket);
    s.socket.on("close", () => {
      throw new Error("close listener failed on purpose");
    });
    const older = await pongingSession(f);
    await closed;
    // The heartbeat still runs for the session that answers: two more pings reach it.
    let pings = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) =>
        older.socket.on("packetCreate", (p) => p.type === "ping" && ++pings === 2 && resolve())
      ),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${pings} pings after the throw`)), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    assert.deepEqual(reported.map((e) => (e as Error).message), [
      "close listener failed on purpose",
    ]);
    assert.equal(older.socket.readyState, "open");
    await s.close();
    await older.ws.close();
  } finally {
    removeEventListener("error", onError);
    await f.close();
  }
});
