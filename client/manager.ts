/**
 * The Manager: one Engine.IO connection shared by the namespaces of one server, and the
 * reconnection loop. Browser compatible.
 *
 * @module
 */

import { Emitter } from "../parser/emitter.ts";
import type { Packet } from "../parser/socket.ts";
import { Decoder, Encoder } from "./default_parser.ts";
import type { DefaultEventsMap, EventsMap } from "../parser/typed_events.ts";
import { Backoff } from "./backoff.ts";
import { Engine, type EngineOptions } from "./engine.ts";
import { Socket, type SocketOptions } from "./socket.ts";
import { subscribe } from "./subscribe.ts";
import { cancel, later } from "./timers.ts";
import { type Unref, unrefRuntime, unrefs } from "./unref/mod.ts";
import type { CloseDetails, TransportError } from "./transports/transport.ts";

/**
 * A parser module, as npm `socket.io-parser` or `socket.io-msgpack-parser` export it.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 * import * as parser from "npm:socket.io-msgpack-parser@3.0.2";
 *
 * io("https://example.com", { parser });
 * ```
 */
export interface ClientParser {
  /** Encodes packets to frames. */
  Encoder: new () => { encode(packet: Packet): unknown[] };
  /** Decodes frames, emitting `"decoded"`. */
  Decoder: new () => {
    add(chunk: unknown): unknown;
    on(event: "decoded", fn: (packet: Packet) => void): unknown;
    off?(event: "decoded", fn?: (packet: Packet) => void): unknown;
    destroy(): void;
  };
}

/**
 * Options of the Manager (and of `io()`): the Engine.IO options plus these.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * io("https://example.com", { reconnectionDelay: 500, reconnectionAttempts: 10, timeout: 5000 });
 * ```
 */
export interface ManagerOptions extends EngineOptions {
  /** A new Manager for this `io()` call, not the shared one (default false). */
  forceNew: boolean;
  /** Share one Manager per server (default true). */
  multiplex: boolean;
  /** The Engine.IO path (default `/socket.io`). */
  path: string;
  /** Reconnect after a lost connection (default true). */
  reconnection: boolean;
  /** Attempts before giving up (default Infinity). */
  reconnectionAttempts: number;
  /**
   * The first delay (ms, default 1000); it doubles each attempt. After a handshake the server
   * refused with `503` and `Retry-After` over polling (its admission control; or
   * a `429` with `Retry-After` from a proxy: a `connect_error` `"server busy"`), the next delay is at least the `Retry-After`, stretched by
   * up to `randomizationFactor` of it. Over WebSocket the status cannot be seen (a WebSocket
   * reports a refused handshake as a plain error): the delays are then these.
   */
  reconnectionDelay: number;
  /** The longest delay (ms, default 5000). */
  reconnectionDelayMax: number;
  /** How far a delay may stray at random, 0 to 1 (default 0.5). */
  randomizationFactor: number;
  /** Connection timeout (ms, default 20000); `false` for none. */
  timeout: number | false;
  /** Connect at once (default true). */
  autoConnect: boolean;
  /** A custom parser module (default ours, as npm `socket.io-parser`). */
  parser: ClientParser;
}

/**
 * The events of a Manager.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * const socket = io("https://example.com");
 * socket.io.on("reconnect_attempt", (attempt) => console.log("attempt", attempt));
 * socket.io.on("reconnect", (attempt) => console.log("back after", attempt));
 * ```
 */
export type ManagerReservedEvents = {
  open: [];
  error: [err: Error];
  ping: [];
  packet: [packet: Packet];
  close: [reason: string, description?: CloseDetails | Error];
  reconnect_failed: [];
  reconnect_attempt: [attempt: number];
  reconnect_error: [err: Error];
  reconnect: [attempt: number];
};

type Decoder_ = InstanceType<ClientParser["Decoder"]>;

const defaultParser: ClientParser = { Encoder, Decoder };

/**
 * A connection to one server, shared by its namespaces, that reconnects with backoff, and waits
 * at least what a busy server asks (`503` with `Retry-After`, over polling).
 *
 * @example
 * ```ts ignore
 * import { Manager } from "@socketio-edge/core/client";
 *
 * const manager = new Manager("https://example.com", { reconnectionDelayMax: 10000 });
 * const socket = manager.socket("/admin", { auth: { token: "abc" } });
 * socket.on("connect", () => console.log(socket.id));
 * ```
 */
