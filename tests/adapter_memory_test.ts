import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import {
  type AdapterNamespace,
  type AdapterSocket,
  InMemoryAdapter,
  type Packet,
  type Room,
  SessionAwareAdapter,
  type WriteOptions,
} from "../adapter/mod.ts";

type Chunks = readonly (string | Uint8Array | Blob)[];

class FakeSocket implements AdapterSocket {
  writable = true;
  readonly writes: { chunks: Chunks; opts: WriteOptions }[] = [];
  readonly acks = new Map<number, (...args: unknown[]) => void>();
  readonly outgoing: Packet[] = [];
  closed: boolean | undefined;

  readonly handshake = {
    headers: {},
    time: "",
    address: "127.0.0.1",
    xdomain: false,
    secure: false,
    issued: 0,
    url: "/",
    query: {},
    auth: {},
  };
  readonly data = {};

  constructor(readonly id: string, readonly env: Env) {}

  get rooms(): Set<Room> {
    return this.env.adapter.socketRooms(this.id) ?? new Set();
  }

  writeEncoded(chunks: Chunks, opts: WriteOptions): void {
    this.writes.push({ chunks, opts });
  }
  registerAck(id: number, ack: (...args: unknown[]) => void): void {
    this.acks.set(id, ack);
  }
  join(rooms: Room | Room[]): void {
    this.env.adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }
  leave(room: Room): void {
    this.env.adapter.del(this.id, room);
  }
  disconnect(close?: boolean): void {
    this.closed = close;
    this.env.adapter.delAll(this.id);
    this.env.sockets.delete(this.id);
  }
  notifyOutgoingListeners(packet: Packet): void {
    this.outgoing.push(packet);
  }
}

interface Env {
  adapter: InMemoryAdapter;
  sockets: Map<string, FakeSocket>;
  nsp: AdapterNamespace;
  encodes: Packet[];
  socket(id: string): FakeSocket;
}

/** Sockets `ids`, each in its own room plus the rooms listed for it. */
function setup(
  rooms: Record<string, Room[]>,
  make: (nsp: AdapterNamespace) => InMemoryAdapter = (nsp) => new InMemoryAdapter(nsp),
): Env {
  const sockets = new Map<string, FakeSocket>();
  const encodes: Packet[] = [];
  let ids = 0;
  const nsp: AdapterNamespace = {
    name: "/chat",
    sockets,
    nextAckId: () => ids++,
    encoder: {
      encode(packet) {
        encodes.push(packet);
        return [`${packet.type}${packet.nsp},${JSON.stringify(packet.data)}`];
      },
    },
  };
  const env: Env = {
    adapter: make(nsp),
    sockets,
    nsp,
    encodes,
    socket: (id) => sockets.get(id)!,
  };
  for (const [id, joined] of Object.entries(rooms)) {
    sockets.set(id, new FakeSocket(id, env));
    env.adapter.addAll(id, new Set([id, ...joined]));
  }
  return env;
}

function received(env: Env): string[] {
  return [...env.sockets.values()].filter((s) => s.writes.length > 0).map((s) => s.id).sort();
}

function opts(rooms: Room[] = [], except: Room[] = []) {
  return { rooms: new Set(rooms), except: new Set(except) };
}

/** The room events of `adapter`, as "create r", "join r id", ... in order. */
function roomEvents(adapter: InMemoryAdapter): string[] {
  const events: string[] = [];
  adapter.on("create-room", (room) => events.push(`create ${room}`));
  adapter.on("delete-room", (room) => events.push(`delete ${room}`));
  adapter.on("join-room", (room, id) => events.push(`join ${room} ${id}`));
  adapter.on("leave-room", (room, id) => events.push(`leave ${room} ${id}`));
  return events;
}

function event(...data: unknown[]): Packet {
  return { type: 2, nsp: "/", data };
}

