/**
 * The fuzzer's client side on raw TCP: it writes requests and WebSocket frames byte for byte as
 * the scenarios give them (a `fetch` or a `WebSocket` would refuse most of them), reads just
 * enough of the answers (status, body, frames), and never waits longer than it was told.
 *
 * @module
 */

/** Bytes of a binary string (one character per byte). */
export function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A binary string of bytes. */
function stringOf(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** What came back for one request. */
export interface Answer {
  /** The status, or 0 when no head came in time (or the server closed first). */
  status: number;
  /** The body as received (binary string). */
  body: string;
}

/** One TCP connection to the server, read with a deadline. */
export class Connection {
  readonly #conn: Deno.Conn;
  #buffer = "";
  #closed = false;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number): Promise<Connection> {
    return new Connection(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Whether the connection is closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes `data` whole; false when the server closed the connection meanwhile. */
  async write(data: Uint8Array): Promise<boolean> {
    try {
      let at = 0;
      while (at < data.length) at += await this.#conn.write(data.subarray(at));
      return true;
    } catch {
      this.close();
      return false;
    }
  }

  /**
   * Reads until `done(buffer)` returns a length (the bytes it takes from the buffer), the server
   * closes, or `ms` pass; returns what was taken, or undefined.
   */
  async read(
    done: (buffer: string, closed: boolean) => number | undefined,
    ms: number,
  ): Promise<string | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const took = done(this.#buffer, this.#closed);
      if (took !== undefined) {
        const out = this.#buffer.slice(0, took);
        this.#buffer = this.#buffer.slice(took);
        return out;
      }
      if (this.#closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      // One read at a time: one that outlives a deadline is taken up by the next call.
      const reading = this.#reading ??= this.#readOnce();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, left, false)));
      const came = await Promise.race([reading.then(() => true), late]);
      clearTimeout(timer);
      if (!came) return undefined;
    }
  }

  #reading: Promise<void> | undefined;

  async #readOnce(): Promise<void> {
    const chunk = new Uint8Array(65536);
    const n = await this.#conn.read(chunk).catch(() => null);
    this.#reading = undefined;
    if (n === null) this.close();
    else this.#buffer += stringOf(chunk.subarray(0, n));
  }

  /** Whatever was read and not taken. */
  get buffered(): string {
    return this.#buffer;
  }

  /** Drops the connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }

  /** Resolves once no read is pending (after {@linkcode Connection.close}). */
  async settled(): Promise<void> {
    await this.#reading;
  }
}

/** The length of a complete HTTP answer at the start of `text`, if it is there. */
export function answerLength(text: string, closed: boolean): number | undefined {
  const head = text.indexOf("\r\n\r\n");
  if (head === -1) return closed ? text.length : undefined;
  const start = head + 4;
  const status = statusOf(text);
  if (status === 101 || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return start;
  }
  const lower = text.slice(0, head).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  if (length) {
    const end = start + Number(length[1]);
    return text.length >= end ? end : closed ? text.length : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) {
    let at = start;
    for (;;) {
      const eol = text.indexOf("\r\n", at);
      if (eol === -1) return closed ? text.length : undefined;
      const size = parseInt(text.slice(at, eol), 16);
      if (!(size >= 0)) return text.length;
      if (size === 0) {
        return text.indexOf("\r\n\r\n", eol) === -1
          ? (closed ? text.length : undefined)
          : text.indexOf("\r\n\r\n", eol) + 4;
      }
      at = eol + 2 + size + 2;
      if (at > text.length) return closed ? text.length : undefined;
    }
  }
  return closed ? text.length : undefined;
}

/** The status code of an HTTP answer's first line, or 0. */
export function statusOf(text: string): number {
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The body of an answer (de-chunked), given its whole text. */
export function bodyOf(text: string): string {
  const head = text.indexOf("\r\n\r\n");
  if (head === -1) return "";
  const rest = text.slice(head + 4);
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(text.slice(0, head))) return rest;
  let body = "";
  let at = 0;
  for (;;) {
    const eol = rest.indexOf("\r\n", at);
    if (eol === -1) return body;
    const size = parseInt(rest.slice(at, eol), 16);
    if (!(size > 0)) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/**
 * Sends one request on a connection of its own and reads its answer for at most `ms`.
 */
export async function exchange(port: number, request: Uint8Array, ms: number): Promise<Answer> {
  let conn: Connection;
  try {
    conn = await Connection.open(port);
  } catch {
    return { status: 0, body: "" };
  }
  const written = conn.write(request);
  const text = await conn.read(answerLength, ms);
  conn.close();
  await written;
  await conn.settled();
  return {
    status: text === undefined ? 0 : statusOf(text),
    body: text === undefined ? "" : bodyOf(text),
  };
}

/**
 * Sends an upgrade request and, on a 101, returns the open connection for frames.
 */
export async function upgrade(
  port: number,
  request: Uint8Array,
  ms: number,
): Promise<{ status: number; conn?: Connection }> {
  let conn: Connection;
  try {
    conn = await Connection.open(port);
  } catch {
    return { status: 0 };
  }
  const written = conn.write(request);
  const head = await conn.read(answerLength, ms);
  const status = head === undefined ? 0 : statusOf(head);
  if (status !== 101) conn.close();
  await written;
  if (status === 101) return { status, conn };
  await conn.settled();
  return { status };
}

let maskSeed = 0x12345678;

/** A client frame's bytes. */
export function encodeFrame(
  op: number,
  payload: Uint8Array,
  opts: { fin?: boolean; rsv?: number; unmasked?: boolean; declared?: number } = {},
): Uint8Array {
  const length = opts.declared ?? payload.length;
  const masked = !opts.unmasked;
  const headLen = 2 + (length < 126 ? 0 : length < 65536 ? 2 : 8) + (masked ? 4 : 0);
  const out = new Uint8Array(headLen + payload.length);
  out[0] = (opts.fin === false ? 0 : 0x80) | (((opts.rsv ?? 0) & 7) << 4) | (op & 0x0f);
  let at = 2;
  if (length < 126) out[1] = length;
  else if (length < 65536) {
    out[1] = 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
    at = 4;
  } else {
    out[1] = 127;
    const hi = Math.floor(length / 2 ** 32);
    const lo = length >>> 0;
    out.set([hi >>> 24, (hi >> 16) & 255, (hi >> 8) & 255, hi & 255], 2);
    out.set([lo >>> 24, (lo >> 16) & 255, (lo >> 8) & 255, lo & 255], 6);
    at = 10;
  }
  if (masked) {
    out[1] |= 0x80;
    maskSeed = (Math.imul(maskSeed, 1103515245) + 12345) >>> 0;
    const key = [maskSeed >>> 24, (maskSeed >> 16) & 255, (maskSeed >> 8) & 255, maskSeed & 255];
    out.set(key, at);
    at += 4;
    for (let i = 0; i < payload.length; i++) out[at + i] = payload[i] ^ key[i & 3];
  } else out.set(payload, at);
  return out;
}

/**
 * The first complete server frame in `text`: its length, opcode and where its payload starts;
 * undefined while incomplete.
 */
export function serverFrame(
  text: string,
): { length: number; op: number; start: number } | undefined {
  if (text.length < 2) return undefined;
  const op = text.charCodeAt(0) & 0x0f;
  let len = text.charCodeAt(1) & 0x7f;
  let at = 2;
  if (len === 126) {
    if (text.length < 4) return undefined;
    len = (text.charCodeAt(2) << 8) | text.charCodeAt(3);
    at = 4;
  } else if (len === 127) {
    if (text.length < 10) return undefined;
    len = 0;
    for (let i = 2; i < 10; i++) len = len * 256 + text.charCodeAt(i);
    at = 10;
  }
  if (text.length < at + len) return undefined;
  return { length: at + len, op, start: at };
}
