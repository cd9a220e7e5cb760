/**
 * A {@linkcode SessionForwarder} over any message bus between the nodes of a cluster: the node a
 * request lands on asks the cluster which node holds its session (once; the answer is kept),
 * then sends the request there and hands back that node's answer. A WebSocket upgrade is made
 * where it landed and its frames are relayed to the node of the session, which upgrades the
 * session onto that relay. Browser compatible.
 *
 * @module
 */
import type {
  ForwardCall,
  ForwardedAnswer,
  ForwardedRequest,
  ForwardedUpgrade,
  ForwardingHost,
  SessionForwarder,
} from "../engine/forwarding.ts";
import { readBody } from "../engine/polling.ts";
import { report } from "../runtime/report.ts";
import type { TimerHandle } from "../runtime/scheduler.ts";
import type { RawSocket, RawSocketEvents } from "../runtime/types.ts";

/**
 * The messages forwarders exchange, plain data (a bus carries them by structured clone or
 * msgpack). `id` names one forwarded request or one relayed WebSocket, cluster-wide (it starts
 * with its sender's node id); `from` is the sender's node id.
 */
export type ForwardMessage =
  /** A GET or POST for session `sid` (to its node, or to all when it is not known yet). */
  | { t: "req"; id: string; from: string; sid: string; req: ForwardedRequest }
  /** Session `sid` is here (a request sent to all): its answer follows. */
  | { t: "own"; id: string; from: string }
  /** Session `sid` is not here. */
  | { t: "miss"; id: string; from: string }
  /** The answer to a request. */
  | { t: "res"; id: string; from: string; ans: ForwardedAnswer }
  /** The client of a forwarded request went away. */
  | { t: "abort"; id: string; from: string }
  /** A WebSocket of session `sid` landed at `from`: the session's node takes it. */
  | { t: "ws"; id: string; from: string; sid: string; up: ForwardedUpgrade }
  /** The session took the WebSocket (`ok`), or cannot upgrade now (`no`). */
  | { t: "wsok" | "wsno"; id: string; from: string }
  /** A frame of a relayed WebSocket, either way. */
  | { t: "wsf"; id: string; from: string; d: string | Uint8Array }
  /** A relayed WebSocket closes, either way. */
  | { t: "wsc"; id: string; from: string; code: number; reason: string }
  /** Is the node alive? (asked of a node that holds a request and was silent a while) */
  | { t: "ping"; id: string; from: string }
  /** It is. */
  | { t: "pong"; id: string; from: string };

/**
 * How forwarders reach each other: one per node. Messages from one node to another arrive in the
 * order they were sent.
 */
export interface ForwardBus {
  /** This node's id, unique in the cluster. */
  readonly id: string;
  /** Starts receiving: what is sent to this node, and to all, goes to `receive`. */
  open(receive: (message: ForwardMessage) => void): Promise<void>;
  /** Sends to every other node; resolves with how many received it, where the bus knows. */
  broadcast(message: ForwardMessage): Promise<number | undefined>;
  /** Sends to node `to`. */
  send(to: string, message: ForwardMessage): void;
  /** Stops receiving and releases the bus. */
  close(): Promise<void>;
}

/** Options of a forwarder. */
export interface ForwarderOptions {
  /**
   * How long, in milliseconds, the node a request landed on waits for the cluster to say which
   * node holds its session, when some node neither says it does nor that it does not (a node
   * gone without a word). Default: 5000.
   */
  locateTimeout?: number;
  /**
   * How long, in milliseconds, a node that holds a forwarded request may stay silent before it
   * counts as gone (killed, frozen): its requests are then answered `Session ID unknown`, and its
   * clients reconnect. Such a node is asked whether it is alive after a quarter of it. Default:
   * 5000.
   */
  nodeTimeout?: number;
}

/** What one forwarded request waits for. */
interface Pending {
  readonly sid: string;
  /** The session's node, once known. */
  owner: string | undefined;
  /** Whether it went to a node known beforehand (a `miss` then means the session is gone). */
  readonly direct: boolean;
  /** How many nodes got it (sent to all), once the bus said. */
  expected: number | undefined;
  misses: number;
  timer: TimerHandle;
  /** How long it may wait once its node is known. */
  readonly hold: number;
  settle(outcome: ForwardedAnswer | "ok" | "no" | undefined): void;
}

