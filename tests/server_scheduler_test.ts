/**
 * Every timer of the server runs on its scheduler (the `scheduler` option): a server given a
 * manual clock pings, times acks out, ends a connection that joins no namespace and cancels a
 * stalled upgrade when the clock is moved on, as the official client or a raw client sees it,
 * and keeps no timer of the runtime pending meanwhile (what lets a Durable Object hibernate).
 * With the default scheduler, fake timers (`@sinonjs/fake-timers`) still drive the server.
 */
import assert from "node:assert/strict";
import { Server, type Socket } from "../mod.ts";
import { handshake, poll, pollingUrl } from "./helpers/engine.ts";
import { WsClient } from "./helpers/raw.ts";
import { serve } from "./helpers/serve.ts";
import { delay, Fixture, MODES, next, upgraded } from "./helpers/socketio.ts";
import { ManualClock } from "./helpers/manual_clock.ts";

const ROOT = new URL("../", import.meta.url).href;
const SERVER_CODE = [`${ROOT}server/`, `${ROOT}adapter/`, `${ROOT}mod.ts`];

/**
 * Watches the runtime's timers (`setTimeout` / `setInterval` on `globalThis`, which they still
 * run): `pending()` lists those set from the server's code and neither fired nor cleared yet.
 * Timers of the clients and of the test itself are not the server's and are left out.
 */
function watchServerTimers(): { pending(): string[]; restore(): void } {
  const g = globalThis as unknown as Record<string, (...a: unknown[]) => unknown>;
  const originals = Object.fromEntries(
    ["setTimeout", "setInterval", "clearTimeout", "clearInterval"].map((n) => [n, g[n]]),
  );
  const pending = new Map<unknown, string>();
  const fromServer = (stack: string) => SERVER_CODE.some((path) => stack.includes(path));
  for (const name of ["setTimeout", "setInterval"]) {
    g[name] = (fn: unknown, ...rest: unknown[]) => {
      const stack = new Error().stack ?? "";
      const timer: { id?: unknown } = {};
      const run = typeof fn === "function"
        ? (...a: unknown[]) => {
          if (name === "setTimeout") pending.delete(timer.id);
          return (fn as (...a: unknown[]) => unknown)(...a);
        }
        : fn;
      const id = timer.id = originals[name](run, ...rest);
      if (fromServer(stack)) pending.set(id, stack);
      return id;
    };
  }
  for (const name of ["clearTimeout", "clearInterval"]) {
    g[name] = (id: unknown) => {
      pending.delete(id);
      return originals[name](id);
    };
  }
  return {
    pending: () => [...pending.values()],
    restore: () => Object.assign(g, originals),
  };
}

const PING_INTERVAL = 10_000;
const PING_TIMEOUT = 5_000;

for (const mode of MODES) {
  Deno.test(`a server on a scheduler of its own: heartbeat and ack timeouts run on it, no runtime timer is pending [${mode}]`, async () => {
    const timers = watchServerTimers();
    const clock = new ManualClock();
    const io = new Server({
      scheduler: clock,
      pingInterval: PING_INTERVAL,
      pingTimeout: PING_TIMEOUT,
    });
    const fx = new Fixture(mode, {}, io);
    try {
      let opened = 0;
      const serverSide = new Promise<Socket>((resolve) =>
        io.once("connection", (s) => {
          opened = clock.now();
          resolve(s);
        })
      );
      const c = fx.client();
      await next(c, "connect");
      if (mode === "upgrade") {
        // The poll that the client waits for before it upgrades is released on the clock.
        const done = upgraded(c);
        let up = false;
        done.then(() => (up = true));
        while (!up) {
          clock.advance(100);
          await delay(5);
        }
      }
      const socket = await serverSide;
      assert.deepEqual(timers.pending(), [], "no runtime timer while a session is open");
      assert.ok(clock.timers.size > 0, "the heartbeat is armed on the server's scheduler");

      // The heartbeat: a ping exactly pingInterval after the open (or the last pong).
      const pings: number[] = [];
      socket.conn.on("packetCreate", (p) => p.type === "ping" && pings.push(clock.now()));
      const clientPinged = next(c.io.engine, "ping");
      // (In upgrade mode the clock has moved on a little already, releasing polls.)
      clock.advance(opened + PING_INTERVAL - 1 - clock.now());
      assert.deepEqual(pings, []);
      clock.advance(1);
      assert.deepEqual(pings, [opened + PING_INTERVAL]);
      await clientPinged;
      // The client's pong moves the next ping pingInterval on from it.
      await next(socket.conn, "heartbeat");
      const pongAt = clock.now();
      clock.advance(PING_INTERVAL);
      assert.deepEqual(pings, [opened + PING_INTERVAL, pongAt + PING_INTERVAL]);
      await next(socket.conn, "heartbeat");

      // An ack the client never sends times out on the clock, socket.timeout() and io.timeout().
      const errors: string[] = [];
      socket.timeout(3_000).emit("unanswered", (err: Error | null) => errors.push(`socket ${err}`));
      io.timeout(4_000).emit("unanswered", (err: Error | null) => errors.push(`io ${err}`));
      await next(c, "unanswered");
      clock.advance(2_999);
      assert.deepEqual(errors, []);
      clock.advance(1);
      assert.deepEqual(errors, ["socket Error: operation has timed out"]);
      clock.advance(1_000);
      assert.deepEqual(errors, [
        "socket Error: operation has timed out",
        "io Error: operation has timed out",
      ]);
      assert.deepEqual(timers.pending(), []);

      // A ping left unanswered for pingTimeout closes the session: here the clock moves past
      // both deadlines at once, before the client can answer.
      const disconnected = next(socket, "disconnect");
      const clientGone = next(c, "disconnect");
      clock.advance(PING_INTERVAL + PING_TIMEOUT);
      assert.equal(await disconnected, "ping timeout");
      await clientGone;
    } finally {
      await fx.close();
      timers.restore();
    }
    // Closing the server left nothing armed on its scheduler.
    assert.equal(clock.timers.size, 0);
  });
}

