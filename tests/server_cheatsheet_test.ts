/**
 * Every pattern of the official "Emit cheatsheet" (socket.io docs, v4), run against our server
 * with the official client, asserting exactly who receives what.
 *
 * The cast: in "/", `sender` is in room1, `b` in room1 and room2, `c` in room2 and room3, `d`
 * in no room; in "/myNamespace", `m1` is in room1 and `m2` in no room.
 */
import assert from "node:assert/strict";
import { answered, HeldTimeouts } from "./helpers/held_timeouts.ts";
import { Buffer } from "node:buffer";
import type { ServerOptions, Socket } from "../mod.ts";
import {
  type ClientSocket,
  eachMode,
  type Fixture,
  next,
  nextArgs,
  writable,
} from "./helpers/socketio.ts";
import { RESERVED_EVENT_NAMES } from "./helpers/reserved.ts";

const MAIN = ["sender", "b", "c", "d"] as const;
const OTHER = ["m1", "m2"] as const;
type Name = typeof MAIN[number] | typeof OTHER[number];

interface Cast {
  fx: Fixture;
  clients: Record<Name, ClientSocket>;
  sockets: Record<Name, Socket>;
  /** The sender's server-side socket, as in the cheatsheet's `socket`. */
  socket: Socket;
  /** Who receives `ev` while `act` runs, sorted. */
  receivers(act: () => void, ev?: string): Promise<string[]>;
}

async function cast(fx: Fixture): Promise<Cast> {
  const clients = {} as Record<Name, ClientSocket>;
  const sockets = {} as Record<Name, Socket>;
  for (const name of MAIN) [clients[name], sockets[name]] = await fx.pair("/");
  for (const name of OTHER) [clients[name], sockets[name]] = await fx.pair("/myNamespace");
  await sockets.sender.join("room1");
  await sockets.b.join(["room1", "room2"]);
  await sockets.c.join(["room2", "room3"]);
  await sockets.m1.join("room1");
  const all = [...MAIN, ...OTHER];
  return {
    fx,
    clients,
    sockets,
    socket: sockets.sender,
    async receivers(act, ev = "hello") {
      const got: string[] = [];
      const handlers = all.map((name) => {
        const h = (...args: unknown[]) => got.push(`${name}:${JSON.stringify(args)}`);
        clients[name].on(ev, h);
        return h;
      });
      // Packets arrive in order on each connection: once every client has a marker sent
      // after `act`, whatever `act` sent has arrived.
      const markers = all.map((name) => next(clients[name], "marker"));
      act();
      fx.io.emit("marker");
      fx.io.of("/myNamespace").emit("marker");
      await Promise.all(markers);
      all.forEach((name, i) => clients[name].off(ev, handlers[i]));
      return got.sort();
    },
  };
}

/** `name:["world"]` for each name, sorted. */
const world = (...names: Name[]) => names.map((n) => `${n}:["world"]`).sort();

function cheat(
  name: string,
  fn: (c: Cast) => void | Promise<void>,
  opts?: () => Partial<ServerOptions>,
): void {
  eachMode(`cheatsheet: ${name}`, async (fx) => await fn(await cast(fx)), opts);
}

// --- Server side ----------------------------------------------------------------------------

cheat("basic emit back to the sender: socket.emit", async (c) => {
  assert.deepEqual(await c.receivers(() => c.socket.emit("hello", "world")), world("sender"));
});

cheat("to all clients in the namespace except the sender: socket.broadcast.emit", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.socket.broadcast.emit("hello", "world")),
    world("b", "c", "d"),
  );
});

cheat("to all clients in room1 except the sender: socket.to('room1')", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.socket.to("room1").emit("hello", "world")),
    world("b"),
  );
});

cheat("to room1 and/or room2 except the sender: socket.to(['room1', 'room2'])", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.socket.to(["room1", "room2"]).emit("hello", "world")),
    world("b", "c"),
  );
});

cheat("several rooms chained: socket.to('room1').to('room3')", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.socket.to("room1").to("room3").emit("hello", "world")),
    world("b", "c"),
  );
});

