/**
 * The client's features against our server and the official npm `socket.io@4.8.4` server (under
 * Node), over polling, WebSocket and the upgrade from one to the other.
 */
import assert from "node:assert/strict";
import { io, type Socket } from "../client/mod.ts";
import {
  type Mode,
  MODES,
  once,
  type ServerKind,
  startServer,
  type TestTarget,
  track,
  type Tracker,
} from "./fixtures/client_env.ts";

type AnySocket = Socket;
type Welcome = {
  id: string;
  auth: unknown;
  query: { token?: string; x?: string };
  header: string | null;
  recovered: boolean;
  nsp?: string;
};

/** Sockets made by the current step: it disconnects them at its end, passed or failed. */
const made: AnySocket[] = [];

/** `io()`, remembering the socket. */
function client(uri: string, opts: Parameters<typeof io>[1] = {}): AnySocket {
  const socket = io(uri, opts);
  made.push(socket);
  return socket;
}

/**
 * Connects a new socket and resolves with it and the server's welcome, once connected (and, in
 * upgrade mode, upgraded: writes wait while the transports change, which would upset timeouts).
 */
async function connect(
  target: TestTarget,
  mode: Mode,
  path = "",
  opts: Record<string, unknown> = {},
): Promise<[AnySocket, Welcome]> {
  const socket = client(target.url + path, { forceNew: true, ...MODES[mode], ...opts });
  const welcome = once<[Welcome]>(socket, "welcome");
  await once(socket, "connect");
  await upgraded(socket, mode);
  return [socket, (await welcome)[0]];
}

/** In upgrade mode, waits for the move to WebSocket. */
async function upgraded(socket: AnySocket, mode: Mode): Promise<void> {
  if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
    await once(socket.io.engine, "upgrade");
  }
}

/** Disconnects every socket, then waits for their requests and WebSockets to end. */
async function done(tracker: Tracker, ...sockets: AnySocket[]): Promise<void> {
  for (const socket of sockets) socket.disconnect();
  await tracker.drained();
}

/** A step that disconnects the sockets it made, even when it fails. */
function stepper(t: Deno.TestContext, tracker: Tracker) {
  return (name: string, fn: () => Promise<void>) =>
    t.step(name, async () => {
      try {
        await fn();
      } finally {
        await done(tracker, ...made.splice(0));
      }
    });
}

