/**
 * Engine.IO protocol v4 packet and polling-payload codec. Browser compatible.
 *
 * A packet is one type digit followed by its text data (`4hello`), or raw bytes (always a
 * `message`). Text-only channels carry bytes as `b` + base64. A polling payload joins packets
 * with the record separator `\x1e`.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "./base64.ts";
import { DecodeError } from "./errors.ts";

/**
 * Engine.IO packet types and their wire digits.
 *
 * @example
 * ```ts
 * import { PACKET_TYPES } from "@socketio-edge/core/parser";
 *
 * console.log(PACKET_TYPES.message); // 4
 * ```
 */
export const PACKET_TYPES = {
  open: 0,
  close: 1,
  ping: 2,
  pong: 3,
  message: 4,
  upgrade: 5,
  noop: 6,
} as const;

/**
 * Name of an Engine.IO packet type.
 *
 * @example
 * ```ts
 * import type { EnginePacketType } from "@socketio-edge/core/parser";
 *
 * const type: EnginePacketType = "ping";
 * console.log(type);
 * ```
 */
export type EnginePacketType = keyof typeof PACKET_TYPES;

/**
 * How decoded binary data is handed out: a `Uint8Array` (default) or an `ArrayBuffer`.
 *
 * @example
 * ```ts
 * import type { BinaryType } from "@socketio-edge/core/parser";
 *
 * const binaryType: BinaryType = "arraybuffer";
 * console.log(binaryType);
 * ```
 */
export type BinaryType = "uint8array" | "arraybuffer";

/**
 * One Engine.IO packet. Binary `data` is only meaningful on `message` packets.
 *
 * @example
 * ```ts
 * import type { EnginePacket } from "@socketio-edge/core/parser";
 *
 * const packet: EnginePacket = { type: "message", data: "hello" };
 * console.log(packet.type);
 * ```
 */
export interface EnginePacket {
  /** The packet type. */
  type: EnginePacketType;
  /** Text or binary data; absent when the packet carries none. */
  data?: string | Uint8Array | ArrayBuffer;
}

/**
 * Options of {@linkcode decodePayload}.
 *
 * @example
 * ```ts
 * import type { DecodePayloadOptions } from "@socketio-edge/core/parser";
 *
 * const opts: DecodePayloadOptions = { binaryType: "arraybuffer", maxPackets: 64 };
 * console.log(opts.maxPackets);
 * ```
 */
export interface DecodePayloadOptions {
  /** Form of decoded binary data (default `"uint8array"`). */
  binaryType?: BinaryType;
  /** Refuse payloads holding more packets than this (default: no limit). */
  maxPackets?: number;
}

/**
 * Separator between packets of a polling payload (ASCII record separator).
 *
 * @example
 * ```ts
 * import { SEPARATOR } from "@socketio-edge/core/parser";
 *
 * console.log(["4a", "4b"].join(SEPARATOR) === "4a\x1e4b"); // true
 * ```
 */
export const SEPARATOR = "\x1e";

/**
 * Wire forms of the data-less control packets and of the upgrade probes, ready to send.
 *
 * @example Answering a probe
 * ```ts
 * import { PREENCODED } from "@socketio-edge/core/parser";
 *
 * console.log(PREENCODED.probePong); // "3probe"
 * ```
 */
export const PREENCODED = {
  close: "1",
  ping: "2",
  pong: "3",
  upgrade: "5",
  noop: "6",
  probePing: "2probe",
  probePong: "3probe",
} as const;

/** Wire digit of each type, indexed by {@linkcode PACKET_TYPES} value. */
const DIGITS = ["0", "1", "2", "3", "4", "5", "6"] as const;
/** Type name of each wire digit. */
const NAMES: readonly EnginePacketType[] = [
  "open",
  "close",
  "ping",
  "pong",
  "message",
  "upgrade",
  "noop",
];

const ZERO = 48; // "0"
const B = 98; // "b", prefix of base64 binary packets

/**
 * Encode one packet for a WebSocket frame or a single polling chunk.
 *
 * Binary data (an `ArrayBuffer` or any `ArrayBufferView`) becomes a message: its own bytes as a
 * `Uint8Array` when `supportsBinary`, else `"b"` + base64. Text becomes type digit + data.
 * Data-less packets return a constant string, so pings and pongs do not allocate.
 *
 * @example
 * ```ts
 * import { encodePacket } from "@socketio-edge/core/parser";
 *
 * console.log(encodePacket({ type: "message", data: "hello" }, true)); // "4hello"
 * console.log(encodePacket({ type: "message", data: new Uint8Array([1, 2, 3, 4]) }, false)); // "bAQIDBA=="
 * ```
 *
 * @param packet the packet to encode
 * @param supportsBinary whether the channel carries raw bytes (WebSocket) or text only
 * @returns the text frame, or the bytes of a binary frame
 * @throws {TypeError} if `packet.type` is not an Engine.IO packet type, or `data` is neither
 * text nor bytes
 */
export function encodePacket(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  const data = packet.data;
  if (typeof data === "string") {
    const digit = typeDigit(packet.type);
    return data.length === 0 ? digit : digit + data;
  }
  if (data === undefined || data === null) return typeDigit(packet.type);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    const bytes = toBytes(data);
    return supportsBinary ? bytes : "b" + encodeBase64(bytes);
  }
  throw new TypeError("Engine.IO packet data must be a string, an ArrayBuffer or a view");
}

