/**
 * Sessions kept in Redis while their sockets are connected, so that a node that dies without
 * running its disconnect path (`kill -9`, a crash, a lost machine) leaves each of its sessions
 * restorable by any other node for `maxDisconnectionDuration`.
 *
 * The official design writes a session once, when its socket disconnects; a node that never
 * disconnects its sockets writes nothing. Here each socket's session (`{ sid, pid, rooms, data }`,
 * the official value, plus the writing node's uid) is written under the official key
 * (`${sessionKeyPrefix}${pid}`) when the socket connects or changes rooms (batched, once per
 * timer tick), and again every `interval` (which refreshes its TTL and picks up `socket.data`).
 * The TTL is `maxDisconnectionDuration` plus two intervals: a dead node's sessions live at least
 * `maxDisconnectionDuration` after its last write. The cost is bounded: one small write per
 * socket per interval, plus one per room change.
 *
 * Every write after a node's first is a compare-and-set against what that node wrote last (a
 * Lua script), so a node that lost a session to another (the client came back elsewhere, which
 * read and deleted the key, then wrote its own) never overwrites the new owner's: it stops
 * writing that session, and its disconnect writes nothing either.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { encode } from "./msgpack.ts";
import type {
  AdapterSocket,
  AdapterTimers,
  PrivateSessionId,
  SessionToPersist,
  SocketId,
} from "../adapter.ts";
import type { Commands } from "./streams_commands.ts";

/**
 * KEYS[1] the session key; ARGV: what this node wrote last ("" for nothing), the new value ("" to
 * delete), the TTL in ms. 1: written; 0: the key is gone (restored or expired); 2: another
 * node's value is there.
 */
const COMPARE_AND_SET = `local cur = redis.call('GET', KEYS[1])
if (cur or '') ~= ARGV[1] then
  if cur then return 2 end
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`;

/** What this node last wrote of one session. */
interface Written {
  readonly pid: PrivateSessionId;
  /** The value, or "" when the key was found gone (the next write creates it if still gone). */
  value: string;
}

/** The checkpoints of one namespace's sessions. */
export class SessionCheckpoints {
  readonly #redis: Commands;
  readonly #prefix: string;
  readonly #sockets: ReadonlyMap<SocketId, AdapterSocket>;
  readonly #timers: AdapterTimers;
  readonly #ttl: number;
  readonly #interval: number;
  readonly #node: string;
  readonly #report: (err: unknown) => void;
  readonly #written = new Map<SocketId, Written>();
  /** Sessions another node took over: never written again by this one. */
  readonly #lost = new Set<SocketId>();
  readonly #dirty = new Set<SocketId>();
  #flush: unknown;
  #refresh: unknown;
  #closed = false;

  /**
   * @param redis the commands of the user's client
   * @param prefix the session key prefix
   * @param sockets the namespace's connected sockets
   * @param timers the server's timers
   * @param maxDisconnectionDuration how long a session outlives its node's last write
   * @param interval milliseconds between two writes of every session
   * @param node this adapter's uid, written in the value
   * @param report where failed writes go
   */
  constructor(
    redis: Commands,
    prefix: string,
    sockets: ReadonlyMap<SocketId, AdapterSocket>,
    timers: AdapterTimers,
    maxDisconnectionDuration: number,
    interval: number,
    node: string,
    report: (err: unknown) => void,
  ) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#sockets = sockets;
    this.#timers = timers;
    this.#ttl = maxDisconnectionDuration + 2 * interval;
    this.#interval = interval;
    this.#node = node;
    this.#report = report;
  }

  /** Socket `id` connected or changed rooms: its session is written at the next tick. */
  touch(id: SocketId): void {
    if (this.#closed || this.#lost.has(id)) return;
    this.#dirty.add(id);
    this.#flush ??= this.#timers.set(() => {
      this.#flush = undefined;
      const ids = [...this.#dirty];
      this.#dirty.clear();
      for (const id of ids) this.#write(id);
    }, 0);
    this.#refresh ??= this.#timers.set(() => this.#refreshAll(), this.#interval);
  }

  /**
   * Socket `sid` disconnected with a recoverable reason: its final state, for
   * `maxDisconnectionDuration`, unless another node took the session over meanwhile.
   */
  async persist(session: SessionToPersist, ttl: number): Promise<void> {
    const { sid } = session;
    this.#dirty.delete(sid);
    if (this.#lost.delete(sid)) {
      this.#written.delete(sid);
      return;
    }
    const previous = this.#written.get(sid)?.value ?? "";
    this.#written.delete(sid);
    await this.#set(session.pid, previous, this.#value(session), ttl);
  }

  /**
   * Socket `sid` left for good (not persisted): what this node wrote of it is deleted, so that
   * a client that disconnected on purpose is not recovered.
   */
  forget(sid: SocketId): void {
    this.#dirty.delete(sid);
    this.#lost.delete(sid);
    const written = this.#written.get(sid);
    if (!written) return;
    this.#written.delete(sid);
    if (written.value === "") return;
    this.#set(written.pid, written.value, "", 0).catch(this.#report);
  }

  /** Stops writing (the adapter closes). */
  close(): void {
    this.#closed = true;
    this.#timers.clear(this.#flush);
    this.#timers.clear(this.#refresh);
    this.#dirty.clear();
  }

  #refreshAll(): void {
    this.#refresh = undefined;
    if (this.#closed) return;
    for (const id of this.#written.keys()) this.#write(id);
    if (this.#written.size > 0) {
      this.#refresh = this.#timers.set(() => this.#refreshAll(), this.#interval);
    }
  }

  #write(id: SocketId): void {
    const socket = this.#sockets.get(id);
    const pid = socket?.pid;
    if (socket === undefined || pid === undefined || this.#lost.has(id)) return;
    const rooms: string[] = [];
    for (const room of socket.rooms) rooms.push(room);
    const value = this.#value({ sid: id, pid, rooms, data: socket.data });
    const written = this.#written.get(id);
    if (written === undefined) {
      // A session new to this node (a new socket, or one it just restored, whose key the restore
      // deleted): this node owns it now, whatever an old owner wrote meanwhile.
      this.#written.set(id, { pid, value });
      this.#redis.set(this.#prefix + pid, value, this.#ttl).catch(this.#report);
      return;
    }
    // Also when the value did not change: the write refreshes the TTL, and tells whether this
    // node still owns the session.
    const previous = written.value;
    written.value = value;
    this.#set(pid, previous, value, this.#ttl).then((result) => {
      if (result === 2 && this.#written.get(id) === written) {
        this.#written.delete(id);
        this.#lost.add(id);
      } else if (result === 0 && this.#written.get(id) === written) {
        written.value = "";
      }
    }, this.#report);
  }

  /** The compare-and-set; resolves 1, 0 or 2 (see `COMPARE_AND_SET`). */
  async #set(pid: PrivateSessionId, previous: string, value: string, ttl: number) {
    return Number(
      await this.#redis.eval(COMPARE_AND_SET, this.#prefix + pid, [previous, value, String(ttl)]),
    );
  }

  /** The official value (base64 msgpack of sid, pid, rooms, data), with the writer's uid. */
  #value(session: SessionToPersist): string {
    const { sid, pid, rooms, data } = session;
    const bytes = encode({ sid, pid, rooms, data, node: this.#node });
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  }
}
