/**
 * Type tests for a typed `Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents,
 * SocketData>`, checked by `deno check` (and `deno test`, which type-checks first): the correct
 * usages compile, the wrong ones are flagged by the `@ts-expect-error` lines (an error that
 * does not happen fails the check too). The bodies also run, against a server with no client.
 */
import assert from "node:assert/strict";
import {
  type BroadcastOperator,
  type DisconnectReason,
  type ExtendedError,
  type Namespace,
  Server,
  type Socket,
} from "../mod.ts";

interface ServerToClientEvents {
  noArg: () => void;
  basicEmit: (a: number, b: string, c: Uint8Array) => void;
  withAck: (d: string, callback: (e: number) => void) => void;
  multiAck: (callback: (a: string, b: number) => void) => void;
}

interface ClientToServerEvents {
  hello: () => void;
  greet: (name: string, ack: (ok: boolean) => void) => void;
  move: (x: number, y: number) => void;
}

interface InterServerEvents {
  ping: () => void;
  sync: (state: { version: number }) => void;
}

interface SocketData {
  name: string;
  age: number;
}

type TypedServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;
type TypedSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  InterServerEvents,
  SocketData
>;

/** Asserts at compile time that `T` is exactly `U`. */
type Equals<T, U> = (<G>() => G extends T ? 1 : 2) extends (<G>() => G extends U ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_ok: T): void {}

function socketUsage(io: TypedServer, socket: TypedSocket): void {
  // --- emit -------------------------------------------------------------------------------
  socket.emit("noArg");
  socket.emit("basicEmit", 1, "2", new Uint8Array([3]));
  socket.emit("withAck", "4", (e) => {
    expectType<Equals<typeof e, number>>(true);
  });
  // @ts-expect-error: unknown event name
  socket.emit("nope");
  // @ts-expect-error: an incoming event is not an outgoing one
  socket.emit("hello");
  // @ts-expect-error: wrong argument type
  socket.emit("basicEmit", "1", "2", new Uint8Array());
  // @ts-expect-error: missing argument
  socket.emit("basicEmit", 1, "2");
  // @ts-expect-error: wrong ack argument type
  socket.emit("withAck", "4", (e: string) => void e);

  // --- timeout and emitWithAck ------------------------------------------------------------
  socket.timeout(1000).emit("withAck", "4", (err, e) => {
    expectType<Equals<typeof err, Error>>(true);
    expectType<Equals<typeof e, number>>(true);
  });
  // @ts-expect-error: with a timeout, the ack takes an error first
  socket.timeout(1000).emit("withAck", "4", (e: number) => void e);
  const answer = socket.emitWithAck("withAck", "4");
  expectType<Equals<typeof answer, Promise<number>>>(true);
  const timed = socket.timeout(1000).emitWithAck("withAck", "4");
  expectType<Equals<typeof timed, Promise<number>>>(true);
  const first = socket.emitWithAck("multiAck");
  expectType<Equals<typeof first, Promise<string>>>(true);
  // @ts-expect-error: emitWithAck needs an event with an ack
  void socket.emitWithAck("noArg");
  // @ts-expect-error: wrong argument type before the ack
  void socket.emitWithAck("withAck", 4);

  // --- listeners --------------------------------------------------------------------------
  socket.on("greet", (name, ack) => {
    expectType<Equals<typeof name, string>>(true);
    ack(name.length > 0);
    // @ts-expect-error: the ack takes a boolean
    ack("yes");
  });
  socket.on("move", (x, y) => void (x + y));
  socket.once("hello", () => {});
  // @ts-expect-error: wrong listener parameter type
  socket.on("move", (x: string) => void x);
  // @ts-expect-error: unknown incoming event
  socket.on("unknown", () => {});
  socket.on("disconnect", (reason) => {
    expectType<Equals<typeof reason, DisconnectReason>>(true);
  });
  socket.on("disconnecting", (reason) => void reason);
  socket.on("error", (err) => {
    expectType<Equals<typeof err, Error>>(true);
  });
  socket.onAny((event: string, ...args: unknown[]) => void [event, args]);

  // --- data -------------------------------------------------------------------------------
  socket.data.name = "john";
  socket.data.age = 42;
  // @ts-expect-error: age is a number
  socket.data.age = "42";
  // @ts-expect-error: unknown field
  socket.data.email = "a@b.c";
  expectType<Equals<typeof socket.data, SocketData>>(true);

  // --- broadcasts from a socket -----------------------------------------------------------
  socket.broadcast.emit("basicEmit", 1, "2", new Uint8Array());
  socket.to("room").emit("noArg");
  socket.to(["a", "b"]).except("c").emit("basicEmit", 1, "2", new Uint8Array());
  // @ts-expect-error: wrong argument type in a broadcast
  socket.to("room").emit("basicEmit", 1, 2, new Uint8Array());
  socket.broadcast.timeout(1000).emit("withAck", "4", (err, responses) => {
    expectType<Equals<typeof err, Error>>(true);
    expectType<Equals<typeof responses, number[]>>(true);
  });

  // --- server-side events -----------------------------------------------------------------
  io.serverSideEmit("ping");
  io.serverSideEmit("sync", { version: 1 });
  // @ts-expect-error: unknown server-side event
  io.serverSideEmit("pong");
  // @ts-expect-error: wrong server-side argument
  io.serverSideEmit("sync", { version: "1" });
}

