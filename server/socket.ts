/**
 * A client's socket in one namespace: events, acks, rooms, middleware, catch-all listeners.
 * Browser compatible.
 *
 * @module
 */
import type { AdapterSocket, Handshake, Room, WriteOptions } from "../adapter/adapter.ts";
import { type Packet, PacketType, RESERVED_EVENTS } from "../parser/socket.ts";
import type { BroadcastOperator } from "./broadcast.ts";
import type { Client } from "./client.ts";
import { randomId } from "./ids.ts";
import { report, reportRejection } from "./runtime/report.ts";
import type { Namespace } from "./namespace.ts";
import type { Server } from "./server.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  DefaultEventsMap,
  EventNames,
  EventNamesWithAck,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed_events.ts";
import { TypedListeners } from "./typed_events.ts";
import type { EngineSocket } from "./engine/session.ts";

/** @internal The flags of a packet sent without any: shared, never written to. */
export const NO_FLAGS: SocketFlags = Object.freeze({});

/**
 * Why a socket disconnected, as the official server names it; and `"slow consumer"`, which it
 * never gives: more than `maxBufferedBytes` was waiting to be sent to the client (its description
 * names the limit).
 */
export type DisconnectReason =
  | "slow consumer"
  | "transport error"
  | "transport close"
  | "forced close"
  | "ping timeout"
  | "parse error"
  | "server shutting down"
  | "forced server close"
  | "client namespace disconnect"
  | "server namespace disconnect";

/** Event names a socket never sends: emitting one throws (the parser refuses them too). */
export { RESERVED_EVENTS };

/** The reserved events a socket emits locally. */
export interface SocketReservedEvents {
  /** The socket is leaving (its rooms are still set). */
  disconnecting: (reason: DisconnectReason, description?: unknown) => void;
  /** The socket left. */
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
  /** A middleware or decode error. */
  error: (err: Error) => void;
}

/** What the client sent at handshake, as the official `socket.handshake`. */
export type { Handshake };

/** Flags of the next emit. */
export interface SocketFlags {
  /** Drop the packet when the connection cannot take it now. */
  volatile?: boolean;
  /** Kept for API compatibility. */
  compress?: boolean;
  /** Wait this many ms for the ack. */
  timeout?: number;
  /** Only this node (cluster adapters). */
  local?: boolean;
  /** Broadcast flag (set by `socket.broadcast`). */
  broadcast?: boolean;
}

/** A per-packet middleware: `([event, ...args], next) => ...`. */
export type PacketMiddleware = (event: unknown[], next: (err?: Error) => void) => void;

/** A catch-all listener: the event name, then its arguments. */
// deno-lint-ignore no-explicit-any
export type AnyListener = (...args: any[]) => void;
type Ack = (...args: unknown[]) => void;

