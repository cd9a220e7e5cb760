/**
 * Engine.IO protocol v3 codec (`EIO=3`, socket.io-client v2), for servers that allow it.
 * Browser compatible.
 *
 * Differences from v4, as spoken by `engine.io-parser@2` and the official server's `allowEIO3`:
 * - binary packets keep their type: a binary frame is the type byte then the data, and base64
 *   text is `b` + type digit + base64 (`b4AQIDBA==`);
 * - a text polling payload is `<length>:<packet>` repeated, the length counting UTF-16 code
 *   units (`6:4hello2:40`); no packets is `0:`;
 * - a binary polling payload (when the client supports binary and some packet is binary) is, per
 *   packet, `0x00` (text) or `0x01` (binary), the length's decimal digits as bytes 0-9, `0xff`,
 *   then the packet: UTF-8 text, or the type byte and data.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "./base64.ts";
import { DecodeError } from "./errors.ts";
import {
  type BinaryType,
  type DecodePayloadOptions,
  type EnginePacket,
  type EnginePacketType,
  PACKET_TYPES,
  toBytes,
} from "./engine.ts";

/** Type name of each wire digit, and the digit of each type, from the v4 table (they agree). */
const NAMES = Object.keys(PACKET_TYPES) as EnginePacketType[];
const DIGITS: readonly string[] = NAMES.map((name) => String(PACKET_TYPES[name]));

const ZERO = 48; // "0"
const COLON = 58; // ":"
const B = 98; // "b"
const STRING_MARK = 0;
const BINARY_MARK = 1;
const LENGTH_END = 255;

let encoder: TextEncoder | undefined;
let decoder: TextDecoder | undefined;

/**
 * Encode one v3 packet for a WebSocket frame.
 *
 * Binary data becomes the type byte followed by the data when `supportsBinary`, else
 * `"b"` + type digit + base64. Text becomes type digit + data.
 *
 * @example
 * ```ts
 * import { encodePacketV3 } from "@socketio-edge/core/parser";
 *
 * const bytes = new Uint8Array([1, 2, 3, 4]);
 * console.log(encodePacketV3({ type: "message", data: bytes }, false)); // "b4AQIDBA=="
 * console.log(encodePacketV3({ type: "message", data: bytes }, true)); // Uint8Array(5) [ 4, 1, 2, 3, 4 ]
 * ```
 *
 * @param packet the packet to encode
 * @param supportsBinary whether the channel carries raw bytes
 * @returns the text frame, or the bytes of a binary frame
 * @throws {TypeError} if the packet type is unknown or the data is neither text nor bytes
 */
