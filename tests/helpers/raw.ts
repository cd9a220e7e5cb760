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

/** A frame a {@linkcode TcpWsClient} read: text, bytes, or the server's close frame. */
export type TcpFrame = string | Uint8Array | { close: number };

/**
 * A WebSocket client on a bare TCP connection, which reads only when asked: it completes the
 * handshake, reads frames with {@linkcode TcpWsClient.next} as long as the test wants, and once
 * the test stops asking, reads nothing more, so that the server's buffers for it fill up (a
 * client that stopped reading). It can still write: {@linkcode TcpWsClient.pongEvery} keeps an
 * Engine.IO heartbeat going without reading the pings.
 */
export class TcpWsClient {
  readonly #conn: Deno.Conn;
  #buf = new Uint8Array(65536);
  #start = 0;
  #end = 0;
  #eof = false;
  #writing: Promise<unknown> = Promise.resolve();
  #pongs: ReturnType<typeof setInterval> | undefined;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /**
   * Connects and upgrades; throws unless the server answers `101`.
   *
   * @param port the server's port on 127.0.0.1
   * @param pathAndQuery e.g. `/socket.io/?EIO=4&transport=websocket`
   */
  static async open(port: number, pathAndQuery: string): Promise<TcpWsClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await conn.write(
      new TextEncoder().encode(
        `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    // The head, byte by byte up to its blank line: what follows is frames.
    const head: number[] = [];
    const one = new Uint8Array(1);
    while (head.length < 4 || head.slice(-4).join() !== "13,10,13,10") {
      if ((await conn.read(one)) === null) {
        conn.close();
        throw new Error(`connection closed during the handshake: ${String.fromCharCode(...head)}`);
      }
      head.push(one[0]);
    }
    const status = String.fromCharCode(...head).split(" ")[1];
    if (status !== "101") {
      conn.close();
      throw new Error(`upgrade refused: ${String.fromCharCode(...head)}`);
    }
    return new TcpWsClient(conn);
  }

  /** Reads more bytes into the buffer; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buf.byteLength) {
      const grown = new Uint8Array(this.#buf.byteLength * 2);
      grown.set(this.#buf);
      this.#buf = grown;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end)).catch(() => null);
    if (n === null) {
      this.#eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }

  /** The next frame, or null once the server ended the connection. */
  async next(): Promise<TcpFrame | null> {
    for (;;) {
      const frame = this.#parse();
      if (frame !== undefined) return frame;
      if (!(await this.#fill())) return null;
    }
  }

  // One whole frame from the buffer (server frames are unmasked), undefined when incomplete.
  #parse(): TcpFrame | undefined {
    const b = this.#buf;
    const at = this.#start;
    const avail = this.#end - at;
    if (avail < 2) return undefined;
    const opcode = b[at] & 0x0f;
    let len = b[at + 1] & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (avail < 4) return undefined;
      len = (b[at + 2] << 8) | b[at + 3];
      offset = 4;
    } else if (len === 127) {
      if (avail < 10) return undefined;
      len = Number(new DataView(b.buffer, b.byteOffset + at + 2, 8).getBigUint64(0));
      offset = 10;
    }
    if (avail < offset + len) return undefined;
    const payload = b.slice(at + offset, at + offset + len);
    this.#start = at + offset + len;
    if (opcode === 8) return { close: len >= 2 ? (payload[0] << 8) | payload[1] : 1005 };
    return opcode === 1 ? new TextDecoder().decode(payload) : payload;
  }

  /** Sends a masked text frame (written in order with the others; a failed write is ignored). */
  send(text: string): Promise<void> {
    const payload = new TextEncoder().encode(text);
    const len = payload.byteLength;
    const head = len < 126 ? 2 : 4;
    const frame = new Uint8Array(head + 4 + len);
    frame[0] = 0x81;
    if (len < 126) frame[1] = 0x80 | len;
    else {
      frame[1] = 0x80 | 126;
      frame[2] = len >> 8;
      frame[3] = len & 0xff;
    }
    const mask = crypto.getRandomValues(new Uint8Array(4));
    frame.set(mask, head);
    for (let i = 0; i < len; i++) frame[head + 4 + i] = payload[i] ^ mask[i & 3];
    const written = this.#writing.then(() => this.#conn.write(frame)).catch(() => {});
    this.#writing = written;
    return written.then(() => {});
  }

  /** Sends an Engine.IO pong (`3`) every `ms`, read or not, until {@linkcode TcpWsClient.close}. */
  pongEvery(ms: number): void {
    this.#pongs ??= setInterval(() => void this.send("3"), ms);
  }

  /** Stops the pongs and closes the connection. */
  async close(): Promise<void> {
    clearInterval(this.#pongs);
    this.#pongs = undefined;
    await this.#writing;
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}
