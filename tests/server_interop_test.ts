/**
 * Our server against the official `socket.io-client@4.8.4`, each case over polling only,
 * WebSocket only, and polling upgraded to WebSocket.
 */
import assert from "node:assert/strict";
import { answered, HeldTimeouts } from "./helpers/held_timeouts.ts";
import { Buffer } from "node:buffer";
import ioV2 from "socket.io-client-v2";
import msgpackParser from "socket.io-msgpack-parser";
import type { CreatedPacket, ExtendedError, ParserModule, Socket } from "../mod.ts";
import {
  type ClientSocket,
  connected,
  delay,
  eachMode,
  type Fixture,
  next,
  nextArgs,
  officialClient as io,
  receivedDuring,
  writable,
} from "./helpers/socketio.ts";
import { RESERVED_EVENT_NAMES } from "./helpers/reserved.ts";

// --- Events and binary ----------------------------------------------------------------------

eachMode("events with mixed arguments go both ways", async (fx) => {
  const [client, socket] = await fx.pair();
  const got = nextArgs(socket, "mixed");
  client.emit("mixed", 1, "two", { three: [3] }, null, true);
  assert.deepEqual(await got, [1, "two", { three: [3] }, null, true]);

  const back = nextArgs(client, "mixed");
  socket.emit("mixed", 1.5, "deux", { trois: { x: [1, 2] } }, [], false);
  assert.deepEqual(await back, [1.5, "deux", { trois: { x: [1, 2] } }, [], false]);
});

eachMode("binary arguments go both ways (Uint8Array, Buffer, ArrayBuffer)", async (fx) => {
  const [client, socket] = await fx.pair();
  const got = nextArgs<unknown[]>(socket, "bin");
  client.emit(
    "bin",
    new Uint8Array([1, 2, 3]),
    { nested: Buffer.from([4, 5]), list: [new Uint8Array([6]).buffer] },
    "text",
  );
  const [a, b, c] = await got;
  assert.ok(a instanceof Uint8Array || a instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(a as ArrayBuffer)], [1, 2, 3]);
  const nested = b as { nested: Uint8Array; list: ArrayBuffer[] };
  assert.deepEqual([...new Uint8Array(nested.nested)], [4, 5]);
  assert.deepEqual([...new Uint8Array(nested.list[0])], [6]);
  assert.equal(c, "text");

  const back = nextArgs<unknown[]>(client, "bin");
  socket.emit(
    "bin",
    new Uint8Array([7, 8]),
    Buffer.from([9]),
    new Uint8Array([10, 11]).buffer,
    { deep: { view: new Uint8Array([0, 12, 13, 0]).subarray(1, 3) } },
  );
  const [d, e, f, g] = await back;
  const bytes = (x: unknown) => [...new Uint8Array(x as ArrayBuffer)];
  assert.deepEqual(bytes(d), [7, 8]);
  assert.deepEqual(bytes(e), [9]);
  assert.deepEqual(bytes(f), [10, 11]);
  assert.deepEqual(bytes((g as { deep: { view: unknown } }).deep.view), [12, 13]);
});

// --- Acknowledgements -----------------------------------------------------------------------

eachMode("acks go both ways", async (fx) => {
  const [client, socket] = await fx.pair();
  socket.on("sum", (a: number, b: number, ack: (n: number, s: string) => void) => {
    ack(a + b, "done");
  });
  const answer = await new Promise((resolve) => {
    client.emit("sum", 2, 3, (n: number, s: string) => resolve([n, s]));
  });
  assert.deepEqual(answer, [5, "done"]);

  client.on(
    "ask",
    (q: string, ack: (a: unknown) => void) => ack({ echo: q, bin: Buffer.from([1]) }),
  );
  const reply = await new Promise<{ echo: string; bin: Uint8Array }>((resolve) => {
    socket.emit("ask", "why", resolve);
  });
  assert.equal(reply.echo, "why");
  assert.deepEqual([...new Uint8Array(reply.bin)], [1]);
});

eachMode("emitWithAck both ways", async (fx) => {
  const [client, socket] = await fx.pair();
  socket.on("double", (n: number, ack: (n: number) => void) => ack(n * 2));
  client.on("triple", (n: number, ack: (n: number) => void) => ack(n * 3));
  assert.equal(await client.emitWithAck("double", 21), 42);
  assert.equal(await socket.emitWithAck("triple", 3), 9);
  assert.equal(await socket.timeout(5000).emitWithAck("triple", 4), 12);
});

eachMode("timeout(ms).emit times out both ways", async (fx) => {
  const [client, socket] = await fx.pair();
  // Neither side answers.
  socket.on("silent", () => {});
  client.on("silent", () => {});
  const clientErr = await new Promise<Error | null>((resolve) => {
    client.timeout(50).emit("silent", (err: Error | null) => resolve(err));
  });
  assert.ok(clientErr instanceof Error);
  const serverErr = await new Promise<Error | null>((resolve) => {
    socket.timeout(50).emit("silent", (err: Error | null) => resolve(err));
  });
  assert.ok(serverErr instanceof Error);
  assert.equal(serverErr.message, "operation has timed out");
  await assert.rejects(socket.timeout(50).emitWithAck("silent"), /operation has timed out/);
  // An answer in time gives a null error.
  client.on("quick", (ack: (v: string) => void) => ack("ok"));
  const [err, value] = await new Promise<unknown[]>((resolve) => {
    socket.timeout(5000).emit("quick", (...args: unknown[]) => resolve(args));
  });
  assert.equal(err, null);
  assert.equal(value, "ok");
});

eachMode("a late ack after the timeout is ignored", async (fx) => {
  const [client, socket] = await fx.pair();
  let late: (v: string) => void = () => {};
  client.on("slow", (ack: (v: string) => void) => (late = ack));
  const calls: unknown[][] = [];
  await new Promise<void>((resolve) => {
    socket.timeout(30).emit("slow", (...args: unknown[]) => {
      calls.push(args);
      resolve();
    });
  });
  late("too late");
  // A round trip after the late ack proves it was processed (and dropped).
  client.on("ping2", (ack: () => void) => ack());
  await socket.emitWithAck("ping2");
  assert.equal(calls.length, 1);
  assert.ok(calls[0][0] instanceof Error);
  assert.equal(socket.acks.size, 0);
});