cheat("to all clients in room1: io.in('room1')", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.in("room1").emit("hello", "world")),
    world("sender", "b"),
  );
  assert.deepEqual(
    await c.receivers(() => c.fx.io.to("room1").emit("hello", "world")),
    world("sender", "b"),
  );
});

cheat("to room1 and/or room2 except room3: io.to([...]).except('room3')", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.to(["room1", "room2"]).except("room3").emit("hello", "world")),
    world("sender", "b"),
  );
});

cheat("to several rooms chained: io.to('room1').to('room2')", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.to("room1").to("room2").emit("hello", "world")),
    world("sender", "b", "c"),
  );
});

cheat("to all clients but those in a room: io.except('room1')", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.except("room1").emit("hello", "world")),
    world("c", "d"),
  );
});

cheat("to all clients in a namespace: io.of('myNamespace').emit", async (c) => {
  // The name without a leading slash, as in the cheatsheet.
  assert.deepEqual(
    await c.receivers(() => c.fx.io.of("myNamespace").emit("hello", "world")),
    world("m1", "m2"),
  );
});

cheat("to room1 of a namespace: io.of('myNamespace').to('room1')", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.of("myNamespace").to("room1").emit("hello", "world")),
    world("m1"),
  );
});

cheat("to an individual socket id (private message): io.to(socketId)", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.to(c.sockets.c.id).emit("hello", "world")),
    world("c"),
  );
  // From another socket, as in a private message.
  assert.deepEqual(
    await c.receivers(() => c.socket.to(c.sockets.d.id).emit("hello", "world")),
    world("d"),
  );
});

cheat("socket.to(socket.id) reaches nobody (the sender is excluded)", async (c) => {
  assert.deepEqual(await c.receivers(() => c.socket.to(c.socket.id).emit("hello", "world")), []);
});

cheat("to all clients on this node: io.local.emit", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.local.emit("hello", "world")),
    world("sender", "b", "c", "d"),
  );
});

cheat("to all connected clients of the main namespace: io.emit", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.fx.io.emit("hello", "world")),
    world("sender", "b", "c", "d"),
  );
});

cheat("to all clients, one acknowledgement per client: io.timeout(5000).emit", async (c) => {
  for (const name of MAIN) {
    c.clients[name].on("hello", (_w: string, ack: (n: string) => void) => ack(name));
  }
  const [err, responses] = await new Promise<unknown[]>((resolve) => {
    c.fx.io.timeout(5000).emit("hello", "world", (...args: unknown[]) => resolve(args));
  });
  assert.equal(err, null);
  assert.deepEqual((responses as string[]).sort(), [...MAIN].sort());
  // Some client does not answer in time: an error, with the responses so far.
  c.clients.d.off("hello");
  // The timeout fires once the other answers are in (the scheduler holds it), whatever the load.
  const timedOut = new Promise<unknown[]>((resolve) => {
    c.fx.io.timeout(50).emit("hello", "world", (...args: unknown[]) => resolve(args));
  });
  await answered(c.sockets.sender, c.sockets.b, c.sockets.c);
  (c.fx.io.engine.opts.scheduler as HeldTimeouts).release();
  const [err2, partial] = await timedOut;
  assert.ok(err2 instanceof Error);
  assert.deepEqual((partial as string[]).sort(), ["b", "c", "sender"]);
}, () => ({ scheduler: new HeldTimeouts(50) }));

cheat("to all clients, with emitWithAck: await io.timeout(5000).emitWithAck", async (c) => {
  for (const name of MAIN) c.clients[name].on("hello", (ack: (n: string) => void) => ack(name));
  const responses = await c.fx.io.timeout(5000).emitWithAck("hello");
  assert.deepEqual(responses.sort(), [...MAIN].sort());
  assert.deepEqual(await c.fx.io.to("room2").timeout(5000).emitWithAck("hello"), ["b", "c"].sort());
});

cheat("with acknowledgement: socket.emit('question', (answer) => ...)", async (c) => {
  c.clients.sender.on("question", (ack: (a: string) => void) => ack("42"));
  const answer = await new Promise((resolve) => c.socket.emit("question", resolve));
  assert.equal(answer, "42");
});