/**
 * Decode one WebSocket frame or one element of a polling payload. Never throws.
 *
 * Binary frames are `message` packets. `b` + base64 text is a binary message too.
 *
 * @example
 * ```ts
 * import { decodePacket } from "@socketio-edge/core/parser";
 *
 * console.log(decodePacket("4hello")); // { type: "message", data: "hello" }
 * console.log(decodePacket("2")); // { type: "ping" }
 * console.log(decodePacket("bAQIDBA==")); // { type: "message", data: Uint8Array(4) [ 1, 2, 3, 4 ] }
 * ```
 *
 * @param data the received text or bytes
 * @param binaryType form of decoded binary data (default `"uint8array"`)
 * @returns the packet, or a {@linkcode DecodeError} (empty text, unknown type, bad base64)
 */
export function decodePacket(
  data: string | Uint8Array | ArrayBuffer,
  binaryType: BinaryType = "uint8array",
): EnginePacket | DecodeError {
  if (typeof data === "string") return decodeText(data, binaryType);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return { type: "message", data: asBinaryType(data, binaryType) };
  }
  return new DecodeError("invalid data", "neither text nor bytes");
}

/**
 * Encode packets as one polling payload: elements joined by {@linkcode SEPARATOR}, binary data as
 * `"b"` + base64.
 *
 * @example
 * ```ts
 * import { encodePayload } from "@socketio-edge/core/parser";
 *
 * const payload = encodePayload([
 *   { type: "message", data: "hello" },
 *   { type: "message", data: new Uint8Array([1, 2, 3, 4]) },
 * ]);
 * console.log(payload === "4hello\x1ebAQIDBA=="); // true
 * ```
 *
 * @param packets the packets, in order
 * @returns the payload text (empty for no packets)
 * @throws {TypeError} if a packet's type is not an Engine.IO packet type
 */
export function encodePayload(packets: readonly EnginePacket[]): string {
  let payload = "";
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) payload += SEPARATOR;
    payload += encodePacket(packets[i], false) as string;
  }
  return payload;
}

/**
 * Decode a polling payload. Never throws.
 *
 * A payload with any bad element is refused whole, as the official server closes the session
 * with "parse error". The empty string is not a payload.
 *
 * @example
 * ```ts
 * import { decodePayload } from "@socketio-edge/core/parser";
 *
 * console.log(decodePayload("4hello\x1e2"));
 * // [ { type: "message", data: "hello" }, { type: "ping" } ]
 * console.log(decodePayload("4a\x1e4b", { maxPackets: 1 }) instanceof Error); // true
 * ```
 *
 * @param payload the request body text
 * @param opts `binaryType` of decoded bytes; `maxPackets` to refuse larger payloads
 * @returns the packets, or the first {@linkcode DecodeError}
 */
export function decodePayload(
  payload: string,
  opts?: DecodePayloadOptions,
): EnginePacket[] | DecodeError {
  if (typeof payload !== "string") return new DecodeError("invalid data", "payload is not text");
  const binaryType = opts?.binaryType ?? "uint8array";
  const maxPackets = opts?.maxPackets ?? Infinity;
  const packets: EnginePacket[] = [];
  let start = 0;
  while (true) {
    if (packets.length >= maxPackets) {
      return new DecodeError("too large", `more than ${maxPackets} packets`);
    }
    const end = payload.indexOf(SEPARATOR, start);
    const last = end === -1;
    // Whole-payload fast path: no substring for the common one-packet body.
    const element = start === 0 && last ? payload : payload.slice(start, last ? undefined : end);
    const packet = decodeText(element, binaryType);
    if (packet instanceof DecodeError) return packet;
    packets.push(packet);
    if (last) return packets;
    start = end + 1;
  }
}

function decodeText(text: string, binaryType: BinaryType): EnginePacket | DecodeError {
  if (text.length === 0) return new DecodeError("invalid packet type", "empty packet");
  const c = text.charCodeAt(0);
  if (c === B) {
    const bytes = decodeBase64(text, 1);
    if (bytes instanceof DecodeError) return bytes;
    // decodeBase64 returns a fresh array spanning its whole buffer.
    return { type: "message", data: binaryType === "arraybuffer" ? bytes.buffer : bytes };
  }
  const code = c - ZERO;
  if (code < 0 || code > 6) {
    return new DecodeError("invalid packet type", `unknown type ${JSON.stringify(text[0])}`);
  }
  return text.length > 1 ? { type: NAMES[code], data: text.slice(1) } : { type: NAMES[code] };
}

function typeDigit(type: EnginePacketType): string {
  const digit = DIGITS[PACKET_TYPES[type]];
  // Index lookups on inherited keys ("toString", "__proto__") also land here.
  if (typeof digit !== "string") {
    throw new TypeError(`Unknown Engine.IO packet type: ${String(type)}`);
  }
  return digit;
}

/**
 * A `Uint8Array` over exactly the bytes of `data`: the same object when it already is one.
 *
 * @example
 * ```ts
 * import { toBytes } from "@socketio-edge/core/parser";
 *
 * const buffer = new Uint8Array([0, 1, 2, 3]).buffer;
 * console.log(toBytes(new DataView(buffer, 1, 2))); // Uint8Array(2) [ 1, 2 ]
 * ```
 *
 * @param data an `ArrayBuffer` or any view
 * @returns a view of the same memory (no copy)
 */
export function toBytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return new Uint8Array(data);
}

/** Hand bytes out as the caller asked; an ArrayBuffer holds exactly the data's bytes. */
function asBinaryType(
  data: ArrayBuffer | ArrayBufferView,
  binaryType: BinaryType,
): Uint8Array | ArrayBuffer {
  if (binaryType === "arraybuffer") {
    return data instanceof ArrayBuffer ? data : ownBuffer(toBytes(data));
  }
  return toBytes(data);
}

/** The view's ArrayBuffer when the view spans all of it, else a copy of the view's bytes. */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = bytes.buffer;
  if (
    buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
  ) {
    return buffer;
  }
  return bytes.slice().buffer;
}