// --- Namespaces -----------------------------------------------------------------------------

eachMode("namespaces are multiplexed on one connection", async (fx) => {
  const seen: string[] = [];
  fx.io.on("connection", (s) => seen.push("/" + s.id));
  fx.io.of("/admin").on("connection", (s) => {
    seen.push("/admin");
    s.on("who", (ack: (n: string) => void) => ack(s.nsp.name));
  });
  const main = fx.track(io(fx.url, fx.options({ forceNew: false })));
  await connected(main);
  const admin = fx.track(io(fx.url + "/admin", fx.options({ forceNew: false })));
  await connected(admin);
  assert.equal(main.io, admin.io, "the Manager is shared");
  assert.equal(fx.io.engine.clientsCount, 1, "one Engine.IO connection");
  assert.equal(await admin.emitWithAck("who"), "/admin");
  // Both sockets ride the same engine session on the server.
  // On one node, fetchSockets() gives the Socket itself (typed as the official RemoteSocket).
  const [mainServer] = await fx.io.fetchSockets() as unknown as Socket[];
  const [adminServer] = await fx.io.of("/admin").fetchSockets() as unknown as Socket[];
  assert.equal(mainServer.conn, adminServer.conn);
  assert.notEqual(mainServer.id, adminServer.id);
  // Leaving one namespace keeps the other.
  const gone = nextArgs(adminServer, "disconnect");
  admin.disconnect();
  assert.deepEqual(await gone, ["client namespace disconnect", undefined]);
  assert.ok(main.connected);
  assert.equal(fx.io.engine.clientsCount, 1);
});

eachMode("dynamic namespaces from a RegExp and from a function", async (fx) => {
  const created: string[] = [];
  fx.io.on("new_namespace", (nsp) => created.push(nsp.name));
  const parent = fx.io.of(/^\/room-\d+$/);
  parent.use((socket, next) => {
    socket.data = { via: "regexp" };
    next();
  });
  parent.on("connection", (socket) => {
    socket.on("where", (ack: (n: string, d: unknown) => void) => ack(socket.nsp.name, socket.data));
  });
  fx.io.of((name, auth, next) => next(null, name.startsWith("/fn-") && auth.ok === true))
    .on("connection", (socket) => {
      socket.on("where", (ack: (n: string) => void) => ack(socket.nsp.name));
    });

  const room = await fx.connect("/room-42");
  assert.deepEqual(await room.emitWithAck("where"), "/room-42");
  const fn = await fx.connect("/fn-x", { auth: { ok: true } });
  assert.equal(await fn.emitWithAck("where"), "/fn-x");
  assert.deepEqual(created, ["/room-42", "/fn-x"]);
  assert.equal(fx.io.of("/room-42"), fx.io._nsps.get("/room-42"));

  // The parent broadcasts to every child.
  const room7 = await fx.connect("/room-7");
  const both = Promise.all([next(room, "hello"), next(room7, "hello")]);
  parent.emit("hello", "all");
  assert.deepEqual(await both, ["all", "all"]);

  // Refused by the function, unknown to the RegExp.
  const refused = fx.client("/fn-y", { auth: { ok: false } });
  const err = await next<Error>(refused, "connect_error");
  assert.equal(err.message, "Invalid namespace");
  const unknown = fx.client("/room-x");
  assert.equal((await next<Error>(unknown, "connect_error")).message, "Invalid namespace");
});

eachMode("dynamic parents: rooms across children, cleanup of empty children", async (fx) => {
  const parent = fx.io.of(/^\/team-\w+$/);
  parent.on("connection", (socket) => void socket.join("members"));
  const a = await fx.connect("/team-a");
  const b = await fx.connect("/team-b");
  const both = Promise.all([next(a, "news"), next(b, "news")]);
  parent.to("members").emit("news", "for members");
  assert.deepEqual(await both, ["for members", "for members"]);
  assert.deepEqual(
    (await parent.in("members").fetchSockets() as unknown as Socket[]).map((s) => s.nsp.name)
      .sort(),
    ["/team-a", "/team-b"],
  );
  assert.throws(() => parent.fetchSockets(), /not supported on parent namespaces/);
  // Broadcast acks reach every child.
  a.on("count", (ack: (n: string) => void) => ack("a"));
  b.on("count", (ack: (n: string) => void) => ack("b"));
  assert.deepEqual((await parent.timeout(5000).emitWithAck("count")).sort(), ["a", "b"]);
  // Each child gives the broadcast an ack id of its own: a timeout forgets the callback in all.
  a.on("silent", () => {});
  b.on("silent", () => {});
  await assert.rejects(parent.timeout(100).emitWithAck("silent"), /operation has timed out/);
  for (const child of parent.children) {
    for (const socket of child.sockets.values()) assert.equal(socket.acks.size, 0);
  }
  // io.of(name) of a matching name gives the child.
  assert.equal(fx.io.of("/team-a"), [...parent.children][0]);

  // Without cleanupEmptyChildNamespaces, an emptied child stays.
  const gone = next(fx.io.of("/team-a").sockets.values().next().value!, "disconnect");
  a.disconnect();
  await gone;
  assert.ok(fx.io._nsps.has("/team-a"));
});

eachMode("cleanupEmptyChildNamespaces removes a child once its last socket left", async (fx) => {
  const parent = fx.io.of(/^\/tmp-\d+$/);
  const client = await fx.connect("/tmp-1");
  const child = fx.io.of("/tmp-1");
  assert.ok(parent.children.has(child));
  const gone = next(child.sockets.values().next().value!, "disconnect");
  client.disconnect();
  await gone;
  assert.equal(fx.io._nsps.has("/tmp-1"), false);
  assert.equal(parent.children.size, 0);
  // Connecting again creates a fresh child.
  await fx.connect("/tmp-1");
  assert.notEqual(fx.io._nsps.get("/tmp-1"), child);
}, { cleanupEmptyChildNamespaces: true });