export function encodePacketV3(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  const data = packet.data;
  const code = typeCode(packet.type);
  if (typeof data === "string") return data.length === 0 ? DIGITS[code] : DIGITS[code] + data;
  if (data === undefined || data === null) return DIGITS[code];
  if (!(data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
    throw new TypeError("Engine.IO packet data must be a string, an ArrayBuffer or a view");
  }
  const bytes = toBytes(data);
  if (!supportsBinary) return "b" + DIGITS[code] + encodeBase64(bytes);
  const frame = new Uint8Array(bytes.length + 1);
  frame[0] = code;
  frame.set(bytes, 1);
  return frame;
}

/**
 * Decode one v3 WebSocket frame or payload element. Never throws.
 *
 * @example
 * ```ts
 * import { decodePacketV3 } from "@socketio-edge/core/parser";
 *
 * console.log(decodePacketV3("4hello")); // { type: "message", data: "hello" }
 * console.log(decodePacketV3(new Uint8Array([4, 1, 2]))); // { type: "message", data: Uint8Array(2) [ 1, 2 ] }
 * console.log(decodePacketV3("b4AQIDBA==")); // { type: "message", data: Uint8Array(4) [ 1, 2, 3, 4 ] }
 * ```
 *
 * @param data the received text or bytes
 * @param binaryType form of decoded binary data (default `"uint8array"`)
 * @returns the packet, or a {@linkcode DecodeError}
 */
export function decodePacketV3(
  data: string | Uint8Array | ArrayBuffer,
  binaryType: BinaryType = "uint8array",
): EnginePacket | DecodeError {
  if (typeof data === "string") return decodeText(data, binaryType);
  if (!(data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
    return new DecodeError("invalid data", "neither text nor bytes");
  }
  const bytes = toBytes(data);
  if (bytes.length === 0) return new DecodeError("invalid packet type", "empty packet");
  const code = bytes[0];
  if (code > 6) return new DecodeError("invalid packet type", `unknown type byte ${code}`);
  const body = bytes.subarray(1);
  return { type: NAMES[code], data: binaryType === "arraybuffer" ? body.slice().buffer : body };
}

/**
 * Encode packets as one v3 polling payload.
 *
 * When `supportsBinary` and some packet holds bytes, this is the binary payload form (bytes);
 * otherwise the text form, with bytes as base64.
 *
 * @example
 * ```ts
 * import { encodePayloadV3 } from "@socketio-edge/core/parser";
 *
 * console.log(encodePayloadV3([{ type: "message", data: "hello" }, { type: "ping" }], true));
 * // "6:4hello1:2"
 * console.log(encodePayloadV3([{ type: "message", data: new Uint8Array([1]) }], true));
 * // Uint8Array(5) [ 1, 2, 255, 4, 1 ]
 * ```
 *
 * @param packets the packets, in order
 * @param supportsBinary whether the client accepts binary payloads (no `b64` query parameter)
 * @returns the payload text or bytes
 * @throws {TypeError} if a packet type is unknown or some data is neither text nor bytes
 */
export function encodePayloadV3(
  packets: readonly EnginePacket[],
  supportsBinary: boolean,
): string | Uint8Array {
  if (supportsBinary && hasBinary(packets)) return encodeBinaryPayload(packets);
  if (packets.length === 0) return "0:";
  let payload = "";
  for (let i = 0; i < packets.length; i++) {
    const encoded = encodePacketV3(packets[i], false) as string;
    payload += encoded.length + ":" + encoded;
  }
  return payload;
}

/**
 * Decode a v3 polling payload, text or binary. Never throws.
 *
 * A payload with any bad element is refused whole. Zero-length text elements (as in `0:`) hold no
 * packet; bad, negative or overlong lengths are refused.
 *
 * @example
 * ```ts
 * import { decodePayloadV3 } from "@socketio-edge/core/parser";
 *
 * console.log(decodePayloadV3("6:4hello1:2"));
 * // [ { type: "message", data: "hello" }, { type: "ping" } ]
 * console.log(decodePayloadV3(new Uint8Array([1, 2, 255, 4, 1])));
 * // [ { type: "message", data: Uint8Array(1) [ 1 ] } ]
 * ```
 *
 * @param data the request body: text, or bytes for an `application/octet-stream` body
 * @param opts the binary type, or {@linkcode DecodePayloadOptions}
 * @returns the packets, or the first {@linkcode DecodeError}
 */
export function decodePayloadV3(
  data: string | Uint8Array | ArrayBuffer,
  opts?: BinaryType | DecodePayloadOptions,
): EnginePacket[] | DecodeError {
  let binaryType: BinaryType = "uint8array";
  let maxPackets = Infinity;
  if (typeof opts === "string") {
    binaryType = opts;
  } else if (opts !== undefined) {
    binaryType = opts.binaryType ?? binaryType;
    maxPackets = opts.maxPackets ?? maxPackets;
  }
  if (typeof data === "string") return decodeTextPayload(data, binaryType, maxPackets);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return decodeBinaryPayload(toBytes(data), binaryType, maxPackets);
  }
  return new DecodeError("invalid data", "neither text nor bytes");
}

function decodeTextPayload(
  payload: string,
  binaryType: BinaryType,
  maxPackets: number,
): EnginePacket[] | DecodeError {
  if (payload.length === 0) return new DecodeError("invalid payload", "empty payload");
  const packets: EnginePacket[] = [];
  const end = payload.length;
  let i = 0;
  while (i < end) {
    // Length digits up to ":". A length past what is left stops at once: no huge numbers.
    let n = 0;
    const start = i;
    for (; i < end; i++) {
      const c = payload.charCodeAt(i);
      if (c === COLON) break;
      const digit = c - ZERO;
      if (digit < 0 || digit > 9) return new DecodeError("invalid payload", "non-digit length");
      n = n * 10 + digit;
      if (n > end - i) return new DecodeError("invalid payload", "length past the end");
    }
    if (i === start) return new DecodeError("invalid payload", "missing length");
    if (i === end) return new DecodeError("invalid payload", "missing ':'");
    i++;
    if (n > end - i) return new DecodeError("invalid payload", "length past the end");
    if (n === 0) continue; // the reference skips empty elements
    if (packets.length >= maxPackets) {
      return new DecodeError("too large", `more than ${maxPackets} packets`);
    }
    const packet = decodeText(payload.slice(i, i + n), binaryType);
    if (packet instanceof DecodeError) return packet;
    packets.push(packet);
    i += n;
  }
  return packets;
}

function decodeBinaryPayload(
  bytes: Uint8Array,
  binaryType: BinaryType,
  maxPackets: number,
): EnginePacket[] | DecodeError {
  const packets: EnginePacket[] = [];
  const end = bytes.length;
  let i = 0;
  while (i < end) {
    const mark = bytes[i++];
    if (mark !== STRING_MARK && mark !== BINARY_MARK) {
      return new DecodeError("invalid payload", `bad element mark ${mark}`);
    }
    let n = 0;
    const start = i;
    for (; i < end; i++) {
      const digit = bytes[i];
      if (digit === LENGTH_END) break;
      if (digit > 9) return new DecodeError("invalid payload", "non-digit length");
      n = n * 10 + digit;
      if (n > end - i) return new DecodeError("invalid payload", "length past the end");
    }
    if (i === start) return new DecodeError("invalid payload", "missing length");
    if (i === end) return new DecodeError("invalid payload", "missing length end");
    i++;
    if (n > end - i) return new DecodeError("invalid payload", "length past the end");
    if (n === 0) return new DecodeError("invalid packet type", "empty packet");
    if (packets.length >= maxPackets) {
      return new DecodeError("too large", `more than ${maxPackets} packets`);
    }
    const element = bytes.subarray(i, i + n);
    let packet: EnginePacket | DecodeError;
    if (mark === BINARY_MARK) {
      packet = decodePacketV3(element, binaryType);
    } else {
      const text = decodeUtf8(element);
      if (text instanceof DecodeError) return text;
      packet = decodeText(text, binaryType);
    }
    if (packet instanceof DecodeError) return packet;
    packets.push(packet);
    i += n;
  }
  return packets;
}

function encodeBinaryPayload(packets: readonly EnginePacket[]): Uint8Array {
  const parts: Uint8Array[] = new Array(packets.length);
  const marks = new Uint8Array(packets.length);
  let total = 0;
  for (let i = 0; i < packets.length; i++) {
    const encoded = encodePacketV3(packets[i], true);
    if (typeof encoded === "string") {
      parts[i] = (encoder ??= new TextEncoder()).encode(encoded);
      marks[i] = STRING_MARK;
    } else {
      parts[i] = encoded;
      marks[i] = BINARY_MARK;
    }
    total += 2 + decimalLength(parts[i].length) + parts[i].length;
  }
  const out = new Uint8Array(total);
  let j = 0;
  for (let i = 0; i < packets.length; i++) {
    const part = parts[i];
    out[j++] = marks[i];
    // The length as one byte per decimal digit, most significant first.
    const digits = decimalLength(part.length);
    for (let k = digits - 1, n = part.length; k >= 0; k--, n = Math.floor(n / 10)) {
      out[j + k] = n % 10;
    }
    j += digits;
    out[j++] = LENGTH_END;
    out.set(part, j);
    j += part.length;
  }
  return out;
}

function decimalLength(n: number): number {
  let digits = 1;
  for (; n >= 10; n = Math.floor(n / 10)) digits++;
  return digits;
}

function decodeText(text: string, binaryType: BinaryType): EnginePacket | DecodeError {
  if (text.length === 0) return new DecodeError("invalid packet type", "empty packet");
  let code = text.charCodeAt(0);
  if (code === B) {
    code = text.charCodeAt(1) - ZERO;
    if (!(code >= 0 && code <= 6)) {
      return new DecodeError("invalid packet type", "bad type after 'b'");
    }
    const bytes = decodeBase64(text, 2);
    if (bytes instanceof DecodeError) return bytes;
    // decodeBase64 returns a fresh array spanning its whole buffer.
    return { type: NAMES[code], data: binaryType === "arraybuffer" ? bytes.buffer : bytes };
  }
  code -= ZERO;
  if (code < 0 || code > 6) {
    return new DecodeError("invalid packet type", `unknown type ${JSON.stringify(text[0])}`);
  }
  return text.length > 1 ? { type: NAMES[code], data: text.slice(1) } : { type: NAMES[code] };
}

function decodeUtf8(bytes: Uint8Array): string | DecodeError {
  try {
    return (decoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })).decode(bytes);
  } catch {
    return new DecodeError("invalid utf-8");
  }
}

function hasBinary(packets: readonly EnginePacket[]): boolean {
  for (let i = 0; i < packets.length; i++) {
    const data = packets[i].data;
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return true;
  }
  return false;
}

function typeCode(type: EnginePacketType): number {
  const code = PACKET_TYPES[type];
  // Index lookups on inherited keys ("toString", "__proto__") also land here.
  if (typeof code !== "number") {
    throw new TypeError(`Unknown Engine.IO packet type: ${String(type)}`);
  }
  return code;
}
