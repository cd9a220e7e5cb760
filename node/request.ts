/**
 * A `node:http` request (or a `node:http2` one, through its compatibility API) as a fetch
 * `Request`: method, URL, headers, the body streamed with
 * backpressure, and a signal that aborts when the client goes away before the response is done.
 * Node only.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** `duplex` is required by Node's `Request` for a streamed body, and missing from the DOM types. */
type StreamingRequestInit = RequestInit & { duplex: "half" };

/**
 * The fetch `Request` of a Node request.
 *
 * @param req the Node request
 * @param res its response, whose close before the end aborts the request's signal; none for an
 *   `upgrade` event
 * @throws when the request has no valid URL or header (the caller answers 400)
 */
export function toRequest(req: IncomingMessage, res?: ServerResponse): Request {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  // An HTTP/2 request (`node:http2`'s compatibility API) names its host `:authority`.
  const host = req.headers.host ?? req.headers[":authority"] ?? "localhost";
  const url = `${encrypted ? "https" : "http"}://${host}${req.url}`;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    // HTTP/2 pseudo-headers (`:method`, `:path`...) are no headers of a fetch `Request`.
    if (raw[i].charCodeAt(0) !== 58) headers.append(raw[i], raw[i + 1]);
  }
  const init: StreamingRequestInit = { method: req.method, headers, duplex: "half" };
  if (res) {
    const abort = new AbortController();
    res.once("close", () => {
      if (!res.writableFinished) abort.abort();
    });
    init.signal = abort.signal;
  }
  if (req.method !== "GET" && req.method !== "HEAD") init.body = bodyOf(req);
  return new Request(url, init);
}

/**
 * The body as a byte stream: Node's stream pauses while the reader is behind, and a body the
 * reader cancels is drained (the response may still be written on the same connection).
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.on("data", (chunk: Uint8Array) => {
        if (cancelled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once("end", () => {
        if (!cancelled) controller.close();
      });
      req.once("error", (err) => {
        if (!cancelled) controller.error(err);
      });
      // A client that leaves mid-body: the reader sees an error rather than waiting forever.
      req.once("close", () => {
        if (!cancelled && !req.complete) {
          cancelled = true;
          controller.error(new Error("the client closed the connection"));
        }
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      cancelled = true;
      req.resume();
    },
  }, { highWaterMark: 16 * 1024, size: (chunk) => chunk.byteLength });
}
