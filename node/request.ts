/**
 * A `node:http` request (or a `node:http2` one, through its compatibility API) as a fetch
 * `Request`: method, URL, headers, the body (streamed with backpressure, or read whole), and a
 * signal that aborts when the client goes away before the response is done. Node only.
 *
 * Making a real `Request` on Node costs a `Headers`, an `AbortController` and two streams per
 * request, which was most of what a long-poll cost: {@linkcode NodeRequest} makes each part only
 * when it is read, and reads a whole body straight from Node's stream. A real `Request` is made
 * only for what the server never reads (`clone()`, `formData()`, `cache`, ...).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { NodeHeaders, type StandardHeaders } from "./headers.ts";

/** Bytes as Node hands them over: views on a plain `ArrayBuffer`. */
type Bytes = Uint8Array<ArrayBuffer>;

/** `duplex` is required by Node's `Request` for a streamed body, and missing from the DOM types. */
type StreamingRequestInit = RequestInit & { duplex: "half" };

/**
 * The fetch `Request` of a Node request.
 *
 * @param req the Node request
 * @param res its response, whose close before the end aborts the request's signal; none for an
 *   `upgrade` event
 */
export function toRequest(req: IncomingMessage, res?: ServerResponse): Request {
  return new NodeRequest(req, res);
}

const EMPTY: Bytes = new Uint8Array(0);
/** Bytes a streamed body reads ahead of its reader. */
const AHEAD = 16 * 1024;
const decoder = new TextDecoder();

/**
 * A `Request` whose parts are made from the Node request when first read. Once a member only a
 * real `Request` has is used, a real one is made (taking the body over) and answers from then on.
 */
export class NodeRequest implements Request {
  readonly url: string;
  readonly method: string;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse | undefined;
  #headers: Headers | undefined;
  #signal: AbortSignal | undefined;
  #body: ReadableStream<Bytes> | null | undefined;
  /** Set once the body was read whole (or a stream's reading began). */
  #used = false;
  #real: Request | undefined;

  /**
   * @param req the Node request
   * @param res its response, whose close before the end aborts {@linkcode NodeRequest.signal}
   */
  constructor(req: IncomingMessage, res?: ServerResponse) {
    this.#req = req;
    this.#res = res;
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
    // An HTTP/2 request (`node:http2`'s compatibility API) names its host `:authority`.
    const host = req.headers.host ?? req.headers[":authority"] ?? "localhost";
    this.url = `${encrypted ? "https" : "http"}://${host}${req.url}`;
    this.method = req.method ?? "GET";
  }

  get headers(): Headers {
    // Every member of fetch `Headers`; a runtime's own (Bun's `toJSON`...) Node's requests lack.
    return this.#headers ??= new NodeHeaders(this.#req.rawHeaders) as StandardHeaders as Headers;
  }