cheat("with emitWithAck: await socket.emitWithAck('hello', 'world')", async (c) => {
  c.clients.sender.on("hello", (w: string, ack: (a: string) => void) => ack(`got ${w}`));
  assert.equal(await c.socket.emitWithAck("hello", "world"), "got world");
  assert.equal(await c.socket.timeout(5000).emitWithAck("hello", "again"), "got again");
});

cheat("without compression: socket.compress(false).emit", async (c) => {
  assert.deepEqual(
    await c.receivers(() => c.socket.compress(false).emit("hello", "world")),
    world("sender"),
  );
});

cheat("volatile: socket.volatile.emit (sent when the connection takes it at once)", async (c) => {
  // Dropped while a connection cannot take a packet at once (no poll waiting, a frame still on
  // its way): once each can, everyone gets it.
  const main = MAIN.map((name) => c.sockets[name]);
  await writable(...main);
  assert.deepEqual(
    await c.receivers(() => c.socket.volatile.emit("hello", "world")),
    world("sender"),
  );
  await writable(...main);
  assert.deepEqual(
    await c.receivers(() => c.fx.io.volatile.emit("hello", "world")),
    world("sender", "b", "c", "d"),
  );
});

cheat("with timeout: socket.timeout(5000).emit('my-event', (err) => ...)", async (c) => {
  c.clients.sender.on("my-event", (ack: (v: string) => void) => ack("ok"));
  const ok = await new Promise<unknown[]>((resolve) => {
    c.socket.timeout(5000).emit("my-event", (...args: unknown[]) => resolve(args));
  });
  assert.deepEqual(ok, [null, "ok"]);
  // The other side does not acknowledge in time.
  c.clients.sender.off("my-event");
  c.clients.sender.on("my-event", () => {});
  const [err] = await new Promise<unknown[]>((resolve) => {
    c.socket.timeout(50).emit("my-event", (...args: unknown[]) => resolve(args));
  });
  assert.ok(err instanceof Error);
});

cheat("reserved events cannot be emitted", (c) => {
  for (const ev of RESERVED_EVENT_NAMES) {
    assert.throws(() => c.socket.emit(ev), /is a reserved event name/);
    assert.throws(() => c.socket.broadcast.emit(ev), /is a reserved event name/);
    assert.throws(() => c.fx.io.emit(ev), /is a reserved event name/);
  }
});

// --- Client side ----------------------------------------------------------------------------

cheat("client: basic emit with mixed and binary arguments", async (c) => {
  const got = nextArgs<unknown[]>(c.socket, "hello");
  c.clients.sender.emit("hello", 1, "2", { 3: "4", 5: Buffer.from([6]) });
  const [one, two, obj] = await got;
  assert.equal(one, 1);
  assert.equal(two, "2");
  const o = obj as Record<string, unknown>;
  assert.equal(o[3], "4");
  assert.deepEqual([...new Uint8Array(o[5] as ArrayBuffer)], [6]);
});

cheat("client: with acknowledgement, timeout, volatile and emitWithAck", async (c) => {
  c.socket.on("hello", (w: string, ack: (r: string) => void) => ack(`hi ${w}`));
  const response = await new Promise((resolve) => c.clients.sender.emit("hello", "world", resolve));
  assert.equal(response, "hi world");
  assert.equal(await c.clients.sender.emitWithAck("hello", "again"), "hi again");
  assert.equal(await c.clients.sender.timeout(5000).emitWithAck("hello", "t"), "hi t");
  c.socket.on("silent", () => {});
  const [err] = await new Promise<unknown[]>((resolve) => {
    c.clients.sender.timeout(50).emit("silent", (...args: unknown[]) => resolve(args));
  });
  assert.ok(err instanceof Error);
  // Volatile from the client: it may be dropped while disconnected; here it arrives.
  const got = next(c.socket, "vol");
  c.clients.sender.volatile.emit("vol", "v");
  assert.equal(await got, "v");
});
