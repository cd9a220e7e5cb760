/**
 * What survives a Durable Object's hibernation: every WebSocket session, with its sockets.
 *
 * workerd keeps a hibernatable WebSocket open while the object's memory goes, with a small
 * attachment (`serializeAttachment`, at most 2 KiB). Each session's attachment holds what
 * changes with its heartbeat (id, protocol, when its round started); the object's storage holds
 * the rest: its handshake request once, and one record per socket (id, pid, auth, `data`,
 * rooms), written when it changes. When the object wakes, the sessions and their sockets are
 * restored before any event is delivered.
 *
 * Keys: `sio\0r\0<sid>` (request), `sio\0s\0<sid>\0<namespace>` (socket), `sio\0acks` (the ack
 * id floor).
 *
 * When is a socket saved: when it connects, joins or leaves a room (through any API: the
 * adapter reports it), and within 100 ms of each message of its connection, when its record
 * changed (compared as JSON); the ack id floor after each event of the object. A change made to
 * `socket.data` later than that (after an `await` that outlives the event) is saved with the
 * socket's next event.
 *
 * @module
 */
import type { Adapter } from "../adapter/adapter.ts";
import type { EngineSocket } from "../server/engine/session.ts";
import type { RequestSnapshot } from "../server/engine/request.ts";
import type { Namespace } from "../server/namespace.ts";
import {
  ackIdFloor,
  restoreConnection,
  resumeAckIds,
  snapshotSocket,
  type SocketSnapshot,
} from "../server/restore.ts";
import { report } from "../server/runtime/report.ts";
import type { WorkersRuntime, WorkersSocket } from "../server/runtime/workers.ts";
import type { Server } from "../server/server.ts";
import type { Socket } from "../server/socket.ts";
import type { DurableObjectStateLike, WorkerdWebSocket } from "./types.ts";

const PREFIX = "sio\0";
const REQUEST = PREFIX + "r\0";
const SOCKET = PREFIX + "s\0";
const ACKS = PREFIX + "acks";
/** Ack ids reserved at a time: the floor is written once per this many acks. */
const ACK_BLOCK = 1024;
/**
 * How long the records that a message may have changed (its sockets' `data`) wait to be saved,
 * so that a busy connection is compared once per this, not once per message. A pending timer
 * keeps the object in memory: nothing is lost meanwhile, and hibernation waits this much more.
 */
const BATCH_MS = 100;
/** Keys per storage call, workerd's limit. */
const BATCH = 128;

/** What a session's WebSocket carries through hibernation. */
interface Attachment {
  /** The format. */
  v: 1;
  id: string;
  protocol: number;
  upgraded: boolean;
  beat: number;
}

/** A session of the engine, and its sockets by namespace. */
interface Tracked {
  session: EngineSocket;
  sockets: Map<string, Socket>;
  /** Its WebSocket, once the session is on one: from then on it is kept. */
  socket?: WorkersSocket;
  /** Whether a message came since the last flush (its sockets are compared then). */
  touched: boolean;
}

function socketKey(sid: string, nsp: string): string {
  return SOCKET + sid + "\0" + nsp;
}

function isAttachment(v: unknown): v is Attachment {
  const a = v as Attachment | null;
  return typeof a === "object" && a !== null && a.v === 1 && typeof a.id === "string" &&
    typeof a.protocol === "number" && typeof a.beat === "number";
}

/** JSON of a record, to tell whether it changed; undefined when it has no JSON (always write). */
function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The request as storage can keep it: what middleware attached is kept where it can be. */
function storableRequest(req: RequestSnapshot): RequestSnapshot {
  const out: RequestSnapshot = {
    method: req.method,
    url: req.url,
    headers: req.headers,
    query: req.query,
    address: req.address,
    secure: req.secure,
  };
  for (const key of Object.keys(req)) {
    if (key in out) continue;
    try {
      out[key] = structuredClone(req[key]);
    } catch {
      // a function, a class instance holding one: it cannot outlive the process
    }
  }
  return out;
}

