/**
 * Reconnection of the client: after the server drops the connection or restarts, against our
 * server and the official one; backoff delays and jitter with fake timers; connection state
 * recovery.
 */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { io, Manager, type Socket } from "../client/mod.ts";
import {
  type Mode,
  MODES,
  once,
  type ServerKind,
  startOurs,
  startServer,
  track,
} from "./fixtures/client_env.ts";

const FAST = { reconnectionDelay: 20, reconnectionDelayMax: 50 };

for (const kind of ["ours", "official"] as const) {
  for (const mode of ["polling", "websocket", "upgrade"] as const) {
    Deno.test(`client reconnects to ${kind} server over ${mode}`, reconnects(kind, mode));
  }
}

function reconnects(kind: ServerKind, mode: Mode) {
  return async (t: Deno.TestContext) => {
    const target = await startServer(kind);
    const tracker = track();
    const sockets: Socket[] = [];
    const connect = async () => {
      const socket = io(target.url, { forceNew: true, ...FAST, ...MODES[mode] });
      sockets.push(socket);
      await once(socket, "connect");
      if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
        await once(socket.io.engine, "upgrade");
      }
      return socket;
    };
    try {
      await t.step("after the server drops the connection", async () => {
        const socket = await connect();
        const firstId = socket.id;
        const events: unknown[][] = [];
        for (const ev of ["reconnect_attempt", "reconnect", "reconnect_error"] as const) {
          socket.io.on(ev, (...args: unknown[]) => events.push([ev, ...args]));
        }
        const disconnected = once<[string]>(socket, "disconnect");
        socket.emit("drop-me");
        assert.equal((await disconnected)[0], "transport close");
        assert.equal(socket.active, true);
        await once(socket, "connect");
        assert.notEqual(socket.id, firstId);
        assert.deepEqual(events, [["reconnect_attempt", 1], ["reconnect", 1]]);
        assert.equal(await socket.emitWithAck("echo", "back"), "back");
      });

      await t.step("after a restart, with the emits made meanwhile, in order", async () => {
        const socket = await connect();
        const key = `restart-${kind}-${mode}`;
        const disconnected = once<[string]>(socket, "disconnect");
        const restarted = target.restart();
        const [reason] = await disconnected;
        assert.ok(reason === "transport close" || reason === "transport error", reason);
        for (let i = 1; i <= 5; i++) socket.emit("record", key, i);
        const acked = socket.emitWithAck("echo", "buffered ack");
        assert.equal(socket.sendBuffer.length, 6);
        const reconnected = once(socket, "connect");
        await restarted;
        await reconnected;
        assert.equal(await acked, "buffered ack");
        assert.deepEqual(await socket.emitWithAck("log", key), [1, 2, 3, 4, 5]);
      });

      await t.step("not after a server-side disconnect, unless asked", async () => {
        const socket = await connect();
        const disconnected = once<[string]>(socket, "disconnect");
        socket.emit("disconnect-me");
        assert.equal((await disconnected)[0], "io server disconnect");
        assert.equal(socket.active, false);
        socket.connect();
        await once(socket, "connect");
        assert.equal(await socket.emitWithAck("echo", "manual"), "manual");
      });
    } finally {
      for (const socket of sockets) socket.disconnect();
      await tracker.drained();
      tracker.restore();
      await target.close();
    }
  };
}

Deno.test("client gives up after reconnectionAttempts", async () => {
  const target = await startOurs();
  await target.close(); // nobody listens there now
  const tracker = track();
  const socket = io(target.url, {
    forceNew: true,
    reconnectionAttempts: 2,
    reconnectionDelay: 1,
    reconnectionDelayMax: 1,
  });
  const events: unknown[] = [];
  socket.on("connect_error", (err) => events.push(["connect_error", err.message]));
  for (const ev of ["reconnect_attempt", "reconnect_error"] as const) {
    socket.io.on(ev, (arg) => events.push([ev, typeof arg === "number" ? arg : "err"]));
  }
  await once(socket.io, "reconnect_failed");
  assert.deepEqual(events, [
    ["connect_error", "fetch read error"],
    ["reconnect_attempt", 1],
    ["connect_error", "fetch read error"],
    ["reconnect_error", "err"],
    ["reconnect_attempt", 2],
    ["connect_error", "fetch read error"],
    ["reconnect_error", "err"],
  ]);
  socket.disconnect();
  await tracker.drained();
  tracker.restore();
});

Deno.test("client does not reconnect with reconnection: false", async () => {
  const target = await startOurs();
  const tracker = track();
  const socket = io(target.url, { forceNew: true, reconnection: false });
  await once(socket, "connect");
  let attempts = 0;
  socket.io.on("reconnect_attempt", () => attempts++);
  const disconnected = once<[string]>(socket, "disconnect");
  socket.emit("drop-me");
  assert.equal((await disconnected)[0], "transport close");
  await tracker.drained();
  assert.equal(attempts, 0);
  assert.equal(socket.io._readyState, "closed");
  socket.disconnect();
  tracker.restore();
  await target.close();
});