/** One end of a relayed WebSocket. */
type Relay =
  /** Where the WebSocket is (the node the upgrade landed on). */
  | { readonly side: "socket"; readonly peer: string; readonly socket: RawSocket }
  /** Where the session is. */
  | { readonly side: "session"; readonly peer: string; readonly events: RawSocketEvents };

/** The most sessions whose node is kept in each of the two generations of the cache. */
const OWNERS_KEPT = 50_000;

/** The answer to a client that went away: nobody reads it. */
const GONE: ForwardedAnswer = { status: 400, headers: [], body: null };

/**
 * Forwards the requests of sessions that other nodes hold, over a {@linkcode ForwardBus}; the
 * engine option `forwarder`. `createBroadcastChannelForwarder()` and `createRedisForwarder()`
 * make one on their bus.
 *
 * @example A forwarder on a bus of one's own
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 * import { ClusterForwarder } from "@socketio-edge/core/cluster";
 *
 * const io = new Server({ forwarder: new ClusterForwarder(myBus) });
 * ```
 */
export class ClusterForwarder implements SessionForwarder {
  readonly #bus: ForwardBus;
  readonly #locateTimeout: number;
  readonly #nodeTimeout: number;
  /** When each node was last heard from. */
  readonly #heard = new Map<string, number>();
  /** Nodes gone silent while they held a request: not asked again until heard from. */
  readonly #silent = new Set<string>();
  #watchdog: TimerHandle;
  #host: ForwardingHost | undefined;
  #opened: Promise<void> | undefined;
  #closed = false;
  #seq = 0;
  readonly #pending = new Map<string, Pending>();
  /** What to call when the client of a request served here goes away, by request id. */
  readonly #served = new Map<string, () => void>();
  readonly #relays = new Map<string, Relay>();
  // Which node holds a session, in two generations (the older dropped whole when the newer
  // fills up): a bounded cache that costs no bookkeeping per lookup.
  #owners = new Map<string, string>();
  #olderOwners = new Map<string, string>();

  /**
   * Makes a forwarder on `bus`; it starts receiving when an engine binds it.
   *
   * @param bus how the nodes reach each other
   * @param options timings
   */
  constructor(bus: ForwardBus, options: ForwarderOptions = {}) {
    this.#bus = bus;
    this.#locateTimeout = options.locateTimeout ?? 5_000;
    this.#nodeTimeout = options.nodeTimeout ?? 5_000;
  }

  /** This node's id on the bus. */
  get id(): string {
    return this.#bus.id;
  }

