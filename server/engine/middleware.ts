/**
 * Express/Connect-style middleware on the engine's requests (`engine.use(fn)`), as npm
 * `engine.io` runs it: `fn(req, res, next)` on every request before it is checked, which is how
 * express-session, passport or helmet attach. `req` is the request snapshot (what a handshake's
 * becomes `socket.request`), `res` a small Node-style response over the answer's headers.
 * Browser compatible.
 *
 * @module
 */
import type { RequestSnapshot } from "./request.ts";

/** A header value as Node's `res.setHeader` takes it. */
export type HeaderValue = string | number | readonly string[];

/**
 * A middleware: calls `next()` to go on, `next(err)` to refuse the request (400, and a
 * `connection_error` with `context.name` `"MIDDLEWARE_FAILURE"`), or ends the request itself
 * with `res.writeHead(status)` and `res.end()`.
 */
export type EngineMiddleware = (
  req: RequestSnapshot,
  res: MiddlewareResponse,
  next: (err?: unknown) => void,
) => void | Promise<void>;

/** What running the middlewares gave: go on, a failure, or the answer one of them ended with. */
export type MiddlewareOutcome = undefined | { error: unknown } | Response;

/**
 * The `res` a middleware gets: the Node `ServerResponse` methods middleware use, over the headers
 * of the answer. Headers set here go out on the answer (a poll's, a handshake's, the WebSocket
 * upgrade's); `end()` answers the request with `statusCode` instead.
 */
export class MiddlewareResponse {
  /** The status `end()` answers with (default 200). */
  statusCode = 200;
  /** The reason phrase, kept for middleware that sets it. */
  statusMessage = "";
  readonly #headers: Headers;
  #chunks: (string | Uint8Array)[] = [];
  #headersSent = false;
  /** @internal called once by `end()`. */
  _onEnd: ((res: Response) => void) | undefined;

  /**
   * Made by the engine for each request that meets middleware.
   *
   * @param headers the answer's headers (CORS ones already in)
   */
  constructor(headers: Headers) {
    this.#headers = headers;
  }

  /** Whether `writeHead()` or `end()` was called. */
  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** Sets a header, replacing any value it had; an array gives the header several times. */
  setHeader(name: string, value: HeaderValue): this {
    this.#headers.delete(name);
    return this.appendHeader(name, value);
  }

  /** Adds a value to a header. */
  appendHeader(name: string, value: HeaderValue): this {
    if (typeof value === "object") { for (const v of value) this.#headers.append(name, v); }
    else this.#headers.append(name, String(value));
    return this;
  }

  /** A header's value; `set-cookie` as an array, as Node gives it. */
  getHeader(name: string): string | string[] | undefined {
    if (name.toLowerCase() === "set-cookie") {
      const cookies = this.#headers.getSetCookie();
      return cookies.length ? cookies : undefined;
    }
    return this.#headers.get(name) ?? undefined;
  }

  /** Every header, by lower-case name. */
  getHeaders(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const name of this.getHeaderNames()) out[name] = this.getHeader(name)!;
    return out;
  }

  /** The lower-case names of the headers set. */
  getHeaderNames(): string[] {
    return [...new Set(this.#headers.keys())];
  }

  /** Whether a header is set. */
  hasHeader(name: string): boolean {
    return this.#headers.has(name);
  }

  /** Removes a header. */
  removeHeader(name: string): void {
    this.#headers.delete(name);
  }

  /**
   * Sets the status and adds headers, as Node's `writeHead(status, [message], [headers])`. The
   * engine calls it too, once the middlewares let a request through, so that middleware that
   * wraps it (express-session's cookie, through `on-headers`) adds its headers then.
   */
  writeHead(
    status?: number,
    message?: string | Record<string, HeaderValue>,
    headers?: Record<string, HeaderValue>,
  ): this {
    if (status !== undefined) this.statusCode = status;
    if (typeof message === "string") this.statusMessage = message;
    else headers = message;
    if (headers) { for (const [k, v] of Object.entries(headers)) this.setHeader(k, v); }
    this.#headersSent = true;
    return this;
  }

  /** Adds to the body of an answer `end()` will send. */
  write(chunk: string | Uint8Array): boolean {
    this.#chunks.push(chunk);
    return true;
  }

  /** Answers the request now, with `statusCode`, the headers and what was written. */
  end(chunk?: string | Uint8Array | (() => void)): this {
    if (chunk !== undefined && typeof chunk !== "function") this.#chunks.push(chunk);
    this.#headersSent = true;
    const onEnd = this._onEnd;
    this._onEnd = undefined;
    const body = bodyOf(this.#chunks);
    this.#chunks = [];
    onEnd?.(
      new Response(body as BodyInit | null, { status: this.statusCode, headers: this.#headers }),
    );
    return this;
  }
}

/** One body of what was written: text stays text, so that the runtime sends a length. */
function bodyOf(chunks: (string | Uint8Array)[]): string | Uint8Array | null {
  if (chunks.length === 0) return null;
  if (chunks.every((c) => typeof c === "string")) return chunks.join("");
  const encoder = new TextEncoder();
  const bytes = chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * Runs `list` in order on one request. Resolves with `undefined` when every middleware called
 * `next()`, `{ error }` when one failed (`next(err)`, a throw, a rejected promise), or the
 * `Response` one ended the request with.
 */
export function runMiddlewares(
  list: readonly EngineMiddleware[],
  req: RequestSnapshot,
  res: MiddlewareResponse,
): Promise<MiddlewareOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: MiddlewareOutcome) => {
      if (settled) return;
      settled = true;
      res._onEnd = undefined;
      resolve(outcome);
    };
    res._onEnd = settle;
    const run = (i: number): void => {
      if (settled) return;
      if (i === list.length) return settle(undefined);
      let called = false;
      const next = (err?: unknown) => {
        if (called) return;
        called = true;
        if (err) settle({ error: err });
        else run(i + 1);
      };
      try {
        const r = list[i](req, res, next);
        if (r && typeof (r as Promise<void>).then === "function") {
          (r as Promise<void>).then(undefined, (e) => next(e ?? new Error("middleware failed")));
        }
      } catch (e) {
        next(e ?? new Error("middleware failed"));
      }
    };
    run(0);
  });
}
