/**
 * The base of every cluster adapter: the official `socket.io-adapter` `ClusterAdapter` message
 * family over an abstract transport. Browser compatible.
 *
 * @module
 */
import type {
  AdapterNamespace,
  AdapterSocket,
  AdapterTimers,
  BroadcastOptions,
  Packet,
  Room,
  SocketDetails,
} from "../adapter.ts";
import { InMemoryAdapter } from "../memory.ts";
import { type MissingNodes, withMissing } from "../partial.ts";
import { report } from "../../server/runtime/report.ts";
import {
  type ClusterMessage,
  type ClusterResponse,
  decodeOptions,
  encodeOptions,
  MessageType,
  type Offset,
  type ServerId,
  type WirePacket,
} from "./messages.ts";

/**
 * Options of every cluster adapter.
 *
 * @example
 * ```ts
 * import type { ClusterAdapterOptions } from "@socketio-edge/core/cluster";
 *
 * const options: ClusterAdapterOptions = { requestsTimeout: 2_000 };
 * ```
 */
export interface ClusterAdapterOptions {
  /**
   * How long, in milliseconds, `fetchSockets()` (without its own `timeout()`) and
   * `serverSideEmit()` with an ack wait for the other nodes. Default: 5000, as officially.
   */
  requestsTimeout?: number;
  /**
   * What a request some nodes did not answer in time resolves with (`fetchSockets()`,
   * `serverSideEmit()` with an ack, a broadcast with acks whose nodes did not all say how many
   * clients got it): `true` (the default, ours), the live nodes' answers, with the nodes that
   * did not answer in the array's `missing` (see `PartialAnswers`); `false`, the official
   * error (`timeout reached: ...`, `operation has timed out`).
   */
  partialResponses?: boolean;
}

/** What a request to the other nodes waits for. */
interface PendingRequest {
  /** The ids of the nodes that have not answered (nodes counted by heartbeats). */
  readonly missing: Set<ServerId> | undefined;
  /** How many answers are still expected (nodes counted otherwise). */
  remaining: number;
  readonly expected: number;
  readonly responses: unknown[];
  readonly kind: "fetch" | "emit";
  timer: unknown;
  settle(err: Error | null, responses: unknown[]): void;
}

interface AckRequest {
  readonly clientCountCallback: (clientCount: number) => void;
  readonly ack: (...args: unknown[]) => void;
  readonly timer: unknown;
  /** The other nodes that said how many of their clients got it. */
  readonly counted: Set<ServerId>;
  /** The other nodes expected to say it, once known. */
  expected: number | Set<ServerId> | undefined;
}

/**
 * The uid the official emitter (`@socket.io/redis-emitter`) publishes with: its messages are
 * delivered, but it is counted as no node.
 *
 * @example
 * ```ts
 * import { EMITTER_UID } from "@socketio-edge/core/cluster";
 *
 * console.log(EMITTER_UID); // "emitter"
 * ```
 */
export const EMITTER_UID = "emitter";
const DEFAULT_REQUESTS_TIMEOUT = 5_000;

// Timers where the namespace has none of its own (an adapter built by hand).
const DEFAULT_TIMERS: AdapterTimers = {
  now: () => Date.now(),
  set: (fn, ms) => globalThis.setTimeout(fn, ms),
  clear: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * A 16-hex-digit random id, the shape of the official adapters' uids and request ids.
 *
 * @example
 * ```ts
 * import { randomId } from "@socketio-edge/core/cluster";
 *
 * console.log(randomId().length); // 16
 * ```
 */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let id = "";
  for (const byte of bytes) id += byte.toString(16).padStart(2, "0");
  return id;
}

