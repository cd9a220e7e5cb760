/**
 * The in-memory adapter with connection state recovery. Browser compatible.
 *
 * Mirrors `SessionAwareAdapter` from `socket.io-adapter@2.5.x`.
 *
 * @module
 */
import type {
  AdapterNamespace,
  BroadcastOptions,
  Packet,
  PrivateSessionId,
  Session,
  SessionToPersist,
} from "./adapter.ts";
import { InMemoryAdapter } from "./memory.ts";
import { ReplayLog } from "./replay_log.ts";

/**
 * Options of {@linkcode SessionAwareAdapter}.
 *
 * @example
 * ```ts
 * import type { SessionAwareAdapterOptions } from "@socketio-edge/core/adapter";
 *
 * const options: SessionAwareAdapterOptions = { maxDisconnectionDuration: 60_000 };
 * ```
 */
export interface SessionAwareAdapterOptions {
  /**
   * How long, in milliseconds, a disconnected session and the packets broadcast meanwhile are
   * kept. Default: 120000 (2 minutes), as in Socket.IO.
   */
  maxDisconnectionDuration?: number;
}

interface StoredSession extends SessionToPersist {
  disconnectedAt: number;
}

// How often expired sessions are swept (lazily, on persist: no timer keeps the process alive).
const SWEEP_INTERVAL = 60_000;

/**
 * The in-memory adapter with connection state recovery, as `SessionAwareAdapter` from
 * `socket.io-adapter`: it keeps disconnected sessions and the event packets broadcast for
 * `maxDisconnectionDuration`, tags each such packet with an offset (appended to its data), and
 * replays what a client missed after its last offset.
 *
 * Packets with an ack id or the `volatile` flag are not stored. Expired state is dropped lazily,
 * without timers.
 *
 * @example
 * ```ts
 * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
 *
 * const adapter = new SessionAwareAdapter(
 *   { name: "/", sockets: new Map(), encoder: { encode: () => [] }, nextAckId: () => 0 },
 *   { maxDisconnectionDuration: 60_000 },
 * );
 * adapter.persistSession({ sid: "abc", pid: "secret", rooms: ["abc"], data: {} });
 * ```
 */
export class SessionAwareAdapter extends InMemoryAdapter {
  readonly #maxDisconnectionDuration: number;
  readonly #sessions = new Map<PrivateSessionId, StoredSession>();
  readonly #log: ReplayLog;
  #lastSweep = Date.now();

  /**
   * Build the adapter of a namespace.
   *
   * @param nsp The namespace this adapter serves.
   * @param options How long sessions are kept.
   */
  constructor(nsp: AdapterNamespace, options: SessionAwareAdapterOptions = {}) {
    super(nsp);
    this.#maxDisconnectionDuration = options.maxDisconnectionDuration ?? 120_000;
    this.#log = new ReplayLog(this.#maxDisconnectionDuration);
  }

  /**
   * Save a disconnected socket's state until `maxDisconnectionDuration` has passed.
   *
   * @example
   * ```ts
   * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new SessionAwareAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * adapter.persistSession({ sid: "abc", pid: "secret", rooms: ["abc"], data: {} });
   * ```
   */
  override persistSession(session: SessionToPersist): void | Promise<void> {
    const now = Date.now();
    this.#sweepSessions(now);
    this.#sessions.set(session.pid, { ...session, disconnectedAt: now });
  }

  /**
   * Restore the session saved under `pid` with the packets broadcast after
   * `offset` that reached its rooms, or `null` when the session or the offset has expired or is
   * unknown.
   *
   * @example
   * ```ts
   * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new SessionAwareAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * console.log(await adapter.restoreSession("secret", "unknown")); // null
   * ```
   */
  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session | null> {
    const stored = this.#sessions.get(pid);
    if (stored === undefined) return Promise.resolve(null);
    const now = Date.now();
    if (stored.disconnectedAt + this.#maxDisconnectionDuration < now) {
      this.#sessions.delete(pid);
      return Promise.resolve(null);
    }
    const missedPackets = this.#log.since(offset, stored.rooms, now);
    if (missedPackets === null) return Promise.resolve(null);
    const { disconnectedAt: _, ...session } = stored;
    return Promise.resolve({ ...session, missedPackets });
  }

  /**
   * Broadcast `packet`; an event without ack id or `volatile` flag is first stored and its
   * offset appended to its data, so that clients can resume after it.
   *
   * @example
   * ```ts
   * import { SessionAwareAdapter } from "@socketio-edge/core/adapter";
   *
   * const adapter = new SessionAwareAdapter({
   *   name: "/",
   *   sockets: new Map(),
   *   encoder: { encode: () => [] },
   *   nextAckId: () => 0,
   * });
   * const packet = { type: 2 as const, nsp: "/", data: ["hello"] };
   * adapter.broadcast(packet, { rooms: new Set() });
   * console.log(packet.data.length); // 2: the offset was appended
   * ```
   */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    // Packets with an ack are not stored: the callback cannot be restored on reconnection.
    if (
      packet.type === 2 && packet.id === undefined && !opts.flags?.volatile &&
      Array.isArray(packet.data)
    ) {
      // The offset goes last in the data, so the client knows the last packet it processed.
      packet.data.push(this.#log.append(opts, packet.data, Date.now()));
    }
    super.broadcast(packet, opts);
  }

  #sweepSessions(now: number): void {
    if (now - this.#lastSweep < SWEEP_INTERVAL) return;
    this.#lastSweep = now;
    const threshold = now - this.#maxDisconnectionDuration;
    for (const [pid, session] of this.#sessions) {
      if (session.disconnectedAt < threshold) this.#sessions.delete(pid);
    }
  }
}