/** The delays of the official formula for one `Math.random()` value. */
function expectedDelays(min: number, max: number, factor: number, rand: number, n: number) {
  const out: number[] = [];
  for (let attempt = 0; attempt < n; attempt++) {
    let ms = min * 2 ** attempt;
    const deviation = Math.floor(rand * factor * ms);
    ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
    out.push(Math.min(ms, max) | 0);
  }
  return out;
}

for (const rand of [0.25, 0.35]) {
  for (const transport of ["polling", "websocket"] as const) {
    Deno.test(`client backoff: delays and jitter (random ${rand}, ${transport})`, async () => {
      const target = await startOurs();
      await target.close(); // connections are refused from now on
      const tracker = track();
      const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
      const random = Math.random;
      Math.random = () => rand;
      try {
        const manager = new Manager(target.url, {
          transports: [transport],
          reconnectionDelay: 1000,
          reconnectionDelayMax: 5000,
          randomizationFactor: 0.5,
          reconnectionAttempts: 5,
        });
        const delays: number[] = [];
        let failedAt = 0;
        manager.on("error", () => failedAt = Date.now());
        manager.on("reconnect_attempt", () => delays.push(Date.now() - failedAt));
        const failed = once(manager, "reconnect_failed");
        let gaveUp = false;
        failed.then(() => gaveUp = true);
        while (!gaveUp) {
          // Each attempt fails on the network (real time), then the next waits on the clock.
          await once(manager, "error");
          await clock.runAllAsync();
        }
        assert.deepEqual(delays, expectedDelays(1000, 5000, 0.5, rand, 5));
        assert.equal(manager.reconnectionDelay(), 1000);
        assert.equal(manager.reconnectionDelayMax(), 5000);
        assert.equal(manager.randomizationFactor(), 0.5);
        manager._close();
      } finally {
        Math.random = random;
        clock.uninstall();
      }
      await tracker.drained();
      tracker.restore();
    });
  }
}

Deno.test("client backoff: setters change the next delays", async () => {
  const target = await startOurs();
  await target.close();
  const tracker = track();
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  try {
    const manager = new Manager(target.url, { transports: ["websocket"], autoConnect: false });
    manager.reconnectionDelay(100).reconnectionDelayMax(300).randomizationFactor(0);
    manager.reconnectionAttempts(4);
    const delays: number[] = [];
    let failedAt = 0;
    manager.on("error", () => failedAt = Date.now());
    manager.on("reconnect_attempt", () => delays.push(Date.now() - failedAt));
    let gaveUp = false;
    manager.once("reconnect_failed", () => gaveUp = true);
    manager.open();
    while (!gaveUp) {
      await once(manager, "error");
      await clock.runAllAsync();
    }
    assert.deepEqual(delays, [100, 200, 300, 300]);
    manager._close();
  } finally {
    clock.uninstall();
  }
  await tracker.drained();
  tracker.restore();
});

for (const kind of ["ours", "official"] as const) {
  Deno.test(`client recovers its session on ${kind} server (connection state recovery)`, async () => {
    const target = await startServer(kind, {
      connectionStateRecovery: { maxDisconnectionDuration: 60000 },
    });
    const tracker = track();
    const a = io(target.url, { forceNew: true, ...FAST });
    const b = io(target.url, { forceNew: true, ...FAST });
    const welcomed = once<[{ recovered: boolean }]>(a, "welcome");
    const bConnected = once(b, "connect");
    try {
      const [welcome] = await welcomed;
      assert.equal(welcome.recovered, false);
      assert.equal(a.recovered, false);
      await bConnected;
      const id = a.id;
      // An event with an offset, so that the client has one to resume from.
      const first = once(a, "news");
      b.emit("broadcast", "news", 1);
      await first;

      const disconnected = once(a, "disconnect");
      a.io.reconnection(false);
      a.emit("drop-me");
      await disconnected;
      // Missed while disconnected:
      assert.equal(await b.emitWithAck("echo", "sync"), "sync");
      b.emit("broadcast", "news", 2);
      assert.equal(await b.emitWithAck("echo", "sync"), "sync");

      const missed = once<[number]>(a, "news");
      a.io.reconnection(true);
      a.connect();
      await once(a, "connect");
      assert.equal(a.recovered, true);
      assert.equal(a.id, id);
      assert.equal((await missed)[0], 2);
    } finally {
      a.disconnect();
      b.disconnect();
      await tracker.drained();
      tracker.restore();
      await target.close();
    }
  });
}