Deno.test("a server on a scheduler of its own: the join deadline and the upgrade timeout run on it", async () => {
  const timers = watchServerTimers();
  const clock = new ManualClock();
  const io = new Server({
    scheduler: clock,
    connectTimeout: 20_000,
    upgradeTimeout: 7_000,
    pingInterval: 60_000,
  });
  const http = serve(io.handler());
  const base = `${http.origin}/socket.io/`;
  const wsBase = base.replace("http", "ws");
  try {
    // A raw WebSocket that never joins a namespace is closed connectTimeout after it opened.
    const idle = new WsClient(`${wsBase}?EIO=4&transport=websocket`);
    assert.equal(String(await idle.next())[0], "0");
    const joined = new WsClient(`${wsBase}?EIO=4&transport=websocket`);
    await joined.next();
    joined.send("40");
    assert.match(String(await joined.next()), /^40\{"sid":/);
    assert.deepEqual(timers.pending(), []);
    clock.advance(19_999);
    assert.equal(idle.ws.readyState, WebSocket.OPEN);
    clock.advance(1);
    await idle.closed;
    assert.equal(joined.ws.readyState, WebSocket.OPEN);

    // A polling session that probes a WebSocket and never completes the upgrade: the waiting
    // poll is released with a noop every 100 ms on the clock, and the probe is dropped after
    // upgradeTimeout.
    const { sid } = await handshake(base);
    const probe = new WsClient(`${wsBase}?EIO=4&transport=websocket&sid=${sid}`);
    await probe.opened;
    probe.send("2probe");
    assert.equal(await probe.next(), "3probe");
    const held = poll(base, sid);
    await delay(20); // the poll reaches the server
    assert.deepEqual(timers.pending(), []);
    clock.advance(100);
    assert.equal(await held, "6");
    clock.advance(7_000);
    await probe.closed;
    // The session lives on over polling.
    const res = await fetch(pollingUrl(base, sid), { method: "POST", body: "40" });
    assert.equal(await res.text(), "ok");
    assert.match(await poll(base, sid), /^40\{"sid":/);
    assert.deepEqual(timers.pending(), []);
    await joined.close();
  } finally {
    await io.close();
    await http.close();
    timers.restore();
  }
  assert.equal(clock.timers.size, 0);
});

Deno.test("with the default scheduler, fake timers drive the heartbeat and ack timeouts", async () => {
  const { install } = await import("@sinonjs/fake-timers");
  const io = new Server({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
  const http = serve(io.handler());
  const ws = new WsClient(
    `${http.origin.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`,
  );
  // Installed after the server was made: the default scheduler looks the timers up at each call.
  const clock = install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    const serverSide = next<Socket>(io, "connection");
    await ws.next();
    ws.send("40");
    await ws.next();
    const socket = await serverSide;
    let acked: string | undefined;
    socket.timeout(3_000).emit("unanswered", (err: Error | null) => (acked = String(err)));
    assert.match(String(await ws.next()), /^42\d+\["unanswered"\]$/);
    clock.tick(3_000);
    assert.equal(acked, "Error: operation has timed out");
    clock.tick(PING_INTERVAL - 3_000);
    assert.equal(await ws.next(), "2");
    const closed = next(socket, "disconnect");
    clock.tick(PING_TIMEOUT);
    assert.equal(await closed, "ping timeout");
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
    await ws.close();
    await io.close();
    await http.close();
  }
});
