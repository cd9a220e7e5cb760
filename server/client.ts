/**
 * One Engine.IO connection seen by Socket.IO: decodes its packets, routes them to the
 * namespaces' sockets, encodes what they send. Browser compatible.
 *
 * @module
 */
import type { WriteOptions } from "../adapter/adapter.ts";
import { DecodeError } from "../parser/errors.ts";
import { Decoder, type Packet, PacketType } from "../parser/socket.ts";
import type { EngineSocket } from "./engine/session.ts";
import { report } from "./runtime/report.ts";
import type { Server } from "./server.ts";
import {
  type DisconnectReason,
  type Handshake,
  NO_FLAGS,
  type Socket,
  type SocketFlags,
} from "./socket.ts";

/** The decoder surface the client uses; custom parsers may throw from `add`. */
interface AnyDecoder {
  add(chunk: unknown): unknown;
  on(event: "decoded", fn: (packet: Packet) => void): unknown;
  destroy(): void;
}

type Chunk = string | Uint8Array | Blob;

/** A client connection, with its sockets in each namespace. */
export class Client {
  /** The Engine.IO session. */
  readonly conn: EngineSocket;
  // Sockets by namespace: most clients join one, which sits in a field; a Map holds the others.
  #socket: Socket | undefined;
  #others: Map<string, Socket> | undefined;
  readonly #server: Server;
  readonly #decoder: AnyDecoder;
  /** Whether the decoder is ours, which reads a message inside its frame. */
  readonly #framed: boolean;
  #closed = false;
  /** Sockets that left during this run of the event loop (see `_ondecoded`). */
  #left: Socket[] | undefined;
  /** Writes waiting for `Blob` attachments to be read, in order. */
  #blobs: Promise<void> | undefined;
  #blobWrites = 0;

  /**
   * Clients are created by the server for each Engine.IO connection.
   *
   * @param server the Socket.IO server
   * @param conn the Engine.IO session
   */
  constructor(server: Server, conn: EngineSocket) {
    this.#server = server;
    this.conn = conn;
    const decoder = new server._parser.Decoder() as AnyDecoder;
    this.#framed = decoder instanceof Decoder;
    if (decoder instanceof Decoder) decoder._sink = this;
    else decoder.on("decoded", (p) => this._ondecoded(p.type, p.nsp, p.id, p.data));
    this.#decoder = decoder;
    conn._reader = this;
    server._awaitJoin(this);
  }

  /** The Engine.IO session id, as the official `client.id` (the admin UI shows it). */
  get id(): string {
    return this.conn.id;
  }

  /**
   * What the handshake request carried, as the official `client.request`: the same object as
   * `socket.request` and `conn.request`, with what `engine.use()` middleware attached to it.
   */
  get request(): EngineSocket["request"] {
    return this.conn.request;
  }

  /** @internal the handshake of a socket of this connection. */
  handshake(auth: Record<string, unknown>, issued: number): Handshake {
    const req = this.conn.request;
    const now = new Date(issued);
    return {
      headers: req.headers,
      time: now.toString(),
      address: req.address,
      xdomain: req.headers.origin !== undefined,
      secure: req.secure,
      issued: now.getTime(),
      url: req.url,
      query: req.query,
      auth,
    };
  }

  /** @internal the session's message reader: one message, possibly inside its frame. */
  _ondata(data: string | Uint8Array, start: number): void {
    let err: unknown;
    try {
      // Our decoder reads a text message inside its frame; a custom one gets the message alone.
      err = this.#framed
        ? (this.#decoder as Decoder).add(data, start)
        : this.#decoder.add(start === 0 ? data : (data as string).slice(start));
    } catch (e) {
      // Custom parsers report bad input by throwing.
      err = e;
    }
    if (!err) return;
    const connect = err instanceof DecodeError ? err.packet : undefined;
    if (connect !== undefined) this.#refuseAuth(connect.nsp, err as DecodeError);
    else this.#onerror(err instanceof Error ? err : new Error(String(err)));
  }

  // A CONNECT whose auth the decoder refused (a forbidden key): that namespace gets a
  // CONNECT_ERROR, like a middleware's refusal, and the connection stays. It is a CONNECT all
  // the same: for a namespace already joined, the official server closes.
  #refuseAuth(nsp: string, err: DecodeError): void {
    const first = this.#socket;
    if ((first !== undefined && first.nsp.name === nsp) || this.#others?.has(nsp)) {
      return this.close();
    }
    const data = { message: "Invalid auth", data: { reason: err.message } };
    this._packet({ type: PacketType.CONNECT_ERROR, nsp, data });
  }

