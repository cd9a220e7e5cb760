/**
 * One Engine.IO connection seen by Socket.IO: decodes its packets, routes them to the
 * namespaces' sockets, encodes what they send. Browser compatible.
 *
 * @module
 */
import type { WriteOptions } from "../adapter/adapter.ts";
import { type Packet, PacketType } from "../parser/socket.ts";
import type { EngineSocket } from "./engine/session.ts";
import type { Server } from "./server.ts";
import type { DisconnectReason, Handshake, Socket, SocketFlags } from "./socket.ts";

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
  /** Sockets of this connection, by namespace name. */
  readonly nsps: Map<string, Socket> = new Map();
  readonly #server: Server;
  readonly #decoder: AnyDecoder;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Writes waiting for `Blob` attachments to be read, in order. */
  #blobs: Promise<void> | undefined;
  #blobWrites = 0;

  constructor(server: Server, conn: EngineSocket) {
    this.#server = server;
    this.conn = conn;
    this.#decoder = new server._parser.Decoder() as AnyDecoder;
    this.#decoder.on("decoded", (packet) => this.#ondecoded(packet));
    conn.on("message", (data) => this.#ondata(data));
    conn.on("close", (reason, description) => this.#onclose(reason, description));
    this.#connectTimer = setTimeout(() => {
      if (this.nsps.size === 0) this.close();
    }, server.connectTimeout);
  }

  /** @internal the handshake of a socket of this connection. */
  handshake(auth: Record<string, unknown>): Handshake {
    const req = this.conn.request;
    const now = new Date();
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

  #ondata(data: string | Uint8Array): void {
    let err: unknown;
    try {
      err = this.#decoder.add(data);
    } catch (e) {
      // Custom parsers report bad input by throwing.
      err = e;
    }
    if (err) this.#onerror(err instanceof Error ? err : new Error(String(err)));
  }

  #onerror(err: Error): void {
    for (const socket of this.nsps.values()) socket._onerror(err);
    this.conn.destroy("parse error");
  }

  #ondecoded(packet: Packet): void {
    const socket = this.nsps.get(packet.nsp);
    if (socket) {
      if (packet.type === PacketType.CONNECT) return this.#onerror(new Error("already connected"));
      socket._onpacket(packet);
    } else if (packet.type === PacketType.CONNECT) {
      this.#connect(packet.nsp, (packet.data ?? {}) as Record<string, unknown>);
    } else if (packet.type !== PacketType.DISCONNECT) {
      // A packet for a namespace this client never joined: the official server closes.
      this.close();
    }
  }

  #connect(name: string, auth: Record<string, unknown>): void {
    const server = this.#server;
    const existing = server._nsps.get(name);
    if (existing) {
      void existing._add(this, auth);
      return;
    }
    server._checkNamespace(name, auth, (nsp) => {
      if (this.conn.readyState !== "open") return;
      if (nsp) {
        void nsp._add(this, auth);
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
    this.nsps.set(socket.nsp.name, socket);
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }

  /** @internal a socket left. */
  _remove(socket: Socket): void {
    if (this.nsps.get(socket.nsp.name) === socket) this.nsps.delete(socket.nsp.name);
  }

  /** @internal disconnects every socket, then the connection. */
  _disconnect(): void {
    for (const socket of [...this.nsps.values()]) socket.disconnect();
    this.nsps.clear();
    this.close();
  }

  /** Closes the connection. */
  close(): void {
    if (this.conn.readyState === "open") this.conn.close();
    this.#onclose("forced server close");
  }

  /** @internal encodes and writes one packet. */
  _packet(packet: Packet, flags: SocketFlags = {}): void {
    if (this.conn.readyState !== "open") return;
    if (flags.volatile && !this.conn.writable) return;
    const chunks = this.#server.encoder.encode(packet) as Chunk[];
    this.writeToEngine(chunks, flags);
  }

  /** @internal writes encoded chunks (a broadcast's are shared with other receivers). */
  writeToEngine(chunks: readonly Chunk[], opts: WriteOptions): void {
    const conn = this.conn;
    if (opts.volatile && !conn.writable) return;
    if (this.#blobs || hasBlob(chunks)) {
      this.#blobWrites++;
      this.#blobs = (this.#blobs ?? Promise.resolve()).then(() => this.#writeAsync(chunks));
      return;
    }
    for (let i = 0; i < chunks.length; i++) conn.write(chunks[i] as string | Uint8Array);
  }

  /** Writes chunks holding `Blob`s once read, keeping every later packet behind them. */
  async #writeAsync(chunks: readonly Chunk[]): Promise<void> {
    const ready: (string | Uint8Array)[] = [];
    for (const c of chunks) {
      ready.push(c instanceof Blob ? new Uint8Array(await c.arrayBuffer()) : c);
    }
    for (const c of ready) this.conn.write(c);
    if (--this.#blobWrites === 0) this.#blobs = undefined;
  }

  #onclose(reason: DisconnectReason | string, description?: unknown): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    for (const socket of [...this.nsps.values()]) {
      socket._onclose(reason as DisconnectReason, description);
    }
    this.nsps.clear();
    this.#decoder.destroy();
  }
}

function hasBlob(chunks: readonly Chunk[]): boolean {
  for (let i = 1; i < chunks.length; i++) if (chunks[i] instanceof Blob) return true;
  return false;
}
