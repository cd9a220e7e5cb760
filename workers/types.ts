/**
 * The parts of the Cloudflare Workers API that the Workers entry uses, typed here so that the
 * package needs no `@cloudflare/workers-types` (yours may be more precise: they fit these).
 *
 * @module
 */
import type { HibernationHost, WorkerdWebSocket } from "../server/runtime/workers.ts";

export type { HibernationHost, WorkerdWebSocket };

/** A Durable Object's storage, as far as the Workers entry uses it. */
export interface DurableObjectStorageLike {
  /** Reads every key starting with `prefix`. */
  list<T = unknown>(options: { prefix: string }): Promise<Map<string, T>>;
  /** Writes a key (a structured clone of `value`). */
  put(key: string, value: unknown): Promise<void>;
  /** Deletes up to 128 keys. */
  delete(keys: string[]): Promise<number>;
  /** The time of the alarm set, or null. */
  getAlarm(): Promise<number | null>;
  /** Sets the object's one alarm (ms since the epoch); `alarm()` runs then. */
  setAlarm(scheduledTime: number): Promise<void>;
  /** Clears the alarm. */
  deleteAlarm(): Promise<void>;
}

/** A Durable Object's `ctx`, as far as the Workers entry uses it. */
export interface DurableObjectStateLike extends HibernationHost {
  /** The object's storage. */
  readonly storage: DurableObjectStorageLike;
  /** The hibernatable WebSockets accepted so far, in this process or an earlier one. */
  getWebSockets(tag?: string): WorkerdWebSocket[];
  /** Holds every event until `fn` settles (used once, at start, to restore). */
  blockConcurrencyWhile<T>(fn: () => Promise<T>): Promise<T>;
}

/** A Durable Object namespace binding (`env.SOCKET_IO`), as far as the Worker entry uses it. */
export interface DurableObjectNamespaceLike {
  /** The id of the object named `name`. */
  idFromName(name: string): unknown;
  /** A stub of the object with id `id`. */
  get(id: unknown): { fetch(req: Request): Promise<Response> };
}