eachMode(
  "cleanupEmptyChildNamespaces removes a child whose middleware refused its only socket",
  async (fx) => {
    const parent = fx.io.of(/^\/tmp-\d+$/);
    parent.use((_socket, next) => next(new Error("refused")));
    const err = await next<Error>(fx.client("/tmp-1"), "connect_error");
    assert.equal(err.message, "refused");
    // Gone before the refusal went out, as the official server removes it.
    assert.equal(fx.io._nsps.has("/tmp-1"), false);
    assert.equal(parent.children.size, 0);
  },
  { cleanupEmptyChildNamespaces: true },
);

// --- Middleware -----------------------------------------------------------------------------

eachMode("middleware errors reach connect_error with err.data", async (fx) => {
  fx.io.use((socket, next) => {
    if (socket.handshake.auth.token === "good") return next();
    const err: ExtendedError = new Error("not authorized");
    err.data = { content: "Please retry later", code: 42 };
    next(err);
  });
  let connections = 0;
  fx.io.on("connection", () => connections++);
  const bad = fx.client("/", { auth: { token: "bad" } });
  const err = await next<Error & { data: unknown }>(bad, "connect_error");
  assert.equal(err.message, "not authorized");
  assert.deepEqual(err.data, { content: "Please retry later", code: 42 });
  assert.equal(connections, 0);
  assert.equal(fx.io.sockets.sockets.size, 0);
  await fx.connect("/", { auth: { token: "good" } });
  assert.equal(connections, 1);
});

eachMode("middleware may be async and run in order; an exception is an error", async (fx) => {
  const order: string[] = [];
  fx.io.use((_s, next) => {
    order.push("a");
    setTimeout(next, 5);
  });
  fx.io.use((socket, next) => {
    order.push("b");
    socket.data = { user: "ann" };
    void socket.join("from-middleware");
    next();
  });
  const [, socket] = await fx.pair();
  assert.deepEqual(order, ["a", "b"]);
  assert.deepEqual(socket.data, { user: "ann" });
  assert.ok(socket.rooms.has("from-middleware"));

  fx.io.of("/throws").use(() => {
    throw new Error("boom");
  });
  const err = await next<Error>(fx.client("/throws"), "connect_error");
  assert.equal(err.message, "boom");
});

eachMode("socket.use per-packet middleware", async (fx) => {
  const [client, socket] = await fx.pair();
  const errors: string[] = [];
  socket.on("error", (err: Error) => errors.push(err.message));
  socket.use(([event, ...args], next) => {
    if (event === "blocked") return next(new Error("blocked event"));
    if (event === "rewrite") args[0] = "rewritten";
    next();
  });
  socket.use((packet, next) => {
    (packet as unknown[]).push("extra");
    next();
  });
  let blocked = false;
  socket.on("blocked", () => (blocked = true));
  const got = nextArgs(socket, "rewrite");
  client.emit("blocked");
  client.emit("rewrite", "original");
  // Args are mutated in place, as in the official server.
  assert.deepEqual(await got, ["original", "extra"]);
  assert.equal(blocked, false);
  assert.deepEqual(errors, ["blocked event"]);
});

// --- Rooms and broadcasts ------------------------------------------------------------------

/** Connects `n` clients; returns them with their server sockets, in order. */
async function crowd(fx: Fixture, n: number, nsp = "/"): Promise<[ClientSocket[], Socket[]]> {
  const clients: ClientSocket[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const [c, s] = await fx.pair(nsp);
    clients.push(c);
    sockets.push(s);
  }
  return [clients, sockets];
}

/**
 * Records which clients receive `ev` while `act` runs. A final emit to everyone, sent after
 * `act`, marks the end.
 */
function receivers(
  fx: Fixture,
  clients: ClientSocket[],
  act: () => void,
  ev = "msg",
): Promise<string[]> {
  return receivedDuring(
    clients,
    () => {
      act();
      fx.io.emit("marker");
    },
    clients,
    ev,
  );
}

eachMode("rooms: join, leave, to, in, except, chains", async (fx) => {
  const [clients, sockets] = await crowd(fx, 4);
  await sockets[0].join(["a", "b"]);
  await sockets[1].join("a");
  await sockets[2].join("b");
  // 3 is in no room.
  assert.deepEqual(await receivers(fx, clients, () => fx.io.to("a").emit("msg", 1)), [
    "0:1",
    "1:1",
  ]);
  assert.deepEqual(await receivers(fx, clients, () => fx.io.in("b").emit("msg", 2)), [
    "0:2",
    "2:2",
  ]);
  // A socket in both rooms receives once.
  assert.deepEqual(
    await receivers(fx, clients, () => fx.io.to("a").to("b").emit("msg", 3)),
    ["0:3", "1:3", "2:3"],
  );
  assert.deepEqual(await receivers(fx, clients, () => fx.io.to(["a", "b"]).emit("msg", 4)), [
    "0:4",
    "1:4",
    "2:4",
  ]);
  assert.deepEqual(await receivers(fx, clients, () => fx.io.except("a").emit("msg", 5)), [
    "2:5",
    "3:5",
  ]);
  assert.deepEqual(
    await receivers(fx, clients, () => fx.io.to("a").except("b").emit("msg", 6)),
    ["1:6"],
  );
  assert.deepEqual(
    await receivers(fx, clients, () => fx.io.except(["a", "b"]).emit("msg", 7)),
    ["3:7"],
  );
  // A socket's own room.
  assert.deepEqual(
    await receivers(fx, clients, () => fx.io.to(sockets[3].id).emit("msg", 8)),
    ["3:8"],
  );
  await sockets[0].leave("a");
  assert.deepEqual(await receivers(fx, clients, () => fx.io.to("a").emit("msg", 9)), ["1:9"]);
  assert.deepEqual([...sockets[0].rooms].sort(), [sockets[0].id, "b"].sort());
  // Rooms disappear with their last member.
  await sockets[1].leave("a");
  assert.equal(fx.io.sockets.adapter.rooms.has("a"), false);
});