Deno.test("addAll/del/delAll emit room events and delete empty rooms", () => {
  const { adapter } = setup({});
  const events = roomEvents(adapter);

  adapter.addAll("a", new Set(["a", "r"]));
  adapter.addAll("b", new Set(["r"]));
  adapter.addAll("b", new Set(["r"])); // already in: no event
  assert.deepEqual(events, ["create a", "join a a", "create r", "join r a", "join r b"]);
  assert.deepEqual(adapter.rooms.get("r"), new Set(["a", "b"]));
  assert.deepEqual(adapter.socketRooms("a"), new Set(["a", "r"]));

  events.length = 0;
  adapter.del("a", "r");
  assert.deepEqual(events, ["leave r a"]);
  assert.deepEqual(adapter.socketRooms("a"), new Set(["a"]));
  adapter.del("b", "r");
  assert.deepEqual(events, ["leave r a", "leave r b", "delete r"]);
  assert.equal(adapter.rooms.has("r"), false);
  adapter.del("b", "r"); // not in it any more: no event
  adapter.del("nobody", "x");
  assert.equal(events.length, 3);

  events.length = 0;
  adapter.delAll("a");
  assert.deepEqual(events, ["leave a a", "delete a"]);
  assert.equal(adapter.socketRooms("a"), undefined);
  assert.equal(adapter.sids.has("a"), false);
  adapter.delAll("a"); // unknown: no-op
  adapter.delAll("b");
  assert.equal(adapter.rooms.size, 0);
  assert.equal(adapter.sids.size, 0);
});

Deno.test("a socket's own room and its rooms stay apart as either changes", () => {
  const { adapter } = setup({});
  const events = roomEvents(adapter);
  const members = (room: string) => [...adapter.rooms.get(room) ?? []].sort();
  const joined = (id: string) => [...adapter.socketRooms(id) ?? []].sort();

  adapter.addAll("a", new Set(["a"]));
  adapter.addAll("b", new Set(["b"]));
  assert.deepEqual(events.splice(0), ["create a", "join a a", "create b", "join b b"]);
  // b joins a's own room: a's room has both, a's rooms do not change.
  adapter.addAll("b", new Set(["a"]));
  assert.deepEqual(members("a"), ["a", "b"]);
  assert.deepEqual(joined("a"), ["a"]);
  assert.deepEqual(joined("b"), ["a", "b"]);
  // a joins a room: a's own room keeps its members.
  adapter.addAll("a", new Set(["news"]));
  assert.deepEqual(joined("a"), ["a", "news"]);
  assert.deepEqual(members("a"), ["a", "b"]);
  // b leaves its own room.
  adapter.del("b", "b");
  assert.deepEqual(joined("b"), ["a"]);
  assert.equal(adapter.rooms.has("b"), false);
  assert.deepEqual(events.splice(0), [
    "join a b",
    "create news",
    "join news a",
    "leave b b",
    "delete b",
  ]);
  // A fresh socket leaving its own room, then disconnecting.
  adapter.addAll("c", new Set(["c"]));
  adapter.del("c", "c");
  assert.deepEqual(joined("c"), []);
  assert.equal(adapter.rooms.has("c"), false);
  adapter.addAll("d", new Set(["d"]));
  adapter.delAll("d");
  assert.equal(adapter.rooms.has("d"), false);
  assert.equal(adapter.socketRooms("d"), undefined);
  assert.deepEqual(events.splice(0), [
    "create c",
    "join c c",
    "leave c c",
    "delete c",
    "create d",
    "join d d",
    "leave d d",
    "delete d",
  ]);
  // a disconnects: b stays in a's room.
  adapter.delAll("a");
  assert.deepEqual(members("a"), ["b"]);
  assert.equal(adapter.rooms.has("news"), false);
});

Deno.test("off removes a listener; emit reports whether there were listeners", () => {
  const { adapter } = setup({});
  const rooms: string[] = [];
  const listener = (room: string) => rooms.push(room);
  assert.equal(adapter.emit("create-room", "x"), false);
  adapter.on("create-room", listener);
  adapter.addAll("a", new Set(["r1"]));
  adapter.off("create-room", listener).off("create-room", listener);
  adapter.addAll("a", new Set(["r2"]));
  assert.deepEqual(rooms, ["r1"]);
  assert.equal(adapter.emit("create-room", "x"), false);
});