/**
 * A cluster-ready adapter, as `ClusterAdapter` from `socket.io-adapter`: broadcasts, room
 * changes, disconnections, `fetchSockets`, `serverSideEmit` (with and without acks) and
 * broadcasts with acks reach the other nodes as the official messages (types 3 to 12), and their
 * answers come back. Local delivery is the in-memory adapter's (with the runtime's native
 * fan-out where there is one); the `local` flag keeps an operation on this node, unpublished.
 *
 * A subclass moves the messages: it implements {@linkcode ClusterAdapter.doPublish} (to every
 * other node) and {@linkcode ClusterAdapter.doPublishResponse} (to one), and hands what it
 * receives to {@linkcode ClusterAdapter.onMessage} (and, if it keeps responses apart, to
 * {@linkcode ClusterAdapter.onResponse}). Without heartbeats it counts the nodes itself:
 * override `serverCount()` (as Redis' `PUBSUB NUMSUB` does); {@linkcode ClusterAdapterWithHeartbeat}
 * counts them from heartbeats.
 *
 * @example An adapter over an in-process bus
 * ```ts
 * import { ClusterAdapter, type ClusterMessage, type ClusterResponse } from "@socketio-edge/core/cluster";
 * import type { AdapterNamespace } from "@socketio-edge/core/adapter";
 *
 * const bus = new Set<BusAdapter>();
 *
 * class BusAdapter extends ClusterAdapter {
 *   constructor(nsp: AdapterNamespace) {
 *     super(nsp);
 *     bus.add(this);
 *   }
 *   protected doPublish(message: ClusterMessage): Promise<undefined> {
 *     for (const node of bus) if (node !== this) node.onMessage(structuredClone(message));
 *     return Promise.resolve(undefined);
 *   }
 *   protected doPublishResponse(_uid: string, response: ClusterResponse): Promise<void> {
 *     for (const node of bus) if (node !== this) node.onResponse(structuredClone(response));
 *     return Promise.resolve();
 *   }
 *   override serverCount(): Promise<number> {
 *     return Promise.resolve(bus.size);
 *   }
 *   override close(): void {
 *     bus.delete(this);
 *     super.close();
 *   }
 * }
 * ```
 */
export abstract class ClusterAdapter extends InMemoryAdapter {
  /** This adapter's id in the cluster (one per namespace and server). */
  readonly uid: ServerId = randomId();
  /** How long requests wait for the other nodes, in milliseconds. */
  protected readonly requestsTimeout: number;
  /** Whether requests resolve with the live nodes' answers (see `partialResponses`). */
  protected readonly partialResponses: boolean;
  /**
   * Set by an adapter whose `doPublish` resolves with an offset that clients may resume from
   * (connection state recovery over a durable log): a broadcast is then delivered locally once
   * its offset is known, with the offset appended to its data, as officially.
   */
  protected recoveryOffsets = false;
  /**
   * Set, with {@linkcode ClusterAdapter.recoveryOffsets}, by an adapter that reads its own
   * broadcasts back from its log: it delivers them locally then, by
   * {@linkcode ClusterAdapter.onOwnLogged}, so that this node's sockets get the log's packets in
   * the log's order whichever node wrote them (a client's offset only grows, and a replay from it
   * neither repeats nor skips a packet).
   */
  protected ownBroadcastsFromLog = false;
  readonly #requests = new Map<string, PendingRequest>();
  readonly #ackRequests = new Map<string, AckRequest>();
  #closed = false;
  #timers: AdapterTimers | undefined;

  /**
   * Build the adapter of a namespace.
   *
   * @param nsp The namespace this adapter serves.
   * @param options How long requests wait.
   */
  constructor(nsp: AdapterNamespace, options: ClusterAdapterOptions = {}) {
    super(nsp);
    this.requestsTimeout = options.requestsTimeout ?? DEFAULT_REQUESTS_TIMEOUT;
    this.partialResponses = options.partialResponses ?? true;
  }

  /**
   * The timers of the server (its engine's scheduler), taken once: every timer of the adapter
   * is cleared where it was armed.
   */
  protected get timers(): AdapterTimers {
    return this.#timers ??= this.nsp.timers ?? DEFAULT_TIMERS;
  }

  /** Whether {@linkcode ClusterAdapter.close} was called. */
  protected get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends `message` to every other node of the cluster (the message is complete: `uid` and
   * `nsp` are set). It must be serialized before this returns: the caller goes on using the
   * objects in it. Resolves with the message's offset where the transport has one.
   */
  protected abstract doPublish(message: ClusterMessage): Promise<Offset | undefined>;