export class Manager<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = ListenEvents,
> extends Emitter<ManagerReservedEvents> {
  /** The Engine.IO connection (a new one per attempt). */
  declare engine: Engine;
  /** The options. */
  declare opts: Partial<ManagerOptions>;
  /** @internal */
  declare _autoConnect: boolean;
  /** @internal */
  _readyState: "opening" | "open" | "closed" = "closed";
  /** @internal */
  _reconnecting = false;
  /** @internal sockets by namespace. */
  nsps: Record<string, Socket<ListenEvents, EmitEvents>> = {};
  #uri: string | undefined;
  #subs: Array<() => void> = [];
  #backoff: Backoff;
  #reconnection: boolean;
  #attempts: number;
  #timeout: number | false;
  #skipReconnect: boolean;
  #encoder: InstanceType<ClientParser["Encoder"]>;
  #decoder: Decoder_;
  #unref?: Unref;
  // What the last attempt's refusal asked to wait (ms): "server busy" and its Retry-After.
  #wait = 0;

  /**
   * Makes a Manager; it connects at once unless `autoConnect` is false.
   *
   * @param uri the server URL; omit to use `location`
   * @param opts options
   */
  constructor(uri?: string | Partial<ManagerOptions>, opts?: Partial<ManagerOptions>) {
    super();
    if (uri && typeof uri === "object") {
      opts = uri;
      uri = undefined;
    }
    opts = opts || {};
    opts.path ||= "/socket.io";
    this.opts = opts;
    this.#uri = uri;
    this.#backoff = new Backoff(
      opts.reconnectionDelay || 1000,
      opts.reconnectionDelayMax || 5000,
      opts.randomizationFactor ?? 0.5,
    );
    this.#reconnection = opts.reconnection !== false;
    this.#skipReconnect = !this.#reconnection;
    this.#attempts = opts.reconnectionAttempts || Infinity;
    this.#timeout = opts.timeout ?? 20000;
    const parser = opts.parser || defaultParser;
    this.#encoder = new parser.Encoder();
    this.#decoder = new parser.Decoder();
    if (unrefs && opts.autoUnref) this.#unref = unrefRuntime();
    this._autoConnect = opts.autoConnect !== false;
    if (this._autoConnect) this.open();
  }

  /**
   * Whether to reconnect: reads it, or sets it.
   *
   * @param v the new value
   * @returns the value, or this manager when setting
   */
  reconnection(v: boolean): this;
  /**
   * Whether to reconnect.
   *
   * @returns the current value
   */
  reconnection(): boolean;
  reconnection(v?: boolean): this | boolean {
    if (v === undefined) return this.#reconnection;
    this.#reconnection = !!v;
    if (!v) this.#skipReconnect = true;
    return this;
  }

  /**
   * Attempts before `reconnect_failed`: reads it, or sets it.
   *
   * @param v the new value
   * @returns the value, or this manager when setting
   */
  reconnectionAttempts(v: number): this;
  /**
   * Attempts before `reconnect_failed`.
   *
   * @returns the current value
   */
  reconnectionAttempts(): number;
  reconnectionAttempts(v?: number): this | number {
    if (v === undefined) return this.#attempts;
    this.#attempts = v;
    return this;
  }

  /**
   * The first reconnection delay (ms): reads it, or sets it.
   *
   * @param v the new value
   * @returns the value, or this manager when setting
   */
  reconnectionDelay(v: number): this;
  /**
   * The first reconnection delay (ms).
   *
   * @returns the current value
   */
  reconnectionDelay(): number;
  reconnectionDelay(v?: number): this | number {
    if (v === undefined) return this.#backoff.ms;
    this.#backoff.ms = v;
    return this;
  }

  /**
   * The randomization factor of delays: reads it, or sets it.
   *
   * @param v the new value
   * @returns the value, or this manager when setting
   */
  randomizationFactor(v: number): this;
  /**
   * The randomization factor of delays.
   *
   * @returns the current value
   */
  randomizationFactor(): number;
  randomizationFactor(v?: number): this | number {
    if (v === undefined) return this.#backoff.jitter;
    this.#backoff.jitter = v;
    return this;
  }

  /**
   * The longest reconnection delay (ms): reads it, or sets it.
   *
   * @param v the new value
   * @returns the value, or this manager when setting
   */
  reconnectionDelayMax(v: number): this;
  /**
   * The longest reconnection delay (ms).
   *
   * @returns the current value
   */
  reconnectionDelayMax(): number;
  reconnectionDelayMax(v?: number): this | number {
    if (v === undefined) return this.#backoff.max;
    this.#backoff.max = v;
    return this;
  }

  /**
   * The connection timeout (ms, or `false`): reads it, or sets it.
   *
   * @param v the new value
   * @returns the value, or this manager when setting
   */
  timeout(v: number | false): this;
  /**
   * The connection timeout (ms, or `false`).
   *
   * @returns the current value
   */
  timeout(): number | false;
  timeout(v?: number | false): this | number | false {
    if (v === undefined) return this.#timeout;
    this.#timeout = v;
    return this;
  }

  // Reconnect if the first connection failed, unless a reconnection loop is running already.
  #maybeReconnectOnOpen(): void {
    if (!this._reconnecting && this.#reconnection && this.#backoff.attempts === 0) {
      this.#reconnect();
    }
  }

  /**
   * Opens the connection, if not open or opening.
   *
   * @param fn called once open (no argument) or failed (the error); without it, a failure
   * starts the reconnection loop
   * @returns this manager
   */
  open(fn?: (err?: Error) => void): this {
    if (this._readyState.includes("open")) return this;
    const engine = this.engine = new Engine(this.#uri, this.opts);
    this._readyState = "opening";
    this.#skipReconnect = false;
    this.#wait = 0;
    const onOpen = () => {
      this.#onopen();
      fn?.();
    };
    const onError = (err: Error | string) => {
      this.#wait = (err as TransportError).retryAfter || 0;
      this.#cleanup();
      this._readyState = "closed";
      this.emit("error", err as Error);
      if (fn) fn(err as Error);
      else this.#maybeReconnectOnOpen();
    };
    this.#subs.push(subscribe(engine, { open: onOpen, error: onError }));
    const timeout = this.#timeout;
    if (timeout !== false) {
      const native = this.opts.useNativeTimers;
      const timer = later(native, () => {
        engine.off("open", onOpen);
        onError(new Error("timeout"));
        engine.close();
      }, timeout);
      if (unrefs) this.#unref?.timer(timer);
      this.#subs.push(() => cancel(native, timer));
    }
    return this;
  }

  /**
   * Alias of {@linkcode Manager.open}.
   *
   * @param fn called once open or failed
   * @returns this manager
   */
  connect(fn?: (err?: Error) => void): this {
    return this.open(fn);
  }

  #onopen(): void {
    this.#cleanup();
    this._readyState = "open";
    this.emit("open");
    const decoder = this.#decoder;
    // Later, so that an exception in a listener is not taken for a parse error.
    const onDecoded = (packet: Packet) => queueMicrotask(() => this.emit("packet", packet));
    decoder.on("decoded", onDecoded);
    this.#subs.push(
      subscribe(this.engine, {
        ping: () => this.emit("ping"),
        data: (data: unknown) => {
          let err: unknown;
          try {
            err = decoder.add(data);
          } catch (e) {
            err = e;
          }
          if (err) this.#onclose("parse error", err as Error);
        },
        error: (err: Error | string) => this.emit("error", err as Error),
        close: (reason: string, description?: CloseDetails | Error) =>
          this.#onclose(reason, description),
      }),
      () => decoder.off?.("decoded", onDecoded),
    );
  }

  /**
   * The socket of a namespace (made on first use; reconnected if it was closed).
   *
   * @param nsp the namespace, e.g. `/admin`
   * @param opts socket options (`auth`, `ackTimeout`, `retries`)
   * @returns the socket
   */
  socket(nsp: string, opts?: Partial<SocketOptions>): Socket<ListenEvents, EmitEvents> {
    let socket = this.nsps[nsp];
    if (!socket) {
      socket = new Socket(this as Manager, nsp, opts) as unknown as Socket<
        ListenEvents,
        EmitEvents
      >;
      this.nsps[nsp] = socket;
    } else if (this._autoConnect && !socket.active) {
      socket.connect();
    }
    return socket;
  }

  /** @internal a socket closed: close the connection once none is active. */
  _destroy(_socket: Socket): void {
    for (const nsp in this.nsps) if (this.nsps[nsp].active) return;
    this._close();
  }

  /** @internal encodes and writes a packet. */
  _packet(packet: Packet & { options?: { compress: boolean } }): void {
    for (const chunk of this.#encoder.encode(packet)) {
      this.engine.write(chunk as string, packet.options);
    }
  }

  #cleanup(): void {
    for (const sub of this.#subs) sub();
    this.#subs = [];
    this.#decoder.destroy();
  }

  /** @internal closes for good: no reconnection. */
  _close(): void {
    this.#skipReconnect = true;
    this._reconnecting = false;
    this.#onclose("forced close");
  }

  #onclose(reason: string, description?: CloseDetails | Error): void {
    this.#cleanup();
    this.engine?.close();
    this.#backoff.attempts = 0;
    this._readyState = "closed";
    this.emit("close", reason, description);
    if (this.#reconnection && !this.#skipReconnect) this.#reconnect();
  }

  #reconnect(): void {
    if (this._reconnecting || this.#skipReconnect) return;
    const backoff = this.#backoff;
    if (backoff.attempts >= this.#attempts) {
      backoff.attempts = 0;
      this.emit("reconnect_failed");
      this._reconnecting = false;
      return;
    }
    // A server that asked to wait gets at least that, spread by the randomization factor, so
    // that the clients it refused together do not all come back in the same millisecond.
    const delay = Math.max(
      backoff.duration(),
      this.#wait * (1 + Math.random() * backoff.jitter),
    );
    this._reconnecting = true;
    const native = this.opts.useNativeTimers;
    const timer = later(native, () => {
      if (this.#skipReconnect) return;
      this.emit("reconnect_attempt", backoff.attempts);
      // A listener may have closed the manager.
      if (this.#skipReconnect) return;
      this.open((err) => {
        if (err) {
          this._reconnecting = false;
          this.#reconnect();
          this.emit("reconnect_error", err);
        } else {
          const attempt = backoff.attempts;
          this._reconnecting = false;
          backoff.attempts = 0;
          this.emit("reconnect", attempt);
        }
      });
    }, delay);
    if (unrefs) this.#unref?.timer(timer);
    this.#subs.push(() => cancel(native, timer));
  }
}
