/**
 * The Redis commands of the Streams adapter, sent through the user's own client: npm `redis`
 * (node-redis v4/v5, standalone or cluster) or `ioredis` (standalone or cluster). The two are
 * told apart as the official adapters do: node-redis has `sSubscribe`.
 *
 * Replies come back in one shape whatever the client: stream entries as
 * `{ id, message: { field: value } }`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { RedisClient } from "./clients.ts";

/** One entry of a stream: its id and its fields. */
export interface StreamEntry {
  /** The entry id, `<ms>-<seq>`. */
  id: string;
  /** The entry's fields and values. */
  message: Record<string, string>;
}

/** What the adapter calls on a client; each method exists on one of the two kinds. */
// deno-lint-ignore no-explicit-any
type Fn = (...args: any[]) => any;
interface AnyClient {
  sSubscribe?: Fn;
  duplicate: Fn;
  connect?: Fn;
  options?: { lazyConnect?: boolean };
  on?: Fn;
  off?: Fn;
  removeListener?: Fn;
  // node-redis
  xRead?: Fn;
  xAdd?: Fn;
  xRange?: Fn;
  xRevRange?: Fn;
  sPublish?: Fn;
  sUnsubscribe?: Fn;
  sendCommand?: Fn;
  eval?: Fn;
  masters?: { client?: AnyClient }[];
  destroy?: Fn;
  isCluster?: boolean;
  // ioredis
  xread?: Fn;
  xadd?: Fn;
  xrange?: Fn;
  xrevrange?: Fn;
  spublish?: Fn;
  ssubscribe?: Fn;
  sunsubscribe?: Fn;
  call?: Fn;
  nodes?: Fn;
  // both
  set: Fn;
  multi: Fn;
  publish: Fn;
  subscribe: Fn;
  unsubscribe: Fn;
  disconnect?: Fn;
}

function isNodeRedis(client: AnyClient): boolean {
  return typeof client.sSubscribe === "function";
}

/** An ioredis reply `[id, [field, value, ...]]` as a {@linkcode StreamEntry}. */
function entryOf([id, fields]: [string, string[]]): StreamEntry {
  const message: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) message[fields[i]] = fields[i + 1];
  return { id, message };
}

/** Commands of one client, with replies in one shape. */
export class Commands {
  readonly #c: AnyClient;
  readonly #node: boolean;

  /** @param client the user's client */
  constructor(client: RedisClient) {
    const c = client as unknown as AnyClient;
    if (typeof c?.duplicate !== "function" || typeof c.multi !== "function") {
      throw new TypeError("expected a node-redis (npm `redis`) or ioredis client");
    }
    this.#c = c;
    this.#node = isNodeRedis(c);
  }

  /**
   * A new connection of the same kind and options, whose errors go to `onError` rather than
   * crash the process: at once, to close even while it connects, and once connected (node-redis,
   * or ioredis with `lazyConnect`, connect it; node-redis waits for as long as Redis is down).
   */
  duplicate(onError: (err: unknown) => void): { connection: Commands; connected: Promise<void> } {
    const copy = this.#c.duplicate() as AnyClient;
    copy.on?.("error", onError);
    const connection = new Commands(copy as unknown as RedisClient);
    let connected: Promise<void>;
    try {
      connected = this.#node || this.#c.options?.lazyConnect
        ? Promise.resolve(copy.connect?.()).then(() => {})
        : Promise.resolve();
    } catch (err) {
      connected = Promise.reject(err);
    }
    return { connection, connected };
  }

  /** Closes this connection now, failing its pending commands (a blocked XREAD included). */
  close(): Promise<void> {
    const c = this.#c;
    try {
      // node-redis v5 `destroy`, v4 `disconnect`; ioredis `disconnect`: none waits for replies.
      const done = typeof c.destroy === "function" ? c.destroy() : c.disconnect?.();
      return Promise.resolve(done).then(() => {}, () => {});
    } catch {
      return Promise.resolve();
    }
  }

  /** `XREAD BLOCK ms COUNT n STREAMS key id`; empty when the block times out. */
  async xread(key: string, id: string, count: number, blockMs: number): Promise<StreamEntry[]> {
    if (this.#node) {
      const reply = await this.#c.xRead!([{ key, id }], { COUNT: count, BLOCK: blockMs });
      return reply?.[0]?.messages ?? [];
    }
    const reply = await this.#c.xread!("BLOCK", blockMs, "COUNT", count, "STREAMS", key, id);
    return reply?.[0]?.[1]?.map(entryOf) ?? [];
  }