eachMode("socket.broadcast, socket.to, socket.except exclude the sender", async (fx) => {
  const [clients, sockets] = await crowd(fx, 3);
  await sockets[0].join("r");
  await sockets[1].join("r");
  assert.deepEqual(await receivers(fx, clients, () => sockets[0].broadcast.emit("msg", 1)), [
    "1:1",
    "2:1",
  ]);
  assert.deepEqual(await receivers(fx, clients, () => sockets[0].to("r").emit("msg", 2)), [
    "1:2",
  ]);
  assert.deepEqual(await receivers(fx, clients, () => sockets[2].to("r").emit("msg", 3)), [
    "0:3",
    "1:3",
  ]);
  assert.deepEqual(await receivers(fx, clients, () => sockets[2].except("r").emit("msg", 4)), []);
  assert.deepEqual(
    await receivers(fx, clients, () => sockets[1].broadcast.except("r").emit("msg", 5)),
    ["2:5"],
  );
  // Flags set on the socket move to the operator, and are reset.
  assert.deepEqual(
    await receivers(fx, clients, () => sockets[0].compress(false).broadcast.emit("msg", 6)),
    ["1:6", "2:6"],
  );
  clients[0].on("ask", (ack: (v: string) => void) => ack("ok"));
  sockets[0].timeout(5000).broadcast.emit("other");
  // Had the timeout flag stayed on the socket, this ack would get an error first.
  const answer = await new Promise((resolve) => {
    sockets[0].emit("ask", (...args: unknown[]) => resolve(args));
  });
  assert.deepEqual(answer, ["ok"]);
  assert.deepEqual(await receivers(fx, clients, () => sockets[0].local.emit("msg", 7)), [
    "1:7",
    "2:7",
  ]);
});

eachMode("volatile, compress and local operators deliver to connected clients", async (fx) => {
  const [clients, sockets] = await crowd(fx, 2);
  assert.deepEqual(
    await receivers(fx, clients, () => fx.io.compress(true).local.emit("msg", 1)),
    ["0:1", "1:1"],
  );
  // Volatile packets are dropped while a connection cannot take them at once, never
  // duplicated; once both can, both get it.
  await writable(...sockets);
  assert.deepEqual(await receivers(fx, clients, () => fx.io.volatile.emit("msg", 2)), [
    "0:2",
    "1:2",
  ]);
});

eachMode(
  "packetCreate sees options.compress: true by default, false after compress(false)",
  async (fx) => {
    const [client, socket] = await fx.pair("/chat");
    const chat = fx.io.of("/chat");
    // The engine packets of one emit, with what the client received.
    const created = async (emit: () => void): Promise<unknown[]> => {
      const options: unknown[] = [];
      const onCreate = (p: CreatedPacket) => p.type === "message" && options.push(p.options);
      socket.conn.on("packetCreate", onCreate);
      const got = nextArgs(client, "woot");
      emit();
      await got;
      socket.conn.off("packetCreate", onCreate);
      return options;
    };
    const on = { compress: true };
    const off = { compress: false };
    // As the official tests "socket should enable compression by default / should disable
    // compression" and "namespaces ...", then the flag is gone on the next emit.
    assert.deepEqual(await created(() => socket.emit("woot", "hi")), [on]);
    assert.deepEqual(await created(() => socket.compress(false).emit("woot", "hi")), [off]);
    assert.deepEqual(await created(() => socket.emit("woot", "hi")), [on]);
    assert.deepEqual(await created(() => chat.emit("woot", "hi")), [on]);
    assert.deepEqual(await created(() => chat.compress(false).emit("woot", "hi")), [off]);
    assert.deepEqual(await created(() => chat.to(socket.id).emit("woot", "hi")), [on]);
    // Every packet of an emit with binary attachments carries it.
    const bytes = new Uint8Array([1, 2]);
    assert.deepEqual(await created(() => socket.compress(false).emit("woot", bytes)), [off, off]);
    assert.deepEqual(await created(() => chat.emit("woot", bytes)), [on, on]);
  },
);

eachMode("broadcast with acks collects every answer, and times out", async (fx) => {
  const [clients, sockets] = await crowd(fx, 3);
  clients.forEach((c, i) => c.on("count", (ack: (n: number) => void) => ack(i)));
  const [err, responses] = await new Promise<unknown[]>((resolve) => {
    fx.io.timeout(5000).emit("count", (...args: unknown[]) => resolve(args));
  });
  assert.equal(err, null);
  assert.deepEqual((responses as number[]).sort(), [0, 1, 2]);

  assert.deepEqual((await fx.io.timeout(5000).emitWithAck("count")).sort(), [0, 1, 2]);
  await sockets[1].join("r");
  assert.deepEqual(await fx.io.to("r").timeout(5000).emitWithAck("count"), [1]);
  assert.deepEqual((await sockets[0].broadcast.timeout(5000).emitWithAck("count")).sort(), [1, 2]);
  // No receiver: an empty answer at once.
  assert.deepEqual(await fx.io.to("nobody").timeout(5000).emitWithAck("count"), []);

  // One client never answers: the others' answers come with the timeout error.
  clients[2].off("count");
  clients[2].on("count", () => {});
  // The timeout fires once the two answers are in (the scheduler holds it), whatever the load.
  const held = fx.io.engine.opts.scheduler as HeldTimeouts;
  const timedOut = new Promise<unknown[]>((resolve) => {
    fx.io.timeout(50).emit("count", (...args: unknown[]) => resolve(args));
  });
  await answered(sockets[0], sockets[1]);
  held.release();
  const [err2, partial] = await timedOut;
  assert.ok(err2 instanceof Error);
  assert.equal((err2 as Error).message, "operation has timed out");
  assert.deepEqual((partial as number[]).sort(), [0, 1]);
  const rejecting = fx.io.timeout(50).emitWithAck("count").catch((e) => e);
  await answered(sockets[0], sockets[1]);
  held.release();
  const rejected = await rejecting;
  assert.ok(rejected instanceof Error);
  assert.deepEqual((rejected as unknown as { responses: number[] }).responses.sort(), [0, 1]);
  // The silent socket does not keep the timed-out callbacks.
  assert.equal(sockets[2].acks.size, 0);
}, () => ({ scheduler: new HeldTimeouts(50) }));

