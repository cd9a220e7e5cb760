/**
 * The log of broadcast event packets that connection state recovery replays: each packet gets
 * an offset, and a reconnecting client gets what reached its rooms after its last one.
 * Browser compatible.
 *
 * @module
 */
import type { BroadcastOptions, Room } from "./adapter.ts";

interface StoredPacket {
  offset: string;
  opts: BroadcastOptions;
  data: unknown[];
  emittedAt: number;
}

/**
 * Packets broadcast in the last `maxAge` milliseconds, oldest first, each under an offset.
 * Expired packets are dropped lazily, on the next append or lookup: no timer.
 *
 * @example
 * ```ts
 * import { ReplayLog } from "./replay_log.ts";
 *
 * const log = new ReplayLog(60_000);
 * const first = log.append({ rooms: new Set() }, ["a"], Date.now());
 * log.append({ rooms: new Set(["news"]) }, ["b"], Date.now());
 * console.log(log.since(first, ["abc", "news"], Date.now())); // [["b"]]
 * ```
 */
export class ReplayLog {
  readonly #maxAge: number;
  // Oldest first; live packets are #packets[#head..]. Dead ones are compacted away in bulk.
  #packets: StoredPacket[] = [];
  #head = 0;
  // Offset to the packet's absolute sequence number; #base is that of #packets[0].
  readonly #seqs = new Map<string, number>();
  #base = 0;
  #nextSeq = 0;
  // Offsets of an earlier process (or adapter) are never mistaken for this one's.
  readonly #epoch = Date.now().toString(36);

  /**
   * An empty log.
   *
   * @param maxAge how long, in milliseconds, a packet is kept
   */
  constructor(maxAge: number) {
    this.#maxAge = maxAge;
  }

  /**
   * Stores the event data `data` broadcast with `opts` at `now`; returns its new offset.
   *
   * @example
   * ```ts
   * import { ReplayLog } from "./replay_log.ts";
   *
   * const log = new ReplayLog(60_000);
   * console.log(typeof log.append({ rooms: new Set() }, ["hello"], Date.now())); // "string"
   * ```
   */
  append(opts: BroadcastOptions, data: unknown[], now: number): string {
    this.#dropExpired(now);
    const seq = this.#nextSeq++;
    const offset = `${this.#epoch}.${seq.toString(36)}`;
    this.#packets.push({ offset, opts, data, emittedAt: now });
    this.#seqs.set(offset, seq);
    return offset;
  }

  /**
   * The data of the packets stored after `offset` that reached a socket in `rooms`, oldest
   * first; `null` when `offset` is unknown or expired.
   *
   * @example
   * ```ts
   * import { ReplayLog } from "./replay_log.ts";
   *
   * const log = new ReplayLog(60_000);
   * console.log(log.since("unknown", ["abc"], Date.now())); // null
   * ```
   */
  since(offset: string, rooms: Room[], now: number): unknown[][] | null {
    this.#dropExpired(now);
    const seq = this.#seqs.get(offset);
    if (seq === undefined) return null;
    const missed: unknown[][] = [];
    for (let i = seq - this.#base + 1; i < this.#packets.length; i++) {
      const packet = this.#packets[i];
      if (reaches(rooms, packet.opts)) missed.push(packet.data);
    }
    return missed;
  }

  #dropExpired(now: number): void {
    const threshold = now - this.#maxAge;
    const packets = this.#packets;
    while (this.#head < packets.length && packets[this.#head].emittedAt < threshold) {
      this.#seqs.delete(packets[this.#head].offset);
      this.#head++;
    }
    // Compact when at least half the array is dead, so the work stays amortized O(1).
    if (this.#head > 0 && this.#head * 2 >= packets.length) {
      this.#packets = packets.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }
}

/** Whether a broadcast with `opts` reached a socket in `rooms`. */
function reaches(rooms: Room[], opts: BroadcastOptions): boolean {
  const included = opts.rooms.size === 0 || rooms.some((room) => opts.rooms.has(room));
  const except = opts.except;
  return included && (except === undefined || rooms.every((room) => !except.has(room)));
}
