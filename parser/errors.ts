/**
 * Typed decode errors shared by every codec. Browser compatible.
 *
 * Decoders in this package never throw on bad input: they return (or report) a
 * {@linkcode DecodeError}, and the caller closes that one connection.
 *
 * @module
 */

/** Why a packet or payload was refused. */
export type DecodeErrorCode =
  | "invalid packet type"
  | "invalid payload"
  | "invalid namespace"
  | "invalid ack id"
  | "invalid data"
  | "invalid event name"
  | "invalid attachments"
  | "invalid placeholder"
  | "forbidden key"
  | "too deep"
  | "too large"
  | "unexpected binary"
  | "invalid utf-8"
  | "invalid base64";

// Where npm socket.io-parser throws for the same input, the message starts as its does: ported
// code and the official server's tests match on these words.
const OFFICIAL_MESSAGES: Partial<Record<DecodeErrorCode, string>> = {
  "invalid attachments": "Illegal attachments",
  "invalid packet type": "unknown packet type",
  "unexpected binary": "got binary data when not reconstructing a packet",
};

/**
 * A refused packet or payload. `code` says which rule the input broke; `message` adds detail.
 *
 * @example Telling a decode error from other values
 * ```ts
 * import { DecodeError } from "@socketio-edge/core/parser";
 *
 * const err = new DecodeError("invalid packet type", "unknown type 9");
 * console.log(err instanceof DecodeError, err.code); // true "invalid packet type"
 * ```
 */
export class DecodeError extends Error {
  /** Which rule the input broke. */
  readonly code: DecodeErrorCode;
  /**
   * Set when a well-formed Socket.IO CONNECT packet was refused for its data alone (a forbidden
   * key, too deep): its type and namespace, so that a server can answer that namespace with a
   * CONNECT_ERROR and keep the connection.
   */
  packet?: { type: number; nsp: string };

  /**
   * Creates a decode error.
   *
   * @param code which rule the input broke
   * @param detail a short human-readable detail, appended to the message
   */
  constructor(code: DecodeErrorCode, detail?: string) {
    const head = OFFICIAL_MESSAGES[code] ?? code;
    super(detail ? `${head}: ${detail}` : head);
    this.name = "DecodeError";
    this.code = code;
  }
}

/**
 * Whether `value` is a {@linkcode DecodeError}.
 *
 * @example
 * ```ts
 * import { DecodeError, isDecodeError } from "@socketio-edge/core/parser";
 *
 * console.log(isDecodeError(new DecodeError("invalid payload"))); // true
 * console.log(isDecodeError("ok")); // false
 * ```
 *
 * @param value anything a decoder returned
 * @returns true when `value` is a decode error
 */
export function isDecodeError(value: unknown): value is DecodeError {
  return value instanceof DecodeError;
}