/** Keeps and restores the WebSocket sessions of one Durable Object's server. */
export class Hibernation {
  readonly #ctx: DurableObjectStateLike;
  readonly #io: Server;
  readonly #runtime: WorkersRuntime;
  readonly #sessions = new Map<string, Tracked>();
  readonly #byWs = new WeakMap<object, Tracked>();
  /** Sockets whose records to write (or delete, once the socket left). */
  readonly #dirty = new Set<Socket>();
  /** Sessions that had messages since the last flush: their sockets are dirty then. */
  readonly #touched: Tracked[] = [];
  /** What was written last under each socket key, as JSON. */
  readonly #written = new Map<string, string | undefined>();
  readonly #adapters = new WeakSet<Adapter>();
  #ackFloor = 0;
  /** The pending flush: 0 ms (a change known), BATCH_MS (only messages), or none. */
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #flushSoon = false;

  /**
   * Starts following `io`'s sessions; call {@linkcode Hibernation.restore} next, once.
   *
   * @param ctx the Durable Object's state
   * @param io the server, set up by the application
   * @param runtime its runtime, hibernating
   */
  constructor(ctx: DurableObjectStateLike, io: Server, runtime: WorkersRuntime) {
    this.#ctx = ctx;
    this.#io = io;
    this.#runtime = runtime;
    io.engine.on("connection", (session) => this.#track(session));
    for (const nsp of io._nsps.values()) this.#watchAdapter(nsp);
    io.sockets.on("new_namespace", (nsp) => this.#watchAdapter(nsp as unknown as Namespace));
  }

  /** Restores the sessions kept by an earlier process; stale records are deleted. */
  async restore(): Promise<void> {
    const stored = await this.#ctx.storage.list({ prefix: PREFIX });
    this.#ackFloor = Number(stored.get(ACKS) ?? 0);
    const found: { ws: WorkerdWebSocket; att: Attachment; request: RequestSnapshot }[] = [];
    for (const ws of this.#ctx.getWebSockets()) {
      let att: unknown;
      try {
        att = ws.deserializeAttachment();
      } catch {
        att = undefined;
      }
      const request = isAttachment(att)
        ? stored.get(REQUEST + att.id) as RequestSnapshot | undefined
        : undefined;
      if (request === undefined) {
        // An upgrade that had not completed, or a session whose records are gone: the client
        // reconnects.
        this.#runtime.adopt(ws).close(1011, "session lost");
        continue;
      }
      found.push({ ws, att: att as Attachment, request });
    }
    // The heartbeat takes restored sessions in the order of their deadlines.
    found.sort((a, b) => a.att.beat - b.att.beat);
    const live = new Set<string>([ACKS]);
    const socketsOf = new Map<string, [string, SocketSnapshot][]>();
    for (const [key, value] of stored) {
      if (!key.startsWith(SOCKET)) continue;
      const sid = key.slice(SOCKET.length, key.indexOf("\0", SOCKET.length));
      let list = socketsOf.get(sid);
      if (list === undefined) socketsOf.set(sid, list = []);
      list.push([key, value as SocketSnapshot]);
    }
    for (const { ws, att, request } of found) {
      const raw = this.#runtime.adopt(ws);
      const restored = this.#io.engine.restore({
        id: att.id,
        protocol: att.protocol,
        request,
        upgraded: att.upgraded,
        beat: att.beat,
      }, raw);
      if (restored === undefined) continue; // its heartbeat ran out meanwhile: closed
      this.#runtime.route(raw, restored.events);
      const tracked = this.#track(restored.session);
      this.#keep(tracked, raw, false);
      live.add(REQUEST + att.id);
      const sockets = socketsOf.get(att.id) ?? [];
      for (const [key, snapshot] of sockets) {
        live.add(key);
        this.#written.set(key, jsonOf(snapshot));
      }
      await restoreConnection(this.#io, restored.session, sockets.map(([, s]) => s));
    }
    resumeAckIds(this.#io, this.#ackFloor);
    const stale = [...stored.keys()].filter((key) => !live.has(key));
    for (let i = 0; i < stale.length; i += BATCH) {
      this.#ctx.storage.delete(stale.slice(i, i + BATCH)).catch(report);
    }
  }

  /**
   * Something happened in the object (a message on `ws`, a request, the alarm): the sockets of
   * `ws`'s session may have changed, and so may the ack ids; both are saved shortly.
   */
  touched(ws?: WorkerdWebSocket): void {
    if (ws !== undefined) {
      // Once per session per flush, however many messages: the hot path only sets a flag.
      const tracked = this.#byWs.get(ws);
      if (tracked !== undefined && !tracked.touched) {
        tracked.touched = true;
        this.#touched.push(tracked);
      }
    }
    this.#queueFlush(false);
  }

  #track(session: EngineSocket): Tracked {
    const tracked: Tracked = { session, sockets: new Map(), touched: false };
    this.#sessions.set(session.id, tracked);
    if (session.transport.name === "websocket") this.#keepOnWebSocket(tracked);
    else session.once("upgrade", () => this.#keepOnWebSocket(tracked));
    session.on("heartbeat", () => tracked.socket?.attach(this.#attachment(session)));
    session.once("close", () => this.#forget(tracked));
    return tracked;
  }

  #keepOnWebSocket(tracked: Tracked): void {
    const socket = this.#runtime.socketFor(tracked.session.transport);
    if (socket !== undefined) this.#keep(tracked, socket, true);
  }

  /** From now on the session survives hibernation; `write` its request (once, when new). */
  #keep(tracked: Tracked, socket: WorkersSocket, write: boolean): void {
    tracked.socket = socket;
    this.#byWs.set(socket.ws, tracked);
    const session = tracked.session;
    try {
      socket.attach(this.#attachment(session));
    } catch (err) {
      report(err);
    }
    if (write) {
      this.#put({ [REQUEST + session.id]: storableRequest(session.request) });
      for (const s of tracked.sockets.values()) this.#mark(s);
    }
  }

  #attachment(session: EngineSocket): Attachment {
    const s = session.snapshot();
    return { v: 1, id: s.id, protocol: s.protocol, upgraded: s.upgraded, beat: s.beat };
  }

  #forget(tracked: Tracked): void {
    const id = tracked.session.id;
    if (this.#sessions.get(id) === tracked) this.#sessions.delete(id);
    if (tracked.socket === undefined) return;
    const keys = [REQUEST + id];
    for (const [nsp, socket] of tracked.sockets) {
      const key = socketKey(id, nsp);
      keys.push(key);
      this.#written.delete(key);
      this.#dirty.delete(socket);
    }
    this.#ctx.storage.delete(keys).catch(report);
  }

  #watchAdapter(nsp: Namespace): void {
    const adapter = nsp.adapter;
    if (this.#adapters.has(adapter)) return;
    this.#adapters.add(adapter);
    adapter.on("join-room", (room, id) => this.#roomChanged(nsp, room, id, true));
    adapter.on("leave-room", (room, id) => this.#roomChanged(nsp, room, id, false));
  }

  #roomChanged(nsp: Namespace, room: unknown, id: string, joined: boolean): void {
    const socket = nsp.sockets.get(id) as Socket | undefined;
    if (socket === undefined) return;
    const tracked = this.#sessions.get(socket.conn.id);
    if (tracked === undefined) return;
    if (room === id) {
      // Its own room: the socket connected, or is leaving.
      if (joined) tracked.sockets.set(nsp.name, socket);
      else if (tracked.sockets.get(nsp.name) === socket) tracked.sockets.delete(nsp.name);
    }
    this.#mark(socket);
  }

  #mark(socket: Socket): void {
    this.#dirty.add(socket);
    this.#queueFlush(true);
  }

  /**
   * A flush after the event's listeners and what they chained: at once (a timer of 0 ms) for a
   * known change, within BATCH_MS for what messages may have changed.
   */
  #queueFlush(soon: boolean): void {
    if (this.#flushTimer !== undefined) {
      if (!soon || this.#flushSoon) return;
      clearTimeout(this.#flushTimer);
    }
    this.#flushSoon = soon;
    this.#flushTimer = setTimeout(() => this.#flush(), soon ? 0 : BATCH_MS);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    // Adapters replaced since (`io.adapter(...)`) report their rooms too.
    for (const nsp of this.#io._nsps.values()) this.#watchAdapter(nsp);
    // The sockets of sessions that had messages: those there now (one that left since, or
    // joined, was marked by its room change). A session closed since is forgotten already.
    for (const tracked of this.#touched) {
      tracked.touched = false;
      if (this.#sessions.get(tracked.session.id) !== tracked) continue;
      for (const socket of tracked.sockets.values()) this.#dirty.add(socket);
    }
    this.#touched.length = 0;
    const puts: Record<string, unknown> = {};
    const gone = new Set<string>();
    for (const socket of this.#dirty) {
      const key = socketKey(socket.conn.id, socket.nsp.name);
      const tracked = this.#sessions.get(socket.conn.id);
      if (socket.connected && tracked?.socket !== undefined) {
        const snapshot = snapshotSocket(socket);
        const json = jsonOf(snapshot);
        if (json === undefined || json !== this.#written.get(key) || !this.#written.has(key)) {
          puts[key] = snapshot;
          this.#written.set(key, json);
        }
      } else if (this.#written.has(key)) gone.add(key);
    }
    this.#dirty.clear();
    // A socket that left and one that joined the same namespace again on the same connection
    // share a key: the one there now is kept.
    const deletes = [...gone].filter((key) => !(key in puts));
    for (const key of deletes) this.#written.delete(key);
    const next = ackIdFloor(this.#io);
    if (next + ACK_BLOCK / 4 > this.#ackFloor) {
      this.#ackFloor = next + ACK_BLOCK;
      puts[ACKS] = this.#ackFloor;
    }
    this.#put(puts);
    for (let i = 0; i < deletes.length; i += BATCH) {
      this.#ctx.storage.delete(deletes.slice(i, i + BATCH)).catch(report);
    }
  }

  // One key at a time (workerd coalesces the writes of one event), so that a value storage
  // cannot clone costs only its own socket's record, or only the rooms that hold it.
  #put(entries: Record<string, unknown>): void {
    for (const key in entries) {
      const value = entries[key];
      const failed = (err: unknown) => {
        if (key.startsWith(SOCKET) && (err as Error | null)?.name === "DataCloneError") {
          this.#putWithout(key, value as SocketSnapshot, err);
        } else report(err);
      };
      try {
        this.#ctx.storage.put(key, value).catch(failed);
      } catch (err) {
        failed(err);
      }
    }
  }

  /**
   * Storage could not clone a socket's record: saves it without the rooms that cannot be
   * cloned (an object holding a function), when that is what it was, and says which socket
   * loses what at hibernation.
   */
  #putWithout(key: string, snapshot: SocketSnapshot, err: unknown): void {
    // The storage's message says what could not be cloned; one line, as other reports are.
    const lost = (what: string) =>
      report(
        new Error(`socket ${snapshot.id} of namespace ${snapshot.nsp} ${what}: ${messageOf(err)}`),
      );
    const unsaved = () =>
      lost(
        "is not saved, so it does not survive hibernation (socket.data and rooms must be " +
          "structured-cloneable)",
      );
    const rooms = snapshot.rooms.filter(cloneable);
    if (rooms.length === snapshot.rooms.length) return unsaved();
    const n = snapshot.rooms.length - rooms.length;
    const saved = () =>
      lost(
        `is saved without ${n === 1 ? "a room" : `${n} rooms`} that cannot be structured-` +
          `cloned: after hibernation it is not in ${n === 1 ? "it" : "them"}`,
      );
    try {
      // socket.data may not clone either
      this.#ctx.storage.put(key, { ...snapshot, rooms }).then(saved, unsaved);
    } catch {
      unsaved();
    }
  }
}

/** Whether storage can keep `value`: what structuredClone takes (not a function or symbol). */
function cloneable(value: unknown): boolean {
  if (typeof value === "function" || typeof value === "symbol") return false;
  if (typeof value !== "object" || value === null) return true;
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
