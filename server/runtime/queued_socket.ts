/**
 * A {@linkcode RawSocket} that queues frames until the runtime hands over an open socket.
 * Browser compatible.
 *
 * Deno's upgraded socket throws on `send` before `open`, and Bun gives the socket only in its
 * `open` callback, so both runtimes wrap their socket in this.
 *
 * @module
 */
import type { RawSocket } from "./types.ts";

/** The minimal surface of an open runtime socket. */
export interface OpenSocket {
  send(data: string | Uint8Array): unknown;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake, where the runtime can. */
  terminate?(): void;
  readonly bufferedAmount?: number;
}

/** A socket that queues sends until {@linkcode QueuedSocket.open} is called. */
export class QueuedSocket implements RawSocket {
  #socket: OpenSocket | undefined;
  #queue: (string | Uint8Array)[] | undefined = [];
  #closed: [number | undefined, string | undefined] | undefined;

  /** Hands over the open socket and sends what was queued. */
  open(socket: OpenSocket): void {
    this.#socket = socket;
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue !== undefined) { for (const frame of queue) socket.send(frame); }
    if (this.#closed) socket.close(this.#closed[0], this.#closed[1]);
  }

  /** Marks the socket gone: later sends are dropped. */
  gone(): void {
    this.#queue = undefined;
    this.#socket = undefined;
    this.#closed ??= [undefined, undefined];
  }

  send(data: string | Uint8Array): boolean | void {
    if (this.#socket) {
      if (!this.#closed) this.#socket.send(data);
    } else if (this.#queue) this.#queue.push(data);
  }

  close(code?: number, reason?: string): void {
    if (this.#closed) return;
    this.#closed = [code, reason];
    try {
      this.#socket?.close(code, reason);
    } catch {
      // already closing: nothing left to do
    }
  }

  /**
   * Drops the connection where the runtime can (Node's ws, Bun); Deno's `WebSocket` cannot, and
   * sends a close frame (`code`, `reason`) behind what it buffered instead: Deno ends the
   * connection at the next frame the peer sends, or when the peer goes.
   */
  terminate(code?: number, reason?: string): void {
    if (this.#closed) return;
    this.#closed = [code, reason];
    this.#queue = undefined;
    const socket = this.#socket;
    try {
      if (socket?.terminate) socket.terminate();
      else socket?.close(code, reason);
    } catch {
      // already closing: nothing left to do
    }
  }

  /** What the runtime still buffers; frames queued until `open` count too, not sent yet. */
  get bufferedAmount(): number {
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      let size = 0;
      for (const frame of queue) {
        size += typeof frame === "string" ? frame.length : frame.byteLength;
      }
      return size;
    }
    return this.#socket?.bufferedAmount ?? 0;
  }
}