  /** `XADD key MAXLEN ~ maxLen * field value ...`; resolves with the new entry's id. */
  xadd(key: string, fields: Readonly<Record<string, string>>, maxLen: number): Promise<string> {
    if (this.#node) {
      return this.#c.xAdd!(key, "*", fields, {
        TRIM: { strategy: "MAXLEN", strategyModifier: "~", threshold: maxLen },
      });
    }
    const args: (string | number)[] = [key, "MAXLEN", "~", maxLen, "*"];
    for (const field in fields) args.push(field, fields[field]);
    return this.#c.xadd!(...args);
  }

  /** `XRANGE key start end`. */
  async xrange(key: string, start: string, end: string): Promise<StreamEntry[]> {
    if (this.#node) return await this.#c.xRange!(key, start, end);
    return (await this.#c.xrange!(key, start, end)).map(entryOf);
  }

  /** The id of the stream's last entry, or `undefined` when it has none (or does not exist). */
  async lastId(key: string): Promise<string | undefined> {
    const entries: StreamEntry[] = this.#node
      ? await this.#c.xRevRange!(key, "+", "-", { COUNT: 1 })
      : (await this.#c.xrevrange!(key, "+", "-", "COUNT", 1)).map(entryOf);
    return entries[0]?.id;
  }

  /** `SET key value PX ms`. */
  set(key: string, value: string, px: number): Promise<unknown> {
    return this.#node ? this.#c.set(key, value, { PX: px }) : this.#c.set(key, value, "PX", px);
  }

  /** `EVAL script 1 key ...args`: the script's reply. */
  eval(script: string, key: string, args: string[]): Promise<unknown> {
    return this.#node
      ? this.#c.eval!(script, { keys: [key], arguments: args })
      : this.#c.eval!(script, 1, key, ...args);
  }

  /** `GET key` then `DEL key` in one MULTI (GETDEL needs Redis 6.2); the value or null. */
  async getdel(key: string): Promise<string | null> {
    const replies = await this.#c.multi().get(key).del(key).exec();
    // node-redis: [value, count]; ioredis: [[err, value], [err, count]].
    const first = this.#node ? replies[0] : replies[0][1];
    return typeof first === "string" ? first : first == null ? null : String(first);
  }

  /** `PUBLISH` (or `SPUBLISH`) of a binary payload. */
  publish(channel: string, payload: Uint8Array, sharded: boolean): Promise<unknown> {
    const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (!sharded) return this.#c.publish(channel, buf);
    return this.#node ? this.#c.sPublish!(channel, buf) : this.#c.spublish!(channel, buf);
  }

  /**
   * Subscribes this (dedicated) connection to `channels`, binary payloads to `listener`;
   * resolves once subscribed, with the function that unsubscribes.
   */
  async subscribe(
    channels: string[],
    listener: (payload: Uint8Array) => void,
    sharded: boolean,
  ): Promise<() => Promise<void>> {
    const c = this.#c;
    if (this.#node) {
      const wrap = (payload: Uint8Array) => listener(payload);
      if (sharded) {
        await Promise.all(channels.map((ch) => c.sSubscribe!(ch, wrap, true)));
        return async () => void await c.sUnsubscribe!(channels, wrap, true);
      }
      await c.subscribe(channels, wrap, true);
      return async () => void await c.unsubscribe(channels, wrap, true);
    }
    const event = sharded ? "smessageBuffer" : "messageBuffer";
    const wanted = new Set(channels);
    const onMessage = (channel: Uint8Array, payload: Uint8Array) => {
      if (wanted.has(channel.toString())) listener(payload);
    };
    c.on!(event, onMessage);
    await (sharded ? c.ssubscribe!(...channels) : c.subscribe(...channels));
    return async () => {
      (c.off ?? c.removeListener)!.call(c, event, onMessage);
      await (sharded ? c.sunsubscribe!(...channels) : c.unsubscribe(...channels));
    };
  }

  /**
   * The channels matching the glob `pattern` with at least one subscriber, over every node:
   * `PUBSUB CHANNELS` (or `SHARDCHANNELS`).
   */
  channels(pattern: string, sharded: boolean): Promise<Set<string>> {
    const arg = sharded ? "SHARDCHANNELS" : "CHANNELS";
    const c = this.#c;
    const union = async (replies: Promise<unknown>[]) => {
      const names = new Set<string>();
      for (const reply of await Promise.all(replies)) {
        for (const name of reply as unknown[]) names.add(String(name));
      }
      return names;
    };
    if (!this.#node) {
      if (typeof c.nodes === "function" && (c.isCluster || c.constructor?.name === "Cluster")) {
        const nodes = c.nodes() as AnyClient[];
        return union(nodes.map((n) => n.call!("PUBSUB", arg, pattern)));
      }
      return union([c.call!("PUBSUB", arg, pattern)]);
    }
    if (Array.isArray(c.masters)) {
      return union(c.masters.map((m) => m.client!.sendCommand!(["PUBSUB", arg, pattern])));
    }
    return union([c.sendCommand!(["PUBSUB", arg, pattern])]);
  }

  /** The subscribers of `channel` over every node: `PUBSUB NUMSUB` (or `SHARDNUMSUB`). */
  async numsub(channel: string, sharded: boolean): Promise<number> {
    const arg = sharded ? "SHARDNUMSUB" : "NUMSUB";
    const count = (reply: unknown[]) => parseInt(String(reply[1]), 10);
    const c = this.#c;
    const sum = async (counts: Promise<number>[]) => (await Promise.all(counts)).reduce(add, 0);
    if (!this.#node) {
      if (typeof c.nodes === "function" && (c.isCluster || c.constructor?.name === "Cluster")) {
        const nodes = c.nodes() as AnyClient[];
        return sum(nodes.map(async (n) => count(await n.call!("PUBSUB", arg, channel))));
      }
      return count(await c.call!("PUBSUB", arg, channel));
    }
    if (Array.isArray(c.masters)) {
      return sum(
        c.masters.map(async (m) => count(await m.client!.sendCommand!(["PUBSUB", arg, channel]))),
      );
    }
    return count(await c.sendCommand!(["PUBSUB", arg, channel]));
  }
}

function add(a: number, b: number): number {
  return a + b;
}
