/**
 * Admission control of handshakes: how many sessions may be open at once (`maxClients`) and how
 * fast new ones may come (`handshakeRate`), for the whole server and per client address. A
 * handshake past a limit is refused with `503` and `Retry-After`; requests of open sessions are
 * never counted nor refused. Browser compatible.
 *
 * Each rate is a token bucket kept as one number, its theoretical arrival time (the generic cell
 * rate algorithm): `count` handshakes may come at once, then one every `windowMs / count` ms.
 * A refused handshake is told to come back when a token frees for it, after those refused before
 * it, so a reconnect storm is spread over the time the limit needs to let it in, rather than
 * coming back all at once (the refused are sent at most {@linkcode MAX_RETRY_AFTER} s ahead).
 *
 * @module
 */
import type { RequestSnapshot } from "./request.ts";

/**
 * A rate: at most `count` handshakes in any `windowMs` milliseconds, `count` of them at once.
 *
 * @example 100 handshakes a second
 * ```ts
 * import type { RateLimit } from "@socketio-edge/core/engine";
 *
 * const rate: RateLimit = { count: 100, windowMs: 1000 };
 * ```
 */
export interface RateLimit {
  /** How many handshakes a window takes (a whole number, at least 1). */
  count: number;
  /** The window, in milliseconds. */
  windowMs: number;
}

/**
 * A rate per client address, with the bound of the memory it takes.
 *
 * @example Behind a proxy that sets `X-Forwarded-For`
 * ```ts
 * import type { AddressRateLimit } from "@socketio-edge/core/engine";
 *
 * const perAddress: AddressRateLimit = {
 *   count: 5,
 *   windowMs: 10_000,
 *   key: (req) => req.headers["x-forwarded-for"]?.split(",")[0].trim() ?? req.address,
 * };
 * ```
 */
export interface AddressRateLimit extends RateLimit {
  /**
   * How many addresses are remembered at most (default 10000, at least 2): past it, those heard
   * from least recently are forgotten (one that comes back starts afresh). They are kept in two
   * generations of half as many each, the older one dropped whole when the newer is full or a
   * window has passed, so that forgetting costs nothing per handshake and memory returns after a
   * flood; an address heard from again within a window is never forgotten that way, as its
   * bucket could still refuse it.
   */
  maxAddresses?: number;
  /**
   * The key a handshake is counted under (default: `req.address`, the address the runtime
   * reports, `""` where it reports none). Behind a proxy every client has the proxy's address:
   * read the client's from the proxy's header here. An IPv6 client may hold a whole /64: return
   * its prefix to count them together.
   */
  key?: (req: RequestSnapshot) => string;
}

/**
 * The `handshakeRate` option: a rate for the whole server, one per client address, or both.
 *
 * @example
 * ```ts
 * import type { HandshakeRateOptions } from "@socketio-edge/core/engine";
 *
 * const handshakeRate: HandshakeRateOptions = {
 *   perServer: { count: 500, windowMs: 1000 },
 *   perAddress: { count: 10, windowMs: 10_000 },
 * };
 * ```
 */
export interface HandshakeRateOptions {
  /** Handshakes the server takes, from everyone. */
  perServer?: RateLimit;
  /** Handshakes the server takes from one client address (see {@linkcode AddressRateLimit.key}). */
  perAddress?: AddressRateLimit;
}

/** Which limit refused a handshake: the option's name. */
export type AdmissionLimit = "maxClients" | "handshakeRate.perServer" | "handshakeRate.perAddress";

/**
 * A refused handshake, as `connection_error` reports it in `context`: `name` is always
 * `"SERVER_BUSY"`, `limit` the option that refused it, `retryAfter` the seconds of the
 * `Retry-After` header.
 *
 * @example
 * ```ts
 * import { Server } from "@socketio-edge/core/engine";
 *
 * const engine = new Server({ maxClients: 10_000 });
 * engine.on("connection_error", ({ context }) => {
 *   if (context.name === "SERVER_BUSY") console.warn(`refused by ${context.limit}`);
 * });
 * ```
 */
export interface AdmissionRefusal {
  /** Always `"SERVER_BUSY"`. */
  name: "SERVER_BUSY";
  /** The option that refused the handshake. */
  limit: AdmissionLimit;
  /** Seconds the client is told to wait (`Retry-After`), at least 1. */
  retryAfter: number;
}

/** The longest `Retry-After` a rate sends, in seconds: a storm is spread over a minute at most. */
export const MAX_RETRY_AFTER = 60;

/** The default of {@linkcode AddressRateLimit.maxAddresses}. */
export const DEFAULT_MAX_ADDRESSES = 10_000;

/** The `Retry-After` of a full server: a slot frees when any session closes, which may be now. */
const FULL_RETRY_AFTER = 1;

/** One bucket: its theoretical arrival time, and the slot the last refused handshake was sent to. */
interface Bucket {
  tat: number;
  due: number;
}

