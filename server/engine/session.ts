/**
 * One Engine.IO session (the official `Socket`): its transport, write buffer, heartbeat and
 * upgrade. Browser compatible.
 *
 * @module
 */
import type { EnginePacket } from "../../parser/engine.ts";
import { EngineEmitter } from "./emitter.ts";
import { receivedBytes } from "./bytes.ts";
import { callReporting, report } from "../runtime/report.ts";
import type { TimerHandle } from "../runtime/scheduler.ts";
import type { HeartbeatTarget } from "./heartbeat.ts";
import type { RawSocket } from "../runtime/types.ts";
import type { EngineOptions } from "./options.ts";
import type { RequestSnapshot } from "./request.ts";
import type { OutPacket, PacketOptions, Transport, TransportOwner } from "./transport.ts";
import type { WebSocketTransport } from "./websocket.ts";

/** Lifecycle of a session, as the official server names it. */
export type ReadyState = "opening" | "open" | "closing" | "closed";

/**
 * Why a session closed, as the official server names it; and `"slow consumer"`, which it never
 * gives: more than `maxBufferedBytes` was waiting to be sent to the client.
 */
export type CloseReason =
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "forced close"
  | "parse error"
  | "server shutting down"
  | "slow consumer";

/**
 * The description that comes with reason `"slow consumer"`, naming the limit.
 *
 * @param limit the server's `maxBufferedBytes`
 */
export function slowConsumerDescription(limit: number): string {
  return `more than maxBufferedBytes (${limit}) bytes were waiting to be sent`;
}

/** Events of an {@linkcode EngineSocket}. */
export interface EngineSocketEvents {
  /** A message from the client: text, or binary as `Uint8Array`. */
  message: [data: string | Uint8Array];
  /** Any packet from the client. */
  packet: [packet: EnginePacket];
  /** A packet about to be sent, with its options (`{ compress }`) as the official one. */
  packetCreate: [packet: CreatedPacket];
  /** A pong (v4) or ping (v3) arrived. */
  heartbeat: [];
  /** The client started an upgrade. */
  upgrading: [transport: Transport];
  /** The upgrade completed. */
  upgrade: [transport: Transport];
  /** Buffered packets went to the transport. */
  drain: [];
  /** The session closed. */
  close: [reason: CloseReason, description?: string];
}

/** What a session needs from its server. */
export interface SessionHost {
  /** The server's resolved options. */
  readonly opts: EngineOptions;
  /** Available upgrades from a transport. */
  upgrades(transport: string): string[];
  /** Starts the session's heartbeat. */
  watch(target: HeartbeatTarget): void;
  /** The session heard a pong (v4) or a client's ping (v3). */
  beat(target: HeartbeatTarget): void;
  /** Forgets a closed session. */
  forget(session: EngineSocket): void;
  /** When the session's current heartbeat round started (ms), -1 when it is not watched. */
  roundStart(target: HeartbeatTarget): number;
}

/**
 * What a host keeps of an open WebSocket session to bring it back in another process, with
 * {@linkcode Server.restore}: a Durable Object that hibernated keeps its WebSockets while its
 * memory goes. Plain data (structured-cloneable, and JSON but for what middleware attached to
 * the request).
 */
export interface SessionSnapshot {
  /** The session id. */
  readonly id: string;
  /** Engine.IO protocol revision (3 or 4). */
  readonly protocol: number;
  /** What the handshake request carried. */
  readonly request: RequestSnapshot;
  /** Whether the session started on long-polling and moved to WebSocket. */
  readonly upgraded: boolean;
  /**
   * When the session's current heartbeat round started (ms since the epoch): its open, or its
   * last pong (v4) or ping (v3). The restored session keeps its deadlines from it.
   */
  readonly beat: number;
}

/** @internal Who reads a session's messages (Socket.IO's `Client`). */
export interface MessageReader {
  /** One message: `data.slice(start)`, or `data` itself when binary. */
  _ondata(data: string | Uint8Array, start: number): void;
  /** The session closed; called before the "close" listeners. */
  _onclose(reason: CloseReason, description?: unknown): void;
  /** The session moved to WebSocket from long-polling. */
  _onupgrade(): void;
}