  /** Sends `response` to the node `requesterUid` (or to all, who ignore what is not theirs). */
  protected abstract doPublishResponse(
    requesterUid: ServerId,
    response: ClusterResponse,
  ): Promise<void>;

  /**
   * Publishes a message of this node; the promise of its offset never rejects (a failure is
   * reported and resolves `undefined`).
   */
  protected publish(message: ClusterMessage): Promise<Offset | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    let sent: Promise<Offset | undefined>;
    try {
      sent = this.doPublish(message);
    } catch (err) {
      sent = Promise.reject(err);
    }
    return sent.catch((err) => {
      report(err);
      return undefined;
    });
  }

  /** Sends a response to `requesterUid`; a failure is reported. */
  protected publishResponse(requesterUid: ServerId, response: ClusterResponse): void {
    if (this.#closed) return;
    try {
      this.doPublishResponse(requesterUid, response).catch(report);
    } catch (err) {
      report(err);
    }
  }

  /**
   * The nodes whose answers a request waits for: a number of them (counted by `serverCount()`),
   * or their ids where the adapter tracks them ({@linkcode ClusterAdapterWithHeartbeat}).
   */
  protected async expectedResponders(): Promise<number | Set<ServerId>> {
    return (await this.serverCount()) - 1;
  }

  /**
   * Handles a message from another node (messages of this node and of other namespaces are
   * ignored; responses go to {@linkcode ClusterAdapter.onResponse}). Anything that is not a
   * well-formed message is ignored too.
   *
   * @param message what the transport received
   * @param offset where it sits in the transport's log, if it has one
   *
   * @example Feeding a message received elsewhere
   * ```ts ignore
   * channel.onmessage = (event) => adapter.onMessage(event.data);
   * ```
   */
  onMessage(message: ClusterMessage | ClusterResponse, offset?: Offset): void {
    if (typeof message !== "object" || message === null || this.#closed) return;
    if (message.uid === this.uid || message.nsp !== this.nsp.name) return;
    // Never thrown to the transport, whose callback it runs in: what a message sets off that
    // fails (data the encoder refuses, an application's listener) is reported.
    try {
      this.#onMessage(message, offset);
    } catch (err) {
      report(err);
    }
  }

  /**
   * Delivers locally a broadcast (without acks) of this node read back from the log, where
   * {@linkcode ClusterAdapter.ownBroadcastsFromLog} is set; anything else is ignored.
   *
   * @param message this node's message, as read from the log
   * @param offset where it sits in the log
   */
  protected onOwnLogged(message: ClusterMessage, offset: Offset): void {
    if (this.#closed || !this.ownBroadcastsFromLog || message.type !== MessageType.BROADCAST) {
      return;
    }
    if ((message.data as { requestId?: unknown } | undefined)?.requestId !== undefined) return;
    try {
      this.#onMessage(message, offset);
    } catch (err) {
      report(err);
    }
  }

  #onMessage(message: ClusterMessage | ClusterResponse, offset: Offset | undefined): void {
    const data = message.data as Record<string, unknown> | undefined;
    // A number: a transport may hand responses here too.
    switch (message.type as number) {
      case MessageType.BROADCAST: {
        const opts = decodeOptions(data?.opts);
        const packet = data?.packet as Packet | undefined;
        // An event, as every node and emitter sends: anything else would go to the clients as
        // a packet they cannot parse (and close on).
        if (opts === undefined || !isEvent(packet)) return;
        const requestId = data?.requestId;
        if (typeof requestId !== "string") {
          this.addOffsetIfNecessary(packet, opts, offset);
          super.broadcast(packet, opts);
          return;
        }
        const requester = message.uid;
        super.broadcastWithAck(packet, opts, (clientCount) => {
          this.publishResponse(
            requester,
            this.#response({
              type: MessageType.BROADCAST_CLIENT_COUNT,
              data: { requestId, clientCount },
            }),
          );
        }, (arg) => {
          this.publishResponse(
            requester,
            this.#response({
              type: MessageType.BROADCAST_ACK,
              data: { requestId, packet: arg },
            }),
          );
        });
        return;
      }
      case MessageType.SOCKETS_JOIN:
      case MessageType.SOCKETS_LEAVE: {
        const opts = decodeOptions(data?.opts);
        const rooms = data?.rooms;
        if (opts === undefined || !Array.isArray(rooms)) return;
        if (message.type === MessageType.SOCKETS_JOIN) super.addSockets(opts, rooms);
        else super.delSockets(opts, rooms);
        return;
      }
      case MessageType.DISCONNECT_SOCKETS: {
        const opts = decodeOptions(data?.opts);
        if (opts !== undefined) super.disconnectSockets(opts, data?.close === true);
        return;
      }
      case MessageType.FETCH_SOCKETS: {
        const opts = decodeOptions(data?.opts);
        const requestId = data?.requestId;
        if (opts === undefined || typeof requestId !== "string") return;
        const requester = message.uid;
        super.fetchSockets(opts).then((sockets) => {
          this.publishResponse(
            requester,
            this.#response({
              type: MessageType.FETCH_SOCKETS_RESPONSE,
              data: { requestId, sockets: sockets.map(details) },
            }),
          );
        }).catch(report);
        return;
      }
      case MessageType.SERVER_SIDE_EMIT: {
        const packet = data?.packet;
        if (!Array.isArray(packet)) return;
        const requestId = data?.requestId;
        if (typeof requestId !== "string") {
          this.#onServerSideEmit(packet);
          return;
        }
        const requester = message.uid;
        let called = false;
        // The sender takes one argument per node, as officially.
        const callback = (arg: unknown) => {
          if (called) return;
          called = true;
          this.publishResponse(
            requester,
            this.#response({
              type: MessageType.SERVER_SIDE_EMIT_RESPONSE,
              data: { requestId, packet: arg },
            }),
          );
        };
        this.#onServerSideEmit([...packet, callback]);
        return;
      }
      case MessageType.FETCH_SOCKETS_RESPONSE:
      case MessageType.SERVER_SIDE_EMIT_RESPONSE:
      case MessageType.BROADCAST_CLIENT_COUNT:
      case MessageType.BROADCAST_ACK:
        // A transport may not keep responses apart from messages.
        this.onResponse(message as unknown as ClusterResponse);
        return;
    }
  }

  #onServerSideEmit(args: unknown[]): void {
    try {
      this.nsp.onServerSideEmit?.(args);
    } catch (err) {
      report(err); // the application's listener
    }
  }

  /**
   * Handles another node's answer to a request of this node; answers to other nodes, late
   * answers and anything malformed are ignored.
   *
   * @param response what the transport received
   *
   * @example Feeding a response received on a channel of its own
   * ```ts ignore
   * responses.onmessage = (event) => adapter.onResponse(event.data);
   * ```
   */
  onResponse(response: ClusterResponse): void {
    if (typeof response !== "object" || response === null || this.#closed) return;
    const data = response.data as Record<string, unknown> | undefined;
    const requestId = data?.requestId;
    if (typeof requestId !== "string") return;
    switch (response.type) {
      case MessageType.BROADCAST_CLIENT_COUNT: {
        const count = data?.clientCount;
        const request = this.#ackRequests.get(requestId);
        if (typeof count !== "number" || request === undefined) return;
        // One count per node: a second one of the same node does not stand for another's.
        if (request.counted.has(response.uid)) return;
        request.counted.add(response.uid);
        request.clientCountCallback(count);
        return;
      }
      case MessageType.BROADCAST_ACK:
        this.#ackRequests.get(requestId)?.ack(data?.packet);
        return;
      case MessageType.FETCH_SOCKETS_RESPONSE: {
        const request = this.#requests.get(requestId);
        const sockets = data?.sockets;
        if (request?.kind !== "fetch" || !Array.isArray(sockets)) return;
        for (const socket of sockets) request.responses.push(socket);
        this.#answered(requestId, request, response.uid);
        return;
      }
      case MessageType.SERVER_SIDE_EMIT_RESPONSE: {
        const request = this.#requests.get(requestId);
        if (request?.kind !== "emit") return;
        request.responses.push(data?.packet);
        this.#answered(requestId, request, response.uid);
        return;
      }
    }
  }

  #answered(requestId: string, request: PendingRequest, uid: ServerId): void {
    if (request.missing !== undefined) {
      // A node answers once: a second answer of the same node does not stand for another's.
      if (!request.missing.delete(uid)) return;
      if (request.missing.size > 0) return;
    } else if (--request.remaining > 0) return;
    this.#settle(requestId, request, null);
  }

  #settle(requestId: string, request: PendingRequest, err: Error | null): void {
    this.#requests.delete(requestId);
    this.timers.clear(request.timer);
    request.settle(err, request.responses);
  }

  /**
   * A node left (its adapter closed, or its heartbeats stopped): requests stop waiting for it.
   *
   * @param uid the node's id
   */
  protected nodeGone(uid: ServerId): void {
    for (const [requestId, request] of this.#requests) {
      if (request.missing?.delete(uid) && request.missing.size === 0) {
        this.#settle(requestId, request, null);
      }
    }
  }

  #response(response: Omit<ClusterResponse, "uid" | "nsp">): ClusterResponse {
    const r = response as ClusterResponse;
    r.uid = this.uid;
    r.nsp = this.nsp.name;
    return r;
  }

  /** A message of this node, in the official key order (type, data, uid, nsp). */
  protected message(type: number, data?: unknown): ClusterMessage {
    return { type, data, uid: this.uid, nsp: this.nsp.name } as ClusterMessage;
  }

  /**
   * Appends `offset` to an event's data when the adapter gives offsets for connection state
   * recovery ({@linkcode ClusterAdapter.recoveryOffsets}); events with an ack id and volatile
   * ones are never replayed, so they get none.
   *
   * @param packet the packet about to be delivered locally
   * @param opts its broadcast options
   * @param offset its offset in the transport's log
   */
  protected addOffsetIfNecessary(
    packet: Packet,
    opts: BroadcastOptions,
    offset: Offset | undefined,
  ): void {
    if (!this.recoveryOffsets || offset === undefined) return;
    if (packet.type === 2 && packet.id === undefined && opts.flags?.volatile === undefined) {
      (packet.data as unknown[]).push(offset);
    }
  }

  /**
   * Broadcasts to the matching sockets of every node: one message to the others (encoded once,
   * whatever their number), then the local delivery. With the `local` flag, nothing is published.
   *
   * @example
   * ```ts ignore
   * io.to("room1").emit("news", "hello"); // every node's sockets in room1
   * io.local.emit("news", "this node only");
   * ```
   */
  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    if (opts.flags?.local) return super.broadcast(packet, opts);
    const offset = this.publish(this.message(MessageType.BROADCAST, {
      packet: wirePacket(packet),
      opts: encodeOptions(opts),
    }));
    if (!this.recoveryOffsets) return super.broadcast(packet, opts);
    if (this.ownBroadcastsFromLog) return void offset; // delivered when read back (onOwnLogged)
    // Delivered once the offset is known: what the delivery throws (data the encoder refuses,
    // which without recovery throws to the emitter's caller) can only be reported here.
    offset.then((o) => {
      this.addOffsetIfNecessary(packet, opts, o);
      super.broadcast(packet, opts);
    }).catch(report);
  }

  /**
   * Broadcasts with acks to every node: the other nodes answer how many clients got it
   * (BROADCAST_CLIENT_COUNT), then each client's ack (BROADCAST_ACK), until the broadcast's
   * `timeout`.
   *
   * @example
   * ```ts ignore
   * const responses = await io.timeout(2_000).emitWithAck("ping"); // from every node's clients
   * ```
   */
  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (clientCount: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    if (!opts.flags?.local && !this.#closed) {
      const requestId = randomId();
      // Acks stop being awaited with the broadcast's timeout: later ones have nobody to go to.
      // One tick after the broadcast's own timeout, which reads the nodes that did not count
      // (missingForAck) when it fires.
      const timer = this.timers.set(
        () => this.#ackRequests.delete(requestId),
        (opts.flags?.timeout ?? 0) + 1,
      );
      const request: AckRequest = {
        clientCountCallback,
        ack,
        timer,
        counted: new Set(),
        expected: undefined,
      };
      this.#ackRequests.set(requestId, request);
      if (this.partialResponses) {
        this.expectedResponders().then((expected) => request.expected = expected, report);
      }
      void this.publish(this.message(MessageType.BROADCAST, {
        packet: wirePacket(packet),
        requestId,
        opts: encodeOptions(opts),
      }));
    }
    super.broadcastWithAck(packet, opts, clientCountCallback, ack);
  }

  /**
   * For a broadcast with acks that timed out, the other nodes that never said how many of their
   * clients got it, when this adapter resolves such broadcasts with the live nodes' answers
   * (`partialResponses`); undefined otherwise (the broadcast fails as officially).
   *
   * @param ack the broadcast's ack callback, as given to `broadcastWithAck`
   */
  missingForAck(ack: (...args: unknown[]) => void): MissingNodes | undefined {
    if (!this.partialResponses) return undefined;
    for (const request of this.#ackRequests.values()) {
      if (request.ack !== ack) continue;
      const { expected, counted } = request;
      if (expected === undefined) return undefined;
      if (typeof expected === "number") {
        return { count: Math.max(0, expected - counted.size), uids: [] };
      }
      const uids = [...expected].filter((uid) => !counted.has(uid));
      return { count: uids.length, uids };
    }
    return undefined;
  }

  /**
   * Makes the matching sockets of every node join `rooms`.
   *
   * @example
   * ```ts ignore
   * io.in("room1").socketsJoin("room2"); // on every node
   * ```
   */
  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (!opts.flags?.local) {
      void this.publish(this.message(MessageType.SOCKETS_JOIN, {
        opts: encodeOptions(opts),
        rooms,
      }));
    }
    super.addSockets(opts, rooms);
  }

  /**
   * Makes the matching sockets of every node leave `rooms`.
   *
   * @example
   * ```ts ignore
   * io.in("room1").socketsLeave("room2"); // on every node
   * ```
   */
  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (!opts.flags?.local) {
      void this.publish(this.message(MessageType.SOCKETS_LEAVE, {
        opts: encodeOptions(opts),
        rooms,
      }));
    }
    super.delSockets(opts, rooms);
  }

  /**
   * Disconnects the matching sockets of every node.
   *
   * @example
   * ```ts ignore
   * io.in("banned").disconnectSockets(true); // on every node
   * ```
   */
  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    if (!opts.flags?.local) {
      void this.publish(this.message(MessageType.DISCONNECT_SOCKETS, {
        opts: encodeOptions(opts),
        close,
      }));
    }
    super.disconnectSockets(opts, close);
  }

  /**
   * The matching sockets of every node: this node's sockets, then the details the others send.
   * Rejects when they have not all answered within the operator's `timeout()` (else
   * `requestsTimeout`), as officially.
   *
   * @example
   * ```ts ignore
   * for (const socket of await io.in("room1").fetchSockets()) socket.emit("hi"); // RemoteSocket
   * ```
   */
  override async fetchSockets(opts: BroadcastOptions): Promise<(AdapterSocket | SocketDetails)[]> {
    const local = await super.fetchSockets(opts);
    if (opts.flags?.local || this.#closed) return local;
    const responders = await this.expectedResponders();
    const expected = typeof responders === "number" ? responders : responders.size;
    if (expected <= 0) return local;
    return new Promise((resolve, reject) => {
      this.#request(
        "fetch",
        responders,
        local,
        opts.flags?.timeout || this.requestsTimeout,
        (err, responses) => err ? reject(err) : resolve(responses as SocketDetails[]),
        (requestId) => ({ opts: encodeOptions(opts), requestId }),
      );
    });
  }

  /**
   * Emits `[event, ...args]` to the other nodes' namespace; a function last gets `(err,
   * responses)` with one response per node (an error after `requestsTimeout` when some did not
   * answer, with the responses so far).
   *
   * @example
   * ```ts ignore
   * io.serverSideEmit("hello", "world");
   * const answers = await io.serverSideEmitWithAck("ping");
   * ```
   */
  override async serverSideEmit(packet: unknown[]): Promise<void> {
    if (typeof packet[packet.length - 1] !== "function") {
      await this.publish(this.message(MessageType.SERVER_SIDE_EMIT, { packet }));
      return;
    }
    const ack = packet.pop() as (err: Error | null, responses: unknown[]) => void;
    const answer = (err: Error | null, responses: unknown[]) => {
      try {
        ack(err, responses);
      } catch (thrown) {
        report(thrown); // the application's callback
      }
    };
    let responders: number | Set<ServerId>;
    try {
      responders = await this.expectedResponders();
    } catch (err) {
      // The nodes cannot be counted (the transport failed): the callback says so.
      return answer(err instanceof Error ? err : new Error(String(err)), []);
    }
    const expected = typeof responders === "number" ? responders : responders.size;
    if (expected <= 0 || this.#closed) return answer(null, []);
    this.#request(
      "emit",
      responders,
      [],
      this.requestsTimeout,
      answer,
      (requestId) => ({ requestId, packet }),
    );
  }

  #request(
    kind: "fetch" | "emit",
    responders: number | Set<ServerId>,
    responses: unknown[],
    timeout: number,
    settle: (err: Error | null, responses: unknown[]) => void,
    data: (requestId: string) => unknown,
  ): void {
    const requestId = randomId();
    const missing = typeof responders === "number" ? undefined : responders;
    const expected = missing === undefined ? responders as number : missing.size;
    const request: PendingRequest = {
      missing,
      remaining: expected,
      expected,
      responses,
      kind,
      timer: undefined,
      settle,
    };
    request.timer = this.timers.set(() => {
      if (this.#requests.get(requestId) !== request) return;
      this.#requests.delete(requestId);
      if (!this.partialResponses) return settle(timeoutError(request), request.responses);
      const missing: MissingNodes = request.missing === undefined
        ? { count: request.remaining, uids: [] }
        : { count: request.missing.size, uids: [...request.missing] };
      settle(null, withMissing(request.responses, missing));
    }, timeout);
    this.#requests.set(requestId, request);
    void this.publish(
      this.message(
        kind === "fetch" ? MessageType.FETCH_SOCKETS : MessageType.SERVER_SIDE_EMIT,
        data(requestId),
      ),
    );
  }

  /**
   * Stops the adapter: pending requests are answered at once (fetchSockets rejects,
   * serverSideEmit acks get an error with the responses so far) and every timer is cleared.
   *
   * @example
   * ```ts ignore
   * await io.close(); // closes every namespace's adapter
   * ```
   */
  override close(): void | Promise<void> {
    this.#closed = true;
    const timers = this.timers;
    for (const request of this.#ackRequests.values()) timers.clear(request.timer);
    this.#ackRequests.clear();
    for (const [requestId, request] of this.#requests) {
      this.#settle(requestId, request, new Error("the adapter was closed"));
    }
  }
}

/** The official timeout messages: by count, or by missing nodes with heartbeats. */
function timeoutError(request: PendingRequest): Error {
  const message = request.missing !== undefined
    ? `timeout reached: missing ${request.missing.size} responses`
    : `timeout reached: only ${
      request.expected - request.remaining
    } responses received out of ${request.expected}`;
  return new Error(message);
}

/** A packet as the official operator makes it: type and data (plus the id, when it has one). */
function wirePacket(packet: Packet): WirePacket {
  return packet.id === undefined
    ? { type: packet.type, data: packet.data }
    : { type: packet.type, data: packet.data, id: packet.id };
}

/** A local socket as another node gets it. */
function details(socket: AdapterSocket | SocketDetails): SocketDetails {
  return {
    id: socket.id,
    handshake: socket.handshake,
    rooms: [...socket.rooms],
    data: socket.data,
  };
}

/** Whether `packet` is an event packet as nodes broadcast it: type 2 (or 5), data an array. */
function isEvent(packet: unknown): packet is Packet {
  const p = packet as Packet | null | undefined;
  return typeof p === "object" && p !== null && (p.type === 2 || p.type === 5) &&
    Array.isArray(p.data);
}
