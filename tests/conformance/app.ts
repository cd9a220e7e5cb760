/**
 * The server side of the conformance matrix: one app, written against the npm `socket.io` API,
 * that every target runs unchanged (Deno, Bun, Node, workerd). Its handlers do what a scenario's
 * client asks and answer what server code saw, so that the scenarios (scenarios.ts) run from
 * the test process while the server runs in the runtime under test.
 *
 * Each scenario run connects to a namespace of its own (`/run-<n>`, `/run-<n>-<suffix>`, children
 * of one dynamic namespace, removed once empty), so that its broadcasts meet only its own
 * clients, on a server shared by every run. After any broadcast a client asks for, the
 * namespace gets a `marker`: packets arrive in order, so a client holding the marker holds
 * everything sent to it before.
 *
 * @module
 */
import type { ExtendedError, Namespace, Server, ServerOptions, Socket } from "../../mod.ts";

/** The server options of every target. */
export const OPTIONS: Partial<ServerOptions> = {
  // Pings often enough for a scenario to see two; a pong has all the time it needs.
  pingInterval: 150,
  pingTimeout: 5000,
  maxHttpBufferSize: 100_000,
  cleanupEmptyChildNamespaces: true,
};

/** The namespaces of scenario runs: `/run-<n>` and `/run-<n>-<suffix>`. */
export const RUN_NAMESPACES = /^\/run-\d+(-[a-z]+)?$/;

/** A room that is not a string: a map key like any other, whatever its toString says. */
const OBJECT_ROOM = { toString: () => "x" } as unknown as string;

/** How long the app waits for a connection to become writable (a bound, not a timing). */
const WRITABLE_BOUND = 5000;

/**
 * One step of a broadcast target, applied in order to the namespace or to the socket, e.g.
 * `[["to", "a"], ["except", "b"]]` is `nsp.to("a").except("b")`.
 */
export type Step =
  | ["to" | "in" | "except", string | string[]]
  | ["volatile" | "local" | "broadcast"]
  | ["compress", boolean];

/** What a client asks its server to emit through: `from` the namespace or its socket. */
export interface Spec {
  /** `nsp` (the default) or `socket`. */
  from?: "nsp" | "socket";
  /** The operators, in order. */
  steps?: Step[];
}

/** Just what the app calls on a namespace, a socket or a broadcast operator. */
interface Chain {
  to(room: string | string[]): Chain;
  in(room: string | string[]): Chain;
  except(room: string | string[]): Chain;
  compress(on: boolean): Chain;
  timeout(ms: number): Chain;
  readonly volatile: Chain;
  readonly local: Chain;
  readonly broadcast: Chain;
  emit(ev: string, ...args: unknown[]): boolean;
  emitWithAck(ev: string, ...args: unknown[]): Promise<unknown>;
  fetchSockets(): Promise<{ id: string; rooms: Set<string>; data: unknown }[]>;
  socketsJoin(rooms: string | string[]): void;
  socketsLeave(rooms: string | string[]): void;
  disconnectSockets(close?: boolean): void;
}

function target(socket: Socket, spec: Spec = {}): Chain {
  let chain = (spec.from === "socket" ? socket : socket.nsp) as unknown as Chain;
  for (const step of spec.steps ?? []) {
    if (step[0] === "volatile") chain = chain.volatile;
    else if (step[0] === "local") chain = chain.local;
    else if (step[0] === "broadcast") chain = chain.broadcast;
    else if (step[0] === "compress") chain = chain.compress(step[1]);
    else chain = chain[step[0]](step[1] as string | string[]);
  }
  return chain;
}

/** The socket's rooms other than its own, sorted, each as a string (or its type). */
function roomsOf(socket: { id: string; rooms: Set<string> }): string[] {
  return [...socket.rooms].filter((r) => r !== socket.id)
    .map((r) => typeof r === "string" ? r : `(${typeof r})`).sort();
}

/** `Buffer` where the runtime has one (Deno, Bun, Node; workerd with nodejs_compat). */
const NodeBuffer = (globalThis as { Buffer?: { isBuffer(v: unknown): boolean } }).Buffer;

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** How a value looks to code ported from Node: binary as `Buffer <hex>` (long ones by size). */
function describe(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    const kind = NodeBuffer?.isBuffer(value) ? "Buffer" : "Uint8Array";
    return value.byteLength > 16 ? `${kind} of ${value.byteLength}` : `${kind} ${hex(value)}`;
  }
  if (value instanceof ArrayBuffer) return "ArrayBuffer";
  if (Array.isArray(value)) return value.map(describe);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
  }
  return value;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Ack = (...args: unknown[]) => void;

