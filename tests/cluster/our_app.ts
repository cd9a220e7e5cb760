/**
 * The app and control API (control.ts) of our cluster nodes, on our `Server` with a given
 * adapter, served on a 127.0.0.1 port of its own: run by a process (our_node.ts) or a Worker
 * (worker_node.ts). The official node (tests/fixtures/official_cluster_app.mjs) runs the same.
 *
 * @module
 */
import {
  type AdapterConstructor,
  type Namespace,
  Server,
  type ServerOptions,
  type Socket,
} from "../../mod.ts";
import type { SessionForwarder } from "../../server/engine/mod.ts";
import {
  type AckResult,
  decodeValue,
  encodeValue,
  type ObservedEvent,
  type Op,
  type Selection,
  type SocketInfo,
} from "./control.ts";
import type { RedisClientKind } from "./redis_clients.ts";

/** What the test starts a node with. */
export interface NodeConfig {
  /** The node's name, in its acks. */
  name: string;
  /** An adapter name: of our_adapters.ts here, "classic" / "sharded" / "streams" officially. */
  adapter: string;
  /** The Redis client, when the cluster has a Redis. */
  client?: RedisClientKind;
  /** `redis://127.0.0.1:<port>`, when the cluster has a Redis. */
  redisUrl?: string;
  /** Options of the adapter (e.g. `requestsTimeout`). */
  adapterOptions?: Record<string, unknown>;
  /** Options of the server (JSON). */
  serverOptions?: Partial<ServerOptions>;
  /**
   * Whether the node forwards the requests of other nodes' sessions (no sticky sessions): over
   * Redis where the cluster has one, else over BroadcastChannel.
   */
  forward?: boolean;
}

/** A node's app, listening. */
export interface RunningApp {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Closes the server (and so the adapters), then stops listening. */
  close(): Promise<void>;
}

// Just what this script uses of Bun's globals, so that `deno check` accepts the file.
declare const Bun:
  | { serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): void } }
  | undefined;

/** The namespaces of the app: created at start, so that every node's adapter listens. */
const NAMESPACES = ["/", "/custom"];