  /**
   * Takes the engine of this node and starts receiving (called by the engine, once).
   *
   * @param host the engine
   * @throws Error when bound to a second engine
   */
  bind(host: ForwardingHost): void {
    if (this.#host !== undefined && this.#host !== host) {
      throw new Error("forwarder: one forwarder serves one engine; make one per server");
    }
    this.#host = host;
    this.#opened ??= this.#bus.open((message) => {
      try {
        this.#receive(message);
      } catch (err) {
        report(err); // never thrown to the bus, whose callback it runs in
      }
    });
    this.#opened.catch(report);
  }

  /**
   * Carries a request for a session of another node there, and its answer back.
   *
   * @param call the request, as the engine hands it over
   * @returns the answer of the session's node, or undefined when no node holds the session
   */
  async forward(call: ForwardCall): Promise<Response | undefined> {
    const host = this.#host;
    if (host === undefined || this.#closed) return undefined;
    try {
      await this.#opened;
    } catch {
      return undefined;
    }
    const { req, url } = call;
    if (call.upgrade) return this.#forwardUpgrade(call, host);
    let body: Uint8Array | string | undefined;
    if (req.method === "POST") {
      // Read here within the engine's limit, as the session's node would read it.
      const read = await readBody(req, host.opts.maxHttpBufferSize);
      if (!(read instanceof Uint8Array)) {
        call.headers.set("Content-Type", "text/html");
        return new Response(null, { status: read.status, headers: call.headers });
      }
      body = read;
      if (req.headers.get("content-type") !== "application/octet-stream") {
        try {
          body = STRICT_UTF8.decode(read);
        } catch {
          // Left as bytes: the session's node refuses them as it would.
        }
      }
    }
    const fwd: ForwardedRequest = {
      method: req.method,
      url: url.pathname + url.search,
      headers: [...req.headers],
      address: call.address,
      body,
    };
    const id = this.#nextId();
    const [outcome] = await this.#ask(
      id,
      call.sid,
      { t: "req", id, from: this.#bus.id, sid: call.sid, req: fwd },
      call,
      host.opts.pingInterval + host.opts.pingTimeout + this.#locateTimeout,
    );
    if (typeof outcome !== "object") return undefined;
    return toResponse(outcome, call.headers);
  }

  /** Sends a request (to its node when known, else to all) and waits for what settles it. */
  #ask(
    id: string,
    sid: string,
    message: ForwardMessage,
    call: ForwardCall,
    holdTimeout: number,
  ): Promise<[ForwardedAnswer | "ok" | "no" | undefined, string | undefined]> {
    const timers = this.#host!.opts.scheduler;
    const known = this.#ownerOf(sid);
    return new Promise((resolve) => {
      const pending: Pending = {
        sid,
        owner: known,
        direct: known !== undefined,
        expected: undefined,
        misses: 0,
        timer: undefined,
        hold: holdTimeout,
        settle: (outcome) => {
          if (this.#pending.get(id) !== pending) return;
          this.#pending.delete(id);
          timers.clear(pending.timer);
          if (outcome === undefined && pending.direct) this.#forget(sid);
          resolve([outcome, pending.owner]);
        },
      };
      this.#pending.set(id, pending);
      this.#armWatchdog();
      // No answer in time: the session's node is gone (or was never found).
      pending.timer = timers.set(
        () => pending.settle(undefined),
        known === undefined ? this.#locateTimeout : holdTimeout,
      );
      if (message.t === "req") {
        // The client leaves: its request is let go where it is served.
        const gone = () => {
          if (this.#pending.get(id) !== pending) return;
          if (pending.owner !== undefined) {
            this.#bus.send(pending.owner, { t: "abort", id, from: this.#bus.id });
          }
          pending.settle(GONE);
        };
        // Where the runtime cannot tell (Deno), the session's node holds the poll until it has
        // something to send: what it sends then is lost with the client, which is gone anyway.
        call.onDisconnect(gone);
      }
      if (known !== undefined) {
        this.#bus.send(known, message);
        return;
      }
      this.#bus.broadcast(message).then((count) => {
        if (count === undefined || this.#pending.get(id) !== pending) return;
        pending.expected = count;
        this.#checkMisses(pending);
      }, (err) => {
        report(err);
        pending.settle(undefined);
      });
    });
  }

  async #forwardUpgrade(call: ForwardCall, host: ForwardingHost): Promise<Response | undefined> {
    const id = this.#nextId();
    let owner: string | undefined;
    // The client's frames, once upgraded, go to the session's node.
    const events: RawSocketEvents = {
      onMessage: (d) => {
        if (owner !== undefined) this.#bus.send(owner, { t: "wsf", id, from: this.#bus.id, d });
      },
      onClose: (code, reason) => {
        if (this.#relays.get(id) === undefined || owner === undefined) return;
        this.#relays.delete(id);
        this.#bus.send(owner, { t: "wsc", id, from: this.#bus.id, code, reason });
      },
      onError: () => {},
    };
    const up: ForwardedUpgrade = {
      url: call.url.pathname + call.url.search,
      headers: [...call.req.headers],
      address: call.address,
    };
    const [outcome, node] = await this.#ask(
      id,
      call.sid,
      { t: "ws", id, from: this.#bus.id, sid: call.sid, up },
      call,
      host.opts.pingTimeout + this.#locateTimeout,
    );
    if (outcome === undefined || typeof outcome === "object") return undefined;
    owner = node;
    const upgraded = call.upgrade!(events);
    if (outcome === "no" || upgraded.socket === undefined || owner === undefined) {
      if (outcome === "ok" && owner !== undefined) {
        this.#bus.send(owner, { t: "wsc", id, from: this.#bus.id, code: 1006, reason: "" });
      }
      // Accepted, then closed at once, as a session that cannot upgrade closes it.
      upgraded.socket?.close();
      return upgraded.response;
    }
    this.#relays.set(id, { side: "socket", peer: owner, socket: upgraded.socket });
    this.#armWatchdog();
    return upgraded.response;
  }

  /**
   * While requests wait for other nodes or WebSockets are relayed, checks a quarter of
   * `nodeTimeout` after another that the nodes at their other end still speak: a silent one is
   * asked, and one silent for `nodeTimeout` is gone (its requests are answered, its relayed
   * WebSockets closed, as a node's own connections drop when it dies).
   */
  #armWatchdog(): void {
    if (this.#watchdog !== undefined) return;
    const timers = this.#host!.opts.scheduler;
    const every = this.#nodeTimeout / 4;
    this.#watchdog = timers.set(() => {
      this.#watchdog = undefined;
      if (this.#closed) return;
      const now = timers.now();
      const asked = new Set<string>();
      // Whether `node` is gone; asks it when it has been silent a while.
      const gone = (node: string) => {
        const heard = this.#heard.get(node);
        if (heard === undefined) {
          this.#heard.set(node, now);
          return false;
        }
        if (now - heard >= this.#nodeTimeout) {
          this.#silent.add(node);
          return true;
        }
        if (now - heard >= every && !asked.has(node)) {
          asked.add(node);
          this.#bus.send(node, { t: "ping", id: "", from: this.#bus.id });
        }
        return false;
      };
      for (const pending of [...this.#pending.values()]) {
        if (pending.owner !== undefined && gone(pending.owner)) pending.settle(undefined);
      }
      for (const [id, relay] of [...this.#relays]) {
        if (!gone(relay.peer)) continue;
        this.#relays.delete(id);
        if (relay.side === "socket") relay.socket.close(1011, "session node gone");
        else relay.events.onClose(1006, "");
      }
      if (this.#pending.size !== 0 || this.#relays.size !== 0) this.#armWatchdog();
    }, every);
  }

  #receive(m: ForwardMessage): void {
    if (this.#closed || typeof m !== "object" || m === null || m.from === this.#bus.id) return;
    const host = this.#host;
    if (host === undefined) return;
    this.#heard.set(m.from, host.opts.scheduler.now());
    this.#silent.delete(m.from);
    switch (m.t) {
      case "ping":
        this.#bus.send(m.from, { t: "pong", id: "", from: this.#bus.id });
        return;
      case "pong":
        return;
      case "req": {
        const served = host.serveForwarded(m.sid, m.req, (gone) => this.#served.set(m.id, gone));
        if (served === undefined) {
          this.#bus.send(m.from, { t: "miss", id: m.id, from: this.#bus.id });
          return;
        }
        // Sent to all: the node it landed on learns at once that the session is here.
        this.#bus.send(m.from, { t: "own", id: m.id, from: this.#bus.id });
        served.then((ans) => {
          this.#served.delete(m.id);
          this.#bus.send(m.from, { t: "res", id: m.id, from: this.#bus.id, ans });
        }).catch(report);
        return;
      }
      case "own": {
        const pending = this.#pending.get(m.id);
        if (pending === undefined) return;
        this.#found(pending, m.from);
        // Now held as long as the session's node may hold it.
        const timers = host.opts.scheduler;
        timers.clear(pending.timer);
        pending.timer = timers.set(() => pending.settle(undefined), pending.hold);
        return;
      }
      case "miss": {
        const pending = this.#pending.get(m.id);
        if (pending === undefined) return;
        if (pending.direct) pending.settle(undefined);
        else {
          pending.misses++;
          this.#checkMisses(pending);
        }
        return;
      }
      case "res": {
        const pending = this.#pending.get(m.id);
        if (pending === undefined) return;
        this.#found(pending, m.from);
        pending.settle(m.ans);
        return;
      }
      case "abort":
        this.#served.get(m.id)?.();
        this.#served.delete(m.id);
        return;
      case "ws": {
        if (!host.has(m.sid)) {
          this.#bus.send(m.from, { t: "miss", id: m.id, from: this.#bus.id });
          return;
        }
        const events = host.adoptWebSocket(m.sid, m.up, this.#relaySocket(m.id, m.from));
        if (events === undefined) {
          this.#bus.send(m.from, { t: "wsno", id: m.id, from: this.#bus.id });
          return;
        }
        this.#relays.set(m.id, { side: "session", peer: m.from, events });
        this.#armWatchdog();
        this.#bus.send(m.from, { t: "wsok", id: m.id, from: this.#bus.id });
        return;
      }
      case "wsok":
      case "wsno": {
        const pending = this.#pending.get(m.id);
        if (pending === undefined) {
          // Too late (the upgrade timed out here): the session lets the relay go.
          if (m.t === "wsok") {
            this.#bus.send(m.from, {
              t: "wsc",
              id: m.id,
              from: this.#bus.id,
              code: 1006,
              reason: "",
            });
          }
          return;
        }
        this.#found(pending, m.from);
        pending.settle(m.t === "wsok" ? "ok" : "no");
        return;
      }
      case "wsf": {
        const relay = this.#relays.get(m.id);
        if (relay === undefined || relay.peer !== m.from) return;
        if (relay.side === "socket") relay.socket.send(m.d);
        else relay.events.onMessage(m.d);
        return;
      }
      case "wsc": {
        const relay = this.#relays.get(m.id);
        if (relay === undefined || relay.peer !== m.from) return;
        this.#relays.delete(m.id);
        if (relay.side === "socket") relay.socket.close(m.code === 1006 ? 1000 : m.code, m.reason);
        else relay.events.onClose(m.code, m.reason);
        return;
      }
    }
  }

  /** The session's end of a relayed WebSocket: what it sends goes to the socket's node. */
  #relaySocket(id: string, peer: string): RawSocket {
    const bus = this.#bus;
    const relays = this.#relays;
    return {
      // Unknown here: what the socket's node holds is not counted back.
      bufferedAmount: 0,
      send(d) {
        if (relays.has(id)) bus.send(peer, { t: "wsf", id, from: bus.id, d });
      },
      close(code = 1000, reason = "") {
        if (!relays.delete(id)) return;
        bus.send(peer, { t: "wsc", id, from: bus.id, code, reason });
      },
    };
  }

  #checkMisses(pending: Pending): void {
    // Every other node said no: the session is nowhere.
    if (
      pending.owner === undefined && pending.expected !== undefined &&
      pending.misses >= pending.expected
    ) pending.settle(undefined);
  }

  #found(pending: Pending, node: string): void {
    pending.owner = node;
    if (this.#owners.get(pending.sid) === node) return;
    if (this.#owners.size >= OWNERS_KEPT) {
      this.#olderOwners = this.#owners;
      this.#owners = new Map();
    }
    this.#owners.set(pending.sid, node);
  }

  #ownerOf(sid: string): string | undefined {
    const node = this.#owners.get(sid) ?? this.#olderOwners.get(sid);
    if (node === undefined || !this.#silent.has(node)) return node;
    // Gone silent: asked anew, the live nodes say at once that they do not have it.
    this.#forget(sid);
    return undefined;
  }

  #forget(sid: string): void {
    this.#owners.delete(sid);
    this.#olderOwners.delete(sid);
  }

  #nextId(): string {
    return `${this.#bus.id}:${++this.#seq}`;
  }

  /**
   * Stops forwarding: requests waiting for another node are answered (`Session ID unknown`),
   * relayed WebSockets are closed, and the bus is released.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#host?.opts.scheduler.clear(this.#watchdog);
    for (const pending of [...this.#pending.values()]) pending.settle(undefined);
    for (const [id, relay] of [...this.#relays]) {
      this.#relays.delete(id);
      if (relay.side === "socket") relay.socket.close(1001, "server closed");
      else relay.events.onClose(1001, "server closed");
      this.#bus.send(relay.peer, { t: "wsc", id, from: this.#bus.id, code: 1001, reason: "" });
    }
    this.#served.clear();
    await this.#opened?.catch(() => {});
    await this.#bus.close();
  }
}

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The session node's answer as this node's `Response`, with the headers it had so far. */
function toResponse(ans: ForwardedAnswer, headers: Headers): Response {
  for (const [name, value] of ans.headers) {
    if (name === "set-cookie") headers.append(name, value);
    else headers.set(name, value);
  }
  return new Response(ans.body as BodyInit | null, { status: ans.status, headers });
}
