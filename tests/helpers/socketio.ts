/**
 * Socket.IO test fixtures: our server on a free port, official `socket.io-client@4.8.4`
 * clients over a chosen transport mode, and a teardown that leaves no timer or socket behind.
 *
 * @module
 */
import {
  io as officialIo,
  type ManagerOptions,
  type Socket as ClientSocket,
  type SocketOptions,
} from "socket.io-client";
import { type Namespace, Server, type ServerOptions, type Socket } from "../../mod.ts";
import { closedClientsIdle, trackedTransports } from "./official_transports.ts";
import { serve, type TestServer } from "./serve.ts";

export type { ClientSocket };

/**
 * The official client's `io()`, on its own transports kept track of (official_transports.ts),
 * so that {@linkcode settle} knows when a closed client has nothing left in flight.
 */
export const officialClient: typeof officialIo = Object.assign(
  (uri?: string | Partial<ManagerOptions & SocketOptions>, opts?: ClientOptions) => {
    if (typeof uri === "object") return officialIo(withTracked(uri));
    return officialIo(uri!, withTracked(opts ?? {}));
  },
  officialIo,
);

function withTracked(opts: ClientOptions): ClientOptions {
  const transports = trackedTransports(opts.transports) as ClientOptions["transports"];
  return { ...opts, transports };
}

/** How the official client reaches the server. */
export type Mode = "polling" | "websocket" | "upgrade";

/** Every mode: polling only, WebSocket only, polling upgraded to WebSocket. */
export const MODES: readonly Mode[] = ["polling", "websocket", "upgrade"];

/** Client options of the official client. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Anything with `once` (our server objects, the official client's emitters). */
interface Once {
  // deno-lint-ignore no-explicit-any
  once(ev: string, fn: (...args: any[]) => void): unknown;
}

/** Resolves with the arguments of the next `ev` of `emitter`. */
export function nextArgs<T extends unknown[] = unknown[]>(emitter: Once, ev: string): Promise<T> {
  return new Promise((resolve) => emitter.once(ev, (...args: unknown[]) => resolve(args as T)));
}

/** Resolves with the first argument of the next `ev` of `emitter`. */
export function next<T = unknown>(emitter: Once, ev: string): Promise<T> {
  return new Promise((resolve) => emitter.once(ev, (arg: T) => resolve(arg)));
}

/**
 * Waits until each socket's connection takes a packet at once, which a volatile packet needs:
 * over polling a poll is waiting, over WebSocket nothing sent is still on its way.
 */
export async function writable(...sockets: Socket[]): Promise<void> {
  while (!sockets.every((s) => s.conn.writable)) await delay(5);
}

/** Waits `ms` milliseconds (to let something that must NOT happen have its chance). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Socket.IO server on 127.0.0.1 with official clients. */
export class Fixture {
  /** Our server. */
  readonly io: Server;
  /** The HTTP server. */
  readonly http: TestServer;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The transport mode of the clients. */
  readonly mode: Mode;
  readonly #clients: ClientSocket[] = [];

  constructor(mode: Mode, opts: Partial<ServerOptions> = {}, io?: Server) {
    this.mode = mode;
    this.io = io ?? new Server(opts);
    this.http = serve(this.io.handler());
    this.url = this.http.origin;
  }

  /** Client options for the mode; no reconnection unless asked. */
  options(opts: ClientOptions = {}): ClientOptions {
    const transports = this.mode === "polling"
      ? ["polling"]
      : this.mode === "websocket"
      ? ["websocket"]
      : ["polling", "websocket"];
    return { transports, forceNew: true, reconnection: false, ...opts };
  }

  /** Creates a client of `nsp` (not waiting for it to connect). */
  client(nsp = "/", opts: ClientOptions = {}): ClientSocket {
    const socket = officialClient(this.url + nsp, this.options(opts));
    this.#clients.push(socket);
    return socket;
  }

  /** Tracks a socket created another way (`manager.socket(...)`), for teardown. */
  track(socket: ClientSocket): ClientSocket {
    this.#clients.push(socket);
    return socket;
  }

  /** Connects a client of `nsp`; in "upgrade" mode, also waits for the upgrade. */
  async connect(nsp = "/", opts: ClientOptions = {}): Promise<ClientSocket> {
    const socket = this.client(nsp, opts);
    await connected(socket);
    if (this.mode === "upgrade") await upgraded(socket);
    return socket;
  }

