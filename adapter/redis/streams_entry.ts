/**
 * A cluster message as a stream entry, in the layout of `@socket.io/redis-streams-adapter@0.3.1`:
 * the fields `uid`, `nsp`, `type` (the message type as a decimal string) and, when the message
 * has data, `data`: JSON, or base64 msgpack when the message may carry binary and does.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { decode, encode } from "./msgpack.ts";
import { MessageType } from "../cluster/messages.ts";
import type { ClusterMessage } from "../cluster/messages.ts";

/** The fields of an entry, as they are stored in the stream. */
export type RawEntry = {
  /** The uid of the node that sent the message. */
  uid: string;
  /** The namespace. */
  nsp: string;
  /** The message type, decimal. */
  type: string;
  /** The message's data: JSON (it starts with `{`) or base64 msgpack. */
  data?: string;
};

// The types whose data the official adapter checks for binary; others always go as JSON.
const MAY_CONTAIN_BINARY: ReadonlySet<number> = new Set([
  MessageType.BROADCAST,
  MessageType.FETCH_SOCKETS_RESPONSE,
  MessageType.SERVER_SIDE_EMIT,
  MessageType.SERVER_SIDE_EMIT_RESPONSE,
  MessageType.BROADCAST_ACK,
]);

/**
 * Whether `value` holds an `ArrayBuffer` or a view anywhere (through `toJSON` too, once), as the
 * official adapter decides between JSON and msgpack.
 */
export function hasBinary(value: unknown, viaToJSON = false): boolean {
  if (!value || typeof value !== "object") return false;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (hasBinary(item)) return true;
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && hasBinary((value as Record<string, unknown>)[key])) {
      return true;
    }
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === "function" && !viaToJSON && hasBinary(toJSON.call(value), true);
}

/**
 * The entry fields of `message`.
 *
 * @param onlyPlaintext skip the binary check: data always goes as JSON
 */
export function encodeEntry(message: ClusterMessage, onlyPlaintext: boolean): RawEntry {
  const raw: RawEntry = { uid: message.uid, nsp: message.nsp, type: String(message.type) };
  const data = (message as { data?: unknown }).data;
  if (data) {
    raw.data = !onlyPlaintext && MAY_CONTAIN_BINARY.has(message.type) && hasBinary(data)
      ? base64(encode(data))
      : JSON.stringify(data);
  }
  return raw;
}

/**
 * The message of entry fields `raw`.
 *
 * @throws when `data` is neither JSON nor base64 msgpack
 */
export function decodeEntry(raw: Record<string, string>): ClusterMessage {
  const message = { uid: raw.uid, nsp: raw.nsp, type: parseInt(raw.type, 10) } as {
    uid: string;
    nsp: string;
    type: number;
    data?: unknown;
  };
  const data = raw.data;
  if (data) {
    message.data = data.startsWith("{") ? JSON.parse(data) : decode(Buffer.from(data, "base64"));
  }
  return message as ClusterMessage;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
