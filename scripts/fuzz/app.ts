/**
 * The app the fuzzer attacks, the same on every runtime: written the usual way, it hands what
 * clients send to the library (rooms, broadcasts, acks, ack timeouts, `fetchSockets`, socket
 * data), and throws nothing of its own, so that every error reported while it runs escaped the
 * library. It also keeps what went wrong: errors dispatched on `globalThis` (what `report()`
 * sends, and uncaught exceptions on Deno), unhandled rejections and handler failures.
 *
 * Three servers share the handler: `/socket.io/` with most features on (connection state
 * recovery, Engine.IO v3, CORS with an origin function, engine middleware, `allowRequest`,
 * cookies, a dynamic namespace, namespace and packet middleware, sync and async), `/plain/` with
 * the defaults, and `/msgpack/` with socket.io-msgpack-parser. `/__fuzz/stats` (outside both) answers with {@linkcode FuzzStats} as JSON.
 *
 * @module
 */
import msgpackParser from "socket.io-msgpack-parser";
import { type ParserModule, Server, type Socket } from "../../mod.ts";

/** Where the app stands: what went wrong so far, and its memory. */
export interface FuzzStats {
  /** Errors dispatched on `globalThis` (reported by the library, or uncaught). */
  errors: number;
  /** Unhandled promise rejections. */
  rejections: number;
  /** Requests whose handler threw or rejected (the runtime would answer 500). */
  handlerFailures: number;
  /** The first few of the above, as text with their stacks. */
  messages: string[];
  /** Resident set size, bytes. */
  rss: number;
  /** Open Engine.IO sessions of both servers. */
  sessions: number;
  /** Sockets that joined a namespace so far (how far inputs got). */
  connections: number;
  /** Events the app's handlers got so far. */
  events: number;
}

/** The app and its bookkeeping. */
export interface FuzzApp {
  /** The fetch handler; spread it into `Bun.serve`. */
  handler: ReturnType<Server["handler"]>;
  /** What went wrong so far. */
  stats(): FuzzStats;
  /** Records a handler failure (the runtime's `onError` / `error` hook). */
  handlerFailed(err: unknown): void;
  /** Records an unhandled rejection or an uncaught error seen by a runtime hook. */
  record(kind: "error" | "rejection", err: unknown): void;
  /** Closes both servers and stops listening for errors. */
  close(): Promise<void>;
}

/** Heartbeat and deadlines short enough that abandoned sessions go within seconds. */
const TIMINGS = {
  pingInterval: 3000,
  pingTimeout: 3000,
  upgradeTimeout: 2000,
  connectTimeout: 3000,
};

const MAX_MESSAGES = 20;

/**
 * Builds the app.
 *
 * @param rss reads the process's resident set size (the runtime's own call)
 */
export function createFuzzApp(rss: () => number): FuzzApp {
  const stats: FuzzStats = {
    errors: 0,
    rejections: 0,
    handlerFailures: 0,
    messages: [],
    rss: 0,
    sessions: 0,
    connections: 0,
    events: 0,
  };
  const note = (kind: string, err: unknown) => {
    if (stats.messages.length < MAX_MESSAGES) stats.messages.push(`${kind}: ${describe(err)}`);
  };
  const record = (kind: "error" | "rejection", err: unknown) => {
    if (kind === "error") stats.errors++;
    else stats.rejections++;
    note(kind, err);
  };
  const onError = (e: Event) => {
    e.preventDefault();
    record("error", (e as ErrorEvent).error ?? (e as ErrorEvent).message);
  };
  const onRejection = (e: Event) => {
    e.preventDefault();
    record("rejection", (e as PromiseRejectionEvent).reason);
  };
  globalThis.addEventListener("error", onError);
  globalThis.addEventListener("unhandledrejection", onRejection);

  const io = new Server({
    ...TIMINGS,
    allowEIO3: true,
    connectionStateRecovery: { maxDisconnectionDuration: 5000 },
    cookie: { name: "io", sameSite: "strict" },
    cors: {
      origin: (origin, cb) => cb(null, origin === undefined || !origin.includes("evil")),
      credentials: true,
    },
    allowRequest: (req, cb) => cb(null, req.headers["x-refuse"] === undefined),
  });
  const plain = new Server({ ...TIMINGS, path: "/plain/" });
  // A custom parser, whose decoder validates less than ours (event names may be any value).
  const msgpack = new Server({
    ...TIMINGS,
    path: "/msgpack/",
    parser: msgpackParser as unknown as ParserModule,
  });

  // Engine middleware that reads a header and a cookie as express-style code does.
  io.engine.use((req, res, next) => {
    const cookie = req.headers.cookie ?? "";
    if (cookie.includes("block=1")) return next(new Error("blocked"));
    if (req.headers["x-end"] !== undefined) {
      res.writeHead(403);
      return res.end("ended by middleware");
    }
    next();
  });
  io.engine.on("initial_headers", (headers) => {
    headers["x-fuzz"] = "1";
  });

  const attach = (server: Server, socket: Socket) => {
    stats.connections++;
    socket.onAny(() => stats.events++);
    handlers(server, socket);
  };
  for (const server of [io, plain, msgpack]) {
    server.on("connection", (socket) => attach(server, socket));
  }
  // Namespaces: with middleware (sync, async, refusing on auth), and dynamic ones.
  io.of("/admin").use((socket, next) => {
    const token = socket.handshake.auth.token;
    next(token === "secret" || token === undefined ? undefined : new Error("not authorized"));
  }).on("connection", (socket) => attach(io, socket));
  io.of("/async").use(async (socket, next) => {
    await Promise.resolve();
    socket.data = { user: socket.handshake.auth.user ?? null };
    next();
  }).on("connection", (socket) => attach(io, socket));
  io.of(/^\/dyn-[a-z0-9]+$/).on("connection", (socket) => attach(io, socket));
  io.of((name, auth, next) => next(null, name.startsWith("/fn-") && auth.deny === undefined))
    .on("connection", (socket) => attach(io, socket));

  const inner = msgpack.handler((req) => {
    const url = new URL(req.url);
    if (url.pathname === "/__fuzz/stats") {
      return new Response(JSON.stringify(read()), {
        headers: { "content-type": "application/json" },
      });
    }
    return new Response("Not Found", { status: 404 });
  });
  const handler = io.handler(plain.handler(inner));

  const read = (): FuzzStats => ({
    ...stats,
    messages: [...stats.messages],
    rss: rss(),
    sessions: io.engine.clientsCount + plain.engine.clientsCount + msgpack.engine.clientsCount,
  });

  return {
    handler,
    stats: read,
    handlerFailed(err) {
      stats.handlerFailures++;
      note("handler", err);
    },
    record,
    async close() {
      await io.close();
      await plain.close();
      await msgpack.close();
      globalThis.removeEventListener("error", onError);
      globalThis.removeEventListener("unhandledrejection", onRejection);
    },
  };
}

