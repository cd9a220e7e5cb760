/**
 * A cluster adapter that counts the nodes from their heartbeats, as `socket.io-adapter`'s
 * `ClusterAdapterWithHeartbeat`. Browser compatible.
 *
 * @module
 */
import type { AdapterNamespace } from "../adapter.ts";
import { ClusterAdapter, type ClusterAdapterOptions, EMITTER_UID } from "./cluster_adapter.ts";
import {
  type ClusterMessage,
  type ClusterResponse,
  MessageType,
  type Offset,
  type ServerId,
} from "./messages.ts";

/**
 * Options of {@linkcode ClusterAdapterWithHeartbeat}.
 *
 * @example
 * ```ts
 * import type { ClusterAdapterWithHeartbeatOptions } from "@socketio-edge/core/cluster";
 *
 * const options: ClusterAdapterWithHeartbeatOptions = {
 *   heartbeatInterval: 5_000,
 *   heartbeatTimeout: 10_000,
 *   requestsTimeout: 5_000,
 * };
 * ```
 */
export interface ClusterAdapterWithHeartbeatOptions extends ClusterAdapterOptions {
  /** Milliseconds between two heartbeats (sent only when nothing else was). Default: 5000. */
  heartbeatInterval?: number;
  /** Milliseconds without any message after which a node counts as gone. Default: 10000. */
  heartbeatTimeout?: number;
}

/**
 * A {@linkcode ClusterAdapter} that knows the other nodes from what they send: each announces
 * itself when it starts (INITIAL_HEARTBEAT, answered by a HEARTBEAT of every other node),
 * sends a HEARTBEAT when it has published nothing for `heartbeatInterval`, and ADAPTER_CLOSE
 * when it closes. A node silent for `heartbeatTimeout` counts as gone. `serverCount()` is 1 plus
 * the live nodes, and `fetchSockets()` and `serverSideEmit()` with acks wait for exactly the
 * live nodes (a node that goes meanwhile is no longer waited for).
 *
 * @example An adapter over an in-process bus, nodes counted by heartbeats
 * ```ts
 * import {
 *   type ClusterMessage,
 *   ClusterAdapterWithHeartbeat,
 *   type ClusterResponse,
 * } from "@socketio-edge/core/cluster";
 * import type { AdapterNamespace } from "@socketio-edge/core/adapter";
 *
 * const bus = new Set<BusAdapter>();
 *
 * class BusAdapter extends ClusterAdapterWithHeartbeat {
 *   constructor(nsp: AdapterNamespace) {
 *     super(nsp, { heartbeatInterval: 1_000, heartbeatTimeout: 3_000 });
 *     bus.add(this);
 *   }
 *   protected doPublish(message: ClusterMessage): Promise<undefined> {
 *     for (const node of bus) if (node !== this) node.onMessage(structuredClone(message));
 *     return Promise.resolve(undefined);
 *   }
 *   protected doPublishResponse(_uid: string, response: ClusterResponse): Promise<void> {
 *     for (const node of bus) if (node !== this) node.onMessage(structuredClone(response));
 *     return Promise.resolve();
 *   }
 *   override close(): void {
 *     super.close();
 *     bus.delete(this);
 *   }
 * }
 * ```
 */
export abstract class ClusterAdapterWithHeartbeat extends ClusterAdapter {
  readonly #heartbeatInterval: number;
  readonly #heartbeatTimeout: number;
  // Node id to when it was last heard of (by the server's clock).
  readonly #nodes = new Map<ServerId, number>();
  #lastPublish = 0;
  #heartbeatTimer: unknown;
  #cleanupTimer: unknown;
  #started = false;

  /**
   * Build the adapter of a namespace.
   *
   * @param nsp The namespace this adapter serves.
   * @param options Heartbeat and request timings.
   */
  constructor(nsp: AdapterNamespace, options: ClusterAdapterWithHeartbeatOptions = {}) {
    super(nsp, options);
    this.#heartbeatInterval = options.heartbeatInterval ?? 5_000;
    this.#heartbeatTimeout = options.heartbeatTimeout ?? 10_000;
  }

