/**
 * The WebSocket transport: one Engine.IO packet per frame, on a runtime's {@linkcode RawSocket}.
 * Browser compatible.
 *
 * @module
 */
import { isDecodeError } from "../../parser/errors.ts";
import type { RawSocket, RawSocketEvents } from "../runtime/types.ts";
import type { WireCodec } from "./codec.ts";
import { slowConsumerDescription } from "./session.ts";
import type { OutPacket, Transport, TransportOwner } from "./transport.ts";

/** The WebSocket transport of one session (or of an upgrade in progress). */
export class WebSocketTransport implements Transport, RawSocketEvents {
  readonly name = "websocket" as const;
  owner: TransportOwner;
  socket: RawSocket | undefined;
  #closed = false;
  // A bound of the bytes the runtime still holds for the socket: what it reported when last
  // asked, plus what was sent since. It is asked again only once this passes the limit, so a
  // socket that keeps up costs one addition per frame, and one read per `maxBuffered` bytes.
  // Text counts in UTF-16 units, which spares encoding it: non-ASCII text (up to 3 bytes a unit)
  // gets the runtime asked later, with its count in bytes.
  #backlog = 0;

  /**
   * @param owner who gets the transport's packets
   * @param maxPayload the largest message accepted (`maxHttpBufferSize`)
   * @param codec the session's wire format
   * @param maxBuffered the most bytes the runtime may hold for the socket before a send
   *   (`maxBufferedBytes`); past it the connection is dropped as a slow consumer
   */
  constructor(
    owner: TransportOwner,
    readonly maxPayload: number,
    readonly codec: WireCodec,
    readonly maxBuffered: number = Infinity,
  ) {
    this.owner = owner;
  }

  get canSend(): boolean {
    return !this.#closed && this.socket !== undefined;
  }

  /** Open with no frame left in the runtime's buffer, as `ws` reports between sends. */
  get writable(): boolean {
    return !this.#closed && this.socket !== undefined && this.socket.bufferedAmount === 0;
  }

  send(packets: readonly OutPacket[]): void {
    for (let i = 0; i < packets.length; i++) this.sendPacket(packets[i]);
  }

  /** Sends one packet as one frame. */
  sendPacket(p: OutPacket): void {
    const socket = this.socket;
    if (this.#closed || !socket) return;
    // A shared broadcast frame is in the v4 form; v3 sessions frame their own.
    this.#send(
      socket,
      p.frame !== undefined && this.codec.protocol === 4 ? p.frame : this.codec.encodeFrame(p),
    );
  }

  /** Sends a text message as one frame (a `4` and the text in every protocol version). */
  sendText(text: string): void {
    const socket = this.socket;
    if (this.#closed || !socket) return;
    this.#send(socket, "4" + text);
  }

  /** Sends a frame as it is. */
  sendFrame(frame: string | Uint8Array): void {
    const socket = this.socket;
    if (this.#closed || !socket) return;
    this.#send(socket, frame);
  }

  // Every frame goes through here: the limit is checked before the frame is queued, so that one
  // message larger than the limit still leaves when little is waiting.
  #send(socket: RawSocket, frame: string | Uint8Array): void {
    if (this.#backlog > this.maxBuffered && this.#overLimit(socket)) return;
    this.#backlog += typeof frame === "string" ? frame.length : frame.byteLength;
    if (socket.send(frame) === false) this.dropSlowConsumer();
  }

  /**
   * Asks the runtime what it holds for the socket, and drops the connection when that is over
   * the limit: a runtime's fan-out reported a frame it dropped (Bun), which `#backlog` never saw.
   */
  checkBuffered(): void {
    const socket = this.socket;
    if (!this.#closed && socket !== undefined) this.#overLimit(socket);
  }

  /** Whether the runtime holds more than the limit (then the connection is dropped). */
  #overLimit(socket: RawSocket): boolean {
    const held = socket.bufferedAmount;
    this.#backlog = held;
    if (held <= this.maxBuffered) return false;
    this.dropSlowConsumer();
    return true;
  }

  /**
   * The client stopped reading, or reads slower than it is sent to: its connection is dropped
   * rather than closed, as a close frame would wait behind everything buffered, and so would the
   * memory it holds; the owner closes with reason `"slow consumer"`.
   */
  dropSlowConsumer(): void {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.socket;
    if (socket?.terminate) socket.terminate(1008, "slow consumer");
    else socket?.close(1008, "slow consumer");
    this.owner.onTransportError("slow consumer", slowConsumerDescription(this.maxBuffered));
  }

  /**
   * Closes the socket.
   *
   * @param code the close code (1009 for a message over the size limit, as `ws` closes it)
   */
  close(code = 1000): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket?.close(code);
  }

  discard(): void {
    this.close();
  }

  onMessage(data: string | Uint8Array): void {
    if (this.#closed) return;
    // Bytes, as the official server's `ws` counts them. A text frame of n UTF-16 units has
    // between n and 3n bytes: only a long one needs its bytes counted.
    const max = this.maxPayload;
    const size = typeof data === "string"
      ? (data.length * 3 > max ? utf8Length(data, max) : data.length)
      : data.byteLength;
    if (size > max) {
      this.#fail("transport error", "message too big", 1009);
      return;
    }
    // Text messages, the common case, skip the packet object: the reader takes frame + offset.
    if (typeof data === "string" && data.charCodeAt(0) === 52 /* "4" */) {
      this.owner.onTextMessage(data, 1);
      return;
    }
    const packet = this.codec.decodeFrame(data);
    if (isDecodeError(packet)) {
      this.#fail("parse error", packet.message);
      return;
    }
    if (packet.type === "close") {
      this.close();
      this.owner.onTransportClose("transport closed by the client");
      return;
    }
    this.owner.onPacket(packet);
  }

  onClose(_code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.owner.onTransportClose(reason || "websocket connection closed");
  }

  onError(error: unknown): void {
    if (this.#closed) return;
    this.#fail("transport error", error instanceof Error ? error.message : "websocket error");
  }

  #fail(reason: string, description: string, code?: number): void {
    this.close(code);
    this.owner.onTransportError(reason, description);
  }
}

/** The UTF-8 size of `text`, counted up to just over `max`. */
function utf8Length(text: string, max: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length && bytes <= max; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      // A surrogate pair is 4 bytes; a lone surrogate goes out as U+FFFD, 3 bytes.
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