/** Splits a listener's arguments into the arguments and the ack callback (the last one). */
function withAck(args: unknown[]): [unknown[], Ack] {
  const ack = args.pop();
  if (typeof ack !== "function") throw new TypeError("this event needs an ack");
  return [args, ack as Ack];
}

/** Connection middleware, driven by the client's `auth`. */
function middleware(socket: Socket, next: (err?: ExtendedError) => void): void {
  const auth = socket.handshake.auth as Record<string, unknown>;
  if (auth.refuse !== undefined) {
    const err: ExtendedError = new Error("not authorized");
    err.data = auth.refuse;
    return next(err);
  }
  if (auth.throw) throw new Error("middleware failed on purpose");
  socket.data = { name: auth.name ?? null, order: ["first"] };
  // An asynchronous middleware: the next one waits for it.
  if (auth.slow) setTimeout(next, 5);
  else next();
}

function laterMiddleware(socket: Socket, next: (err?: ExtendedError) => void): void {
  (socket.data as { order: string[] }).order.push("second");
  if (socket.handshake.auth.slow) void socket.join("from-middleware");
  next();
}

/** A namespace whose children the `parent-emit` event broadcasts to. */
interface Parent {
  to(room: string): { emit(ev: string, ...args: unknown[]): boolean };
}

