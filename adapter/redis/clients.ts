/**
 * The user's Redis clients, duck-typed as the official adapters do: npm `redis` (node-redis v4
 * and v5, whose methods are camel-cased: `pSubscribe`) or `ioredis` (lower-cased: `psubscribe`,
 * messages as `messageBuffer` / `pmessageBuffer` events). No client is bundled.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { AdapterTimers } from "../adapter.ts";
import { report } from "../../server/runtime/report.ts";

/**
 * A client method, typed loosely: the clients' own overloads differ between versions, and the
 * adapters call only what both node-redis v4/v5 (or ioredis) have.
 *
 * @example
 * ```ts
 * import type { RedisMethod } from "@socketio-edge/core/redis";
 *
 * const publish: RedisMethod = (channel: string, message: string) => Promise.resolve(1);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type RedisMethod = (...args: any[]) => any;

/**
 * A node-redis client (npm `redis` v4 or v5: `createClient()`, or `createCluster()`), as the
 * Redis adapters use it.
 *
 * @example
 * ```ts
 * import type { NodeRedisClient } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const client: NodeRedisClient = createClient({ url: "redis://127.0.0.1:6379" });
 * ```
 */
export interface NodeRedisClient {
  /** `PSUBSCRIBE`, with a listener of `(message, channel)`. */
  pSubscribe: RedisMethod;
  /** `PUNSUBSCRIBE`. */
  pUnsubscribe: RedisMethod;
  /** `SUBSCRIBE`, with a listener of `(message, channel)`. */
  subscribe: RedisMethod;
  /** `UNSUBSCRIBE`. */
  unsubscribe: RedisMethod;
  /** `PUBLISH`. */
  publish: RedisMethod;
  /** Any command, as an array of arguments (standalone clients). */
  sendCommand: RedisMethod;
}

/**
 * An ioredis client (`new Redis()`, or `new Cluster()`), as the Redis adapters use it.
 *
 * @example
 * ```ts
 * import type { IoRedisClient } from "@socketio-edge/core/redis";
 * import { Redis } from "npm:ioredis@5.11.1";
 *
 * const client: IoRedisClient = new Redis("redis://127.0.0.1:6379", { lazyConnect: true });
 * ```
 */
export interface IoRedisClient {
  /** `PSUBSCRIBE`. */
  psubscribe: RedisMethod;
  /** `PUNSUBSCRIBE`. */
  punsubscribe: RedisMethod;
  /** `SUBSCRIBE`. */
  subscribe: RedisMethod;
  /** `UNSUBSCRIBE`. */
  unsubscribe: RedisMethod;
  /** `PUBLISH`. */
  publish: RedisMethod;
  /** Any command. */
  call: RedisMethod;
  /** Listen to `messageBuffer` / `pmessageBuffer`. */
  on: RedisMethod;
  /** Stop listening. */
  off: RedisMethod;
}

/**
 * A Redis client of the user's: node-redis or ioredis.
 *
 * @example
 * ```ts
 * import type { RedisClient } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const client: RedisClient = createClient();
 * ```
 */
export type RedisClient = NodeRedisClient | IoRedisClient;

/** Called with each message of a subscription: the channel's name and the raw bytes. */
export type MessageHandler = (channel: string, message: Uint8Array) => void;

const decoder = new TextDecoder();
const text = (value: string | Uint8Array) =>
  typeof value === "string" ? value : decoder.decode(value);

/** Whether `client` is node-redis (camel-cased methods), as the official adapter tells. */
export function isNodeRedis(client: RedisClient): client is NodeRedisClient {
  return typeof (client as NodeRedisClient).pSubscribe === "function";
}

/**
 * Whether the user closed `client` already (node-redis `isOpen`, ioredis `status`): its
 * subscriptions went with its connection, and a command would wait for a reconnection that
 * never comes (node-redis) or fail ("Connection is closed", ioredis).
 */
export function isClosed(client: object): boolean {
  const state = client as { isOpen?: boolean; status?: string };
  return state.isOpen === false || state.status === "end";
}

/** `fn()`'s promise, or a rejection with what it threw (a closed node-redis client throws). */
export function attempt(fn: () => unknown): Promise<unknown> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Resolves once every unsubscription of a closing adapter settled (a failure is reported), or
 * after `ms` when Redis does not answer (a client that reconnects): `io.close()` never hangs on
 * the user's clients.
 */
export async function unsubscribed(
  done: Promise<unknown>[],
  timers: AdapterTimers,
  ms: number,
): Promise<void> {
  let timer: unknown;
  await Promise.race([
    Promise.all(done.map((p) => p.catch(report))),
    new Promise<void>((resolve) => timer = timers.set(resolve, ms)),
  ]);
  timers.clear(timer);
}

/**
 * One adapter's subscriptions on the user's subscribing client: a pattern and a few channels,
 * each message handed to `handler`; `close()` undoes them. Other adapters may share the client,
 * so the handler only gets messages of what this one subscribed.
 */
export interface Subscription {
  /** Resolves once Redis confirmed the subscriptions (rejects with the client's error). */
  ready: Promise<void>;
  /**
   * Unsubscribes. Resolves when done (errors are the client's, passed on); at once when the
   * client was closed already.
   */
  close(): Promise<void>;
}

