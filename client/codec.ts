/**
 * The client's wire codec: Engine.IO v4 packets and payloads, Socket.IO v5 packets with binary
 * attachments, byte for byte as `engine.io-parser` and `socket.io-parser` speak them. Browser
 * compatible.
 *
 * The server's parser (`@socketio-edge/core/parser`) is built for hostile input: strict checks,
 * depth limits, its own base64. A client reads only the server it chose, so this one is small
 * (the bundle size matters): standard `atob`/`btoa`, and just the checks that keep it from
 * misreading. Pass the strict parser as the `parser` option to have it on the client too.
 *
 * @module
 */

import type { BinaryType, EnginePacket } from "../parser/engine.ts";
import { Emitter } from "../parser/emitter.ts";
import type { Packet } from "../parser/socket.ts";

const TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"] as const;

/** Binary data: an ArrayBuffer, any view of one, or a Blob (every runtime we run on has Blob). */
const isBinary = (v: unknown): v is ArrayBuffer | ArrayBufferView | Blob =>
  v instanceof ArrayBuffer || ArrayBuffer.isView(v) || v instanceof Blob;

const toBytes = (data: ArrayBuffer | ArrayBufferView): Uint8Array =>
  ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);

/**
 * Encodes one Engine.IO packet: text, or raw bytes where the channel carries them (else `b` +
 * base64).
 */
export function encodePacket(packet: EnginePacket, binary: boolean): string | Uint8Array {
  const data = packet.data;
  if (data != null && typeof data !== "string") {
    const bytes = toBytes(data);
    if (binary) return bytes;
    return "b" + btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
  }
  return TYPES.indexOf(packet.type) + (data ?? "");
}

/** Decodes one Engine.IO frame; undefined when it is not a packet. */
export function decodePacket(
  data: string | ArrayBuffer | Uint8Array,
  binaryType: BinaryType,
): EnginePacket | undefined {
  if (typeof data !== "string") {
    return {
      type: "message",
      data: binaryType !== "arraybuffer"
        ? toBytes(data)
        : data instanceof ArrayBuffer
        ? data
        : toBytes(data).slice().buffer,
    };
  }
  if (data[0] === "b") {
    try {
      const bytes = Uint8Array.from(atob(data.slice(1)), (c) => c.charCodeAt(0));
      return { type: "message", data: binaryType === "arraybuffer" ? bytes.buffer : bytes };
    } catch {
      return undefined;
    }
  }
  const type = TYPES[data[0] as unknown as number];
  return type && (data.length > 1 ? { type, data: data.slice(1) } : { type });
}

/** Joins packets into one polling payload. */
export function encodePayload(packets: EnginePacket[]): string {
  return packets.map((p) => encodePacket(p, false)).join("\x1e");
}

/** Splits a polling payload; undefined when an element is not a packet. */
export function decodePayload(
  payload: string,
  binaryType: BinaryType,
): EnginePacket[] | undefined {
  const packets = payload.split("\x1e").map((chunk) => decodePacket(chunk, binaryType));
  return packets.includes(undefined) ? undefined : packets as EnginePacket[];
}

// Whether `data` holds binary anywhere, following arrays, own keys and toJSON() as the official
// parser does.
function hasBinary(data: unknown, viaToJSON?: boolean): boolean {
  if (!data || typeof data !== "object") return false;
  if (isBinary(data)) return true;
  const toJSON = (data as { toJSON?: () => unknown }).toJSON;
  if (!viaToJSON && typeof toJSON === "function" && !Array.isArray(data)) {
    return hasBinary(toJSON.call(data), true);
  }
  for (const key in data) {
    if (Object.hasOwn(data, key) && hasBinary((data as Record<string, unknown>)[key])) {
      return true;
    }
  }
  return false;
}

// A copy of `data` with a placeholder where each binary value was, the values pushed on `out`.
function deconstruct(data: unknown, out: unknown[]): unknown {
  if (!data || typeof data !== "object" || data instanceof Date) return data;
  if (isBinary(data)) {
    out.push(data instanceof Blob ? data : toBytes(data as ArrayBufferView));
    return { _placeholder: true, num: out.length - 2 };
  }
  if (Array.isArray(data)) return data.map((v) => deconstruct(v, out));
  const copy: Record<string, unknown> = {};
  for (const key in data) {
    if (Object.hasOwn(data, key)) {
      copy[key] = deconstruct((data as Record<string, unknown>)[key], out);
    }
  }
  return copy;
}

/** Encodes Socket.IO packets into frames: the text, then one binary frame per attachment. */
export class Encoder {
  /** The frames of `packet`. */
  encode(packet: Packet): Array<string | Uint8Array | Blob> {
    let type: number = packet.type;
    const out: unknown[] = [""];
    let data = packet.data;
    if ((type === 2 || type === 3) && hasBinary(data)) {
      data = deconstruct(data, out);
      type += 3;
    }
    let text = "" + type;
    if (type > 4) text += out.length - 1 + "-";
    if (packet.nsp && packet.nsp !== "/") text += packet.nsp + ",";
    if (packet.id != null) text += packet.id;
    if (data !== undefined) text += JSON.stringify(data);
    out[0] = text;
    return out as Array<string | Uint8Array | Blob>;
  }
}

/**
 * Decodes Socket.IO frames, emitting `"decoded"` with each complete packet; throws on a frame
 * that is not one (the Manager then closes with `parse error`).
 */
export class Decoder extends Emitter<{ decoded: [packet: Packet] }> {
  #packet?: Packet;
  #buffers: unknown[] = [];
  #expected = 0;

  /** Takes one frame: a packet's text, or the next attachment of a binary one. */
  add(chunk: string | ArrayBuffer | Uint8Array): void {
    if (typeof chunk !== "string") {
      if (!this.#packet) throw invalid();
      this.#buffers.push(chunk);
      if (this.#buffers.length === this.#expected) {
        const packet = this.#packet;
        packet.data = reconstruct(packet.data, this.#buffers);
        this.destroy();
        this.emit("decoded", packet);
      }
      return;
    }
    if (this.#packet) throw invalid();
    const m = /^([0-6])(?:(\d+)-)?(?:(\/[^,]*),)?(\d*)([^]*)$/.exec(chunk);
    if (!m) throw invalid();
    let type = +m[1];
    const data = m[5] ? JSON.parse(m[5]) : undefined;
    if (type > 1 && type !== 4 && !Array.isArray(data)) throw invalid();
    const packet: Packet = { type: type as Packet["type"], nsp: m[3] || "/" };
    if (m[4]) packet.id = +m[4];
    if (m[5]) packet.data = data;
    if (type > 4) {
      packet.type = (type -= 3) as Packet["type"];
      this.#expected = +m[2];
      if (this.#expected) {
        this.#packet = packet;
        return;
      }
    }
    this.emit("decoded", packet);
  }

  /** Drops a partly received binary packet. */
  destroy(): void {
    this.#packet = undefined;
    this.#buffers = [];
  }
}

// One error for any frame out of place: the Manager closes with `parse error` either way.
const invalid = () => new Error("invalid packet");

// Puts the attachments back where their placeholders are.
function reconstruct(data: unknown, buffers: unknown[]): unknown {
  if (!data || typeof data !== "object") return data;
  const o = data as Record<string, unknown> & { _placeholder?: boolean; num?: number };
  if (o._placeholder === true) {
    if (typeof o.num !== "number" || !(o.num in buffers)) throw invalid();
    return buffers[o.num];
  }
  for (const key in o) if (Object.hasOwn(o, key)) o[key] = reconstruct(o[key], buffers);
  return o;
}
