/**
 * Raw-protocol test clients: a WebSocket with a frame queue, and a hand-written upgrade request
 * to read refusals a `WebSocket` cannot report.
 *
 * @module
 */

/** A received frame: text, or the bytes of a binary frame. */
export type Frame = string | Uint8Array;

/** A WebSocket whose frames are read in order with {@linkcode WsClient.next}. */
export class WsClient {
  /** The underlying socket. */
  readonly ws: WebSocket;
  /** Resolves when the socket opened, rejects when it failed first. */
  readonly opened: Promise<void>;
  /** Resolves with the close event. */
  readonly closed: Promise<CloseEvent>;
  /** Whether the `open` event fired. */
  didOpen = false;
  #frames: Frame[] = [];
  #waiters: { resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  #isClosed = false;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => {
        this.didOpen = true;
        resolve();
      });
      this.ws.addEventListener("close", () => reject(new Error("closed before open")));
    });
    // A refused handshake is an expected outcome in some tests.
    this.opened.catch(() => {});
    this.ws.addEventListener("error", () => {});
    this.closed = new Promise((resolve) => {
      this.ws.addEventListener("close", (e) => {
        this.#isClosed = true;
        for (const w of this.#waiters.splice(0)) w.reject(new Error("socket closed"));
        resolve(e);
      });
    });
    this.ws.addEventListener("message", (e: MessageEvent) => {
      const d = e.data;
      const frame = typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer);
      const w = this.#waiters.shift();
      if (w) w.resolve(frame);
      else this.#frames.push(frame);
    });
  }

  /** The next frame; rejects if the socket closes first. */
  next(): Promise<Frame> {
    const f = this.#frames.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.#isClosed) return Promise.reject(new Error("socket closed"));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Frames received and not read yet. */
  get pending(): readonly Frame[] {
    return this.#frames;
  }

  /** Sends one frame, once the socket is open. */
  send(data: string | Uint8Array): void {
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.opened.then(() => this.ws.send(data), () => {});
    } else this.ws.send(data);
  }

  /** Closes (if still open) and waits for the close event. */
  close(): Promise<CloseEvent> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close();
    }
    return this.closed;
  }
}

/** The head and body of an answer to a hand-written request. */
export interface RawAnswer {
  /** The status code. */
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  /** The head's header lines as sent, in order (repeated names kept). */
  lines: string[];
  /** What followed the head, until the server closed or `Content-Length` bytes came. */
  body: string;
}

/**
 * Sends a WebSocket upgrade request by hand and reads the answer's head (and body, for a
 * refusal). The connection is closed before returning.
 *
 * @param port the server's port on 127.0.0.1
 * @param pathAndQuery e.g. `/engine.io/?EIO=4&transport=websocket`
 */
export function rawUpgrade(port: number, pathAndQuery: string): Promise<RawAnswer> {
  return rawRequest(
    port,
    `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
}

/**
 * Sends `request` (a whole HTTP/1.1 request, as text) on a new connection and reads the answer:
 * its head, and its body by `Content-Length`, by chunks, or until the server closes. The
 * connection is closed before returning.
 *
 * @param port the server's port on 127.0.0.1
 * @param request the request's bytes
 */
export async function rawRequest(port: number, request: string): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    // Written while the answer is read: a server may answer before it read everything.
    const written = conn.write(new TextEncoder().encode(request)).catch(() => 0);
    const answer = await readAnswer(conn);
    await written;
    return answer;
  } finally {
    conn.close();
  }
}

/**
 * Reads one HTTP/1.1 answer from `conn`: its head, and its body by `Content-Length`, by chunks,
 * or until the server closes (a `101` has no body).
 */
export async function readAnswer(conn: Deno.Conn): Promise<RawAnswer> {
  const decoder = new TextDecoder();
  const buf = new Uint8Array(4096);
  let text = "";
  let closed = false;
  for (;;) {
    const head = text.indexOf("\r\n\r\n");
    if (head !== -1) {
      const lines = text.slice(0, head).split("\r\n");
      const status = Number(lines[0].split(" ")[1]);
      const headers: Record<string, string> = {};
      const fields = lines.slice(1);
      for (const line of fields) {
        const i = line.indexOf(":");
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const rest = text.slice(head + 4);
      if (status === 101) return { status, headers, lines: fields, body: rest };
      if (headers["transfer-encoding"] === "chunked") {
        const body = dechunk(rest);
        if (body !== undefined) return { status, headers, lines: fields, body };
      } else if (headers["content-length"] !== undefined) {
        const length = Number(headers["content-length"]);
        if (new TextEncoder().encode(rest).byteLength >= length) {
          return { status, headers, lines: fields, body: rest };
        }
      } else if (closed) return { status, headers, lines: fields, body: rest };
    }
    if (closed) throw new Error(`connection closed after ${JSON.stringify(text)}`);
    const n = await conn.read(buf).catch(() => null);
    if (n === null) closed = true;
    else text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
}

/** The body of a chunked transfer, or undefined while its last chunk has not come. */
function dechunk(text: string): string | undefined {
  let body = "";
  let at = 0;
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const size = parseInt(text.slice(at, eol), 16);
    if (size === 0) return body;
    if (text.length < eol + 2 + size + 2) return undefined;
    body += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