Deno.test("serverCount, init, close", async () => {
  const { adapter } = setup({});
  assert.equal(await adapter.serverCount(), 1);
  await adapter.init();
  await adapter.close();
});

Deno.test("broadcast encodes once and hands the same chunks to every receiver", () => {
  const env = setup({ a: [], b: [], c: [], d: [] });
  const packet = event("hello", 1);
  env.adapter.broadcast(packet, opts());

  assert.equal(env.encodes.length, 1);
  assert.equal(packet.nsp, "/chat");
  assert.deepEqual(received(env), ["a", "b", "c", "d"]);
  const first = env.socket("a").writes[0];
  assert.deepEqual(first.chunks, ['2/chat,["hello",1]']);
  assert.deepEqual(first.opts, { preEncoded: true, volatile: undefined, compress: undefined });
  for (const socket of env.sockets.values()) {
    assert.equal(socket.writes.length, 1);
    assert.equal(socket.writes[0].chunks, first.chunks); // same array, not a copy
    assert.equal(socket.writes[0].opts, first.opts);
    assert.deepEqual(socket.outgoing, [packet]);
  }
});

Deno.test("broadcast passes compress and volatile flags", () => {
  const env = setup({ a: [] });
  env.adapter.broadcast(event("x"), { rooms: new Set(), flags: { compress: true } });
  assert.deepEqual(env.socket("a").writes[0].opts, {
    preEncoded: true,
    volatile: undefined,
    compress: true,
  });
});

Deno.test("a socket in several targeted rooms receives once", () => {
  const env = setup({ a: ["r1", "r2", "r3"], b: ["r2"], c: ["r4"] });
  env.adapter.broadcast(event("x"), opts(["r1", "r2", "r3", "missing"]));
  assert.deepEqual(received(env), ["a", "b"]);
  assert.equal(env.socket("a").writes.length, 1);
  assert.equal(env.encodes.length, 1);
});

Deno.test("except rooms exclude their sockets", () => {
  const env = setup({ a: ["r"], b: ["r", "muted"], c: ["muted"], d: [] });
  env.adapter.broadcast(event("x"), opts(["r", "c"], ["muted", "missing"]));
  assert.deepEqual(received(env), ["a"]);

  const all = setup({ a: [], b: ["muted"], c: [] });
  all.adapter.broadcast(event("x"), opts([], ["muted", "c"]));
  assert.deepEqual(received(all), ["a"]);
});

Deno.test("broadcast skips ids in rooms that are not connected sockets", () => {
  const env = setup({ a: ["r"] });
  env.adapter.addAll("ghost", new Set(["ghost", "r"]));
  env.adapter.broadcast(event("x"), opts(["r"]));
  env.adapter.broadcast(event("y"), opts());
  assert.equal(env.socket("a").writes.length, 2);
});

Deno.test("volatile broadcasts skip sockets that are not writable", () => {
  const env = setup({ a: [], b: [], c: [] });
  env.socket("b").writable = false;
  env.adapter.broadcast(event("x"), { rooms: new Set(), flags: { volatile: true } });
  assert.deepEqual(received(env), ["a", "c"]);
  assert.equal(env.socket("a").writes[0].opts.volatile, true);
  assert.deepEqual(env.socket("b").outgoing, []);

  // Without the flag, the connection buffers: everyone gets it.
  env.adapter.broadcast(event("y"), opts());
  assert.equal(env.socket("b").writes.length, 1);
});