/**
 * Subscribes `client` to `pattern` and to `channels`; every message goes to `handler` as bytes.
 *
 * @param client The subscribing client.
 * @param pattern A `PSUBSCRIBE` pattern.
 * @param channels Channels to `SUBSCRIBE`.
 * @param handler Gets each message; it must not throw.
 */
export function subscribe(
  client: RedisClient,
  pattern: string,
  channels: string[],
  handler: MessageHandler,
): Subscription {
  if (isNodeRedis(client)) {
    // Buffer mode (last argument): messages and channels as Buffers.
    const listener = (message: Uint8Array, channel: string | Uint8Array) =>
      handler(text(channel), message);
    const ready = Promise.all([
      client.pSubscribe(pattern, listener, true),
      client.subscribe(channels, listener, true),
    ]).then(() => {});
    return {
      ready,
      async close() {
        if (isClosed(client)) return;
        // node-redis v4 mishandled unsubscribing several channels at once (node-redis#2052).
        await Promise.all([
          attempt(() => client.pUnsubscribe(pattern, listener, true)),
          ...channels.map((channel) => attempt(() => client.unsubscribe(channel, listener, true))),
        ]);
      },
    };
  }
  const wanted = new Set(channels);
  const onPattern = (matched: Uint8Array, channel: Uint8Array, message: Uint8Array) => {
    if (text(matched) === pattern) handler(text(channel), message);
  };
  const onMessage = (channel: Uint8Array, message: Uint8Array) => {
    const name = text(channel);
    if (wanted.has(name)) handler(name, message);
  };
  client.on("pmessageBuffer", onPattern);
  client.on("messageBuffer", onMessage);
  const ready = Promise.all([client.psubscribe(pattern), client.subscribe(...channels)])
    .then(() => {});
  return {
    ready,
    async close() {
      client.off("pmessageBuffer", onPattern);
      client.off("messageBuffer", onMessage);
      if (isClosed(client)) return;
      await Promise.all([
        attempt(() => client.punsubscribe(pattern)),
        attempt(() => client.unsubscribe(...channels)),
      ]);
    },
  };
}

// One listener per client, however many adapters (namespaces) share it.
const watched = new WeakMap<object, { adapters: number; stop(): void }>();

/**
 * Reports the `error` events of `client` that nobody else listens to (an EventEmitter throws
 * an unheard `error` out of the client's socket code, which would end the process). The user's
 * own listener, when there is one, gets them instead, as with the official adapter.
 *
 * @returns Stops listening (once every adapter that watches the client stopped).
 */
export function watchErrors(client: RedisClient, onError: (err: unknown) => void): () => void {
  const emitter = client as {
    on?: RedisMethod;
    off?: RedisMethod;
    listenerCount?: (event: string) => number;
  };
  if (typeof emitter.on !== "function" || typeof emitter.off !== "function") return () => {};
  let entry = watched.get(client);
  if (entry === undefined) {
    const listener = (err: unknown) => {
      if (emitter.listenerCount?.("error") === 1) onError(err);
    };
    emitter.on("error", listener);
    const created = { adapters: 0, stop: () => emitter.off!("error", listener) };
    watched.set(client, created);
    entry = created;
  }
  entry.adapters++;
  let stopped = false;
  const current = entry;
  return () => {
    if (stopped) return;
    stopped = true;
    if (--current.adapters === 0) {
      current.stop();
      watched.delete(client);
    }
  };
}

/**
 * `PUBLISH`es `message` (bytes are sent as a Buffer, which both clients require for binary).
 *
 * @returns The client's promise (the number of receivers).
 */
export function publish(
  client: RedisClient,
  channel: string,
  message: string | Uint8Array,
): Promise<unknown> {
  const payload = typeof message === "string" || Buffer.isBuffer(message)
    ? message
    : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  // A client may throw rather than reject (a closed node-redis client): one promise either way.
  return attempt(() => client.publish(channel, payload));
}

/**
 * `PUBSUB NUMSUB channel` summed over the cluster's nodes (the number of subscribed connections).
 */
export async function numsub(client: RedisClient, channel: string): Promise<number> {
  const cluster = client as {
    isCluster?: boolean;
    nodes?: () => IoRedisClient[];
    masters?: { client?: NodeRedisClient }[];
  };
  const count = (reply: unknown) => parseInt(String((reply as unknown[])[1]), 10);
  if (typeof cluster.nodes === "function" && cluster.isCluster) {
    const replies = await Promise.all(
      cluster.nodes().map((node) => node.call("PUBSUB", "NUMSUB", channel)),
    );
    return replies.reduce((sum: number, reply) => sum + count(reply), 0);
  }
  if (isNodeRedis(client)) {
    if (Array.isArray(cluster.masters)) {
      const replies = await Promise.all(
        cluster.masters.map((node) => node.client!.sendCommand(["PUBSUB", "NUMSUB", channel])),
      );
      return replies.reduce((sum: number, reply) => sum + count(reply), 0);
    }
    return count(await client.sendCommand(["PUBSUB", "NUMSUB", channel]));
  }
  return count(await client.call("PUBSUB", "NUMSUB", channel));
}
