/**
 * What a session needs from a transport, and what a transport reports to its owner.
 * Browser compatible (types only).
 *
 * @module
 */
import type { EnginePacket } from "../../parser/engine.ts";

/**
 * The send options an outgoing packet carries, as the official packet's `options`. Shared and
 * frozen: packets of one kind point at the same object.
 */
export interface PacketOptions {
  /**
   * Whether the packet may be compressed: true unless sent with `compress: false`
   * (`socket.compress(false).emit(...)`). Whether it is compressed is the runtime's business.
   */
  readonly compress: boolean;
}

/** An outgoing packet, with its WebSocket frame when a broadcast encoded it already. */
export interface OutPacket extends EnginePacket {
  /** The ready-made WebSocket frame (`"4..."` or bytes), shared by every receiver. */
  frame?: string | Uint8Array;
  /** Its send options: on every packet a session creates (those `packetCreate` sees). */
  options?: PacketOptions;
}

/** Who receives a transport's packets: the session, or an upgrade in progress. */
export interface TransportOwner {
  /** A decoded packet arrived. */
  onPacket(packet: EnginePacket): void;
  /** A text message arrived, still inside its frame: `frame.slice(start)` is the message. */
  onTextMessage(frame: string, start: number): void;
  /** The transport failed (bad input, overlap, reset); the owner closes. */
  onTransportError(reason: string, description?: string): void;
  /** The transport closed cleanly (close packet or close frame). */
  onTransportClose(description?: string): void;
  /** The transport can take packets now (a poll arrived). */
  onWritable(): void;
}

/** A transport as the session drives it. */
export interface Transport {
  /** `polling` or `websocket`. */
  readonly name: "polling" | "websocket";
  /** Whether `send` goes out now: polling has a poll waiting, a WebSocket is open. */
  readonly canSend: boolean;
  /**
   * Whether a packet sent now leaves at once with nothing ahead of it, as the official
   * transport's `writable`: a poll waits and was not answered yet, a WebSocket has nothing sent
   * still on its way. Volatile packets are dropped while it is false.
   */
  readonly writable: boolean;
  /** Receives this transport's events. */
  owner: TransportOwner;
  /** Sends packets (polling: as one payload, ending the pending poll). */
  send(packets: readonly OutPacket[]): void;
  /** Closes gracefully: the close packet goes out where the protocol wants it. */
  close(): void;
  /** Drops the transport without a goodbye (after an upgrade). */
  discard(): void;
}
