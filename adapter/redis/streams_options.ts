/**
 * The options of the Redis Streams adapter: those of `@socket.io/redis-streams-adapter@0.3.1`,
 * with its names and defaults, checked once when the adapter is made.
 *
 * @module
 */
import type { ClusterAdapterOptions } from "../cluster/cluster_adapter.ts";

/**
 * The options of `createStreamsAdapter`: those of the official 0.3.1, same names and defaults,
 * plus the cluster adapter's (`requestsTimeout`).
 *
 * @example A stream of its own, shorter, and no binary to look for
 * ```ts
 * import type { StreamsAdapterOptions } from "@socketio-edge/core/redis";
 *
 * const opts: StreamsAdapterOptions = { streamName: "chat", maxLen: 1_000, onlyPlaintext: true };
 * ```
 */
export interface StreamsAdapterOptions extends ClusterAdapterOptions {
  /** The stream's name (the prefix of their names with `streamCount` > 1). Default "socket.io". */
  streamName?: string;
  /**
   * The number of streams; each namespace is routed to one of them (by a hash of its name), so
   * its messages stay in order. Default 1.
   */
  streamCount?: number;
  /** The prefix of the Pub/Sub channels. Default "socket.io". */
  channelPrefix?: string;
  /** Sharded Pub/Sub (Redis 7: SPUBLISH, SSUBSCRIBE) for the ephemeral messages. Default false. */
  useShardedPubSub?: boolean;
  /** The stream's approximate maximum length (`MAXLEN ~`). Default 10000. */
  maxLen?: number;
  /** Entries fetched per XREAD. Default 100. */
  readCount?: number;
  /** Milliseconds an XREAD blocks. Default 5000. */
  blockTimeInMs?: number;
  /** The prefix of the keys of recoverable sessions. Default "sio:session:". */
  sessionKeyPrefix?: string;
  /** The data never holds binary: skip looking for it and always write JSON. Default false. */
  onlyPlaintext?: boolean;
  /**
   * With connection state recovery: milliseconds between two writes of each connected socket's
   * session to Redis (also written when it connects or changes rooms), so that the sessions of
   * a node that dies without disconnecting them (`kill -9`, a crash) can be restored elsewhere.
   * `socket.data` set after the connection is saved at the next write. The sessions then live
   * `maxDisconnectionDuration` plus two intervals after their node's last write. 0: only on
   * disconnection, as the official adapter (a dead node's sessions are lost). Default 10000.
   * (Ours; the official adapter has no such option.)
   */
  sessionCheckpointInterval?: number;
  /**
   * Accepted for code written for the official adapter, and unused as there: 0.3.1 sends no
   * heartbeats, the server count comes from `PUBSUB NUMSUB`.
   */
  heartbeatInterval?: number;
  /** Accepted and unused, as {@linkcode StreamsAdapterOptions.heartbeatInterval}. */
  heartbeatTimeout?: number;
}

/** The options with their defaults. */
export type Options =
  & Required<
    Pick<
      StreamsAdapterOptions,
      | "streamName"
      | "streamCount"
      | "channelPrefix"
      | "useShardedPubSub"
      | "maxLen"
      | "readCount"
      | "blockTimeInMs"
      | "sessionKeyPrefix"
      | "onlyPlaintext"
      | "sessionCheckpointInterval"
    >
  >
  & StreamsAdapterOptions;

const DEFAULTS: Readonly<Omit<Options, keyof ClusterAdapterOptions>> = {
  streamName: "socket.io",
  streamCount: 1,
  channelPrefix: "socket.io",
  useShardedPubSub: false,
  maxLen: 10_000,
  readCount: 100,
  blockTimeInMs: 5_000,
  sessionKeyPrefix: "sio:session:",
  onlyPlaintext: false,
  sessionCheckpointInterval: 10_000,
};

const STRINGS = ["streamName", "channelPrefix", "sessionKeyPrefix"] as const;
const BOOLEANS = ["useShardedPubSub", "onlyPlaintext"] as const;
// At least 1; blockTimeInMs may be 0 (XREAD blocks until an entry comes; close() still ends it),
// sessionCheckpointInterval too (no checkpoints).
const COUNTS = [
  "streamCount",
  "maxLen",
  "readCount",
  "blockTimeInMs",
  "sessionCheckpointInterval",
] as const;

/**
 * `opts` over the defaults.
 *
 * @throws TypeError naming an option of the wrong type; RangeError naming a count that is not
 *   a positive integer (`blockTimeInMs`: not negative)
 */
export function streamsOptions(opts: StreamsAdapterOptions): Options {
  if (typeof opts !== "object" || opts === null) {
    throw new TypeError("the Streams adapter's options must be an object");
  }
  const options: Options = { ...DEFAULTS, ...opts };
  for (const name of STRINGS) {
    if (typeof options[name] !== "string") throw new TypeError(`${name} must be a string`);
  }
  for (const name of BOOLEANS) {
    if (typeof options[name] !== "boolean") throw new TypeError(`${name} must be a boolean`);
  }
  for (const name of COUNTS) {
    const value = options[name];
    if (typeof value !== "number") throw new TypeError(`${name} must be a number`);
    const least = name === "blockTimeInMs" || name === "sessionCheckpointInterval" ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < least) {
      throw new RangeError(`${name} must be an integer of at least ${least}, not ${value}`);
    }
  }
  return options;
}