  /** Aborts when the client goes away before the response is written (never for an upgrade). */
  get signal(): AbortSignal {
    if (this.#signal) return this.#signal;
    const abort = new AbortController();
    const res = this.#res;
    if (res) {
      if (res.closed) {
        if (!res.writableFinished) abort.abort();
      } else {
        res.once("close", () => {
          if (!res.writableFinished) abort.abort();
        });
      }
    }
    return (this.#signal = abort.signal);
  }

  get body(): ReadableStream<Bytes> | null {
    if (this.#real) return this.#real.body;
    if (this.#body !== undefined) return this.#body;
    const m = this.method;
    return (this.#body = m === "GET" || m === "HEAD" ? null : bodyOf(this.#req, () => {
      this.#used = true;
    }));
  }

  get bodyUsed(): boolean {
    return this.#real ? this.#real.bodyUsed : this.#used;
  }

  /** The whole body; straight from Node's stream unless a reader already took the body. */
  async bytes(): Promise<Bytes> {
    if (this.#real) return new Uint8Array(await this.#real.arrayBuffer());
    if (this.#used) throw new TypeError("the request body was already read");
    this.#used = true;
    const m = this.method;
    if (m === "GET" || m === "HEAD") return EMPTY;
    const bytes = await readAll(this.#req);
    // A stream handed out but never read ends empty: the body went here.
    if (this.#body) void this.#body.cancel().catch(() => {});
    return bytes;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    // readAll gives a buffer of its own, exactly the body's size, when it is a copy at all.
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer
      : bytes.slice().buffer;
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<Blob> {
    const type = this.headers.get("content-type") ?? "";
    return new Blob([await this.bytes()], { type });
  }

  /** The body decoded as UTF-8, as it streams in. */
  textStream(): ReadableStream<string> {
    const body = this.body;
    if (!body) return new ReadableStream({ start: (c) => c.close() });
    return body.pipeThrough(new TextDecoderStream());
  }

  formData(): Promise<FormData> {
    return this.#full().formData();
  }

  clone(): Request {
    return this.#full().clone();
  }

  get cache(): RequestCache {
    return this.#full().cache;
  }

  get credentials(): RequestCredentials {
    return this.#full().credentials;
  }

  get destination(): RequestDestination {
    return this.#full().destination;
  }

  get integrity(): string {
    return this.#full().integrity;
  }

  get keepalive(): boolean {
    return this.#full().keepalive;
  }

  get mode(): RequestMode {
    return this.#full().mode;
  }

  get redirect(): RequestRedirect {
    return this.#full().redirect;
  }

  get referrer(): string {
    return this.#full().referrer;
  }

  get referrerPolicy(): ReferrerPolicy {
    return this.#full().referrerPolicy;
  }

  /** False: a server's request is no navigation. */
  get isHistoryNavigation(): boolean {
    return false;
  }

  /** False: a server's request is no navigation. */
  get isReloadNavigation(): boolean {
    return false;
  }

  /** A real `Request` of the same request, made once; it takes the body over. */
  #full(): Request {
    if (this.#real) return this.#real;
    if (this.#used) throw new TypeError("the request body was already read");
    const init: StreamingRequestInit = {
      method: this.method,
      headers: this.headers,
      duplex: "half",
      signal: this.#res ? this.signal : undefined,
    };
    const body = this.body;
    if (body) init.body = body;
    return (this.#real = new Request(this.url, init));
  }
}

/** The whole body of `req`; rejects when the client leaves before its end. */
function readAll(req: IncomingMessage): Promise<Bytes> {
  if (req.complete && req.readableLength === 0 && req.readableEnded) {
    return Promise.resolve(EMPTY);
  }
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const onData = (chunk: Uint8Array) => {
      chunks.push(chunk);
      size += chunk.byteLength;
    };
    const onEnd = () => {
      done();
      if (chunks.length === 1) {
        const c = chunks[0];
        resolve(new Uint8Array(c.buffer as ArrayBuffer, c.byteOffset, c.byteLength));
        return;
      }
      const out = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      resolve(out);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(new Error("the client closed the connection"));
    };
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * The body as a byte stream: Node's stream pauses while the reader is behind, and a body the
 * reader cancels is drained (the response may still be written on the same connection). Nothing
 * is read from Node until the first read; `onRead` is told then.
 */
function bodyOf(req: IncomingMessage, onRead: () => void): ReadableStream<Bytes> {
  let cancelled = false;
  let started = false;
  const start = (controller: ReadableStreamDefaultController<Bytes>) => {
    started = true;
    onRead();
    req.on("data", (chunk: Uint8Array) => {
      if (cancelled) return;
      controller.enqueue(
        new Uint8Array(chunk.buffer as ArrayBuffer, chunk.byteOffset, chunk.byteLength),
      );
      // The queue's mark is 0 so that nothing is read before the first read; Node is paused
      // once as much is queued as a high-water mark of 16 KiB would hold.
      if ((controller.desiredSize ?? 0) <= -AHEAD) req.pause();
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
  };
  return new ReadableStream<Bytes>({
    pull(controller) {
      if (!started) start(controller);
      req.resume();
    },
    cancel() {
      cancelled = true;
      req.resume();
    },
  }, {
    highWaterMark: 0,
    // Optional as Bun's types declare it; a queued chunk is always there.
    size: (chunk?: Bytes) => chunk?.byteLength ?? 0,
  });
}