/**
 * A client's socket in one namespace.
 *
 * @example Echo with an ack
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * io.on("connection", (socket) => {
 *   socket.join("lobby");
 *   socket.on("echo", (msg, ack) => ack(msg));
 *   socket.to("lobby").emit("joined", socket.id);
 * });
 * ```
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> extends TypedListeners<ListenEvents, SocketReservedEvents> implements AdapterSocket {
  /** The socket id (also the name of its own room). */
  readonly id: string;
  /** Free-form data, shared with `fetchSockets()` results. */
  data: SocketData = {} as SocketData;
  /** Whether the socket is connected. */
  connected = false;
  /** Whether the session was restored by connection state recovery. */
  recovered = false;
  /** The namespace the socket belongs to. */
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** @internal the connection this socket rides on. */
  readonly client: Client;
  /** @internal private session id, when recovery is on. */
  pid: string | undefined;

  // Created on first use: most sockets never wait for an ack, set a flag or read their
  // handshake, and every idle connection would retain them.
  #acks: Map<number, Ack> | undefined;
  #flags: SocketFlags | undefined;
  #handshake: Handshake | undefined;
  #auth: Record<string, unknown>;
  #issued: number;
  #left = false;
  #fns: PacketMiddleware[] | undefined;
  #anyListeners: AnyListener[] | undefined;
  #anyOutgoing: AnyListener[] | undefined;

  /**
   * Sockets are created by their namespace when a client joins it.
   *
   * @param nsp the namespace
   * @param client the client connection
   * @param auth the CONNECT packet's payload
   * @param previous a session restored by connection state recovery, or after hibernation
   * (with the time of its handshake)
   */
  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client,
    auth: Record<string, unknown>,
    previous?: { sid: string; pid: string | undefined; data: unknown; issued?: number },
  ) {
    super();
    this.nsp = nsp;
    this.client = client;
    this.#auth = auth;
    this.#issued = previous?.issued ?? Date.now();
    if (previous) {
      this.id = previous.sid;
      this.pid = previous.pid;
      this.data = previous.data as SocketData;
      this.recovered = true;
    } else if (client.conn.protocol === 3) {
      // Socket.IO v2 clients know their socket id only from the Engine.IO id.
      this.id = nsp.name === "/" ? client.conn.id : `${nsp.name}#${client.conn.id}`;
    } else {
      this.id = randomId();
      if (nsp.server.recovery) this.pid = randomId();
    }
  }

  /** What the client sent at handshake (built on first read, with the connection's time). */
  get handshake(): Handshake {
    return this.#handshake ??= this.client.handshake(this.#auth, this.#issued);
  }

  /** @internal acks awaiting an answer, by packet id. */
  get acks(): Map<number, Ack> {
    return this.#acks ??= new Map();
  }

  /**
   * @internal forgets a timed-out broadcast's ack. By the callback rather than by id: the
   * children of a parent namespace each gave the broadcast an id of their own.
   */
  _dropAck(ack: Ack): void {
    const acks = this.#acks;
    if (acks === undefined || acks.size === 0) return;
    for (const [id, registered] of acks) if (registered === ack) acks.delete(id);
  }

  /** The server. */
  get server(): Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    return this.nsp.server;
  }

  /** The namespace's adapter. */
  get adapter(): Namespace["adapter"] {
    return this.nsp.adapter;
  }

  /** The Engine.IO session (`socket.conn.transport.name`, `socket.conn.on("upgrade")`). */
  get conn(): EngineSocket {
    return this.client.conn;
  }

  /** What the handshake request carried (kept as a snapshot, not the `Request`). */
  get request(): EngineSocket["request"] {
    return this.client.conn.request;
  }

  /** The rooms the socket is in. */
  get rooms(): Set<Room> {
    return this.adapter.socketRooms(this.id) ?? new Set();
  }

  /** @internal whether the connection can take a packet now. */
  get writable(): boolean {
    return this.client.conn.writable;
  }

  /**
   * Sends an event; a function as last argument receives the client's ack.
   *
   * @throws when `ev` is a reserved event name
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data };
    const flags = this.#flags ?? {};
    this.#flags = undefined;
    if (typeof data[data.length - 1] === "function") {
      const id = this.nsp.nextAckId();
      this.#registerAck(id, data.pop() as Ack, flags.timeout);
      packet.id = id;
    }
    if (this.pid !== undefined) {
      // With connection state recovery, the packet goes through the adapter so that it gets an
      // offset and can be replayed after a reconnection.
      this.adapter.broadcast(packet, { rooms: new Set([this.id]), except: new Set(), flags });
      return true;
    }
    this.notifyOutgoingListeners(packet);
    this._packet(packet, flags);
    return true;
  }

  /** Sends an event and resolves with the ack (rejects on timeout when `timeout()` was set). */
  emitWithAck<Ev extends EventNamesWithAck<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    type Result = FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>;
    const withErr = this.#flags?.timeout !== undefined;
    return new Promise((resolve, reject) => {
      (args as unknown[]).push((a: unknown, b: unknown) => {
        if (!withErr) return resolve(a as Result);
        a ? reject(a) : resolve(b as Result);
      });
      (this.emit as (ev: string, ...a: unknown[]) => boolean)(ev, ...(args as unknown[]));
    });
  }

  #registerAck(id: number, ack: Ack, timeout: number | undefined): void {
    if (timeout === undefined) {
      this.acks.set(id, ack);
      return;
    }
    const scheduler = this.nsp.server.engine.opts.scheduler;
    const timer = scheduler.set(() => {
      this.acks.delete(id);
      try {
        reportRejection(ack.call(this, new Error("operation has timed out")));
      } catch (err) {
        report(err); // thrown out of a timer, it would end the process
      }
    }, timeout);
    const wrapped: Ack & { fail?: (err: Error) => void } = (...args) => {
      scheduler.clear(timer);
      reportRejection(ack.call(this, null, ...args));
    };
    wrapped.fail = (err) => {
      scheduler.clear(timer);
      reportRejection(ack.call(this, err));
    };
    this.acks.set(id, wrapped);
  }

  /** @internal adapter: register an ack for a broadcast packet. */
  registerAck(id: number, ack: Ack): void {
    this.acks.set(id, ack);
  }

  /** Alias of `emit("message", ...args)`. */
  send(...args: EventParams<EmitEvents, "message">): this {
    (this.emit as (ev: string, ...a: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** Alias of {@linkcode Socket.send}. */
  write(...args: EventParams<EmitEvents, "message">): this {
    return this.send(...args);
  }

  /** @internal encodes and writes a packet of this namespace. */
  _packet(packet: Packet, flags: SocketFlags = NO_FLAGS): void {
    this.client._packet(packet, flags);
  }

  /** @internal adapter: writes a broadcast's encoded chunks. */
  writeEncoded(chunks: readonly (string | Uint8Array | Blob)[], opts: WriteOptions): void {
    this.client.writeToEngine(chunks, opts);
  }

  /** Joins one room or several (nothing once the socket has left). */
  join(rooms: Room | Room[]): void | Promise<void> {
    // A late join (a timer, an awaited call) must not put a gone socket back in a room.
    if (this.#left) return;
    const list = Array.isArray(rooms) ? rooms : [rooms];
    return this.adapter.addAll(this.id, new Set(list));
  }

  /** Leaves a room. */
  leave(room: Room): void | Promise<void> {
    return this.adapter.del(this.id, room);
  }

  /** Targets a room (or several), excluding this socket. */
  to(room: Room | Room[]): Broadcast<EmitEvents, SocketData> {
    return this.#broadcast().to(room);
  }

  /** Alias of {@linkcode Socket.to}. */
  in(room: Room | Room[]): Broadcast<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Targets every socket but this one and those in `room`. */
  except(room: Room | Room[]): Broadcast<EmitEvents, SocketData> {
    return this.#broadcast().except(room);
  }

  /** Targets every socket of the namespace but this one. */
  get broadcast(): Broadcast<EmitEvents, SocketData> {
    return this.#broadcast();
  }

  #broadcast(): Broadcast<EmitEvents, SocketData> {
    // The flags set so far (volatile, timeout...) move to the operator.
    const flags = this.#flags ?? {};
    this.#flags = undefined;
    return this.nsp._operator(new Set(), new Set([this.id]), flags) as unknown as Broadcast<
      EmitEvents,
      SocketData
    >;
  }

  /** Targets only this node (cluster adapters): every socket but this one. */
  get local(): Broadcast<EmitEvents, SocketData> {
    return this.#broadcast().local;
  }

  /** The next packet may be dropped when the connection cannot take it now. */
  get volatile(): this {
    (this.#flags ??= {}).volatile = true;
    return this;
  }

  /** Kept for API compatibility: compression is the runtime's business. */
  compress(compress: boolean): this {
    (this.#flags ??= {}).compress = compress;
    return this;
  }

  /** The next emit's ack gets an error first, after `ms` without an answer. */
  timeout(
    ms: number,
  ): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData> {
    (this.#flags ??= {}).timeout = ms;
    return this as unknown as Socket<
      ListenEvents,
      DecorateAcknowledgements<EmitEvents>,
      ServerSideEvents,
      SocketData
    >;
  }

  /** Adds a per-packet middleware: `([event, ...args], next) => ...`. */
  use(fn: PacketMiddleware): this {
    (this.#fns ??= []).push(fn);
    return this;
  }

  /**
   * Disconnects this socket; with `close`, the whole connection (every namespace).
   *
   * @param close whether to close the underlying connection
   */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.client._disconnect();
    } else {
      this._packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name });
      this._onclose("server namespace disconnect");
    }
    return this;
  }

  /** Whether the socket is disconnected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** @internal the namespace accepted the socket. */
  _onconnect(): void {
    this.connected = true;
    reportRejection(this.join(this.id));
    if (this.client.conn.protocol === 3) {
      // Socket.IO v2 clients get a bare CONNECT: they use the Engine.IO id.
      this._packet({ type: PacketType.CONNECT, nsp: this.nsp.name });
      return;
    }
    const data: Record<string, string> = { sid: this.id };
    if (this.pid) data.pid = this.pid;
    this._packet({ type: PacketType.CONNECT, nsp: this.nsp.name, data });
  }

  /**
   * @internal a socket restored after hibernation: connected again, in its rooms, and nothing
   * sent (its client never left).
   */
  _resume(rooms: readonly Room[]): void {
    this.connected = true;
    reportRejection(this.join([this.id, ...rooms]));
  }

  /** @internal a packet for this socket arrived, given as its fields. */
  _onpacket(type: PacketType, id: number | undefined, data: unknown): void {
    switch (type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.#onevent(data as unknown[], id);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.#onack(id!, data as unknown[]);
        break;
      case PacketType.DISCONNECT:
        this._onclose("client namespace disconnect");
        break;
    }
  }

  #onevent(args: unknown[], id: number | undefined): void {
    if (!this.#anyListeners?.length && !this.#fns?.length) {
      // Nobody needs the event name beside its listeners: the arguments move one place left in
      // the same array and the ack takes the name's place, so no array is made or grown.
      const name = args[0];
      const n = args.length;
      if (id === undefined) {
        args.shift();
      } else {
        for (let i = 1; i < n; i++) args[i - 1] = args[i];
        args[n - 1] = this.#ack(id);
      }
      this._emitArgs(name, args);
      return;
    }
    if (id !== undefined) args.push(this.#ack(id));
    const any = this.#anyListeners;
    if (any?.length) {
      for (const listener of any.slice()) reportRejection(listener.apply(this, args));
    }
    if (!this.#fns?.length) {
      this._emitEvent(args);
      return;
    }
    this.#run(args, (err) => {
      // A middleware may call `next` later (after an `await`): the listeners then run outside
      // the packet's handling, where nothing would catch what they throw.
      try {
        if (err) return this._onerror(err);
        if (this.connected) this._emitEvent(args);
      } catch (thrown) {
        report(thrown);
      }
    });
  }

  #run(event: unknown[], done: (err?: Error) => void): void {
    const fns = this.#fns!.slice();
    const step = (i: number): void => {
      if (i === fns.length) return done();
      // What a middleware throws, or its promise rejects with, is reported; the event goes no
      // further unless it called `next`.
      try {
        reportRejection(fns[i](event, (err) => (err ? done(err) : step(i + 1))));
      } catch (thrown) {
        report(thrown);
      }
    };
    step(0);
  }

  #ack(id: number): Ack {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      this._packet({ type: PacketType.ACK, nsp: this.nsp.name, id, data: args });
    };
  }

  #onack(id: number, data: unknown[]): void {
    const ack = this.#acks?.get(id);
    if (typeof ack !== "function") return;
    this.#acks!.delete(id);
    reportRejection(ack.apply(this, data));
  }

  /** @internal reports an error to "error" listeners. */
  _onerror(err: Error): void {
    // Unlike a bare EventEmitter, a socket without "error" listeners does not throw.
    this.emitReserved("error", err);
  }

  /** @internal refuses the connection with a CONNECT_ERROR. */
  _error(err: { message: string; data?: unknown }): void {
    // Socket.IO v2 clients expect the error itself (its data, else its message).
    const data = this.client.conn.protocol === 3 ? err.data || err.message : err;
    this._packet({ type: PacketType.CONNECT_ERROR, nsp: this.nsp.name, data });
  }

  /**
   * @internal leaves every room and its namespace for good (the socket left, or was refused):
   * a dynamic child left empty may then go (`cleanupEmptyChildNamespaces`), as official.
   */
  _cleanup(): void {
    this.adapter.delAll(this.id);
    this.#left = true;
    this.nsp._remove(this);
  }

  /** @internal the socket is gone. */
  _onclose(reason: DisconnectReason, description?: unknown): void {
    if (!this.connected) return;
    try {
      this.emitReserved("disconnecting", reason, description);
    } catch (err) {
      report(err); // the socket leaves all the same: its rooms must not keep it
    }
    this.nsp._persist(this, reason);
    this._cleanup();
    this.client._remove(this as unknown as Socket);
    this.connected = false;
    const acks = this.#acks;
    if (acks) {
      for (const ack of acks.values()) {
        (ack as { fail?: (err: Error) => void }).fail?.(new Error("socket has been disconnected"));
      }
      acks.clear();
    }
    this.emitReserved("disconnect", reason, description);
  }

  /** Adds a listener called with every incoming event. */
  onAny(listener: AnyListener): this {
    (this.#anyListeners ??= []).push(listener);
    return this;
  }

  /** Adds a catch-all listener in front of the others. */
  prependAny(listener: AnyListener): this {
    (this.#anyListeners ??= []).unshift(listener);
    return this;
  }

  /** Removes one catch-all listener, or all of them. */
  offAny(listener?: AnyListener): this {
    this.#anyListeners = remove(this.#anyListeners, listener);
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): AnyListener[] {
    return this.#anyListeners?.slice() ?? [];
  }

  /** Adds a listener called with every outgoing event. */
  onAnyOutgoing(listener: AnyListener): this {
    (this.#anyOutgoing ??= []).push(listener);
    return this;
  }

  /** Adds an outgoing catch-all listener in front of the others. */
  prependAnyOutgoing(listener: AnyListener): this {
    (this.#anyOutgoing ??= []).unshift(listener);
    return this;
  }

  /** Removes one outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: AnyListener): this {
    this.#anyOutgoing = remove(this.#anyOutgoing, listener);
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOutgoing?.slice() ?? [];
  }

  /** @internal tells outgoing catch-all listeners about an event packet. */
  notifyOutgoingListeners(packet: Packet): void {
    const list = this.#anyOutgoing;
    if (!list?.length) return;
    for (const listener of list.slice()) {
      reportRejection(listener.apply(this, packet.data as unknown[]));
    }
  }
}

function remove(
  list: AnyListener[] | undefined,
  listener?: AnyListener,
): AnyListener[] | undefined {
  if (!listener || !list) return undefined;
  const i = list.indexOf(listener);
  if (i !== -1) list.splice(i, 1);
  return list;
}

/** The broadcast operator of `socket.to()`: acks collect one response per receiver. */
export type Broadcast<E extends EventsMap, D> = BroadcastOperator<
  DecorateAcknowledgementsWithMultipleResponses<E>,
  D
>;