/** Every event the scenarios send, on one socket; `parent` is its namespace's parent. */
const connection = (parent?: Parent) => (socket: Socket): void => {
  const nsp: Namespace = socket.nsp;
  let rooms: string[] = [];
  socket.on("disconnecting", () => (rooms = roomsOf(socket)));
  socket.on("disconnect", (reason: string) => nsp.emit("left", { id: socket.id, reason, rooms }));

  // Per-packet middleware: refuses one event, rewrites another's argument.
  socket.use((packet, next) => {
    if (packet[0] === "blocked") return next(new Error("blocked event"));
    // The packet is the listeners' arguments: changed in place, they see the change.
    if (packet[0] === "rewrite") packet[1] = "rewritten";
    next();
  });
  socket.on("error", (err: Error) => socket.emit("middleware-error", err.message));
  socket.on("rewrite", (value: unknown, ack: Ack) => ack(value));
  socket.on("blocked", () => socket.emit("reached", "blocked"));

  socket.on("whoami", (ack: Ack) => {
    ack({
      id: socket.id,
      nsp: nsp.name,
      conn: socket.conn.id,
      transport: socket.conn.transport.name,
      rooms: roomsOf(socket),
      data: socket.data,
    });
  });
  socket.on("echo", (...args: unknown[]) => {
    const [values, ack] = withAck(args);
    ack(...values);
  });
  socket.on("describe", (...args: unknown[]) => {
    const [values, ack] = withAck(args);
    ack(values.map(describe));
  });
  socket.on("silent", () => {});
  // Asks the client `ev`, then acks what it answered.
  socket.on("ask", (ev: string, args: unknown[], ack: Ack) => {
    socket.emit(ev, ...args, (...answer: unknown[]) => ack(describe(answer)));
  });

  // Emits through a target; then the marker to the whole namespace.
  socket.on("emit", (spec: Spec, ev: string, ...args: unknown[]) => {
    target(socket, spec).emit(ev, ...args);
    nsp.emit("marker");
  });
  // timeout(ms).emit with a callback: what it was called with.
  socket.on("emit-ack", (spec: Spec, ev: string, ms: number, args: unknown[], ack: Ack) => {
    target(socket, spec).timeout(ms).emit(ev, ...args, (err: Error | null, ...rest: unknown[]) => {
      ack({ error: err ? err.message : null, rest });
    });
  });
  socket.on("emit-with-ack", (spec: Spec, ev: string, ms: number, args: unknown[], ack: Ack) => {
    target(socket, spec).timeout(ms).emitWithAck(ev, ...args).then(
      (value) => ack({ value }),
      (err: Error & { responses?: unknown[] }) =>
        ack({ error: err.message, responses: err.responses }),
    );
  });
  socket.on("fetch", async (spec: Spec, ack: Ack) => {
    const found = await target(socket, spec).fetchSockets();
    ack(
      found.map((s) => ({ id: s.id, rooms: roomsOf(s), data: s.data }))
        .sort((a, b) => a.id < b.id ? -1 : 1),
    );
  });
  socket.on("sockets-join", (spec: Spec, rooms: string | string[], ack: Ack) => {
    target(socket, spec).socketsJoin(rooms);
    ack();
  });
  socket.on("sockets-leave", (spec: Spec, rooms: string | string[], ack: Ack) => {
    target(socket, spec).socketsLeave(rooms);
    ack();
  });
  socket.on("disconnect-sockets", (spec: Spec, close: boolean) => {
    target(socket, spec).disconnectSockets(close);
  });
  // A broadcast from the parent of the dynamic namespaces, to a room across its children.
  socket.on("parent-emit", (room: string, ev: string, ...args: unknown[]) => {
    parent?.to(room).emit(ev, ...args);
  });

  socket.on("join", async (room: string | string[], ack: Ack) => {
    await socket.join(room);
    ack(roomsOf(socket));
  });
  socket.on("leave", async (room: string, ack: Ack) => {
    await socket.leave(room);
    ack(roomsOf(socket));
  });
  socket.on("join-object", (ack: Ack) => {
    void socket.join(OBJECT_ROOM);
    ack(roomsOf(socket));
  });
  socket.on("to-object", (ev: string) => {
    nsp.to(OBJECT_ROOM).emit(ev, "to the object room");
    nsp.emit("marker");
  });
  socket.on("data", (patch: Record<string, unknown>, ack: Ack) => {
    socket.data = { ...socket.data as object, ...patch };
    ack(socket.data);
  });

  // Direct emits around broadcasts in one tick: every receiver sees them in this order.
  socket.on("order", () => {
    socket.emit("seq", 1);
    nsp.emit("seq", 2);
    socket.emit("seq", 3);
    nsp.emit("seq", 4);
    nsp.emit("marker");
  });
  socket.on("others", () => {
    socket.emit("seq", 5);
    socket.broadcast.emit("seq", 6);
    socket.emit("seq", 7);
    nsp.emit("marker");
  });
  // A volatile packet, once the connection takes one at once.
  socket.on("volatile", async (ev: string, ack: Ack) => {
    for (let waited = 0; !socket.conn.writable && waited < WRITABLE_BOUND; waited += 5) {
      await delay(5);
    }
    const writable = socket.conn.writable;
    socket.volatile.emit(ev, "volatile");
    ack(writable);
  });

  socket.on("handshake", (ack: Ack) => {
    const { headers, query, auth, address, secure, url, time, issued, xdomain } = socket.handshake;
    ack({
      query: { token: query.token ?? null, EIO: query.EIO },
      proto: Object.entries(query).filter(([k]) => k === "__proto__"),
      auth,
      header: headers["x-custom"] ?? null,
      host: typeof headers.host,
      plain: Object.getPrototypeOf(headers) === Object.prototype &&
        Object.getPrototypeOf(query) === Object.prototype,
      polluted: ({} as { polluted?: unknown }).polluted ?? null,
      address,
      secure,
      url: url.startsWith("/socket.io/?"),
      time: typeof time,
      issued: typeof issued,
      xdomain,
    });
  });

  socket.on("disconnect-me", (close: boolean) => socket.disconnect(close));
  socket.on("close-conn", () => socket.conn.close());
  socket.on("throw", () => {
    throw new Error("listener failed on purpose");
  });
  socket.on("throw-on-disconnect", (ack: Ack) => {
    socket.on("disconnect", () => {
      throw new Error("disconnect listener failed on purpose");
    });
    ack();
  });
  // The next message meets an Engine.IO listener that throws.
  socket.on("throw-on-packet", (ack: Ack) => {
    const onPacket = (packet: { type: string }) => {
      if (packet.type !== "message") return;
      socket.conn.off("packet", onPacket);
      throw new Error("packet listener failed on purpose");
    };
    socket.conn.on("packet", onPacket);
    ack();
  });
  socket.on("throw-on-close", (ack: Ack) => {
    socket.conn.on("close", (reason: string) => {
      nsp.emit("conn-closed", reason);
      throw new Error("close listener failed on purpose");
    });
    ack();
  });
};

/**
 * Registers everything the scenarios need on `io`.
 *
 * @param io a socketio-edge server (of any entry)
 */
export function setup(io: Server): void {
  io.use(middleware).use(laterMiddleware).on("connection", connection());

  const runs = io.of(RUN_NAMESPACES);
  runs.use(middleware).use(laterMiddleware).on("connection", connection(runs));

  io.of("/throws").on("connection", () => {
    throw new Error("connection listener failed on purpose");
  });

  // Children created by a function: `/fn-...` for a client whose auth says ok.
  io.of((name, auth, next) => next(null, name.startsWith("/fn-") && auth.ok === true))
    .on("connection", connection());
}