/** Starts the app of `config` on our server with `adapter`, listening. */
export function startApp(
  config: NodeConfig,
  adapter: AdapterConstructor,
  forwarder?: SessionForwarder,
): RunningApp {
  const io = new Server({ ...config.serverOptions, adapter, forwarder });

  // --- the app (as the official node's) ---------------------------------------------------------

  let observed: ObservedEvent[] = [];
  let answerServerSide = true;

  // deno-lint-ignore no-explicit-any
  type AnyNamespace = Namespace<any, any, any, any>;
  // deno-lint-ignore no-explicit-any
  type AnyOperator = any;

  function setup(nsp: AnyNamespace): void {
    nsp.on("connection", (socket: Socket) => {
      const auth = (socket.handshake.auth ?? {}) as { rooms?: unknown; data?: unknown };
      if (Array.isArray(auth.rooms)) socket.join(auth.rooms);
      if (auth.data !== undefined) socket.data = auth.data;
      socket.on(
        "whoami",
        (cb: (v: unknown) => void) =>
          cb({ node: config.name, id: socket.id, rooms: [...socket.rooms], data: socket.data }),
      );
      socket.on("echo", (...args: unknown[]) => (args.pop() as (...a: unknown[]) => void)(...args));
    });
    const on = nsp.on.bind(nsp) as (ev: string, fn: (...args: unknown[]) => void) => void;
    on("sse", (...args) => {
      observed.push({ nsp: nsp.name, ev: "sse", args: encodeValue(args) as unknown[] });
    });
    on("sse-ack", (...args) => {
      const cb = args.pop() as (v: unknown) => void;
      observed.push({ nsp: nsp.name, ev: "sse-ack", args: encodeValue(args) as unknown[] });
      if (answerServerSide) cb({ node: config.name, args: encodeValue(args) });
    });
  }
  for (const name of NAMESPACES) setup(io.of(name));

  // --- the control API --------------------------------------------------------------------------

  function target(nsp: AnyNamespace, req: Selection): AnyOperator {
    let op: AnyOperator = nsp;
    if (req.rooms?.length) op = op.to(req.rooms);
    if (req.except?.length) op = op.except(req.except);
    if (req.volatile) op = op.volatile;
    if (req.local) op = op.local;
    return op;
  }

  function describe(nsp: AnyNamespace, socket: {
    id: string;
    rooms: Iterable<string>;
    data: unknown;
    handshake: { auth: Record<string, unknown>; address: string };
  }): SocketInfo {
    return {
      id: socket.id,
      rooms: [...socket.rooms].sort(),
      data: socket.data ?? null,
      auth: socket.handshake.auth,
      address: socket.handshake.address,
      remote: !nsp.sockets.has(socket.id),
    };
  }

  function withAck(emit: (cb: (err: Error | null, responses: unknown) => void) => void) {
    return new Promise<AckResult>((resolve) => {
      emit((err, responses) =>
        resolve({
          err: err ? err.message : null,
          responses: encodeValue(responses ?? []) as unknown[],
        })
      );
    });
  }

  const args = (a: unknown[] | undefined) => decodeValue(a ?? []) as unknown[];

  async function run(req: Op): Promise<unknown> {
    const nsp = io.of((req as { nsp?: string }).nsp ?? "/") as AnyNamespace;
    switch (req.op) {
      case "emit":
        target(nsp, req).emit(req.ev, ...args(req.args));
        return {};
      case "emitWithAck":
        return withAck((cb) =>
          target(nsp, req).timeout(req.timeout).emit(req.ev, ...args(req.args), cb)
        );
      case "fetchSockets": {
        const op = req.timeout ? target(nsp, req).timeout(req.timeout) : target(nsp, req);
        const sockets = await op.fetchSockets();
        return {
          sockets: sockets.map((s: Parameters<typeof describe>[1]) => describe(nsp, s)).sort((
            a: SocketInfo,
            b: SocketInfo,
          ) => (a.id < b.id ? -1 : 1)),
        };
      }
      case "socketsJoin":
        target(nsp, req).socketsJoin(req.room);
        return {};
      case "socketsLeave":
        target(nsp, req).socketsLeave(req.room);
        return {};
      case "disconnectSockets":
        target(nsp, req).disconnectSockets(req.close ?? false);
        return {};
      case "remoteSocket": {
        const socket = (await nsp.fetchSockets()).find((s: { id: string }) => s.id === req.id) as
          | AnyOperator
          | undefined;
        if (!socket) return { found: false };
        switch (req.action) {
          case "emit":
            socket.emit(req.ev, ...args(req.args));
            return { found: true };
          case "emitWithAck":
            // One socket: the ack gets its single response, as with socket.emit().
            return await new Promise((resolve) => {
              socket.timeout(req.timeout).emit(
                req.ev,
                ...args(req.args),
                (err: Error | null, response: unknown) =>
                  resolve({
                    found: true,
                    err: err ? err.message : null,
                    response: encodeValue(response),
                  }),
              );
            });
          case "join":
            socket.join(req.room);
            return { found: true };
          case "leave":
            socket.leave(req.room);
            return { found: true };
          case "disconnect":
            socket.disconnect(req.close ?? false);
            return { found: true };
        }
        throw new Error(`unknown action ${(req as { action: string }).action}`);
      }
      case "serverSideEmit":
        nsp.serverSideEmit(req.ev, ...args(req.args));
        return {};
      case "serverSideEmitWithAck":
        return withAck((cb) => (nsp.serverSideEmit as AnyOperator)(req.ev, ...args(req.args), cb));
      case "serverCount":
        return { count: await nsp.adapter.serverCount() };
      case "observed": {
        const events = observed;
        observed = [];
        return { events };
      }
      case "configure":
        if (typeof req.answerServerSide === "boolean") answerServerSide = req.answerServerSide;
        return {};
      case "emitter":
        throw new Error("the emitter runs on official nodes only");
    }
    throw new Error(`unknown op ${(req as { op: string }).op}`);
  }

  async function control(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname !== "/control" || req.method !== "POST") {
      return new Response("not found", { status: 404 });
    }
    try {
      return Response.json(await run(await req.json()));
    } catch (err) {
      return Response.json({ error: err instanceof Error ? err.message : String(err) }, {
        status: 500,
      });
    }
  }

  // --- the serve line of each runtime ---------------------------------------------------------

  if (typeof Bun !== "undefined") {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, ...io.handler(control) });
    return {
      port: server.port,
      async close() {
        await io.close();
        server.stop(true);
      },
    };
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, io.handler(control));
  return {
    port: server.addr.port,
    async close() {
      await io.close();
      await server.shutdown();
    },
  };
}