type Ack = (...args: unknown[]) => void;

/** The handlers of one socket: client data goes where usual apps put it. */
function handlers(io: Server, socket: Socket): void {
  // A healthy client's echo, and anyone's: the arguments back through the ack.
  socket.on("echo", (...args: unknown[]) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
    else socket.emit("echo", ...args.slice(0, 4), ack);
  });
  socket.on("join", (room: unknown, ack?: Ack) => {
    socket.join(room as string);
    if (typeof ack === "function") ack([...socket.rooms].length);
  });
  socket.on("leave", (room: unknown) => socket.leave(room as string));
  socket.on("to", (room: unknown, msg: unknown) => socket.to(room as string).emit("msg", msg));
  socket.on("io-to", (room: unknown, msg: unknown) => io.to(room as string).emit("msg", msg));
  socket.on("except", (room: unknown, msg: unknown) => {
    socket.broadcast.except(room as string).emit("msg", msg);
  });
  socket.on("volatile", (msg: unknown) => socket.volatile.emit("msg", msg));
  // Acks the other way: the client may answer, late, twice, or never.
  socket.on("ask", (ms: unknown) => {
    const timeout = typeof ms === "number" && ms >= 0 && ms < 1000 ? ms : 200;
    socket.timeout(timeout).emit("question", 1, () => {});
    socket.emit("question", 2, () => {});
  });
  socket.on("ask-room", (room: unknown, ack?: Ack) => {
    io.to(room as string).timeout(300).emit("question", 3, (_err: unknown, answers: unknown) => {
      if (typeof ack === "function") ack(Array.isArray(answers) ? answers.length : -1);
    });
  });
  socket.on("fetch", async (room: unknown, ack?: Ack) => {
    const sockets = await io.in(room as string).fetchSockets();
    if (typeof ack === "function") ack(sockets.length);
  });
  socket.on("sockets-join", (room: unknown, other: unknown) => {
    io.in(room as string).socketsJoin(other as string);
  });
  socket.on("set-data", (data: unknown) => (socket.data = data));
  socket.on("rooms", (ack?: Ack) => {
    if (typeof ack === "function") ack([...socket.rooms].filter((r) => typeof r === "string"));
  });
  socket.on("ask-await", async (ms: unknown, ack?: Ack) => {
    const timeout = typeof ms === "number" && ms >= 0 && ms < 1000 ? ms : 100;
    const answer = await socket.timeout(timeout).emitWithAck("question", 4).catch(() => null);
    if (typeof ack === "function") ack(answer);
  });
  socket.on("kick", async (room: unknown) => {
    // Never the healthy clients (which `sockets-join` may have put in any room).
    for (const other of await io.in(room as string).fetchSockets()) {
      if (other.handshake.auth.healthy !== true) other.disconnect();
    }
  });
  socket.on("sockets-leave", (room: unknown) => io.socketsLeave(room as string));
  socket.on(
    "compress",
    (flag: unknown, msg: unknown) => socket.compress(flag === true).emit("msg", msg),
  );
  socket.on("bye", () => socket.disconnect());
  socket.on("bye-all", () => socket.disconnect(true));
  socket.use((_event, next) => next());
  socket.conn.on("packet", () => {});
  socket.conn.on("upgrade", () => {});
}

/** An error as text, with its stack, never throwing. */
function describe(err: unknown): string {
  try {
    if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
    return typeof err === "string" ? err : JSON.stringify(err) ?? String(err);
  } catch {
    return "(an error that cannot be shown)";
  }
}