  /** Connects a client and returns it with its server-side socket. */
  async pair(nsp = "/", opts: ClientOptions = {}): Promise<[ClientSocket, Socket]> {
    const namespace: Namespace = this.io.of(nsp);
    const server = next<Socket>(namespace, "connection");
    const client = await this.connect(nsp, opts);
    const socket = await server;
    return [client, socket];
  }

  /** Disconnects every client, closes the server, and waits until nothing is left running. */
  async close(): Promise<void> {
    await closeClients(this.#clients);
    await this.serverSessionsClosed();
    await this.io.close();
    await this.http.close();
    await settle();
  }

  /** Resolves once the server has no Engine.IO session left. */
  async serverSessionsClosed(): Promise<void> {
    await Promise.all([...this.io.engine.clients.values()].map((s) => next(s, "close")));
  }
}

/**
 * Disconnects every client and resolves once each of their connections is closed (without what
 * is still in flight: {@linkcode settle} after it).
 */
export async function closeClients(clients: readonly ClientSocket[]): Promise<void> {
  const engines = new Set<ClientSocket["io"]["engine"]>();
  for (const socket of clients) {
    const engine = socket.io.engine;
    if (engine && engine.readyState !== "closed") engines.add(engine);
  }
  const closed = [...engines].map((e) => next(e, "close"));
  for (const socket of clients) {
    socket.disconnect();
    socket.io.engine?.close();
    // A manager waiting to reconnect would start a new engine later.
    (socket.io as unknown as { skipReconnect: boolean }).skipReconnect = true;
  }
  await Promise.all(closed);
}

/**
 * `promise`, or a rejection naming `what` when it has not settled within `ms`: a safety net so
 * that a broken test fails instead of hanging, never a timing assertion.
 */
export function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Which of `clients` receive `ev` (as `<index>:<args>`, sorted) while `act` runs. `act` ends by
 * having `marker` sent to the namespace: packets arrive in order, so once each of `markers` (all
 * of `clients` by default) has it, anything sent before has arrived too (each wait bounded).
 */
export async function receivedDuring(
  clients: ClientSocket[],
  act: () => void,
  markers: ClientSocket[] = clients,
  ev = "msg",
): Promise<string[]> {
  const got: string[] = [];
  const handlers = clients.map((c, i) => {
    const h = (...args: unknown[]) => got.push(`${i}:${args.join(",")}`);
    c.on(ev, h);
    return h;
  });
  const marked = markers.map((c) => within(next(c, "marker"), '"marker" event'));
  act();
  await Promise.all(marked);
  clients.forEach((c, i) => c.off(ev, handlers[i]));
  return got.sort();
}

/** Resolves when `socket` connects; rejects with its `connect_error`. */
export function connected(socket: ClientSocket): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.off("connect_error", reject);
      resolve();
    });
    socket.once("connect_error", reject);
  });
}

/** Resolves once the socket's connection runs over WebSocket. */
export async function upgraded(socket: ClientSocket): Promise<void> {
  const engine = socket.io.engine;
  if (engine.transport.name !== "websocket") await next(engine, "upgrade");
}

/**
 * Resolves once every closed official client has nothing left in flight: a closed client's last
 * requests end, each with a `setTimeout(0)` of xmlhttprequest-ssl, and its WebSocket's close
 * handshake finishes after it emits `close`; none of them may outlive the test.
 */
export function settle(): Promise<void> {
  return within(closedClientsIdle(), "end of the closed official clients' requests and sockets");
}

/**
 * Runs `fn` with a fixture in each mode, as one test per mode.
 *
 * @param name the test name (the mode is appended)
 * @param fn the test body
 * @param opts server options
 */
export function eachMode(
  name: string,
  fn: (fx: Fixture) => Promise<void>,
  opts: Partial<ServerOptions> | (() => Partial<ServerOptions>) = {},
): void {
  for (const mode of MODES) {
    Deno.test(`${name} [${mode}]`, async () => {
      const fx = new Fixture(mode, typeof opts === "function" ? opts() : opts);
      try {
        await fn(fx);
      } finally {
        await fx.close();
      }
    });
  }
}