Deno.test("broadcastWithAck registers the ack on each receiver and reports the count", () => {
  const env = setup({ a: ["r"], b: ["r"], c: ["r", "muted"], d: [] });
  env.socket("b").writable = false; // not volatile: still a receiver
  // Ids 0 to 6 were taken (by socket.emit acks, say): the broadcast gets the next one.
  for (let i = 0; i < 7; i++) env.nsp.nextAckId();
  // An id from elsewhere (another node's, relayed) is replaced by the namespace's.
  const packet: Packet = { ...event("ping"), id: 3 };
  const counts: number[] = [];
  const responses: unknown[] = [];
  env.adapter.broadcastWithAck(
    packet,
    opts(["r"], ["muted"]),
    (n) => counts.push(n),
    (response) => responses.push(response),
  );

  assert.deepEqual(counts, [2]);
  assert.equal(env.encodes.length, 1);
  assert.equal(packet.id, 7);
  assert.equal(env.nsp.nextAckId(), 8, "the broadcast took one id");
  assert.equal(packet.nsp, "/chat");
  assert.deepEqual(received(env), ["a", "b"]);
  assert.equal(env.socket("a").writes[0].chunks, env.socket("b").writes[0].chunks);
  assert.equal(env.socket("a").writes[0].opts.preEncoded, true);
  assert.deepEqual([...env.socket("c").acks.keys()], []);
  env.socket("a").acks.get(7)!("pong-a");
  env.socket("b").acks.get(7)!("pong-b");
  assert.deepEqual(responses, ["pong-a", "pong-b"]);
});

Deno.test("broadcastWithAck: volatile skips unwritable sockets from the count", () => {
  const env = setup({ a: [], b: [] });
  env.socket("a").writable = false;
  let count = -1;
  env.adapter.broadcastWithAck(
    event("ping"),
    { rooms: new Set(), flags: { volatile: true } },
    (n) => count = n,
    () => {},
  );
  assert.equal(count, 1);
  assert.equal(env.socket("a").acks.size, 0);
  assert.equal(env.socket("b").acks.size, 1);
});

Deno.test("broadcastWithAck: no receivers reports 0; each broadcast takes a new id", () => {
  const env = setup({ a: [] });
  let count = -1;
  const first = event("x");
  env.adapter.broadcastWithAck(first, opts(["none"]), (n) => count = n, () => {});
  assert.equal(count, 0);
  assert.equal(env.socket("a").writes.length, 0);
  const second = event("x");
  env.adapter.broadcastWithAck(second, opts(), () => {}, () => {});
  assert.deepEqual([first.id, second.id], [0, 1]);
  assert.deepEqual([...env.socket("a").acks.keys()], [1]);
});

Deno.test("sockets() lists the ids in the rooms, or all", async () => {
  const env = setup({ a: ["r1"], b: ["r2"], c: [] });
  assert.deepEqual(await env.adapter.sockets(new Set(["r1", "r2"])), new Set(["a", "b"]));
  assert.deepEqual(await env.adapter.sockets(new Set()), new Set(["a", "b", "c"]));
  assert.deepEqual(await env.adapter.sockets(new Set(["none"])), new Set());
});

Deno.test("fetchSockets() returns the matching local sockets", async () => {
  const env = setup({ a: ["r"], b: ["r", "x"], c: [] });
  const ids = (sockets: { id: string }[]) => sockets.map((s) => s.id).sort();
  assert.deepEqual(ids(await env.adapter.fetchSockets(opts(["r"]))), ["a", "b"]);
  assert.deepEqual(ids(await env.adapter.fetchSockets(opts(["r"], ["x"]))), ["a"]);
  assert.deepEqual(ids(await env.adapter.fetchSockets(opts([], ["x"]))), ["a", "c"]);
  const [a] = await env.adapter.fetchSockets(opts(["a"]));
  assert.equal(a, env.socket("a"));
});

