/**
 * The Redis Streams adapter, wire-compatible with `@socket.io/redis-streams-adapter@0.3.1`: our
 * nodes and official Node nodes share one stream and one set of channels.
 *
 * As the official adapter does:
 * - broadcasts without acks, `socketsJoin`, `socketsLeave` and `disconnectSockets` are
 *   appended to the stream (`XADD ... MAXLEN ~ maxLen`) and read by every node with
 *   `XREAD BLOCK` on a connection of its own; the entry id is the packet's offset for
 *   connection state recovery;
 * - broadcasts with acks, `serverSideEmit` and `fetchSockets` requests are ephemeral: msgpack
 *   PUBLISH on `${channelPrefix}#${nsp}#`, and responses on `${channelPrefix}#${nsp}#${uid}#`;
 * - the server count is the number of subscribers of the namespace's channel (`PUBSUB
 *   NUMSUB`), so 0.3.1 sends no heartbeats;
 * - with connection state recovery, sessions are stored in Redis and the missed packets are
 *   read back from the stream (see `streams_session.ts`), so a client may come back to any node.
 *
 * Beyond the official adapter, with connection state recovery:
 * - each connected socket's session is written to Redis beforehand (`streams_checkpoint.ts`,
 *   every `sessionCheckpointInterval`), so a node that dies without disconnecting its sockets
 *   leaves them recoverable;
 * - this node's broadcasts are delivered locally when the stream reader reads them back, so that
 *   every socket gets the stream's packets in the stream's order, and a restored socket gets
 *   exactly the entries the reader had handed over before it joined its rooms that it missed,
 *   and the later ones live: none twice, none lost.
 *
 * @module
 */
import { decode, encode } from "./msgpack.ts";
import { ClusterAdapter } from "../cluster/cluster_adapter.ts";
import {
  type ClusterMessage,
  type ClusterResponse,
  MessageType,
  type Offset,
} from "../cluster/messages.ts";
import type {
  AdapterConstructor,
  AdapterNamespace,
  PrivateSessionId,
  Session,
  SessionToPersist,
} from "../adapter.ts";
import { report } from "../../server/runtime/report.ts";
import { type RedisClient, watchErrors } from "./clients.ts";
import { Commands, type StreamEntry } from "./streams_commands.ts";
import { decodeEntry, encodeEntry } from "./streams_entry.ts";
import { StreamReader } from "./streams_reader.ts";
import { StreamsSessionStore } from "./streams_session.ts";
import { SessionCheckpoints } from "./streams_checkpoint.ts";
import { type Options, type StreamsAdapterOptions, streamsOptions } from "./streams_options.ts";

export type { StreamsAdapterOptions };

/**
 * Makes the `adapter` option of a server: a Redis Streams adapter on `redisClient`, a connected
 * npm `redis` (node-redis v4/v5) or `ioredis` client. The adapter duplicates it for the stream
 * reader and for the subscriptions, and closes those copies when the server closes; the client
 * itself stays the caller's.
 *
 * @example Two servers on one Redis
 * ```ts ignore
 * import { createClient } from "npm:redis";
 * import { Server } from "@socketio-edge/core";
 * import { createStreamsAdapter } from "@socketio-edge/core/redis";
 *
 * const redisClient = createClient({ url: "redis://localhost:6379" });
 * await redisClient.connect();
 *
 * const io = new Server({
 *   adapter: createStreamsAdapter(redisClient),
 *   connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 },
 * });
 * Deno.serve({ port: 3000 }, io.handler());
 * ```
 *
 * @param redisClient the user's Redis client, connected
 * @param opts see {@linkcode StreamsAdapterOptions}
 * @throws TypeError when `redisClient` is neither a node-redis nor an ioredis client, or an
 *   option has the wrong type; RangeError when a count or length is out of range
 */
export function createStreamsAdapter(
  redisClient: RedisClient,
  opts: StreamsAdapterOptions = {},
): AdapterConstructor {
  const options = streamsOptions(opts);
  const shared = new SharedConnections(redisClient, options);
  return class extends RedisStreamsAdapter {
    constructor(nsp: AdapterNamespace) {
      super(nsp, shared, options);
    }
  };
}

