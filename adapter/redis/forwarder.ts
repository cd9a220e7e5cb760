/**
 * Session forwarding between processes and machines over Redis Pub/Sub, on the user's own
 * node-redis or ioredis clients (the ones the Redis adapters take), with whatever adapter the
 * servers use.
 *
 * @module
 */
import { ClusterForwarder, type ForwarderOptions } from "../../server/forward/forwarder.ts";
import type { ForwardBus, ForwardMessage } from "../../server/forward/forwarder.ts";
import { report } from "../../server/runtime/report.ts";
import { publish, type RedisClient, subscribe, type Subscription, watchErrors } from "./clients.ts";
import { decode, encode } from "./msgpack.ts";

/**
 * Options of {@linkcode createRedisForwarder}.
 *
 * @example
 * ```ts
 * import type { RedisForwarderOptions } from "@socketio-edge/core/redis";
 *
 * const options: RedisForwarderOptions = { key: "chat", locateTimeout: 2_000 };
 * ```
 */
export interface RedisForwarderOptions extends ForwarderOptions {
  /**
   * The prefix of the channels (`${key}-forward#` for all, `${key}-forward#<node>` for one
   * node). Servers with the same key forward to each other. Default: `"socket.io"`.
   */
  key?: string;
}

/**
 * A bus on Redis Pub/Sub: one channel every node subscribes to (`PUBLISH` tells how many got a
 * message), and one per node for what is sent to it. Messages are MessagePack.
 */
class RedisBus implements ForwardBus {
  readonly id: string = crypto.randomUUID();
  readonly #pub: RedisClient;
  readonly #sub: RedisClient;
  readonly #shared: string;
  readonly #prefix: string;
  #subscription: Subscription | undefined;
  #unwatch: (() => void)[] = [];

  constructor(pub: RedisClient, sub: RedisClient, key: string) {
    this.#pub = pub;
    this.#sub = sub;
    this.#prefix = `${key}-forward#`;
    this.#shared = this.#prefix;
  }

  open(receive: (message: ForwardMessage) => void): Promise<void> {
    this.#unwatch = [watchErrors(this.#pub, report), watchErrors(this.#sub, report)];
    // This node's channel as the pattern (a literal: ids have no glob characters).
    this.#subscription = subscribe(
      this.#sub,
      this.#prefix + this.id,
      [this.#shared],
      (_channel, bytes) => {
        let message: unknown;
        try {
          message = decode(bytes);
        } catch {
          return; // not a forwarder's message
        }
        receive(message as ForwardMessage);
      },
    );
    return this.#subscription.ready;
  }

  async broadcast(message: ForwardMessage): Promise<number | undefined> {
    const count = Number(await publish(this.#pub, this.#shared, encode(message)));
    // This node is subscribed too.
    return Number.isFinite(count) ? count - 1 : undefined;
  }

  send(to: string, message: ForwardMessage): void {
    publish(this.#pub, this.#prefix + to, encode(message)).catch(report);
  }

  async close(): Promise<void> {
    await this.#subscription?.close().catch(report);
    for (const unwatch of this.#unwatch) unwatch();
  }
}

/**
 * A forwarder between servers on one Redis: a poll, a POST or a WebSocket upgrade that lands on
 * a server other than its session's is served there, so a load balancer needs no sticky
 * sessions. Give one to each server (the `forwarder` option), with the same `key`; it works
 * beside any adapter (these Redis ones, or another).
 *
 * @param pubClient publishes (a connected node-redis or ioredis client)
 * @param subClient subscribes (it may be the one a Redis adapter subscribes on)
 * @param options the channel prefix and how long to look for a session's node
 * @returns the server's `forwarder`
 *
 * @example Processes behind a round-robin load balancer
 * ```ts ignore
 * import { Server } from "@socketio-edge/core";
 * import { createAdapter, createRedisForwarder } from "@socketio-edge/core/redis";
 * import { createClient } from "npm:redis@5.12.4";
 *
 * const pubClient = createClient({ url: "redis://127.0.0.1:6379" });
 * const subClient = pubClient.duplicate();
 * await Promise.all([pubClient.connect(), subClient.connect()]);
 * const io = new Server({
 *   adapter: createAdapter(pubClient, subClient),
 *   forwarder: createRedisForwarder(pubClient, subClient),
 * });
 * Deno.serve({ port: Number(Deno.env.get("PORT")) }, io.handler());
 * ```
 */
export function createRedisForwarder(
  pubClient: RedisClient,
  subClient: RedisClient,
  options: RedisForwarderOptions = {},
): ClusterForwarder {
  return new ClusterForwarder(
    new RedisBus(pubClient, subClient, options.key ?? "socket.io"),
    options,
  );
}
