/**
 * A WebSocket client (RFC 6455) on `node:net` / `node:tls`, whose connection does not keep the
 * process alive (`autoUnref`). It has what the WebSocket transport uses of the standard one:
 * `binaryType` (ArrayBuffer only), `onopen`, `onmessage`, `onerror`, `onclose`, `send`, `close`
 * and `readyState`; the constructor takes protocols or `{ protocols, headers }` as Deno's, Bun's
 * and Node's do.
 *
 * @module
 */
import type * as nodeCrypto from "node:crypto";
import type * as net from "node:net";
import type * as tls from "node:tls";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const TEXT = 1, BINARY = 2, CLOSE = 8, PING = 9, PONG = 10;

type Init = string | string[] | { protocols?: string | string[]; headers?: HeadersInit };

const concat = (parts: Uint8Array[]): Uint8Array => {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/**
 * Makes the WebSocket class.
 *
 * @param netModule `node:net`
 * @param tlsModule `node:tls`
 * @param cryptoModule `node:crypto` (for the handshake's SHA-1)
 * @returns a class to use as `WebSocket`
 */
export function unrefWebSocket(
  netModule: typeof net,
  tlsModule: typeof tls,
  cryptoModule: typeof nodeCrypto,
): typeof WebSocket {
  class UnrefWebSocket {
    binaryType = "arraybuffer";
    /** 0 connecting, 1 open, 2 closing, 3 closed. */
    readyState = 0;
    protocol = "";
    onopen: ((ev: { type: string }) => void) | null = null;
    onmessage: ((ev: { type: string; data: string | ArrayBuffer }) => void) | null = null;
    onerror: ((ev: { type: string; error?: unknown }) => void) | null = null;
    onclose:
      | ((ev: { type: string; code: number; reason: string; wasClean: boolean }) => void)
      | null = null;
    #socket: net.Socket;
    #accept: string;
    // Bytes not parsed yet; the fragments of a message and its opcode.
    #pending: Uint8Array = new Uint8Array(0);
    #fragments: Uint8Array[] = [];
    #opcode = 0;
    #failed = false;

    constructor(url: string, init?: Init) {
      const target = new URL(url);
      const secure = target.protocol === "wss:" || target.protocol === "https:";
      const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
      const port = Number(target.port) || (secure ? 443 : 80);
      const opts = typeof init === "object" && !Array.isArray(init) ? init : { protocols: init };
      const protocols = ([] as string[]).concat(opts.protocols ?? []);
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      this.#accept = cryptoModule.createHash("sha1").update(key + GUID).digest("base64");
      let head = `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
        "Sec-WebSocket-Version: 13\r\n";
      if (protocols.length) head += `Sec-WebSocket-Protocol: ${protocols.join(", ")}\r\n`;
      new Headers(opts.headers).forEach((value, name) => head += `${name}: ${value}\r\n`);
      const socket = this.#socket = secure
        ? tlsModule.connect({ host, port, servername: netModule.isIP(host) ? undefined : host })
        : netModule.connect({ host, port });
      socket.unref();
      socket.setNoDelay(true);
      socket.once(secure ? "secureConnect" : "connect", () => socket.write(head + "\r\n"));
      // As plain Uint8Arrays (a Buffer's slice() would not copy).
      socket.on(
        "data",
        (chunk: Uint8Array) =>
          this.#onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
      );
      socket.on("error", (error) => this.onerror?.({ type: "error", error }));
      socket.on("close", () => this.#closed(1006, "", false));
    }

    /** Sends text as a text frame, bytes as a binary one. */
    send(data: string | ArrayBuffer | ArrayBufferView): void {
      if (this.readyState === 0) throw new DOMException("not open yet", "InvalidStateError");
      if (this.readyState !== 1) return;
      if (typeof data === "string") this.#send(TEXT, new TextEncoder().encode(data));
      else if (ArrayBuffer.isView(data)) {
        this.#send(BINARY, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } else this.#send(BINARY, new Uint8Array(data));
    }

    /** Starts the closing handshake (or drops a connection still opening). */
    close(code = 1000, reason = ""): void {
      if (this.readyState === 0) {
        this.readyState = 2;
        this.#socket.destroy();
      } else if (this.readyState === 1) {
        this.readyState = 2;
        const text = new TextEncoder().encode(reason);
        this.#send(CLOSE, concat([new Uint8Array([code >> 8, code & 255]), text]));
      }
    }

    // One masked frame (a client masks every frame).
    #send(opcode: number, payload: Uint8Array): void {
      const length = payload.length;
      const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
      const frame = new Uint8Array(head + 4 + length);
      frame[0] = 0x80 | opcode;
      if (head === 2) frame[1] = 0x80 | length;
      else if (head === 4) {
        frame[1] = 0x80 | 126;
        frame[2] = length >> 8;
        frame[3] = length & 255;
      } else {
        frame[1] = 0x80 | 127;
        new DataView(frame.buffer).setUint32(6, length);
      }
      const mask = crypto.getRandomValues(new Uint8Array(4));
      frame.set(mask, head);
      for (let i = 0; i < length; i++) frame[head + 4 + i] = payload[i] ^ mask[i & 3];
      this.#socket.write(frame);
    }

    #onData(chunk: Uint8Array): void {
      if (this.#failed) return;
      let bytes = this.#pending.length ? concat([this.#pending, chunk]) : chunk;
      if (this.readyState === 0) {
        const text = String.fromCharCode(...bytes.subarray(0, 8192));
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) {
          this.#pending = bytes;
          if (bytes.length > 8192) this.#fail("handshake too large");
          return;
        }
        if (!this.#handshake(text.slice(0, end))) return;
        bytes = bytes.subarray(end + 4);
      }
      while (!this.#failed && this.readyState !== 3) {
        if (bytes.length < 2) break;
        let length = bytes[1] & 127;
        let at = 2;
        if (length === 126) {
          if (bytes.length < 4) break;
          length = (bytes[2] << 8) | bytes[3];
          at = 4;
        } else if (length === 127) {
          if (bytes.length < 10) break;
          length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(6) +
            new DataView(bytes.buffer, bytes.byteOffset).getUint32(2) * 2 ** 32;
          at = 10;
        }
        const masked = bytes[1] & 0x80;
        if (masked) at += 4;
        if (bytes.length < at + length) break;
        const payload = bytes.slice(at, at + length);
        if (masked) { for (let i = 0; i < length; i++) payload[i] ^= bytes[at - 4 + (i & 3)]; }
        const first = bytes[0];
        bytes = bytes.subarray(at + length);
        this.#frame(first & 0x80, first & 15, payload);
      }
      this.#pending = bytes;
    }

    // Checks the server's answer; opens, or fails.
    #handshake(head: string): boolean {
      const [status, ...lines] = head.split("\r\n");
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      if (
        !/^HTTP\/1\.1 101\b/.test(status) || headers.get("sec-websocket-accept") !== this.#accept
      ) {
        this.#fail(`unexpected handshake answer: ${status}`);
        return false;
      }
      this.protocol = headers.get("sec-websocket-protocol") ?? "";
      this.readyState = 1;
      this.onopen?.({ type: "open" });
      return this.readyState === 1;
    }

    #frame(fin: number, opcode: number, payload: Uint8Array): void {
      if (opcode === PING) return this.#send(PONG, payload);
      if (opcode === CLOSE) {
        const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        // Answer the server's close (unless it answers ours), then the server ends TCP.
        if (this.readyState === 1) this.#send(CLOSE, payload.subarray(0, 2));
        this.#socket.end();
        return this.#closed(code, new TextDecoder().decode(payload.subarray(2)), true);
      }
      if (opcode === PONG) return;
      // Only text, binary and their continuations carry messages; anything else is no WebSocket.
      if (opcode > BINARY || (opcode === 0) !== (this.#fragments.length > 0)) {
        return this.#fail(`unexpected frame (opcode ${opcode})`);
      }
      if (opcode) this.#opcode = opcode;
      this.#fragments.push(payload);
      if (!fin) return;
      const data = concat(this.#fragments);
      this.#fragments = [];
      this.onmessage?.({
        type: "message",
        data: this.#opcode === TEXT ? new TextDecoder().decode(data) : data.buffer as ArrayBuffer,
      });
    }

    #fail(message: string): void {
      this.#failed = true;
      this.onerror?.({ type: "error", error: new Error(message) });
      this.#socket.destroy();
    }

    #closed(code: number, reason: string, wasClean: boolean): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ type: "close", code, reason, wasClean });
    }
  }
  return UnrefWebSocket as unknown as typeof WebSocket;
}