/** A connection of the adapters, and the promise of it being connected. */
type Duplicate = ReturnType<Commands["duplicate"]>;

/** A stream's reader, while it starts and once it reads, with the adapters that use it. */
interface StreamUse {
  /** The reader's connection (closed by its `stop()`, or directly while it connects). */
  connection: Commands;
  /** The reader, once its connection is up and its start known. */
  reader: Promise<StreamReader>;
  /** Set when the last adapter left: a reader still to start must not start. */
  aborted: boolean;
  /** Ends a start that still waits for Redis (its last entry, its connection). */
  abort(): void;
  /** The reader, once started. */
  started: StreamReader | undefined;
  members: Set<RedisStreamsAdapter>;
  /** The adapter each namespace's entries go to (the newest, when `io.adapter()` replaced one). */
  byNamespace: Map<string, RedisStreamsAdapter>;
}

/** The stream readers and the subscriber connection of one factory, shared by its adapters. */
class SharedConnections {
  /** The user's client. */
  readonly client: RedisClient;
  /** Its commands. */
  readonly redis: Commands;
  readonly #opts: Options;
  readonly #streams = new Map<string, StreamUse>();
  readonly #members = new Set<RedisStreamsAdapter>();
  #subscriber: Duplicate | undefined;

  constructor(client: RedisClient, opts: Options) {
    this.client = client;
    this.redis = new Commands(client);
    this.#opts = opts;
  }

  /** The id of the last entry of `stream` its reader handed over, once it reads. */
  position(stream: string): string | undefined {
    return this.#streams.get(stream)?.started?.offset;
  }

  /** The subscriber connection, opened by the first adapter; resolves once connected. */
  async subscriber(): Promise<Commands> {
    const subscriber = this.#subscriber ??= this.redis.duplicate(report);
    await subscriber.connected;
    return subscriber.connection;
  }

  /**
   * Registers `adapter` for the entries of its namespace on `stream`, starting that stream's
   * reader (from its current last entry) if it is the first; resolves once reading.
   */
  async join(stream: string, adapter: RedisStreamsAdapter): Promise<void> {
    this.#members.add(adapter);
    let use = this.#streams.get(stream);
    if (!use) {
      use = this.#startReader(stream);
      this.#streams.set(stream, use);
    }
    use.members.add(adapter);
    use.byNamespace.set(adapter.nsp.name, adapter);
    await use.reader;
  }

  /**
   * Unregisters `adapter` (and `unsubscribe`s its channels); the last adapter of a stream stops
   * its reader, the last of all closes the subscriber connection. Resolves without waiting for
   * a Redis that does not answer.
   */
  async leave(
    stream: string,
    adapter: RedisStreamsAdapter,
    unsubscribe: (() => Promise<void>) | undefined,
  ): Promise<void> {
    const tasks: Promise<void>[] = [];
    this.#members.delete(adapter);
    const use = this.#streams.get(stream);
    if (use?.members.delete(adapter)) {
      if (use.byNamespace.get(adapter.nsp.name) === adapter) {
        use.byNamespace.delete(adapter.nsp.name);
      }
      if (use.members.size === 0) {
        this.#streams.delete(stream);
        use.aborted = true;
        use.abort();
        // A reader that reads stops (then closes its connection, so its XREAD failing is no
        // error); one that still starts is aborted and its connection closed under it.
        tasks.push(use.started ? use.started.stop() : use.connection.close());
      }
    }
    if (this.#members.size > 0) {
      // Not awaited: node-redis holds an UNSUBSCRIBE until Redis answers again.
      void unsubscribe?.().catch(() => {});
    } else if (this.#subscriber) {
      const subscriber = this.#subscriber;
      this.#subscriber = undefined;
      tasks.push(subscriber.connection.close());
    }
    await Promise.all(tasks);
  }

