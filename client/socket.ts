/**
 * The client Socket: one namespace over a Manager's connection. Browser compatible.
 *
 * Emits made while disconnected are buffered and sent in order on connect; acks may time out;
 * with `retries`, emits are queued and re-sent until acknowledged, one at a time, as the official
 * client does.
 *
 * @module
 */

import type { Packet } from "../parser/socket.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  FirstArg,
  Last,
  ReservedOrUserEventNames,
  ReservedOrUserListener,
} from "../parser/typed_events.ts";
import { subscribe } from "./subscribe.ts";
import { cancel, later } from "./timers.ts";
import { emitLocal, TypedEmitter } from "./typed_events.ts";
import type { Manager } from "./manager.ts";
import type { CloseDetails } from "./transports/transport.ts";

/**
 * Options of one namespace's socket.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * io("https://example.com/admin", { auth: (cb) => cb({ token: "abc" }), retries: 3, ackTimeout: 5000 });
 * ```
 */
export interface SocketOptions {
  /** Sent with the CONNECT packet: an object, or a function that calls back with one. */
  // deno-lint-ignore no-explicit-any
  auth: Record<string, any> | ((cb: (data: object) => void) => void);
  /** How many times an emit is re-sent until acknowledged (each emit then waits for an ack). */
  retries: number;
  /** The default ack timeout (ms) of emits with an ack. */
  ackTimeout: number;
}

/**
 * Why a socket disconnected.
 *
 * @example
 * ```ts ignore
 * import { io, type DisconnectReason } from "@socketio-edge/core/client";
 *
 * io("https://example.com").on("disconnect", (reason: DisconnectReason) => console.log(reason));
 * ```
 */
export type DisconnectReason =
  | "io server disconnect"
  | "io client disconnect"
  | "ping timeout"
  | "transport close"
  | "transport error"
  | "parse error";

/**
 * What a transport said about a disconnection: an error, or a description and its context.
 *
 * @example
 * ```ts ignore
 * import { io, type DisconnectDescription } from "@socketio-edge/core/client";
 *
 * io("https://example.com").on("disconnect", (_, d?: DisconnectDescription) => console.log(d));
 * ```
 */
export type DisconnectDescription = Error | CloseDetails;

/**
 * A `connect_error`: `data` holds what the server's middleware attached to its error.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * io("https://example.com").on("connect_error", (err) => console.log(err.message, err.data));
 * ```
 */
export interface ExtendedError extends Error {
  /** The server's `err.data`. */
  // deno-lint-ignore no-explicit-any
  data?: any;
}

/**
 * The events a socket emits itself.
 *
 * @example
 * ```ts ignore
 * import type { SocketReservedEvents } from "@socketio-edge/core/client";
 *
 * const onConnect: SocketReservedEvents["connect"] = () => console.log("connected");
 * ```
 */
export interface SocketReservedEvents {
  /** Connected to the namespace. */
  connect: () => void;
  /** The connection or the namespace refused us. */
  connect_error: (err: ExtendedError) => void;
  /** Disconnected; the manager reconnects unless the reason is a deliberate one. */
  disconnect: (reason: DisconnectReason, description?: DisconnectDescription) => void;
}

/**
 * A catch-all listener: the event name, then its arguments.
 *
 * @example
 * ```ts ignore
 * import { io, type AnyListener } from "@socketio-edge/core/client";
 *
 * const log: AnyListener = (event, ...args) => console.log(event, args);
 * io("https://example.com").onAny(log);
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyListener = (...args: any[]) => void;

/**
 * A Socket.IO packet on its way out, with its write options.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const socket = io("https://example.com", { autoConnect: false });
 * socket.emit("hello");
 * console.log(socket.sendBuffer[0].data); // ["hello"]
 * ```
 */
export type SocketPacket = Packet & { options?: { compress: boolean } };