  #onerror(err: Error): void {
    for (const socket of this.#sockets()) {
      try {
        socket._onerror(err);
      } catch (thrown) {
        report(thrown); // an "error" listener's: the connection closes all the same
      }
    }
    // A clean close, as the official server does: what is buffered (a CONNECT answer) still
    // goes out, then the close; the sockets learn it from the session ("forced close").
    this.conn.close();
  }

  /** @internal a packet arrived, given as its fields. */
  _ondecoded(type: PacketType, nsp: string, id: number | undefined, data: unknown): void {
    try {
      this.#route(type, nsp, id, data);
    } catch (err) {
      // A listener threw: that is the application's error, not a protocol error of the
      // client, so it is reported like an uncaught exception instead of closing the client.
      report(err);
    }
  }

  #route(type: PacketType, nsp: string, id: number | undefined, data: unknown): void {
    let auth = data as Record<string, unknown> | undefined;
    if (this.conn.protocol === 3) [nsp, auth] = parseV3Namespace(nsp);
    const first = this.#socket;
    const socket = first !== undefined && first.nsp.name === nsp ? first : this.#others?.get(nsp);
    if (socket) {
      if (type === PacketType.CONNECT || type === PacketType.CONNECT_ERROR) {
        // Invalid in this state: the official server closes.
        return this.close();
      }
      socket._onpacket(type, id, data);
    } else if (this.#left !== undefined && this.#hasLeft(nsp)) {
      // Its socket left earlier in this payload: the official server finds the socket of every
      // packet of a payload before it handles any, so later packets to it are ignored, and a
      // CONNECT there is one for a namespace still joined.
      if (type === PacketType.CONNECT || type === PacketType.CONNECT_ERROR) this.close();
    } else if (type === PacketType.CONNECT) {
      this._connect(nsp, auth ?? {});
    } else {
      // A packet for a namespace this client has not joined: the official server closes.
      this.close();
    }
  }

  #hasLeft(nsp: string): boolean {
    for (const socket of this.#left!) if (socket.nsp.name === nsp) return true;
    return false;
  }

  /** @internal joins the namespace `name` (v2 clients join `/` without asking). */
  _connect(name: string, auth: Record<string, unknown>): void {
    const server = this.#server;
    const existing = server._nsps.get(name);
    // An exception out of the join (a `connection` listener's) is the application's: reported
    // as uncaught, as on the official server, rather than left as an unhandled rejection.
    if (existing) {
      existing._add(this, auth).catch(report);
      return;
    }
    server._checkNamespace(name, auth, (nsp) => {
      if (this.conn.readyState !== "open") return;
      if (nsp) {
        nsp._add(this, auth).catch(report);
        return;
      }
      this._packet({
        type: PacketType.CONNECT_ERROR,
        nsp: name,
        data: { message: "Invalid namespace" },
      });
    });
  }

  /** @internal a socket of this client was accepted by its namespace. */
  _onconnect(socket: Socket): void {
    const name = socket.nsp.name;
    const first = this.#socket;
    if (this.#others?.has(name)) this.#others.set(name, socket);
    else if (first === undefined || first.nsp.name === name) this.#socket = socket;
    else (this.#others ??= new Map()).set(name, socket);
    this.#server._joined(this);
  }

  /** @internal no namespace joined within `connectTimeout`. */
  _joinTimedOut(): void {
    if (this.#socket === undefined && !this.#others?.size) this.close();
  }

  /** @internal a socket left. */
  _remove(socket: Socket): void {
    if (!this.#closed) {
      // Remembered until the end of this run: the rest of the payload being read.
      if (this.#left === undefined) {
        this.#left = [];
        queueMicrotask(() => (this.#left = undefined));
      }
      this.#left.push(socket);
    }
    if (this.#socket === socket) this.#socket = undefined;
    else if (this.#others?.get(socket.nsp.name) === socket) this.#others.delete(socket.nsp.name);
  }

  /** @internal disconnects every socket, then the connection. */
  _disconnect(): void {
    for (const socket of this.#sockets()) socket.disconnect();
    this.#clear();
    this.close();
  }

  /** Closes the connection. */
  close(): void {
    if (this.conn.readyState !== "open") return;
    // Sockets learn the reason first: the engine may report its own close synchronously.
    this._onclose("forced server close");
    this.conn.close();
  }

  /** @internal encodes and writes one packet. */
  _packet(packet: Packet, flags: SocketFlags = NO_FLAGS): void {
    if (this.conn.readyState !== "open") return;
    if (flags.volatile && !this.conn.writable) return;
    const textEncoder = this.#server._textEncoder;
    if (textEncoder !== undefined && this.#blobs === undefined) {
      // Our encoder gives a packet without binary data as one string: no array of chunks.
      const text = textEncoder._encodeText(packet);
      if (text !== undefined) return this.conn._write(text, flags.compress !== false);
    }
    const chunks = this.#server.encoder.encode(packet) as Chunk[];
    this.writeToEngine(chunks, flags);
  }

  /** @internal writes encoded chunks (a broadcast's are shared with other receivers). */
  writeToEngine(chunks: readonly Chunk[], opts: WriteOptions): void {
    const conn = this.conn;
    if (opts.volatile && !conn.writable) return;
    if (this.#blobs || hasBlob(chunks)) {
      this.#blobWrites++;
      const compress = opts.compress !== false;
      // A write that fails (a Blob that cannot be read) is reported, and the later ones go on.
      this.#blobs = (this.#blobs ?? Promise.resolve()).then(() =>
        this.#writeAsync(chunks, compress)
      ).catch(report);
      return;
    }
    const compress = opts.compress !== false;
    const first = chunks[0];
    if (chunks.length === 1 && typeof first === "string") {
      conn._write(first, compress, frameOf(first));
      return;
    }
    for (let i = 0; i < chunks.length; i++) conn._write(chunks[i] as string | Uint8Array, compress);
  }

  /** Writes chunks holding `Blob`s once read, keeping every later packet behind them. */
  async #writeAsync(chunks: readonly Chunk[], compress: boolean): Promise<void> {
    try {
      const ready: (string | Uint8Array)[] = [];
      for (const c of chunks) {
        ready.push(c instanceof Blob ? new Uint8Array(await c.arrayBuffer()) : c);
      }
      for (const c of ready) this.conn._write(c, compress);
    } finally {
      if (--this.#blobWrites === 0) this.#blobs = undefined;
    }
  }

  /** @internal the session moved to WebSocket: its sockets may now get native broadcasts. */
  _onupgrade(): void {
    for (const socket of this.#sockets()) socket.nsp._fanOut?.add(socket);
  }

  /** A copy of the list of sockets. */
  #sockets(): Socket[] {
    const all = this.#others === undefined ? [] : [...this.#others.values()];
    if (this.#socket !== undefined) all.unshift(this.#socket);
    return all;
  }

  #clear(): void {
    this.#socket = undefined;
    this.#others = undefined;
  }

  /** @internal the session closed. */
  _onclose(reason: DisconnectReason | string, description?: unknown): void {
    // The engine's own close event follows a forced close: the first reason wins.
    if (this.#closed) return;
    this.#closed = true;
    this.#server._joined(this);
    for (const socket of this.#sockets()) {
      try {
        socket._onclose(reason as DisconnectReason, description);
      } catch (err) {
        report(err); // the engine is closing this session: nobody there to catch it
      }
    }
    this.#clear();
    this.#decoder.destroy();
  }
}

// Socket.IO v2 clients put the auth in the namespace's query: `/admin?token=abc`.
function parseV3Namespace(nsp: string): [string, Record<string, unknown>] {
  const q = nsp.indexOf("?");
  if (q === -1) return [nsp, {}];
  const auth: Record<string, unknown> = {};
  new URLSearchParams(nsp.slice(q + 1)).forEach((value, key) => (auth[key] = value));
  return [nsp.slice(0, q), auth];
}

// A broadcast hands the same text to each receiver in turn: its WebSocket frame is made once
// and shared (one string for the runtime to read, instead of a new one per receiver). Keyed by
// the text itself, which the same broadcast passes as the same string: a pointer comparison.
let framedText = "";
let lastFrame = "4";

function frameOf(text: string): string {
  if (text !== framedText) {
    framedText = text;
    lastFrame = "4" + text;
  }
  return lastFrame;
}

function hasBlob(chunks: readonly Chunk[]): boolean {
  for (let i = 1; i < chunks.length; i++) if (chunks[i] instanceof Blob) return true;
  return false;
}