  /**
   * Announces this node to the others (INITIAL_HEARTBEAT) and starts the heartbeat and the
   * check for silent nodes. The namespace calls it once.
   *
   * @example
   * ```ts ignore
   * await adapter.init();
   * ```
   */
  override init(): void | Promise<void> {
    if (this.#started || this.closed) return;
    this.#started = true;
    void this.publish(this.message(MessageType.INITIAL_HEARTBEAT));
    this.#armHeartbeat(this.#heartbeatInterval);
    this.#armCleanup();
  }

  #armHeartbeat(ms: number): void {
    this.#heartbeatTimer = this.timers.set(() => {
      // One timer for the adapter's life: re-armed for what is left of the interval when
      // something was published meanwhile (publishing costs no timer operation).
      const elapsed = this.timers.now() - this.#lastPublish;
      if (elapsed >= this.#heartbeatInterval) {
        void this.publish(this.message(MessageType.HEARTBEAT));
        this.#armHeartbeat(this.#heartbeatInterval);
      } else {
        this.#armHeartbeat(this.#heartbeatInterval - elapsed);
      }
    }, ms);
  }

  #armCleanup(): void {
    this.#cleanupTimer = this.timers.set(() => {
      const now = this.timers.now();
      for (const [uid, seen] of this.#nodes) {
        if (now - seen > this.#heartbeatTimeout) this.#removeNode(uid);
      }
      this.#armCleanup();
    }, Math.min(1_000, this.#heartbeatTimeout));
  }

  /**
   * Tells the other nodes this one is gone (ADAPTER_CLOSE), stops the timers and answers the
   * pending requests.
   *
   * @example
   * ```ts ignore
   * await io.close(); // closes every namespace's adapter
   * ```
   */
  override close(): void | Promise<void> {
    if (this.closed) return;
    if (this.#started) void this.publish(this.message(MessageType.ADAPTER_CLOSE));
    this.timers.clear(this.#heartbeatTimer);
    this.timers.clear(this.#cleanupTimer);
    this.#nodes.clear();
    return super.close();
  }

  /** Publishes `message`, which also stands for this interval's heartbeat. */
  protected override publish(message: ClusterMessage): Promise<Offset | undefined> {
    this.#lastPublish = this.timers.now();
    return super.publish(message);
  }

  /**
   * Handles a message from another node: every message tells that its sender is alive (the
   * emitter's are no node's); heartbeats and ADAPTER_CLOSE are handled here, the rest by
   * {@linkcode ClusterAdapter.onMessage}.
   *
   * @param message what the transport received
   * @param offset where it sits in the transport's log, if it has one
   *
   * @example
   * ```ts ignore
   * channel.onmessage = (event) => adapter.onMessage(event.data);
   * ```
   */
  override onMessage(message: ClusterMessage | ClusterResponse, offset?: Offset): void {
    if (typeof message !== "object" || message === null) return;
    const uid = message.uid;
    if (uid === this.uid || message.nsp !== this.nsp.name || this.closed) return;
    if (typeof uid === "string" && uid !== EMITTER_UID) this.#nodes.set(uid, this.timers.now());
    switch (message.type) {
      case MessageType.INITIAL_HEARTBEAT:
        void this.publish(this.message(MessageType.HEARTBEAT));
        return;
      case MessageType.HEARTBEAT:
        return;
      case MessageType.ADAPTER_CLOSE:
        this.#removeNode(uid);
        return;
      default:
        super.onMessage(message, offset);
    }
  }

  /**
   * The number of servers: this one and every node heard of within `heartbeatTimeout`.
   *
   * @example
   * ```ts ignore
   * console.log(await io.of("/").adapter.serverCount()); // 3 with two other live nodes
   * ```
   */
  override serverCount(): Promise<number> {
    return Promise.resolve(1 + this.#nodes.size);
  }

  /** Requests wait for exactly the live nodes. */
  protected override expectedResponders(): Promise<Set<ServerId>> {
    return Promise.resolve(new Set(this.#nodes.keys()));
  }

  #removeNode(uid: ServerId): void {
    this.#nodes.delete(uid);
    this.nodeGone(uid);
  }
}
