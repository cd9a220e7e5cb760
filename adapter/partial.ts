/**
 * Partial answers of a cluster: what `fetchSockets()`, `serverSideEmitWithAck()` and a broadcast
 * with acks resolve with when some nodes did not answer in time. Browser compatible.
 *
 * Socket.IO on Node fails such a request as a whole (`timeout reached`); a cluster adapter of
 * ours resolves it with what the live nodes answered, and says which nodes did not in a
 * `missing` property of the array (not enumerable: the array spreads, maps and serializes as
 * before, so code written for socket.io keeps working). Complete answers have one too, with a
 * count of 0. The adapters' `partialResponses: false` option keeps the official behaviour.
 *
 * @module
 */

/**
 * The nodes of a cluster that did not answer a request before its timeout.
 *
 * @example
 * ```ts
 * import type { MissingNodes } from "@socketio-edge/core/adapter";
 *
 * const missing: MissingNodes = { count: 1, uids: ["4f2c9a0b1d3e5f60"] };
 * ```
 */
export interface MissingNodes {
  /** How many nodes did not answer: 0 when every node did. */
  readonly count: number;
  /**
   * The uids of those nodes (their adapters' `uid`), where the adapter knows them: from
   * heartbeats (BroadcastChannel), or Redis' list of subscribed channels (Redis Streams). An
   * adapter that only counts the nodes (sharded Pub/Sub) gives fewer uids than `count`, or none.
   */
  readonly uids: readonly string[];
}

/**
 * An array of answers with the {@linkcode MissingNodes} of the request: still an array of
 * `T`, so `const sockets: RemoteSocket[] = await io.fetchSockets()` keeps compiling.
 *
 * @example Which nodes `fetchSockets` did not hear from
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * const sockets = await io.fetchSockets();
 * if (sockets.missing.count > 0) {
 *   console.warn(`${sockets.missing.count} node(s) did not answer:`, sockets.missing.uids);
 * }
 * console.log(sockets.length); // the sockets of the nodes that answered
 * ```
 */
export type PartialAnswers<T> = T[] & {
  /** The nodes that did not answer in time (count 0: the answer is complete). */
  readonly missing: MissingNodes;
};

const COMPLETE: MissingNodes = Object.freeze({ count: 0, uids: Object.freeze([]) });

/**
 * Gives `answers` its `missing` property (not enumerable), complete by default; an array that
 * has one already keeps it.
 *
 * @example
 * ```ts
 * import { withMissing } from "@socketio-edge/core/adapter";
 *
 * const answers = withMissing(["a", "b"], { count: 1, uids: ["node-3"] });
 * console.log(answers.missing.count, JSON.stringify(answers)); // 1 ["a","b"]
 * ```
 *
 * @param answers the answers
 * @param missing the nodes that did not answer
 * @returns `answers` itself
 */
export function withMissing<T>(answers: T[], missing: MissingNodes = COMPLETE): PartialAnswers<T> {
  if (!Object.hasOwn(answers, "missing")) {
    Object.defineProperty(answers, "missing", { value: missing, enumerable: false });
  }
  return answers as PartialAnswers<T>;
}

/**
 * The `missing` of `answers`, as an adapter gave it (complete when it gave none).
 *
 * @example
 * ```ts
 * import { missingOf } from "@socketio-edge/core/adapter";
 *
 * console.log(missingOf([1, 2]).count); // 0
 * ```
 *
 * @param answers an array an adapter resolved with
 */
export function missingOf(answers: readonly unknown[]): MissingNodes {
  return (answers as { missing?: MissingNodes }).missing ?? COMPLETE;
}