  #startReader(stream: string): StreamUse {
    const { connection, connected } = this.redis.duplicate(report);
    const use: StreamUse = {
      connection,
      reader: Promise.resolve(undefined as unknown as StreamReader),
      aborted: false,
      abort: () => {},
      started: undefined,
      members: new Set(),
      byNamespace: new Map(),
    };
    // While Redis does not answer, node-redis holds commands (and a connect()) until it does.
    const aborted = new Promise<never>((_, reject) => {
      use.abort = () => reject(new Error("the adapters closed before the stream reader started"));
    });
    aborted.catch(() => {});
    use.reader = (async () => {
      // From the last entry now rather than "$" at the first XREAD: nothing added after the
      // adapter is ready is missed, even before the first read reaches Redis.
      const [start] = await Promise.race([
        Promise.all([
          this.redis.lastId(stream).then((id) => id ?? "0-0", (err) => {
            if (!use.aborted) report(err);
            return "$";
          }),
          connected,
        ]),
        aborted,
      ]);
      if (use.aborted) throw new Error("the adapters closed before the stream reader started");
      const { readCount, blockTimeInMs } = this.#opts;
      return use.started = new StreamReader(
        connection,
        { stream, readCount, blockTimeInMs },
        start,
        (entry: StreamEntry) => {
          const nsp = entry.message.nsp;
          if (nsp) use.byNamespace.get(nsp)?.onEntry(entry);
        },
        report,
      );
    })();
    return use;
  }
}

/**
 * A Redis Streams adapter of one namespace. Made by {@linkcode createStreamsAdapter}, which
 * shares its connections between the namespaces of a server.
 */
class RedisStreamsAdapter extends ClusterAdapter {
  readonly #shared: SharedConnections;
  readonly #opts: Options;
  readonly #stream: string;
  readonly #publicChannel: string;
  readonly #sessions: StreamsSessionStore;
  #ready: Promise<void> | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  readonly #unwatch: () => void;
  readonly #checkpoints: SessionCheckpoints | undefined;
  /** The entries read while sessions are restored (one list per restore). */
  readonly #watching = new Set<StreamEntry[]>();
  /** Restored sessions whose socket has not joined its rooms yet, by socket id. */
  readonly #restoring = new Map<string, Restoring>();
  #closed = false;