Deno.test("addSockets() makes matching sockets join rooms", () => {
  const env = setup({ a: ["r"], b: ["r", "x"], c: [] });
  env.adapter.addSockets(opts(["r"], ["x"]), ["s1", "s2"]);
  assert.deepEqual(env.adapter.rooms.get("s1"), new Set(["a"]));
  assert.deepEqual(env.adapter.rooms.get("s2"), new Set(["a"]));
  env.adapter.addSockets(opts(), ["all"]);
  assert.deepEqual(env.adapter.rooms.get("all"), new Set(["a", "b", "c"]));
  // Joining a room that is also targeted does not visit a socket twice.
  env.adapter.addSockets(opts(["r", "y"]), ["y"]);
  assert.deepEqual(env.adapter.rooms.get("y"), new Set(["a", "b"]));
});

Deno.test("delSockets() makes matching sockets leave rooms", () => {
  const env = setup({ a: ["r", "s"], b: ["r", "s", "x"], c: ["s"] });
  env.adapter.delSockets(opts(["r"], ["x"]), ["r", "s"]);
  assert.deepEqual(env.adapter.socketRooms("a"), new Set(["a"]));
  assert.deepEqual(env.adapter.rooms.get("r"), new Set(["b"]));
  assert.deepEqual(env.adapter.rooms.get("s"), new Set(["b", "c"]));
  env.adapter.delSockets(opts(), ["s"]);
  assert.equal(env.adapter.rooms.has("s"), false);
});

Deno.test("disconnectSockets() disconnects matching sockets", () => {
  const env = setup({ a: ["r"], b: ["r", "x"], c: [], d: ["r"] });
  const sockets = [...env.sockets.values()];
  env.adapter.disconnectSockets(opts(["r"], ["x"]), true);
  assert.deepEqual(sockets.map((s) => s.closed), [true, undefined, undefined, true]);
  assert.deepEqual([...env.sockets.keys()].sort(), ["b", "c"]);
  assert.equal(env.adapter.rooms.has("a"), false);
  env.adapter.disconnectSockets(opts(), false);
  assert.deepEqual(sockets.map((s) => s.closed), [true, false, false, true]);
  assert.equal(env.sockets.size, 0);
  assert.equal(env.adapter.rooms.size, 0);
  assert.equal(env.adapter.sids.size, 0);
});

Deno.test("serverSideEmit warns and delivers nothing on a single node", () => {
  const env = setup({ a: [] });
  const delivered: unknown[][] = [];
  env.nsp.onServerSideEmit = (args) => delivered.push(args);
  const warnings: unknown[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args[0]);
  let acked = false;
  try {
    env.adapter.serverSideEmit(["hello", "world"]);
    env.adapter.serverSideEmit(["ping", () => acked = true]);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 2);
  assert.match(String(warnings[0]), /does not support the serverSideEmit/);
  assert.deepEqual(delivered, []);
  assert.equal(acked, false);
  assert.equal(env.socket("a").writes.length, 0);
});

Deno.test("the in-memory adapter keeps no session", async () => {
  const { adapter } = setup({});
  await adapter.persistSession({ sid: "a", pid: "p", rooms: ["a"], data: null });
  assert.equal(await adapter.restoreSession("p", "anything"), null);
});

function sessionEnv(rooms: Record<string, Room[]>, maxDisconnectionDuration = 60_000): Env {
  return setup(rooms, (nsp) => new SessionAwareAdapter(nsp, { maxDisconnectionDuration }));
}