eachMode("fetchSockets, socketsJoin, socketsLeave, disconnectSockets", async (fx) => {
  const [clients, sockets] = await crowd(fx, 3);
  await sockets[0].join("a");
  await sockets[1].join("a");
  const ids = (list: { id: string }[]) => list.map((s) => s.id).sort();

  assert.deepEqual(ids(await fx.io.fetchSockets()), ids(sockets));
  assert.deepEqual(ids(await fx.io.in("a").fetchSockets()), ids(sockets.slice(0, 2)));
  assert.deepEqual(ids(await fx.io.except("a").fetchSockets()), [sockets[2].id]);
  const fetched = (await fx.io.in(sockets[2].id).fetchSockets())[0];
  assert.equal(fetched, sockets[2]);
  assert.deepEqual(await fx.io.in("a").allSockets(), new Set(ids(sockets.slice(0, 2))));

  fx.io.in("a").socketsJoin(["b", "c"]);
  assert.ok(sockets[0].rooms.has("b") && sockets[1].rooms.has("c"));
  assert.equal(sockets[2].rooms.has("b"), false);
  fx.io.except("a").socketsJoin("d");
  assert.ok(sockets[2].rooms.has("d"));
  fx.io.socketsLeave("b");
  assert.equal(fx.io.sockets.adapter.rooms.has("b"), false);
  fx.io.in(sockets[0].id).socketsLeave("c");
  assert.deepEqual([...sockets[0].rooms].sort(), [sockets[0].id, "a"].sort());

  // Namespace-level disconnect: the connection stays (an "/admin" socket keeps it in use).
  fx.io.of("/admin");
  const admin = fx.track(clients[0].io.socket("/admin"));
  await connected(admin);
  const gone = next(clients[0], "disconnect");
  fx.io.in(sockets[0].id).disconnectSockets();
  assert.equal(await gone, "io server disconnect");
  assert.ok(admin.connected);

  // With close: the whole connections go.
  const closing = [next(clients[1].io.engine, "close"), next(clients[2].io.engine, "close")];
  const serverClosing = [next(sockets[1].conn, "close"), next(sockets[2].conn, "close")];
  const reasons = Promise.all([next(sockets[1], "disconnect"), next(sockets[2], "disconnect")]);
  fx.io.disconnectSockets(true);
  assert.deepEqual(await reasons, ["server namespace disconnect", "server namespace disconnect"]);
  await Promise.all([...closing, ...serverClosing]);
  assert.equal(fx.io.engine.clientsCount, 1);
  assert.ok(admin.connected);
});

eachMode("broadcasts stay in their namespace", async (fx) => {
  const [mainClients] = await crowd(fx, 1);
  const [adminClients, adminSockets] = await crowd(fx, 2, "/admin");
  await adminSockets[0].join("r");
  const everyone = [...mainClients, ...adminClients];
  // The marker goes to "/" only, so wait on admin clients with their own marker.
  const got: string[] = [];
  everyone.forEach((c, i) => c.on("msg", (v: unknown) => got.push(`${i}:${v}`)));
  const done = adminClients.map((c) => next(c, "end"));
  fx.io.of("/admin").to("r").emit("msg", "admin-r");
  fx.io.of("/admin").emit("msg", "admin-all");
  fx.io.of("/admin").emit("end");
  await Promise.all(done);
  assert.deepEqual(got.sort(), ["1:admin-all", "1:admin-r", "2:admin-all"]);
  // "/" broadcasts do not reach "/admin".
  assert.deepEqual(await receivers(fx, mainClients, () => fx.io.emit("msg", "main")), ["0:main"]);
});

// --- Handshake and data ---------------------------------------------------------------------

eachMode("socket.handshake carries headers, query and auth as plain objects", async (fx) => {
  const opts = fx.mode === "websocket"
    ? {
      // WebSocket handshakes from Node clients carry extraHeaders too.
      extraHeaders: { "x-custom": "yes" },
    }
    : { extraHeaders: { "x-custom": "yes" } };
  const [, socket] = await fx.pair("/", { ...opts, query: { token: "abc" }, auth: { user: "u1" } });
  const hs = socket.handshake;
  assert.equal(hs.query.token, "abc");
  assert.equal(hs.query.EIO, "4");
  assert.equal(hs.headers["x-custom"], "yes");
  assert.equal(typeof hs.headers.host, "string");
  assert.deepEqual(hs.auth, { user: "u1" });
  assert.equal(typeof hs.time, "string");
  assert.equal(typeof hs.issued, "number");
  assert.equal(hs.secure, false);
  assert.ok(hs.url.startsWith("/socket.io/?"));
  assert.equal(hs.address, "127.0.0.1");
});

eachMode("socket.data is shared with fetchSockets", async (fx) => {
  fx.io.use((socket, next) => {
    socket.data = { name: socket.handshake.auth.name };
    next();
  });
  await fx.pair("/", { auth: { name: "a" } });
  await fx.pair("/", { auth: { name: "b" } });
  const sockets = await fx.io.fetchSockets();
  assert.deepEqual(
    sockets.map((s) => s.data).sort((x, y) =>
      (x as { name: string }).name < (y as { name: string }).name ? -1 : 1
    ),
    [
      { name: "a" },
      { name: "b" },
    ],
  );
});

// --- Reserved names and catch-all listeners -------------------------------------------------

eachMode("emitting a reserved event name throws", async (fx) => {
  const [, socket] = await fx.pair();
  for (const name of RESERVED_EVENT_NAMES) {
    assert.throws(() => socket.emit(name), /reserved event name/);
    assert.throws(() => fx.io.emit(name), /reserved event name/);
    assert.throws(() => fx.io.to("r").emit(name), /reserved event name/);
  }
  assert.throws(() => fx.io.serverSideEmit("connection"), /reserved event name/);
});