function serverUsage(io: TypedServer): void {
  io.on("connection", (socket) => {
    expectType<Equals<typeof socket, TypedSocket>>(true);
    socketUsage(io, socket);
  });
  io.of("/admin").on("connection", (socket) => {
    expectType<Equals<typeof socket.data, SocketData>>(true);
  });
  io.on("ping", () => {});
  io.on("sync", (state) => {
    expectType<Equals<typeof state, { version: number }>>(true);
  });
  io.on("new_namespace", (nsp) => {
    expectType<
      Equals<
        typeof nsp,
        Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>
      >
    >(true);
  });
  // @ts-expect-error: unknown server event
  io.on("nope", () => {});

  io.use((socket, next) => {
    socket.data.name = String(socket.handshake.auth.name);
    const err: ExtendedError = new Error("no");
    err.data = { retry: true };
    next(socket.data.name ? undefined : err);
  });

  io.emit("noArg");
  io.to("room").emit("basicEmit", 1, "2", new Uint8Array());
  io.in("room").except("other").emit("noArg");
  io.of("/admin").to("r").emit("basicEmit", 1, "2", new Uint8Array());
  io.local.emit("noArg");
  io.volatile.compress(false).emit("noArg");
  // @ts-expect-error: unknown event in a broadcast
  io.emit("nope");
  // @ts-expect-error: wrong argument type in a broadcast
  io.emit("basicEmit", 1, "2", "3");

  // Broadcast acks: one response per client.
  io.timeout(1000).emit("withAck", "4", (err, responses) => {
    expectType<Equals<typeof err, Error>>(true);
    expectType<Equals<typeof responses, number[]>>(true);
  });
  const all = io.timeout(1000).emitWithAck("withAck", "4");
  expectType<Equals<typeof all, Promise<number[]>>>(true);
  const inRoom = io.to("room").timeout(1000).emitWithAck("withAck", "4");
  expectType<Equals<typeof inRoom, Promise<number[]>>>(true);
  // @ts-expect-error: a broadcast's emitWithAck needs a timeout
  void io.to("room").emitWithAck("withAck", "4");

  const op: BroadcastOperator<ServerToClientEvents, SocketData> = io.to("room");
  op.emit("noArg");
}

async function fetchUsage(io: TypedServer): Promise<void> {
  const sockets = await io.fetchSockets();
  for (const socket of sockets) {
    expectType<Equals<typeof socket.data, SocketData>>(true);
    socket.emit("noArg");
    // @ts-expect-error: wrong argument on a fetched socket
    socket.emit("basicEmit", "1", "2", new Uint8Array());
  }
  const inRoom = await io.in("room").fetchSockets();
  expectType<Equals<(typeof inRoom)[number]["data"], SocketData>>(true);
}

function untypedUsage(): void {
  // Without type parameters, anything goes, as with the official server.
  const io = new Server();
  io.on("connection", (socket) => {
    socket.emit("anything", 1, { a: 2 }, () => {});
    socket.on("whatever", (...args: unknown[]) => void args);
    socket.data = { free: "form" };
  });
}

Deno.test("typed server usages compile and run", async () => {
  const io: TypedServer = new Server();
  serverUsage(io);
  untypedUsage();
  await fetchUsage(io);
  assert.equal(io.sockets.listenerCount("connection"), 1);
  await io.close();
});
