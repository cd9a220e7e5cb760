/**
 * Connection state recovery on Redis, as `@socket.io/redis-streams-adapter@0.3.1` stores it, so
 * that a session persisted by an official node is restored by ours and the other way round.
 *
 * A disconnected socket's session goes to `SET ${sessionKeyPrefix}${pid} <base64 msgpack of
 * { sid, pid, rooms, data }> PX maxDisconnectionDuration`. Restoring reads and deletes it in one
 * MULTI (GET, DEL), checks that the client's offset is still an entry of the stream, then
 * replays the broadcasts of the namespace stored after that offset, in stream order, which the
 * session's rooms would have received; each missed packet ends with its entry id, the offset
 * the client keeps for a later recovery.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { decode, encode } from "./msgpack.ts";
import { MessageType } from "../cluster/messages.ts";
import type { PrivateSessionId, Room, Session, SessionToPersist } from "../adapter.ts";
import type { Commands, StreamEntry } from "./streams_commands.ts";
import { decodeEntry } from "./streams_entry.ts";

// Bounds the replay when entries arrive faster than they are read, as the official adapter.
const MAX_XRANGE_CALLS = 100;
const OFFSET = /^[0-9]+-[0-9]+$/;
const BROADCAST = String(MessageType.BROADCAST);

/** A broadcast's targets, as stored in its entry. */
interface StoredOptions {
  rooms: Room[];
  except?: Room[];
}

/** A broadcast's data, as stored in its entry. */
interface StoredBroadcast {
  packet?: { data?: unknown };
  opts?: unknown;
  requestId?: unknown;
}

function isOptions(opts: unknown): opts is StoredOptions {
  const o = opts as Partial<StoredOptions> | null | undefined;
  return Array.isArray(o?.rooms) && (o.except === undefined || Array.isArray(o.except));
}

/** Sessions of one namespace, in the keys and stream of one Streams adapter. */
export class StreamsSessionStore {
  readonly #redis: Commands;
  readonly #stream: string;
  readonly #prefix: string;
  readonly #nsp: string;

  /**
   * @param redis the commands of the user's client
   * @param stream the name of the namespace's stream
   * @param prefix the session key prefix
   * @param nsp the namespace name
   */
  constructor(redis: Commands, stream: string, prefix: string, nsp: string) {
    this.#redis = redis;
    this.#stream = stream;
    this.#prefix = prefix;
    this.#nsp = nsp;
  }

  /** Stores `session` for `ttl` milliseconds. */
  async persist(session: SessionToPersist, ttl: number): Promise<void> {
    const { sid, pid, rooms, data } = session;
    const bytes = encode({ sid, pid, rooms, data });
    const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
    await this.#redis.set(this.#prefix + pid, value, ttl);
  }

  /**
   * The session of `pid` with the packets missed after `offset`, and the id of the last entry
   * read (the replay covers the stream up to it); `null` when the session expired, was restored
   * already, or the offset is not (or no longer) in the stream.
   */
  async restore(
    pid: PrivateSessionId,
    offset: string,
  ): Promise<{ session: Session; scanned: string } | null> {
    if (!OFFSET.test(offset)) return null;
    const [raw, found] = await Promise.all([
      this.#redis.getdel(this.#prefix + pid),
      this.#redis.xrange(this.#stream, offset, offset),
    ]);
    if (!raw || found.length === 0) return null;
    const stored = decode(Buffer.from(raw, "base64")) as Partial<SessionToPersist> | null;
    if (typeof stored?.sid !== "string" || !Array.isArray(stored.rooms)) return null;
    const rooms = stored.rooms;
    const missedPackets: unknown[][] = [];
    let last = offset;
    for (let i = 0; i < MAX_XRANGE_CALLS; i++) {
      // The entry after `last`: exclusive ranges need Redis 6.2.
      const entries = await this.#redis.xrange(this.#stream, next(last), "+");
      if (entries.length === 0) break;
      for (const entry of entries) {
        last = entry.id;
        const data = this.replayed(entry, rooms);
        if (data) missedPackets.push(data);
      }
    }
    return {
      session: { sid: stored.sid, pid, rooms, data: stored.data, missedPackets },
      scanned: last,
    };
  }

  /**
   * What a socket in `rooms` would have received of `entry`: the event's data with the entry id
   * last, or undefined when it is no broadcast of this namespace to such a socket.
   */
  replayed(entry: StreamEntry, rooms: readonly Room[]): unknown[] | undefined {
    const { message } = entry;
    if (message.nsp !== this.#nsp || message.type !== BROADCAST) return undefined;
    const { packet, opts, requestId } = (decodeEntry(message) as { data?: StoredBroadcast }).data ??
      {};
    // Something else than a broadcast of ours or the official adapter's: not replayed.
    if (!Array.isArray(packet?.data) || !isOptions(opts) || requestId !== undefined) {
      return undefined;
    }
    if (!reaches(rooms, opts)) return undefined;
    packet.data.push(entry.id);
    return packet.data;
  }
}

/** The smallest entry id after `offset`. */
function next(offset: string): string {
  const dash = offset.indexOf("-");
  return `${offset.slice(0, dash)}-${BigInt(offset.slice(dash + 1)) + 1n}`;
}

/** Whether a socket in `rooms` was a receiver of a broadcast to `opts`. */
function reaches(rooms: readonly Room[], opts: StoredOptions): boolean {
  const except = opts.except ?? [];
  const included = opts.rooms.length === 0 || rooms.some((room) => opts.rooms.includes(room));
  return included && rooms.every((room) => !except.includes(room));
}