eachMode("onAny, prependAny, offAny, listenersAny, onAnyOutgoing", async (fx) => {
  const [client, socket] = await fx.pair();
  const seen: string[] = [];
  const a = (ev: string, ...args: unknown[]) => seen.push(`a:${ev}:${args.length}`);
  const b = (ev: string) => seen.push(`b:${ev}`);
  socket.onAny(a);
  socket.prependAny(b);
  assert.deepEqual(socket.listenersAny(), [b, a]);
  const first = next(socket, "one");
  client.emit("one", 1, 2);
  await first;
  assert.deepEqual(seen, ["b:one", "a:one:2"]);
  socket.offAny(b);
  assert.deepEqual(socket.listenersAny(), [a]);
  // The ack callback is passed to catch-all listeners too.
  const second = next(socket, "two");
  client.emit("two", () => {});
  await second;
  assert.deepEqual(seen.slice(2), ["a:two:1"]);
  socket.offAny();
  assert.deepEqual(socket.listenersAny(), []);

  const out: unknown[][] = [];
  socket.onAnyOutgoing((...args) => out.push(args));
  const got = next(client, "news");
  socket.emit("news", "direct");
  await got;
  const got2 = next(client, "news");
  fx.io.emit("news", "broadcast");
  await got2;
  assert.deepEqual(out, [["news", "direct"], ["news", "broadcast"]]);
  socket.offAnyOutgoing();
  assert.deepEqual(socket.listenersAnyOutgoing(), []);
});

eachMode("listeners run with this = the socket; a throwing listener is reported", async (fx) => {
  const [client, socket] = await fx.pair();
  let self: unknown;
  socket.on("who", function (this: unknown) {
    self = this;
  });
  const who = next(socket, "who");
  client.emit("who");
  await who;
  assert.equal(self, socket);

  // A listener's exception is the application's: reported as uncaught, the client stays.
  const reported = new Promise<unknown>((resolve) => {
    const onError = (e: ErrorEvent) => {
      e.preventDefault();
      globalThis.removeEventListener("error", onError);
      resolve(e.error);
    };
    globalThis.addEventListener("error", onError);
  });
  socket.on("boom", () => {
    throw new Error("listener failed");
  });
  client.emit("boom");
  assert.equal(((await reported) as Error).message, "listener failed");
  socket.on("still", (ack: (v: string) => void) => ack("here"));
  assert.equal(await client.emitWithAck("still"), "here");
  assert.ok(socket.connected);
});

eachMode(
  "a throwing connection listener, or middleware throwing after next(), is reported as uncaught",
  async (fx) => {
    // Reported as the runtime reports an uncaught exception (as on the official server), never
    // as an unhandled rejection; the connection goes on, and so does the server.
    const errors: string[] = [];
    const rejections: unknown[] = [];
    const onError = (e: ErrorEvent) => {
      e.preventDefault();
      errors.push((e.error as Error).message);
    };
    const onRejection = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      rejections.push(e.reason);
    };
    globalThis.addEventListener("error", onError);
    globalThis.addEventListener("unhandledrejection", onRejection);
    try {
      fx.io.use((_socket, next) => {
        next();
        throw new Error("middleware failed after next()");
      });
      fx.io.on("connection", (socket) => {
        socket.on("echo", (n: number, ack: (n: number) => void) => ack(n));
        throw new Error("connection listener failed");
      });
      for (const n of [1, 2]) {
        const client = await fx.connect();
        // Both were reported before the CONNECT reached the client.
        assert.deepEqual(errors.splice(0), [
          "middleware failed after next()",
          "connection listener failed",
        ]);
        assert.equal(await client.emitWithAck("echo", n), n);
      }
      assert.deepEqual(rejections, []);
    } finally {
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onRejection);
    }
  },
);

// --- Disconnections -------------------------------------------------------------------------

eachMode("client disconnect: the server sees 'client namespace disconnect'", async (fx) => {
  const [client, socket] = await fx.pair();
  const reason = next(socket, "disconnect");
  client.disconnect();
  assert.equal(await reason, "client namespace disconnect");
  assert.equal(socket.connected, false);
  assert.equal(socket.disconnected, true);
  assert.equal(fx.io.sockets.sockets.size, 0);
});

eachMode("server socket.disconnect(): the client sees 'io server disconnect'", async (fx) => {
  const [client, socket] = await fx.pair();
  const clientReason = next(client, "disconnect");
  const serverReason = next(socket, "disconnect");
  socket.disconnect();
  assert.equal(await clientReason, "io server disconnect");
  assert.equal(await serverReason, "server namespace disconnect");
  // The connection itself stays up for other namespaces.
  assert.equal(fx.io.engine.clientsCount, 1);
});

eachMode("socket.disconnect(true) closes the whole connection", async (fx) => {
  fx.io.of("/admin");
  const [client, socket] = await fx.pair();
  // Auto-connects on the shared Manager.
  const admin = fx.track(client.io.socket("/admin"));
  await connected(admin);
  const reasons = Promise.all([next(client, "disconnect"), next(admin, "disconnect")]);
  const serverReasons = Promise.all([
    next(socket, "disconnect"),
    next(fx.io.of("/admin").sockets.values().next().value!, "disconnect"),
  ]);
  const closed = next(client.io.engine, "close");
  socket.disconnect(true);
  assert.deepEqual(await serverReasons, [
    "server namespace disconnect",
    "server namespace disconnect",
  ]);
  // Over polling too: the close packet follows on the next poll, after the DISCONNECT packets.
  assert.deepEqual(await reasons, ["io server disconnect", "io server disconnect"]);
  await closed;
  await fx.serverSessionsClosed();
  assert.equal(fx.io.engine.clientsCount, 0);
});

eachMode("transport close on both sides", async (fx) => {
  const [client, socket] = await fx.pair();
  const serverReason = next(socket, "disconnect");
  const clientReason = next(client, "disconnect");
  // Close the server's end of the transport.
  socket.conn.close();
  const r = await serverReason;
  assert.ok(["forced close", "transport close"].includes(r as string), String(r));
  assert.equal(await clientReason, "transport close");
});