/** Options of {@linkcode EngineSocket.send}. */
export interface SendOptions {
  /**
   * `false` marks the message as not to be compressed (`options.compress` of its packet); whether
   * a message is compressed is the runtime's business.
   */
  compress?: boolean;
}

/** A packet as `packetCreate` listeners see it: `{ type, data, options: { compress } }`. */
export type CreatedPacket = OutPacket & { options: PacketOptions };

// The options of every created packet, shared: the common case allocates nothing for them.
const COMPRESS: PacketOptions = Object.freeze({ compress: true });
const NO_COMPRESS: PacketOptions = Object.freeze({ compress: false });

/**
 * A client's Engine.IO session, as `engine.on("connection", (socket) => ...)` gives it.
 *
 * @example Echo every message
 * ```ts
 * import { Server } from "@socketio-edge/core/engine";
 *
 * const engine = new Server();
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 * });
 * ```
 */
export class EngineSocket extends EngineEmitter<EngineSocketEvents>
  implements TransportOwner, HeartbeatTarget {
  /** The session id (20 URL-safe characters). */
  readonly id: string;
  /** Engine.IO protocol revision, fixed at the handshake (3 or 4). */
  readonly protocol: number;
  /** What the handshake request carried. */
  readonly request: RequestSnapshot;
  /** Where the session is in its life. */
  readyState: ReadyState = "opening";
  /** Whether the session moved to WebSocket. */
  upgraded = false;
  /** Whether an upgrade is in progress. */
  upgrading = false;
  /** The current transport. */
  transport: Transport;
  /** @internal whether the heartbeat's last ping is unanswered. */
  awaitingPong = false;
  /** @internal the deadline the heartbeat holds this session for, -1 when not watched. */
  heartbeatDue = -1;

  #host: SessionHost;
  // Packets waiting for the transport, undefined when none: an idle WebSocket session
  // retains no arrays.
  #buffer: OutPacket[] | undefined;
  // About the bytes in #buffer (strings in UTF-16 units), for maxBufferedBytes.
  #queued = 0;
  #callbacks: (() => void)[] | undefined;
  #flushQueued = false;
  #cancelUpgrade: (() => void) | undefined;

  /**
   * Creates a session; the server does this at the handshake.
   *
   * @param id the session id
   * @param host the server
   * @param transport the handshake's transport
   * @param request what the handshake request carried
   * @param protocol Engine.IO protocol revision (3 or 4)
   */
  constructor(
    id: string,
    host: SessionHost,
    transport: Transport,
    request: RequestSnapshot,
    protocol: number,
  ) {
    super();
    this.id = id;
    this.#host = host;
    this.transport = transport;
    transport.owner = this;
    this.request = request;
    this.protocol = protocol;
  }

  /**
   * What a host keeps to restore this session elsewhere ({@linkcode Server.restore}); it changes
   * with each heartbeat round (`heartbeat` event). Only a session open on WebSocket can be
   * restored: a long-polling one has a request in flight most of the time, which no other
   * process can answer.
   *
   * @example Keeping it up to date
   * ```ts
   * import { Server } from "@socketio-edge/core/engine";
   *
   * const engine = new Server();
   * engine.on("connection", (session) => {
   *   session.on("heartbeat", () => console.log(session.snapshot().beat));
   * });
   * ```
   */
  snapshot(): SessionSnapshot {
    return {
      id: this.id,
      protocol: this.protocol,
      request: this.request,
      upgraded: this.upgraded,
      beat: this.#host.roundStart(this),
    };
  }

  /** Sends the open packet and starts the heartbeat. */
  open(): void {
    const o = this.#host.opts;
    const handshake: Record<string, unknown> = {
      sid: this.id,
      upgrades: this.#host.upgrades(this.transport.name),
      pingInterval: o.pingInterval,
      pingTimeout: o.pingTimeout,
      // The official server sends it to v3 clients too.
      maxPayload: o.maxHttpBufferSize,
    };
    this.readyState = "open";
    this.#push({ type: "open", data: JSON.stringify(handshake), options: COMPRESS });
    this.#host.watch(this);
  }

  /**
   * Whether a message sent now goes out at once, with nothing ahead of it: volatile packets are
   * dropped otherwise, as the official server drops them while its transport is not writable
   * (packets of this tick waiting for the flush count as ahead).
   */
  get writable(): boolean {
    return this.readyState === "open" && this.#buffer === undefined && this.transport.writable;
  }

  /**
   * Sends a message; `callback` runs once it went to the transport.
   *
   * @param data text or binary
   * @param opts send options
   * @param callback called after the message is flushed
   */
  send(
    data: string | Uint8Array | ArrayBuffer | ArrayBufferView,
    opts?: SendOptions | (() => void),
    callback?: () => void,
  ): this {
    if (typeof opts === "function") {
      callback = opts;
      opts = undefined;
    }
    this._write(toData(data), opts?.compress !== false, undefined, callback);
    return this;
  }

  /**
   * Alias of {@linkcode EngineSocket.send}.
   *
   * @param data text or binary
   * @param opts send options
   * @param callback called after the message is flushed
   */
  write(
    data: string | Uint8Array | ArrayBuffer | ArrayBufferView,
    opts?: SendOptions | (() => void),
    callback?: () => void,
  ): this {
    return this.send(data, opts, callback);
  }

  /**
   * Sends a message packet; `frame` is its WebSocket frame when a broadcast encoded it already,
   * `compress` goes on the packet's options.
   * @internal
   */
  _write(
    data: string | Uint8Array,
    compress = true,
    frame?: string | Uint8Array,
    callback?: () => void,
  ): void {
    if (this.readyState !== "open") return;
    const t = this.transport;
    if (
      callback === undefined && typeof data === "string" && this.#buffer === undefined &&
      t.name === "websocket" && t.canSend && !this.listenerCount("packetCreate")
    ) {
      // The common case needs no packet object: a text message straight into its frame, or
      // the frame a broadcast made once for all its v4 receivers.
      if (frame !== undefined && this.protocol === 4) (t as WebSocketTransport).sendFrame(frame);
      else (t as WebSocketTransport).sendText(data);
      this.emit("drain");
      return;
    }
    const options = compress ? COMPRESS : NO_COMPRESS;
    this.#push({ type: "message", data, frame, options }, callback);
  }

  #push(packet: CreatedPacket, callback?: () => void): void {
    this.emit("packetCreate", packet);
    const t = this.transport;
    if (t.name === "websocket" && t.canSend && this.#buffer === undefined) {
      // One packet, one frame: no array for it.
      (t as WebSocketTransport).sendPacket(packet);
      callback?.();
      this.emit("drain");
      return;
    }
    // Over polling, packets wait here for a poll: past the limit, the client is not taking what
    // it is sent. Checked before the packet is added, as for the WebSocket's frames.
    if (this.#queued > this.#host.opts.maxBufferedBytes) return this.#slowConsumer();
    this.#queued += packetBytes(packet);
    (this.#buffer ??= []).push(packet);
    if (callback) (this.#callbacks ??= []).push(callback);
    // Packets sent in one tick leave as one polling payload.
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => {
        this.#flushQueued = false;
        try {
          this.#flush();
        } catch (err) {
          report(err); // thrown out of a microtask, it would end the process
        }
      });
    }
  }

  #flush(): void {
    const packets = this.#buffer;
    if (this.readyState === "closed" || !this.transport.canSend || packets === undefined) return;
    const callbacks = this.#callbacks;
    this.#buffer = undefined;
    this.#queued = 0;
    this.#callbacks = undefined;
    const closing = this.readyState === "closing";
    this.transport.send(packets);
    // The application's callbacks and listeners: one that throws is reported, and stops neither
    // the others nor the close that may follow.
    if (callbacks !== undefined) { for (const cb of callbacks) callReporting(cb); }
    try {
      this.emit("drain");
    } catch (err) {
      report(err);
    }
    if (closing) {
      // Over polling the close packet goes on the next poll, as the official server sends it:
      // the official client drops whatever precedes a close in one payload.
      this.transport.close();
      if (this.transport.name !== "polling") this.#onClose("forced close");
    }
  }

  /** @internal a poll arrived: flush what is buffered. */
  onWritable(): void {
    if (this.#buffer !== undefined) this.#flush();
  }

  /**
   * @internal A native fan-out dropped a frame for one of its sockets, over the runtime's limit
   * (Bun): asks the runtime what it holds for this session's WebSocket, and closes the session as
   * a slow consumer when that is over `maxBufferedBytes`.
   */
  _checkBuffered(): void {
    const t = this.transport;
    if (this.readyState === "open" && t.name === "websocket") {
      (t as WebSocketTransport).checkBuffered();
    }
  }

  #slowConsumer(): void {
    const t = this.transport;
    // A WebSocket is dropped rather than closed (its close frame would wait behind the rest).
    if (t.name === "websocket") (t as WebSocketTransport).dropSlowConsumer();
    else this.#onClose("slow consumer", slowConsumerDescription(this.#host.opts.maxBufferedBytes));
  }

  /**
   * @internal Socket.IO's reader of messages: `_ondata` gets each message, a text one possibly
   * still inside its frame (`data.slice(start)` is the message), so the hot path slices nothing.
   * An object rather than a callback, so that no closure per connection is needed.
   */
  _reader: MessageReader | undefined;

  /**
   * @internal The WebSocket a native fan-out may write to for this session, or undefined: only
   * a v4 session open on a WebSocket with nothing buffered and nobody watching its packets, so
   * that what is published reaches it in order with what it is sent.
   */
  _fanOutSocket(): RawSocket | undefined {
    const t = this.transport;
    if (
      this.readyState !== "open" || this.protocol !== 4 || t.name !== "websocket" ||
      this.#buffer !== undefined || this.listenerCount("packetCreate") > 0
    ) return undefined;
    return (t as WebSocketTransport).socket;
  }

  /** @internal a text message in its frame. */
  onTextMessage(frame: string, start: number): void {
    if (this.readyState !== "open") return;
    const reader = this._reader;
    if (
      reader !== undefined && !this.listenerCount("packet") && !this.listenerCount("message")
    ) {
      reader._ondata(frame, start);
      return;
    }
    this.onPacket({ type: "message", data: frame.slice(start) });
  }

  /** @internal */
  onPacket(packet: EnginePacket): void {
    if (this.readyState !== "open") return;
    this.emit("packet", packet);
    switch (packet.type) {
      case "pong":
        if (this.protocol === 3) {
          return this.onTransportError("transport error", "invalid heartbeat direction");
        }
        this.#host.beat(this);
        this.emit("heartbeat");
        break;
      case "ping":
        if (this.protocol !== 3) {
          return this.onTransportError("transport error", "invalid heartbeat direction");
        }
        this.#host.beat(this);
        this.#push({ type: "pong", data: packet.data, options: COMPRESS });
        this.emit("heartbeat");
        break;
      case "message": {
        // An empty message ("4") decodes without data; listeners get "" rather than undefined.
        const raw = (packet.data ?? "") as string | Uint8Array;
        const data = typeof raw === "string" ? raw : receivedBytes(raw);
        this.emit("message", data);
        this._reader?._ondata(data, 0);
        break;
      }
    }
  }

  /** @internal */
  onTransportError(reason: string, description?: string): void {
    this.#onClose(reason as CloseReason, description);
  }

  /** @internal */
  onTransportClose(description?: string): void {
    this.#onClose(this.readyState === "closing" ? "forced close" : "transport close", description);
  }

  /** @internal heartbeat: sends a ping. */
  ping(): void {
    // A closing session gets no ping; the missed round still ends it if the client is gone.
    if (this.readyState === "open") this.#push({ type: "ping", options: COMPRESS });
  }

  /** @internal heartbeat: no pong in time. */
  timeout(): void {
    this.#onClose(this.readyState === "closing" ? "forced close" : "ping timeout");
  }

  /**
   * Closes the session: buffered packets go out first, then the transport closes.
   *
   * @param discard drop the transport without flushing
   */
  close(discard?: boolean): void {
    if (this.readyState !== "open") return;
    this.readyState = "closing";
    if (discard) {
      this.transport.discard();
      this.#onClose("forced close");
    } else if (this.transport.name === "websocket") {
      // Frames go out in order, so buffered packets are flushed, then the socket closes.
      this.#flush();
      this.transport.close();
      this.#onClose("forced close");
    } else if (this.#buffer === undefined) {
      this.transport.close();
    }
    // Else the buffered packets and the close packet leave together on the next poll.
  }

  /** @internal closes at once, with a reason (server shutdown). */
  destroy(reason: CloseReason): void {
    this.#onClose(reason);
  }

  #onClose(reason: CloseReason, description?: string): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.#cancelUpgrade?.();
    this.#buffer = undefined;
    this.#queued = 0;
    this.#callbacks = undefined;
    this.transport.close();
    this.#host.forget(this);
    this._reader?._onclose(reason, description);
    this.emit("close", reason, description);
  }

  // Answers a waiting poll with a noop, unless packets buffered this tick are about to answer it.
  #releasePoll(): void {
    const t = this.transport;
    if (t.name === "polling" && t.writable && this.#buffer === undefined) {
      t.send([{ type: "noop" }]);
    }
  }

  /** @internal the client opened a WebSocket to upgrade this session. */
  maybeUpgrade(next: Transport): void {
    this.upgrading = true;
    const scheduler = this.#host.opts.scheduler;
    // After the probe, a waiting poll is released with a noop every 100 ms, as the official
    // server forces a polling cycle so that the client can pause polling and send `upgrade`.
    let release: TimerHandle;
    const releaseAgain = () => {
      release = scheduler.set(releaseAgain, RELEASE_INTERVAL);
      this.#releasePoll();
    };
    const cleanup = () => {
      this.upgrading = false;
      this.#cancelUpgrade = undefined;
      scheduler.clear(timer);
      scheduler.clear(release);
      release = undefined;
    };
    const abort = () => {
      cleanup();
      next.close();
    };
    const timer = scheduler.set(abort, this.#host.opts.upgradeTimeout);
    this.#cancelUpgrade = abort;
    next.owner = {
      onPacket: (packet) => {
        if (packet.type === "ping" && packet.data === "probe") {
          next.send([{ type: "pong", data: "probe" }]);
          callReporting(() => this.emit("upgrading", next));
          scheduler.clear(release);
          release = scheduler.set(releaseAgain, RELEASE_INTERVAL);
        } else if (packet.type === "upgrade" && this.readyState !== "closed") {
          cleanup();
          const old = this.transport;
          old.owner = detached;
          old.discard();
          this.upgraded = true;
          this.transport = next;
          next.owner = this;
          // Listeners run before the flush, as officially; one that throws stops no part of it.
          callReporting(() => this.emit("upgrade", next));
          this.#flush();
          this._reader?._onupgrade();
          if (this.readyState === "closing") {
            next.close();
            this.#onClose("forced close");
          }
        } else {
          abort();
        }
      },
      onTextMessage: abort,
      onTransportError: abort,
      onTransportClose: abort,
      onWritable() {},
    };
  }
}

/** How often a waiting poll is released with a noop during an upgrade (ms), as the official. */
const RELEASE_INTERVAL = 100;

/** The owner of a transport nobody listens to any more. */
const detached: TransportOwner = {
  onPacket() {},
  onTextMessage() {},
  onTransportError() {},
  onTransportClose() {},
  onWritable() {},
};

/** About the size of a packet on the wire: its type and its data. */
function packetBytes(p: OutPacket): number {
  const d = p.data;
  return 1 + (d === undefined ? 0 : typeof d === "string" ? d.length : d.byteLength);
}

function toData(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === "string" || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