/** One rate's arithmetic, shared by every bucket of that rate. */
class Rate {
  /** Milliseconds per token. */
  readonly interval: number;
  /** How far ahead of now the arrival time may be and still admit: `count - 1` tokens' worth. */
  readonly tolerance: number;

  constructor(rate: RateLimit) {
    this.interval = rate.windowMs / rate.count;
    this.tolerance = rate.windowMs - this.interval;
  }

  /** Whether `b` admits one more handshake now. */
  admits(b: Bucket, now: number): boolean {
    return b.tat - now <= this.tolerance;
  }

  /** Counts an admitted handshake. */
  take(b: Bucket, now: number): void {
    b.tat = Math.max(b.tat, now) + this.interval;
  }

  /**
   * A refused handshake: sent to the first slot after those of the handshakes refused before it.
   *
   * @returns milliseconds until that slot admits it
   */
  defer(b: Bucket, now: number): number {
    const horizon = now + this.tolerance + MAX_RETRY_AFTER * 1000;
    const slot = Math.min(Math.max(b.due, b.tat), horizon);
    b.due = slot + this.interval;
    return slot - this.tolerance - now;
  }
}

/** Seconds of a `Retry-After` for a wait of `ms` milliseconds: rounded up, at least 1. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * The admission state of one engine: the open and pending session count against `maxClients`,
 * the server's bucket and the addresses' buckets (two generations of a map, an approximate LRU).
 */
export class Admission {
  readonly #maxClients: number;
  readonly #server: Rate | undefined;
  readonly #serverBucket: Bucket = { tat: 0, due: 0 };
  readonly #address: Rate | undefined;
  readonly #key: ((req: RequestSnapshot) => string) | undefined;
  readonly #generation: number;
  readonly #window: number;
  // Addresses heard from since the last rotation, and in the generation before; a rotation drops
  // the older one whole (deleting entries one by one from a Map's front costs a scan each in V8).
  #current = new Map<string, Bucket>();
  #previous = new Map<string, Bucket>();
  #rotateAt = 0;
  /** Handshakes admitted and not yet open (a session counts in `clients` once open). */
  pending = 0;

  /**
   * @param maxClients sessions open at once (Infinity: no limit)
   * @param rate the handshake rates, if any
   */
  constructor(maxClients: number, rate: HandshakeRateOptions = {}) {
    this.#maxClients = maxClients;
    this.#server = rate.perServer && new Rate(rate.perServer);
    const perAddress = rate.perAddress;
    this.#address = perAddress && new Rate(perAddress);
    this.#key = perAddress?.key;
    this.#generation = Math.floor((perAddress?.maxAddresses ?? DEFAULT_MAX_ADDRESSES) / 2);
    this.#window = perAddress?.windowMs ?? 0;
  }

  /**
   * Admits a handshake (and counts it) or refuses it.
   *
   * @param req the handshake request
   * @param open how many sessions are open
   * @param now the engine's clock
   * @returns undefined when admitted (then `pending` counts it until it opened or failed), else
   * the refusal
   * @throws what `perAddress.key` throws
   */
  admit(req: RequestSnapshot, open: number, now: number): AdmissionRefusal | undefined {
    if (open + this.pending >= this.#maxClients) {
      return { name: "SERVER_BUSY", limit: "maxClients", retryAfter: FULL_RETRY_AFTER };
    }
    let bucket: Bucket | undefined;
    const address = this.#address;
    if (address) {
      bucket = this.#bucket(this.#key ? String(this.#key(req)) : req.address, now);
      if (!address.admits(bucket, now)) {
        const retryAfter = seconds(address.defer(bucket, now));
        return { name: "SERVER_BUSY", limit: "handshakeRate.perAddress", retryAfter };
      }
    }
    const server = this.#server;
    if (server) {
      const b = this.#serverBucket;
      if (!server.admits(b, now)) {
        const retryAfter = seconds(server.defer(b, now));
        return { name: "SERVER_BUSY", limit: "handshakeRate.perServer", retryAfter };
      }
      server.take(b, now);
    }
    if (bucket) address!.take(bucket, now);
    this.pending++;
    return undefined;
  }

  /** How many addresses are remembered (for tests and metrics). */
  get addresses(): number {
    return this.#current.size + this.#previous.size;
  }

  /**
   * The bucket of `key`, in the newer generation. An address untouched for a whole window is
   * dropped at the second rotation after it was heard from: by then its bucket is full again.
   */
  #bucket(key: string, now: number): Bucket {
    if (now >= this.#rotateAt) this.#rotate(now);
    let bucket = this.#current.get(key);
    if (bucket) return bucket;
    bucket = this.#previous.get(key);
    if (bucket) this.#previous.delete(key);
    else bucket = { tat: 0, due: 0 };
    if (this.#current.size >= this.#generation) this.#rotate(now);
    this.#current.set(key, bucket);
    return bucket;
  }

  #rotate(now: number): void {
    // After a window and more without a handshake, the newer generation is stale too.
    this.#previous = now >= this.#rotateAt + this.#window ? new Map() : this.#current;
    this.#current = new Map();
    this.#rotateAt = now + this.#window;
  }
}