eachMode("a transport the client drops: the server sees 'transport close'", async (fx) => {
  const [client, socket] = await fx.pair();
  const serverReason = next(socket, "disconnect");
  const clientReason = next(client, "disconnect");
  // Over polling this sends a close packet; over WebSocket it closes the socket.
  (client.io.engine as unknown as { transport: { close(): void } }).transport.close();
  assert.equal(await serverReason, "transport close");
  assert.equal(await clientReason, "transport close");
});

eachMode("ping timeout when the client stops answering", async (fx) => {
  const [client, socket] = await fx.pair();
  // The client keeps the connection but drops its pongs.
  const engine = client.io.engine as unknown as {
    _sendPacket(type: string, ...rest: unknown[]): void;
  };
  const send = engine._sendPacket.bind(engine);
  engine._sendPacket = (type, ...rest) => {
    if (type !== "pong") send(type, ...rest);
  };
  const clientGone = next(client, "disconnect");
  assert.equal(await next(socket, "disconnect"), "ping timeout");
  await clientGone;
}, { pingInterval: 100, pingTimeout: 100 });

eachMode("io.close(): sockets see 'server shutting down'", async (fx) => {
  const [client, socket] = await fx.pair();
  const reason = next(socket, "disconnect");
  const clientGone = next(client, "disconnect");
  const closed = next(client.io.engine, "close");
  await fx.io.close();
  assert.equal(await reason, "server shutting down");
  await clientGone;
  await closed;
});

eachMode("disconnecting still sees the rooms", async (fx) => {
  const [client, socket] = await fx.pair();
  await socket.join(["r1", "r2"]);
  const rooms = new Promise<string[]>((resolve) => {
    socket.on("disconnecting", () => resolve([...socket.rooms]));
  });
  const after = next(socket, "disconnect");
  client.disconnect();
  assert.deepEqual((await rooms).sort(), [socket.id, "r1", "r2"].sort());
  await after;
  assert.equal(socket.rooms.size, 0);
  // A late join does not put a gone socket back in a room.
  await socket.join("late");
  assert.equal(fx.io.sockets.adapter.rooms.has("late"), false);
});

// --- Limits ---------------------------------------------------------------------------------

eachMode("maxHttpBufferSize: an oversized message closes the connection", async (fx) => {
  const [client, socket] = await fx.pair();
  const reason = next(socket, "disconnect");
  const clientGone = next(client, "disconnect");
  client.emit("big", "x".repeat(2000));
  const r = await reason;
  assert.ok(["transport error", "transport close", "parse error"].includes(r as string), String(r));
  await clientGone;
}, { maxHttpBufferSize: 1000 });

// --- Cluster API on one node ----------------------------------------------------------------

eachMode(
  "serverSideEmit on one node warns and delivers nothing, as the official adapter",
  async (fx) => {
    const warn = console.warn;
    const warnings: unknown[] = [];
    console.warn = (...args: unknown[]) => warnings.push(args[0]);
    try {
      let delivered = false;
      fx.io.on("hello", () => (delivered = true));
      assert.equal(fx.io.serverSideEmit("hello", 1), true);
      await delay(10);
      assert.equal(delivered, false);
      assert.equal(warnings.length, 1);
      assert.match(String(warnings[0]), /does not support the serverSideEmit/);
    } finally {
      console.warn = warn;
    }
  },
);

// --- Connection state recovery --------------------------------------------------------------

eachMode("connection state recovery restores id, rooms, data and missed broadcasts", async (fx) => {
  const [client, socket] = await fx.pair("/", { reconnection: true, reconnectionDelay: 20 });
  assert.equal(client.recovered, false);
  await socket.join("news");
  socket.data = { kept: true };
  const id = socket.id;
  // With recovery, direct emits carry an offset too (the official client reads it last).
  const direct = nextArgs(client, "direct");
  socket.emit("direct", "d");
  const [d, offset] = await direct;
  assert.equal(d, "d");
  assert.equal(typeof offset, "string");
  // A first broadcast gives the client an offset to resume from.
  const first = next(client, "news");
  fx.io.to("news").emit("news", 0);
  assert.equal(await first, 0);

  const serverGone = next(socket, "disconnect");
  const restoredOnServer = next<Socket>(fx.io, "connection");
  const reconnected = new Promise<void>((resolve) => {
    // The first "connect" after the drop.
    client.once("disconnect", () => client.once("connect", () => resolve()));
  });
  // Drop the transport without a goodbye.
  (client.io.engine as unknown as { transport: { close(): void } }).transport.close();
  const reason = await serverGone;
  assert.ok(["transport close", "transport error"].includes(reason as string), String(reason));
  // Missed while away.
  fx.io.to("news").emit("news", 1);
  fx.io.emit("news", 2);
  fx.io.to("elsewhere").emit("news", -1);
  const received: unknown[] = [];
  client.on("news", (n: unknown) => received.push(n));
  const restored = await restoredOnServer;
  await reconnected;
  assert.equal(client.recovered, true);
  assert.equal(restored.recovered, true);
  assert.equal(restored.id, id);
  assert.equal(client.id, id);
  assert.deepEqual(restored.data, { kept: true });
  assert.ok(restored.rooms.has("news"));
  // The missed packets arrive in order.
  while (received.length < 2) await next(client, "news");
  assert.deepEqual(received, [1, 2]);
}, { connectionStateRecovery: {} });

// --- Custom parser ------------------------------------------------------------------------