  constructor(nsp: AdapterNamespace, shared: SharedConnections, opts: Options) {
    super(nsp, opts);
    // Entry ids are offsets a client resumes from, when the server recovers connections.
    this.recoveryOffsets = nsp.recovery !== undefined;
    this.ownBroadcastsFromLog = this.recoveryOffsets;
    this.#shared = shared;
    this.#opts = opts;
    this.#stream = streamOf(nsp.name, opts);
    this.#publicChannel = `${opts.channelPrefix}#${nsp.name}#`;
    this.#sessions = new StreamsSessionStore(
      shared.redis,
      this.#stream,
      opts.sessionKeyPrefix,
      nsp.name,
    );
    // An `error` event of the user's client that nobody listens to would end the process.
    this.#unwatch = watchErrors(shared.client, report);
    const ttl = nsp.recovery?.maxDisconnectionDuration;
    if (ttl !== undefined && opts.sessionCheckpointInterval > 0) {
      const checkpoints = new SessionCheckpoints(
        shared.redis,
        opts.sessionKeyPrefix,
        nsp.sockets,
        this.timers,
        ttl,
        opts.sessionCheckpointInterval,
        this.uid,
        report,
      );
      this.#checkpoints = checkpoints;
      const touch = (_room: string, id: string) => checkpoints.touch(id);
      this.on("join-room", touch);
      this.on("leave-room", touch);
    }
  }

  /**
   * Starts reading the stream, then subscribes to the namespace's channels: once another node
   * counts this one (`PUBSUB NUMSUB`), nothing it appends to the stream is missed here. Never
   * rejects: a failure is reported.
   */
  override init(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#ready ??= this.#start().catch((err) => {
      if (!this.#closed) report(err);
    });
  }

  async #start(): Promise<void> {
    await this.#shared.join(this.#stream, this);
    if (this.#closed) return;
    const privateChannel = `${this.#opts.channelPrefix}#${this.nsp.name}#${this.uid}#`;
    const subscriber = await this.#shared.subscriber();
    if (this.#closed) return;
    const unsubscribe = await subscriber.subscribe(
      [this.#publicChannel, privateChannel],
      (payload) => this.#onPayload(payload),
      this.#opts.useShardedPubSub,
    );
    if (this.#closed) await unsubscribe().catch(() => {});
    else this.#unsubscribe = unsubscribe;
  }

  /**
   * Unsubscribes, and closes the shared connections once the last namespace closed; resolves
   * even while Redis does not answer (what still starts is closed under it).
   */
  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch();
    this.#checkpoints?.close();
    for (const restoring of this.#restoring.values()) this.timers.clear(restoring.timer);
    this.#restoring.clear();
    this.#watching.clear();
    await super.close();
    await this.#shared.leave(this.#stream, this, this.#unsubscribe);
  }

  /** An entry of this namespace read from the stream. */
  onEntry(entry: StreamEntry): void {
    let message: ClusterMessage;
    try {
      message = decodeEntry(entry.message);
    } catch (err) {
      return report(err);
    }
    for (const watch of this.#watching) watch.push(entry);
    if (message.uid === this.uid) this.onOwnLogged(message, entry.id);
    else this.onMessage(message, entry.id);
  }

  #onPayload(payload: Uint8Array): void {
    let message: ClusterMessage | ClusterResponse;
    try {
      message = decode(payload) as ClusterMessage | ClusterResponse;
    } catch (err) {
      return report(err);
    }
    this.onMessage(message as ClusterMessage);
  }

  protected override doPublish(message: ClusterMessage): Promise<Offset | undefined> {
    const { redis } = this.#shared;
    if (isEphemeral(message)) {
      return redis.publish(this.#publicChannel, encode(message), this.#opts.useShardedPubSub)
        .then(() => undefined);
    }
    return redis.xadd(
      this.#stream,
      encodeEntry(message, this.#opts.onlyPlaintext),
      this.#opts.maxLen,
    );
  }

  protected override async doPublishResponse(
    requesterUid: string,
    response: ClusterResponse,
  ): Promise<void> {
    const channel = `${this.#opts.channelPrefix}#${this.nsp.name}#${requesterUid}#`;
    await this.#shared.redis.publish(channel, encode(response), this.#opts.useShardedPubSub);
  }

  /** The nodes subscribed to this namespace's channel, this one included. */
  override serverCount(): Promise<number> {
    return this.#shared.redis.numsub(this.#publicChannel, this.#opts.useShardedPubSub);
  }

  /**
   * With partial responses, the other nodes by uid: those subscribed to a response channel of
   * this namespace (`PUBSUB CHANNELS ${channelPrefix}#${nsp}#*#`), so that a request names the
   * nodes that did not answer. A node is counted while its connection to Redis is open: a
   * process that died is dropped at once (its socket closes), a frozen one is counted, and
   * named when it does not answer. Officially (`partialResponses: false`), the count.
   */
  protected override async expectedResponders(): Promise<number | Set<string>> {
    if (!this.partialResponses) return await super.expectedResponders();
    const prefix = `${this.#publicChannel}`;
    const channels = await this.#shared.redis.channels(
      `${globEscape(prefix)}*#`,
      this.#opts.useShardedPubSub,
    );
    const uids = new Set<string>();
    for (const channel of channels) {
      const uid = channel.slice(prefix.length, -1);
      if (uid && uid !== this.uid && !uid.includes("#")) uids.add(uid);
    }
    return uids;
  }

  /**
   * Stores the session in Redis for `maxDisconnectionDuration` (with checkpoints: unless another
   * node restored it meanwhile).
   */
  override persistSession(session: SessionToPersist): Promise<void> {
    const ttl = this.nsp.recovery?.maxDisconnectionDuration;
    if (ttl === undefined) return Promise.resolve();
    if (this.#checkpoints) return this.#checkpoints.persist(session, ttl).catch(report);
    return this.#sessions.persist(session, ttl).catch(report);
  }

  /** Forgets socket `id`: its checkpoint too, when it was not persisted (it left for good). */
  override delAll(id: string): void {
    this.#checkpoints?.forget(id);
    super.delAll(id);
  }

  /**
   * Reads (and deletes) the session, with the packets broadcast after `offset`. The list of
   * missed packets is completed when the socket joins its rooms (`addAll`): with what the stream
   * reader handed over meanwhile, less what it has not handed over yet (that comes live).
   */
  override async restoreSession(
    pid: PrivateSessionId,
    offset: string,
  ): Promise<Session | null> {
    const watch: StreamEntry[] = [];
    this.#watching.add(watch);
    let found;
    try {
      found = await this.#sessions.restore(pid, offset);
    } finally {
      if (!found || this.#closed) this.#watching.delete(watch);
    }
    if (!found || this.#closed) return null;
    const { session, scanned } = found;
    const previous = this.#restoring.get(session.sid);
    if (previous) this.#dropRestoring(session.sid, previous);
    // The namespace makes the socket and joins its rooms before any timer runs; a socket that is
    // not made (its client left meanwhile) must not keep the watch.
    const restoring: Restoring = { session, scanned, watch, timer: undefined };
    restoring.timer = this.timers.set(() => this.#dropRestoring(session.sid, restoring), 0);
    this.#restoring.set(session.sid, restoring);
    // The same socket still here (its client came back before this node saw it go): it goes
    // now, before the new one joins the rooms it would leave.
    this.nsp.sockets.get(session.sid)?.disconnect(true);
    return session;
  }

  override addAll(id: string, rooms: Set<string>): void | Promise<void> {
    const restoring = this.#restoring.get(id);
    if (restoring) {
      this.#dropRestoring(id, restoring);
      this.#completeReplay(restoring);
    }
    return super.addAll(id, rooms);
  }

  #dropRestoring(id: string, restoring: Restoring): void {
    this.timers.clear(restoring.timer);
    this.#watching.delete(restoring.watch);
    if (this.#restoring.get(id) === restoring) this.#restoring.delete(id);
  }

  /** Makes the missed packets exactly those the reader handed over before this moment. */
  #completeReplay({ session, scanned, watch }: Restoring): void {
    const position = this.#shared.position(this.#stream) ?? scanned;
    const missed = session.missedPackets;
    // Entries the reader has not handed over yet reach the socket live, once it is in its rooms.
    let keep = missed.length;
    while (keep > 0 && compareIds(missed[keep - 1].at(-1) as string, position) > 0) keep--;
    missed.length = keep;
    // Entries it handed over after the scan, while the socket was in no room: missed too.
    for (const entry of watch) {
      if (compareIds(entry.id, scanned) <= 0 || compareIds(entry.id, position) > 0) continue;
      const data = this.#sessions.replayed(entry, session.rooms);
      if (data) missed.push(data);
    }
  }
}

/** A restored session waiting for its socket to join its rooms. */
interface Restoring {
  readonly session: Session;
  /** The last entry the restore read from the stream. */
  readonly scanned: string;
  /** The entries the reader handed over since the restore began. */
  readonly watch: StreamEntry[];
  timer: unknown;
}

/** `text` as a literal in a Redis glob pattern. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** Orders two stream entry ids (`<ms>-<seq>`, decimal): negative when `a` comes first. */
function compareIds(a: string, b: string): number {
  const da = a.indexOf("-");
  const db = b.indexOf("-");
  return compareDecimal(a.slice(0, da), b.slice(0, db)) ||
    compareDecimal(a.slice(da + 1), b.slice(db + 1));
}

function compareDecimal(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** Which stream carries namespace `name`: a hash of the name, as the official adapter. */
function streamOf(name: string, opts: Options): string {
  if (opts.streamCount === 1) return opts.streamName;
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (hash * 31 + name.charCodeAt(i)) | 0;
  // The official `%` keeps a negative hash's sign; so does this one, and so the stream name.
  return `${opts.streamName}-${hash % opts.streamCount}`;
}

/** Messages that need no recovery go through Pub/Sub rather than the stream. */
function isEphemeral(message: ClusterMessage): boolean {
  switch (message.type) {
    case MessageType.BROADCAST:
      return (message.data as { requestId?: unknown }).requestId !== undefined;
    case MessageType.SERVER_SIDE_EMIT:
    case MessageType.FETCH_SOCKETS:
      return true;
    default:
      return false;
  }
}