Deno.test("SessionAwareAdapter restores a session with the packets missed after the offset", async () => {
  const clock = FakeTimers.install({ toFake: ["Date"], now: 1_000_000 });
  try {
    const env = sessionEnv({ a: ["news"], b: [] });
    const first = event("first");
    env.adapter.broadcast(first, opts());
    const offset = (first.data as unknown[])[1] as string;
    assert.equal(typeof offset, "string");
    assert.deepEqual(env.socket("a").writes[0].chunks, [`2/chat,["first","${offset}"]`]);

    // Socket "x" (rooms x, news, sports) disconnected after receiving `first`.
    await env.adapter.persistSession({
      sid: "x",
      pid: "px",
      rooms: ["x", "news", "sports"],
      data: { user: 1 },
    });
    clock.tick(1_000);
    const all = event("to all");
    const news = event("to news");
    const other = event("to other");
    const excluded = event("to news except sports");
    const direct = event("to x");
    const acked: Packet = { ...event("with ack"), id: 3 };
    const volatile = event("volatile");
    const connect: Packet = { type: 0, nsp: "/", data: { sid: "s" } };
    env.adapter.broadcast(all, opts());
    env.adapter.broadcast(news, opts(["news"]));
    env.adapter.broadcast(other, opts(["other"]));
    env.adapter.broadcast(excluded, opts(["news"], ["sports"]));
    env.adapter.broadcast(direct, opts(["x"]));
    env.adapter.broadcast(acked, opts());
    env.adapter.broadcast(volatile, { rooms: new Set(), flags: { volatile: true } });
    env.adapter.broadcast(connect, opts());
    assert.equal((acked.data as unknown[]).length, 1); // not stored: no offset
    assert.equal((volatile.data as unknown[]).length, 1);

    const session = await env.adapter.restoreSession("px", offset);
    assert.ok(session);
    assert.equal(session.sid, "x");
    assert.equal(session.pid, "px");
    assert.deepEqual(session.rooms, ["x", "news", "sports"]);
    assert.deepEqual(session.data, { user: 1 });
    assert.equal("disconnectedAt" in session, false);
    assert.deepEqual(session.missedPackets, [all.data, news.data, direct.data]);
    assert.deepEqual(session.missedPackets.map((p) => p[0]), ["to all", "to news", "to x"]);

    // From a later offset, only what followed it.
    const newsOffset = (news.data as unknown[])[1] as string;
    const later = await env.adapter.restoreSession("px", newsOffset);
    assert.deepEqual(later?.missedPackets, [direct.data]);

    assert.equal(await env.adapter.restoreSession("unknown", offset), null);
    assert.equal(await env.adapter.restoreSession("px", "unknown offset"), null);
  } finally {
    clock.uninstall();
  }
});

Deno.test("SessionAwareAdapter drops expired sessions and offsets", async () => {
  const clock = FakeTimers.install({ toFake: ["Date"], now: 1_000_000 });
  try {
    const env = sessionEnv({ a: [] }, 10_000);
    const old = event("old");
    env.adapter.broadcast(old, opts());
    const oldOffset = (old.data as unknown[])[1] as string;
    await env.adapter.persistSession({ sid: "x", pid: "px", rooms: ["x"], data: null });
    clock.tick(10_001);
    assert.equal(await env.adapter.restoreSession("px", oldOffset), null); // session expired

    await env.adapter.persistSession({ sid: "y", pid: "py", rooms: ["y"], data: null });
    env.adapter.broadcast(event("new"), opts()); // drops `old`
    assert.equal(await env.adapter.restoreSession("py", oldOffset), null); // offset expired
  } finally {
    clock.uninstall();
  }
});

Deno.test("SessionAwareAdapter finds offsets across expiry and compaction", async () => {
  const clock = FakeTimers.install({ toFake: ["Date"], now: 1_000_000 });
  try {
    const env = sessionEnv({ a: [] }, 1_000);
    const packets: Packet[] = [];
    for (let i = 0; i < 50; i++) {
      const packet = event(i);
      env.adapter.broadcast(packet, opts());
      packets.push(packet);
      clock.tick(100); // the window holds about 10 packets
    }
    await env.adapter.persistSession({ sid: "x", pid: "px", rooms: ["x"], data: null });
    const offsetOf = (i: number) => (packets[i].data as unknown[])[1] as string;
    const session = await env.adapter.restoreSession("px", offsetOf(45));
    assert.deepEqual(session?.missedPackets.map((p) => p[0]), [46, 47, 48, 49]);
    assert.equal(await env.adapter.restoreSession("px", offsetOf(5)), null);
    // Offsets are unique.
    assert.equal(new Set(packets.map((_, i) => offsetOf(i))).size, 50);
  } finally {
    clock.uninstall();
  }
});
