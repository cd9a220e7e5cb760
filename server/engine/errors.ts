/**
 * The Engine.IO HTTP errors: `{"code":N,"message":"..."}`, 400 or 403 as the official server
 * answers, and our own 503 of admission control. Browser compatible.
 *
 * @module
 */

/**
 * Error codes, as the official server numbers them (0 to 5), and one of ours: `SERVER_BUSY`
 * (6), a handshake refused by `maxClients` or `handshakeRate`, answered `503` with
 * `Retry-After`.
 */
export const ErrorCode = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
  SERVER_BUSY: 6,
} as const;

/** One of {@linkcode ErrorCode}. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** The official messages, and ours for `SERVER_BUSY`. */
export const ERROR_MESSAGES: Record<ErrorCode, string> = {
  0: "Transport unknown",
  1: "Session ID unknown",
  2: "Bad handshake method",
  3: "Bad request",
  4: "Forbidden",
  5: "Unsupported protocol version",
  6: "Server busy",
};

/** The JSON error response of a refused HTTP request. */
export function errorResponse(
  code: ErrorCode,
  message: string | undefined,
  headers: Headers,
): Response {
  headers.set("Content-Type", "application/json");
  return new Response(JSON.stringify({ code, message: message || ERROR_MESSAGES[code] }), {
    status: code === ErrorCode.FORBIDDEN ? 403 : code === ErrorCode.SERVER_BUSY ? 503 : 400,
    headers,
  });
}

/**
 * A refused WebSocket upgrade: plain 400 with the message, as the official server answers
 * (whatever the code), or 503 for `SERVER_BUSY`, with `headers` (its `Retry-After`).
 */
export function upgradeErrorResponse(
  code: ErrorCode,
  message?: string,
  headers?: Record<string, string>,
): Response {
  return new Response(message || ERROR_MESSAGES[code], {
    status: code === ErrorCode.SERVER_BUSY ? 503 : 400,
    headers: { "Content-Type": "text/html", Connection: "close", ...headers },
  });
}