type Ack = AnyListener & { withError?: boolean };
type Flags = { compress?: boolean; volatile?: boolean; timeout?: number; fromQueue?: boolean };
type Queued = { id: number; tryCount: number; pending: boolean; args: unknown[]; flags: Flags };

const RESERVED = /^(connect(_error)?|disconnect(ing)?|newListener|removeListener)$/;

/**
 * A socket in one namespace, as npm `socket.io-client`'s `Socket`.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const socket = io("https://example.com");
 * socket.on("connect", () => console.log("connected as", socket.id));
 * socket.on("news", (headline) => console.log(headline));
 * socket.emit("hello", "world", (reply: string) => console.log(reply));
 * const answer = await socket.timeout(5000).emitWithAck("question", 42);
 * ```
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends TypedEmitter<ListenEvents, SocketReservedEvents> {
  /** The Manager carrying this socket. */
  declare readonly io: Manager<ListenEvents, EmitEvents>;
  /** The session id in this namespace, while connected. */
  declare id: string | undefined;
  /** Whether the socket is connected. */
  connected = false;
  /** Whether the last connection restored the previous session (connection state recovery). */
  recovered = false;
  /** The CONNECT packet's payload. */
  declare auth: SocketOptions["auth"] | undefined;
  /** Events received before `connect`, delivered on it. */
  receiveBuffer: Array<ReadonlyArray<unknown>> = [];
  /** Packets emitted while disconnected, sent on connect. */
  sendBuffer: SocketPacket[] = [];
  #nsp: string;
  #opts: Partial<SocketOptions>;
  #pid: string | undefined;
  #lastOffset: string | undefined;
  #queue: Queued[] = [];
  #queueSeq = 0;
  #ids = 0;
  #acks: Record<number, Ack> = {};
  #flags: Flags = {};
  #unsub: (() => void) | undefined;
  #any: AnyListener[] = [];
  #anyOut: AnyListener[] = [];

  /**
   * Makes the socket of a namespace; prefer `io()` or `manager.socket()`.
   *
   * @param io the Manager
   * @param nsp the namespace
   * @param opts socket options
   */
  constructor(io: Manager, nsp: string, opts?: Partial<SocketOptions>) {
    super();
    this.io = io as unknown as Manager<ListenEvents, EmitEvents>;
    this.#nsp = nsp;
    if (opts?.auth) this.auth = opts.auth;
    this.#opts = { ...opts };
    if (io._autoConnect) this.open();
  }

  /** Whether the socket is disconnected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** Whether the socket follows its Manager, so reconnects with it. */
  get active(): boolean {
    return !!this.#unsub;
  }

  #subEvents(): void {
    if (this.#unsub) return;
    this.#unsub = subscribe(this.io, {
      open: () => this.#onopen(),
      packet: (packet: Packet) => this.#onpacket(packet),
      error: (err: Error) => {
        if (!this.connected) emitLocal(this, "connect_error", err);
      },
      close: (reason: string, description?: DisconnectDescription) =>
        this.#onclose(reason as DisconnectReason, description),
    });
  }

  /**
   * Alias of `off(ev, listener)`.
   *
   * @param ev the event name
   * @param listener the listener
   * @returns this socket
   */
  removeListener<Ev extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ReservedOrUserListener<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return this.off(ev, listener as never);
  }

  /**
   * Removes all listeners of an event, or of all events.
   *
   * @param ev the event name; omit for all events
   * @returns this socket
   */
  removeAllListeners<Ev extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    ev?: Ev,
  ): this {
    return this.off(ev);
  }

  /**
   * Whether an event has listeners.
   *
   * @param ev the event name
   * @returns true when it has some
   */
  hasListeners<Ev extends ReservedOrUserEventNames<SocketReservedEvents, ListenEvents>>(
    ev: Ev,
  ): boolean {
    return this.listenerCount(ev) > 0;
  }

  /**
   * Connects (the Manager opens the connection if needed).
   *
   * @returns this socket
   */
  connect(): this {
    if (this.connected) return this;
    this.#subEvents();
    if (!this.io._reconnecting) this.io.open();
    if (this.io._readyState === "open") this.#onopen();
    return this;
  }

  /**
   * Alias of {@linkcode Socket.connect}.
   *
   * @returns this socket
   */
  open(): this {
    return this.connect();
  }

  /**
   * Emits a `message` event.
   *
   * @param args the arguments, an ack callback last if wanted
   * @returns this socket
   */
  send(...args: unknown[]): this {
    return (this.emit as AnyListener)("message", ...args) as unknown as this;
  }

  /**
   * Emits an event to the server. A function as last argument is the ack callback. Emits made
   * while disconnected are buffered (unless `volatile`) and sent on connect.
   *
   * @param ev the event name
   * @param args the arguments, an ack callback last if wanted
   * @returns this socket
   * @throws {Error} for a reserved event name (`connect`, `disconnect`...)
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this {
    if (RESERVED.test(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const flags = this.#flags;
    if (this.#opts.retries && !flags.fromQueue && !flags.volatile) {
      this.#addToQueue(data);
      // Flags belong to this emit only (the official client lets them leak to the next).
      this.#flags = {};
      return this;
    }
    // Its `nsp` is set as it goes out (`#packet`), as the official client does.
    const packet = {
      type: 2, /* EVENT */
      data,
      options: { compress: flags.compress !== false },
    } as SocketPacket;
    if (typeof data[data.length - 1] === "function") {
      const id = this.#ids++;
      this.#registerAck(id, data.pop() as Ack);
      packet.id = id;
    }
    const engine = this.io.engine;
    const writable = engine?.transport?.writable;
    const connected = this.connected && !engine?._hasPingExpired();
    if (flags.volatile && !writable) {
      // dropped: volatile packets are not buffered
    } else if (connected) {
      this.#notifyOutgoing(packet);
      this.#packet(packet);
    } else {
      this.sendBuffer.push(packet);
    }
    this.#flags = {};
    return this;
  }

  #registerAck(id: number, ack: Ack): void {
    const timeout = this.#flags.timeout ?? this.#opts.ackTimeout;
    if (timeout === undefined) {
      this.#acks[id] = ack;
      return;
    }
    const native = this.io.opts.useNativeTimers;
    const timer = later(native, () => {
      delete this.#acks[id];
      this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
      ack.call(this, new Error("operation has timed out"));
    }, timeout);
    const fn: Ack = (...args) => {
      cancel(native, timer);
      ack.apply(this, args);
    };
    fn.withError = true;
    this.#acks[id] = fn;
  }

  /**
   * Emits an event and resolves with the ack's argument; rejects when the ack times out (with
   * `timeout()` or `ackTimeout`) or the socket disconnects.
   *
   * @param ev the event name
   * @param args the arguments, without the ack
   * @returns the server's answer
   */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstArg<Last<EventParams<EmitEvents, Ev>>>> {
    return new Promise((resolve, reject) => {
      const fn: Ack = (err, value) => err ? reject(err) : resolve(value);
      fn.withError = true;
      (this.emit as AnyListener)(ev, ...args, fn);
    });
  }

  // With `retries`, emits wait in a queue: one in flight at a time, re-sent on timeout.
  #addToQueue(args: unknown[]): void {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() as AnyListener : undefined;
    const packet: Queued = {
      id: this.#queueSeq++,
      tryCount: 0,
      pending: false,
      args,
      flags: { fromQueue: true, ...this.#flags },
    };
    args.push((err: unknown, ...response: unknown[]) => {
      if (packet !== this.#queue[0]) return; // an answer to a try that already timed out
      if (err !== null) {
        if (packet.tryCount > this.#opts.retries!) {
          this.#queue.shift();
          ack?.(err);
        }
      } else {
        this.#queue.shift();
        ack?.(null, ...response);
      }
      packet.pending = false;
      this.#drainQueue();
    });
    this.#queue.push(packet);
    this.#drainQueue();
  }

  #drainQueue(force = false): void {
    if (!this.connected || !this.#queue.length) return;
    const packet = this.#queue[0];
    if (packet.pending && !force) return;
    packet.pending = true;
    packet.tryCount++;
    this.#flags = packet.flags;
    (this.emit as AnyListener)(...packet.args);
  }

  // Every packet of this socket is for its namespace: the callers leave `nsp` to this.
  #packet(packet: Omit<SocketPacket, "nsp"> & { nsp?: string }): void {
    packet.nsp = this.#nsp;
    this.io._packet(packet as SocketPacket);
  }

  #onopen(): void {
    if (typeof this.auth === "function") this.auth((data) => this.#sendConnect(data));
    else this.#sendConnect(this.auth);
  }

  #sendConnect(data?: object): void {
    this.#packet({
      type: 0, /* CONNECT */
      data: this.#pid ? { pid: this.#pid, offset: this.#lastOffset, ...data } : data,
    });
  }

  #onclose(reason: DisconnectReason, description?: DisconnectDescription): void {
    this.connected = false;
    this.id = undefined;
    emitLocal(this, "disconnect", reason, description);
    // Acks of buffered packets stay: those packets go out on reconnect.
    for (const id in this.#acks) {
      if (!this.sendBuffer.some((p) => String(p.id) === id)) {
        const ack = this.#acks[id];
        delete this.#acks[id];
        if (ack.withError) ack.call(this, new Error("socket has been disconnected"));
      }
    }
  }

  #onpacket(packet: Packet): void {
    if (packet.nsp !== this.#nsp) return;
    // deno-lint-ignore no-explicit-any
    const data = packet.data as any;
    switch (packet.type) {
      case 0 /* CONNECT */:
        if (data?.sid) this.#onconnect(data.sid, data.pid);
        else {
          emitLocal(
            this,
            "connect_error",
            new Error(
              // Shorter than the official text, same meaning.
              "Socket.IO v2 servers are not compatible with this v3+ client",
            ),
          );
        }
        break;
      case 2 /* EVENT */:
      case 5 /* BINARY_EVENT */: {
        const args: unknown[] = data || [];
        if (packet.id != null) args.push(this.#ack(packet.id));
        if (this.connected) this.#emitEvent(args);
        else this.receiveBuffer.push(Object.freeze(args));
        break;
      }
      case 3 /* ACK */:
      case 6 /* BINARY_ACK */: {
        const ack = this.#acks[packet.id!];
        if (typeof ack !== "function") return;
        delete this.#acks[packet.id!];
        if (ack.withError) data.unshift(null);
        ack.apply(this, data);
        break;
      }
      case 1 /* DISCONNECT */:
        this.#destroy();
        this.#onclose("io server disconnect");
        break;
      case 4 /* CONNECT_ERROR */: {
        this.#destroy();
        const err: ExtendedError = new Error(data?.message ?? data);
        err.data = data?.data;
        emitLocal(this, "connect_error", err);
        break;
      }
    }
  }

  #emitEvent(args: ReadonlyArray<unknown>): void {
    for (const listener of this.#any.slice()) listener.apply(this, args as unknown[]);
    emitLocal(this, ...(args as [string, ...unknown[]]));
    // With connection state recovery, the server appends each event's offset.
    const last = args[args.length - 1];
    if (this.#pid && typeof last === "string") this.#lastOffset = last;
  }

  #ack(id: number): AnyListener {
    let sent = false;
    return (...args) => {
      if (sent) return; // one answer only
      sent = true;
      this.#packet({ type: 3, /* ACK */ id, data: args });
    };
  }

  #onconnect(id: string, pid?: string): void {
    this.id = id;
    this.recovered = !!pid && this.#pid === pid;
    this.#pid = pid; // set only with connection state recovery
    this.connected = true;
    for (const args of this.receiveBuffer) this.#emitEvent(args);
    this.receiveBuffer = [];
    for (const packet of this.sendBuffer) {
      this.#notifyOutgoing(packet);
      this.#packet(packet);
    }
    this.sendBuffer = [];
    this.#drainQueue(true);
    emitLocal(this, "connect");
  }

  #destroy(): void {
    // No more events from the Manager, so no reconnection for this socket.
    this.#unsub?.();
    this.#unsub = undefined;
    this.io._destroy(this as unknown as Socket);
  }

  /**
   * Disconnects: tells the server, leaves the Manager (which closes once no socket is left), and
   * fires `disconnect` with `io client disconnect`. No reconnection follows.
   *
   * @returns this socket
   */
  disconnect(): this {
    if (this.connected) this.#packet({ type: 1 /* DISCONNECT */ });
    this.#destroy();
    if (this.connected) this.#onclose("io client disconnect");
    return this;
  }

  /**
   * Alias of {@linkcode Socket.disconnect}.
   *
   * @returns this socket
   */
  close(): this {
    return this.disconnect();
  }

  /**
   * Sets whether the next emit may be compressed.
   *
   * @param compress the flag
   * @returns this socket
   */
  compress(compress: boolean): this {
    this.#flags.compress = compress;
    return this;
  }

  /**
   * Makes the next emit volatile: dropped, not buffered, when it cannot be sent now.
   *
   * @returns this socket
   */
  get volatile(): this {
    this.#flags.volatile = true;
    return this;
  }

  /**
   * Sets the ack timeout of the next emit; its ack then gets an error first.
   *
   * @param timeout milliseconds
   * @returns this socket, typed with error-first acks
   */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>> {
    this.#flags.timeout = timeout;
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  }

  /**
   * Adds a listener of every incoming event, called with the name first.
   *
   * @param listener the catch-all listener
   * @returns this socket
   */
  onAny(listener: AnyListener): this {
    this.#any.push(listener);
    return this;
  }

  /**
   * Adds a catch-all listener called before the others.
   *
   * @param listener the catch-all listener
   * @returns this socket
   */
  prependAny(listener: AnyListener): this {
    this.#any.unshift(listener);
    return this;
  }

  /**
   * Removes a catch-all listener, or all of them.
   *
   * @param listener the listener; omit for all
   * @returns this socket
   */
  offAny(listener?: AnyListener): this {
    this.#any = remove(this.#any, listener);
    return this;
  }

  /**
   * The catch-all listeners.
   *
   * @returns the listeners
   */
  listenersAny(): AnyListener[] {
    return this.#any;
  }

  /**
   * Adds a listener of every outgoing event, called with the name first.
   *
   * @param listener the catch-all listener
   * @returns this socket
   */
  onAnyOutgoing(listener: AnyListener): this {
    this.#anyOut.push(listener);
    return this;
  }

  /**
   * Adds an outgoing catch-all listener called before the others.
   *
   * @param listener the catch-all listener
   * @returns this socket
   */
  prependAnyOutgoing(listener: AnyListener): this {
    this.#anyOut.unshift(listener);
    return this;
  }

  /**
   * Removes an outgoing catch-all listener, or all of them.
   *
   * @param listener the listener; omit for all
   * @returns this socket
   */
  offAnyOutgoing(listener?: AnyListener): this {
    this.#anyOut = remove(this.#anyOut, listener);
    return this;
  }

  /**
   * The outgoing catch-all listeners.
   *
   * @returns the listeners
   */
  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOut;
  }

  #notifyOutgoing(packet: SocketPacket): void {
    for (const listener of this.#anyOut.slice()) listener.apply(this, packet.data as unknown[]);
  }
}

// Without `listener`, all go; else its first occurrence.
function remove(list: AnyListener[], listener?: AnyListener): AnyListener[] {
  if (!listener) return [];
  const i = list.indexOf(listener);
  if (i >= 0) list.splice(i, 1);
  return list;
}
