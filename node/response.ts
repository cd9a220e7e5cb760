/**
 * A fetch `Response` written to Node: to a `ServerResponse` (status, headers with every
 * `Set-Cookie`, the body streamed with backpressure), or raw onto the socket of a refused
 * `upgrade`. Node only.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { report } from "../server/runtime/report.ts";

/** Headers as Node takes them, `Set-Cookie` as a list. */
function headersOf(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // Iterating Headers yields each Set-Cookie on its own, and joins every other repeated name.
  for (const [name, value] of headers) {
    if (name === "set-cookie") ((out[name] ??= []) as string[]).push(value);
    else out[name] = value;
  }
  return out;
}

/**
 * Writes a whole answer (the engine's polling answers, through the Node runtime's `answer`) to
 * `res` in one `end`, sized: no `Response` to make and no body stream to read back.
 */
export function writeAnswer(
  res: ServerResponse,
  status: number,
  headers: Headers,
  body: string | Uint8Array | null,
): void {
  const out = headersOf(headers);
  if (body !== null) {
    out["content-length"] = String(
      typeof body === "string" ? Buffer.byteLength(body) : body.byteLength,
    );
  }
  if (!writeHead(res, status, undefined, out)) return;
  res.end(body ?? undefined);
}

/**
 * Writes the status line and headers; false when Node refused a header (a value with a control
 * character that `Headers` let through, set by the app): the error is reported and the request
 * gets a bare 500 instead, rather than a throw out of whatever flushed the answer.
 */
function writeHead(
  res: ServerResponse,
  status: number,
  statusText: string | undefined,
  headers: Record<string, string | string[]>,
): boolean {
  try {
    res.writeHead(status, statusText, headers);
    return true;
  } catch (err) {
    report(err);
    if (!res.headersSent) {
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(500);
    }
    res.end();
    return false;
  }
}

/**
 * Writes `response` to `res`; resolves once it is written or the client went away (the body is
 * then cancelled, which is how a streamed response learns it).
 */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const body = response.body;
  if (
    !writeHead(res, response.status, response.statusText || undefined, headersOf(response.headers))
  ) {
    await body?.cancel().catch(() => {});
    return;
  }
  if (!body) {
    res.end();
    return;
  }
  const reader = body.getReader();
  let gone = false;
  let wake: (() => void) | undefined;
  const onClose = () => {
    gone = true;
    wake?.();
    reader.cancel().catch(() => {});
  };
  res.once("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!res.write(value)) {
        // Backpressure: wait until Node drained its buffer, or the client left.
        await new Promise<void>((resolve) => {
          wake = resolve;
          res.once("drain", resolve);
        });
        res.off("drain", wake!);
        wake = undefined;
      }
    }
  } catch {
    // The body failed mid-way: the client sees the connection end early.
    res.destroy();
    return;
  } finally {
    res.off("close", onClose);
  }
  if (!gone) res.end();
}

/**
 * Writes `response` on the socket of an `upgrade` event that was not upgraded (a refusal), then
 * closes the connection, as the official server ends a refused upgrade.
 */
export async function writeRawResponse(response: Response, socket: Socket): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  if (!socket.writable) return;
  const reason = response.statusText || STATUS_CODES[response.status] || "";
  let head = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  for (const [name, value] of response.headers) {
    if (name !== "content-length" && name !== "connection") head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${body.byteLength}\r\nConnection: close\r\n\r\n`;
  socket.write(head);
  socket.end(body);
}