eachMode("a custom parser (socket.io-msgpack-parser) on both sides", async (fx) => {
  const [client, socket] = await fx.pair("/", { parser: msgpackParser });
  socket.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
  // The Node build of notepack.io encodes Buffers as binary (plain Uint8Arrays as maps).
  const reply = await client.emitWithAck("echo", { n: 1, bin: Buffer.from([1, 2]), s: "x" });
  const r = reply as { n: number; bin: Uint8Array; s: string };
  assert.equal(r.n, 1);
  assert.equal(r.s, "x");
  assert.deepEqual([...new Uint8Array(r.bin)], [1, 2]);
  const down = next<Uint8Array>(client, "down");
  socket.emit("down", Buffer.from([3]));
  assert.deepEqual([...new Uint8Array(await down)], [3]);
  const [other] = await Promise.all([fx.connect("/", { parser: msgpackParser })]);
  const both = Promise.all([next(client, "all"), next(other, "all")]);
  fx.io.emit("all", { to: "everyone" });
  assert.deepEqual(await both, [{ to: "everyone" }, { to: "everyone" }]);
  // Bad input (not msgpack) closes the connection, as any decode error: cleanly, as the
  // official server does ("forced close").
  const reason = next(socket, "disconnect");
  (client.io.engine as unknown as { write(d: string): void }).write("not msgpack");
  assert.equal(await reason, "forced close");
}, () => ({ parser: msgpackParser as unknown as ParserModule }));

// --- Socket.IO v2 clients (Engine.IO v3), with allowEIO3 ----------------------------------

interface V2Socket {
  id: string;
  connected: boolean;
  io: {
    engine: {
      readyState: string;
      transport: { name: string };
      on(ev: string, fn: () => void): void;
    };
  };
  on(ev: string, fn: (...args: never[]) => void): V2Socket;
  once(ev: string, fn: (...args: never[]) => void): V2Socket;
  emit(ev: string, ...args: unknown[]): V2Socket;
  close(): V2Socket;
}

/** Runs `fn` with a v2 client factory in each mode; every v2 client is closed at the end. */
function eachModeV2(
  name: string,
  fn: (fx: Fixture, connect: (nsp?: string, query?: string) => Promise<V2Socket>) => Promise<void>,
): void {
  eachMode(`socket.io-client v2: ${name}`, async (fx) => {
    const opened: V2Socket[] = [];
    const connect = async (nsp = "/", query?: string) => {
      const transports = fx.options().transports;
      const socket = ioV2(fx.url + nsp, {
        transports,
        forceNew: true,
        reconnection: false,
        query,
      }) as unknown as V2Socket;
      opened.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("error", (e: never) => reject(e));
      });
      if (fx.mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
        await new Promise<void>((resolve) => socket.io.engine.on("upgrade", resolve));
      }
      return socket;
    };
    try {
      await fn(fx, connect);
    } finally {
      const closed = opened
        .filter((s) => s.io.engine.readyState !== "closed")
        .map((s) => new Promise<void>((r) => s.io.engine.on("close", r)));
      for (const s of opened) s.close();
      await Promise.all(closed);
    }
  }, { allowEIO3: true });
}

eachModeV2("events, acks and binary both ways", async (fx, connect) => {
  const serverSocket = next<Socket>(fx.io, "connection");
  const client = await connect();
  const socket = await serverSocket;
  // v2 sockets use the Engine.IO id.
  assert.equal(socket.id, client.id);
  assert.equal(socket.conn.protocol, 3);
  socket.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
  const reply = await new Promise((resolve) => {
    client.emit("echo", { text: "hi", bin: Buffer.from([1, 2]) }, resolve);
  });
  const r = reply as { text: string; bin: Uint8Array };
  assert.equal(r.text, "hi");
  assert.deepEqual([...new Uint8Array(r.bin)], [1, 2]);
  const got = new Promise<unknown[]>((resolve) => {
    client.on("down", ((...args: unknown[]) => resolve(args)) as never);
  });
  socket.emit("down", "x", new Uint8Array([3]));
  const [x, bin] = await got;
  assert.equal(x, "x");
  assert.deepEqual([...new Uint8Array(bin as ArrayBuffer)], [3]);
  const answer = await new Promise((resolve) => {
    client.on("ask", ((ack: (v: string) => void) => ack("yes")) as never);
    socket.emit("ask", resolve);
  });
  assert.equal(answer, "yes");
});

eachModeV2("one broadcast reaches v2 and v4 clients alike, several times", async (fx, connect) => {
  const v2 = await connect();
  const [v4] = await fx.pair();
  const received = (client: { on(ev: string, fn: (v: unknown) => void): unknown }) => {
    const got: unknown[] = [];
    client.on("news", (v) => got.push(v));
    return got;
  };
  const fromV2 = received(v2 as never);
  const fromV4 = received(v4);
  for (let i = 0; i < 3; i++) fx.io.emit("news", { i, text: "é" });
  fx.io.emit("news", "last");
  for (let t = 0; t < 300 && (fromV2.length < 4 || fromV4.length < 4); t++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const expected = [{ i: 0, text: "é" }, { i: 1, text: "é" }, { i: 2, text: "é" }, "last"];
  assert.deepEqual(fromV2, expected);
  assert.deepEqual(fromV4, expected);
});

eachModeV2("namespaces with query auth, middleware errors, disconnections", async (fx, connect) => {
  const admin = fx.io.of("/admin");
  admin.use((socket, next) => {
    if (socket.handshake.auth.token === "t") return next();
    const err: ExtendedError = new Error("denied");
    err.data = { why: "bad token" };
    next(err);
  });
  const serverSocket = next<Socket>(admin, "connection");
  const client = await connect("/admin", "token=t");
  const socket = await serverSocket;
  assert.equal(socket.id, client.id);
  assert.ok(socket.id.startsWith("/admin#"));
  // A refused v2 client gets the error's data as its "error" event.
  const refused = ioV2(fx.url + "/admin", {
    transports: fx.options().transports,
    forceNew: true,
    reconnection: false,
    query: "token=bad",
  }) as unknown as V2Socket;
  const refusedClosed = new Promise<void>((r) => refused.io.engine.on("close", r));
  const err = await new Promise((resolve) => refused.once("error", resolve as never));
  assert.deepEqual(err, { why: "bad token" });
  refused.close();
  await refusedClosed;

  // Server-side disconnect.
  const reason = new Promise((resolve) => client.once("disconnect", resolve as never));
  socket.disconnect();
  assert.equal(await reason, "io server disconnect");
});