function features(kind: ServerKind, mode: Mode) {
  return async (t: Deno.TestContext) => {
    const target = await startServer(kind);
    const tracker = track();
    const step = stepper(t, tracker);
    try {
      await step("connects, with the server's id, on the expected transport", async () => {
        const socket = client(target.url, { forceNew: true, ...MODES[mode] });
        const [welcome] = await once<[Welcome]>(socket, "welcome");
        assert.equal(socket.id, welcome.id);
        assert.equal(socket.connected, true);
        assert.equal(socket.disconnected, false);
        assert.equal(socket.active, true);
        assert.equal(socket.recovered, false);
        if (mode !== "upgrade") assert.equal(socket.io.engine.transport.name, mode);
        await upgraded(socket, mode);
        const expected = mode === "polling" ? "polling" : "websocket";
        assert.equal(socket.io.engine.transport.name, expected);
        assert.equal(await socket.emitWithAck("transport"), expected);
        await done(tracker, socket);
        assert.equal(socket.connected, false);
        assert.equal(socket.id, undefined);
      });

      await step("sends auth (object or function), query and extra headers", async () => {
        const [a, wa] = await connect(target, mode, "?token=abc&x=1", {
          auth: { user: "ann" },
          extraHeaders: { "x-custom": "hello" },
        });
        assert.deepEqual(wa.auth, { user: "ann" });
        assert.deepEqual(wa.query, { token: "abc", x: "1" });
        assert.equal(wa.header, "hello");
        const [b, wb] = await connect(target, mode, "", {
          auth: (cb: (data: object) => void) => cb({ user: "bob" }),
          query: { token: "q" },
        });
        assert.deepEqual(wb.auth, { user: "bob" });
        assert.equal(wb.query.token, "q");
        await done(tracker, a, b);
      });

      await step("acks both ways, with several arguments and binary", async () => {
        const [socket] = await connect(target, mode);
        const acked = await new Promise<unknown[]>((resolve) =>
          socket.emit("echo", 1, "two", { three: [3] }, (...args: unknown[]) => resolve(args))
        );
        assert.deepEqual(acked, [1, "two", { three: [3] }]);
        assert.equal(await socket.emitWithAck("echo", "only"), "only");

        socket.on("question", (q: number, ack: (a: number) => void) => ack(q * 2));
        assert.equal(await socket.emitWithAck("ask", 21), 42);

        const [bytes, nested] = await new Promise<unknown[]>((resolve) =>
          socket.emit(
            "echo",
            new Uint8Array([1, 2, 3]),
            { deep: { data: new Uint8Array([4, 5]).buffer } },
            (...args: unknown[]) => resolve(args),
          )
        );
        assert.ok(bytes instanceof ArrayBuffer);
        assert.deepEqual([...new Uint8Array(bytes)], [1, 2, 3]);
        const deep = (nested as { deep: { data: ArrayBuffer } }).deep.data;
        assert.deepEqual([...new Uint8Array(deep)], [4, 5]);

        const events = once<[string, ArrayBuffer]>(socket, "news");
        socket.emit("emit-back", "news", "hot", new Uint8Array([9]));
        const [headline, blob] = await events;
        assert.equal(headline, "hot");
        assert.deepEqual([...new Uint8Array(blob)], [9]);

        const message = once<[string]>(socket, "message");
        socket.send("via send");
        assert.deepEqual(await message, ["via send"]);

        socket.compress(false).emit("echo", "uncompressed", () => {});
        assert.equal(await socket.compress(true).emitWithAck("echo", "ok"), "ok");
        await done(tracker, socket);
      });

      await step("multiplexes namespaces over one Manager", async () => {
        // Not forceNew: the Manager is shared per origin and path.
        const main = client(target.url, { ...MODES[mode] });
        const admin = client(target.url + "/admin", { ...MODES[mode], auth: { role: "admin" } });
        assert.equal(admin.io, main.io);
        const welcome = once<[Welcome]>(admin, "welcome");
        await Promise.all([once(main, "connect"), once(admin, "connect")]);
        assert.deepEqual(await welcome, [{ nsp: "/admin", auth: { role: "admin" } }]);
        assert.equal(await admin.emitWithAck("echo", "a"), "a");
        assert.equal(await main.emitWithAck("echo", "m"), "m");
        // The same namespace again gets its own Manager.
        const again = client(target.url, { ...MODES[mode] });
        assert.notEqual(again.io, main.io);
        const separate = client(target.url + "/admin", { ...MODES[mode], multiplex: false });
        assert.notEqual(separate.io, main.io);
        await Promise.all([once(again, "connect"), once(separate, "connect")]);
        // Leaving one namespace keeps the connection of the other.
        admin.disconnect();
        assert.equal(await main.emitWithAck("echo", "still"), "still");
        await done(tracker, main, again, separate);
      });

      await step("connect_error carries the server's data", async () => {
        const socket = client(target.url + "/private", { forceNew: true, ...MODES[mode] });
        const [err] = await once<[Error & { data: unknown }]>(socket, "connect_error");
        assert.equal(err.message, "not authorized");
        assert.deepEqual(err.data, { code: 42 });
        assert.equal(socket.active, false);
        const rejected = client(target.url, {
          forceNew: true,
          ...MODES[mode],
          auth: { reject: "banned" },
        });
        const [err2] = await once<[Error & { data: unknown }]>(rejected, "connect_error");
        assert.equal(err2.message, "rejected");
        assert.deepEqual(err2.data, { reason: "banned" });
        await done(tracker, socket, rejected);
      });

      await step("disconnect reasons: client and server side", async () => {
        const [a] = await connect(target, mode);
        const left = once<[string]>(a, "disconnect");
        a.disconnect();
        assert.equal((await left)[0], "io client disconnect");
        assert.equal(a.active, false);

        const [b] = await connect(target, mode);
        const kicked = once<[string]>(b, "disconnect");
        b.emit("disconnect-me");
        assert.equal((await kicked)[0], "io server disconnect");
        // No reconnection after a server-side disconnect.
        assert.equal(b.active, false);
        await done(tracker, a, b);
      });

      await step("onAny, prependAny, offAny and the outgoing ones", async () => {
        const [socket] = await connect(target, mode);
        const seen: unknown[][] = [];
        const first = (...args: unknown[]) => seen.push(["first", ...args]);
        const any = (...args: unknown[]) => seen.push(["any", ...args]);
        socket.onAny(any);
        socket.prependAny(first);
        assert.deepEqual(socket.listenersAny(), [first, any]);
        const out: unknown[][] = [];
        const onOut = (...args: unknown[]) => out.push(args);
        socket.onAnyOutgoing(onOut);
        socket.prependAnyOutgoing(() => {});
        const got = once(socket, "ping-back");
        socket.emit("emit-back", "ping-back", 1);
        await got;
        assert.deepEqual(seen, [["first", "ping-back", 1], ["any", "ping-back", 1]]);
        assert.deepEqual(out, [["emit-back", "ping-back", 1]]);
        socket.offAny(first);
        assert.deepEqual(socket.listenersAny(), [any]);
        socket.offAny();
        assert.deepEqual(socket.listenersAny(), []);
        socket.offAnyOutgoing(onOut);
        assert.equal(socket.listenersAnyOutgoing().length, 1);
        socket.offAnyOutgoing();
        assert.deepEqual(socket.listenersAnyOutgoing(), []);
        await done(tracker, socket);
      });

      await step("buffers emits until connected, in order; drops volatile ones", async () => {
        const socket = client(target.url, { forceNew: true, autoConnect: false, ...MODES[mode] });
        const key = `buffer-${kind}-${mode}`;
        for (let i = 1; i <= 5; i++) socket.emit("record", key, i);
        socket.volatile.emit("record", key, "volatile");
        assert.equal(socket.sendBuffer.length, 5);
        const outgoing: unknown[] = [];
        socket.onAnyOutgoing((_ev, _key, value) => outgoing.push(value));
        socket.connect();
        await once(socket, "connect");
        assert.equal(socket.sendBuffer.length, 0);
        assert.deepEqual(outgoing, [1, 2, 3, 4, 5]);
        assert.deepEqual(await socket.emitWithAck("log", key), [1, 2, 3, 4, 5]);
        await done(tracker, socket);
      });

      await step("acks time out: timeout(), ackTimeout, emitWithAck", async () => {
        const [socket] = await connect(target, mode, "", { ackTimeout: 30 });
        // `record` never acks.
        const [err] = await new Promise<unknown[]>((resolve) =>
          socket.timeout(20).emit("record", "t", 1, (...args: unknown[]) => resolve(args))
        );
        assert.equal((err as Error).message, "operation has timed out");
        await assert.rejects(socket.emitWithAck("record", "t", 2), /operation has timed out/);
        // An answer in time comes with a null error first.
        const ok = await new Promise<unknown[]>((resolve) =>
          socket.timeout(5000).emit("echo", "fast", (...args: unknown[]) => resolve(args))
        );
        assert.deepEqual(ok, [null, "fast"]);
        await done(tracker, socket);
      });

      await step("retries: acks once, re-sends until acknowledged, in order", async () => {
        const [socket] = await connect(target, mode, "", { retries: 3, ackTimeout: 100 });
        const key = `flaky-${kind}-${mode}`;
        const calls: unknown[][] = [];
        const acked = new Promise<void>((resolve) =>
          socket.emit("flaky", key, 3, (...args: unknown[]) => {
            calls.push(args);
            resolve();
          })
        );
        // Queued behind the flaky one: sent only once it is acknowledged.
        const echoed = socket.emitWithAck("echo", "after");
        await acked;
        assert.equal(await echoed, "after");
        assert.deepEqual(calls, [[null, 3]]);
        // The server saw each try: at-least-once delivery.
        assert.deepEqual(await socket.emitWithAck("log", key), [1, 2, 3]);

        // Past `retries`, the ack gets the error, once.
        const [lost] = await connect(target, mode, "", { retries: 1, ackTimeout: 30 });
        const lostKey = `lost-${kind}-${mode}`;
        const errors: unknown[][] = [];
        await new Promise<void>((resolve) =>
          lost.emit("flaky", lostKey, 99, (...args: unknown[]) => {
            errors.push(args);
            resolve();
          })
        );
        assert.equal(errors.length, 1);
        assert.equal((errors[0][0] as Error).message, "operation has timed out");
        assert.deepEqual(await lost.emitWithAck("log", lostKey), [1, 2]);
        await done(tracker, socket, lost);
      });

      await step("acks pending at disconnect fail with an error", async () => {
        const [socket] = await connect(target, mode);
        const pending = socket.emitWithAck("record", "never", 1);
        socket.disconnect();
        await assert.rejects(pending, /socket has been disconnected/);
        await done(tracker, socket);
      });

      await step("reserved event names cannot be emitted", async () => {
        const socket = client(target.url, { forceNew: true, autoConnect: false });
        for (const name of ["connect", "connect_error", "disconnect", "disconnecting"]) {
          assert.throws(() => socket.emit(name), /is a reserved event name/);
        }
        await done(tracker, socket);
      });
    } finally {
      tracker.restore();
      await target.close();
    }
  };
}

for (const kind of ["ours", "official"] as const) {
  for (const mode of ["polling", "websocket", "upgrade"] as const) {
    Deno.test(`client features against ${kind} server over ${mode}`, features(kind, mode));
  }
}
